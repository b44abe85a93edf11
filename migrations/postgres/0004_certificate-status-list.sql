ALTER TABLE "certificates" ADD COLUMN "status_list_index" integer;--> statement-breakpoint
CREATE UNIQUE INDEX "certificates_status_list_index_uq" ON "certificates" USING btree ("status_list_index");