CREATE TABLE `lti_accounts` (
	`platform_id` integer NOT NULL,
	`sub` text NOT NULL,
	`user_id` integer NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`platform_id`, `sub`),
	FOREIGN KEY (`platform_id`) REFERENCES `lti_platforms`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `lti_accounts_user_idx` ON `lti_accounts` (`user_id`);--> statement-breakpoint
CREATE TABLE `lti_contexts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`platform_id` integer NOT NULL,
	`context_id` text NOT NULL,
	`cohort_id` integer NOT NULL,
	`deployment_id` text NOT NULL,
	`title` text DEFAULT '' NOT NULL,
	`memberships_url` text,
	`line_items_url` text,
	`ags_scopes` text DEFAULT '' NOT NULL,
	`last_synced_at` integer,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`platform_id`) REFERENCES `lti_platforms`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`cohort_id`) REFERENCES `cohorts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `lti_contexts_platform_context_cohort_uq` ON `lti_contexts` (`platform_id`,`context_id`,`cohort_id`);--> statement-breakpoint
CREATE INDEX `lti_contexts_cohort_idx` ON `lti_contexts` (`cohort_id`);--> statement-breakpoint
CREATE TABLE `lti_line_items` (
	`context_link_id` integer NOT NULL,
	`item` text NOT NULL,
	`url` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`context_link_id`, `item`),
	FOREIGN KEY (`context_link_id`) REFERENCES `lti_contexts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `lti_login_states` (
	`state_hash` text PRIMARY KEY NOT NULL,
	`nonce` text NOT NULL,
	`platform_id` integer NOT NULL,
	`target_link_uri` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer,
	FOREIGN KEY (`platform_id`) REFERENCES `lti_platforms`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `lti_login_states_expires_idx` ON `lti_login_states` (`expires_at`);--> statement-breakpoint
CREATE TABLE `lti_platforms` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`issuer` text NOT NULL,
	`client_id` text NOT NULL,
	`name` text DEFAULT '' NOT NULL,
	`deployment_ids` text NOT NULL,
	`auth_login_url` text NOT NULL,
	`token_url` text NOT NULL,
	`jwks_url` text NOT NULL,
	`registered_via` text NOT NULL,
	`registered_by` integer,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`registered_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `lti_platforms_issuer_client_uq` ON `lti_platforms` (`issuer`,`client_id`);--> statement-breakpoint
CREATE TABLE `lti_resource_links` (
	`platform_id` integer NOT NULL,
	`resource_link_id` text NOT NULL,
	`cohort_id` integer NOT NULL,
	`week` integer,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`platform_id`, `resource_link_id`),
	FOREIGN KEY (`platform_id`) REFERENCES `lti_platforms`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`cohort_id`) REFERENCES `cohorts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `lti_resource_links_cohort_idx` ON `lti_resource_links` (`cohort_id`);--> statement-breakpoint
CREATE TABLE `lti_score_outbox` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`context_link_id` integer NOT NULL,
	`user_id` integer NOT NULL,
	`item` text NOT NULL,
	`score` text NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`lease_until` integer,
	`lease_owner` text,
	`last_error` text,
	`created_at` integer NOT NULL,
	`sent_at` integer,
	FOREIGN KEY (`context_link_id`) REFERENCES `lti_contexts`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `lti_score_outbox_due_idx` ON `lti_score_outbox` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE TABLE `lti_tool_keys` (
	`slot` text PRIMARY KEY NOT NULL,
	`kid` text NOT NULL,
	`private_jwk` text NOT NULL,
	`public_jwk` text NOT NULL,
	`created_at` integer NOT NULL
);
