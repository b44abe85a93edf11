// Live sessions: materialised per cohort from the course's slots, moved and linked by instructors, attendance,
// "watched the recording", calendar files and private feeds, reminder and notice emails.
import { and, asc, eq, gt, inArray, isNull, lte, sql } from 'drizzle-orm';
import type { AppContext } from '../../server/context.js';
import type { Db } from '../../server/db.js';
import { hashToken, newToken } from '../../server/crypto.js';
import { outbox } from '../../server/outbox-schema.js';
import { BadInput, Conflict, DomainRule, Forbidden, NotFound, NotSignedIn } from '../../server/errors.js';
import { formatDay, formatInstant, formatTime } from '../../server/time.js';
import type { User } from '../people/service.js';
import { users } from '../people/schema.js';
import { cohorts } from '../cohorts/schema.js';
import { checkDate, type Cohort, type CohortAccess, type CohortRole } from '../cohorts/service.js';
import { attendance, calendarFeeds, liveSessions, type AttendanceKind } from './schema.js';
import { instantsAt, joinWindowOpen, placeOf, placeOfLocal, slotPlace, type LocalPlace } from './schedule.js';
import { buildCalendar, type CalendarEntry } from './calendar.js';

export type SessionRow = typeof liveSessions.$inferSelect;

/** A session as one person sees it: the join link only inside its window for learners. */
export interface SessionView {
  id: number;
  cohortId: number;
  week: number;
  title: string;
  startsAt: Date;
  endsAt: Date;
  durationMinutes: number;
  moved: boolean;
  joinUrl: string | null;
  recordingUrl: string | null;
  joinOpen: boolean;
  ended: boolean;
  /** The caller's own attendance (learners), else null. */
  attendance: AttendanceKind | null;
}

export interface AttendanceSummary {
  attendedOrWatched: number;
  total: number;
  missed: Array<{ sessionId: number; week: number; title: string; hasRecording: boolean }>;
}

export interface SessionPatch {
  joinUrl?: string | null;
  recordingUrl?: string | null;
  /** Move to this instant (kept as the local date and time in the cohort's zone). */
  startsAt?: Date;
  /** Move to this local date and time in the cohort's zone (the editor page). */
  localStart?: { date: string; time: string };
  durationMinutes?: number;
}

export const MIN_DURATION = 15;
export const MAX_DURATION = 480;
/** How far outside the cohort's weeks a session may be moved (days before the start, after the end). */
export const MOVE_MARGIN_DAYS = 28;
const URL_MAX = 2000;
const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;
const HOUR = 3_600_000;

/** Refuses anything but an absolute https:// URL (no javascript:, http:, ftp:, spaces or credentials). */
export function checkHttpsUrl(value: string, field: string): string {
  const v = value.trim();
  let url: URL | null = null;
  try {
    url = new URL(v);
  } catch {
    url = null;
  }
  if (!url || url.protocol !== 'https:' || !url.hostname || /[\s<>"]/.test(v) || url.username || url.password || v.length > URL_MAX) {
    throw new BadInput(`${field} must be an https:// address (for example https://meet.example.org/room).`);
  }
  return url.toString();
}

/** A user's display zone: their own, else the cohort's. */
export function zoneFor(user: Pick<User, 'timezone'>, cohort: Pick<Cohort, 'timezone'>): string {
  return user.timezone ?? cohort.timezone;
}

export function createSessionService(ctx: AppContext) {
  const { clock } = ctx;
  const db = () => ctx.db;
  const cohortUrl = (cohortId: number) => `${ctx.baseUrl}/cohorts/${cohortId}`;

  /** Where a row should sit now: the instructor's move if any, else its course slot. */
  function placeFor(cohort: Cohort, row: Pick<SessionRow, 'slotIndex' | 'movedDayOffset' | 'movedTime'>): LocalPlace | null {
    if (row.movedDayOffset !== null && row.movedTime !== null) return { dayOffset: row.movedDayOffset, time: row.movedTime };
    const slot = cohort.course.sessions[row.slotIndex];
    return slot ? slotPlace(cohort.startDate, slot) : null;
  }

  function durationFor(cohort: Cohort, row: Pick<SessionRow, 'slotIndex' | 'movedDurationMinutes' | 'startsAt' | 'endsAt'>): number {
    return row.movedDurationMinutes ?? cohort.course.sessions[row.slotIndex]?.durationMinutes ?? Math.round((row.endsAt.getTime() - row.startsAt.getTime()) / 60_000);
  }

  /** Create missing sessions from the course's slots and recompute every instant (inside the caller's transaction). */
  function materialise(tx: Db, cohort: Cohort): void {
    const now = clock.now();
    const rows = tx.select().from(liveSessions).where(eq(liveSessions.cohortId, cohort.id)).all();
    const bySlot = new Map(rows.map((r) => [r.slotIndex, r]));
    cohort.course.sessions.forEach((slot, slotIndex) => {
      if (bySlot.has(slotIndex)) return;
      const { startsAt, endsAt } = instantsAt(cohort.startDate, cohort.timezone, slotPlace(cohort.startDate, slot), slot.durationMinutes);
      tx.insert(liveSessions)
        .values({ cohortId: cohort.id, week: slot.week, slotIndex, title: slot.title, startsAt, endsAt, createdAt: now, updatedAt: now })
        .onConflictDoNothing()
        .run();
    });
    for (const row of rows) {
      const place = placeFor(cohort, row);
      if (!place) continue; // a slot removed from the course file and never moved: left as it was
      const { startsAt, endsAt } = instantsAt(cohort.startDate, cohort.timezone, place, durationFor(cohort, row));
      const slot = cohort.course.sessions[row.slotIndex];
      const moved = startsAt.getTime() !== row.startsAt.getTime() || endsAt.getTime() !== row.endsAt.getTime();
      const retitled = slot !== undefined && (slot.title !== row.title || slot.week !== row.week);
      if (!moved && !retitled) continue;
      tx.update(liveSessions)
        .set({
          startsAt,
          endsAt,
          ...(slot ? { title: slot.title, week: slot.week } : {}),
          sequence: row.sequence + 1,
          updatedAt: now,
        })
        .where(eq(liveSessions.id, row.id))
        .run();
    }
  }

  // Every cohort home and week page lists the cohort's sessions and the learner's marks: prepared once.
  const rowsStmt = ctx.db
    .select()
    .from(liveSessions)
    .where(eq(liveSessions.cohortId, sql.placeholder('cohortId')))
    .orderBy(asc(liveSessions.startsAt), asc(liveSessions.id))
    .prepare();
  const cohortMarksStmt = ctx.db
    .select({ sessionId: attendance.sessionId, kind: attendance.kind })
    .from(attendance)
    .innerJoin(liveSessions, eq(liveSessions.id, attendance.sessionId))
    .where(and(eq(attendance.userId, sql.placeholder('userId')), eq(liveSessions.cohortId, sql.placeholder('cohortId'))))
    .prepare();

  /** The learner's marks on every session of a cohort (the same as marksFor over all its sessions). */
  function marksInCohort(userId: number, cohortId: number): Map<number, AttendanceKind> {
    return new Map(cohortMarksStmt.all({ userId, cohortId }).map((m) => [m.sessionId, m.kind]));
  }

  /** Sessions of a cohort, materialising them on first read for cohorts made before this module existed. */
  function rowsFor(cohort: Cohort): SessionRow[] {
    // The rows themselves say whether any are missing (one query on the usual path, not a count and then the rows).
    const rows = rowsStmt.all({ cohortId: cohort.id });
    if (cohort.course.sessions.length === 0 || rows.length >= cohort.course.sessions.length) return rows;
    db().transaction((tx) => materialise(tx, cohort));
    return rowsStmt.all({ cohortId: cohort.id });
  }

  function activeLearners(tx: Db, cohortId: number): User[] {
    const ids = ctx.cohorts.learners(cohortId).map((l) => l.userId);
    if (ids.length === 0) return [];
    return tx.select().from(users).where(inArray(users.id, ids)).all();
  }

  /** Which of these outbox dedupe keys have been used already (queued or sent). */
  function alreadyQueued(keys: string[]): Set<string> {
    const found = new Set<string>();
    for (let i = 0; i < keys.length; i += 500) {
      const chunk = keys.slice(i, i + 500);
      for (const r of db().select({ key: outbox.dedupeKey }).from(outbox).where(inArray(outbox.dedupeKey, chunk)).all()) {
        if (r.key) found.add(r.key);
      }
    }
    return found;
  }

  function view(access: CohortAccess, row: SessionRow, now: Date, mine: AttendanceKind | null): SessionView {
    const staff = access.role !== 'learner';
    const open = joinWindowOpen(row, now);
    return {
      id: row.id,
      cohortId: row.cohortId,
      week: row.week,
      title: row.title,
      startsAt: row.startsAt,
      endsAt: row.endsAt,
      durationMinutes: Math.round((row.endsAt.getTime() - row.startsAt.getTime()) / 60_000),
      moved: row.movedDayOffset !== null,
      joinUrl: staff || open ? row.joinUrl : null,
      recordingUrl: row.recordingUrl,
      joinOpen: open,
      ended: now.getTime() >= row.endsAt.getTime(),
      attendance: staff ? null : mine,
    };
  }

  function marksFor(userId: number, sessionIds: number[]): Map<number, AttendanceKind> {
    if (sessionIds.length === 0) return new Map();
    const marks = db()
      .select({ sessionId: attendance.sessionId, kind: attendance.kind })
      .from(attendance)
      .where(and(eq(attendance.userId, userId), inArray(attendance.sessionId, sessionIds)))
      .all();
    return new Map(marks.map((m) => [m.sessionId, m.kind]));
  }

  function calendarEntries(cohort: Cohort, rows: SessionRow[]): CalendarEntry[] {
    return rows.map((r) => ({
      id: r.id,
      title: r.title,
      courseTitle: cohort.course.title,
      startsAt: r.startsAt,
      endsAt: r.endsAt,
      sequence: r.sequence,
      updatedAt: r.updatedAt,
      pageUrl: cohortUrl(cohort.id),
    }));
  }

  const service = {
    /** Cohort hook: sessions appear when a cohort is created and follow it when it moves (moves, links and attendance kept). */
    onCohortChange(tx: Db, cohort: Cohort): void {
      materialise(tx, cohort);
    },

    /** Materialise sessions for every cohort that lacks some (cohorts created before this module, or new slots). */
    ensureAll(): number {
      // One grouped query, so start-up stays fast with many cohorts; only the few that lack sessions are loaded.
      const counts = db()
        .select({ id: cohorts.id, courseSlug: cohorts.courseSlug, n: sql<number>`count(${liveSessions.id})` })
        .from(cohorts)
        .leftJoin(liveSessions, eq(liveSessions.cohortId, cohorts.id))
        .groupBy(cohorts.id)
        .all();
      let fixed = 0;
      for (const row of counts) {
        if (!ctx.courses.has(row.courseSlug) || row.n >= ctx.courses.get(row.courseSlug).sessions.length) continue;
        const cohort = ctx.cohorts.get(row.id);
        db().transaction((tx) => materialise(tx, cohort));
        fixed++;
      }
      return fixed;
    },

    /** A cohort's sessions in start order. */
    list(cohort: Cohort): SessionRow[] {
      return rowsFor(cohort);
    },

    /** The sessions of a cohort as the caller sees them (join links only in their window for learners). */
    listFor(access: CohortAccess, week?: number): SessionView[] {
      const now = clock.now();
      const rows = rowsFor(access.cohort).filter((r) => week === undefined || r.week === week);
      const marks = access.role === 'learner' && rows.length > 0 ? marksInCohort(access.user.id, access.cohort.id) : new Map<number, AttendanceKind>();
      return rows.map((r) => view(access, r, now, marks.get(r.id) ?? null));
    },

    /** One session as the caller sees it. */
    viewOne(access: CohortAccess, row: SessionRow): SessionView {
      const mine = access.role === 'learner' ? (marksFor(access.user.id, [row.id]).get(row.id) ?? null) : null;
      return view(access, row, clock.now(), mine);
    },

    /** A session by id, scoped through the cohort guard: 401 signed out, 404 unknown, 403 outside its cohort or role. */
    getScoped(user: User | null, sessionId: number, roles?: CohortRole[]): { access: CohortAccess; session: SessionRow } {
      if (!user) throw new NotSignedIn();
      const row = db().select().from(liveSessions).where(eq(liveSessions.id, sessionId)).get();
      if (!row) throw new NotFound('Session');
      const access = ctx.cohorts.access(user, row.cohortId, roles);
      return { access, session: row };
    },

    /** An instructor's change to one session: links (https only), or a move (learners are emailed). */
    update(access: CohortAccess, row: SessionRow, patch: SessionPatch): SessionRow {
      const cohort = access.cohort;
      const set: Partial<SessionRow> = {};
      if (patch.joinUrl !== undefined) set.joinUrl = patch.joinUrl === null ? null : checkHttpsUrl(patch.joinUrl, 'joinUrl');
      if (patch.recordingUrl !== undefined) set.recordingUrl = patch.recordingUrl === null ? null : checkHttpsUrl(patch.recordingUrl, 'recordingUrl');
      if (patch.durationMinutes !== undefined) {
        const d = patch.durationMinutes;
        if (!Number.isInteger(d) || d < MIN_DURATION || d > MAX_DURATION) throw new BadInput(`durationMinutes must be a whole number from ${MIN_DURATION} to ${MAX_DURATION}.`);
      }
      let place: LocalPlace | null = null;
      if (patch.startsAt !== undefined) {
        if (Number.isNaN(patch.startsAt.getTime())) throw new BadInput('startsAt must be an ISO 8601 instant.');
        place = placeOf(patch.startsAt, cohort.startDate, cohort.timezone);
      } else if (patch.localStart) {
        checkDate(patch.localStart.date, 'date');
        if (!TIME.test(patch.localStart.time)) throw new BadInput('time must be a time like 12:30.');
        place = placeOfLocal(patch.localStart.date, patch.localStart.time, cohort.startDate);
      }
      if (place) {
        const last = cohort.course.weekCount * 7 + MOVE_MARGIN_DAYS;
        if (place.dayOffset < -MOVE_MARGIN_DAYS || place.dayOffset > last) {
          throw new BadInput(`startsAt must fall within ${MOVE_MARGIN_DAYS} days of the cohort's weeks.`);
        }
      }
      const now = clock.now();
      const updated = db().transaction((tx) => {
        if (place || patch.durationMinutes !== undefined) {
          const current = placeFor(cohort, row) ?? placeOf(row.startsAt, cohort.startDate, cohort.timezone);
          const target = place ?? current;
          const duration = patch.durationMinutes ?? durationFor(cohort, row);
          const { startsAt, endsAt } = instantsAt(cohort.startDate, cohort.timezone, target, duration);
          set.movedDayOffset = target.dayOffset;
          set.movedTime = target.time;
          set.movedDurationMinutes = duration;
          if (startsAt.getTime() !== row.startsAt.getTime() || endsAt.getTime() !== row.endsAt.getTime()) {
            set.startsAt = startsAt;
            set.endsAt = endsAt;
            set.sequence = row.sequence + 1;
          }
        }
        const firstRecording = set.recordingUrl && !row.recordingUrl && !row.recordingAddedAt;
        if (firstRecording) set.recordingAddedAt = now;
        const result = tx
          .update(liveSessions)
          .set({ ...set, updatedAt: now })
          .where(and(eq(liveSessions.id, row.id), eq(liveSessions.cohortId, cohort.id)))
          .returning()
          .get();
        if (set.sequence !== undefined) {
          for (const learner of activeLearners(tx, cohort.id)) {
            const zone = zoneFor(learner, cohort);
            ctx.mailer.enqueue(tx, {
              to: learner.email,
              subject: `New time: ${result.title} — ${formatInstant(result.startsAt, zone)}`,
              template: 'sessions-moved',
              data: {
                name: learner.name || learner.email,
                title: result.title,
                course: cohort.course.title,
                was: formatInstant(row.startsAt, zone),
                now: formatInstant(result.startsAt, zone),
                ends: formatTime(result.endsAt, zone),
                url: cohortUrl(cohort.id),
                icsUrl: `${ctx.baseUrl}/api/v1/sessions/${result.id}/calendar.ics`,
              },
              dedupeKey: `session-moved:${result.id}:${result.sequence}:${learner.id}`,
            });
          }
        }
        if (firstRecording) {
          for (const learner of activeLearners(tx, cohort.id)) {
            ctx.mailer.enqueue(tx, {
              to: learner.email,
              subject: `Recording available: ${result.title}`,
              template: 'sessions-recording',
              data: {
                name: learner.name || learner.email,
                title: result.title,
                course: cohort.course.title,
                day: formatDay(result.startsAt, zoneFor(learner, cohort)),
                recordingUrl: result.recordingUrl,
                availableUntil: formatDay(cohort.timeline.accessEndsAt, zoneFor(learner, cohort)),
                url: cohortUrl(cohort.id),
              },
              dedupeKey: `session-recording:${result.id}:${learner.id}`,
            });
          }
        }
        return result;
      });
      return updated;
    },

    /** Instructors mark one learner as attended (or not). Refused before the session starts (409) and for non-learners (422). */
    markAttendance(access: CohortAccess, row: SessionRow, learnerEmail: string, attended: boolean): { learner: string; attended: boolean; kind: AttendanceKind | null } {
      const now = clock.now();
      if (now.getTime() < row.startsAt.getTime()) throw new Conflict('Attendance can be marked once the session has started.');
      let learner: User | undefined;
      try {
        learner = ctx.people.findByEmail(learnerEmail);
      } catch {
        throw new BadInput('learner must be an email address.');
      }
      if (!learner || ctx.cohorts.roleIn(learner, access.cohort.id) !== 'learner') {
        throw new DomainRule(`${learnerEmail.slice(0, 80)} is not a learner in this cohort.`);
      }
      const learnerId = learner.id;
      const kind = db().transaction((tx) => service.setAttended(tx, access, row, learnerId, attended, now));
      return { learner: learner.email, attended: kind === 'attended', kind };
    },

    /** Set one learner's "attended" mark inside a transaction; a "watched" mark survives attended=false. Returns the resulting kind. */
    setAttended(tx: Db, access: CohortAccess, row: SessionRow, learnerId: number, attended: boolean, now: Date): AttendanceKind | null {
      const existing = tx.select().from(attendance).where(and(eq(attendance.sessionId, row.id), eq(attendance.userId, learnerId))).get();
      if (attended) {
        if (existing?.kind === 'attended') return 'attended';
        tx.insert(attendance)
          .values({ sessionId: row.id, userId: learnerId, kind: 'attended', markedBy: access.user.id, at: now })
          .onConflictDoUpdate({ target: [attendance.sessionId, attendance.userId], set: { kind: 'attended', markedBy: access.user.id, at: now } })
          .run();
        ctx.progress.changed(tx, access.cohort.id, learnerId);
        return 'attended';
      }
      if (existing?.kind !== 'attended') return existing?.kind ?? null;
      tx.delete(attendance).where(eq(attendance.id, existing.id)).run();
      ctx.progress.changed(tx, access.cohort.id, learnerId);
      return null;
    },

    /** The attendance sheet: every active learner with their mark. */
    sheet(access: CohortAccess, row: SessionRow): Array<{ userId: number; name: string; email: string; kind: AttendanceKind | null }> {
      const learners = activeLearners(db(), access.cohort.id);
      const marks = db().select().from(attendance).where(eq(attendance.sessionId, row.id)).all();
      const byUser = new Map(marks.map((m) => [m.userId, m.kind]));
      return learners
        .map((l) => ({ userId: l.id, name: l.name || l.email, email: l.email, kind: byUser.get(l.id) ?? null }))
        .sort((a, b) => a.name.localeCompare(b.name, 'en'));
    },

    /** Attended and watched counts per session (staff overview). */
    markCounts(sessionIds: number[]): Map<number, { attended: number; watched: number }> {
      const out = new Map<number, { attended: number; watched: number }>();
      if (sessionIds.length === 0) return out;
      const rows = db()
        .select({ sessionId: attendance.sessionId, kind: attendance.kind, n: sql<number>`count(*)` })
        .from(attendance)
        .where(inArray(attendance.sessionId, sessionIds))
        .groupBy(attendance.sessionId, attendance.kind)
        .all();
      for (const r of rows) {
        const c = out.get(r.sessionId) ?? { attended: 0, watched: 0 };
        c[r.kind] = r.n;
        out.set(r.sessionId, c);
      }
      return out;
    },

    /** Save the whole sheet at once: the checked learners attended, the others not (their "watched" kept). */
    saveSheet(access: CohortAccess, row: SessionRow, attendedIds: Set<number>): void {
      const now = clock.now();
      if (now.getTime() < row.startsAt.getTime()) throw new Conflict('Attendance can be marked once the session has started.');
      const learners = activeLearners(db(), access.cohort.id);
      db().transaction((tx) => {
        for (const l of learners) service.setAttended(tx, access, row, l.id, attendedIds.has(l.id), now);
      });
    },

    /** A learner says they watched the recording: once a recording exists and the session has ended (409 before). */
    markWatched(access: CohortAccess, row: SessionRow): { recorded: boolean } {
      if (access.role !== 'learner') throw new Forbidden('Only enrolled learners can say they watched a recording.');
      const now = clock.now();
      if (now.getTime() < row.endsAt.getTime()) throw new Conflict('This session has not ended yet.');
      if (!row.recordingUrl) throw new Conflict('There is no recording of this session yet.');
      return db().transaction((tx) => {
        const result = tx
          .insert(attendance)
          .values({ sessionId: row.id, userId: access.user.id, kind: 'watched', markedBy: access.user.id, at: now })
          .onConflictDoNothing()
          .run();
        if (result.changes > 0) ctx.progress.changed(tx, access.cohort.id, access.user.id);
        return { recorded: result.changes > 0 };
      });
    },

    /** For certificates: sessions attended or watched, the total, and the ended sessions the learner missed. */
    attendanceSummary(cohortId: number, userId: number): AttendanceSummary {
      const cohort = ctx.cohorts.get(cohortId);
      const rows = rowsFor(cohort);
      const marks = rows.length > 0 ? marksInCohort(userId, cohort.id) : new Map<number, AttendanceKind>();
      const now = clock.now().getTime();
      return {
        attendedOrWatched: rows.filter((r) => marks.has(r.id)).length,
        total: rows.length,
        missed: rows
          .filter((r) => r.endsAt.getTime() <= now && !marks.has(r.id))
          .map((r) => ({ sessionId: r.id, week: r.week, title: r.title, hasRecording: Boolean(r.recordingUrl) })),
      };
    },

    /** attendanceSummary for every learner of a cohort from two queries (whole-cohort certificate checks). */
    attendanceForCohort(cohort: Cohort): (userId: number) => AttendanceSummary {
      const rows = rowsFor(cohort);
      const byUser = new Map<number, Map<number, AttendanceKind>>();
      if (rows.length > 0) {
        const marks = db()
          .select({ userId: attendance.userId, sessionId: attendance.sessionId, kind: attendance.kind })
          .from(attendance)
          .where(inArray(attendance.sessionId, rows.map((r) => r.id)))
          .all();
        for (const m of marks) {
          const mine = byUser.get(m.userId);
          if (mine) mine.set(m.sessionId, m.kind);
          else byUser.set(m.userId, new Map([[m.sessionId, m.kind]]));
        }
      }
      const now = clock.now().getTime();
      const none = new Map<number, AttendanceKind>();
      return (userId) => {
        const marks = byUser.get(userId) ?? none;
        return {
          attendedOrWatched: rows.filter((r) => marks.has(r.id)).length,
          total: rows.length,
          missed: rows
            .filter((r) => r.endsAt.getTime() <= now && !marks.has(r.id))
            .map((r) => ({ sessionId: r.id, week: r.week, title: r.title, hasRecording: Boolean(r.recordingUrl) })),
        };
      };
    },

    /** Calendar of one cohort's sessions. */
    cohortCalendar(cohort: Cohort): string {
      return buildCalendar(calendarEntries(cohort, rowsFor(cohort)), { name: cohort.course.title, baseUrl: ctx.baseUrl });
    },

    /** Calendar of one session. */
    sessionCalendar(cohort: Cohort, row: SessionRow): string {
      return buildCalendar(calendarEntries(cohort, [row]), { name: `${cohort.course.title}: ${row.title}`, baseUrl: ctx.baseUrl });
    },

    /** Cohorts the user learns in (until accessEndsAt) or teaches; an admin's feed is the cohorts they teach, not all. */
    ownCohorts(user: User): Cohort[] {
      const now = clock.now().getTime();
      return ctx.cohorts
        .listForUser(user)
        .filter(({ role, cohort }) =>
          role === 'admin' ? ctx.cohorts.instructorIds(cohort.id).includes(user.id) : role !== 'learner' || now < cohort.timeline.accessEndsAt.getTime(),
        )
        .map(({ cohort }) => cohort);
    },

    /** The private feed: every session of every cohort the user belongs to and can still open. */
    feedCalendar(user: User): string {
      const entries = service.ownCohorts(user).flatMap((cohort) => calendarEntries(cohort, rowsFor(cohort)));
      entries.sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime() || a.id - b.id);
      return buildCalendar(entries, { name: 'Cohort Course live sessions', baseUrl: ctx.baseUrl });
    },

    /** Create (or rotate) the user's private feed; the old URL stops working. The token is shown once, stored hashed. */
    createFeed(userId: number): { token: string; url: string; createdAt: Date } {
      const now = clock.now();
      const token = newToken();
      db().transaction((tx) => {
        tx.update(calendarFeeds).set({ revokedAt: now }).where(and(eq(calendarFeeds.userId, userId), isNull(calendarFeeds.revokedAt))).run();
        tx.insert(calendarFeeds).values({ userId, tokenHash: hashToken(token), createdAt: now }).run();
      });
      return { token, url: service.feedUrl(token), createdAt: now };
    },

    /** The feed URL for a token. */
    feedUrl(token: string): string {
      return `${ctx.baseUrl}/calendar/${token}.ics`;
    },

    /** Revoke the user's feed; returns whether one was active. */
    revokeFeed(userId: number): boolean {
      const r = db()
        .update(calendarFeeds)
        .set({ revokedAt: clock.now() })
        .where(and(eq(calendarFeeds.userId, userId), isNull(calendarFeeds.revokedAt)))
        .run();
      return r.changes > 0;
    },

    /** The user's active feed (without its token), if any. */
    activeFeed(userId: number): { createdAt: Date } | null {
      const row = db()
        .select({ createdAt: calendarFeeds.createdAt })
        .from(calendarFeeds)
        .where(and(eq(calendarFeeds.userId, userId), isNull(calendarFeeds.revokedAt)))
        .get();
      return row ?? null;
    },

    /** The user behind a live (unrevoked) feed token, or null. */
    userForFeed(token: string): User | null {
      if (!token || token.length > 200) return null;
      const row = db()
        .select({ user: users })
        .from(calendarFeeds)
        .innerJoin(users, eq(users.id, calendarFeeds.userId))
        .where(and(eq(calendarFeeds.tokenHash, hashToken(token)), isNull(calendarFeeds.revokedAt)))
        .get();
      return row?.user ?? null;
    },

    /**
     * Scheduler job: reminders to active learners 24 h and 1 h before each session, once each (dedupe keys).
     * Only the window that is current is sent: [start−24 h, start−1 h) for the first, [start−1 h, start) for the second,
     * so a server that was down sends what is still useful and nothing for sessions already started.
     */
    sendReminders(now: Date): number {
      const due = db()
        .select()
        .from(liveSessions)
        .where(and(gt(liveSessions.startsAt, now), lte(liveSessions.startsAt, new Date(now.getTime() + 24 * HOUR))))
        .all();
      let queued = 0;
      for (const row of due) {
        const kind = row.startsAt.getTime() - now.getTime() <= HOUR ? '1h' : '24h';
        const key = (userId: number) => `session-reminder:${row.id}:${kind}:${userId}`;
        // Most ticks find every reminder already queued: check the keys first rather than render mail to drop.
        const learnerIds = ctx.cohorts.learners(row.cohortId).map((l) => l.userId);
        const done = alreadyQueued(learnerIds.map(key));
        const pendingIds = learnerIds.filter((id) => !done.has(key(id)));
        if (pendingIds.length === 0) continue;
        const pending = db().select().from(users).where(inArray(users.id, pendingIds)).all();
        let cohort: Cohort;
        try {
          cohort = ctx.cohorts.get(row.cohortId);
        } catch {
          continue;
        }
        db().transaction((tx) => {
          for (const learner of pending) {
            const zone = zoneFor(learner, cohort);
            const sent = ctx.mailer.enqueue(tx, {
              to: learner.email,
              subject: kind === '1h' ? `Starting soon: ${row.title} at ${formatTime(row.startsAt, zone)}` : `Reminder: ${row.title}, ${formatInstant(row.startsAt, zone)}`,
              template: 'sessions-reminder',
              data: {
                name: learner.name || learner.email,
                title: row.title,
                course: cohort.course.title,
                soon: kind === '1h',
                starts: formatInstant(row.startsAt, zone),
                ends: formatTime(row.endsAt, zone),
                url: cohortUrl(cohort.id),
                icsUrl: `${ctx.baseUrl}/api/v1/sessions/${row.id}/calendar.ics`,
              },
              dedupeKey: key(learner.id),
            });
            if (sent) queued++;
          }
        });
      }
      return queued;
    },
  };
  return service;
}

export type SessionService = ReturnType<typeof createSessionService>;
