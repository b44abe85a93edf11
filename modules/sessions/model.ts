// What every sessions use case shares: the row and view types, the typed dependencies, and the pure rules for where a
// session sits and what a viewer sees of it.
import type { Infrastructure } from '../../server/infrastructure.js';
import type { Db } from '../../server/db.js';
import { BadInput } from '../../server/errors.js';
import type { PeopleService, User } from '../people/service.js';
import type { CourseService } from '../courses/service.js';
import type { Cohort, CohortAccess, CohortService } from '../cohorts/service.js';
import { liveSessions, type AttendanceKind } from './schema.js';
import { joinWindowOpen, type LocalPlace } from './schedule.js';
import { slotPlace } from '../cohorts/timeline.js';

export type SessionRow = typeof liveSessions.$inferSelect;

/** What the sessions module is built from. */
export interface SessionDeps extends Infrastructure {
  people: PeopleService;
  courses: CourseService;
  cohorts: CohortService;
}

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

/** The cohort page a session's emails and calendar entries link to. */
export function cohortUrl(deps: Pick<SessionDeps, 'baseUrl'>, cohortId: number): string {
  return `${deps.baseUrl}/cohorts/${cohortId}`;
}

/** Where a row should sit now: the instructor's move if any, else its course slot. */
export function placeFor(cohort: Cohort, row: Pick<SessionRow, 'slotIndex' | 'movedDayOffset' | 'movedTime'>): LocalPlace | null {
  if (row.movedDayOffset !== null && row.movedTime !== null) return { dayOffset: row.movedDayOffset, time: row.movedTime };
  const slot = cohort.course.sessions[row.slotIndex];
  return slot ? slotPlace(cohort.startDate, slot) : null;
}

/** How long a row lasts: the instructor's length if moved, else its slot's, else what it was. */
export function durationFor(cohort: Cohort, row: Pick<SessionRow, 'slotIndex' | 'movedDurationMinutes' | 'startsAt' | 'endsAt'>): number {
  return row.movedDurationMinutes ?? cohort.course.sessions[row.slotIndex]?.durationMinutes ?? Math.round((row.endsAt.getTime() - row.startsAt.getTime()) / 60_000);
}

/** One session as the caller sees it at `now`, with their own mark. */
export function viewOf(access: CohortAccess, row: SessionRow, now: Date, mine: AttendanceKind | null): SessionView {
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

/** An active learner as the emails and the attendance sheet need them. */
export interface LearnerContact {
  id: number;
  email: string;
  name: string;
  timezone: string | null;
}

/** The cohort's active learners (inside a transaction pass its tx). */
export async function activeLearners(deps: Pick<SessionDeps, 'cohorts'>, cohortId: number, tx?: Db): Promise<LearnerContact[]> {
  const roster = await deps.cohorts.roster(cohortId, tx);
  return roster.map((r) => ({ id: r.userId, email: r.email, name: r.name, timezone: r.timezone }));
}
