// Orders of one or more places: placing one (places held as a whole, or the whole order on the waitlist), payment,
// cancellation, a card hold running out, refunds recorded; and reading orders with their seats.
import { and, asc, desc, eq, isNotNull, lte } from 'drizzle-orm';
import type { Db } from '../../server/db.js';
import { BadInput, Conflict, DomainRule } from '../../server/errors.js';
import { formatDay } from '../../server/time.js';
import { normaliseEmail, type User } from '../people/service.js';
import type { Cohort } from '../cohorts/service.js';
import type { Money } from '../courses/content.js';
import { orders, orderSeats, type OrderStatus, type PaymentMethod } from './schema.js';
import { countAttempt } from './attempts.js';
import { mailBuyer, nextQueueSeq, orderRow, queuePositions, updateOrder } from './queue.js';
import { fillPlaces, placeForOrder } from './places.js';
import { bookSeats, checkFree, endSeatBooking, ownOrder, seatsOf, seatView, type SeatInput } from './seats.js';
import { HOLDS_PLACE, ORDER_MAX_QUANTITY, type BookingDeps, type OrderRow, type OrderView } from './model.js';

declare module '../../server/events.js' {
  interface DomainEvents {
    /**
     * An order was placed, came to hold its places (placed holding them, or moved up from the waitlist), was paid, was
     * cancelled (its hold ran out, or the buyer or an admin cancelled it) or was refunded, inside that transaction.
     */
    'order.changed': { order: OrderRow; cohort: Cohort; change: 'placed' | 'held' | 'paid' | 'cancelled' | 'refunded'; refundedMinor?: number };
  }
}

export interface OrderInput {
  cohortId: number;
  buyer: { email: string; name: string; organisation?: string | null; address?: string | null; poNumber?: string | null };
  quantity: number;
  payment: PaymentMethod;
  seats?: SeatInput[];
  certificate?: boolean;
  actor: User | null;
  /** The client's address: attempts by anyone but an admin count toward the booking limits (attempts.ts). */
  ip?: string;
  /** How long a card order holds its places while the buyer is in Checkout. */
  holdMinutes: number;
}

function isRefusal(err: unknown): boolean {
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500;
}

const trimmed = (v: string | null | undefined, max: number) => (v?.trim() ? v.trim().slice(0, max) : null);

/** An order with its seats and place in the queue, as a view. */
export async function orderView(q: Db, o: OrderRow | number): Promise<OrderView> {
  const row = typeof o === 'number' ? await orderRow(q, o) : o;
  const seats = await seatsOf(q, row.id);
  const position = row.status === 'waitlisted' ? ((await queuePositions(q, row.cohortId)).orders.get(row.id) ?? null) : null;
  const money = (amountMinor: number): Money => ({ amountMinor, currency: row.currency as Money['currency'] });
  return {
    id: row.id,
    cohortId: row.cohortId,
    status: row.status,
    quantity: row.quantity,
    payment: row.payment,
    buyer: { id: row.buyerId, email: row.buyerEmail, name: row.buyerName, organisation: row.organisation, address: row.address, poNumber: row.poNumber },
    unit: money(row.unitMinor),
    total: money(row.totalMinor),
    waitlistPosition: position,
    holdExpiresAt: row.holdExpiresAt,
    stripeSessionId: row.stripeSessionId,
    paymentReference: row.paymentReference,
    paidAt: row.paidAt,
    refund: row.refundState,
    refundedMinor: row.refundedMinor,
    cancelReason: row.cancelReason,
    seats: seats.map(seatView),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/**
 * Place an order for `quantity` places (1..100). All of them are held at once when that many are free and nobody
 * queues ahead; otherwise the whole order waits on the waitlist and moves up as a whole (places.ts says why). The
 * buyer's account is made from their address if new; seats named now are checked (409 for an address named twice or
 * already with a place in the cohort) and booked as soon as the order is paid. 409 once the cohort has ended (for
 * anyone but an admin); 422 when the cohort could never hold that many. Attempts count toward the booking limits
 * exactly as single bookings do, refused or not.
 */
export async function placeOrder(deps: BookingDeps, input: OrderInput): Promise<OrderView> {
  const { database, clock, people, cohorts } = deps;
  const isAdmin = input.actor?.role === 'admin';
  const ip = isAdmin ? null : (input.ip ?? null);
  const q = input.quantity;
  if (!Number.isInteger(q) || q < 1 || q > ORDER_MAX_QUANTITY) throw new BadInput(`order between 1 and ${ORDER_MAX_QUANTITY} places.`, 'quantity');
  const seats = input.seats ?? [];
  if (seats.length > q) throw new BadInput(`${seats.length} seats named for an order of ${q} places.`, 'seats');
  const outcome = await database.transaction(async (tx): Promise<{ placed: OrderView } | { refused: unknown }> => {
    const now = clock.now();
    if (ip !== null) await countAttempt(tx, ip, input.buyer.email, now);
    try {
      const placed = await database.transaction(async (sp) => {
        const cohort = await cohorts.get(input.cohortId, sp);
        if (!isAdmin && now.getTime() >= cohort.timeline.endsAt.getTime()) {
          throw new Conflict(`Bookings for this cohort closed when it ended on ${formatDay(cohort.timeline.endsAt, cohort.timezone)}.`);
        }
        if (q > cohort.capacity) {
          throw new DomainRule(`This cohort has ${cohort.capacity} places in all, so an order of ${q} places could never be filled. Order fewer, or contact us about a cohort for your team.`);
        }
        const buyerEmail = normaliseEmail(input.buyer.email);
        const named = seats.map((s, i) => {
          try {
            return { email: normaliseEmail(s.email), name: s.name.trim().slice(0, 200) };
          } catch {
            throw new BadInput('enter an email address like name@library.org.', `seats[${i}].email`);
          }
        });
        const seen = new Set<string>();
        for (const s of named) {
          if (seen.has(s.email)) throw new Conflict(`${s.email} is named for two seats; each person takes one.`);
          seen.add(s.email);
          await checkFree(deps, sp, cohort, s.email, null);
        }
        const buyer = await people.ensure(sp, buyerEmail, input.buyer.name.trim().slice(0, 200) || undefined);
        await fillPlaces(deps, sp, cohort);
        const price = cohort.course.price;
        const total = price.amountMinor * q;
        const status: OrderStatus = await placeForOrder(sp, cohort, q, total === 0);
        const [o] = await sp
          .insert(orders)
          .values({
            cohortId: cohort.id,
            buyerId: buyer.id,
            buyerName: input.buyer.name.trim().slice(0, 200),
            buyerEmail,
            organisation: trimmed(input.buyer.organisation, 200),
            address: trimmed(input.buyer.address, 1000),
            poNumber: trimmed(input.buyer.poNumber, 100),
            quantity: q,
            payment: input.payment,
            status,
            unitMinor: price.amountMinor,
            totalMinor: total,
            currency: price.currency,
            queueSeq: await nextQueueSeq(sp, cohort.id),
            holdExpiresAt: status === 'pending_payment' && input.payment === 'card' ? new Date(now.getTime() + input.holdMinutes * 60_000) : null,
            paymentReference: total === 0 ? 'free' : null,
            paidAt: total === 0 ? now : null,
            certificateWanted: input.certificate ?? true,
            bookedFromIp: ip,
            createdAt: now,
            updatedAt: now,
          })
          .returning();
        await sp.insert(orderSeats).values(
          Array.from({ length: q }, (_, i) => ({ orderId: o.id, seatNo: i + 1, email: named[i]?.email ?? null, name: named[i]?.name ?? null, assignedAt: named[i] ? now : null })),
        );
        if (status === 'confirmed') {
          await bookSeats(deps, sp, o, cohort);
          await mailBuyer(deps, sp, o, cohort, 'paid', 'Your order is confirmed');
        } else if (status === 'waitlisted') {
          await mailBuyer(deps, sp, o, cohort, 'waitlisted', 'Your order is on the waitlist', { position: (await queuePositions(sp, cohort.id)).orders.get(o.id) });
        } else if (o.payment === 'invoice') {
          await mailBuyer(deps, sp, o, cohort, 'received', 'Order received');
        }
        await deps.events.emit(sp, 'order.changed', { order: o, cohort, change: 'placed' });
        if (status === 'pending_payment') await deps.events.emit(sp, 'order.changed', { order: o, cohort, change: 'held' });
        if (status === 'confirmed') await deps.events.emit(sp, 'order.changed', { order: o, cohort, change: 'paid' });
        return orderView(sp, o.id);
      });
      return { placed };
    } catch (err) {
      if (ip !== null && isRefusal(err)) return { refused: err };
      throw err;
    }
  }, { turn: `cohort ${input.cohortId} places` });
  if ('refused' in outcome) throw outcome.refused;
  return outcome.placed;
}

export interface Payment {
  /** The invoice or purchase-order reference, or the Stripe payment intent. */
  reference: string;
  paymentIntent?: string | null;
  /** Null when Stripe told us (a webhook). */
  actor: User | null;
}

/**
 * Record an order's payment (an admin for invoices, the Stripe webhook for cards). Holding its places → confirmed and
 * its named seats booked; waitlisted → stays waitlisted, paid, and is confirmed when it moves up; a hold that ran out
 * (a late card payment) → back with its places if they are free, else paid at the end of the waitlist; cancelled by
 * its buyer → the payment is recorded and a refund is due. 409 when already paid.
 */
export async function payOrder(deps: BookingDeps, id: number, payment: Payment): Promise<OrderView> {
  const { database, clock, cohorts } = deps;
  const ref = payment.reference.trim();
  if (!ref) throw new BadInput('enter the invoice or purchase-order reference.', 'reference');
  const head = await orderRow(database.db, id);
  return database.transaction(
    async (tx) => {
      const o = await orderRow(tx, id);
      if (o.paymentReference) throw new Conflict(`Payment is already recorded for this order (reference ${o.paymentReference}).`);
      const cohort = await cohorts.get(o.cohortId, tx);
      const now = clock.now();
      const paid = { paymentReference: ref.slice(0, 200), paidAt: now, stripePaymentIntent: payment.paymentIntent ?? o.stripePaymentIntent, holdExpiresAt: null };
      let after: OrderRow;
      if (o.status === 'pending_payment') {
        after = await updateOrder(deps, tx, o.id, { ...paid, status: 'confirmed' });
        await bookSeats(deps, tx, after, cohort);
        await mailBuyer(deps, tx, after, cohort, 'paid', 'Payment received, your places are confirmed', { confirmed: true });
      } else if (o.status === 'waitlisted') {
        after = await updateOrder(deps, tx, o.id, paid);
        await mailBuyer(deps, tx, after, cohort, 'paid', 'Payment received', { confirmed: false, position: (await queuePositions(tx, o.cohortId)).orders.get(o.id) });
      } else if (o.status === 'cancelled' && o.cancelReason !== 'cancelled') {
        await fillPlaces(deps, tx, cohort);
        const to = await placeForOrder(tx, cohort, o.quantity, true);
        after = await updateOrder(deps, tx, o.id, { ...paid, status: to, cancelReason: null, queueSeq: await nextQueueSeq(tx, o.cohortId) });
        if (to === 'confirmed') await bookSeats(deps, tx, after, cohort);
        await mailBuyer(deps, tx, after, cohort, 'paid', to === 'confirmed' ? 'Payment received, your places are confirmed' : 'Payment received', {
          confirmed: to === 'confirmed',
          position: to === 'waitlisted' ? (await queuePositions(tx, o.cohortId)).orders.get(o.id) : undefined,
        });
      } else if (o.status === 'cancelled') {
        after = await updateOrder(deps, tx, o.id, { ...paid, refundState: 'due' });
      } else {
        throw new Conflict('This order is already confirmed.');
      }
      await deps.events.emit(tx, 'order.changed', { order: after, cohort, change: 'paid' });
      return orderView(tx, o.id);
    },
    { turn: `cohort ${head.cohortId} places` },
  );
}

/**
 * Cancel an order: its buyer until the cohort starts, an admin at any time (403 for anyone else, 409 after the start).
 * Its seats' bookings are cancelled with it, a paid order gets a refund due, and the freed places go to the waitlist.
 */
export async function cancelOrder(deps: BookingDeps, id: number, actor: User, note?: string): Promise<OrderView> {
  const { database, clock, cohorts } = deps;
  const head = await orderRow(database.db, id);
  return database.transaction(
    async (tx) => {
      const o = await orderRow(tx, id);
      ownOrder(o, actor);
      const isAdmin = actor.role === 'admin';
      if (o.status === 'cancelled') throw new Conflict('This order is already cancelled.');
      const cohort = await cohorts.get(o.cohortId, tx);
      if (!isAdmin && clock.now().getTime() >= cohort.timeline.startsAt.getTime()) {
        throw new Conflict('The course has started, so this order can no longer be cancelled online. Please contact us.');
      }
      const refundDue = Boolean(o.paymentReference) && o.totalMinor > 0;
      const after = await updateOrder(deps, tx, o.id, { status: 'cancelled', cancelReason: 'cancelled', holdExpiresAt: null, refundState: refundDue ? 'due' : 'none' });
      for (const seat of await seatsOf(tx, o.id)) {
        if (seat.bookingId) await endSeatBooking(deps, tx, seat.bookingId, cohort, actor, `Order ${o.id} was cancelled${note?.trim() ? `: ${note.trim()}` : ''}.`);
      }
      await mailBuyer(deps, tx, after, cohort, 'cancelled', 'Order cancelled', { refundDue, byAdmin: isAdmin && actor.id !== o.buyerId });
      if (HOLDS_PLACE.includes(o.status)) await fillPlaces(deps, tx, cohort);
      await deps.events.emit(tx, 'order.changed', { order: after, cohort, change: 'cancelled' });
      return orderView(tx, o.id);
    },
    { turn: `cohort ${head.cohortId} places` },
  );
}

/**
 * End an unpaid order's hold on its places: its card hold ran out, Checkout expired, or starting Checkout failed
 * ('payment_failed': nothing of the order is left holding anything). The places go to the waitlist. Returns the order
 * as it now is, or null when it was no longer waiting for payment (paid meanwhile, or already ended).
 */
export async function endHold(deps: BookingDeps, id: number, reason: 'expired' | 'payment_failed'): Promise<OrderRow | null> {
  const { database, cohorts } = deps;
  const head = await orderRow(database.db, id);
  return database.transaction(
    async (tx) => {
      const o = await orderRow(tx, id);
      if (o.paymentReference || (o.status !== 'pending_payment' && o.status !== 'waitlisted')) return null;
      const cohort = await cohorts.get(o.cohortId, tx);
      const after = await updateOrder(deps, tx, o.id, { status: 'cancelled', cancelReason: reason, holdExpiresAt: null });
      if (reason === 'expired') await mailBuyer(deps, tx, after, cohort, 'expired', 'Your held places were released');
      if (o.status === 'pending_payment') await fillPlaces(deps, tx, cohort);
      await deps.events.emit(tx, 'order.changed', { order: after, cohort, change: 'cancelled' });
      return after;
    },
    { turn: `cohort ${head.cohortId} places` },
  );
}

/** Card orders whose hold on their places has run out by `now`, unpaid. */
export function lapsedHolds({ database }: BookingDeps, now: Date): Promise<OrderRow[]> {
  return database.db
    .select()
    .from(orders)
    .where(and(eq(orders.status, 'pending_payment'), isNotNull(orders.holdExpiresAt), lte(orders.holdExpiresAt, now)))
    .orderBy(asc(orders.holdExpiresAt));
}

/** Remember the Checkout Session made for an order's held places. */
export async function setCheckoutSession(deps: BookingDeps, id: number, sessionId: string): Promise<void> {
  await deps.database.transaction(async (tx) => {
    await updateOrder(deps, tx, id, { stripeSessionId: sessionId });
  });
}

/**
 * Record money refunded on an order; the refund is complete once the whole total is back. `amountMinor` is what was
 * refunded now (by hand); `{ total }` is everything refunded so far as the payment provider counts it (Stripe's
 * amount_refunded), so a webhook and our own refund call racing each other record the money once.
 */
export async function recordRefund(deps: BookingDeps, id: number, amount: number | { total: number }): Promise<OrderView> {
  const { database, cohorts } = deps;
  return database.transaction(async (tx) => {
    const o = await orderRow(tx, id);
    const amountMinor = typeof amount === 'number' ? amount : amount.total - o.refundedMinor;
    if (typeof amount !== 'number' && amountMinor <= 0) return orderView(tx, o.id);
    if (amountMinor <= 0 || o.refundedMinor + amountMinor > o.totalMinor) throw new Conflict('That is more than the order has left to refund.');
    const refundedMinor = o.refundedMinor + amountMinor;
    const after = await updateOrder(deps, tx, o.id, { refundedMinor, refundState: refundedMinor >= o.totalMinor ? 'refunded' : o.refundState });
    await deps.events.emit(tx, 'order.changed', { order: after, cohort: await cohorts.get(o.cohortId, tx), change: 'refunded', refundedMinor: amountMinor });
    return orderView(tx, o.id);
  });
}

/** An order for its buyer or an admin; to anyone else it does not exist (404). */
export async function orderFor({ database }: BookingDeps, user: User, id: number): Promise<OrderView> {
  const o = await orderRow(database.db, id);
  ownOrder(o, user);
  return orderView(database.db, o);
}

/** A cohort's orders, oldest first (admins). */
export async function ordersForCohort({ database }: BookingDeps, cohortId: number): Promise<OrderView[]> {
  const rows = await database.db.select().from(orders).where(eq(orders.cohortId, cohortId)).orderBy(asc(orders.id));
  return Promise.all(rows.map((o) => orderView(database.db, o)));
}

/** The orders a person bought, newest first. */
export async function ordersForBuyer({ database }: BookingDeps, userId: number): Promise<OrderView[]> {
  const rows = await database.db.select().from(orders).where(eq(orders.buyerId, userId)).orderBy(desc(orders.id));
  return Promise.all(rows.map((o) => orderView(database.db, o)));
}

/** The order a Checkout Session or a payment intent belongs to, or null. */
export async function orderByStripe({ database }: BookingDeps, ref: { sessionId?: string; paymentIntent?: string }): Promise<OrderRow | null> {
  const cond = ref.sessionId ? eq(orders.stripeSessionId, ref.sessionId) : ref.paymentIntent ? eq(orders.stripePaymentIntent, ref.paymentIntent) : null;
  if (!cond) return null;
  const [o] = await database.db.select().from(orders).where(cond).limit(1);
  return o ?? null;
}

/** Card orders with a refund due (cancelled after payment), for the refund retry. */
export function cardRefundsDue({ database }: BookingDeps): Promise<OrderRow[]> {
  return database.db
    .select()
    .from(orders)
    .where(and(eq(orders.payment, 'card'), eq(orders.refundState, 'due'), isNotNull(orders.stripePaymentIntent)))
    .orderBy(asc(orders.id));
}

/** Buyers and admins only: used by routes that act on one order (404 for anyone else). */
export async function orderRowFor({ database }: BookingDeps, user: User, id: number): Promise<OrderRow> {
  const o = await orderRow(database.db, id);
  ownOrder(o, user);
  return o;
}

