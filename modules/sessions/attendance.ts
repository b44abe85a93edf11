// Attendance: instructors mark who attended (one learner, or the whole sheet), learners say they watched the
// recording, and the counts certificates and the staff page read. Every change tells progress through an event.
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../server/db.js';
import { BadInput, Conflict, DomainRule, Forbidden } from '../../server/errors.js';
import type { User } from '../people/service.js';
import type { Cohort, CohortAccess } from '../cohorts/service.js';
import { attendance, liveSessions, type AttendanceKind } from './schema.js';
import { rowsFor } from './materialise.js';
import { activeLearners, type AttendanceSummary, type SessionDeps, type SessionRow } from './model.js';

/** The learner's marks on every session of a cohort. */
export async function marksInCohort(q: Db, userId: number, cohortId: number): Promise<Map<number, AttendanceKind>> {
  const marks = await q
    .select({ sessionId: attendance.sessionId, kind: attendance.kind })
    .from(attendance)
    .innerJoin(liveSessions, eq(liveSessions.id, attendance.sessionId))
    .where(and(eq(attendance.userId, userId), eq(liveSessions.cohortId, cohortId)));
  return new Map(marks.map((m) => [m.sessionId, m.kind]));
}

/** The learner's marks on these sessions. */
export async function marksFor(q: Db, userId: number, sessionIds: number[]): Promise<Map<number, AttendanceKind>> {
  if (sessionIds.length === 0) return new Map();
  const marks = await q
    .select({ sessionId: attendance.sessionId, kind: attendance.kind })
    .from(attendance)
    .where(and(eq(attendance.userId, userId), inArray(attendance.sessionId, sessionIds)));
  return new Map(marks.map((m) => [m.sessionId, m.kind]));
}

function refuseBeforeStart(row: SessionRow, now: Date): void {
  if (now.getTime() < row.startsAt.getTime()) throw new Conflict('Attendance can be marked once the session has started.');
}

/** Set one learner's "attended" mark inside a transaction; a "watched" mark survives attended=false. Returns the resulting kind. */
export async function setAttended(
  deps: Pick<SessionDeps, 'events'>,
  tx: Db,
  access: CohortAccess,
  row: SessionRow,
  learnerId: number,
  attended: boolean,
  now: Date,
): Promise<AttendanceKind | null> {
  const cohortId = access.cohort.id;
  const [existing] = await tx
    .select()
    .from(attendance)
    .where(and(eq(attendance.sessionId, row.id), eq(attendance.userId, learnerId)))
    .limit(1);
  if (attended) {
    if (existing?.kind === 'attended') return 'attended';
    await tx
      .insert(attendance)
      .values({ sessionId: row.id, userId: learnerId, kind: 'attended', markedBy: access.user.id, at: now })
      .onConflictDoUpdate({ target: [attendance.sessionId, attendance.userId], set: { kind: 'attended', markedBy: access.user.id, at: now } });
    await deps.events.emit(tx, 'progress.changed', { cohortId, userId: learnerId });
    return 'attended';
  }
  if (existing?.kind !== 'attended') return existing?.kind ?? null;
  await tx.delete(attendance).where(eq(attendance.id, existing.id));
  await deps.events.emit(tx, 'progress.changed', { cohortId, userId: learnerId });
  return null;
}

/** Instructors mark one learner as attended (or not). Refused before the session starts (409) and for non-learners (422). */
export async function markAttendance(
  deps: SessionDeps,
  access: CohortAccess,
  row: SessionRow,
  learnerEmail: string,
  attended: boolean,
): Promise<{ learner: string; attended: boolean; kind: AttendanceKind | null }> {
  const now = deps.clock.now();
  refuseBeforeStart(row, now);
  let learner: User | undefined;
  try {
    learner = await deps.people.findByEmail(learnerEmail);
  } catch {
    throw new BadInput('learner must be an email address.');
  }
  if (!learner || (await deps.cohorts.roleIn(learner, access.cohort.id)) !== 'learner') {
    throw new DomainRule(`${learnerEmail.slice(0, 80)} is not a learner in this cohort.`);
  }
  const learnerId = learner.id;
  const kind = await deps.database.transaction((tx) => setAttended(deps, tx, access, row, learnerId, attended, now));
  return { learner: learner.email, attended: kind === 'attended', kind };
}

/** The attendance sheet: every active learner with their mark. */
export async function sheet(
  deps: SessionDeps,
  access: CohortAccess,
  row: SessionRow,
): Promise<Array<{ userId: number; name: string; email: string; kind: AttendanceKind | null }>> {
  const learners = await activeLearners(deps, access.cohort.id);
  const marks = await deps.database.db.select().from(attendance).where(eq(attendance.sessionId, row.id));
  const byUser = new Map(marks.map((m) => [m.userId, m.kind]));
  return learners
    .map((l) => ({ userId: l.id, name: l.name || l.email, email: l.email, kind: byUser.get(l.id) ?? null }))
    .sort((a, b) => a.name.localeCompare(b.name, 'en'));
}

/** Save the whole sheet at once: the checked learners attended, the others not (their "watched" kept). */
export async function saveSheet(deps: SessionDeps, access: CohortAccess, row: SessionRow, attendedIds: Set<number>): Promise<void> {
  const now = deps.clock.now();
  refuseBeforeStart(row, now);
  const learners = await activeLearners(deps, access.cohort.id);
  await deps.database.transaction(async (tx) => {
    for (const l of learners) await setAttended(deps, tx, access, row, l.id, attendedIds.has(l.id), now);
  });
}

/** Attended and watched counts per session (staff overview). */
export async function markCounts(deps: Pick<SessionDeps, 'database'>, sessionIds: number[]): Promise<Map<number, { attended: number; watched: number }>> {
  const out = new Map<number, { attended: number; watched: number }>();
  if (sessionIds.length === 0) return out;
  const rows = await deps.database.db
    .select({ sessionId: attendance.sessionId, kind: attendance.kind, n: sql<number>`count(*)` })
    .from(attendance)
    .where(inArray(attendance.sessionId, sessionIds))
    .groupBy(attendance.sessionId, attendance.kind);
  for (const r of rows) {
    const c = out.get(r.sessionId) ?? { attended: 0, watched: 0 };
    c[r.kind] = Number(r.n);
    out.set(r.sessionId, c);
  }
  return out;
}

/** A learner says they watched the recording: once a recording exists and the session has ended (409 before). */
export async function markWatched(deps: SessionDeps, access: CohortAccess, row: SessionRow): Promise<{ recorded: boolean }> {
  if (access.role !== 'learner') throw new Forbidden('Only enrolled learners can say they watched a recording.');
  const now = deps.clock.now();
  if (now.getTime() < row.endsAt.getTime()) throw new Conflict('This session has not ended yet.');
  if (!row.recordingUrl) throw new Conflict('There is no recording of this session yet.');
  return deps.database.transaction(async (tx) => {
    const inserted = await tx
      .insert(attendance)
      .values({ sessionId: row.id, userId: access.user.id, kind: 'watched', markedBy: access.user.id, at: now })
      .onConflictDoNothing()
      .returning({ id: attendance.id });
    if (inserted.length > 0) await deps.events.emit(tx, 'progress.changed', { cohortId: access.cohort.id, userId: access.user.id });
    return { recorded: inserted.length > 0 };
  });
}

/** A learner's summary from the cohort's sessions and their marks. */
function summarise(rows: SessionRow[], marks: Map<number, AttendanceKind>, now: number): AttendanceSummary {
  return {
    attendedOrWatched: rows.filter((r) => marks.has(r.id)).length,
    total: rows.length,
    missed: rows
      .filter((r) => r.endsAt.getTime() <= now && !marks.has(r.id))
      .map((r) => ({ sessionId: r.id, week: r.week, title: r.title, hasRecording: Boolean(r.recordingUrl) })),
  };
}

/** For certificates: sessions attended or watched, the total, and the ended sessions the learner missed. */
export async function attendanceSummary(deps: SessionDeps, cohortId: number, userId: number, tx?: Db): Promise<AttendanceSummary> {
  const cohort = await deps.cohorts.get(cohortId, tx);
  const rows = await rowsFor(deps, cohort, tx);
  const marks = rows.length > 0 ? await marksInCohort(tx ?? deps.database.db, userId, cohort.id) : new Map<number, AttendanceKind>();
  return summarise(rows, marks, deps.clock.now().getTime());
}

/** attendanceSummary for every learner of a cohort from two queries (whole-cohort certificate checks). */
export async function attendanceForCohort(deps: SessionDeps, cohort: Cohort, tx?: Db): Promise<(userId: number) => AttendanceSummary> {
  const rows = await rowsFor(deps, cohort, tx);
  const byUser = new Map<number, Map<number, AttendanceKind>>();
  if (rows.length > 0) {
    const marks = await (tx ?? deps.database.db)
      .select({ userId: attendance.userId, sessionId: attendance.sessionId, kind: attendance.kind })
      .from(attendance)
      .where(inArray(attendance.sessionId, rows.map((r) => r.id)));
    for (const m of marks) {
      const mine = byUser.get(m.userId);
      if (mine) mine.set(m.sessionId, m.kind);
      else byUser.set(m.userId, new Map([[m.sessionId, m.kind]]));
    }
  }
  const now = deps.clock.now().getTime();
  const none = new Map<number, AttendanceKind>();
  return (userId) => summarise(rows, byUser.get(userId) ?? none, now);
}
