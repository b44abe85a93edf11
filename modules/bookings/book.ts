// Booking a place: the checks, the per-address limit, a place or the waitlist, the account, enrolment and the email.
import { and, eq, gt, inArray, isNotNull, lt, sql } from 'drizzle-orm';
import { isUniqueViolation } from '../../server/db.js';
import { Conflict, DomainRule, TooManyRequests } from '../../server/errors.js';
import { formatDay } from '../../server/time.js';
import { normaliseEmail, type User } from '../people/service.js';
import { formatMoney } from '../courses/service.js';
import { bookings, type BookingKind } from './schema.js';
import { memberMatch } from './members.js';
import { fillPlaces, logEvent, mail, nextQueueSeq, placeFor, positions, view } from './queue.js';
import {
  ACTIVE,
  BOOKING_ADDRESS_KEPT_HOURS,
  BOOKINGS_PER_IP_PER_HOUR,
  STATUS_LABELS,
  type BookingDeps,
  type BookingView,
} from './model.js';

export interface BookInput {
  cohortId: number;
  email: string;
  name: string;
  kind: BookingKind;
  certificate?: boolean;
  actor: User | null;
  /** The client's address: bookings by anyone but an admin count toward BOOKINGS_PER_IP_PER_HOUR. */
  ip?: string;
}

/**
 * Book a place. Anyone until the cohort's endsAt (then 409); an admin at any time. Members must be on the list
 * (422). The learner's account is created if new. Every check, the count toward the per-address limit (429) and the
 * insert run in one write transaction: transactions run one at a time, so concurrent bookings for the last place
 * queue and exactly one wins, and twenty-one requests from one address at once cannot all see a count of twenty.
 */
export async function book(deps: BookingDeps, input: BookInput): Promise<BookingView> {
  const { database, clock, people, cohorts } = deps;
  const isAdmin = input.actor?.role === 'admin';
  let email = input.email;
  const name = input.name.trim().slice(0, 200);
  const certificate = input.certificate ?? true;
  const ip = isAdmin ? null : (input.ip ?? null);
  try {
    return await database.transaction(async (tx) => {
      const now = clock.now();
      // Read here, not before: a capacity change committed while this request waited for its turn counts.
      const cohort = await cohorts.get(input.cohortId, tx);
      if (!isAdmin && now.getTime() >= cohort.timeline.endsAt.getTime()) {
        throw new Conflict(`Bookings for this cohort closed when it ended on ${formatDay(cohort.timeline.endsAt, cohort.timezone)}.`);
      }
      email = normaliseEmail(input.email);
      const standalonePrice = cohort.course.price;
      if (input.kind === 'member' && !(await memberMatch(tx, email))) {
        throw new DomainRule(
          `${email} is not on the member list, so it cannot be booked as a free member place. Book as standalone instead (${formatMoney(standalonePrice)}, paid by invoice or purchase order), or ask your organisation to have its domain added to the member list.`,
        );
      }
      if (ip !== null) {
        const since = new Date(now.getTime() - 3_600_000);
        const [recent] = await tx
          .select({ n: sql<number>`count(*)` })
          .from(bookings)
          .where(and(eq(bookings.bookedFromIp, ip), gt(bookings.createdAt, since)));
        if (Number(recent?.n ?? 0) >= BOOKINGS_PER_IP_PER_HOUR) {
          throw new TooManyRequests(`Too many bookings from your network in the last hour (${BOOKINGS_PER_IP_PER_HOUR}). Try again later, or ask us to book a group for you.`);
        }
      }
      const user = await people.ensure(tx, email, name || undefined);
      const [active] = await tx
        .select({ id: bookings.id, status: bookings.status })
        .from(bookings)
        .where(and(eq(bookings.cohortId, cohort.id), eq(bookings.userId, user.id), inArray(bookings.status, ACTIVE)))
        .limit(1);
      if (active) throw new Conflict(`${email} already has a booking for this cohort (${STATUS_LABELS[active.status].toLowerCase()}).`);
      if ((await cohorts.roleIn(user, cohort.id, tx)) === 'learner') throw new Conflict(`${email} is already enrolled in this cohort.`);
      await fillPlaces(deps, tx, cohort);
      const status = await placeFor(tx, cohort, input.kind, false);
      const [b] = await tx
        .insert(bookings)
        .values({
          cohortId: cohort.id,
          userId: user.id,
          kind: input.kind,
          status,
          priceMinor: input.kind === 'member' ? 0 : standalonePrice.amountMinor,
          currency: 'GBP',
          certificateWanted: certificate,
          queueSeq: await nextQueueSeq(tx, cohort.id),
          bookedBy: input.actor?.id ?? null,
          bookedFromIp: ip,
          createdAt: now,
          updatedAt: now,
        })
        .returning();
      if (status === 'confirmed') await cohorts.enrol(tx, cohort.id, user.id, certificate);
      const by = input.actor && input.actor.id !== user.id ? `Booked by ${input.actor.email}.` : null;
      await logEvent(deps, tx, b, input.actor?.id ?? null, 'booked', null, status, by);
      if (status === 'confirmed') await mail(deps, tx, b, cohort, 'member-confirmed', 'Your place is confirmed');
      else if (status === 'pending_payment') await mail(deps, tx, b, cohort, 'received', 'Booking received');
      else await mail(deps, tx, b, cohort, 'waitlisted', 'You are on the waitlist', { position: (await positions(tx, cohort.id)).get(b.id) });
      return view(tx, b.id);
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new Conflict(`${email} already has a booking for this cohort.`);
    throw err;
  }
}

/** Clear the client address of bookings made more than BOOKING_ADDRESS_KEPT_HOURS ago (a scheduled job); returns how many. */
export async function forgetAddresses({ database }: BookingDeps, now: Date): Promise<number> {
  const cutoff = new Date(now.getTime() - BOOKING_ADDRESS_KEPT_HOURS * 3_600_000);
  const cleared = await database.transaction((tx) =>
    tx
      .update(bookings)
      .set({ bookedFromIp: null })
      .where(and(isNotNull(bookings.bookedFromIp), lt(bookings.createdAt, cutoff)))
      .returning({ id: bookings.id }),
  );
  return cleared.length;
}
