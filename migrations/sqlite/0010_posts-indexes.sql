DROP INDEX `posts_thread_idx`;--> statement-breakpoint
DROP INDEX `posts_cohort_author_idx`;--> statement-breakpoint
CREATE INDEX `posts_cohort_author_idx` ON `posts` (`cohort_id`,`author_id`,`deleted_at`,`hidden`);