// Shared set-up for the sessions tests: a cohort of the flagship course with an instructor and learners.
import type { TestApp } from '../helpers/app.js';
import { apiAs } from '../helpers/http.js';
import { enrolLearner, insertCohort, insertUser } from '../helpers/factories.js';

/** A strategic-planning cohort (four Wednesday 12:30 sessions of 60 minutes) with its instructor and one learner. */
export async function sessionCohort(t: TestApp, opts: { startDate?: string; timezone?: string; course?: string } = {}) {
  const instructor = await insertUser(t, 'instructor');
  const { cohort } = await insertCohort(t, { startDate: opts.startDate ?? '2026-03-02', timezone: opts.timezone ?? 'Europe/London', course: opts.course, instructor: instructor.email });
  const learner = await enrolLearner(t, cohort.id, 'Lena Learner');
  const sessions = await t.ctx.sessions.list(cohort);
  return {
    cohort,
    instructor,
    learner,
    sessions,
    asInstructor: apiAs(t.app, instructor.token),
    asLearner: apiAs(t.app, learner.token),
    anonymous: apiAs(t.app, null),
  };
}
