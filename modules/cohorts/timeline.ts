// The cohort timeline of PRODUCT.md, computed with luxon in the cohort's IANA zone.
import { DateTime } from 'luxon';

export interface TimelineInput {
  /** Local date YYYY-MM-DD in `timezone` when week 1 opens. */
  startDate: string;
  timezone: string;
  weekCount: number;
  /** HH:mm local release time (default 00:00). */
  releaseTime?: string;
}

export interface TimelineWeek {
  number: number;
  opensAt: Date;
  dueAt: Date;
}

export interface Timeline {
  weeks: TimelineWeek[];
  startsAt: Date;
  endsAt: Date;
  graceEndsAt: Date;
  accessEndsAt: Date;
}

export const GRACE_DAYS = 14;
export const ACCESS_DAYS_AFTER_GRACE = 14;

export type CohortState = 'upcoming' | 'running' | 'grace' | 'closed' | 'archived';

/** Local midnight (or release time) of startDate + days, in the zone: calendar days, so DST never shifts it. */
export function localInstant(startDate: string, timezone: string, days: number, releaseTime = '00:00'): DateTime {
  const [hour, minute] = releaseTime.split(':').map(Number);
  // Calendar arithmetic on the date alone (no zone involved), then one conversion from local time in the zone.
  const day = DateTime.fromISO(startDate, { zone: 'utc' });
  if (!day.isValid) throw new Error(`invalid start date ${startDate} in ${timezone}`);
  const local = day.plus({ days });
  const instant = DateTime.fromObject({ year: local.year, month: local.month, day: local.day, hour, minute }, { zone: timezone });
  if (!instant.isValid) throw new Error(`invalid start date ${startDate} in ${timezone}`);
  return instant;
}

// Zone conversions are slow (Intl under the hood) and a timeline is a pure function of its inputs, so each
// distinct timeline is computed once per process. Bounded: cleared when it grows past the limit.
const TIMELINE_CACHE_LIMIT = 5000;
const timelineCache = new Map<string, Timeline>();

/** Every instant of a cohort's life (memoised: callers must not mutate the result). */
export function computeTimeline(input: TimelineInput): Timeline {
  const key = `${input.startDate}|${input.timezone}|${input.weekCount}|${input.releaseTime ?? '00:00'}`;
  let t = timelineCache.get(key);
  if (!t) {
    if (timelineCache.size >= TIMELINE_CACHE_LIMIT) timelineCache.clear();
    t = buildTimeline(input);
    timelineCache.set(key, t);
  }
  return t;
}

function buildTimeline(input: TimelineInput): Timeline {
  const { startDate, timezone, weekCount } = input;
  const release = input.releaseTime ?? '00:00';
  // opens[n-1] for n = 1..W, then endsAt at index W.
  const marks: Date[] = [];
  for (let n = 1; n <= weekCount + 1; n++) marks.push(localInstant(startDate, timezone, 7 * (n - 1), release).toJSDate());
  const weeks: TimelineWeek[] = [];
  for (let n = 1; n <= weekCount; n++) weeks.push(Object.freeze({ number: n, opensAt: marks[n - 1], dueAt: marks[n] }));
  const endsAt = marks[weekCount];
  const graceEndsAt = localInstant(startDate, timezone, 7 * weekCount + GRACE_DAYS, release).toJSDate();
  const accessEndsAt = localInstant(startDate, timezone, 7 * weekCount + GRACE_DAYS + ACCESS_DAYS_AFTER_GRACE, release).toJSDate();
  return Object.freeze({ weeks: Object.freeze(weeks) as TimelineWeek[], startsAt: marks[0], endsAt, graceEndsAt, accessEndsAt });
}

/**
 * Where a course's weekly session slot falls for a cohort: calendar days after its start date (the first `weekday` on
 * or after the week's opening date, startDate + 7·(week−1) days) and the local time. ISO weekdays, 1 = Monday.
 */
export function slotPlace(startDate: string, slot: { week: number; weekday: number; time: string }): { dayOffset: number; time: string } {
  const startWeekday = DateTime.fromISO(startDate, { zone: 'UTC' }).weekday;
  return { dayOffset: 7 * (slot.week - 1) + ((slot.weekday - startWeekday + 7) % 7), time: slot.time };
}

/** Where a cohort is in its life at an instant. */
export function cohortState(t: Timeline, now: Date): CohortState {
  const ms = now.getTime();
  if (ms < t.startsAt.getTime()) return 'upcoming';
  if (ms < t.endsAt.getTime()) return 'running';
  if (ms < t.graceEndsAt.getTime()) return 'grace';
  if (ms < t.accessEndsAt.getTime()) return 'closed';
  return 'archived';
}

/** The week whose opening has most recently passed (0 before week 1). */
export function currentWeek(t: Timeline, now: Date): number {
  let n = 0;
  for (const w of t.weeks) if (w.opensAt.getTime() <= now.getTime()) n = w.number;
  return n;
}
