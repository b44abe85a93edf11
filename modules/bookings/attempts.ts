// Booking attempts: every try by anyone but an admin is counted, whatever its answer, for the per-client and per-address limits.
import { and, eq, gt, lt, type SQL } from 'drizzle-orm';
import type { Db } from '../../server/db.js';
import { TooManyRequests } from '../../server/errors.js';
import { hashToken } from '../../server/crypto.js';
import { normaliseEmail } from '../people/service.js';
import { bookingAttempts } from './schema.js';
import { BOOKING_ATTEMPTS_PER_ADDRESS_PER_HOUR, BOOKINGS_PER_IP_PER_HOUR } from './model.js';

/** What the per-address limit counts an address as: a hash of it, or null when what was sent is not an address. */
function emailHashOf(raw: string): string | null {
  try {
    return hashToken(normaliseEmail(raw));
  } catch {
    // Not an address: it counts for the client only (and is refused with 400 after this).
    return null;
  }
}

/**
 * Count a booking attempt from a client, inside the booking's own write transaction `tx` (429 past either limit, and
 * then nothing is counted). Transactions run one at a time, so attempts made at once from one client cannot all see
 * the same count. It is the first thing a booking does, before the cohort or the address is looked at.
 */
export async function countAttempt(tx: Db, ip: string, rawEmail: string, now: Date): Promise<void> {
  const emailHash = emailHashOf(rawEmail);
  const since = new Date(now.getTime() - 3_600_000);
  const count = (cond: SQL) => tx.$count(bookingAttempts, and(cond, gt(bookingAttempts.createdAt, since)));
  if ((await count(eq(bookingAttempts.ip, ip))) >= BOOKINGS_PER_IP_PER_HOUR) {
    throw new TooManyRequests(`Too many bookings from your network in the last hour (${BOOKINGS_PER_IP_PER_HOUR}). Try again later, or ask us to book a group for you.`);
  }
  if (emailHash && (await count(eq(bookingAttempts.emailHash, emailHash))) >= BOOKING_ATTEMPTS_PER_ADDRESS_PER_HOUR) {
    throw new TooManyRequests(`Too many bookings for this email address in the last hour (${BOOKING_ATTEMPTS_PER_ADDRESS_PER_HOUR}). Try again later.`);
  }
  await tx.insert(bookingAttempts).values({ ip, emailHash, createdAt: now });
}

/** Delete the attempts made before `cutoff`, inside `tx`; returns how many. */
export async function forgetAttempts(tx: Db, cutoff: Date): Promise<number> {
  return (await tx.delete(bookingAttempts).where(lt(bookingAttempts.createdAt, cutoff)).returning({ id: bookingAttempts.id })).length;
}
