CREATE TABLE `week_open_notices` (
	`cohort_id` integer NOT NULL,
	`week` integer NOT NULL,
	`opens_at` integer NOT NULL,
	`notified_at` integer NOT NULL,
	`learners` integer NOT NULL,
	PRIMARY KEY(`cohort_id`, `week`),
	FOREIGN KEY (`cohort_id`) REFERENCES `cohorts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `cohorts_start_idx` ON `cohorts` (`start_date`);