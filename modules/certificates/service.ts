// Certificates: progress against the course rules, automatic issue the moment they are met (up to the learner's own
// grace end), manual issue and revocation, verification documents, signed credentials, PDFs and "who is behind" nudges.
import { and, asc, desc, eq, isNull, sql } from 'drizzle-orm';
import { DateTime } from 'luxon';
import type { AppContext } from '../../server/context.js';
import type { Db } from '../../server/db.js';
import { BadInput, Conflict, DomainRule, NotFound } from '../../server/errors.js';
import { formatInstant, localDate } from '../../server/time.js';
import { cohorts, enrolments } from '../cohorts/schema.js';
import type { Cohort } from '../cohorts/service.js';
import { users } from '../people/schema.js';
import type { User } from '../people/service.js';
import { evaluate, type AttendanceProgress, type Evaluation, type ProgressFacts, type WeekProgress } from './rules.js';
import { base32Code } from './code.js';
import { certificateNudges, certificates } from './schema.js';
import { ensureSigningKey, KEYS_PATH, publicKeys, signCredential, type DataIntegrityProof, type PublicJwk, type SigningKey } from './signing.js';

export type CertificateRow = typeof certificates.$inferSelect;

/** Where progress comes from: the assignments, sessions and discussions services (tests may substitute). */
export interface ProgressSources {
  weekStatuses(cohortId: number, userId: number): WeekProgress[];
  /** The learner's own grace end (an extension may move it). */
  graceEndsAt(cohortId: number, userId: number): Date;
  attendance(cohortId: number, userId: number): AttendanceProgress;
  posts(cohortId: number, userId: number): number;
  /**
   * The same four sources for every learner of one cohort, read in a few queries up front (whole-cohort checks: the
   * staff grid, "who is behind", the sweep). Optional: without it each learner is read on their own.
   */
  forCohort?(cohort: Cohort): CohortSources;
}

/** Per-learner sources for one cohort, answered from data read once. */
export interface CohortSources {
  weekStatuses(userId: number): WeekProgress[];
  graceEndsAt(userId: number): Date;
  attendance(userId: number): AttendanceProgress;
  posts(userId: number): number;
}

export interface LearnerProgress {
  userId: number;
  name: string;
  email: string;
  timezone: string | null;
  certificateWanted: boolean;
  graceEndsAt: Date;
  weeks: WeekProgress[];
  evaluation: Evaluation;
  /** The valid certificate, if any. */
  certificate: CertificateRow | null;
  /** The latest revoked one when there is no valid one. */
  revoked: CertificateRow | null;
}

export interface CertificateDoc {
  code: string;
  learner: string;
  course: string;
  courseSlug: string;
  cohort: { id: number; startDate: string; endsAt: string; timezone: string };
  hours: number;
  issuedAt: string;
  status: 'valid' | 'revoked';
  earned: 'on_time' | 'grace';
  issued: 'auto' | 'manual';
  revokedAt: string | null;
  revocationReason: string | null;
  verifyUrl: string;
  pdfUrl: string;
  credentialUrl: string;
  proof: DataIntegrityProof;
}

const LONG_DATE = 'd MMMM yyyy';
// Verification pages show a handful of dates over and over; luxon takes tens of microseconds per date.
const longDates = new Map<string, string>();
function remembered(key: string, make: () => string): string {
  let text = longDates.get(key);
  if (text === undefined) {
    text = make();
    if (longDates.size >= 10_000) longDates.clear();
    longDates.set(key, text);
  }
  return text;
}

/** "2 March 2026" in a zone. */
export function longDate(instant: Date, zone: string): string {
  return remembered(`${instant.getTime()}|${zone}`, () => DateTime.fromJSDate(instant, { zone }).setLocale('en-GB').toFormat(LONG_DATE));
}

/** "2 March 2026" for a local YYYY-MM-DD date. */
function longLocalDate(date: string): string {
  return remembered(date, () => DateTime.fromISO(date).setLocale('en-GB').toFormat(LONG_DATE));
}

/** What the certificates module needs from other modules, read at call time so a missing one never breaks loading. */
function liveSources(ctx: AppContext): ProgressSources {
  type Others = {
    assignments?: { weekStatuses?(c: number, u: number): WeekProgress[]; personalDates?(c: number, u: number): { graceEndsAt: Date } };
    sessions?: { attendanceSummary?(c: number, u: number): AttendanceProgress };
    discussions?: { postCount?(c: number, u: number): number };
  };
  const others = () => ctx as unknown as Others;
  return {
    weekStatuses: (c, u) =>
      others().assignments?.weekStatuses?.(c, u) ??
      ctx.cohorts
        .get(c)
        .course.weeks.filter((w) => w.assignment)
        .map((w) => ({ week: w.number, title: w.assignment!.title, status: 'none' as const, late: false })),
    graceEndsAt: (c, u) => others().assignments?.personalDates?.(c, u).graceEndsAt ?? ctx.cohorts.get(c).timeline.graceEndsAt,
    attendance: (c, u) => others().sessions?.attendanceSummary?.(c, u) ?? { attendedOrWatched: 0, total: ctx.cohorts.get(c).course.sessions.length, missed: [] },
    posts: (c, u) => others().discussions?.postCount?.(c, u) ?? 0,
    forCohort: (cohort) => {
      const o = others() as Others & {
        assignments?: { weekStatusesForCohort?(c: Cohort): (u: number) => WeekProgress[]; graceEndsForCohort?(c: Cohort): (u: number) => Date };
        sessions?: { attendanceForCohort?(c: Cohort): (u: number) => AttendanceProgress };
        discussions?: { postCounts?(c: number): (u: number) => number };
      };
      const weeks = o.assignments?.weekStatusesForCohort?.(cohort);
      const grace = o.assignments?.graceEndsForCohort?.(cohort);
      const attendance = o.sessions?.attendanceForCohort?.(cohort);
      const posts = o.discussions?.postCounts?.(cohort.id);
      const one = liveSources(ctx);
      return {
        weekStatuses: weeks ?? ((u) => one.weekStatuses(cohort.id, u)),
        graceEndsAt: grace ?? ((u) => one.graceEndsAt(cohort.id, u)),
        attendance: attendance ?? ((u) => one.attendance(cohort.id, u)),
        posts: posts ?? ((u) => one.posts(cohort.id, u)),
      };
    },
  };
}

/** Per-learner sources for one cohort: the batch reader when there is one, else one learner at a time. */
function cohortSources(sources: ProgressSources, cohort: Cohort): CohortSources {
  if (sources.forCohort) return sources.forCohort(cohort);
  return {
    weekStatuses: (u) => sources.weekStatuses(cohort.id, u),
    graceEndsAt: (u) => sources.graceEndsAt(cohort.id, u),
    attendance: (u) => sources.attendance(cohort.id, u),
    posts: (u) => sources.posts(cohort.id, u),
  };
}

const PDF_CACHE_SIZE = 64;
const MAX_REASON = 500;

/** Attendance not read yet, taken as enough for any rule (see issueIfEligible). */
const ASSUME_ATTENDED: AttendanceProgress = { attendedOrWatched: Number.POSITIVE_INFINITY, total: 0, missed: [] };

export function createCertificateService(ctx: AppContext) {
  const { clock } = ctx;
  const db = () => ctx.db;
  let sources: ProgressSources = liveSources(ctx);
  let key: SigningKey | null = null;
  const pdfCache = new Map<string, Uint8Array>();
  // The public verification page and the per-learner progress behind every cohort home: prepared once.
  const byCodeStmt = ctx.db.select().from(certificates).where(eq(certificates.code, sql.placeholder('code'))).prepare();
  const enrolmentStmt = ctx.db
    .select({ status: enrolments.status, certificateWanted: enrolments.certificateWanted })
    .from(enrolments)
    .where(and(eq(enrolments.cohortId, sql.placeholder('cohortId')), eq(enrolments.userId, sql.placeholder('userId'))))
    .prepare();
  const validStmt = ctx.db
    .select()
    .from(certificates)
    .where(and(eq(certificates.cohortId, sql.placeholder('cohortId')), eq(certificates.userId, sql.placeholder('userId')), isNull(certificates.revokedAt)))
    .prepare();
  const latestStmt = ctx.db
    .select()
    .from(certificates)
    .where(and(eq(certificates.cohortId, sql.placeholder('cohortId')), eq(certificates.userId, sql.placeholder('userId'))))
    .orderBy(desc(certificates.issuedAt), desc(certificates.id))
    .limit(1)
    .prepare();

  // The progress hook runs on every post, save and review: whether any certificate exists is all it needs to know.
  const anyStmt = ctx.db
    .select({ id: certificates.id })
    .from(certificates)
    .where(and(eq(certificates.cohortId, sql.placeholder('cohortId')), eq(certificates.userId, sql.placeholder('userId'))))
    .limit(1)
    .prepare();

  const urls = (code: string) => ({
    verifyUrl: `${ctx.baseUrl}/certificates/${code}`,
    pdfUrl: `${ctx.baseUrl}/certificates/${code}.pdf`,
    credentialUrl: `${ctx.baseUrl}/api/v1/certificates/${code}/credential.json`,
  });

  function signingKey(tx: Db): SigningKey {
    key ??= ensureSigningKey(tx, clock.now());
    return key;
  }

  // `_tx` marks the caller's transaction: the prepared statements run on the same connection, so they read inside it.
  function enrolment(_tx: Db, cohortId: number, userId: number) {
    return enrolmentStmt.get({ cohortId, userId });
  }

  function validFor(_tx: Db, cohortId: number, userId: number): CertificateRow | undefined {
    return validStmt.get({ cohortId, userId });
  }

  function latestFor(_tx: Db, cohortId: number, userId: number): CertificateRow | undefined {
    return latestStmt.get({ cohortId, userId });
  }

  function factsFor(cohortId: number, userId: number): ProgressFacts {
    return { weeks: sources.weekStatuses(cohortId, userId), attendance: sources.attendance(cohortId, userId), posts: sources.posts(cohortId, userId) };
  }

  /** The Open Badges 3.0 credential (a W3C Verifiable Credential) for a certificate, before signing. */
  function credentialFor(c: Omit<CertificateRow, 'id' | 'credential' | 'revokedAt' | 'revokedReason' | 'revokedBy'>) {
    const start = DateTime.fromISO(c.cohortStartDate, { zone: c.cohortTimezone }).toUTC().toISO({ suppressMilliseconds: true });
    return {
      '@context': ['https://www.w3.org/ns/credentials/v2', 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json'],
      id: urls(c.code).verifyUrl,
      type: ['VerifiableCredential', 'OpenBadgeCredential'],
      name: `Certificate of completion: ${c.courseTitle}`,
      description:
        c.earned === 'on_time'
          ? `Completed the live cohort course “${c.courseTitle}” on time.`
          : `Completed the live cohort course “${c.courseTitle}” during the two-week grace period after the cohort ended.`,
      issuer: { id: `${ctx.baseUrl}/`, type: ['Profile'], name: 'Cohort Course' },
      validFrom: c.issuedAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      credentialSubject: {
        type: ['AchievementSubject'],
        identifier: [{ type: 'IdentityObject', identityType: 'name', hashed: false, identityHash: c.learnerName }],
        activityStartDate: start,
        activityEndDate: c.cohortEndsAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        creditsEarned: c.hours,
        achievement: {
          id: `${ctx.baseUrl}/courses/${c.courseSlug}`,
          type: ['Achievement'],
          achievementType: 'Certificate',
          name: c.courseTitle,
          description: `A live cohort course for library and information professionals (${c.hours} hours of study).`,
          criteria: { narrative: 'Complete the weekly assignments, attend or watch the live sessions and take part in the cohort discussion, as the course sets out.' },
        },
      },
    };
  }

  /** Insert a certificate and queue the learner's email, inside the caller's transaction; null when one already exists. */
  function insert(tx: Db, cohort: Cohort, user: User, issued: { how: 'auto' | 'manual'; by: number | null }): CertificateRow | null {
    const now = clock.now();
    const rules = cohort.course.certificate;
    const code = base32Code();
    const snapshot = {
      code,
      cohortId: cohort.id,
      userId: user.id,
      learnerName: user.name.trim() || user.email,
      courseSlug: cohort.course.slug,
      courseTitle: cohort.course.title,
      cohortStartDate: cohort.startDate,
      cohortEndsAt: cohort.timeline.endsAt,
      cohortTimezone: cohort.timezone,
      hours: rules?.hours ?? cohort.course.hoursPerWeek * cohort.course.weekCount,
      issuedAt: now,
      earned: now.getTime() <= cohort.timeline.endsAt.getTime() ? ('on_time' as const) : ('grace' as const),
      issued: issued.how,
      issuedBy: issued.by,
    };
    const k = signingKey(tx);
    const signed = signCredential(credentialFor(snapshot), k, now, `${ctx.baseUrl}${KEYS_PATH}#${k.kid}`);
    // The partial unique index (one valid certificate per learner and cohort) settles concurrent triggers.
    const row = tx
      .insert(certificates)
      .values({ ...snapshot, credential: JSON.stringify(signed) })
      .onConflictDoNothing()
      .returning()
      .get();
    if (!row) return null;
    const u = urls(code);
    ctx.mailer.enqueue(tx, {
      to: user.email,
      subject: `Your certificate: ${cohort.course.title}`,
      template: 'certificates-issued',
      data: {
        name: user.name || user.email,
        course: cohort.course.title,
        code,
        earnedOnTime: snapshot.earned === 'on_time',
        ...u,
        cohortUrl: `${ctx.baseUrl}/cohorts/${cohort.id}`,
      },
      dedupeKey: `certificates:issued:${code}`,
    });
    return row;
  }

  /** The sweep for one cohort: how many certificates it issued. */
  function sweepCohort(cohort: Cohort, now: Date): number {
    if (!cohort.course.certificate) return 0;
    if (now.getTime() < cohort.timeline.startsAt.getTime()) return 0;
    // Personal extensions can move a grace end; a week past the cohort's own is a generous outer bound.
    if (now.getTime() > cohort.timeline.graceEndsAt.getTime() + 7 * 86_400_000) return 0;
    const waiting = db()
      .select({ userId: enrolments.userId })
      .from(enrolments)
      .leftJoin(certificates, and(eq(certificates.cohortId, enrolments.cohortId), eq(certificates.userId, enrolments.userId)))
      .where(and(eq(enrolments.cohortId, cohort.id), eq(enrolments.status, 'active'), eq(enrolments.certificateWanted, true), isNull(certificates.id)))
      .all();
    if (waiting.length === 0) return 0;
    // Read the whole cohort's progress once; only learners who look eligible get the full check (and the issue)
    // in their own transaction, which reads everything again, so nothing is issued on the strength of this read.
    const src = cohortSources(sources, cohort);
    const rules = cohort.course.certificate;
    let issued = 0;
    for (const { userId } of waiting) {
      if (clock.now().getTime() > src.graceEndsAt(userId).getTime()) continue;
      if (!evaluate(rules, { weeks: src.weekStatuses(userId), attendance: src.attendance(userId), posts: src.posts(userId) }).eligible) continue;
      if (db().transaction((tx) => service.issueIfEligible(tx, cohort.id, userId))) issued++;
    }
    return issued;
  }

  const service = {
    /** Replace where progress is read from (tests); null restores the real modules. */
    useSources(replacement: Partial<ProgressSources> | null): void {
      // A replaced per-learner source must be what whole-cohort checks read too: drop the batch reader unless given.
      sources = replacement ? { ...liveSources(ctx), forCohort: undefined, ...replacement } : liveSources(ctx);
    },

    /** Create the signing key if this database has none yet (at start, so the first certificate does not pay for it). */
    ensureKey(): SigningKey {
      return signingKey(db());
    },

    /**
     * The progress hook: issue the certificate right now, inside the caller's transaction, when the learner wants one,
     * has none yet (a revoked one is not replaced automatically), is still within their grace end, and meets every rule.
     */
    issueIfEligible(tx: Db, cohortId: number, userId: number): CertificateRow | null {
      const cohort = ctx.cohorts.get(cohortId);
      if (!cohort.course.certificate) return null;
      const e = enrolment(tx, cohortId, userId);
      if (!e || e.status !== 'active' || !e.certificateWanted) return null;
      // One already issued (valid or revoked): the hook never issues another.
      if (anyStmt.get({ cohortId, userId })) return null;
      if (clock.now().getTime() > sources.graceEndsAt(cohortId, userId).getTime()) return null;
      // The hook runs on every post, save and review, and most of the time a rule is still unmet. Facts are read
      // cheapest first, each step judged with the facts not yet read taken as met (the rules only ask for "at least"),
      // so a week-1 post stops after one count instead of reading worksheets and attendance too.
      const rules = cohort.course.certificate;
      const posts = sources.posts(cohortId, userId);
      if (!evaluate(rules, { weeks: [], attendance: ASSUME_ATTENDED, posts }).eligible) return null;
      const weeks = sources.weekStatuses(cohortId, userId);
      if (!evaluate(rules, { weeks, attendance: ASSUME_ATTENDED, posts }).eligible) return null;
      if (!evaluate(rules, { weeks, attendance: sources.attendance(cohortId, userId), posts }).eligible) return null;
      return insert(tx, cohort, ctx.people.get(userId), { how: 'auto', by: null });
    },

    /** One learner's progress towards the certificate. */
    progress(cohort: Cohort, user: Pick<User, 'id' | 'name' | 'email' | 'timezone'>): LearnerProgress {
      const e = enrolment(db(), cohort.id, user.id);
      const facts = factsFor(cohort.id, user.id);
      const certificate = validFor(db(), cohort.id, user.id) ?? null;
      const latest = certificate ? null : (latestFor(db(), cohort.id, user.id) ?? null);
      return {
        userId: user.id,
        name: user.name || user.email,
        email: user.email,
        timezone: user.timezone,
        certificateWanted: e?.certificateWanted ?? false,
        graceEndsAt: sources.graceEndsAt(cohort.id, user.id),
        weeks: facts.weeks,
        evaluation: evaluate(cohort.course.certificate, facts),
        certificate,
        revoked: latest?.revokedAt ? latest : null,
      };
    },

    /** Progress of every active learner of a cohort, by name (read cohort-wide in a few queries, not per learner). */
    cohortProgress(cohort: Cohort): LearnerProgress[] {
      const roster = db()
        .select({ id: users.id, name: users.name, email: users.email, timezone: users.timezone, certificateWanted: enrolments.certificateWanted })
        .from(enrolments)
        .innerJoin(users, eq(users.id, enrolments.userId))
        .where(and(eq(enrolments.cohortId, cohort.id), eq(enrolments.status, 'active')))
        .orderBy(asc(users.name), asc(users.email))
        .all();
      if (roster.length === 0) return [];
      const src = cohortSources(sources, cohort);
      // Every certificate of the cohort, newest first: the first valid one per learner, else their latest.
      const certs = db()
        .select()
        .from(certificates)
        .where(eq(certificates.cohortId, cohort.id))
        .orderBy(desc(certificates.issuedAt), desc(certificates.id))
        .all();
      const valid = new Map<number, CertificateRow>();
      const latest = new Map<number, CertificateRow>();
      for (const c of certs) {
        if (!latest.has(c.userId)) latest.set(c.userId, c);
        if (!c.revokedAt && !valid.has(c.userId)) valid.set(c.userId, c);
      }
      return roster.map((u) => {
        const facts: ProgressFacts = { weeks: src.weekStatuses(u.id), attendance: src.attendance(u.id), posts: src.posts(u.id) };
        const certificate = valid.get(u.id) ?? null;
        const last = certificate ? null : (latest.get(u.id) ?? null);
        return {
          userId: u.id,
          name: u.name || u.email,
          email: u.email,
          timezone: u.timezone,
          certificateWanted: u.certificateWanted,
          graceEndsAt: src.graceEndsAt(u.id),
          weeks: facts.weeks,
          evaluation: evaluate(cohort.course.certificate, facts),
          certificate,
          revoked: last?.revokedAt ? last : null,
        };
      });
    },

    /** "Who is behind": learners seeking a certificate without one, furthest from it first. */
    behind(cohort: Cohort): { behind: LearnerProgress[]; done: LearnerProgress[]; notSeeking: LearnerProgress[] } {
      const all = service.cohortProgress(cohort);
      const done = all.filter((p) => p.certificate);
      const notSeeking = all.filter((p) => !p.certificate && !p.certificateWanted);
      const behind = all
        .filter((p) => !p.certificate && p.certificateWanted)
        .sort((a, b) => b.evaluation.distance - a.evaluation.distance || a.name.localeCompare(b.name, 'en'));
      return { behind, done, notSeeking };
    },

    /** The learner switches their wish for a certificate; switching it on may issue one at once. */
    setWanted(cohortId: number, userId: number, wanted: boolean): { certificateWanted: boolean; issued: CertificateRow | null } {
      return db().transaction((tx) => {
        const e = enrolment(tx, cohortId, userId);
        if (!e || e.status !== 'active') throw new NotFound('Enrolment');
        tx.update(enrolments).set({ certificateWanted: wanted }).where(and(eq(enrolments.cohortId, cohortId), eq(enrolments.userId, userId))).run();
        return { certificateWanted: wanted, issued: wanted ? service.issueIfEligible(tx, cohortId, userId) : null };
      });
    },

    /** An admin issues a certificate by hand (rules not checked; also after the grace period). */
    issueManually(admin: User, cohortId: number, email: string): CertificateRow {
      const cohort = ctx.cohorts.get(cohortId);
      if (!cohort.course.certificate) throw new DomainRule('This course does not offer a certificate.');
      const learner = ctx.people.findByEmail(email);
      const e = learner ? enrolment(db(), cohortId, learner.id) : undefined;
      if (!learner || !e) throw new DomainRule(`${email.trim().slice(0, 100)} is not enrolled in this cohort.`);
      return db().transaction((tx) => {
        if (validFor(tx, cohortId, learner.id)) throw new Conflict(`${learner.email} already has a valid certificate for this cohort.`);
        const row = insert(tx, cohort, learner, { how: 'manual', by: admin.id });
        if (!row) throw new Conflict(`${learner.email} already has a valid certificate for this cohort.`);
        return row;
      });
    },

    /** An admin revokes a certificate with a reason (shown on the verification page). */
    revoke(admin: User, code: string, reason: string): CertificateRow {
      const why = reason.trim();
      if (!why) throw new BadInput('reason: say why the certificate is revoked.');
      if (why.length > MAX_REASON) throw new BadInput(`reason: at most ${MAX_REASON} characters.`);
      const row = service.find(code);
      if (!row) throw new NotFound('Certificate');
      if (row.revokedAt) throw new Conflict('This certificate is already revoked.');
      const updated = db()
        .update(certificates)
        .set({ revokedAt: clock.now(), revokedReason: why, revokedBy: admin.id })
        .where(and(eq(certificates.id, row.id), isNull(certificates.revokedAt)))
        .returning()
        .get();
      if (!updated) throw new Conflict('This certificate is already revoked.');
      return updated;
    },

    /** The certificate with this code (case-insensitive), if any. */
    find(code: string): CertificateRow | undefined {
      const c = code.trim().toUpperCase();
      if (c.length < 16 || c.length > 64) return undefined;
      return byCodeStmt.get({ code: c });
    },

    /** Every certificate, newest first (optionally one cohort's). */
    list(cohortId?: number): Array<CertificateRow & { email: string }> {
      const q = db()
        .select({ c: certificates, email: users.email })
        .from(certificates)
        .innerJoin(users, eq(users.id, certificates.userId))
        .where(cohortId ? eq(certificates.cohortId, cohortId) : undefined)
        .orderBy(desc(certificates.issuedAt), desc(certificates.id))
        .all();
      return q.map((r) => ({ ...r.c, email: r.email }));
    },

    /** Counts for dashboards. */
    counts(cohortId?: number): { valid: number; revoked: number } {
      const rows = db()
        .select({ revoked: sql<number>`revoked_at is not null`, n: sql<number>`count(*)` })
        .from(certificates)
        .where(cohortId ? eq(certificates.cohortId, cohortId) : undefined)
        .groupBy(sql`revoked_at is not null`)
        .all();
      return { valid: rows.find((r) => !r.revoked)?.n ?? 0, revoked: rows.find((r) => r.revoked)?.n ?? 0 };
    },

    /** A user's certificates (for "My courses"). */
    forUser(userId: number): CertificateRow[] {
      return db().select().from(certificates).where(eq(certificates.userId, userId)).orderBy(desc(certificates.issuedAt)).all();
    },

    /** The public verification document. */
    doc(row: CertificateRow): CertificateDoc {
      const signed = JSON.parse(row.credential) as { proof: DataIntegrityProof };
      return {
        code: row.code,
        learner: row.learnerName,
        course: row.courseTitle,
        courseSlug: row.courseSlug,
        cohort: { id: row.cohortId, startDate: row.cohortStartDate, endsAt: row.cohortEndsAt.toISOString(), timezone: row.cohortTimezone },
        hours: row.hours,
        issuedAt: row.issuedAt.toISOString(),
        status: row.revokedAt ? 'revoked' : 'valid',
        earned: row.earned,
        issued: row.issued,
        revokedAt: row.revokedAt?.toISOString() ?? null,
        revocationReason: row.revokedReason ?? null,
        ...urls(row.code),
        proof: signed.proof,
      };
    },

    /** The signed Open Badges 3.0 credential, exactly as signed at issue. */
    credential(row: CertificateRow): Record<string, unknown> {
      return JSON.parse(row.credential) as Record<string, unknown>;
    },

    /** The published key set (JWKS). */
    keySet(): { keys: PublicJwk[] } {
      service.ensureKey();
      return { keys: publicKeys(db()) };
    },

    /** What the verification page and PDF show, formatted in the cohort's zone. */
    view(row: CertificateRow) {
      return {
        code: row.code,
        learner: row.learnerName,
        course: row.courseTitle,
        courseSlug: row.courseSlug,
        dates: `${longLocalDate(row.cohortStartDate)} – ${longDate(row.cohortEndsAt, row.cohortTimezone)}`,
        hours: row.hours,
        issuedOn: longDate(row.issuedAt, row.cohortTimezone),
        earned: row.earned,
        onTime: row.earned === 'on_time',
        valid: !row.revokedAt,
        revokedOn: row.revokedAt ? longDate(row.revokedAt, row.cohortTimezone) : null,
        revocationReason: row.revokedReason,
        manual: row.issued === 'manual',
        ...urls(row.code),
      };
    },

    /** The PDF (cached per code and revocation state: it never changes otherwise). */
    async pdf(row: CertificateRow): Promise<Uint8Array> {
      const cacheKey = `${row.code}:${row.revokedAt?.getTime() ?? ''}`;
      const hit = pdfCache.get(cacheKey);
      if (hit) return hit;
      const v = service.view(row);
      // pdf-lib and fontkit are loaded on the first PDF, not at start: they are about 20 MB of memory.
      const { renderCertificatePdf } = await import('./pdf.js');
      const bytes = await renderCertificatePdf({
        code: row.code,
        learnerName: row.learnerName,
        courseTitle: row.courseTitle,
        dates: v.dates,
        hours: row.hours,
        issuedOn: v.issuedOn,
        earned: row.earned,
        verifyUrl: v.verifyUrl,
        issuedAt: row.issuedAt,
        revoked: row.revokedAt ? { on: v.revokedOn!, reason: row.revokedReason ?? '' } : null,
      });
      if (pdfCache.size >= PDF_CACHE_SIZE) pdfCache.delete(pdfCache.keys().next().value!);
      pdfCache.set(cacheKey, bytes);
      return bytes;
    },

    /**
     * Email a learner what they still need for the certificate and their grace deadline in their own zone.
     * At most once per learner per day (the cohort's local day); returns false when already nudged today.
     */
    nudge(staff: User, cohort: Cohort, userId: number): { sent: boolean; learner: LearnerProgress } {
      const learner = service.cohortProgress(cohort).find((p) => p.userId === userId);
      if (!learner) throw new NotFound('Learner');
      if (learner.certificate) throw new DomainRule(`${learner.name} already has a certificate.`);
      if (!learner.certificateWanted) throw new DomainRule(`${learner.name} chose not to receive a certificate.`);
      if (learner.revoked) throw new DomainRule(`${learner.name}’s certificate was revoked; only an admin can issue a new one.`);
      const now = clock.now();
      if (now.getTime() > learner.graceEndsAt.getTime()) throw new DomainRule('The grace period has ended: no certificate can be earned now.');
      if (learner.evaluation.eligible) throw new DomainRule(`${learner.name} has nothing left to do.`);
      const day = localDate(now, cohort.timezone);
      const zone = learner.timezone || cohort.timezone;
      const sent = db().transaction((tx) => {
        const res = tx.insert(certificateNudges).values({ cohortId: cohort.id, userId, day, sentBy: staff.id, sentAt: now }).onConflictDoNothing().run();
        if (res.changes === 0) return false;
        ctx.mailer.enqueue(tx, {
          to: learner.email,
          subject: `What is left for your certificate: ${cohort.course.title}`,
          template: 'certificates-nudge',
          data: {
            name: learner.name,
            course: cohort.course.title,
            missing: learner.evaluation.missing,
            deadline: formatInstant(learner.graceEndsAt, zone),
            instructor: staff.name || staff.email,
            cohortUrl: `${ctx.baseUrl}/cohorts/${cohort.id}`,
          },
          dedupeKey: `certificates:nudge:${cohort.id}:${userId}:${day}`,
        });
        return true;
      });
      return { sent, learner };
    },

    /** The last nudge per learner of a cohort (for the "who is behind" view). */
    lastNudges(cohortId: number): Map<number, Date> {
      const rows = db()
        .select({ userId: certificateNudges.userId, at: sql<number>`max(${certificateNudges.sentAt})` })
        .from(certificateNudges)
        .where(eq(certificateNudges.cohortId, cohortId))
        .groupBy(certificateNudges.userId)
        .all();
      return new Map(rows.map((r) => [r.userId, new Date(r.at)]));
    },

    /**
     * Safety net for the hook: learners of running or grace-period cohorts who meet the rules but hold no certificate
     * (a progress change that did not notify, or a failed issue) get theirs. Idempotent. Returns how many were issued.
     */
    sweep(now: Date): number {
      let issued = 0;
      for (const cohort of ctx.cohorts.list()) issued += sweepCohort(cohort, now);
      return issued;
    },

    /** The sweep one cohort at a time, letting requests in between (the scheduler's way: it never blocks for long). */
    async sweepInSteps(now: Date): Promise<number> {
      let issued = 0;
      for (const cohort of ctx.cohorts.list()) {
        issued += sweepCohort(cohort, now);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      return issued;
    },
  };
  return service;
}

export type CertificateService = ReturnType<typeof createCertificateService>;
