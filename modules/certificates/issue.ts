// Issuing certificates: automatically the moment the rules are met (up to the learner's own grace end), when the
// learner switches their wish on, by an admin's hand, the safety-net sweep, and revocation.
import { and, eq, isNull } from 'drizzle-orm';
import { DateTime } from 'luxon';
import type { Db } from '../../server/db.js';
import { BadInput, Conflict, DomainRule, NotFound } from '../../server/errors.js';
import { enrolments } from '../cohorts/schema.js';
import type { Cohort } from '../cohorts/service.js';
import type { User } from '../people/service.js';
import { evaluate, type AttendanceProgress } from './rules.js';
import { base32Code } from './code.js';
import { certificates } from './schema.js';
import { signCredential, type KeyRing, type SigningKey } from './signing.js';
import { allocateStatusIndex, statusEntry } from './status-list.js';
import { cohortSources, enrolmentOf, validCertificate } from './progress.js';
import { byCode, normaliseCode } from './verification.js';
import { certificateUrls, type CertificateDeps, type CertificateRow, type ProgressSources } from './types.js';

const MAX_REASON = 500;

/** Attendance not read yet, taken as enough for any rule (see issueIfEligible). */
const ASSUME_ATTENDED: AttendanceProgress = { attendedOrWatched: Number.POSITIVE_INFINITY, total: 0, missed: [] };

type Snapshot = Omit<CertificateRow, 'id' | 'credential' | 'revokedAt' | 'revokedReason' | 'revokedBy' | 'statusListIndex'>;

/** Who issues certificates, as the credential's issuer profile names it. */
const ISSUER_NAME = 'Cohort Course';

/**
 * The Open Badges 3.0 credential (a W3C Verifiable Credential 2.0) for a certificate, before signing: issued by the
 * signing key's did:key (the issuer profile's id; a verifier requires it to be the proof's key controller), with its
 * bit in the revocation status list that key signs.
 */
function credentialFor(baseUrl: string, c: Snapshot, key: SigningKey, statusListIndex: number) {
  const start = DateTime.fromISO(c.cohortStartDate, { zone: c.cohortTimezone }).toUTC().toISO({ suppressMilliseconds: true });
  return {
    '@context': ['https://www.w3.org/ns/credentials/v2', 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json'],
    id: certificateUrls(baseUrl, c.code).verifyUrl,
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    name: `Certificate of completion: ${c.courseTitle}`,
    description:
      c.earned === 'on_time'
        ? `Completed the live cohort course “${c.courseTitle}” on time.`
        : `Completed the live cohort course “${c.courseTitle}” during the two-week grace period after the cohort ended.`,
    issuer: { id: key.did, type: ['Profile'], name: ISSUER_NAME, url: `${baseUrl}/` },
    validFrom: c.issuedAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    credentialStatus: statusEntry(baseUrl, key.kid, statusListIndex),
    credentialSubject: {
      type: ['AchievementSubject'],
      identifier: [{ type: 'IdentityObject', identityType: 'name', hashed: false, identityHash: c.learnerName }],
      activityStartDate: start,
      activityEndDate: c.cohortEndsAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      creditsEarned: c.hours,
      achievement: {
        id: `${baseUrl}/courses/${c.courseSlug}`,
        type: ['Achievement'],
        achievementType: 'Certificate',
        name: c.courseTitle,
        description: `A live cohort course for library and information professionals (${c.hours} hours of study).`,
        criteria: { narrative: 'Complete the weekly assignments, attend or watch the live sessions and take part in the cohort discussion, as the course sets out.' },
      },
    },
  };
}

/** The issue use cases, judging progress read from `sources()`. */
export function issueUseCases(deps: CertificateDeps, sources: () => ProgressSources, keys: KeyRing) {
  const { database, clock, mailer, baseUrl, people, cohorts, events } = deps;

  /** Insert a certificate and queue the learner's email, inside the caller's transaction; null when one already exists. */
  async function insert(tx: Db, cohort: Cohort, user: User, issued: { how: 'auto' | 'manual'; by: number | null }): Promise<CertificateRow | null> {
    const now = clock.now();
    const rules = cohort.course.certificate;
    const code = base32Code();
    const snapshot: Snapshot = {
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
      earned: now.getTime() <= cohort.timeline.endsAt.getTime() ? 'on_time' : 'grace',
      issued: issued.how,
      issuedBy: issued.by,
    };
    const k = await keys.inside(tx);
    let row: CertificateRow | undefined;
    for (let attempt = 0; !row; attempt++) {
      const statusListIndex = await allocateStatusIndex(tx);
      const signed = signCredential(credentialFor(baseUrl, snapshot, k, statusListIndex), k, now);
      // The partial unique index (one valid certificate per learner and cohort) settles concurrent triggers.
      [row] = await tx
        .insert(certificates)
        .values({ ...snapshot, statusListIndex, credential: JSON.stringify(signed) })
        .onConflictDoNothing()
        .returning();
      if (row) break;
      // Nothing inserted: another valid certificate won, or (rarely) another transaction took the same status bit.
      if ((await validCertificate(tx, cohort.id, user.id)) || attempt >= 5) return null;
    }
    if (!row) return null;
    await mailer.enqueue(tx, {
      to: user.email,
      subject: `Your certificate: ${cohort.course.title}`,
      template: 'certificates-issued',
      data: {
        name: user.name || user.email,
        course: cohort.course.title,
        code,
        earnedOnTime: snapshot.earned === 'on_time',
        ...certificateUrls(baseUrl, code),
        cohortUrl: `${baseUrl}/cohorts/${cohort.id}`,
      },
      dedupeKey: `certificates:issued:${code}`,
    });
    return row;
  }

  /** The sweep for one cohort: how many certificates it issued. */
  async function sweepCohort(cohort: Cohort, now: Date): Promise<number> {
    if (!cohort.course.certificate) return 0;
    if (now.getTime() < cohort.timeline.startsAt.getTime()) return 0;
    // Personal extensions can move a grace end; a week past the cohort's own is a generous outer bound.
    if (now.getTime() > cohort.timeline.graceEndsAt.getTime() + 7 * 86_400_000) return 0;
    const db = database.db;
    const waiting = await db
      .select({ userId: enrolments.userId })
      .from(enrolments)
      .leftJoin(certificates, and(eq(certificates.cohortId, enrolments.cohortId), eq(certificates.userId, enrolments.userId)))
      .where(and(eq(enrolments.cohortId, cohort.id), eq(enrolments.status, 'active'), eq(enrolments.certificateWanted, true), isNull(certificates.id)));
    if (waiting.length === 0) return 0;
    // Read the whole cohort's progress once; only learners who look eligible get the full check (and the issue)
    // in their own transaction, which reads everything again, so nothing is issued on the strength of this read.
    const src = await cohortSources(sources(), db, cohort);
    const rules = cohort.course.certificate;
    let issued = 0;
    for (const { userId } of waiting) {
      if (clock.now().getTime() > (await src.graceEndsAt(userId)).getTime()) continue;
      const facts = { weeks: await src.weekStatuses(userId), attendance: await src.attendance(userId), posts: await src.posts(userId) };
      if (!evaluate(rules, facts).eligible) continue;
      if (await database.transaction((tx) => service.issueIfEligible(tx, cohort.id, userId))) issued++;
    }
    return issued;
  }

  const service = {
    /**
     * The progress reaction: issue the certificate right now, inside the caller's transaction, when the learner wants
     * one, has none yet (a revoked one is not replaced automatically), is still within their grace end, and meets
     * every rule. Every read goes through `tx`.
     */
    async issueIfEligible(tx: Db, cohortId: number, userId: number): Promise<CertificateRow | null> {
      const cohort = await cohorts.get(cohortId, tx);
      if (!cohort.course.certificate) return null;
      const e = await enrolmentOf(tx, cohortId, userId);
      if (!e || e.status !== 'active' || !e.certificateWanted) return null;
      // One already issued (valid or revoked): the reaction never issues another.
      const [any] = await tx
        .select({ id: certificates.id })
        .from(certificates)
        .where(and(eq(certificates.cohortId, cohortId), eq(certificates.userId, userId)))
        .limit(1);
      if (any) return null;
      const src = sources();
      if (clock.now().getTime() > (await src.graceEndsAt(tx, cohortId, userId)).getTime()) return null;
      // The reaction runs on every post, save and review, and most of the time a rule is still unmet. Facts are read
      // cheapest first, each step judged with the facts not yet read taken as met (the rules only ask for "at least"),
      // so a week-1 post stops after one count instead of reading worksheets and attendance too.
      const rules = cohort.course.certificate;
      const posts = await src.posts(tx, cohortId, userId);
      if (!evaluate(rules, { weeks: [], attendance: ASSUME_ATTENDED, posts }).eligible) return null;
      const weeks = await src.weekStatuses(tx, cohortId, userId);
      if (!evaluate(rules, { weeks, attendance: ASSUME_ATTENDED, posts }).eligible) return null;
      if (!evaluate(rules, { weeks, attendance: await src.attendance(tx, cohortId, userId), posts }).eligible) return null;
      return insert(tx, cohort, await people.get(userId, tx), { how: 'auto', by: null });
    },

    /** The learner switches their wish for a certificate; switching it on may issue one at once. */
    async setWanted(cohortId: number, userId: number, wanted: boolean): Promise<{ certificateWanted: boolean; issued: CertificateRow | null }> {
      return database.transaction(async (tx) => {
        const e = await enrolmentOf(tx, cohortId, userId);
        if (!e || e.status !== 'active') throw new NotFound('Enrolment');
        await tx.update(enrolments).set({ certificateWanted: wanted }).where(and(eq(enrolments.cohortId, cohortId), eq(enrolments.userId, userId)));
        return { certificateWanted: wanted, issued: wanted ? await service.issueIfEligible(tx, cohortId, userId) : null };
      });
    },

    /** An admin issues a certificate by hand (rules not checked; also after the grace period). */
    async issueManually(admin: User, cohortId: number, email: string): Promise<CertificateRow> {
      const cohort = await cohorts.get(cohortId);
      if (!cohort.course.certificate) throw new DomainRule('This course does not offer a certificate.');
      const learner = await people.findByEmail(email);
      const e = learner ? await enrolmentOf(database.db, cohortId, learner.id) : undefined;
      if (!learner || !e) throw new DomainRule(`${email.trim().slice(0, 100)} is not enrolled in this cohort.`);
      return database.transaction(async (tx) => {
        if (await validCertificate(tx, cohortId, learner.id)) throw new Conflict(`${learner.email} already has a valid certificate for this cohort.`);
        const row = await insert(tx, cohort, learner, { how: 'manual', by: admin.id });
        if (!row) throw new Conflict(`${learner.email} already has a valid certificate for this cohort.`);
        await events.emit(tx, 'certificate.changed', { cohortId, userId: learner.id, change: 'issued' });
        return row;
      });
    },

    /**
     * An admin revokes a certificate with a reason (shown on the verification page). Its status list bit is set by this
     * alone: the published lists are built from the database at request time.
     */
    async revoke(admin: User, code: string, reason: string): Promise<CertificateRow> {
      const why = reason.trim();
      if (!why) throw new BadInput('say why the certificate is revoked.', 'reason');
      if (why.length > MAX_REASON) throw new BadInput(`at most ${MAX_REASON} characters.`, 'reason');
      const c = normaliseCode(code);
      return database.transaction(async (tx) => {
        const row = c ? await byCode(tx, c) : undefined;
        if (!row) throw new NotFound('Certificate');
        if (row.revokedAt) throw new Conflict('This certificate is already revoked.');
        const [updated] = await tx
          .update(certificates)
          .set({ revokedAt: clock.now(), revokedReason: why, revokedBy: admin.id })
          .where(and(eq(certificates.id, row.id), isNull(certificates.revokedAt)))
          .returning();
        if (!updated) throw new Conflict('This certificate is already revoked.');
        await events.emit(tx, 'certificate.changed', { cohortId: updated.cohortId, userId: updated.userId, change: 'revoked' });
        return updated;
      });
    },

    /**
     * Certificates from before the status list (no index yet) get their bit and are signed again in today's form
     * (did:key issuer and verification method, credentialStatus), with what they certify and their validFrom unchanged:
     * the earlier form named a key in a JWK Set that standard verifiers cannot resolve. Run at start; each certificate
     * in its own transaction, and one that another process upgraded first is left as it is. Returns how many.
     */
    async upgradeCredentials(): Promise<number> {
      const waiting = await database.db.select({ id: certificates.id }).from(certificates).where(isNull(certificates.statusListIndex));
      let upgraded = 0;
      for (const { id } of waiting) {
        const done = await database.transaction(async (tx) => {
          const [row] = await tx.select().from(certificates).where(and(eq(certificates.id, id), isNull(certificates.statusListIndex))).limit(1);
          if (!row) return false;
          const k = await keys.inside(tx);
          const statusListIndex = await allocateStatusIndex(tx);
          const signed = signCredential(credentialFor(baseUrl, row, k, statusListIndex), k, clock.now());
          const changed = await tx
            .update(certificates)
            .set({ statusListIndex, credential: JSON.stringify(signed) })
            .where(and(eq(certificates.id, id), isNull(certificates.statusListIndex)))
            .returning({ id: certificates.id });
          return changed.length > 0;
        });
        if (done) upgraded++;
      }
      return upgraded;
    },

    /**
     * Safety net for the reaction: learners of running or grace-period cohorts who meet the rules but hold no
     * certificate (a progress change that did not announce itself, or a failed check) get theirs. Cohort by cohort,
     * each issue in its own transaction, letting requests in between. Idempotent. Returns how many were issued.
     */
    async sweep(now: Date): Promise<number> {
      let issued = 0;
      for (const cohort of await cohorts.list()) {
        issued += await sweepCohort(cohort, now);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      return issued;
    },
  };
  return service;
}
