// A cohort's concrete sessions, made from its course's slots: created with the cohort, recomputed when it moves, and
// filled in for cohorts made before this module existed (or before a slot was added to the course).
import { asc, eq, sql } from 'drizzle-orm';
import type { Db } from '../../server/db.js';
import { cohorts } from '../cohorts/schema.js';
import type { Cohort } from '../cohorts/service.js';
import { liveSessions } from './schema.js';
import { instantsAt } from './schedule.js';
import { slotPlace } from '../cohorts/timeline.js';
import { durationFor, placeFor, type SessionDeps, type SessionRow } from './model.js';

/** Create missing sessions from the course's slots and recompute every instant (inside the caller's transaction). */
export async function materialise(deps: Pick<SessionDeps, 'clock'>, tx: Db, cohort: Cohort): Promise<void> {
  const now = deps.clock.now();
  const rows = await tx.select().from(liveSessions).where(eq(liveSessions.cohortId, cohort.id));
  const bySlot = new Map(rows.map((r) => [r.slotIndex, r]));
  for (const [slotIndex, slot] of cohort.course.sessions.entries()) {
    if (bySlot.has(slotIndex)) continue;
    const { startsAt, endsAt } = instantsAt(cohort.startDate, cohort.timezone, slotPlace(cohort.startDate, slot), slot.durationMinutes);
    await tx
      .insert(liveSessions)
      .values({ cohortId: cohort.id, week: slot.week, slotIndex, title: slot.title, startsAt, endsAt, createdAt: now, updatedAt: now })
      .onConflictDoNothing();
  }
  for (const row of rows) {
    const place = placeFor(cohort, row);
    if (!place) continue; // a slot removed from the course file and never moved: left as it was
    const { startsAt, endsAt } = instantsAt(cohort.startDate, cohort.timezone, place, durationFor(cohort, row));
    const slot = cohort.course.sessions[row.slotIndex];
    const moved = startsAt.getTime() !== row.startsAt.getTime() || endsAt.getTime() !== row.endsAt.getTime();
    const retitled = slot !== undefined && (slot.title !== row.title || slot.week !== row.week);
    if (!moved && !retitled) continue;
    await tx
      .update(liveSessions)
      .set({
        startsAt,
        endsAt,
        ...(slot ? { title: slot.title, week: slot.week } : {}),
        sequence: row.sequence + 1,
        updatedAt: now,
      })
      .where(eq(liveSessions.id, row.id));
  }
}

function sessionsOf(q: Db, cohortId: number): Promise<SessionRow[]> {
  return q.select().from(liveSessions).where(eq(liveSessions.cohortId, cohortId)).orderBy(asc(liveSessions.startsAt), asc(liveSessions.id));
}

/**
 * A cohort's sessions in start order, materialising them on first read for cohorts made before this module existed.
 * Inside a transaction pass its `tx`.
 */
export async function rowsFor(deps: Pick<SessionDeps, 'database' | 'clock'>, cohort: Cohort, tx?: Db): Promise<SessionRow[]> {
  // The rows themselves say whether any are missing (one query on the usual path, not a count and then the rows).
  const rows = await sessionsOf(tx ?? deps.database.db, cohort.id);
  if (cohort.course.sessions.length === 0 || rows.length >= cohort.course.sessions.length) return rows;
  // Inside the caller's transaction this is a savepoint of it.
  return deps.database.transaction(async (w) => {
    await materialise(deps, w, cohort);
    return sessionsOf(w, cohort.id);
  });
}

/** Materialise sessions for every cohort that lacks some; returns how many cohorts were filled in. */
export async function ensureAll(deps: Pick<SessionDeps, 'database' | 'clock' | 'courses' | 'cohorts'>): Promise<number> {
  // One grouped query, so start-up stays fast with many cohorts; only the few that lack sessions are loaded.
  const counts = await deps.database.db
    .select({ id: cohorts.id, courseSlug: cohorts.courseSlug, courseVersion: cohorts.courseVersion, n: sql<number>`count(${liveSessions.id})` })
    .from(cohorts)
    .leftJoin(liveSessions, eq(liveSessions.cohortId, cohorts.id))
    .groupBy(cohorts.id, cohorts.courseSlug, cohorts.courseVersion);
  let fixed = 0;
  for (const row of counts) {
    if (Number(row.n) >= (await deps.courses.load(row.courseSlug, row.courseVersion)).sessions.length) continue;
    await deps.database.transaction(async (tx) => materialise(deps, tx, await deps.cohorts.get(row.id, tx)));
    fixed++;
  }
  return fixed;
}
