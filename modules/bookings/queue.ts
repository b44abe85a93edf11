// A cohort's queue of bookings and the steps every transition shares: places held, the waitlist in order, moving up,
// the history row and the email. Every function here runs on the `tx` it is given (or the read connection).
import { and, asc, eq, inArray, max } from 'drizzle-orm';
import type { Db } from '../../server/db.js';
import { NotFound } from '../../server/errors.js';
import { formatDay } from '../../server/time.js';
import { users } from '../people/schema.js';
import type { Cohort } from '../cohorts/service.js';
import { formatMoney } from '../courses/service.js';
import { bookingEvents, bookings, type BookingKind, type BookingStatus } from './schema.js';
import { HOLDS_PLACE, type BookingDeps, type BookingRow, type BookingView } from './model.js';

/** The booking row, or 404. */
export async function row(q: Db, id: number): Promise<BookingRow> {
  const [b] = await q.select().from(bookings).where(eq(bookings.id, id)).limit(1);
  if (!b) throw new NotFound('Booking');
  return b;
}

/** Places held in the cohort (awaiting payment or confirmed). */
export async function heldCount(q: Db, cohortId: number): Promise<number> {
  return q.$count(bookings, and(eq(bookings.cohortId, cohortId), inArray(bookings.status, HOLDS_PLACE)));
}

/** The cohort's waitlisted bookings, first in line first. */
export function waitlist(q: Db, cohortId: number): Promise<BookingRow[]> {
  return q
    .select()
    .from(bookings)
    .where(and(eq(bookings.cohortId, cohortId), eq(bookings.status, 'waitlisted')))
    .orderBy(asc(bookings.queueSeq), asc(bookings.id));
}

/** The queue number for a booking joining (or re-joining) the cohort's queue now: after every other. */
export async function nextQueueSeq(q: Db, cohortId: number): Promise<number> {
  const [r] = await q.select({ m: max(bookings.queueSeq) }).from(bookings).where(eq(bookings.cohortId, cohortId));
  return Number(r?.m ?? 0) + 1;
}

/** Each waitlisted booking's 1-based place in the queue, by booking id. */
export async function positions(q: Db, cohortId: number): Promise<Map<number, number>> {
  const waiting = await q
    .select({ id: bookings.id })
    .from(bookings)
    .where(and(eq(bookings.cohortId, cohortId), eq(bookings.status, 'waitlisted')))
    .orderBy(asc(bookings.queueSeq), asc(bookings.id));
  return new Map(waiting.map((b, i) => [b.id, i + 1]));
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
    price: { amountMinor: b.priceMinor, currency: 'GBP' },
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

/** Where a booking lands now: a place if one is free and nobody queues ahead, else the waitlist. */
export async function placeFor(tx: Db, cohort: Cohort, kind: BookingKind, paid: boolean): Promise<BookingStatus> {
  const free = (await heldCount(tx, cohort.id)) < cohort.capacity && (await waitlist(tx, cohort.id)).length === 0;
  if (!free) return 'waitlisted';
  return kind === 'member' || paid ? 'confirmed' : 'pending_payment';
}

/** Move waitlisted bookings up, in order, while places are free (not after the cohort has ended). */
export async function fillPlaces(deps: BookingDeps, tx: Db, cohort: Cohort): Promise<void> {
  if (deps.clock.now().getTime() >= cohort.timeline.endsAt.getTime()) return;
  let held = await heldCount(tx, cohort.id);
  for (const b of await waitlist(tx, cohort.id)) {
    if (held >= cohort.capacity) break;
    const to: BookingStatus = b.kind === 'member' || b.paymentReference ? 'confirmed' : 'pending_payment';
    const moved = await update(deps, tx, b.id, { status: to });
    if (to === 'confirmed') await deps.cohorts.enrol(tx, cohort.id, b.userId, b.certificateWanted);
    await logEvent(deps, tx, b, null, 'moved_up', 'waitlisted', to, 'A place became free.');
    await mail(deps, tx, moved, cohort, 'moved-up', 'A place is yours', { confirmed: to === 'confirmed', pending: to === 'pending_payment' });
    held++;
  }
}
