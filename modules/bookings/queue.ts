// A cohort's queue of bookings and the steps every transition shares: places held, the waitlist in order, moving up,
// the history row and the email. Every function here runs on the `tx` it is given (or the read connection).
import { and, asc, eq, inArray, isNull, max, sql } from 'drizzle-orm';
import type { Db } from '../../server/db.js';
import { NotFound } from '../../server/errors.js';
import { formatDay } from '../../server/time.js';
import { users } from '../people/schema.js';
import type { Cohort } from '../cohorts/service.js';
import { formatMoney } from '../courses/service.js';
import type { Money } from '../courses/content.js';
import { bookingEvents, bookings, orders, type BookingStatus } from './schema.js';
import { HOLDS_PLACE, type BookingDeps, type BookingRow, type BookingView, type OrderRow } from './model.js';

/** The booking row, or 404. */
export async function row(q: Db, id: number): Promise<BookingRow> {
  const [b] = await q.select().from(bookings).where(eq(bookings.id, id)).limit(1);
  if (!b) throw new NotFound('Booking');
  return b;
}

/** The order row, or 404. */
export async function orderRow(q: Db, id: number): Promise<OrderRow> {
  const [o] = await q.select().from(orders).where(eq(orders.id, id)).limit(1);
  if (!o) throw new NotFound('Order');
  return o;
}

/**
 * Places held in the cohort: single bookings awaiting payment or confirmed, and every order's whole quantity while it
 * holds its places (a seat's own booking is not counted again: its order holds the place).
 */
export async function heldCount(q: Db, cohortId: number): Promise<number> {
  const singles = await q.$count(bookings, and(eq(bookings.cohortId, cohortId), inArray(bookings.status, HOLDS_PLACE), isNull(bookings.orderId)));
  const [o] = await q
    .select({ n: sql<number>`coalesce(sum(${orders.quantity}), 0)` })
    .from(orders)
    .where(and(eq(orders.cohortId, cohortId), inArray(orders.status, HOLDS_PLACE)));
  return singles + Number(o?.n ?? 0);
}

/** One place in the cohort's queue: a single booking, or an order waiting as a whole. */
export type QueueEntry = { booking: BookingRow; order?: undefined; seq: number } | { order: OrderRow; booking?: undefined; seq: number };

/** The cohort's waitlist, first in line first: single bookings and whole orders, in one order (queueSeq). */
export async function waitlist(q: Db, cohortId: number): Promise<QueueEntry[]> {
  const singles = await q
    .select()
    .from(bookings)
    .where(and(eq(bookings.cohortId, cohortId), eq(bookings.status, 'waitlisted'), isNull(bookings.orderId)));
  const whole = await q.select().from(orders).where(and(eq(orders.cohortId, cohortId), eq(orders.status, 'waitlisted')));
  const entries: QueueEntry[] = [...singles.map((b) => ({ booking: b, seq: b.queueSeq })), ...whole.map((o) => ({ order: o, seq: o.queueSeq }))];
  // queueSeq is unique across both within a cohort (nextQueueSeq); ids break ties from before orders existed.
  return entries.sort((a, b) => a.seq - b.seq || (a.booking?.id ?? a.order!.id) - (b.booking?.id ?? b.order!.id));
}

/** The queue number for a booking or order joining (or re-joining) the cohort's queue now: after every other. */
export async function nextQueueSeq(q: Db, cohortId: number): Promise<number> {
  const [r] = await q.select({ m: max(bookings.queueSeq) }).from(bookings).where(eq(bookings.cohortId, cohortId));
  const [o] = await q.select({ m: max(orders.queueSeq) }).from(orders).where(eq(orders.cohortId, cohortId));
  return Math.max(Number(r?.m ?? 0), Number(o?.m ?? 0)) + 1;
}

/** Each waitlisted single booking's and order's 1-based place in the queue. */
export async function queuePositions(q: Db, cohortId: number): Promise<{ bookings: Map<number, number>; orders: Map<number, number> }> {
  const out = { bookings: new Map<number, number>(), orders: new Map<number, number>() };
  (await waitlist(q, cohortId)).forEach((e, i) => (e.booking ? out.bookings.set(e.booking.id, i + 1) : out.orders.set(e.order!.id, i + 1)));
  return out;
}

/** Each waitlisted booking's 1-based place in the queue, by booking id. */
export async function positions(q: Db, cohortId: number): Promise<Map<number, number>> {
  return (await queuePositions(q, cohortId)).bookings;
}

function toView(b: BookingRow, user: { email: string; name: string }, pos: Map<number, number> | undefined): BookingView {
  return {
    id: b.id,
    cohortId: b.cohortId,
    userId: b.userId,
    email: user.email,
    name: user.name,
    kind: b.kind,
    status: b.status,
    price: { amountMinor: b.priceMinor, currency: b.currency as Money['currency'] },
    orderId: b.orderId,
    paymentReference: b.paymentReference,
    paidAt: b.paidAt,
    certificate: b.certificateWanted,
    waitlistPosition: b.status === 'waitlisted' ? (pos?.get(b.id) ?? null) : null,
    refund: b.refundState,
    cancelReason: b.cancelReason ?? null,
    createdAt: b.createdAt,
    updatedAt: b.updatedAt,
  };
}

/** Booking rows with their person as views, with waitlist places looked up for the cohorts that have waitlisted ones. */
export async function viewsOf(q: Db, rows: Array<{ b: BookingRow; email: string; name: string }>): Promise<BookingView[]> {
  const queues = new Map<number, Map<number, number>>();
  for (const { b } of rows) {
    if (b.status === 'waitlisted' && !queues.has(b.cohortId)) queues.set(b.cohortId, await positions(q, b.cohortId));
  }
  return rows.map((r) => toView(r.b, r, queues.get(r.b.cohortId)));
}

/** The booking with its person, as a view (404 when unknown). */
export async function view(q: Db, id: number): Promise<BookingView> {
  const found = await q
    .select({ b: bookings, email: users.email, name: users.name })
    .from(bookings)
    .innerJoin(users, eq(users.id, bookings.userId))
    .where(eq(bookings.id, id))
    .limit(1);
  if (found.length === 0) throw new NotFound('Booking');
  const [v] = await viewsOf(q, found);
  return v;
}

/** One line of the booking's history. */
export async function logEvent(
  { clock }: BookingDeps,
  tx: Db,
  b: { id: number },
  actorId: number | null,
  action: string,
  from: BookingStatus | null,
  to: BookingStatus,
  note?: string | null,
): Promise<void> {
  await tx.insert(bookingEvents).values({ bookingId: b.id, actorId, action, fromStatus: from, toStatus: to, note: note ?? null, at: clock.now() });
}

/** Change a booking (its updatedAt with it) and return the row as it now is. */
export async function update({ clock }: BookingDeps, tx: Db, id: number, patch: Partial<BookingRow>): Promise<BookingRow> {
  const [b] = await tx.update(bookings).set({ ...patch, updatedAt: clock.now() }).where(eq(bookings.id, id)).returning();
  return b;
}

/** Queue a booking email, with the facts every one shows in the learner's zone. */
export async function mail(
  deps: BookingDeps,
  tx: Db,
  b: BookingRow,
  cohort: Cohort,
  template: string,
  subject: string,
  extra: Record<string, unknown> = {},
): Promise<void> {
  const user = await deps.people.get(b.userId, tx);
  const zone = user.timezone ?? cohort.timezone;
  const data = {
    name: user.name || user.email,
    bookingId: b.id,
    courseTitle: cohort.course.title,
    starts: formatDay(cohort.timeline.startsAt, zone),
    ends: formatDay(cohort.timeline.endsAt, zone),
    zone,
    price: formatMoney({ amountMinor: b.priceMinor, currency: b.currency }),
    free: b.priceMinor === 0,
    member: b.kind === 'member',
    reference: b.paymentReference,
    certificate: b.certificateWanted,
    myUrl: `${deps.baseUrl}/my`,
    bookUrl: `${deps.baseUrl}/cohorts/${cohort.id}/book`,
  };
  await deps.mailer.enqueue(tx, { to: user.email, subject: `${subject}: ${cohort.course.title}`, template: `bookings-${template}`, data: { ...data, ...extra } });
}

/** Change an order (its updatedAt with it) and return the row as it now is. */
export async function updateOrder({ clock }: BookingDeps, tx: Db, id: number, patch: Partial<OrderRow>): Promise<OrderRow> {
  const [o] = await tx.update(orders).set({ ...patch, updatedAt: clock.now() }).where(eq(orders.id, id)).returning();
  return o;
}

/** Queue an email to an order's buyer about the order (template bookings-order, `what` says which message). */
export async function mailBuyer(
  deps: BookingDeps,
  tx: Db,
  o: OrderRow,
  cohort: Cohort,
  what: 'received' | 'waitlisted' | 'moved-up' | 'paid' | 'cancelled' | 'expired',
  subject: string,
  extra: Record<string, unknown> = {},
): Promise<void> {
  const buyer = await deps.people.get(o.buyerId, tx);
  const zone = buyer.timezone ?? cohort.timezone;
  await deps.mailer.enqueue(tx, {
    to: o.buyerEmail,
    subject: `${subject}: ${cohort.course.title}`,
    template: 'bookings-order',
    data: {
      name: o.buyerName || o.buyerEmail,
      orderId: o.id,
      courseTitle: cohort.course.title,
      starts: formatDay(cohort.timeline.startsAt, zone),
      ends: formatDay(cohort.timeline.endsAt, zone),
      zone,
      quantity: o.quantity,
      places: o.quantity === 1 ? '1 place' : `${o.quantity} places`,
      total: formatMoney({ amountMinor: o.totalMinor, currency: o.currency }),
      card: o.payment === 'card',
      orderUrl: `${deps.baseUrl}/orders/${o.id}`,
      [what.replace('-', '')]: true,
      ...extra,
    },
  });
}
