// An order's seats: assigning one to a colleague (by the buyer, an admin or a claim link), reassigning it before the
// start, and booking the assigned seats once the order is paid.
import { and, asc, eq, inArray, isNull, ne, sql } from 'drizzle-orm';
import type { Db } from '../../server/db.js';
import { Conflict, NotFound } from '../../server/errors.js';
import { hashToken, newToken } from '../../server/crypto.js';
import { normaliseEmail, type User } from '../people/service.js';
import type { Cohort } from '../cohorts/service.js';
import { bookings, orders, orderSeats } from './schema.js';
import { logEvent, mail, orderRow, update } from './queue.js';
import { ACTIVE, type BookingDeps, type OrderRow, type SeatRow, type SeatView } from './model.js';

export function seatView(s: SeatRow): SeatView {
  return { id: s.id, seatNo: s.seatNo, email: s.email, name: s.name, status: s.bookingId ? 'booked' : s.email ? 'assigned' : 'open', bookingId: s.bookingId };
}

/** An order's seats, in seat order. */
export function seatsOf(q: Db, orderId: number): Promise<SeatRow[]> {
  return q.select().from(orderSeats).where(eq(orderSeats.orderId, orderId)).orderBy(asc(orderSeats.seatNo));
}

/**
 * Refuse an address that already has a place in the cohort: an active booking, an enrolment as a learner, or a seat
 * of another live order (409, naming the address: the buyer assigns their own colleagues).
 */
export async function checkFree(deps: BookingDeps, tx: Db, cohort: Cohort, email: string, exceptSeat: number | null): Promise<void> {
  const [seat] = await tx
    .select({ id: orderSeats.id, orderId: orderSeats.orderId })
    .from(orderSeats)
    .innerJoin(orders, eq(orders.id, orderSeats.orderId))
    .where(and(eq(orders.cohortId, cohort.id), ne(orders.status, 'cancelled'), eq(orderSeats.email, email), exceptSeat === null ? sql`true` : ne(orderSeats.id, exceptSeat)))
    .limit(1);
  if (seat) throw new Conflict(`${email} already has a seat in this cohort (order ${seat.orderId}).`);
  const user = await deps.people.findByEmail(email, tx);
  if (!user) return;
  const [active] = await tx
    .select({ id: bookings.id })
    .from(bookings)
    .where(and(eq(bookings.cohortId, cohort.id), eq(bookings.userId, user.id), inArray(bookings.status, ACTIVE)))
    .limit(1);
  if (active || (await deps.cohorts.roleIn(user, cohort.id, tx)) === 'learner') throw new Conflict(`${email} is already booked in this cohort.`);
}

/**
 * Book every assigned seat of a paid order that has no booking yet: the person's account (made if new), a confirmed
 * booking linked to the order, the enrolment and the email saying who booked it. A seat whose person has meanwhile
 * booked the cohort themself is opened again for the buyer to give to someone else.
 */
export async function bookSeats(deps: BookingDeps, tx: Db, o: OrderRow, cohort: Cohort): Promise<void> {
  const now = deps.clock.now();
  for (const seat of await seatsOf(tx, o.id)) {
    if (!seat.email || seat.bookingId) continue;
    const user = await deps.people.ensure(tx, seat.email, seat.name ?? undefined);
    const [active] = await tx
      .select({ id: bookings.id })
      .from(bookings)
      .where(and(eq(bookings.cohortId, cohort.id), eq(bookings.userId, user.id), inArray(bookings.status, ACTIVE)))
      .limit(1);
    if (active || (await deps.cohorts.roleIn(user, cohort.id, tx)) === 'learner') {
      await tx.update(orderSeats).set({ email: null, name: null, assignedAt: null }).where(eq(orderSeats.id, seat.id));
      continue;
    }
    const [b] = await tx
      .insert(bookings)
      .values({
        cohortId: cohort.id,
        userId: user.id,
        kind: 'standalone',
        status: 'confirmed',
        // The price was paid on the order; the seat's booking refunds nothing itself.
        priceMinor: o.unitMinor,
        currency: o.currency,
        certificateWanted: o.certificateWanted,
        queueSeq: o.queueSeq,
        orderId: o.id,
        bookedBy: o.buyerId,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    await tx.update(orderSeats).set({ bookingId: b.id }).where(eq(orderSeats.id, seat.id));
    await deps.cohorts.enrol(tx, cohort.id, user.id, o.certificateWanted);
    await logEvent(deps, tx, b, o.buyerId, 'booked', null, 'confirmed', `Seat ${seat.seatNo} of order ${o.id}, booked by ${o.buyerEmail}.`);
    await mail(deps, tx, b, cohort, 'seat-confirmed', 'Your place is confirmed', { buyerName: o.buyerName || o.buyerEmail, organisation: o.organisation });
  }
}

/** Only the buyer and admins may act on an order; to anyone else it does not exist (404, as for a reader). */
export function ownOrder(o: OrderRow, actor: User): void {
  if (actor.role !== 'admin' && actor.id !== o.buyerId) throw new NotFound('Order');
}

/** End a seat's booking (the seat goes to someone else, or its order is cancelled): cancelled, withdrawn, its holder told. */
export async function endSeatBooking(deps: BookingDeps, tx: Db, bookingId: number, cohort: Cohort, actor: User, why?: string): Promise<void> {
  const [b] = await tx.select().from(bookings).where(eq(bookings.id, bookingId)).limit(1);
  if (!b || b.status === 'cancelled') return;
  const done = await update(deps, tx, b.id, { status: 'cancelled', cancelReason: 'cancelled' });
  if (b.status === 'confirmed') await deps.cohorts.withdraw(tx, cohort.id, b.userId);
  await logEvent(deps, tx, b, actor.id, why ? 'cancelled' : 'seat_reassigned', b.status, 'cancelled', why ?? `The seat was given to someone else by ${actor.email}.`);
  await mail(deps, tx, done, cohort, 'cancelled', 'Booking cancelled', { refundDue: false, released: false, byAdmin: true });
}

export interface SeatInput {
  email: string;
  name: string;
}

/**
 * Put a person in a seat (the buyer or an admin). An open seat may be given until the cohort ends; a seat already
 * given may be given to someone else until the cohort starts (an admin at any time), which cancels the first
 * person's booking. 409 when the seat already holds that person, or the person already has a place in the cohort.
 */
export async function assignSeat(deps: BookingDeps, orderId: number, seatId: number, input: SeatInput, actor: User): Promise<SeatView> {
  const { database, clock, cohorts } = deps;
  const head = await orderRow(database.db, orderId);
  return database.transaction(
    async (tx) => {
      const o = await orderRow(tx, orderId);
      ownOrder(o, actor);
      const [seat] = await tx.select().from(orderSeats).where(and(eq(orderSeats.id, seatId), eq(orderSeats.orderId, o.id))).limit(1);
      if (!seat) throw new NotFound('Seat');
      return giveSeat(deps, tx, o, seat, input, actor.role === 'admin', actor, clock.now(), await cohorts.get(o.cohortId, tx));
    },
    { turn: `cohort ${head.cohortId} places` },
  );
}

async function giveSeat(deps: BookingDeps, tx: Db, o: OrderRow, seat: SeatRow, input: SeatInput, isAdmin: boolean, actor: User | null, now: Date, cohort: Cohort): Promise<SeatView> {
  if (o.status === 'cancelled') throw new Conflict('This order is cancelled; its seats cannot be given.');
  if (now.getTime() >= cohort.timeline.endsAt.getTime() && !isAdmin) throw new Conflict('This cohort has ended.');
  const email = normaliseEmail(input.email);
  const name = input.name.trim().slice(0, 200);
  if (seat.email === email) throw new Conflict(`Seat ${seat.seatNo} is already assigned to ${email}.`);
  if (seat.email && !isAdmin && now.getTime() >= cohort.timeline.startsAt.getTime()) {
    throw new Conflict('The course has started, so a seat can no longer be given to someone else online. Please contact us.');
  }
  await checkFree(deps, tx, cohort, email, seat.id);
  if (seat.bookingId && actor) await endSeatBooking(deps, tx, seat.bookingId, cohort, actor);
  const [given] = await tx.update(orderSeats).set({ email, name, bookingId: null, assignedAt: now }).where(eq(orderSeats.id, seat.id)).returning();
  if (o.status === 'confirmed') {
    await bookSeats(deps, tx, o, cohort);
    const [after] = await tx.select().from(orderSeats).where(eq(orderSeats.id, seat.id));
    return seatView(after);
  }
  return seatView(given);
}

/**
 * Make (or replace) the order's claim link: whoever opens it may take an open seat in their own name. Returns the
 * secret for the URL; only its hash is kept, so a new link stops the old one.
 */
export async function newClaimLink(deps: BookingDeps, orderId: number, actor: User): Promise<string> {
  return deps.database.transaction(async (tx) => {
    const o = await orderRow(tx, orderId);
    ownOrder(o, actor);
    if (o.status === 'cancelled') throw new Conflict('This order is cancelled.');
    const token = newToken();
    await tx.update(orders).set({ claimTokenHash: hashToken(token), updatedAt: deps.clock.now() }).where(eq(orders.id, o.id));
    return token;
  });
}

/** The order a claim link belongs to, or 404. */
export async function orderForClaim(q: Db, token: string): Promise<OrderRow> {
  const [o] = await q.select().from(orders).where(eq(orders.claimTokenHash, hashToken(token))).limit(1);
  if (!o || o.status === 'cancelled') throw new NotFound('Claim link');
  return o;
}

/** Take the first open seat of the order a claim link belongs to (409 when every seat is taken). */
export async function claimSeat(deps: BookingDeps, token: string, input: SeatInput): Promise<{ order: OrderRow; seat: SeatView }> {
  const { database, clock, cohorts } = deps;
  const head = await orderForClaim(database.db, token);
  return database.transaction(
    async (tx) => {
      const o = await orderForClaim(tx, token);
      const [open] = await tx
        .select()
        .from(orderSeats)
        .where(and(eq(orderSeats.orderId, o.id), isNull(orderSeats.email)))
        .orderBy(asc(orderSeats.seatNo))
        .limit(1);
      if (!open) throw new Conflict('Every seat of this order has been taken. Ask the person who booked it.');
      return { order: o, seat: await giveSeat(deps, tx, o, open, input, false, null, clock.now(), await cohorts.get(o.cohortId, tx)) };
    },
    { turn: `cohort ${head.cohortId} places` },
  );
}

/** A seat's booking was cancelled: the seat is open again for the buyer (the order keeps the place it paid for). */
export async function reopenSeatOf(tx: Db, bookingId: number): Promise<void> {
  await tx.update(orderSeats).set({ email: null, name: null, bookingId: null, assignedAt: null }).where(eq(orderSeats.bookingId, bookingId));
}
