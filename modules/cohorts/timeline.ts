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
  const start = DateTime.fromISO(startDate, { zone: timezone });
  if (!start.isValid) throw new Error(`invalid start date ${startDate} in ${timezone}`);
  return start.plus({ days }).set({ hour, minute, second: 0, millisecond: 0 });
}

/** Every instant of a cohort's life. */
export function computeTimeline(input: TimelineInput): Timeline {
  const { startDate, timezone, weekCount } = input;
  const release = input.releaseTime ?? '00:00';
  const opens = (n: number) => localInstant(startDate, timezone, 7 * (n - 1), release);
  const ends = localInstant(startDate, timezone, 7 * weekCount, release);
  const weeks: TimelineWeek[] = [];
  for (let n = 1; n <= weekCount; n++) {
    weeks.push({ number: n, opensAt: opens(n).toJSDate(), dueAt: (n < weekCount ? opens(n + 1) : ends).toJSDate() });
  }
  const grace = ends.plus({ days: GRACE_DAYS });
  return {
    weeks,
    startsAt: opens(1).toJSDate(),
    endsAt: ends.toJSDate(),
    graceEndsAt: grace.toJSDate(),
    accessEndsAt: grace.plus({ days: ACCESS_DAYS_AFTER_GRACE }).toJSDate(),
  };
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
