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

/** An admin, the API as the admin and as nobody, and a cohort starting 2 March 2026 (now: 1 February). */
export function setup(t: TestApp, opts: { capacity?: number } = {}) {
  const admin = insertUser(t, 'admin', 'Ada Admin');
  const instructor = insertUser(t, 'instructor');
  const { cohort } = insertCohort(t, { capacity: opts.capacity ?? 5, instructor: instructor.email });
  const asAdmin = apiAs(t.app, admin.token);
  const anon = apiAs(t.app, null);
  /** Book through the public API (no credentials). */
  const book = (email: string, kind: 'member' | 'standalone' = 'standalone', extra: Record<string, unknown> = {}) =>
    anon('POST', `/api/v1/cohorts/${cohort.id}/bookings`, { email, name: `Name of ${email.split('@')[0]}`, kind, ...extra });
  return { admin, cohort, instructor, asAdmin, anon, book };
}

/** The start of the test cohort, and a moment well before it (bookings open). */
export const NOW = '2026-02-01T09:00:00.000Z';
