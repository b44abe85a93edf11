// The cohort's shapes and the checks on them, shared by the cohort use cases (service.ts assembles them).
import type { Infrastructure } from '../../server/infrastructure.js';
import { DateTime } from 'luxon';
import type { Db } from '../../server/db.js';
import { BadInput } from '../../server/errors.js';
import { isValidZone } from '../../server/time.js';
import type { Course, Week } from '../courses/content.js';
import type { CourseService } from '../courses/service.js';
import { normaliseEmail, type PeopleService, type User } from '../people/service.js';
import type { cohorts } from './schema.js';
import { computeTimeline, type CohortState, type Timeline } from './timeline.js';

/** What the cohorts module is built from: infrastructure and the modules it depends on (people, courses). */
export interface CohortDeps extends Infrastructure {
  people: PeopleService;
  courses: CourseService;
}

export type CohortRow = typeof cohorts.$inferSelect;
export type CohortRole = 'admin' | 'instructor' | 'learner';

export interface Cohort extends CohortRow {
  course: Course;
  timeline: Timeline;
}

export interface CohortAccess {
  cohort: Cohort;
  user: User;
  role: CohortRole;
}

/** What an admin may change on a cohort; startDate/timezone make it a move. */
export interface CohortPatch {
  capacity?: number;
  instructors?: string[];
  startDate?: string;
  timezone?: string;
}

/** A week as this cohort reads it: the course file, overlaid by the cohort's own edit if any. */
export interface CohortWeek {
  number: number;
  title: string;
  markdown: string;
  html: string;
  source: Week;
  edited: boolean;
}

/** A week's title as this cohort reads it (for plans, lists and emails that do not show the text). */
export type CohortWeekTitle = Pick<CohortWeek, 'number' | 'title' | 'source' | 'edited'>;

/** Where a member stands in a cohort right now (for "my courses"). */
export interface CohortOverview {
  state: CohortState;
  /** The latest week that has opened (null before week 1). */
  openWeek: { number: number; title: string; dueAt: Date } | null;
  /** The next assignment deadline still ahead among open weeks (null when none). */
  nextDue: { number: number; title: string; dueAt: Date } | null;
  /** When the cohort has not started: when week 1 opens. */
  opensAt: Date | null;
  /** Whole days (rounded up) left to submit work during the grace period; null outside it. */
  graceDaysLeft: number | null;
}

export interface RosterEntry {
  userId: number;
  name: string;
  email: string;
  timezone: string | null;
  certificateWanted: boolean;
  enrolledAt: Date;
}

export interface CohortSessionSummary {
  id: number;
  week: number;
  startsAt: Date;
  endsAt: Date;
}

const MAX_CAPACITY = 10_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Reads go through the caller's transaction when there is one, else the read connection. */
export function reader(deps: Pick<CohortDeps, 'database'>, tx?: Db): Db {
  return tx ?? deps.database.db;
}

/**
 * A cohort row with the version of its course it follows and the timeline derived from its start date and zone.
 * Published versions are kept in memory once read, so this reads the database only the first time a version is used.
 */
export async function hydrate(courses: CourseService, row: CohortRow, q?: Db): Promise<Cohort> {
  const course = await courses.load(row.courseSlug, row.courseVersion, q);
  const timeline = computeTimeline({ startDate: row.startDate, timezone: row.timezone, weekCount: course.weekCount, releaseTime: course.releaseTime });
  return { ...row, course, timeline };
}

/** The zone to show a person a cohort's dates in: their own choice, else the cohort's. */
export function zoneFor(user: Pick<User, 'timezone'> | null | undefined, cohort: Pick<CohortRow, 'timezone'>): string {
  return user?.timezone || cohort.timezone;
}

export function checkCapacity(capacity: number): number {
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY) throw new BadInput('capacity must be a whole number from 1 to 10000.');
  return capacity;
}

export function checkZone(zone: string): string {
  if (!isValidZone(zone)) throw new BadInput(`timezone "${zone.slice(0, 60)}" is not an IANA time zone (e.g. Europe/London).`);
  return zone;
}

/** Normalised, de-duplicated instructor addresses; refuses anything that is not an address. */
export function checkEmails(emails: string[]): string[] {
  if (emails.length > 20) throw new BadInput('at most 20 addresses.', 'instructors');
  return [...new Set(emails.map((e) => normaliseEmail(e)))];
}

/** Refuses a local date that is not a real YYYY-MM-DD day. */
export function checkDate(value: string, field = 'startDate'): string {
  if (!DATE.test(value) || !DateTime.fromISO(value).isValid) throw new BadInput(`${field} must be a date like 2026-03-02.`);
  return value;
}
