// Who belongs to a cohort: enrolling and withdrawing learners, the roster, the instructors, counts for lists.
import { and, asc, eq, sql } from 'drizzle-orm';
import type { Db } from '../../server/db.js';
import { users } from '../people/schema.js';
import { cohortInstructors, enrolments } from './schema.js';
import { reader, type CohortDeps, type RosterEntry } from './model.js';

export function createCohortMembers(deps: CohortDeps) {
  const { clock } = deps;
  const q = (tx?: Db) => reader(deps, tx);

  return {
    /** Enrol a learner (inside the caller's transaction, e.g. a confirmed booking). Re-activates a withdrawn enrolment. */
    async enrol(tx: Db, cohortId: number, userId: number, certificateWanted = true): Promise<void> {
      await tx
        .insert(enrolments)
        .values({ cohortId, userId, certificateWanted, createdAt: clock.now() })
        .onConflictDoUpdate({ target: [enrolments.cohortId, enrolments.userId], set: { status: 'active', certificateWanted } });
    },

    /** Withdraw a learner (inside the caller's transaction, e.g. a cancelled booking). */
    async withdraw(tx: Db, cohortId: number, userId: number): Promise<void> {
      await tx.update(enrolments).set({ status: 'withdrawn' }).where(and(eq(enrolments.cohortId, cohortId), eq(enrolments.userId, userId)));
    },

    /** Active learners of a cohort. */
    async learners(cohortId: number, tx?: Db): Promise<Array<{ userId: number; certificateWanted: boolean }>> {
      return q(tx)
        .select({ userId: enrolments.userId, certificateWanted: enrolments.certificateWanted })
        .from(enrolments)
        .where(and(eq(enrolments.cohortId, cohortId), eq(enrolments.status, 'active')));
    },

    /** The cohort's instructors' user ids (discussions mark their posts on every thread list and page). */
    async instructorIds(cohortId: number, tx?: Db): Promise<number[]> {
      const rows = await q(tx).select({ id: cohortInstructors.userId }).from(cohortInstructors).where(eq(cohortInstructors.cohortId, cohortId));
      return rows.map((r) => r.id);
    },

    /** The cohort's instructors (name and address). */
    async instructors(cohortId: number, tx?: Db): Promise<Array<{ id: number; name: string; email: string }>> {
      return q(tx)
        .select({ id: users.id, name: users.name, email: users.email })
        .from(cohortInstructors)
        .innerJoin(users, eq(users.id, cohortInstructors.userId))
        .where(eq(cohortInstructors.cohortId, cohortId))
        .orderBy(asc(users.email));
    },

    /** Who is enrolled (active), by name. */
    async roster(cohortId: number, tx?: Db): Promise<RosterEntry[]> {
      return q(tx)
        .select({
          userId: users.id,
          name: users.name,
          email: users.email,
          timezone: users.timezone,
          certificateWanted: enrolments.certificateWanted,
          enrolledAt: enrolments.createdAt,
        })
        .from(enrolments)
        .innerJoin(users, eq(users.id, enrolments.userId))
        .where(and(eq(enrolments.cohortId, cohortId), eq(enrolments.status, 'active')))
        .orderBy(asc(users.name), asc(users.email));
    },

    /** Active learners per cohort, for lists. */
    async enrolledCounts(tx?: Db): Promise<Map<number, number>> {
      const rows = await q(tx)
        .select({ cohortId: enrolments.cohortId, n: sql<number>`count(*)` })
        .from(enrolments)
        .where(eq(enrolments.status, 'active'))
        .groupBy(enrolments.cohortId);
      return new Map(rows.map((r) => [r.cohortId, Number(r.n)]));
    },
  };
}

/** Active learners with what their emails need (inside the transaction that emails them). */
export async function learnerContacts(tx: Db, cohortId: number) {
  return tx
    .select({ id: users.id, email: users.email, name: users.name, timezone: users.timezone })
    .from(enrolments)
    .innerJoin(users, eq(users.id, enrolments.userId))
    .where(and(eq(enrolments.cohortId, cohortId), eq(enrolments.status, 'active')))
    .orderBy(asc(users.id));
}
