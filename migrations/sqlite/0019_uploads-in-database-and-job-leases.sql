CREATE TABLE `job_leases` (
	`job` text PRIMARY KEY NOT NULL,
	`owner` text NOT NULL,
	`lease_until` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `file_contents` (
	`file_id` text PRIMARY KEY NOT NULL,
	`content` blob NOT NULL,
	FOREIGN KEY (`file_id`) REFERENCES `submission_files`(`id`) ON UPDATE no action ON DELETE cascade
);
