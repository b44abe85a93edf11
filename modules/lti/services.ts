// LTI Advantage services the tool calls on a platform: an OAuth2 access token by client credentials with an RFC 7523
// JWT client assertion; Names and Role Provisioning (a cohort's roster from the platform's course, paged); and
// Assignment and Grade Services (a line item per weekly assignment and the certificate, made once, and scores sent
// from an outbox written in the transaction of the change, retried while the platform is down).
import { randomBytes } from 'node:crypto';
import { and, asc, desc, eq, inArray, isNull, isNotNull, lt, lte, or } from 'drizzle-orm';
import { skipLocked, type Db } from '../../server/db.js';
import { DomainRule, PlatformUnavailable } from '../../server/errors.js';
import { retryDelayMs } from '../../server/mailer.js';
import type { User } from '../people/service.js';
import { ACTIVE } from '../bookings/service.js';
import { latestCertificate } from '../certificates/progress.js';
import type { ToolKeys } from './keys.js';
import type { LtiDeps } from './platforms.js';
import { ltiAccounts, ltiContexts, ltiLineItems, ltiPlatforms, ltiScoreOutbox } from './schema.js';
import { SCOPE, mapRoles, type ContextRow, type PlatformRow } from './model.js';
import type { launchUseCases } from './launch.js';

const MAX_ATTEMPTS = 12;
const LEASE_MS = 60_000;
const BATCH = 25;
const MAX_ROSTER_PAGES = 200;

export interface RosterSyncReport {
  /** Platform courses read. */
  contexts: number;
  members: number;
  /** Learners given a place now (through the booking rules: confirmed, awaiting payment or waitlisted). */
  booked: number;
  /** Learners who already had a place or enrolment. */
  alreadyIn: number;
  /** Instructors and others linked to their platform account, without a place. */
  linked: number;
  /** Inactive or deleted members, and learners the platform gave no email for (no booking without an address). */
  skipped: number;
  refused: Array<{ email: string; reason: string }>;
}

/** A score as AGS takes it (userId and timestamp added when it is sent). */
interface Score {
  scoreGiven?: number;
  scoreMaximum?: number;
  activityProgress: 'Initialized' | 'Started' | 'InProgress' | 'Submitted' | 'Completed';
  gradingProgress: 'FullyGraded' | 'Pending' | 'PendingManual' | 'Failed' | 'NotReady';
  comment?: string;
}

/** A platform's 4xx answer to a score. */
class Refused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The `next` URL of an RFC 8288 Link header, if any. */
export function nextLink(header: string | null): string | null {
  if (!header) return null;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /<([^>]+)>\s*;(.*)/.exec(part.trim());
    if (m && /rel="?([^";]*\s)?next(\s[^";]*)?"?/i.test(m[2])) return m[1];
  }
  return null;
}

/** `${lineItem}/scores`, keeping the line item URL's query string after the path. */
export function scoresUrl(lineItemUrl: string): string {
  const u = new URL(lineItemUrl);
  u.pathname = `${u.pathname.replace(/\/$/, '')}/scores`;
  return u.toString();
}

export function platformServices(deps: LtiDeps, keys: ToolKeys, launches: ReturnType<typeof launchUseCases>) {
  const { database, clock, cohorts, bookings, assignments, log } = deps;
  const owner = randomBytes(6).toString('hex');

  /** Fetch from a platform: a network failure or a 5xx is PlatformUnavailable (503); other answers are returned. */
  async function call(url: string, init: RequestInit, what: string): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(15_000) });
    } catch {
      throw new PlatformUnavailable(`The platform's ${what} cannot be reached just now. Try again in a few minutes.`);
    }
    if (res.status >= 500) throw new PlatformUnavailable(`The platform's ${what} is failing just now (${res.status}). Try again in a few minutes.`);
    return res;
  }

  /** An access token for the scopes, by client credentials with a JWT assertion signed by the tool key (RFC 7523). */
  async function accessToken(platform: PlatformRow, scopes: string[]): Promise<string> {
    const assertion = await keys.sign({}, { expiresInSeconds: 300, issuer: platform.clientId, subject: platform.clientId, audience: platform.tokenUrl });
    const res = await call(
      platform.tokenUrl,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: assertion,
          scope: scopes.join(' '),
        }).toString(),
      },
      'token service',
    );
    const body = (await res.json().catch(() => ({}))) as { access_token?: unknown };
    if (!res.ok || typeof body.access_token !== 'string') {
      throw new DomainRule(`The platform refused this tool an access token (${res.status}). Check the client id and that the platform has the tool's key set URL.`);
    }
    return body.access_token;
  }

  async function platformOf(id: number, tx: Db = database.db): Promise<PlatformRow> {
    const [p] = await tx.select().from(ltiPlatforms).where(eq(ltiPlatforms.id, id)).limit(1);
    return p;
  }

  /** Every member of a platform course, following `Link: rel=next` pages. */
  async function members(platform: PlatformRow, context: ContextRow): Promise<Array<{ user_id: string; roles: string[]; email?: string; name?: string; status?: string }>> {
    const token = await accessToken(platform, [SCOPE.memberships]);
    const out = [];
    let url: string | null = context.membershipsUrl!;
    for (let page = 0; url && page < MAX_ROSTER_PAGES; page++) {
      const res = await call(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/vnd.ims.lti-nrps.v2.membershipcontainer+json' } }, 'roster service');
      if (!res.ok) throw new DomainRule(`The platform refused the roster (${res.status}).`);
      const body = (await res.json()) as { members?: unknown };
      for (const m of Array.isArray(body.members) ? body.members : []) {
        if (m && typeof m === 'object' && typeof (m as { user_id?: unknown }).user_id === 'string') out.push(m as { user_id: string; roles: string[] });
      }
      url = nextLink(res.headers.get('link'));
    }
    return out;
  }

  // ---- AGS ----

  /** What the platform's gradebook should show for the learner now, per line item key. */
  async function scoresFor(tx: Db, cohortId: number, userId: number): Promise<Map<string, Score>> {
    const out = new Map<string, Score>();
    for (const w of await assignments.weekStatuses(cohortId, userId, tx)) {
      if (w.status === 'complete') out.set(`week:${w.week}`, { scoreGiven: 1, scoreMaximum: 1, activityProgress: 'Completed', gradingProgress: 'FullyGraded' });
      else if (w.status === 'submitted') out.set(`week:${w.week}`, { activityProgress: 'Submitted', gradingProgress: 'PendingManual' });
      else if (w.status === 'needs_revision') out.set(`week:${w.week}`, { activityProgress: 'InProgress', gradingProgress: 'PendingManual', comment: 'Needs revision' });
    }
    // The newest certificate: a valid one scores 1; a revoked one 0, so the gradebook no longer shows it as earned.
    const certificate = await latestCertificate(tx, cohortId, userId);
    if (certificate && !certificate.revokedAt) out.set('certificate', { scoreGiven: 1, scoreMaximum: 1, activityProgress: 'Completed', gradingProgress: 'FullyGraded', comment: `Certificate ${certificate.code}` });
    else if (certificate) out.set('certificate', { scoreGiven: 0, scoreMaximum: 1, activityProgress: 'Completed', gradingProgress: 'FullyGraded', comment: `Certificate ${certificate.code} revoked` });
    return out;
  }

  /** A line item's label and ids, for a key ('week:2', 'certificate'). */
  async function lineItemFor(cohortId: number, item: string) {
    const cohort = await cohorts.get(cohortId);
    const week = /^week:(\d+)$/.exec(item);
    return week
      ? { label: `Week ${week[1]}: ${cohort.course.weeks[Number(week[1]) - 1]?.assignment?.title ?? cohort.course.weeks[Number(week[1]) - 1]?.title ?? 'assignment'}`, resourceId: `cohort-${cohortId}-week-${week[1]}`, tag: 'assignment', scoreMaximum: 1 }
      : { label: 'Certificate', resourceId: `cohort-${cohortId}-certificate`, tag: 'certificate', scoreMaximum: 1 };
  }

  /** The platform's line item URL for a key: the stored one, one the platform already has (same resourceId), or a new one. */
  async function ensureLineItem(context: ContextRow, token: string, item: string): Promise<string> {
    const [stored] = await database.db.select().from(ltiLineItems).where(and(eq(ltiLineItems.contextLinkId, context.id), eq(ltiLineItems.item, item))).limit(1);
    if (stored) return stored.url;
    const wanted = await lineItemFor(context.cohortId, item);
    const headers = { authorization: `Bearer ${token}` };
    // Another instance may have made it a moment ago: look before making one.
    const list = await call(context.lineItemsUrl!, { headers: { ...headers, accept: 'application/vnd.ims.lis.v2.lineitemcontainer+json' } }, 'gradebook');
    let url: string | null = null;
    if (list.ok) {
      const items = (await list.json().catch(() => [])) as Array<{ id?: string; resourceId?: string }>;
      url = (Array.isArray(items) ? items : []).find((l) => l.resourceId === wanted.resourceId)?.id ?? null;
    }
    if (!url) {
      const made = await call(context.lineItemsUrl!, { method: 'POST', headers: { ...headers, 'content-type': 'application/vnd.ims.lis.v2.lineitem+json', accept: 'application/vnd.ims.lis.v2.lineitem+json' }, body: JSON.stringify(wanted) }, 'gradebook');
      const body = (await made.json().catch(() => ({}))) as { id?: unknown };
      if (!made.ok || typeof body.id !== 'string') throw new Error(`the platform did not make the line item (${made.status})`);
      url = body.id;
    }
    await database.transaction((tx) => tx.insert(ltiLineItems).values({ contextLinkId: context.id, item, url: url!, createdAt: clock.now() }).onConflictDoNothing());
    const [kept] = await database.db.select().from(ltiLineItems).where(and(eq(ltiLineItems.contextLinkId, context.id), eq(ltiLineItems.item, item))).limit(1);
    return kept.url;
  }

  /** Claim due scores with a lease (read committed with SKIP LOCKED on PostgreSQL, as the mail outbox does). */
  function claim(now: Date) {
    const free = and(eq(ltiScoreOutbox.status, 'pending'), or(isNull(ltiScoreOutbox.leaseUntil), lt(ltiScoreOutbox.leaseUntil, now)));
    return database.transaction(
      async (tx) => {
        const due = await skipLocked(database, tx.select({ id: ltiScoreOutbox.id }).from(ltiScoreOutbox).where(and(free, lte(ltiScoreOutbox.nextAttemptAt, now))).orderBy(asc(ltiScoreOutbox.id)).limit(BATCH));
        if (due.length === 0) return [];
        return tx
          .update(ltiScoreOutbox)
          .set({ leaseUntil: new Date(now.getTime() + LEASE_MS), leaseOwner: owner })
          .where(and(inArray(ltiScoreOutbox.id, due.map((d) => d.id)), free))
          .returning();
      },
      { isolation: 'read committed' },
    );
  }

  function settle(row: typeof ltiScoreOutbox.$inferSelect, patch: Partial<typeof ltiScoreOutbox.$inferInsert>) {
    return database.transaction((tx) =>
      tx
        .update(ltiScoreOutbox)
        .set({ ...patch, leaseUntil: null, leaseOwner: null })
        .where(and(eq(ltiScoreOutbox.id, row.id), eq(ltiScoreOutbox.leaseOwner, owner), eq(ltiScoreOutbox.status, 'pending'))),
    );
  }

  async function deliverOnce(): Promise<{ sent: number; failed: number }> {
    let sent = 0;
    let failed = 0;
    const tokens = new Map<number, string>();
    for (;;) {
      const claimed = await claim(clock.now());
      if (claimed.length === 0) break;
      let batchFailed = 0;
      for (const row of claimed) {
        try {
          const [context] = await database.db.select().from(ltiContexts).where(eq(ltiContexts.id, row.contextLinkId)).limit(1);
          const platform = await platformOf(context.platformId);
          const [account] = await database.db.select().from(ltiAccounts).where(and(eq(ltiAccounts.platformId, platform.id), eq(ltiAccounts.userId, row.userId))).limit(1);
          let token = tokens.get(platform.id);
          if (!token) {
            token = await accessToken(platform, [SCOPE.lineItem, SCOPE.score]);
            tokens.set(platform.id, token);
          }
          const lineItem = await ensureLineItem(context, token, row.item);
          const score = { ...(JSON.parse(row.score) as Score & { timestamp: string }), userId: account.sub };
          const res = await call(scoresUrl(lineItem), { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/vnd.ims.lis.v1.score+json' }, body: JSON.stringify(score) }, 'gradebook');
          if (!res.ok) throw new Refused(res.status, `the platform refused the score (${res.status}): ${(await res.text()).slice(0, 200)}`);
          await settle(row, { status: 'sent', sentAt: clock.now(), attempts: row.attempts + 1, lastError: null });
          sent++;
        } catch (err) {
          const attempts = row.attempts + 1;
          await settle(row, {
            attempts,
            lastError: String((err as Error).message ?? err).slice(0, 500),
            // A platform that refuses the score itself (not its token) will refuse it again: no retries.
            status: attempts >= MAX_ATTEMPTS || (err instanceof Refused && err.status !== 401 && err.status !== 429) ? 'failed' : 'pending',
            nextAttemptAt: new Date(clock.now().getTime() + retryDelayMs(attempts)),
          });
          failed++;
          batchFailed++;
          log.warn({ err, scoreId: row.id, attempts }, 'LTI score delivery failed; will retry');
        }
      }
      if (batchFailed === claimed.length) break;
    }
    return { sent, failed };
  }

  let running: Promise<{ sent: number; failed: number }> | null = null;
  /** Deliver every due score once (one run at a time in this instance; leases keep instances apart). */
  async function deliverScores(): Promise<{ sent: number; failed: number }> {
    while (running) await running.catch(() => undefined);
    running = deliverOnce().finally(() => {
      running = null;
    });
    return running;
  }

  return {
    /**
     * Sync a cohort's roster from the platform courses linked to it (its instructors, admins): every member is linked
     * to a person here (as a launch would); each learner without a place gets one through the booking rules, booked by
     * the caller (a member place when their address is on the member list, else a standalone booking awaiting payment).
     */
    async syncRoster(actor: User, cohortId: number): Promise<RosterSyncReport> {
      const access = await cohorts.access(actor, cohortId, ['admin', 'instructor']);
      const contexts = await database.db.select().from(ltiContexts).where(and(eq(ltiContexts.cohortId, cohortId), isNotNull(ltiContexts.membershipsUrl)));
      if (contexts.length === 0) throw new DomainRule('No platform course with a class list is linked to this cohort yet: open the cohort once from the platform (a launch links it).');
      const report: RosterSyncReport = { contexts: contexts.length, members: 0, booked: 0, alreadyIn: 0, linked: 0, skipped: 0, refused: [] };
      for (const context of contexts) {
        const platform = await platformOf(context.platformId);
        for (const m of await members(platform, context)) {
          report.members++;
          if (m.status && m.status !== 'Active') {
            report.skipped++;
            continue;
          }
          const role = mapRoles(Array.isArray(m.roles) ? m.roles.filter((r) => typeof r === 'string') : []);
          const person = await database.transaction((tx) => launches.personFor(tx, platform, { sub: m.user_id, email: m.email ?? null, name: m.name ?? null }));
          if (role !== 'learner') {
            report.linked++;
            continue;
          }
          if (person.email.endsWith('.lti.invalid')) {
            report.skipped++;
            continue;
          }
          const held = (await cohorts.roleIn(person, cohortId)) !== null || (await bookings.listForUser(person.id)).some((b) => b.cohortId === cohortId && ACTIVE.includes(b.status));
          if (held) {
            report.alreadyIn++;
            continue;
          }
          try {
            const kind = (await bookings.memberMatch(person.email)) ? 'member' : 'standalone';
            await bookings.book({ cohortId: access.cohort.id, email: person.email, name: person.name || m.name || '', kind, actor });
            report.booked++;
          } catch (err) {
            const status = (err as { statusCode?: number }).statusCode ?? 500;
            if (status < 400 || status >= 500) throw err;
            report.refused.push({ email: person.email, reason: String((err as Error).message) });
          }
        }
        await database.transaction((tx) => tx.update(ltiContexts).set({ lastSyncedAt: clock.now() }).where(eq(ltiContexts.id, context.id)));
      }
      return report;
    },

    /** The platform courses linked to a cohort (for its staff page). */
    async contextsOf(cohortId: number): Promise<ContextRow[]> {
      return database.db.select().from(ltiContexts).where(eq(ltiContexts.cohortId, cohortId)).orderBy(asc(ltiContexts.id));
    },

    /**
     * After a learner's progress changed (inside that transaction): queue what each linked platform gradebook should
     * now show for them, item by item, when it differs from what was queued last. Sent after commit.
     */
    async queueScores(tx: Db, cohortId: number, userId: number): Promise<number> {
      const contexts = (await tx.select().from(ltiContexts).where(and(eq(ltiContexts.cohortId, cohortId), isNotNull(ltiContexts.lineItemsUrl)))).filter((c) => c.agsScopes.split(' ').includes(SCOPE.score));
      if (contexts.length === 0) return 0;
      const accounts = await tx.select().from(ltiAccounts).where(and(eq(ltiAccounts.userId, userId), inArray(ltiAccounts.platformId, contexts.map((c) => c.platformId))));
      if (accounts.length === 0) return 0;
      const scores = await scoresFor(tx, cohortId, userId);
      const now = clock.now();
      let queued = 0;
      for (const context of contexts) {
        if (!accounts.some((a) => a.platformId === context.platformId)) continue;
        for (const [item, score] of scores) {
          const text = JSON.stringify(score);
          const [last] = await tx
            .select({ score: ltiScoreOutbox.score })
            .from(ltiScoreOutbox)
            .where(and(eq(ltiScoreOutbox.contextLinkId, context.id), eq(ltiScoreOutbox.userId, userId), eq(ltiScoreOutbox.item, item)))
            .orderBy(desc(ltiScoreOutbox.id))
            .limit(1);
          if (last && JSON.stringify({ ...JSON.parse(last.score), timestamp: undefined }) === text) continue;
          await tx.insert(ltiScoreOutbox).values({ contextLinkId: context.id, userId, item, score: JSON.stringify({ ...score, timestamp: now.toISOString() }), nextAttemptAt: now, createdAt: now });
          queued++;
        }
      }
      if (queued > 0) {
        database.afterCommit(() => {
          deliverScores().catch((err) => log.error({ err }, 'LTI score delivery failed'));
        });
      }
      return queued;
    },

    deliverScores,
  };
}
