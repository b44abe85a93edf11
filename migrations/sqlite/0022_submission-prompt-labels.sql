ALTER TABLE `submission_versions` ADD `prompt_labels` text DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE `submissions` ADD `draft_prompt_labels` text DEFAULT '{}' NOT NULL;