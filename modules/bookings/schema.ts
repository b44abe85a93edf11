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
/** How an order is paid: by card through Stripe Checkout, or by invoice / purchase order. */
export const PAYMENT_METHODS = ['card', 'invoice'] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];
/** An order's places: held awaiting payment, paid (confirmed), waiting as a whole, or ended (cancelled, released, expired). */
export const ORDER_STATUSES = ['pending_payment', 'confirmed', 'waitlisted', 'cancelled'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

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
    // The order whose seat this booking fills (null for a booking of one's own): the order holds the place and is paid,
    // so a seat's booking is not counted in the cohort's places or queue itself.
    orderId: integer('order_id').references(() => orders.id, { onDelete: 'cascade' }),
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
    index('bookings_order_idx').on(t.orderId).where(sql`order_id is not null`),
  ],
);

/**
 * A purchase of one or more places in a cohort by a buyer (who may not attend). The order holds its `quantity` places
 * as a whole, or waits on the cohort's waitlist as a whole, in the same queue as single bookings (queueSeq); each place
 * is a seat the buyer assigns to a colleague.
 */
export const orders = sqliteTable(
  'orders',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    cohortId: integer('cohort_id').notNull().references(() => cohorts.id, { onDelete: 'cascade' }),
    // The buyer's account (made from their address if new): they sign in to see the order, its seats and documents.
    buyerId: integer('buyer_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    buyerName: text('buyer_name').notNull(),
    buyerEmail: text('buyer_email').notNull(),
    organisation: text('organisation'),
    // The billing address as the buyer wrote it (lines separated by newlines).
    address: text('address'),
    poNumber: text('po_number'),
    quantity: integer('quantity').notNull(),
    payment: text('payment', { enum: PAYMENT_METHODS }).notNull(),
    status: text('status', { enum: ORDER_STATUSES }).notNull(),
    // Price a place and the total (VAT included), in the course's currency's minor units, fixed when ordered.
    unitMinor: integer('unit_minor').notNull(),
    totalMinor: integer('total_minor').notNull(),
    currency: text('currency').notNull(),
    queueSeq: integer('queue_seq').notNull(),
    // A card order's hold on its places ends here unless Checkout completes (null for invoice orders and while waitlisted).
    holdExpiresAt: integer('hold_expires_at', { mode: 'timestamp_ms' }),
    stripeSessionId: text('stripe_session_id').unique(),
    stripePaymentIntent: text('stripe_payment_intent'),
    // Invoice or purchase-order reference, or the Stripe payment, once paid.
    paymentReference: text('payment_reference'),
    paidAt: integer('paid_at', { mode: 'timestamp_ms' }),
    refundState: text('refund_state', { enum: REFUND_STATES }).notNull().default('none'),
    refundedMinor: integer('refunded_minor').notNull().default(0),
    cancelReason: text('cancel_reason', { enum: ['cancelled', 'released', 'expired', 'payment_failed'] }),
    // SHA-256 of the claim link's secret: whoever holds the link may take an open seat (null until the buyer makes one).
    claimTokenHash: text('claim_token_hash').unique(),
    certificateWanted: integer('certificate_wanted', { mode: 'boolean' }).notNull().default(true),
    bookedFromIp: text('booked_from_ip'),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [
    index('orders_cohort_status_idx').on(t.cohortId, t.status, t.queueSeq),
    index('orders_buyer_idx').on(t.buyerId),
    index('orders_hold_idx').on(t.holdExpiresAt).where(sql`hold_expires_at is not null`),
  ],
);

/** One place of an order: open until the buyer (or a claim link) assigns it to a person, then their booking. */
export const orderSeats = sqliteTable(
  'order_seats',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    orderId: integer('order_id').notNull().references(() => orders.id, { onDelete: 'cascade' }),
    // 1..quantity within the order.
    seatNo: integer('seat_no').notNull(),
    email: text('email'),
    name: text('name'),
    // The booking the seat became (null while open).
    bookingId: integer('booking_id').references(() => bookings.id, { onDelete: 'set null' }),
    assignedAt: integer('assigned_at', { mode: 'timestamp_ms' }),
  },
  (t) => [
    uniqueIndex('order_seats_no_uq').on(t.orderId, t.seatNo),
    // One seat per person in an order.
    uniqueIndex('order_seats_email_uq').on(t.orderId, t.email).where(sql`email is not null`),
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
