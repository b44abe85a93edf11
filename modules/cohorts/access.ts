// The one cohort guard: who may see a cohort, in which role, and which weeks a learner may read yet.
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../../server/db.js';
import { Forbidden, NotFound, NotSignedIn } from '../../server/errors.js';
import type { User } from '../people/service.js';
import { cohortInstructors, cohorts, enrolments } from './schema.js';
import { hydrate, reader, type Cohort, type CohortAccess, type CohortDeps, type CohortRole } from './model.js';

export function createCohortAccess(deps: CohortDeps) {
  const { clock, courses } = deps;

  /** The cohort and the caller's place in it in one statement: the guard runs on every cohort page and write. */
  async function accessRow(cohortId: number, userId: number, tx?: Db): Promise<{ cohort: Cohort; teaches: boolean; learns: boolean } | undefined> {
    const [row] = await reader(deps, tx)
      .select({
        cohort: cohorts,
        // The outer cohort is named in full: drizzle writes columns of a one-table select unqualified, and inside the
        // subquery a bare "id" would be the subquery table's own.
        teaches: sql<boolean>`exists (select 1 from ${cohortInstructors} ci where ci.cohort_id = "cohorts"."id" and ci.user_id = ${userId})`.mapWith(Boolean),
        learns: sql<boolean>`exists (select 1 from ${enrolments} e where e.cohort_id = "cohorts"."id" and e.user_id = ${userId} and e.status = 'active')`.mapWith(Boolean),
      })
      .from(cohorts)
      .where(eq(cohorts.id, cohortId))
      .limit(1);
    return row && { cohort: await hydrate(courses, row.cohort, tx), teaches: row.teaches, learns: row.learns };
  }

  /** An admin everywhere, then instructor, then active learner (null: outside the cohort). */
  const roleFrom = (user: User, row: { teaches: boolean; learns: boolean } | undefined): CohortRole | null =>
    user.role === 'admin' ? 'admin' : row?.teaches ? 'instructor' : row?.learns ? 'learner' : null;

  return {
    /** The user's role in the cohort, or null when they do not belong to it. */
    async roleIn(user: User, cohortId: number, tx?: Db): Promise<CohortRole | null> {
      return user.role === 'admin' ? 'admin' : roleFrom(user, await accessRow(cohortId, user.id, tx));
    },

    /**
     * The one cohort guard: 401 when signed out, 404 for an unknown cohort, 403 outside it or without one of `roles`.
     * Learners are also refused once access has ended (accessEndsAt).
     */
    async access(user: User | null, cohortId: number, roles: CohortRole[] = ['admin', 'instructor', 'learner'], tx?: Db): Promise<CohortAccess> {
      if (!user) throw new NotSignedIn();
      const row = await accessRow(cohortId, user.id, tx);
      if (!row) throw new NotFound('Cohort');
      const { cohort } = row;
      const role = roleFrom(user, row);
      if (!role) throw new Forbidden('You are not part of this cohort.');
      if (!roles.includes(role)) throw new Forbidden('Only the cohort’s instructors and admins can do this.');
      if (role === 'learner' && clock.now().getTime() >= cohort.timeline.accessEndsAt.getTime()) {
        throw new Forbidden('This cohort has been archived; its material is no longer available.');
      }
      return { cohort, user, role };
    },

    /** Refuses a learner a week before it opens; instructors and admins always pass. */
    assertWeekOpen(access: CohortAccess, n: number): void {
      const week = access.cohort.timeline.weeks[n - 1];
      if (!week) throw new NotFound(`Week ${n}`);
      if (access.role !== 'learner') return;
      if (clock.now().getTime() < week.opensAt.getTime()) throw new Forbidden(`Week ${n} opens on ${week.opensAt.toISOString()}.`);
    },
  };
}
