// Payments: invoices, receipts and credit notes (numbered without gaps), their counters, and Stripe events applied.
import { sqliteTable, integer, text, index, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { orders } from '../bookings/schema.js';

export const DOCUMENT_KINDS = ['invoice', 'receipt', 'credit_note'] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];

/**
 * An issued invoice, receipt or credit note: what it says is frozen when it is issued (seller, buyer, lines, VAT), so
 * the PDF made from it later is the same document. Numbers run per kind, without gaps, allocated in the transaction
 * that issues the document (documentCounters).
 */
export const billingDocuments = sqliteTable(
  'billing_documents',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    kind: text('kind', { enum: DOCUMENT_KINDS }).notNull(),
    seq: integer('seq').notNull(),
    // The printed number, e.g. INV-000042.
    number: text('number').notNull().unique(),
    orderId: integer('order_id').notNull().references(() => orders.id, { onDelete: 'restrict' }),
    currency: text('currency').notNull(),
    netMinor: integer('net_minor').notNull(),
    vatMinor: integer('vat_minor').notNull(),
    totalMinor: integer('total_minor').notNull(),
    // JSON: seller, buyer, lines, VAT wording, due date and how to pay, as issued.
    body: text('body').notNull(),
    issuedAt: integer('issued_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [uniqueIndex('billing_documents_kind_seq_uq').on(t.kind, t.seq), index('billing_documents_order_idx').on(t.orderId), index('billing_documents_issued_idx').on(t.issuedAt)],
);

/** The last number issued per document kind: incremented in the issuing transaction, so numbers have no gaps. */
export const documentCounters = sqliteTable('document_counters', {
  kind: text('kind', { enum: DOCUMENT_KINDS }).primaryKey(),
  lastSeq: integer('last_seq').notNull(),
});

/** Stripe events already applied, by Stripe's event id: the same event delivered twice changes nothing more. */
export const paymentEvents = sqliteTable(
  'payment_events',
  {
    id: text('id').primaryKey(),
    type: text('type').notNull(),
    orderId: integer('order_id').references(() => orders.id, { onDelete: 'set null' }),
    // What applying it did ('confirmed', 'released', 'refunded', 'ignored: …').
    outcome: text('outcome').notNull(),
    receivedAt: integer('received_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [index('payment_events_order_idx').on(t.orderId)],
);
