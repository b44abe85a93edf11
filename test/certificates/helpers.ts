// Certificate test set-up: a strategic-planning cohort (4 worksheets, 4 sessions; rules: all worksheets, 3 sessions,
// 1 post) with its instructor, an admin and learners, and steps that make real progress through the other modules' APIs.
import { expect } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import { apiAs } from '../helpers/http.js';
import { enrolLearner, insertCohort, insertUser } from '../helpers/factories.js';

/** When week 4 is open and all four sessions are over, before the cohort ends (2026-03-30 08:00 Europe/London). */
export const LATE_IN_COHORT = '2026-03-26T12:00:00.000Z';

export type Caller = ReturnType<typeof apiAs>;

export type CertCohort = Awaited<ReturnType<typeof certCohort>>;

/** A cohort of strategic-planning starting 2026-03-02 in London with instructor, admin and one learner. */
export async function certCohort(t: TestApp, opts: { course?: string; learnerName?: string; timezone?: string; startDate?: string } = {}) {
  const instructor = await insertUser(t, 'instructor', 'Ines Instructor');
  const admin = await insertUser(t, 'admin', 'Ada Admin');
  const { cohort } = await insertCohort(t, { course: opts.course, instructor: instructor.email, timezone: opts.timezone, startDate: opts.startDate });
  const learner = await enrolLearner(t, cohort.id, opts.learnerName ?? 'Lena Learner');
  return {
    cohort,
    instructor,
    admin,
    learner,
    asInstructor: apiAs(t.app, instructor.token),
    asAdmin: apiAs(t.app, admin.token),
    asLearner: apiAs(t.app, learner.token),
    anonymous: apiAs(t.app, null),
    learnerCaller: (token: string) => apiAs(t.app, token),
  };
}

/** Answers for every prompt of a week's assignment. */
async function answersFor(t: TestApp, course: string, week: number): Promise<Record<string, string>> {
  const a = (await t.ctx.courses.latest(course)).weeks[week - 1].assignment!;
  return Object.fromEntries(a.prompts.map((p) => [p.id, `My answer to ${p.id}.`]));
}

/** The learner submits week n (through the API) and returns the submission id. */
export async function submitWeek(t: TestApp, cohortId: number, course: string, as: Caller, week: number): Promise<number> {
  const res = await as('PUT', `/api/v1/cohorts/${cohortId}/weeks/${week}/submission`, { answers: await answersFor(t, course, week), submit: true });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().id as number;
}

/** The instructor reviews a submission. */
export async function review(asInstructor: Caller, submissionId: number, outcome: 'complete' | 'needs_revision') {
  const res = await asInstructor('POST', `/api/v1/submissions/${submissionId}/review`, { outcome, feedback: outcome === 'complete' ? 'Well done.' : 'Please say more.' });
  expect(res.statusCode, res.body).toBe(200);
}

/** The instructor marks the learner present at the cohort's n-th session. */
export async function attend(t: TestApp, c: CertCohort, learnerEmail: string, index: number) {
  const s = (await t.ctx.sessions.list(c.cohort))[index];
  const res = await c.asInstructor('POST', `/api/v1/sessions/${s.id}/attendance`, { learner: learnerEmail, attended: true });
  expect(res.statusCode, res.body).toBeLessThan(300);
}

/** The learner starts a discussion thread (one post). */
export async function post(cohortId: number, as: Caller) {
  const res = await as('POST', `/api/v1/cohorts/${cohortId}/threads`, { title: 'Hello cohort', body: 'Glad to be here.' });
  expect(res.statusCode, res.body).toBe(201);
}

/**
 * Everything the rules ask for, through the real APIs, except what `leave` names (left for the test to do last).
 * The clock must be where week 4 is open and the sessions are over (LATE_IN_COHORT).
 */
export async function doAlmostEverything(
  t: TestApp,
  c: CertCohort,
  learner: { email: string; token: string },
  leave: 'review4' | 'post' | 'attend3' | 'nothing',
): Promise<{ week4: number }> {
  const as = apiAs(t.app, learner.token);
  const course = c.cohort.courseSlug;
  let week4 = 0;
  for (const n of [1, 2, 3, 4]) {
    const id = await submitWeek(t, c.cohort.id, course, as, n);
    if (n === 4) week4 = id;
    if (n !== 4 || leave !== 'review4') await review(c.asInstructor, id, 'complete');
  }
  await attend(t, c, learner.email, 0);
  await attend(t, c, learner.email, 1);
  if (leave !== 'attend3') await attend(t, c, learner.email, 2);
  if (leave !== 'post') await post(c.cohort.id, as);
  return { week4 };
}
