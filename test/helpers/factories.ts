// Small factories for test data, through the real services.
import type { TestApp } from './app.js';
import type { Role } from '../../modules/people/schema.js';
import { Browser } from './http.js';

let seq = 0;
/** A unique address for this test run. */
export function email(tag = 'user'): string {
  seq += 1;
  return `${tag}${seq}-${process.pid}@example.org`;
}

/** A user with an API token. */
export async function insertUser(t: TestApp, role: Role = 'learner', name?: string) {
  const user = await t.ctx.people.upsert({ email: email(role), role, name: name ?? `${role} ${seq}` });
  const { token } = await t.ctx.people.createApiToken(user.email);
  return { user, token, email: user.email };
}

/** A cohort of a bundled course with one instructor. */
export async function insertCohort(
  t: TestApp,
  opts: { course?: string; startDate?: string; timezone?: string; capacity?: number; instructor?: string } = {},
) {
  const instructor = opts.instructor ? { email: opts.instructor } : await insertUser(t, 'instructor');
  const cohort = await t.ctx.cohorts.create({
    course: opts.course ?? 'strategic-planning',
    startDate: opts.startDate ?? '2026-03-02',
    timezone: opts.timezone ?? 'Europe/London',
    capacity: opts.capacity ?? 20,
    instructors: [instructor.email],
  });
  return { cohort, instructor };
}

/** Enrol a (new) learner in a cohort directly, as a confirmed booking would. */
export async function enrolLearner(t: TestApp, cohortId: number, name?: string) {
  const learner = await insertUser(t, 'learner', name);
  await t.ctx.database.transaction((tx) => t.ctx.cohorts.enrol(tx, cohortId, learner.user.id));
  return learner;
}

/** Sign a browser in through the real emailed-link flow. */
export async function signInBrowser(t: TestApp, address: string): Promise<Browser> {
  const browser = new Browser(t.app);
  const res = await browser.post(`${t.ctx.prefix}/sign-in`, { email: address }, { fromPage: `${t.ctx.prefix}/sign-in` });
  if (res.statusCode !== 200) throw new Error(`sign-in request failed: ${res.statusCode}`);
  const mails = await t.mailsTo(address);
  const last = mails[mails.length - 1];
  const link = /https?:\/\/\S+\/sign-in\/[A-Za-z0-9_-]+/.exec(last?.text ?? '')?.[0];
  if (!link) throw new Error('no sign-in link mailed');
  const path = new URL(link).pathname;
  const confirm = await browser.get(path);
  const token = /name="token" value="([^"]+)"/.exec(confirm.body)?.[1];
  const done = await browser.post(`${t.ctx.prefix}/sign-in/confirm`, { token: token ?? '' }, { fromPage: path });
  if (done.statusCode !== 303) throw new Error(`sign-in confirm failed: ${done.statusCode}`);
  return browser;
}
