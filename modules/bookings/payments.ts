// Recording an invoice or purchase-order payment: it confirms, keeps a waitlisted place paid, or reinstates a release.
import { and, eq, inArray } from 'drizzle-orm';
import { BadInput, Conflict } from '../../server/errors.js';
import type { User } from '../people/service.js';
import { bookings } from './schema.js';
import { logEvent, mail, nextQueueSeq, positions, row, update, view } from './queue.js';
import { fillPlaces, placeFor } from './places.js';
import { ACTIVE, type BookingDeps, type BookingView } from './model.js';

/**
 * Record an invoice or purchase-order payment (admin). Awaiting payment → confirmed and enrolled; waitlisted →
 * stays waitlisted, paid, and is confirmed when it moves up; released unpaid → back as confirmed when a place
 * is free, else at the end of the waitlist. 409 for member bookings and anything already paid or cancelled.
 */
export async function recordPayment(deps: BookingDeps, id: number, reference: string, actor: User): Promise<BookingView> {
  const { database, clock, cohorts } = deps;
  const ref = reference.trim();
  if (!ref) throw new BadInput('enter the invoice or purchase-order reference.', 'reference');
  return database.transaction(async (tx) => {
    const b = await row(tx, id);
    const cohort = await cohorts.get(b.cohortId, tx);
    if (b.kind === 'member') throw new Conflict('Member bookings are free; there is no payment to record.');
    if (b.orderId) throw new Conflict(`This place is a seat of order ${b.orderId}; record the payment on the order.`);
    if (b.paymentReference) throw new Conflict(`Payment is already recorded for this booking (reference ${b.paymentReference}).`);
    const now = clock.now();
    if (b.status === 'pending_payment') {
      const paid = await update(deps, tx, id, { status: 'confirmed', paymentReference: ref, paidAt: now });
      await cohorts.enrol(tx, b.cohortId, b.userId, b.certificateWanted);
      await logEvent(deps, tx, b, actor.id, 'payment_recorded', b.status, 'confirmed', `Reference ${ref}.`);
      await mail(deps, tx, paid, cohort, 'payment-confirmed', 'Payment received, you are enrolled', { enrolled: true });
    } else if (b.status === 'waitlisted') {
      const paid = await update(deps, tx, id, { paymentReference: ref, paidAt: now });
      await logEvent(deps, tx, b, actor.id, 'payment_recorded', b.status, 'waitlisted', `Reference ${ref}; confirmed when a place frees.`);
      await mail(deps, tx, paid, cohort, 'payment-confirmed', 'Payment received', { enrolled: false, position: (await positions(tx, b.cohortId)).get(b.id) });
    } else if (b.status === 'cancelled' && b.cancelReason === 'released') {
      const [clash] = await tx
        .select({ id: bookings.id })
        .from(bookings)
        .where(and(eq(bookings.cohortId, b.cohortId), eq(bookings.userId, b.userId), inArray(bookings.status, ACTIVE)))
        .limit(1);
      if (clash) throw new Conflict(`This person has booked again since (booking ${clash.id}); record the payment there.`);
      await fillPlaces(deps, tx, cohort);
      const to = await placeFor(tx, cohort, b.kind, true);
      const back = await update(deps, tx, id, { status: to, paymentReference: ref, paidAt: now, cancelReason: null, queueSeq: await nextQueueSeq(tx, b.cohortId) });
      await logEvent(deps, tx, b, actor.id, 'payment_recorded', b.status, to, `Reference ${ref}; the released booking is reinstated.`);
      if (to === 'confirmed') {
        await cohorts.enrol(tx, b.cohortId, b.userId, b.certificateWanted);
        await mail(deps, tx, back, cohort, 'payment-confirmed', 'Payment received, you are enrolled', { enrolled: true });
      } else {
        await mail(deps, tx, back, cohort, 'payment-confirmed', 'Payment received', { enrolled: false, position: (await positions(tx, b.cohortId)).get(b.id) });
      }
    } else {
      throw new Conflict(b.status === 'cancelled' ? 'This booking is cancelled; book again to take a place.' : 'This booking is already confirmed.');
    }
    return view(tx, id);
  });
}
