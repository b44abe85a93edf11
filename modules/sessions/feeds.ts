// Calendar files and private feeds: one session, one cohort, or every cohort a person belongs to behind a secret
// address that calendar apps poll (stored hashed, rotated or revoked by its owner).
import { and, eq, isNull } from 'drizzle-orm';
import { hashToken, newToken } from '../../server/crypto.js';
import type { User } from '../people/service.js';
import { users } from '../people/schema.js';
import type { Cohort, CohortRole } from '../cohorts/service.js';
import { calendarFeeds } from './schema.js';
import { buildCalendar, type CalendarEntry } from './calendar.js';
import { rowsFor } from './materialise.js';
import { cohortUrl, type SessionDeps, type SessionRow } from './model.js';

function calendarEntries(deps: Pick<SessionDeps, 'baseUrl'>, cohort: Cohort, rows: SessionRow[]): CalendarEntry[] {
  return rows.map((r) => ({
    id: r.id,
    title: r.title,
    courseTitle: cohort.course.title,
    startsAt: r.startsAt,
    endsAt: r.endsAt,
    sequence: r.sequence,
    updatedAt: r.updatedAt,
    pageUrl: cohortUrl(deps, cohort.id),
  }));
}

/** Calendar of one cohort's sessions. */
export async function cohortCalendar(deps: SessionDeps, cohort: Cohort): Promise<string> {
  return buildCalendar(calendarEntries(deps, cohort, await rowsFor(deps, cohort)), { name: cohort.course.title, baseUrl: deps.baseUrl });
}

/** Calendar of one session. */
export function sessionCalendar(deps: Pick<SessionDeps, 'baseUrl'>, cohort: Cohort, row: SessionRow): string {
  return buildCalendar(calendarEntries(deps, cohort, [row]), { name: `${cohort.course.title}: ${row.title}`, baseUrl: deps.baseUrl });
}

/**
 * Cohorts the user learns in (until accessEndsAt) or teaches, with their role in each; an admin's are the cohorts they
 * teach, not all.
 */
export async function ownMemberships(deps: SessionDeps, user: User): Promise<Array<{ cohort: Cohort; role: CohortRole }>> {
  const now = deps.clock.now().getTime();
  const own: Array<{ cohort: Cohort; role: CohortRole }> = [];
  for (const m of await deps.cohorts.listForUser(user)) {
    const keep =
      m.role === 'admin'
        ? (await deps.cohorts.instructorIds(m.cohort.id)).includes(user.id)
        : m.role !== 'learner' || now < m.cohort.timeline.accessEndsAt.getTime();
    if (keep) own.push(m);
  }
  return own;
}

/** The private feed: every session of every cohort the user belongs to and can still open. */
export async function feedCalendar(deps: SessionDeps, user: User): Promise<string> {
  const entries: CalendarEntry[] = [];
  for (const { cohort } of await ownMemberships(deps, user)) entries.push(...calendarEntries(deps, cohort, await rowsFor(deps, cohort)));
  entries.sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime() || a.id - b.id);
  return buildCalendar(entries, { name: 'Cohort Course live sessions', baseUrl: deps.baseUrl });
}

/** The feed URL for a token. */
export function feedUrl(deps: Pick<SessionDeps, 'baseUrl'>, token: string): string {
  return `${deps.baseUrl}/calendar/${token}.ics`;
}

/** Create (or rotate) the user's private feed; the old URL stops working. The token is shown once, stored hashed. */
export async function createFeed(deps: SessionDeps, userId: number): Promise<{ token: string; url: string; createdAt: Date }> {
  const now = deps.clock.now();
  const token = newToken();
  await deps.database.transaction(async (tx) => {
    await tx.update(calendarFeeds).set({ revokedAt: now }).where(and(eq(calendarFeeds.userId, userId), isNull(calendarFeeds.revokedAt)));
    await tx.insert(calendarFeeds).values({ userId, tokenHash: hashToken(token), createdAt: now });
  });
  return { token, url: feedUrl(deps, token), createdAt: now };
}

/** Revoke the user's feed; returns whether one was active. */
export async function revokeFeed(deps: SessionDeps, userId: number): Promise<boolean> {
  const revoked = await deps.database.transaction((tx) =>
    tx
      .update(calendarFeeds)
      .set({ revokedAt: deps.clock.now() })
      .where(and(eq(calendarFeeds.userId, userId), isNull(calendarFeeds.revokedAt)))
      .returning({ id: calendarFeeds.id }),
  );
  return revoked.length > 0;
}

/** The user's active feed (without its token), if any. */
export async function activeFeed(deps: SessionDeps, userId: number): Promise<{ createdAt: Date } | null> {
  const [row] = await deps.database.db
    .select({ createdAt: calendarFeeds.createdAt })
    .from(calendarFeeds)
    .where(and(eq(calendarFeeds.userId, userId), isNull(calendarFeeds.revokedAt)))
    .limit(1);
  return row ?? null;
}

/** The user behind a live (unrevoked) feed token, or null. */
export async function userForFeed(deps: SessionDeps, token: string): Promise<User | null> {
  if (!token || token.length > 200) return null;
  const [row] = await deps.database.db
    .select({ user: users })
    .from(calendarFeeds)
    .innerJoin(users, eq(users.id, calendarFeeds.userId))
    .where(and(eq(calendarFeeds.tokenHash, hashToken(token)), isNull(calendarFeeds.revokedAt)))
    .limit(1);
  return row?.user ?? null;
}
