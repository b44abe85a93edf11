// Infrastructure tables: the mail outbox and the scheduler's job leases.
import { sqliteTable, integer, text, index } from 'drizzle-orm/sqlite-core';

export const outbox = sqliteTable(
  'outbox',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    // A stable key for messages that must go once only (e.g. "week-open:12:3:45"); null for ad hoc mail.
    dedupeKey: text('dedupe_key').unique(),
    to: text('to').notNull(),
    subject: text('subject').notNull(),
    text: text('text').notNull(),
    html: text('html').notNull(),
    status: text('status', { enum: ['pending', 'sent', 'failed'] }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: integer('next_attempt_at', { mode: 'timestamp_ms' }).notNull(),
    leaseUntil: integer('lease_until', { mode: 'timestamp_ms' }),
    // The worker holding the lease (random per process): only it may mark the row sent or failed.
    leaseOwner: text('lease_owner'),
    lastError: text('last_error'),
    messageId: text('message_id').notNull(),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    sentAt: integer('sent_at', { mode: 'timestamp_ms' }),
  },
  (t) => [index('outbox_due_idx').on(t.status, t.nextAttemptAt)],
);

// Which instance runs each scheduled job for now: several app instances share one database, and a job runs on the
// one holding its lease (taken when it has lapsed or is this instance's own), so each tick's work is done once.
export const jobLeases = sqliteTable('job_leases', {
  job: text('job').primaryKey(),
  owner: text('owner').notNull(),
  leaseUntil: integer('lease_until', { mode: 'timestamp_ms' }).notNull(),
});
