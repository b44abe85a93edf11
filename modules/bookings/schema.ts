// Bookings: the admin's member list, bookings of a cohort (capacity, waitlist, payment, refund) and their history.
import { sql } from 'drizzle-orm';
import { sqliteTable, integer, text, index, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { users } from '../people/schema.js';
import { cohorts } from '../cohorts/schema.js';

export const BOOKING_KINDS = ['member', 'standalone'] as const;
export type BookingKind = (typeof BOOKING_KINDS)[number];
export const BOOKING_STATUSES = ['pending_payment', 'confirmed', 'waitlisted', 'cancelled'] as const;
export type BookingStatus = (typeof BOOKING_STATUSES)[number];
export const REFUND_STATES = ['none', 'due', 'refunded'] as const;
export type RefundState = (typeof REFUND_STATES)[number];

/** One row is either a single address or a whole domain (and its subdomains). */
export const members = sqliteTable('members', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  email: text('email').unique(),
  domain: text('domain').unique(),
  addedBy: integer('added_by').references(() => users.id, { onDelete: 'set null' }),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
});

export const bookings = sqliteTable(
  'bookings',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    cohortId: integer('cohort_id').notNull().references(() => cohorts.id, { onDelete: 'cascade' }),
    userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: BOOKING_KINDS }).notNull(),
    status: text('status', { enum: BOOKING_STATUSES }).notNull(),
    priceMinor: integer('price_minor').notNull(),
    currency: text('currency').notNull().default('GBP'),
    // Invoice or purchase-order reference; set once payment is recorded.
    paymentReference: text('payment_reference'),
    paidAt: integer('paid_at', { mode: 'timestamp_ms' }),
    certificateWanted: integer('certificate_wanted', { mode: 'boolean' }).notNull().default(true),
    // Place in the cohort's queue: bookings move up in this order (re-queued bookings get a new, later number).
    queueSeq: integer('queue_seq').notNull(),
    refundState: text('refund_state', { enum: REFUND_STATES }).notNull().default('none'),
    // Why it was cancelled: 'released' (unpaid, by an admin) may be reinstated when payment arrives.
    cancelReason: text('cancel_reason', { enum: ['cancelled', 'released'] }),
    bookedBy: integer('booked_by').references(() => users.id, { onDelete: 'set null' }),
    // The client address of a booking made by anyone but an admin, cleared after a day (the limits count booking_attempts).
    bookedFromIp: text('booked_from_ip'),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [
    // At most one active booking per person and cohort; cancelled ones stay as history.
    uniqueIndex('bookings_active_uq').on(t.cohortId, t.userId).where(sql`status <> 'cancelled'`),
    index('bookings_cohort_status_idx').on(t.cohortId, t.status, t.queueSeq),
    index('bookings_user_idx').on(t.userId),
    index('bookings_ip_idx').on(t.bookedFromIp, t.createdAt).where(sql`booked_from_ip is not null`),
  ],
);

/**
 * Every booking attempt by anyone but an admin, refused or not (a duplicate, not a member, an unknown cohort, a bad
 * address): the per-client and per-address limits count these, so a refusal costs a prober as much as a booking.
 * The scheduler deletes them a day after they were made; the limits need an hour.
 */
export const bookingAttempts = sqliteTable(
  'booking_attempts',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    ip: text('ip').notNull(),
    // SHA-256 of the normalised address (null when what was sent is not an address): the limit needs only equality.
    emailHash: text('email_hash'),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [index('booking_attempts_ip_idx').on(t.ip, t.createdAt), index('booking_attempts_email_idx').on(t.emailHash, t.createdAt)],
);

export const bookingEvents = sqliteTable(
  'booking_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    bookingId: integer('booking_id').notNull().references(() => bookings.id, { onDelete: 'cascade' }),
    // Null when the system did it (a waitlisted booking moving up).
    actorId: integer('actor_id').references(() => users.id, { onDelete: 'set null' }),
    action: text('action').notNull(),
    fromStatus: text('from_status'),
    toStatus: text('to_status').notNull(),
    note: text('note'),
    at: integer('at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [index('booking_events_booking_idx').on(t.bookingId, t.id)],
);
