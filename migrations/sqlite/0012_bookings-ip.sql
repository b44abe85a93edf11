ALTER TABLE `bookings` ADD `booked_from_ip` text;--> statement-breakpoint
CREATE INDEX `bookings_ip_idx` ON `bookings` (`booked_from_ip`,`created_at`) WHERE booked_from_ip is not null;