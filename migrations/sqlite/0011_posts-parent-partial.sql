DROP INDEX `posts_parent_idx`;--> statement-breakpoint
CREATE INDEX `posts_parent_idx` ON `posts` (`parent_id`) WHERE "posts"."parent_id" is not null;