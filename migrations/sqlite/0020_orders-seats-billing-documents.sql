CREATE TABLE `order_seats` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`order_id` integer NOT NULL,
	`seat_no` integer NOT NULL,
	`email` text,
	`name` text,
	`booking_id` integer,
	`assigned_at` integer,
	FOREIGN KEY (`order_id`) REFERENCES `orders`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`booking_id`) REFERENCES `bookings`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `order_seats_no_uq` ON `order_seats` (`order_id`,`seat_no`);--> statement-breakpoint
CREATE UNIQUE INDEX `order_seats_email_uq` ON `order_seats` (`order_id`,`email`) WHERE email is not null;--> statement-breakpoint
CREATE TABLE `orders` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`cohort_id` integer NOT NULL,
	`buyer_id` integer NOT NULL,
	`buyer_name` text NOT NULL,
	`buyer_email` text NOT NULL,
	`organisation` text,
	`address` text,
	`po_number` text,
	`quantity` integer NOT NULL,
	`payment` text NOT NULL,
	`status` text NOT NULL,
	`unit_minor` integer NOT NULL,
	`total_minor` integer NOT NULL,
	`currency` text NOT NULL,
	`queue_seq` integer NOT NULL,
	`hold_expires_at` integer,
	`stripe_session_id` text,
	`stripe_payment_intent` text,
	`payment_reference` text,
	`paid_at` integer,
	`refund_state` text DEFAULT 'none' NOT NULL,
	`refunded_minor` integer DEFAULT 0 NOT NULL,
	`cancel_reason` text,
	`claim_token_hash` text,
	`certificate_wanted` integer DEFAULT true NOT NULL,
	`booked_from_ip` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`cohort_id`) REFERENCES `cohorts`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`buyer_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `orders_stripe_session_id_unique` ON `orders` (`stripe_session_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `orders_claim_token_hash_unique` ON `orders` (`claim_token_hash`);--> statement-breakpoint
CREATE INDEX `orders_cohort_status_idx` ON `orders` (`cohort_id`,`status`,`queue_seq`);--> statement-breakpoint
CREATE INDEX `orders_buyer_idx` ON `orders` (`buyer_id`);--> statement-breakpoint
CREATE INDEX `orders_hold_idx` ON `orders` (`hold_expires_at`) WHERE hold_expires_at is not null;--> statement-breakpoint
CREATE TABLE `billing_documents` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind` text NOT NULL,
	`seq` integer NOT NULL,
	`number` text NOT NULL,
	`order_id` integer NOT NULL,
	`currency` text NOT NULL,
	`net_minor` integer NOT NULL,
	`vat_minor` integer NOT NULL,
	`total_minor` integer NOT NULL,
	`body` text NOT NULL,
	`issued_at` integer NOT NULL,
	FOREIGN KEY (`order_id`) REFERENCES `orders`(`id`) ON UPDATE no action ON DELETE restrict
);
--> statement-breakpoint
CREATE UNIQUE INDEX `billing_documents_number_unique` ON `billing_documents` (`number`);--> statement-breakpoint
CREATE UNIQUE INDEX `billing_documents_kind_seq_uq` ON `billing_documents` (`kind`,`seq`);--> statement-breakpoint
CREATE INDEX `billing_documents_order_idx` ON `billing_documents` (`order_id`);--> statement-breakpoint
CREATE INDEX `billing_documents_issued_idx` ON `billing_documents` (`issued_at`);--> statement-breakpoint
CREATE TABLE `document_counters` (
	`kind` text PRIMARY KEY NOT NULL,
	`last_seq` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `payment_events` (
	`id` text PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`order_id` integer,
	`outcome` text NOT NULL,
	`received_at` integer NOT NULL,
	FOREIGN KEY (`order_id`) REFERENCES `orders`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `payment_events_order_idx` ON `payment_events` (`order_id`);--> statement-breakpoint
ALTER TABLE `bookings` ADD `order_id` integer REFERENCES orders(id);--> statement-breakpoint
CREATE INDEX `bookings_order_idx` ON `bookings` (`order_id`) WHERE order_id is not null;