// One small world for attack tests: two running cohorts, people in every role, API tokens and signed-in browsers.
import { createTestApp, type TestApp, type TestAppOptions } from '../../helpers/app.js';
import { enrolLearner, insertCohort, insertUser, signInBrowser } from '../../helpers/factories.js';
import type { Browser } from '../../helpers/http.js';

/** The roles of the authorization matrix, relative to "this cohort" (A). */
export const ROLES = ['anonymous', 'learnerOther', 'instructorOther', 'learner', 'instructor', 'admin'] as const;
export type MatrixRole = (typeof ROLES)[number];

export interface Person {
  email: string;
  token: string;
  id: number;
}

export interface World {
  t: TestApp;
  /** This cohort (A) and another cohort (B), both in their second week. */
  cohortA: number;
  cohortB: number;
  people: Record<Exclude<MatrixRole, 'anonymous'>, Person> & { learner2: Person };
  /** A signed-in browser per person (made on first use). */
  browser(who: Exclude<MatrixRole, 'anonymous'> | 'learner2'): Promise<Browser>;
  /** Bearer token per role (null for anonymous). */
  token(role: MatrixRole): string | null;
  close(): Promise<void>;
}

/** Build the world on a fresh database; the clock stands in week 2 of both cohorts. */
export async function createWorld(options: TestAppOptions = {}): Promise<World> {
  const t = await createTestApp({ now: '2026-03-10T10:00:00.000Z', ...options });
  const admin = await insertUser(t, 'admin', 'Ada Admin');
  const a = await insertCohort(t, { startDate: '2026-03-02', capacity: 30 });
  const b = await insertCohort(t, { startDate: '2026-03-02', course: 'library-partnerships', capacity: 30 });
  const person = (p: { email: string; token: string; user: { id: number } }): Person => ({ email: p.email, token: p.token, id: p.user.id });
  const instructorA = a.instructor as Awaited<ReturnType<typeof insertUser>>;
  const instructorB = b.instructor as Awaited<ReturnType<typeof insertUser>>;
  const people = {
    admin: person(admin),
    instructor: person(instructorA),
    instructorOther: person(instructorB),
    learner: person(await enrolLearner(t, a.cohort.id, 'Lena Learner')),
    learner2: person(await enrolLearner(t, a.cohort.id, 'Lars Learner')),
    learnerOther: person(await enrolLearner(t, b.cohort.id, 'Olu Other')),
  };
  const browsers = new Map<string, Browser>();
  return {
    t,
    cohortA: a.cohort.id,
    cohortB: b.cohort.id,
    people,
    async browser(who) {
      let br = browsers.get(who);
      if (!br) {
        br = await signInBrowser(t, people[who].email);
        browsers.set(who, br);
      }
      return br;
    },
    token(role) {
      return role === 'anonymous' ? null : people[role].token;
    },
    close: () => t.close(),
  };
}
