// Shared set-up for the bookings tests: an app, an admin, a cohort and small booking helpers.
import type { TestApp } from '../helpers/app.js';
import { insertCohort, insertUser } from '../helpers/factories.js';
import { apiAs } from '../helpers/http.js';

let n = 0;
/** A fresh address at a domain (default: not a member domain). */
export function addr(tag = 'learner', domain = 'elsewhere.test'): string {
  n += 1;
  return `${tag}${n}-${process.pid}@${domain}`;
}

/** A client address of its own for each person (10.x.y.z from a hash of the email). */
export function networkOf(email: string): string {
  let h = 0;
  for (const ch of email) h = (Math.imul(h, 31) + ch.charCodeAt(0)) >>> 0;
  return `10.${(h >>> 16) & 255}.${(h >>> 8) & 255}.${h & 255}`;
}

/** An admin, the API as the admin and as nobody, and a cohort starting 2 March 2026 (now: 1 February). */
export async function setup(t: TestApp, opts: { capacity?: number } = {}) {
  const admin = await insertUser(t, 'admin', 'Ada Admin');
  const instructor = await insertUser(t, 'instructor');
  const { cohort } = await insertCohort(t, { capacity: opts.capacity ?? 5, instructor: instructor.email });
  const asAdmin = apiAs(t.app, admin.token);
  const anon = apiAs(t.app, null);
  /** Book through the public API (no credentials), each person from their own network (see BOOKINGS_PER_IP_PER_HOUR). */
  const book = (email: string, kind: 'member' | 'standalone' = 'standalone', extra: Record<string, unknown> = {}) =>
    t.app.inject({
      method: 'POST',
      url: `/api/v1/cohorts/${cohort.id}/bookings`,
      payload: { email, name: `Name of ${email.split('@')[0]}`, kind, ...extra },
      remoteAddress: networkOf(email),
    });
  return { admin, cohort, instructor, asAdmin, anon, book };
}

/**
 * Make every booking's transaction take a few milliseconds (as each statement does over a network to a database
 * server), so concurrent requests overlap instead of each running to its end at once; returns the undo.
 */
export function slowTransactions(t: TestApp): () => void {
  const enqueue = t.ctx.mailer.enqueue;
  t.ctx.mailer.enqueue = async (tx, message) => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    return enqueue.call(t.ctx.mailer, tx, message);
  };
  return () => {
    t.ctx.mailer.enqueue = enqueue;
  };
}

/** The start of the test cohort, and a moment well before it (bookings open). */
export const NOW = '2026-02-01T09:00:00.000Z';
