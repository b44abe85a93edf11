// Live sessions: materialised per cohort from the course's slots, moved and linked by instructors, attendance,
// "watched the recording", calendar files and private feeds, reminder and notice emails. This file is the module's
// face; each use case lives in its own file (materialise, moves, attendance, feeds, reminders).
import { eq } from 'drizzle-orm';
import type { Db } from '../../server/db.js';
import { NotFound, NotSignedIn } from '../../server/errors.js';
import type { User } from '../people/service.js';
import type { Cohort, CohortAccess, CohortRole } from '../cohorts/service.js';
import { liveSessions, type AttendanceKind } from './schema.js';
import { ensureAll, materialise, rowsFor } from './materialise.js';
import { updateSession } from './moves.js';
import {
  attendanceForCohort,
  attendanceSummary,
  markAttendance,
  markCounts,
  marksFor,
  marksInCohort,
  markWatched,
  saveSheet,
  setAttended,
  sheet,
} from './attendance.js';
import { activeFeed, cohortCalendar, createFeed, feedCalendar, feedUrl, ownMemberships, revokeFeed, sessionCalendar, userForFeed } from './feeds.js';
import { sendReminders } from './reminders.js';
import { viewOf, type AttendanceSummary, type SessionDeps, type SessionPatch, type SessionRow, type SessionView } from './model.js';

export {
  MAX_DURATION,
  MIN_DURATION,
  MOVE_MARGIN_DAYS,
  checkHttpsUrl,
  zoneFor,
  type AttendanceSummary,
  type SessionDeps,
  type SessionPatch,
  type SessionRow,
  type SessionView,
} from './model.js';

export function createSessionService(deps: SessionDeps) {
  const { database, clock, cohorts } = deps;

  const service = {
    /** Reaction to 'cohort.changed': sessions appear with a new cohort and follow it when it moves (moves, links and attendance kept). */
    onCohortChange(tx: Db, cohort: Cohort): Promise<void> {
      return materialise(deps, tx, cohort);
    },

    /** Materialise sessions for every cohort that lacks some (cohorts created before this module, or new slots). */
    ensureAll(): Promise<number> {
      return ensureAll(deps);
    },

    /** A cohort's sessions in start order (inside a transaction pass its tx). */
    list(cohort: Cohort, tx?: Db): Promise<SessionRow[]> {
      return rowsFor(deps, cohort, tx);
    },

    /** The sessions of a cohort as the caller sees them (join links only in their window for learners). */
    async listFor(access: CohortAccess, week?: number): Promise<SessionView[]> {
      const now = clock.now();
      const rows = (await rowsFor(deps, access.cohort)).filter((r) => week === undefined || r.week === week);
      const marks =
        access.role === 'learner' && rows.length > 0 ? await marksInCohort(database.db, access.user.id, access.cohort.id) : new Map<number, AttendanceKind>();
      return rows.map((r) => viewOf(access, r, now, marks.get(r.id) ?? null));
    },

    /** One session as the caller sees it. */
    async viewOne(access: CohortAccess, row: SessionRow): Promise<SessionView> {
      const mine = access.role === 'learner' ? ((await marksFor(database.db, access.user.id, [row.id])).get(row.id) ?? null) : null;
      return viewOf(access, row, clock.now(), mine);
    },

    /** A session by id, scoped through the cohort guard: 401 signed out, 404 unknown, 403 outside its cohort or role. */
    async getScoped(user: User | null, sessionId: number, roles?: CohortRole[]): Promise<{ access: CohortAccess; session: SessionRow }> {
      if (!user) throw new NotSignedIn();
      const [row] = await database.db.select().from(liveSessions).where(eq(liveSessions.id, sessionId)).limit(1);
      if (!row) throw new NotFound('Session');
      const access = await cohorts.access(user, row.cohortId, roles);
      return { access, session: row };
    },

    /** An instructor's change to one session: links (https only), or a move (learners are emailed). */
    update(access: CohortAccess, row: SessionRow, patch: SessionPatch): Promise<SessionRow> {
      return updateSession(deps, access, row, patch);
    },

    /** Instructors mark one learner as attended (or not). Refused before the session starts (409) and for non-learners (422). */
    markAttendance(access: CohortAccess, row: SessionRow, learnerEmail: string, attended: boolean) {
      return markAttendance(deps, access, row, learnerEmail, attended);
    },

    /** Set one learner's "attended" mark inside a transaction; a "watched" mark survives attended=false. Returns the resulting kind. */
    setAttended(tx: Db, access: CohortAccess, row: SessionRow, learnerId: number, attended: boolean, now: Date): Promise<AttendanceKind | null> {
      return setAttended(deps, tx, access, row, learnerId, attended, now);
    },

    /** The attendance sheet: every active learner with their mark. */
    sheet(access: CohortAccess, row: SessionRow) {
      return sheet(deps, access, row);
    },

    /** Attended and watched counts per session (staff overview). */
    markCounts(sessionIds: number[]): Promise<Map<number, { attended: number; watched: number }>> {
      return markCounts(deps, sessionIds);
    },

    /** Save the whole sheet at once: the checked learners attended, the others not (their "watched" kept). */
    saveSheet(access: CohortAccess, row: SessionRow, attendedIds: Set<number>): Promise<void> {
      return saveSheet(deps, access, row, attendedIds);
    },

    /** A learner says they watched the recording: once a recording exists and the session has ended (409 before). */
    markWatched(access: CohortAccess, row: SessionRow): Promise<{ recorded: boolean }> {
      return markWatched(deps, access, row);
    },

    /** For certificates: sessions attended or watched, the total, and the ended sessions the learner missed (inside a transaction pass its tx). */
    attendanceSummary(cohortId: number, userId: number, tx?: Db): Promise<AttendanceSummary> {
      return attendanceSummary(deps, cohortId, userId, tx);
    },

    /** attendanceSummary for every learner of a cohort from two queries (whole-cohort certificate checks). */
    attendanceForCohort(cohort: Cohort, tx?: Db): Promise<(userId: number) => AttendanceSummary> {
      return attendanceForCohort(deps, cohort, tx);
    },

    /** Calendar of one cohort's sessions. */
    cohortCalendar(cohort: Cohort): Promise<string> {
      return cohortCalendar(deps, cohort);
    },

    /** Calendar of one session. */
    sessionCalendar(cohort: Cohort, row: SessionRow): string {
      return sessionCalendar(deps, cohort, row);
    },

    /** Cohorts the user learns in (until accessEndsAt) or teaches, with their role; an admin's are those they teach. */
    ownMemberships(user: User): Promise<Array<{ cohort: Cohort; role: CohortRole }>> {
      return ownMemberships(deps, user);
    },

    /** Cohorts the user learns in (until accessEndsAt) or teaches; an admin's feed is the cohorts they teach, not all. */
    async ownCohorts(user: User): Promise<Cohort[]> {
      return (await ownMemberships(deps, user)).map(({ cohort }) => cohort);
    },

    /** The private feed: every session of every cohort the user belongs to and can still open. */
    feedCalendar(user: User): Promise<string> {
      return feedCalendar(deps, user);
    },

    /** Create (or rotate) the user's private feed; the old URL stops working. The token is shown once, stored hashed. */
    createFeed(userId: number): Promise<{ token: string; url: string; createdAt: Date }> {
      return createFeed(deps, userId);
    },

    /** The feed URL for a token. */
    feedUrl(token: string): string {
      return feedUrl(deps, token);
    },

    /** Revoke the user's feed; returns whether one was active. */
    revokeFeed(userId: number): Promise<boolean> {
      return revokeFeed(deps, userId);
    },

    /** The user's active feed (without its token), if any. */
    activeFeed(userId: number): Promise<{ createdAt: Date } | null> {
      return activeFeed(deps, userId);
    },

    /** The user behind a live (unrevoked) feed token, or null. */
    userForFeed(token: string): Promise<User | null> {
      return userForFeed(deps, token);
    },

    /** Scheduler job: reminders 24 h and 1 h before each session, once each (dedupe keys); returns how many were queued. */
    sendReminders(now: Date): Promise<number> {
      return sendReminders(deps, now);
    },
  };
  return service;
}

export type SessionService = ReturnType<typeof createSessionService>;
