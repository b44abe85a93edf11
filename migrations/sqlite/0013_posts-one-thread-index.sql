DROP INDEX `posts_thread_counts_idx`;--> statement-breakpoint
DROP INDEX `posts_thread_order_idx`;--> statement-breakpoint
CREATE INDEX `posts_thread_order_idx` ON `posts` (`thread_id`,(case when "parent_id" is null then "id" else "parent_id" end),`id`,`deleted_at`,`hidden`,`author_id`);