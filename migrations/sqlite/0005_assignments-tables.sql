CREATE TABLE `due_reminders` (
	`cohort_id` integer NOT NULL,
	`user_id` integer NOT NULL,
	`week` integer NOT NULL,
	`due_at` integer NOT NULL,
	`sent_at` integer NOT NULL,
	FOREIGN KEY (`cohort_id`) REFERENCES `cohorts`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `due_reminders_uq` ON `due_reminders` (`cohort_id`,`user_id`,`week`,`due_at`);--> statement-breakpoint
CREATE TABLE `extensions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`cohort_id` integer NOT NULL,
	`user_id` integer NOT NULL,
	`week` integer,
	`due_at` integer,
	`grace_ends_at` integer,
	`reason` text NOT NULL,
	`granted_by` integer,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`cohort_id`) REFERENCES `cohorts`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`granted_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `extensions_cohort_user_idx` ON `extensions` (`cohort_id`,`user_id`);--> statement-breakpoint
CREATE TABLE `reviews` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`submission_id` integer NOT NULL,
	`version` integer NOT NULL,
	`outcome` text NOT NULL,
	`feedback` text NOT NULL,
	`prompt_feedback` text DEFAULT '{}' NOT NULL,
	`reviewer_id` integer,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`submission_id`) REFERENCES `submissions`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`reviewer_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `reviews_submission_idx` ON `reviews` (`submission_id`);--> statement-breakpoint
CREATE TABLE `submission_files` (
	`id` text PRIMARY KEY NOT NULL,
	`submission_id` integer NOT NULL,
	`original_name` text NOT NULL,
	`type` text NOT NULL,
	`size` integer NOT NULL,
	`sha256` text NOT NULL,
	`uploaded_at` integer NOT NULL,
	`removed_at` integer,
	FOREIGN KEY (`submission_id`) REFERENCES `submissions`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `submission_files_submission_idx` ON `submission_files` (`submission_id`);--> statement-breakpoint
CREATE TABLE `submission_versions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`submission_id` integer NOT NULL,
	`version` integer NOT NULL,
	`answers` text NOT NULL,
	`options` text DEFAULT '[]' NOT NULL,
	`file_ids` text DEFAULT '[]' NOT NULL,
	`late` integer DEFAULT false NOT NULL,
	`submitted_at` integer NOT NULL,
	FOREIGN KEY (`submission_id`) REFERENCES `submissions`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `submission_versions_uq` ON `submission_versions` (`submission_id`,`version`);--> statement-breakpoint
CREATE TABLE `submissions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`cohort_id` integer NOT NULL,
	`user_id` integer NOT NULL,
	`week` integer NOT NULL,
	`status` text DEFAULT 'draft' NOT NULL,
	`late` integer DEFAULT false NOT NULL,
	`version` integer DEFAULT 0 NOT NULL,
	`draft_answers` text DEFAULT '{}' NOT NULL,
	`chosen_options` text DEFAULT '[]' NOT NULL,
	`draft_saved_at` integer,
	`first_submitted_at` integer,
	`submitted_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`cohort_id`) REFERENCES `cohorts`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `submissions_queue_idx` ON `submissions` (`cohort_id`,`status`,`submitted_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `submissions_cohort_user_week_uq` ON `submissions` (`cohort_id`,`user_id`,`week`);