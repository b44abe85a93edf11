// Ending a booking: cancelling (the learner before the start, an admin at any time), releasing an unpaid place, refunds.
import { Conflict, Forbidden } from '../../server/errors.js';
import type { User } from '../people/service.js';
import type { RefundState } from './schema.js';
import { logEvent, mail, row, update, view } from './queue.js';
import { fillPlaces } from './places.js';
import { reopenSeatOf } from './seats.js';
import { HOLDS_PLACE, type BookingDeps, type BookingView } from './model.js';

/**
 * Cancel a booking: an admin at any time; the learner themself until the cohort starts (403 for anyone else,
 * 409 after the start). A paid booking gets a refund due. A freed place goes to the first on the waitlist.
 */
export async function cancel(deps: BookingDeps, id: number, actor: User, note?: string): Promise<BookingView> {
  const { database, clock, cohorts } = deps;
  return database.transaction(async (tx) => {
    const b = await row(tx, id);
    const cohort = await cohorts.get(b.cohortId, tx);
    const isAdmin = actor.role === 'admin';
    if (!isAdmin && b.userId !== actor.id) throw new Forbidden('Only an admin or the person booked can cancel this booking.');
    if (b.status === 'cancelled') throw new Conflict('This booking is already cancelled.');
    if (!isAdmin && clock.now().getTime() >= cohort.timeline.startsAt.getTime()) {
      throw new Conflict('The course has started, so this booking can no longer be cancelled online. Please contact us.');
    }
    // A seat's booking was paid for on its order: cancelling it refunds nothing itself and gives the seat back to the buyer.
    const refund: RefundState = !b.orderId && b.paymentReference && b.priceMinor > 0 ? 'due' : 'none';
    const done = await update(deps, tx, id, { status: 'cancelled', cancelReason: 'cancelled', refundState: refund });
    if (b.status === 'confirmed') await cohorts.withdraw(tx, b.cohortId, b.userId);
    if (b.orderId) await reopenSeatOf(tx, b.id);
    const why = [note?.trim().replace(/([^.!?])$/, '$1.'), refund === 'due' ? 'Refund due.' : null].filter(Boolean).join(' ') || null;
    await logEvent(deps, tx, b, actor.id, 'cancelled', b.status, 'cancelled', why);
    await mail(deps, tx, done, cohort, 'cancelled', 'Booking cancelled', { refundDue: refund === 'due', released: false, byAdmin: isAdmin && actor.id !== b.userId });
    if (HOLDS_PLACE.includes(b.status) && !b.orderId) await fillPlaces(deps, tx, cohort);
    return view(tx, id);
  });
}

/** Release an unpaid booking's place (admin): it is cancelled and the first on the waitlist moves up. */
export async function release(deps: BookingDeps, id: number, actor: User): Promise<BookingView> {
  const { database, cohorts } = deps;
  return database.transaction(async (tx) => {
    const b = await row(tx, id);
    if (b.status !== 'pending_payment') throw new Conflict('Only a booking awaiting payment can be released.');
    const cohort = await cohorts.get(b.cohortId, tx);
    const done = await update(deps, tx, id, { status: 'cancelled', cancelReason: 'released' });
    await logEvent(deps, tx, b, actor.id, 'released', b.status, 'cancelled', 'Released unpaid.');
    await mail(deps, tx, done, cohort, 'cancelled', 'Booking released', { refundDue: false, released: true });
    await fillPlaces(deps, tx, cohort);
    return view(tx, id);
  });
}

/** Mark a cancelled paid booking's refund as made (admin); 409 unless a refund is due. */
export async function refund(deps: BookingDeps, id: number, actor: User, note?: string): Promise<BookingView> {
  return deps.database.transaction(async (tx) => {
    const b = await row(tx, id);
    if (b.refundState !== 'due') throw new Conflict(b.refundState === 'refunded' ? 'This booking is already refunded.' : 'No refund is due on this booking.');
    await update(deps, tx, id, { refundState: 'refunded' });
    await logEvent(deps, tx, b, actor.id, 'refunded', b.status, b.status, note?.trim() || null);
    return view(tx, id);
  });
}
