// Payments' words: the seller and Stripe settings, a billing document and what issuing one takes, the Stripe gateway.
import type { Infrastructure } from '../../server/infrastructure.js';
import type { DocumentKind } from './schema.js';

import type { Currency } from '../courses/content.js';

export { CURRENCIES, type Currency } from '../courses/content.js';

/** Who sells, as printed on every invoice, receipt and credit note (from SELLER_* and VAT_* settings). */
export interface SellerSettings {
  name: string;
  /** Postal address, lines separated by newlines. */
  address: string;
  email: string;
  vatNumber: string | null;
  /** VAT in basis points (2000 = 20 %), included in prices; null when VAT is not charged. */
  vatRateBp: number | null;
  /** Printed as "VAT not applicable: …" when vatRateBp is null (e.g. "the seller is not VAT registered"). */
  vatExemptReason: string;
  /** Days from the invoice date to its due date. */
  paymentTermsDays: number;
  /** How to pay an invoice (bank details, who to contact), printed on the invoice. */
  howToPay: string;
}

/** Stripe Checkout settings: both keys set turn card payments on (STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET). */
export interface StripeSettings {
  secretKey: string;
  webhookSecret: string;
  /** Where the API is (tests point the SDK at a local stand-in); default Stripe's own. */
  host?: string;
  port?: number;
  protocol?: 'http' | 'https';
  /** How long one API call may take before it counts as a failure (and is retried); default 20 s. */
  timeoutMs?: number;
}

export interface PaymentSettings {
  seller: SellerSettings;
  /** Null: no card payments; orders are paid by invoice only (as before). */
  stripe: StripeSettings | null;
  /** How long a card order holds its places while the buyer is in Checkout (CHECKOUT_HOLD_MINUTES, default 30). */
  holdMinutes: number;
}

export const DEFAULT_SELLER: SellerSettings = {
  name: 'Cohort Course',
  address: '',
  email: 'billing@cohort-course.local',
  vatNumber: null,
  vatRateBp: null,
  vatExemptReason: 'the seller is not registered for VAT',
  paymentTermsDays: 30,
  howToPay: 'Pay by bank transfer quoting the invoice number, or contact us to pay by card.',
};

/** A party on a document. */
export interface BillingParty {
  name: string;
  email: string;
  organisation: string | null;
  /** Lines separated by newlines. */
  address: string | null;
}

/** One line of a document; amounts include VAT, in minor units. */
export interface DocumentLine {
  description: string;
  quantity: number;
  unitMinor: number;
  totalMinor: number;
}

/** What issuing a document needs to know about the order it is for. */
export interface DocumentRequest {
  kind: DocumentKind;
  orderId: number;
  currency: Currency;
  buyer: BillingParty;
  poNumber: string | null;
  lines: DocumentLine[];
  /** How the order is paid: the invoice says how to pay, or that it is paid by card. */
  payment: 'card' | 'invoice';
  /** A receipt: the payment it acknowledges (a Stripe payment or the reference an admin recorded). */
  paymentReference?: string | null;
  paidAt?: Date | null;
  /** A receipt or credit note: the invoice it relates to, by number, when there is one. */
  relatesTo?: string | null;
  /** A credit note: why (a cancellation, a refund). */
  reason?: string | null;
}

/** An issued document as the API returns it and pages list it. */
export interface DocumentView {
  id: number;
  kind: DocumentKind;
  number: string;
  orderId: number;
  currency: Currency;
  netMinor: number;
  vatMinor: number;
  totalMinor: number;
  issuedAt: Date;
}

/** A Checkout Session to make for an order's held places. */
export interface CheckoutRequest {
  orderId: number;
  /** "Strategic planning, cohort starting 2 March 2026". */
  description: string;
  quantity: number;
  unitMinor: number;
  currency: Currency;
  customerEmail: string;
  successUrl: string;
  cancelUrl: string;
  /** When our hold ends; the session is made to expire no later than Stripe allows after it. */
  holdExpiresAt: Date;
  /** Sent as the Idempotency-Key: a retried create makes one session. */
  idempotencyKey: string;
}

/** The parts of Stripe's webhook events we act on, checked and parsed from the raw body. */
export type PaymentEvent =
  | { id: string; type: 'checkout.session.completed' | 'checkout.session.expired'; created: number; sessionId: string; orderId: number | null; paymentIntent: string | null; amountTotal: number | null; currency: string | null; paymentStatus: string }
  | { id: string; type: 'charge.refunded'; created: number; paymentIntent: string | null; amountRefunded: number; currency: string }
  | { id: string; type: 'other'; created: number; stripeType: string };

/** Stripe, as the app uses it (modules/payments/stripe.ts; a local stand-in in tests). */
export interface StripeGateway {
  createCheckout(request: CheckoutRequest): Promise<{ sessionId: string; url: string }>;
  /** Expire an open session (our hold ended first); an already expired or completed one is left as it is. */
  expireCheckout(sessionId: string): Promise<void>;
  /** Refund part or all of a payment; the key makes a retried refund one refund. */
  refund(paymentIntent: string, amountMinor: number, idempotencyKey: string): Promise<{ refundId: string }>;
  /** Verify the Stripe-Signature header against the raw body and parse the event (BadInput when it does not verify). */
  parseEvent(rawBody: Buffer, signature: string | undefined): PaymentEvent;
}

export interface PaymentDeps extends Infrastructure {
  settings: PaymentSettings;
}

/** Printed numbers: a prefix per kind and the kind's sequence number, six digits or more (INV-000042). */
export const DOCUMENT_PREFIXES: Record<DocumentKind, string> = { invoice: 'INV', receipt: 'RCT', credit_note: 'CRN' };
export const DOCUMENT_TITLES: Record<DocumentKind, string> = { invoice: 'Invoice', receipt: 'Receipt', credit_note: 'Credit note' };

/**
 * Everything a document prints, frozen when it is issued (billing_documents.body): later changes to the seller's
 * settings or the order do not change a document already issued. Dates are calendar dates, YYYY-MM-DD (UTC).
 * A credit note's amounts are what it credits, as positive numbers.
 */
export interface DocumentBody {
  kind: DocumentKind;
  number: string;
  seller: { name: string; address: string; email: string; vatNumber: string | null };
  buyer: BillingParty;
  poNumber: string | null;
  lines: DocumentLine[];
  currency: Currency;
  netMinor: number;
  vatMinor: number;
  totalMinor: number;
  /** The rate charged (basis points), or null when VAT is not charged. */
  vatRateBp: number | null;
  /** "Prices include VAT at 20%." or "VAT not applicable: the seller is not registered for VAT". */
  vatWording: string;
  issueDate: string;
  /** An invoice to be paid: the issue date plus the seller's payment terms; null otherwise. */
  dueDate: string | null;
  payment: 'card' | 'invoice';
  /** An invoice to be paid: the seller's instructions; an order paid by card: "Paid by card"; else null. */
  howToPay: string | null;
  /** A receipt: the payment it acknowledges, and the day it was paid. */
  paymentReference: string | null;
  paidDate: string | null;
  /** A receipt or credit note: the invoice it relates to, by number. */
  relatesTo: string | null;
  /** A credit note: why. */
  reason: string | null;
}

/** An issued document with what it prints, for its PDF. */
export interface DocumentRow extends DocumentView {
  body: DocumentBody;
}
