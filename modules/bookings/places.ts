// Where a booking or an order lands (a place, or the waitlist) and moving the waitlist up as places free.
import type { Db } from '../../server/db.js';
import type { Cohort } from '../cohorts/service.js';
import type { BookingKind, BookingStatus, OrderStatus } from './schema.js';
import { heldCount, logEvent, mail, mailBuyer, update, updateOrder, waitlist } from './queue.js';
import { bookSeats } from './seats.js';
import { MOVED_UP_HOLD_HOURS, type BookingDeps, type OrderRow } from './model.js';

/** Where a booking lands now: a place if one is free and nobody queues ahead, else the waitlist. */
export async function placeFor(tx: Db, cohort: Cohort, kind: BookingKind, paid: boolean): Promise<BookingStatus> {
  const free = (await heldCount(tx, cohort.id)) < cohort.capacity && (await waitlist(tx, cohort.id)).length === 0;
  if (!free) return 'waitlisted';
  return kind === 'member' || paid ? 'confirmed' : 'pending_payment';
}

/**
 * Where an order of `quantity` places lands now: all of them held if that many are free and nobody queues ahead, else
 * the whole order waits. Confirmed at once when paid (or free).
 */
export async function placeForOrder(tx: Db, cohort: Cohort, quantity: number, paid: boolean): Promise<OrderStatus> {
  const fits = (await heldCount(tx, cohort.id)) + quantity <= cohort.capacity && (await waitlist(tx, cohort.id)).length === 0;
  if (!fits) return 'waitlisted';
  return paid ? 'confirmed' : 'pending_payment';
}

/** An order's places become its buyer's: confirmed (its seats booked) when paid, else held for payment. */
async function moveOrderUp(deps: BookingDeps, tx: Db, o: OrderRow, cohort: Cohort): Promise<void> {
  const paid = Boolean(o.paymentReference) || o.totalMinor === 0;
  const now = deps.clock.now();
  const to: OrderStatus = paid ? 'confirmed' : 'pending_payment';
  const holdExpiresAt = !paid && o.payment === 'card' ? new Date(now.getTime() + MOVED_UP_HOLD_HOURS * 3_600_000) : null;
  const moved = await updateOrder(deps, tx, o.id, { status: to, holdExpiresAt });
  await mailBuyer(deps, tx, moved, cohort, 'moved-up', 'Places are yours', { confirmed: paid, payByCard: Boolean(holdExpiresAt), holdHours: MOVED_UP_HOLD_HOURS });
  if (paid) await bookSeats(deps, tx, moved, cohort);
  await deps.events.emit(tx, 'order.changed', { order: moved, cohort, change: paid ? 'paid' : 'held' });
}

/**
 * Move the waitlist up, in order, while places are free (not after the cohort has ended). An order moves up only as
 * a whole and nobody overtakes it: a team that waits for five places keeps its turn rather than losing places one by
 * one to people behind it.
 */
export async function fillPlaces(deps: BookingDeps, tx: Db, cohort: Cohort): Promise<void> {
  if (deps.clock.now().getTime() >= cohort.timeline.endsAt.getTime()) return;
  let held = await heldCount(tx, cohort.id);
  for (const entry of await waitlist(tx, cohort.id)) {
    if (entry.order) {
      if (held + entry.order.quantity > cohort.capacity) break;
      await moveOrderUp(deps, tx, entry.order, cohort);
      held += entry.order.quantity;
      continue;
    }
    if (held >= cohort.capacity) break;
    const b = entry.booking;
    const to: BookingStatus = b.kind === 'member' || b.paymentReference ? 'confirmed' : 'pending_payment';
    const moved = await update(deps, tx, b.id, { status: to });
    if (to === 'confirmed') await deps.cohorts.enrol(tx, cohort.id, b.userId, b.certificateWanted);
    await logEvent(deps, tx, b, null, 'moved_up', 'waitlisted', to, 'A place became free.');
    await mail(deps, tx, moved, cohort, 'moved-up', 'A place is yours', { confirmed: to === 'confirmed', pending: to === 'pending_payment' });
    held++;
  }
}
