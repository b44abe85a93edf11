// Progress towards the certificate: the facts read from assignments, sessions and discussions, judged by the course
// rules, for one learner (the cohort home, the API) or a whole cohort (the staff grid, "who is behind", the sweep).
import { and, asc, desc, eq, isNull } from 'drizzle-orm';
import type { Db } from '../../server/db.js';
import { enrolments } from '../cohorts/schema.js';
import type { Cohort } from '../cohorts/service.js';
import { users } from '../people/schema.js';
import type { User } from '../people/service.js';
import { evaluate, type ProgressFacts } from './rules.js';
import { certificates } from './schema.js';
import type { CertificateDeps, CertificateRow, CohortSources, LearnerProgress, ProgressSources } from './types.js';

/** Progress as the assignments, sessions and discussions services report it. */
export function liveSources({ assignments, sessions, discussions }: CertificateDeps): ProgressSources {
  return {
    weekStatuses: (tx, c, u) => assignments.weekStatuses(c, u, tx),
    graceEndsAt: async (tx, c, u) => (await assignments.personalDates(c, u, tx)).graceEndsAt,
    attendance: (tx, c, u) => sessions.attendanceSummary(c, u, tx),
    posts: (tx, c, u) => discussions.postCount(c, u, tx),
    async forCohort(tx, cohort) {
      const weeks = await assignments.weekStatusesForCohort(cohort, tx);
      const grace = await assignments.graceEndsForCohort(cohort, tx);
      const attendance = await sessions.attendanceForCohort(cohort, tx);
      const posts = await discussions.postCounts(cohort.id, tx);
      return {
        weekStatuses: async (u) => weeks(u),
        graceEndsAt: async (u) => grace(u),
        attendance: async (u) => attendance(u),
        posts: async (u) => posts(u),
      };
    },
  };
}

/** Per-learner sources for one cohort: the batch reader when there is one, else one learner at a time. */
export async function cohortSources(sources: ProgressSources, tx: Db, cohort: Cohort): Promise<CohortSources> {
  if (sources.forCohort) return sources.forCohort(tx, cohort);
  return {
    weekStatuses: (u) => sources.weekStatuses(tx, cohort.id, u),
    graceEndsAt: (u) => sources.graceEndsAt(tx, cohort.id, u),
    attendance: (u) => sources.attendance(tx, cohort.id, u),
    posts: (u) => sources.posts(tx, cohort.id, u),
  };
}

/** The learner's enrolment (status and wish), through `tx`. */
export async function enrolmentOf(tx: Db, cohortId: number, userId: number) {
  const [row] = await tx
    .select({ status: enrolments.status, certificateWanted: enrolments.certificateWanted })
    .from(enrolments)
    .where(and(eq(enrolments.cohortId, cohortId), eq(enrolments.userId, userId)))
    .limit(1);
  return row;
}

/** The learner's valid certificate in a cohort, if any, through `tx`. */
export async function validCertificate(tx: Db, cohortId: number, userId: number): Promise<CertificateRow | undefined> {
  const [row] = await tx
    .select()
    .from(certificates)
    .where(and(eq(certificates.cohortId, cohortId), eq(certificates.userId, userId), isNull(certificates.revokedAt)))
    .limit(1);
  return row;
}

/** The learner's newest certificate in a cohort, valid or revoked. */
export async function latestCertificate(tx: Db, cohortId: number, userId: number): Promise<CertificateRow | undefined> {
  const [row] = await tx
    .select()
    .from(certificates)
    .where(and(eq(certificates.cohortId, cohortId), eq(certificates.userId, userId)))
    .orderBy(desc(certificates.issuedAt), desc(certificates.id))
    .limit(1);
  return row;
}

/** The progress use cases, reading from `sources()` (the live modules, or a test's substitute). */
export function progressUseCases(deps: CertificateDeps, sources: () => ProgressSources) {
  const { database } = deps;

  const service = {
    /** One learner's progress towards the certificate. */
    async progress(cohort: Cohort, user: Pick<User, 'id' | 'name' | 'email' | 'timezone'>): Promise<LearnerProgress> {
      const db = database.db;
      const src = sources();
      const e = await enrolmentOf(db, cohort.id, user.id);
      const facts: ProgressFacts = {
        weeks: await src.weekStatuses(db, cohort.id, user.id),
        attendance: await src.attendance(db, cohort.id, user.id),
        posts: await src.posts(db, cohort.id, user.id),
      };
      const certificate = (await validCertificate(db, cohort.id, user.id)) ?? null;
      const latest = certificate ? null : ((await latestCertificate(db, cohort.id, user.id)) ?? null);
      return {
        userId: user.id,
        name: user.name || user.email,
        email: user.email,
        timezone: user.timezone,
        certificateWanted: e?.certificateWanted ?? false,
        graceEndsAt: await src.graceEndsAt(db, cohort.id, user.id),
        weeks: facts.weeks,
        evaluation: evaluate(cohort.course.certificate, facts),
        certificate,
        revoked: latest?.revokedAt ? latest : null,
      };
    },

    /** Progress of every active learner of a cohort, by name (read cohort-wide in a few queries, not per learner). */
    async cohortProgress(cohort: Cohort): Promise<LearnerProgress[]> {
      const db = database.db;
      const roster = await db
        .select({ id: users.id, name: users.name, email: users.email, timezone: users.timezone, certificateWanted: enrolments.certificateWanted })
        .from(enrolments)
        .innerJoin(users, eq(users.id, enrolments.userId))
        .where(and(eq(enrolments.cohortId, cohort.id), eq(enrolments.status, 'active')))
        .orderBy(asc(users.name), asc(users.email));
      if (roster.length === 0) return [];
      const src = await cohortSources(sources(), db, cohort);
      // Every certificate of the cohort, newest first: the first valid one per learner, else their latest.
      const certs = await db
        .select()
        .from(certificates)
        .where(eq(certificates.cohortId, cohort.id))
        .orderBy(desc(certificates.issuedAt), desc(certificates.id));
      const valid = new Map<number, CertificateRow>();
      const latest = new Map<number, CertificateRow>();
      for (const c of certs) {
        if (!latest.has(c.userId)) latest.set(c.userId, c);
        if (!c.revokedAt && !valid.has(c.userId)) valid.set(c.userId, c);
      }
      const out: LearnerProgress[] = [];
      for (const u of roster) {
        const facts: ProgressFacts = { weeks: await src.weekStatuses(u.id), attendance: await src.attendance(u.id), posts: await src.posts(u.id) };
        const certificate = valid.get(u.id) ?? null;
        const last = certificate ? null : (latest.get(u.id) ?? null);
        out.push({
          userId: u.id,
          name: u.name || u.email,
          email: u.email,
          timezone: u.timezone,
          certificateWanted: u.certificateWanted,
          graceEndsAt: await src.graceEndsAt(u.id),
          weeks: facts.weeks,
          evaluation: evaluate(cohort.course.certificate, facts),
          certificate,
          revoked: last?.revokedAt ? last : null,
        });
      }
      return out;
    },

    /** "Who is behind": learners seeking a certificate without one, furthest from it first. */
    async behind(cohort: Cohort): Promise<{ behind: LearnerProgress[]; done: LearnerProgress[]; notSeeking: LearnerProgress[] }> {
      const all = await service.cohortProgress(cohort);
      const done = all.filter((p) => p.certificate);
      const notSeeking = all.filter((p) => !p.certificate && !p.certificateWanted);
      const behind = all
        .filter((p) => !p.certificate && p.certificateWanted)
        .sort((a, b) => b.evaluation.distance - a.evaluation.distance || a.name.localeCompare(b.name, 'en'));
      return { behind, done, notSeeking };
    },
  };
  return service;
}

export type ProgressUseCases = ReturnType<typeof progressUseCases>;
