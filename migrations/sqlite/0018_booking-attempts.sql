CREATE TABLE `booking_attempts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`ip` text NOT NULL,
	`email_hash` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `booking_attempts_ip_idx` ON `booking_attempts` (`ip`,`created_at`);--> statement-breakpoint
CREATE INDEX `booking_attempts_email_idx` ON `booking_attempts` (`email_hash`,`created_at`);