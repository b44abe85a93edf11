// Reading bookings: one booking and its history, a cohort's or a learner's list, counts, what needs an admin, CSV.
import { and, asc, desc, eq, sql } from 'drizzle-orm';
import { Forbidden } from '../../server/errors.js';
import type { User } from '../people/service.js';
import { users } from '../people/schema.js';
import type { Cohort } from '../cohorts/service.js';
import { toCsv } from './csv.js';
import { bookingEvents, bookings, type BookingKind, type BookingStatus } from './schema.js';
import { heldCount, view, viewsOf } from './queue.js';
import type { BookingDeps, BookingEventView, BookingView } from './model.js';

/** One booking (404 when unknown). */
export function get({ database }: BookingDeps, id: number): Promise<BookingView> {
  return view(database.db, id);
}

/** A booking for someone allowed to see it: an admin, or the learner it belongs to (403 otherwise). */
export async function getFor(deps: BookingDeps, user: User, id: number): Promise<BookingView> {
  const b = await view(deps.database.db, id);
  if (user.role !== 'admin' && b.userId !== user.id) throw new Forbidden('This booking is not yours.');
  return b;
}

/** Who did what to a booking, oldest first. */
export async function history({ database }: BookingDeps, id: number): Promise<BookingEventView[]> {
  const rows = await database.db
    .select({ e: bookingEvents, by: users.email })
    .from(bookingEvents)
    .leftJoin(users, eq(users.id, bookingEvents.actorId))
    .where(eq(bookingEvents.bookingId, id))
    .orderBy(asc(bookingEvents.id));
  return rows.map(({ e, by }) => ({ at: e.at, action: e.action, by, from: e.fromStatus, to: e.toStatus as string, note: e.note }));
}

/** A cohort's bookings in booking order, optionally filtered by status and kind. */
export async function listForCohort({ database }: BookingDeps, cohortId: number, filter: { status?: BookingStatus; kind?: BookingKind } = {}): Promise<BookingView[]> {
  const conds = [eq(bookings.cohortId, cohortId)];
  if (filter.status) conds.push(eq(bookings.status, filter.status));
  if (filter.kind) conds.push(eq(bookings.kind, filter.kind));
  const rows = await database.db
    .select({ b: bookings, email: users.email, name: users.name })
    .from(bookings)
    .innerJoin(users, eq(users.id, bookings.userId))
    .where(and(...conds))
    .orderBy(asc(bookings.queueSeq), asc(bookings.id));
  return viewsOf(database.db, rows);
}

/** A learner's own bookings, newest first. */
export async function listForUser({ database }: BookingDeps, userId: number): Promise<BookingView[]> {
  const rows = await database.db
    .select({ b: bookings, email: users.email, name: users.name })
    .from(bookings)
    .innerJoin(users, eq(users.id, bookings.userId))
    .where(eq(bookings.userId, userId))
    .orderBy(desc(bookings.createdAt), desc(bookings.id));
  return viewsOf(database.db, rows);
}

export type BookingCounts = Record<BookingStatus, number> & { held: number; placesLeft: number; capacity: number };

/** Counts by status, places held and places left. */
export async function counts({ database }: BookingDeps, cohort: Cohort): Promise<BookingCounts> {
  const rows = await database.db
    .select({ status: bookings.status, n: sql<number>`count(*)` })
    .from(bookings)
    .where(eq(bookings.cohortId, cohort.id))
    .groupBy(bookings.status);
  const by = { pending_payment: 0, confirmed: 0, waitlisted: 0, cancelled: 0 } as Record<BookingStatus, number>;
  for (const r of rows) by[r.status] = Number(r.n);
  // Orders hold their whole quantity, whoever sits in their seats (a seat's booking is counted by status above too).
  const held = await heldCount(database.db, cohort.id);
  return { ...by, held, capacity: cohort.capacity, placesLeft: Math.max(0, cohort.capacity - held) };
}

/** Places still free in a cohort (0 when full). */
export async function placesLeft({ database }: BookingDeps, cohort: Cohort): Promise<number> {
  return Math.max(0, cohort.capacity - (await heldCount(database.db, cohort.id)));
}

/** Bookings awaiting payment and refunds due, per cohort (the admin dashboard). */
export async function needingAttention({ database }: BookingDeps): Promise<Array<{ cohortId: number; pending: number; refundsDue: number }>> {
  const rows = await database.db
    .select({
      cohortId: bookings.cohortId,
      pending: sql<number>`sum(case when ${bookings.status} = 'pending_payment' then 1 else 0 end)`,
      refundsDue: sql<number>`sum(case when ${bookings.refundState} = 'due' then 1 else 0 end)`,
    })
    .from(bookings)
    .where(sql`${bookings.status} = 'pending_payment' or ${bookings.refundState} = 'due'`)
    .groupBy(bookings.cohortId)
    .orderBy(asc(bookings.cohortId));
  return rows.map((r) => ({ cohortId: r.cohortId, pending: Number(r.pending), refundsDue: Number(r.refundsDue) }));
}

/** The cohort's bookings as CSV (kind, status, price, payment reference and more). */
export async function csv(deps: BookingDeps, cohort: Cohort): Promise<string> {
  const rows = await listForCohort(deps, cohort.id);
  return toCsv([
    ['booking_id', 'booked_at', 'name', 'email', 'kind', 'status', 'price', 'currency', 'payment_reference', 'paid_at', 'certificate', 'waitlist_position', 'refund'],
    ...rows.map((b) => [
      b.id,
      b.createdAt.toISOString(),
      b.name,
      b.email,
      b.kind,
      b.status,
      (b.price.amountMinor / 100).toFixed(2),
      b.price.currency,
      b.paymentReference,
      b.paidAt?.toISOString() ?? '',
      b.certificate ? 'yes' : 'no',
      b.waitlistPosition,
      b.refund,
    ]),
  ]);
}
