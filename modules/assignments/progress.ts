// What other modules read of a learner's assignments: week statuses and personal dates, one learner or a whole cohort.
// Certificates read these inside the transaction of the change they react to, so each takes the caller's `tx`.
import { and, asc, count, eq, gt } from 'drizzle-orm';
import { Conflict } from '../../server/errors.js';
import type { Course } from '../courses/content.js';
import type { Db } from '../../server/db.js';
import type { Cohort } from '../cohorts/service.js';
import { extensions, submissions } from './schema.js';
import { byUser, datesFor, personalFrom, statusesFrom } from './records.js';
import type { Deps, PersonalDates, WeekStatusRow } from './types.js';

/** The learner's own due dates and grace end in a cohort, extensions included. */
export async function personalDates(d: Deps, cohortId: number, userId: number, tx?: Db): Promise<PersonalDates> {
  const cohort = await d.cohorts.get(cohortId, tx);
  return datesFor(tx ?? d.database.db, cohort, userId);
}

/** For each week that has an assignment: the learner's status and late flag. */
export async function weekStatuses(d: Deps, cohortId: number, userId: number, tx?: Db): Promise<WeekStatusRow[]> {
  const q = tx ?? d.database.db;
  const cohort = await d.cohorts.get(cohortId, tx);
  const rows = await q
    .select({ week: submissions.week, status: submissions.status, late: submissions.late })
    .from(submissions)
    .where(and(eq(submissions.cohortId, cohortId), eq(submissions.userId, userId)));
  return statusesFrom(cohort, rows);
}

/** weekStatuses for every learner of a cohort from one query; a learner without rows gets all 'none'. */
export async function weekStatusesForCohort(d: Deps, cohort: Cohort, tx?: Db): Promise<(userId: number) => WeekStatusRow[]> {
  const rows = await (tx ?? d.database.db)
    .select({ userId: submissions.userId, week: submissions.week, status: submissions.status, late: submissions.late })
    .from(submissions)
    .where(eq(submissions.cohortId, cohort.id));
  const grouped = byUser(rows);
  return (userId) => statusesFrom(cohort, grouped.get(userId) ?? []);
}

/** The personal grace end of every learner of a cohort (extensions included), from one query. */
export async function graceEndsForCohort(d: Deps, cohort: Cohort, tx?: Db): Promise<(userId: number) => Date> {
  const rows = await (tx ?? d.database.db).select().from(extensions).where(eq(extensions.cohortId, cohort.id)).orderBy(asc(extensions.id));
  const grouped = byUser(rows);
  return (userId) => personalFrom(cohort, grouped.get(userId) ?? []).graceEndsAt;
}

/**
 * Refuse a course version for a cohort when it would take away weeks holding learners' work (drafts included): the
 * answers would have no week to be read in. Inside the version change's transaction (409 keeps the cohort as it is).
 */
export async function refuseLosingWork(tx: Db, cohort: Cohort, next: Course): Promise<void> {
  if (next.weekCount >= cohort.course.weekCount) return;
  const rows = await tx
    .select({ week: submissions.week, n: count() })
    .from(submissions)
    .where(and(eq(submissions.cohortId, cohort.id), gt(submissions.week, next.weekCount)))
    .groupBy(submissions.week)
    .orderBy(asc(submissions.week));
  if (rows.length === 0) return;
  const held = rows.map((r) => `week ${r.week} (${Number(r.n)} ${Number(r.n) === 1 ? 'learner' : 'learners'})`).join(', ');
  throw new Conflict(`This version has ${next.weekCount} weeks, but learners in this cohort have work in ${held}. Their work would have no week to be read in, so the cohort keeps its version; export or review that work first, or publish a version that keeps those weeks.`);
}
