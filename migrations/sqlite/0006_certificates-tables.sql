CREATE TABLE `certificate_nudges` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`cohort_id` integer NOT NULL,
	`user_id` integer NOT NULL,
	`day` text NOT NULL,
	`sent_by` integer,
	`sent_at` integer NOT NULL,
	FOREIGN KEY (`cohort_id`) REFERENCES `cohorts`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`sent_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `certificate_nudges_day_uq` ON `certificate_nudges` (`cohort_id`,`user_id`,`day`);--> statement-breakpoint
CREATE TABLE `certificates` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`code` text NOT NULL,
	`cohort_id` integer NOT NULL,
	`user_id` integer NOT NULL,
	`learner_name` text NOT NULL,
	`course_slug` text NOT NULL,
	`course_title` text NOT NULL,
	`cohort_start_date` text NOT NULL,
	`cohort_ends_at` integer NOT NULL,
	`cohort_timezone` text NOT NULL,
	`hours` real NOT NULL,
	`issued_at` integer NOT NULL,
	`earned` text NOT NULL,
	`issued` text NOT NULL,
	`issued_by` integer,
	`credential` text NOT NULL,
	`revoked_at` integer,
	`revoked_reason` text,
	`revoked_by` integer,
	FOREIGN KEY (`cohort_id`) REFERENCES `cohorts`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`issued_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`revoked_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `certificates_code_unique` ON `certificates` (`code`);--> statement-breakpoint
CREATE UNIQUE INDEX `certificates_valid_uq` ON `certificates` (`cohort_id`,`user_id`) WHERE revoked_at is null;--> statement-breakpoint
CREATE INDEX `certificates_user_idx` ON `certificates` (`user_id`);--> statement-breakpoint
CREATE INDEX `certificates_issued_idx` ON `certificates` (`issued_at`);--> statement-breakpoint
CREATE TABLE `certificate_signing_keys` (
	`kid` text PRIMARY KEY NOT NULL,
	`public_jwk` text NOT NULL,
	`private_pem` text NOT NULL,
	`active` integer,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `certificate_signing_keys_active_unique` ON `certificate_signing_keys` (`active`);