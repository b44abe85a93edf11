// The daily digest: once per local day each member gets one email of the new posts by others in their cohorts.
import { and, asc, eq, gt, inArray, isNotNull, isNull, lte, notExists, sql } from 'drizzle-orm';
import sanitizeHtml from 'sanitize-html';
import { formatDay, formatInstant } from '../../server/time.js';
import { cohortInstructors, cohorts as cohortTable, enrolments } from '../cohorts/schema.js';
import type { Cohort } from '../cohorts/service.js';
import { users } from '../people/schema.js';
import { discussionDigests, posts, threads } from './schema.js';
import { displayName, type DiscussionDeps } from './common.js';

/** The local hour from which a user's daily digest goes out. */
export const DIGEST_HOUR = 7;
/** Posts listed per thread in a digest before "and N more". */
const DIGEST_POSTS_PER_THREAD = 5;
const EXCERPT_CHARS = 240;
/** Ids per statement when reading members in bulk (SQLite allows at most 32,766 bound values). */
const ID_CHUNK = 10_000;
/** Members whose digests are written between two pauses of runDigestInSteps. */
const MEMBERS_PER_STEP = 50;

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** Plain text of sanitised HTML, shortened for digests and panels. */
export function excerpt(html: string, max = EXCERPT_CHARS): string {
  const text = sanitizeHtml(html.replace(/<\/(p|li|h\d|blockquote|pre|tr)>/g, ' $&'), { allowedTags: [], allowedAttributes: {} })
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
      if (e[0] === '#') {
        const code = e[1].toLowerCase() === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return Number.isFinite(code) && code > 0 && code < 0x110000 ? String.fromCodePoint(code) : m;
      }
      return ENTITIES[e.toLowerCase()] ?? m;
    })
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > max ? `${text.slice(0, max - 1).trimEnd()}…` : text;
}

/** A post as the digest reads it. */
interface DigestRow {
  id: number;
  cohortId: number;
  threadId: number;
  html: string;
  createdAt: Date;
  authorId: number;
  authorName: string;
  threadTitle: string;
  week: number | null;
}

/** User ids per cohort, keeping the rows' order. */
function groupByCohort(rows: Array<{ cohortId: number; userId: number }>): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const r of rows) {
    const list = out.get(r.cohortId);
    if (list) list.push(r.userId);
    else out.set(r.cohortId, [r.userId]);
  }
  return out;
}

/** A post's digest excerpt, made once per digest run however many members' emails show it. */
function runExcerpt(texts: Map<number, string>, row: { id: number; html: string }): string {
  let text = texts.get(row.id);
  if (text === undefined) {
    text = excerpt(row.html);
    texts.set(row.id, text);
  }
  return text;
}

// Building an Intl.DateTimeFormat is slow and members share a few zones: one formatter per zone for the process.
const localPartsFormatters = new Map<string, Intl.DateTimeFormat>();

/** The local calendar day and hour of an instant in a zone. */
function localDayHour(instant: Date, zone: string): { day: string; hour: number } {
  let f = localPartsFormatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', hourCycle: 'h23' });
    localPartsFormatters.set(zone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(instant).map((p) => [p.type, p.value]));
  return { day: `${parts.year}-${parts.month}-${parts.day}`, hour: Number(parts.hour) };
}

/** The local day and hour in a zone at `now`, worked out once per zone for one run. */
function localClock(now: Date): (zone: string) => { day: string; hour: number } {
  const byZone = new Map<string, { day: string; hour: number }>();
  return (zone) => {
    let local = byZone.get(zone);
    if (!local) byZone.set(zone, (local = localDayHour(now, zone)));
    return local;
  };
}

/**
 * Whether any member of a live cohort may be due a digest now: past the digest hour in their zone (their own, else a
 * cohort's) with none for that local day yet. One query, so the tick stays cheap on a large install: reading every
 * member into JavaScript to find nobody due took 3 s of CPU (half of it garbage collection) every 30 s with 100,000
 * members. It may say yes for someone the full check then skips (a member whose zone comes from another of their
 * cohorts), never no for someone due.
 */
async function anyoneMayBeDue(deps: DiscussionDeps, live: Cohort[], localIn: (zone: string) => { day: string; hour: number }): Promise<boolean> {
  const db = deps.database.db;
  const liveIds = live.map((c) => c.id);
  const zoneNames = new Set(live.map((c) => c.timezone));
  for (const r of await db.selectDistinct({ zone: users.timezone }).from(users).where(isNotNull(users.timezone))) {
    if (r.zone !== null) zoneNames.add(r.zone);
  }
  const zones: Array<{ zone: string; day: string }> = [];
  for (const zone of zoneNames) {
    let local: { day: string; hour: number };
    try {
      local = localIn(zone);
    } catch {
      return true; // a zone Intl does not know: leave it to the full check
    }
    if (local.hour >= DIGEST_HOUR) zones.push({ zone, day: local.day });
  }
  if (zones.length === 0) return false;
  const members = db
    .select({ userId: enrolments.userId, cohortZone: cohortTable.timezone })
    .from(enrolments)
    .innerJoin(cohortTable, eq(cohortTable.id, enrolments.cohortId))
    .where(and(inArray(enrolments.cohortId, liveIds), eq(enrolments.status, 'active')))
    .unionAll(
      db
        .select({ userId: cohortInstructors.userId, cohortZone: cohortTable.timezone })
        .from(cohortInstructors)
        .innerJoin(cohortTable, eq(cohortTable.id, cohortInstructors.cohortId))
        .where(inArray(cohortInstructors.cohortId, liveIds)),
    )
    .as('m');
  // The local day a member's digest would be for, when their zone is past the digest hour (else null).
  const zone = sql`coalesce(${users.timezone}, ${members.cohortZone})`;
  const dueDay = sql`(case ${zone} ${sql.join(
    zones.map((z) => sql`when ${z.zone} then ${z.day}`),
    sql` `,
  )} end)`;
  const [row] = await db
    .select({ one: sql<number>`1` })
    .from(members)
    .innerJoin(users, and(eq(users.id, members.userId), eq(users.digestOptOut, false)))
    .where(
      and(
        sql`${dueDay} is not null`,
        notExists(
          db
            .select({ one: sql`1` })
            .from(discussionDigests)
            .where(and(eq(discussionDigests.userId, users.id), sql`${discussionDigests.day} >= ${dueDay}`)),
        ),
      ),
    )
    .limit(1);
  return row !== undefined;
}

/** The digest's view model: cohorts, then threads with a few post excerpts each. */
function digestModel(deps: DiscussionDeps, cohortList: Cohort[], rows: DigestRow[], zone: string, texts: Map<number, string>) {
  const out: Array<{ title: string; threads: Array<{ title: string; url: string; count: number; posts: Array<{ author: string; when: string; text: string }>; more: number }> }> = [];
  for (const cohort of cohortList) {
    const mine = rows.filter((r) => r.cohortId === cohort.id);
    if (mine.length === 0) continue;
    const byThread = new Map<number, typeof mine>();
    for (const r of mine) {
      const list = byThread.get(r.threadId);
      if (list) list.push(r);
      else byThread.set(r.threadId, [r]);
    }
    out.push({
      title: `${cohort.course.title} (from ${formatDay(cohort.timeline.startsAt, cohort.timezone)})`,
      threads: [...byThread.entries()].map(([threadId, list]) => ({
        title: list[0].threadTitle,
        url: `${deps.baseUrl}/cohorts/${cohort.id}/discussions/${threadId}`,
        count: list.length,
        posts: list.slice(0, DIGEST_POSTS_PER_THREAD).map((r) => ({
          author: displayName(r.authorName, 'learner'),
          when: formatInstant(r.createdAt, zone),
          text: runExcerpt(texts, r),
        })),
        more: Math.max(0, list.length - DIGEST_POSTS_PER_THREAD),
      })),
    });
  }
  return out;
}

/**
 * The daily digest: once per local day (from DIGEST_HOUR) each member who has not opted out gets one email of the
 * posts by others since their last digest, in cohorts they can still read. Nothing new: no email. Idempotent (one
 * discussion_digests row per user and day, and a dedupe key on the email). Each member's digest is its own
 * transaction; `pause`, when given, runs every few members (the scheduler lets requests in). Returns emails queued.
 */
export async function runDigest(deps: DiscussionDeps, now: Date, pause?: () => Promise<void>): Promise<number> {
  const db = deps.database.db;
  const live = (await deps.cohorts.list()).filter((c) => now.getTime() < c.timeline.accessEndsAt.getTime());
  const localIn = localClock(now);
  if (live.length === 0 || !(await anyoneMayBeDue(deps, live, localIn))) return 0;
  const memberships = new Map<number, Array<{ cohort: Cohort; role: 'learner' | 'instructor' }>>();
  const add = (userId: number, cohort: Cohort, role: 'learner' | 'instructor') => {
    const list = memberships.get(userId) ?? [];
    const existing = list.find((m) => m.cohort.id === cohort.id);
    if (existing) existing.role = existing.role === 'instructor' || role === 'instructor' ? 'instructor' : 'learner';
    else list.push({ cohort, role });
    memberships.set(userId, list);
  };
  // Every live cohort's learners and instructors in two queries (this runs on every scheduler tick), in the
  // order reading them cohort by cohort gives: cohorts in list order, learners then instructors, by user id.
  const liveIds = live.map((c) => c.id);
  const learnersOf = groupByCohort(
    await db
      .select({ cohortId: enrolments.cohortId, userId: enrolments.userId })
      .from(enrolments)
      .where(and(inArray(enrolments.cohortId, liveIds), eq(enrolments.status, 'active')))
      .orderBy(asc(enrolments.cohortId), asc(enrolments.userId)),
  );
  const instructorsOf = groupByCohort(
    await db
      .select({ cohortId: cohortInstructors.cohortId, userId: cohortInstructors.userId })
      .from(cohortInstructors)
      .where(inArray(cohortInstructors.cohortId, liveIds))
      .orderBy(asc(cohortInstructors.cohortId), asc(cohortInstructors.userId)),
  );
  for (const cohort of live) {
    for (const id of learnersOf.get(cohort.id) ?? []) add(id, cohort, 'learner');
    for (const id of instructorsOf.get(cohort.id) ?? []) add(id, cohort, 'instructor');
  }
  if (memberships.size === 0) return 0;
  const ids = [...memberships.keys()];
  // In chunks: SQLite refuses more than 32,766 bound values in one statement, and a large install has more members.
  const people: Array<{ id: number; email: string; name: string; timezone: string | null }> = [];
  const lastRuns = new Map<number, { day: string; upTo: number }>();
  for (let i = 0; i < ids.length; i += ID_CHUNK) {
    const chunk = ids.slice(i, i + ID_CHUNK);
    people.push(
      ...(await db
        .select({ id: users.id, email: users.email, name: users.name, timezone: users.timezone })
        .from(users)
        .where(and(inArray(users.id, chunk), eq(users.digestOptOut, false)))),
    );
    const runs = await db
      .select({ userId: discussionDigests.userId, day: sql<string>`max(${discussionDigests.day})`, upTo: sql<number>`max(${discussionDigests.upToPostId})` })
      .from(discussionDigests)
      .where(inArray(discussionDigests.userId, chunk))
      .groupBy(discussionDigests.userId);
    for (const r of runs) lastRuns.set(r.userId, { day: r.day, upTo: Number(r.upTo) });
  }
  if (people.length === 0) return 0;
  const due = people.flatMap((person) => {
    const cohortsOf = memberships.get(person.id)!;
    const zone = person.timezone ?? cohortsOf[0].cohort.timezone;
    const local = localIn(zone);
    if (local.hour < DIGEST_HOUR) return [];
    const last = lastRuns.get(person.id);
    if (last && last.day >= local.day) return [];
    return [{ person, zone, day: local.day, cohortsOf, since: last?.upTo ?? null }];
  });
  if (due.length === 0) return 0;
  const [latest] = await db.select({ max: sql<number | null>`max(${posts.id})` }).from(posts);
  const upTo = Number(latest?.max ?? 0);
  // Members of the same cohorts with the same last digest read the same posts: read them once per run, not per member.
  const candidates = new Map<string, DigestRow[]>();
  const postsFor = async (cohortIds: number[], since: number | null): Promise<DigestRow[]> => {
    const key = `${cohortIds.join(',')}|${since ?? 'day'}`;
    let rows = candidates.get(key);
    if (!rows) {
      // First digest ever: the last day's posts, not the whole history.
      const after = since !== null ? gt(posts.id, since) : gt(posts.createdAt, new Date(now.getTime() - 86_400_000));
      rows =
        upTo === 0
          ? []
          : await db
              .select({
                id: posts.id,
                cohortId: posts.cohortId,
                threadId: posts.threadId,
                html: posts.html,
                createdAt: posts.createdAt,
                authorId: posts.authorId,
                authorName: users.name,
                threadTitle: threads.title,
                week: threads.week,
              })
              .from(posts)
              .innerJoin(threads, eq(threads.id, posts.threadId))
              .innerJoin(users, eq(users.id, posts.authorId))
              .where(and(inArray(posts.cohortId, cohortIds), after, lte(posts.id, upTo), isNull(posts.deletedAt), eq(posts.hidden, false), eq(threads.hidden, false)))
              .orderBy(asc(posts.cohortId), asc(posts.threadId), asc(posts.id));
      candidates.set(key, rows);
    }
    return rows;
  };
  const texts = new Map<number, string>();
  let sent = 0;
  let done = 0;
  for (const d of due) {
    const cohortIds = d.cohortsOf.map((m) => m.cohort.id);
    const rows = (await postsFor(cohortIds, d.since)).filter((r) => {
      if (r.authorId === d.person.id) return false;
      const m = d.cohortsOf.find((c) => c.cohort.id === r.cohortId)!;
      if (m.role !== 'learner' || r.week === null) return true;
      const opens = m.cohort.timeline.weeks[r.week - 1]?.opensAt;
      return !opens || opens.getTime() <= now.getTime();
    });
    const model = digestModel(deps, d.cohortsOf.map((m) => m.cohort), rows, d.zone, texts);
    await deps.database.transaction(async (tx) => {
      const recorded = await tx
        .insert(discussionDigests)
        .values({ userId: d.person.id, day: d.day, upToPostId: upTo, postCount: rows.length, createdAt: now })
        .onConflictDoNothing()
        .returning({ userId: discussionDigests.userId });
      if (recorded.length === 0 || rows.length === 0) return;
      const queued = await deps.mailer.enqueue(tx, {
        to: d.person.email,
        subject: rows.length === 1 ? '1 new post in your cohort discussions' : `${rows.length} new posts in your cohort discussions`,
        template: 'discussions-digest',
        data: { name: d.person.name || 'there', day: formatDay(now, d.zone), total: rows.length, plural: rows.length !== 1, cohorts: model, profileUrl: `${deps.baseUrl}/profile` },
        dedupeKey: `digest:${d.person.id}:${d.day}`,
      });
      if (queued) sent++;
    });
    // A large install has many thousand digests to write at 07:00.
    if (pause && ++done % MEMBERS_PER_STEP === 0) await pause();
  }
  return sent;
}

/** runDigest with requests let in every few members (the scheduler's way). */
export function runDigestInSteps(deps: DiscussionDeps, now: Date): Promise<number> {
  return runDigest(deps, now, () => new Promise<void>((resolve) => setImmediate(resolve)));
}
