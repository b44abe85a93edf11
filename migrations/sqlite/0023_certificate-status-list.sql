ALTER TABLE `certificates` ADD `status_list_index` integer;--> statement-breakpoint
CREATE UNIQUE INDEX `certificates_status_list_index_uq` ON `certificates` (`status_list_index`);