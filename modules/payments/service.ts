// Payments: checkout (an order placed, then Stripe Checkout for its held places), Stripe's webhook applied once, card
// refunds, holds running out, and the invoices, receipts and credit notes each change of an order calls for.
import { eq } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../server/db.js';
import { BadInput, Conflict } from '../../server/errors.js';
import { formatDay } from '../../server/time.js';
import type { User } from '../people/service.js';
import type { Cohort, CohortService } from '../cohorts/service.js';
import type { BookingService, OrderInput, OrderRow, OrderView } from '../bookings/service.js';
import { paymentEvents } from './schema.js';
import { documentRow, documentsCsv, documentsForOrder, issueDocument } from './documents.js';
import { renderDocumentPdf } from './document-pdf.js';
import type { Currency, DocumentView, PaymentDeps, PaymentEvent, StripeGateway } from './model.js';
import type { DocumentKind } from './schema.js';

export interface PaymentServiceDeps extends PaymentDeps {
  bookings: BookingService;
  cohorts: CohortService;
  /** Stripe, or null when card payments are off. */
  gateway: StripeGateway | null;
  log: FastifyBaseLogger;
}

/** What placing an order answers: the order, where to pay by card (or null), its invoice (or null). */
export interface Checkout {
  order: OrderView;
  checkoutUrl: string | null;
  invoice: DocumentView | null;
}

const description = (cohort: Cohort) => `${cohort.course.title}, cohort starting ${formatDay(cohort.timeline.startsAt, cohort.timezone)}`;

export function createPaymentService(deps: PaymentServiceDeps) {
  const { database, clock, bookings, cohorts, gateway, baseUrl, settings } = deps;

  const partyOf = (o: OrderRow) => ({ name: o.buyerName, email: o.buyerEmail, organisation: o.organisation, address: o.address });
  const lines = (o: OrderRow, cohort: Cohort) => [{ description: `${description(cohort)}: a place`, quantity: o.quantity, unitMinor: o.unitMinor, totalMinor: o.totalMinor }];

  async function latest(q: Db, orderId: number, kind: DocumentKind): Promise<DocumentView | null> {
    const docs = (await documentsForOrder(q, orderId)).filter((d) => d.kind === kind);
    return docs.at(-1) ?? null;
  }

  async function issue(tx: Db, o: OrderRow, cohort: Cohort, kind: DocumentKind, extra: { amountMinor?: number; reason?: string; relatesTo?: string | null } = {}) {
    const amount = extra.amountMinor ?? o.totalMinor;
    const docLines =
      extra.amountMinor === undefined ? lines(o, cohort) : [{ description: `${description(cohort)}: ${extra.reason ?? 'credit'}`, quantity: 1, unitMinor: amount, totalMinor: amount }];
    return issueDocument(deps, tx, {
      kind,
      orderId: o.id,
      currency: o.currency as Currency,
      buyer: partyOf(o),
      poNumber: o.poNumber,
      lines: docLines,
      payment: o.payment,
      paymentReference: kind === 'receipt' ? o.paymentReference : null,
      paidAt: kind === 'receipt' ? o.paidAt : null,
      relatesTo: extra.relatesTo ?? null,
      reason: extra.reason ?? null,
    });
  }

  /**
   * The documents an order's change calls for, in the change's own transaction: an invoice when an invoice order comes
   * to hold its places (a card order's invoice and receipt when it is paid), a receipt on payment, a credit note when
   * an invoiced order is cancelled unpaid, and one for each refund. Free orders get none.
   */
  async function onOrderChanged(tx: Db, { order: o, cohort, change, refundedMinor }: { order: OrderRow; cohort: Cohort; change: string; refundedMinor?: number }) {
    if (o.totalMinor === 0) return;
    const invoice = await latest(tx, o.id, 'invoice');
    if (change === 'held' && o.payment === 'invoice' && !invoice) await issue(tx, o, cohort, 'invoice');
    else if (change === 'paid') {
      const inv = invoice ?? (await issue(tx, o, cohort, 'invoice'));
      await issue(tx, o, cohort, 'receipt', { relatesTo: inv.number });
    } else if (change === 'cancelled' && invoice && !o.paymentReference) {
      await issue(tx, o, cohort, 'credit_note', { amountMinor: o.totalMinor, reason: 'order cancelled before payment', relatesTo: invoice.number });
    } else if (change === 'refunded' && refundedMinor) {
      await issue(tx, o, cohort, 'credit_note', { amountMinor: refundedMinor, reason: 'refund', relatesTo: invoice?.number ?? null });
    }
  }

  /**
   * Open Stripe Checkout for an order's held places. If Stripe cannot be reached the order gives its places back at
   * once ('payment_failed'): an order that cannot be paid leaves nothing held, no seats booked.
   */
  async function startCheckout(o: OrderRow): Promise<string> {
    if (!gateway) throw new Conflict('Card payments are not set up; choose to pay by invoice.');
    if (o.status !== 'pending_payment' || !o.holdExpiresAt || o.paymentReference) throw new Conflict('This order is not waiting for a card payment.');
    const cohort = await cohorts.get(o.cohortId);
    try {
      const session = await gateway.createCheckout({
        orderId: o.id,
        description: description(cohort),
        quantity: o.quantity,
        unitMinor: o.unitMinor,
        currency: o.currency as Currency,
        customerEmail: o.buyerEmail,
        successUrl: `${baseUrl}/orders/${o.id}?paid=1`,
        cancelUrl: `${baseUrl}/orders/${o.id}`,
        holdExpiresAt: o.holdExpiresAt,
        // One session per hold: a retried request (or a second click) gets the same one.
        idempotencyKey: `order-${o.id}-hold-${o.holdExpiresAt.getTime()}`,
      });
      await bookings.setCheckoutSession(o.id, session.sessionId);
      return session.url;
    } catch (err) {
      if (!o.stripeSessionId) await bookings.endHold(o.id, 'payment_failed');
      throw err;
    }
  }

  /** Refund what is left on a cancelled card order through Stripe, and record it (the webhook then changes nothing more). */
  async function refundByCard(o: OrderRow): Promise<void> {
    if (!gateway || !o.stripePaymentIntent || o.refundState !== 'due') return;
    const left = o.totalMinor - o.refundedMinor;
    if (left <= 0) return;
    await gateway.refund(o.stripePaymentIntent, left, `order-${o.id}-refund-${o.refundedMinor}`);
    await bookings.recordRefund(o.id, { total: o.refundedMinor + left });
  }

  /** Has this Stripe event been applied already? Then applying it again must change nothing. */
  async function seen(id: string): Promise<boolean> {
    const [row] = await database.db.select({ id: paymentEvents.id }).from(paymentEvents).where(eq(paymentEvents.id, id)).limit(1);
    return Boolean(row);
  }

  async function remember(e: PaymentEvent, orderId: number | null, outcome: string) {
    await database.transaction(async (tx) => {
      await tx.insert(paymentEvents).values({ id: e.id, type: e.type === 'other' ? e.stripeType : e.type, orderId, outcome, receivedAt: clock.now() }).onConflictDoNothing();
    });
  }

  /**
   * Apply one verified Stripe event. A completed session pays its order (amount and currency must match what the order
   * asked for); an expired one ends the hold if still unpaid; a refund records what Stripe refunded beyond what we
   * know. Each event is applied once; redelivered or out-of-order events change nothing more, because every step
   * checks the order's state. A session that is not one of ours (unknown, or naming another order) is refused.
   */
  async function applyEvent(e: PaymentEvent): Promise<{ outcome: string }> {
    if (await seen(e.id)) return { outcome: 'already applied' };
    if (e.type === 'other') {
      await remember(e, null, 'ignored');
      return { outcome: 'ignored' };
    }
    if (e.type === 'charge.refunded') {
      const o = e.paymentIntent ? await bookings.orderByStripe({ paymentIntent: e.paymentIntent }) : null;
      if (!o) throw new BadInput('this refund is for no payment of ours.');
      const before = o.refundedMinor;
      const after = await bookings.recordRefund(o.id, { total: e.amountRefunded });
      const outcome = after.refundedMinor > before ? `refunded ${after.refundedMinor - before}` : 'nothing new';
      await remember(e, o.id, outcome);
      return { outcome };
    }
    const o = await bookings.orderByStripe({ sessionId: e.sessionId });
    if (!o || (e.orderId !== null && e.orderId !== o.id)) throw new BadInput('this Checkout Session is not one of ours.');
    let outcome: string;
    if (e.type === 'checkout.session.completed') {
      if (e.paymentStatus !== 'paid') outcome = `not paid (${e.paymentStatus})`;
      else if (e.amountTotal !== o.totalMinor || e.currency !== o.currency) throw new BadInput('the amount paid does not match the order.');
      else if (o.paymentReference) outcome = 'already paid';
      else {
        const after = await bookings.payOrder(o.id, { reference: e.paymentIntent ?? e.sessionId, paymentIntent: e.paymentIntent, actor: null }).catch(async (err) => {
          // The same event delivered twice at once: the other delivery recorded the payment first.
          if ((await bookings.orderRow(o.id)).paymentReference) return null;
          throw err;
        });
        if (!after) {
          await remember(e, o.id, 'already paid');
          return { outcome: 'already paid' };
        }
        outcome = `paid: ${after.status}`;
        // Paid after its buyer cancelled it: the money goes back.
        if (after.refund === 'due') await refundByCard(await bookings.orderRow(o.id)).catch(() => undefined);
      }
    } else {
      outcome = (await bookings.endHold(o.id, 'expired')) ? 'released' : 'nothing to release';
    }
    await remember(e, o.id, outcome);
    return { outcome };
  }

  return {
    /** Card payments are on (both Stripe keys set). */
    cardEnabled: gateway !== null,
    onOrderChanged,

    /** Place an order; a card order goes on to Stripe Checkout (its URL), an invoice order gets its invoice at once. */
    async checkout(input: Omit<OrderInput, 'holdMinutes'>): Promise<Checkout> {
      if (input.payment === 'card' && !gateway) throw new BadInput('card payments are not available here; choose invoice.', 'payment');
      const order = await bookings.placeOrder({ ...input, holdMinutes: settings.holdMinutes });
      let checkoutUrl: string | null = null;
      if (order.payment === 'card' && order.status === 'pending_payment' && order.holdExpiresAt) {
        checkoutUrl = await startCheckout(await bookings.orderRow(order.id));
      }
      return { order: await bookings.orderView(order.id), checkoutUrl, invoice: await latest(database.db, order.id, 'invoice') };
    },

    /** Pay an order's held places by card now (the buyer's order page, e.g. after moving up from the waitlist). */
    async payByCard(orderId: number, actor: User): Promise<string> {
      return startCheckout(await bookings.orderRowFor(actor, orderId));
    },

    /** Cancel an order (bookings' rules) and, for a card payment, refund it through Stripe at once (retried later if Stripe is down). */
    async cancel(orderId: number, actor: User, note?: string): Promise<OrderView> {
      await bookings.cancelOrder(orderId, actor, note);
      const o = await bookings.orderRowFor(actor, orderId);
      if (o.payment === 'card') await refundByCard(o).catch((err) => deps.log.warn({ err, orderId }, 'card refund deferred'));
      return bookings.orderView(orderId);
    },

    /** Verify and apply a webhook delivery (400 for a bad signature or a session not ours; nothing changes then). */
    async webhook(rawBody: Buffer, signature: string | undefined): Promise<{ outcome: string }> {
      if (!gateway) throw new BadInput('card payments are not set up here.');
      return applyEvent(gateway.parseEvent(rawBody, signature));
    },

    /** Release card holds that have run out, and expire their Checkout Sessions (a scheduled job). */
    async releaseLapsedHolds(now: Date): Promise<number> {
      let n = 0;
      for (const o of await bookings.lapsedHolds(now)) {
        const ended = await bookings.endHold(o.id, 'expired');
        if (!ended) continue;
        n++;
        if (gateway && o.stripeSessionId) await gateway.expireCheckout(o.stripeSessionId).catch(() => undefined);
      }
      return n;
    },

    /** Refunds due on cancelled card orders that Stripe could not take at the time (a scheduled job). */
    async retryRefunds(): Promise<number> {
      let n = 0;
      for (const o of await bookings.cardRefundsDue()) {
        await refundByCard(o);
        n++;
      }
      return n;
    },

    /** An order's documents (for its buyer or an admin: the caller has checked). */
    documents: (orderId: number) => documentsForOrder(database.db, orderId),
    /** The latest document of a kind for an order, or null. */
    latest: (orderId: number, kind: DocumentKind) => latest(database.db, orderId, kind),
    /** A document's PDF, with its number. */
    async pdf(documentId: number): Promise<{ number: string; bytes: Uint8Array }> {
      const row = await documentRow(database.db, documentId);
      return { number: row.number, bytes: await renderDocumentPdf(row) };
    },
    /** Every document in a period as CSV, for finance. */
    csv: (range: { from?: Date; to?: Date }) => documentsCsv(database.db, range),
  };
}

export type PaymentService = ReturnType<typeof createPaymentService>;
