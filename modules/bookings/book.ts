// Booking a place: the attempt counted, the checks, a place or the waitlist, the account, enrolment and the email; a
// duplicate answered to the public as a fresh booking would be.
import { and, eq, inArray, isNotNull, lt, max } from 'drizzle-orm';
import { isUniqueViolation, type Db } from '../../server/db.js';
import { Conflict, DomainRule } from '../../server/errors.js';
import { formatDay } from '../../server/time.js';
import { normaliseEmail, type User } from '../people/service.js';
import type { Cohort } from '../cohorts/service.js';
import { formatMoney } from '../courses/service.js';
import { bookings, type BookingKind } from './schema.js';
import { memberMatch } from './members.js';
import { countAttempt, forgetAttempts } from './attempts.js';
import { logEvent, mail, nextQueueSeq, positions, view, waitlist } from './queue.js';
import { fillPlaces, placeFor } from './places.js';
import { ACTIVE, BOOKING_ADDRESS_KEPT_HOURS, STATUS_LABELS, type BookingDeps, type BookingView } from './model.js';

export interface BookInput {
  cohortId: number;
  email: string;
  name: string;
  kind: BookingKind;
  certificate?: boolean;
  actor: User | null;
  /** The client's address: attempts by anyone but an admin count toward BOOKINGS_PER_IP_PER_HOUR (see attempts.ts). */
  ip?: string;
}

/** A refusal with a 4xx answer (bad input, unknown cohort, not a member, closed, a duplicate told): the attempt still counts. */
function isRefusal(err: unknown): boolean {
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500;
}

/**
 * What a fresh booking made now would answer, for a caller who must not learn that the address already holds a
 * place: the status, place in the queue and price a new booking would get, the name and choices sent, and the id the
 * next booking will take. Nothing is written.
 */
async function freshAnswer(
  tx: Db,
  cohort: Cohort,
  sent: { email: string; name: string; kind: BookingKind; certificate: boolean; priceMinor: number },
  userId: number,
  now: Date,
): Promise<BookingView> {
  const status = await placeFor(tx, cohort, sent.kind, false);
  const [last] = await tx.select({ m: max(bookings.id) }).from(bookings);
  return {
    id: Number(last?.m ?? 0) + 1,
    cohortId: cohort.id,
    userId,
    email: sent.email,
    name: sent.name,
    kind: sent.kind,
    status,
    price: { amountMinor: sent.priceMinor, currency: cohort.course.price.currency },
    paymentReference: null,
    paidAt: null,
    certificate: sent.certificate,
    waitlistPosition: status === 'waitlisted' ? (await waitlist(tx, cohort.id)).length + 1 : null,
    refund: 'none',
    cancelReason: null,
    orderId: null,
    createdAt: now,
    updatedAt: now,
  };
}

/** Tell an address's owner that someone tried to book a cohort they already hold a place in (once a day per cohort). */
async function mailAlreadyBooked({ mailer, baseUrl }: BookingDeps, tx: Db, cohort: Cohort, user: User, held: string, now: Date): Promise<void> {
  const zone = user.timezone ?? cohort.timezone;
  await mailer.enqueue(tx, {
    to: user.email,
    subject: `You already have a place: ${cohort.course.title}`,
    template: 'bookings-already-booked',
    data: {
      name: user.name || user.email,
      courseTitle: cohort.course.title,
      starts: formatDay(cohort.timeline.startsAt, zone),
      ends: formatDay(cohort.timeline.endsAt, zone),
      zone,
      held,
      myUrl: `${baseUrl}/my`,
    },
    dedupeKey: `booking-duplicate:${cohort.id}:${user.id}:${now.toISOString().slice(0, 10)}`,
  });
}

/**
 * Book a place. Anyone until the cohort's endsAt (then 409); an admin at any time. Members must be on the list
 * (422). The learner's account is created if new; an existing account is never changed.
 *
 * Every attempt by anyone but an admin counts toward BOOKINGS_PER_IP_PER_HOUR and
 * BOOKING_ATTEMPTS_PER_ADDRESS_PER_HOUR (429), refused or not: it is counted first, before the cohort or the address
 * is looked at, and the booking itself runs in a savepoint of the same write transaction, so a refusal rolls back what
 * the booking wrote and keeps the attempt. Transactions run one at a time, so concurrent bookings for the last place
 * queue and exactly one wins, and twenty-one requests from one address at once cannot all see a count of twenty.
 *
 * Admins, and signed-in people booking themselves, get 409 for an address that already holds a place. Anyone else
 * (the public form and API) gets an answer made only of what they sent: the name sent, never the stored one, and for
 * a duplicate the answer a fresh booking would get (201), with nothing changed and the address's owner emailed that
 * they already hold a place. So the answer does not tell whether an address has an account or a booking.
 */
export async function book(deps: BookingDeps, input: BookInput): Promise<BookingView> {
  const { database, clock, people, cohorts } = deps;
  const isAdmin = input.actor?.role === 'admin';
  let email = input.email;
  const name = input.name.trim().slice(0, 200);
  const certificate = input.certificate ?? true;
  const ip = isAdmin ? null : (input.ip ?? null);
  const outcome = await database.transaction(async (tx): Promise<{ booked: BookingView } | { refused: unknown }> => {
    const now = clock.now();
    // First, before the cohort or the address is looked at: a refusal counts as much as a booking.
    if (ip !== null) await countAttempt(tx, ip, input.email, now);
    try {
      const booked = await database.transaction(async (sp) => {
        // Read here, not before: a capacity change committed while this request waited for its turn counts.
        const cohort = await cohorts.get(input.cohortId, sp);
        if (!isAdmin && now.getTime() >= cohort.timeline.endsAt.getTime()) {
          throw new Conflict(`Bookings for this cohort closed when it ended on ${formatDay(cohort.timeline.endsAt, cohort.timezone)}.`);
        }
        email = normaliseEmail(input.email);
        const reveals = isAdmin || input.actor?.email === email;
        const standalonePrice = cohort.course.price;
        if (input.kind === 'member' && !(await memberMatch(sp, email))) {
          throw new DomainRule(
            `${email} is not on the member list, so it cannot be booked as a free member place. Book as standalone instead (${formatMoney(standalonePrice)}, paid by invoice or purchase order), or ask your organisation to have its domain added to the member list.`,
          );
        }
        const priceMinor = input.kind === 'member' ? 0 : standalonePrice.amountMinor;
        const user = await people.ensure(sp, email, name || undefined);
        const [active] = await sp
          .select({ id: bookings.id, status: bookings.status })
          .from(bookings)
          .where(and(eq(bookings.cohortId, cohort.id), eq(bookings.userId, user.id), inArray(bookings.status, ACTIVE)))
          .limit(1);
        const enrolled = !active && (await cohorts.roleIn(user, cohort.id, sp)) === 'learner';
        if (active || enrolled) {
          const held = active ? STATUS_LABELS[active.status].toLowerCase() : 'enrolled';
          if (reveals) throw new Conflict(active ? `${email} already has a booking for this cohort (${held}).` : `${email} is already enrolled in this cohort.`);
          await mailAlreadyBooked(deps, sp, cohort, user, held, now);
          return freshAnswer(sp, cohort, { email, name, kind: input.kind, certificate, priceMinor }, user.id, now);
        }
        await fillPlaces(deps, sp, cohort);
        const status = await placeFor(sp, cohort, input.kind, false);
        const [b] = await sp
          .insert(bookings)
          .values({
            cohortId: cohort.id,
            userId: user.id,
            kind: input.kind,
            status,
            priceMinor,
            currency: cohort.course.price.currency,
            certificateWanted: certificate,
            queueSeq: await nextQueueSeq(sp, cohort.id),
            bookedBy: input.actor?.id ?? null,
            bookedFromIp: ip,
            createdAt: now,
            updatedAt: now,
          })
          .returning();
        if (status === 'confirmed') await cohorts.enrol(sp, cohort.id, user.id, certificate);
        const by = input.actor && input.actor.id !== user.id ? `Booked by ${input.actor.email}.` : null;
        await logEvent(deps, sp, b, input.actor?.id ?? null, 'booked', null, status, by);
        if (status === 'confirmed') await mail(deps, sp, b, cohort, 'member-confirmed', 'Your place is confirmed');
        else if (status === 'pending_payment') await mail(deps, sp, b, cohort, 'received', 'Booking received');
        else await mail(deps, sp, b, cohort, 'waitlisted', 'You are on the waitlist', { position: (await positions(sp, cohort.id)).get(b.id) });
        const made = await view(sp, b.id);
        // The account may be someone else's, with their own name: the caller sees what they sent.
        return reveals ? made : { ...made, name };
      });
      return { booked };
    } catch (caught) {
      const err = isUniqueViolation(caught) ? new Conflict(`${email} already has a booking for this cohort.`) : caught;
      // Refused: the savepoint took back what the booking wrote; the attempt counted above is kept.
      if (ip !== null && isRefusal(err)) return { refused: err };
      throw err;
    }
    // Bookings for one cohort take turns: a class booking at once queues for the places instead of colliding.
  }, { turn: `cohort ${input.cohortId} places` });
  if ('refused' in outcome) throw outcome.refused;
  return outcome.booked;
}

/**
 * Clear the client address of bookings, and delete the booking attempts, made more than BOOKING_ADDRESS_KEPT_HOURS
 * ago (a scheduled job); returns how many rows.
 */
export async function forgetAddresses({ database }: BookingDeps, now: Date): Promise<number> {
  const cutoff = new Date(now.getTime() - BOOKING_ADDRESS_KEPT_HOURS * 3_600_000);
  return database.transaction(async (tx) => {
    const cleared = await tx
      .update(bookings)
      .set({ bookedFromIp: null })
      .where(and(isNotNull(bookings.bookedFromIp), lt(bookings.createdAt, cutoff)))
      .returning({ id: bookings.id });
    return cleared.length + (await forgetAttempts(tx, cutoff));
  });
}
