// Shared set-up for the discussion tests: two cohorts, their instructors and learners, API callers for each.
import { createTestApp, type TestApp, type TestAppOptions } from '../helpers/app.js';
import { apiAs } from '../helpers/http.js';
import { enrolLearner, insertCohort, insertUser } from '../helpers/factories.js';

export type Api = ReturnType<typeof apiAs>;

export interface Person {
  user: { id: number; email: string; name: string };
  token: string;
  email: string;
  api: Api;
}

export interface World {
  t: TestApp;
  /** Cohort A (strategic-planning from 2026-03-02, Europe/London): the clock starts in its week 1. */
  a: { id: number; instructor: Person; learner: Person; learner2: Person };
  /** Cohort B, same course and dates: outsiders to A. */
  b: { id: number; instructor: Person; learner: Person };
  admin: Person;
  anon: Api;
}

function person(t: TestApp, p: { user: { id: number; email: string; name: string }; token: string; email: string }): Person {
  return { ...p, api: apiAs(t.app, p.token) };
}

/** Two cohorts of the same course, each with an instructor and learners, at 2026-03-02T09:00Z (week 1 open). */
export async function createWorld(options: TestAppOptions = {}): Promise<World> {
  const t = await createTestApp({ now: '2026-03-02T09:00:00.000Z', ...options });
  const instrA = await insertUser(t, 'instructor', 'Ines Instructor');
  const instrB = await insertUser(t, 'instructor', 'Otto Other');
  const { cohort: ca } = await insertCohort(t, { instructor: instrA.email });
  const { cohort: cb } = await insertCohort(t, { instructor: instrB.email });
  const learnerA = await enrolLearner(t, ca.id, 'Lena Learner');
  const learnerA2 = await enrolLearner(t, ca.id, 'Sam Second');
  const learnerB = await enrolLearner(t, cb.id, 'Bea Outsider');
  const admin = await insertUser(t, 'admin', 'Ada Admin');
  return {
    t,
    a: { id: ca.id, instructor: person(t, instrA), learner: person(t, learnerA), learner2: person(t, learnerA2) },
    b: { id: cb.id, instructor: person(t, instrB), learner: person(t, learnerB) },
    admin: person(t, admin),
    anon: apiAs(t.app, null),
  };
}

/** Start a thread through the API and return its id (asserting 201). */
export async function startThread(api: Api, cohortId: number, title = 'Library strategy reading group', body = 'Who wants to read *Good Strategy* together?'): Promise<number> {
  const res = await api('POST', `/api/v1/cohorts/${cohortId}/threads`, { title, body });
  if (res.statusCode !== 201) throw new Error(`thread not created: ${res.statusCode} ${res.body}`);
  return res.json().id as number;
}

/** Post in a thread through the API and return the post's id (asserting 201). */
export async function post(api: Api, threadId: number, body: string, parentId?: number): Promise<number> {
  const res = await api('POST', `/api/v1/threads/${threadId}/posts`, parentId ? { body, parentId } : { body });
  if (res.statusCode !== 201) throw new Error(`post not created: ${res.statusCode} ${res.body}`);
  return res.json().id as number;
}
