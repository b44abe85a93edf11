ALTER TABLE "submission_versions" ADD COLUMN "prompt_labels" text DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE "submissions" ADD COLUMN "draft_prompt_labels" text DEFAULT '{}' NOT NULL;