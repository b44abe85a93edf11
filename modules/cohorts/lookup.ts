// Reading cohorts: one by id, every cohort, a person's cohorts, a course's bookable cohorts, a cohort's sessions.
import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Db } from '../../server/db.js';
import { NotFound } from '../../server/errors.js';
import type { User } from '../people/service.js';
import { liveSessions } from '../sessions/schema.js';
import { cohortInstructors, cohorts, enrolments } from './schema.js';
import { hydrate, reader, type Cohort, type CohortDeps, type CohortRole, type CohortSessionSummary } from './model.js';
import { cohortState, type CohortState } from './timeline.js';

export function createCohortLookup(deps: CohortDeps) {
  const { clock, courses } = deps;
  const q = (tx?: Db) => reader(deps, tx);

  const lookup = {
    /** The cohort with its course and timeline, or 404. Inside a transaction pass its `tx`. */
    async get(id: number, tx?: Db): Promise<Cohort> {
      const [row] = await q(tx).select().from(cohorts).where(eq(cohorts.id, id)).limit(1);
      if (!row) throw new NotFound('Cohort');
      return hydrate(courses, row, tx);
    },

    /** Every cohort, earliest start first. */
    async list(tx?: Db): Promise<Cohort[]> {
      const rows = await q(tx).select().from(cohorts).orderBy(asc(cohorts.startDate), asc(cohorts.id));
      return Promise.all(rows.map((row) => hydrate(courses, row, tx)));
    },

    /** The cohorts a user belongs to (as learner or instructor), with their role in each; admins: every cohort. */
    async listForUser(user: User, tx?: Db): Promise<Array<{ cohort: Cohort; role: CohortRole }>> {
      if (user.role === 'admin') return (await lookup.list(tx)).map((cohort) => ({ cohort, role: 'admin' as const }));
      const taught = (await q(tx).select({ id: cohortInstructors.cohortId }).from(cohortInstructors).where(eq(cohortInstructors.userId, user.id))).map((r) => r.id);
      const learning = (
        await q(tx)
          .select({ id: enrolments.cohortId })
          .from(enrolments)
          .where(and(eq(enrolments.userId, user.id), eq(enrolments.status, 'active')))
      ).map((r) => r.id);
      const ids = [...new Set([...taught, ...learning])];
      if (ids.length === 0) return [];
      const rows = await q(tx).select().from(cohorts).where(inArray(cohorts.id, ids)).orderBy(asc(cohorts.startDate));
      return Promise.all(rows.map(async (row) => ({ cohort: await hydrate(courses, row, tx), role: taught.includes(row.id) ? ('instructor' as const) : ('learner' as const) })));
    },

    /** The cohorts a person teaches or learns in (never "all" for admins), with their role, by start date. */
    async memberships(user: User): Promise<Array<{ cohort: Cohort; role: 'instructor' | 'learner' }>> {
      const list = await lookup.listForUser({ ...user, role: user.role === 'admin' ? 'instructor' : user.role });
      return list.map(({ cohort, role }) => ({ cohort, role: role === 'learner' ? ('learner' as const) : ('instructor' as const) }));
    },

    /** The cohorts an instructor teaches (admins: every cohort), by start date. */
    async taughtBy(user: User): Promise<Cohort[]> {
      if (user.role === 'admin') return lookup.list();
      return (await lookup.listForUser(user)).filter((m) => m.role === 'instructor').map((m) => m.cohort);
    },

    /** Cohorts of a course still open for booking (before endsAt). */
    async upcomingForCourse(slug: string, _user?: User | null): Promise<Array<{ id: number; startDate: string; timezone: string; state: CohortState }>> {
      const now = clock.now();
      const rows = await q().select().from(cohorts).where(eq(cohorts.courseSlug, slug)).orderBy(asc(cohorts.startDate));
      return (await Promise.all(rows.map((row) => hydrate(courses, row))))
        .filter((c) => c.timeline.endsAt.getTime() > now.getTime())
        .map((c) => ({ id: c.id, startDate: c.startDate, timezone: c.timezone, state: cohortState(c.timeline, now) }));
    },

    /**
     * The cohort's live sessions, by start. Read from the sessions table directly: the sessions module depends on
     * this one, so it cannot be asked (it creates the rows when the cohort is created and moves them with it).
     */
    async sessions(cohort: Cohort, tx?: Db): Promise<CohortSessionSummary[]> {
      return q(tx)
        .select({ id: liveSessions.id, week: liveSessions.week, startsAt: liveSessions.startsAt, endsAt: liveSessions.endsAt })
        .from(liveSessions)
        .where(eq(liveSessions.cohortId, cohort.id))
        .orderBy(asc(liveSessions.startsAt), asc(liveSessions.id));
    },

    /** Where the cohort is in its life now. */
    state(cohort: Cohort): CohortState {
      return cohortState(cohort.timeline, clock.now());
    },
  };
  return lookup;
}
