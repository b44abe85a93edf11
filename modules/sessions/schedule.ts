// Session instants from course slots and instructor moves, in the cohort's zone with calendar-day arithmetic.
import { DateTime } from 'luxon';
import { localInstant } from '../cohorts/timeline.js';

/** Minutes before the start from which learners see the join link. */
export const JOIN_OPENS_MINUTES = 15;

/** Where a session sits relative to its cohort: calendar days after startDate and HH:mm local time. */
export interface LocalPlace {
  dayOffset: number;
  time: string;
}

/** The UTC instants of a session at a local place, in the cohort's zone. */
export function instantsAt(startDate: string, timezone: string, place: LocalPlace, durationMinutes: number): { startsAt: Date; endsAt: Date } {
  const start = localInstant(startDate, timezone, place.dayOffset, place.time);
  return { startsAt: start.toJSDate(), endsAt: start.plus({ minutes: durationMinutes }).toJSDate() };
}

/** The local place (relative to the cohort's start date) of an instant, in the cohort's zone; seconds are dropped. */
export function placeOf(instant: Date, startDate: string, timezone: string): LocalPlace {
  const local = DateTime.fromJSDate(instant, { zone: timezone });
  // Compare dates as plain calendar days (in UTC) so a daylight-saving day still counts as one day.
  const day = DateTime.fromISO(local.toISODate()!, { zone: 'UTC' });
  const start = DateTime.fromISO(startDate, { zone: 'UTC' });
  return { dayOffset: Math.round(day.diff(start, 'days').days), time: local.toFormat('HH:mm') };
}

/** The place of a local date (YYYY-MM-DD) and time (HH:mm) relative to the cohort's start date. */
export function placeOfLocal(date: string, time: string, startDate: string): LocalPlace {
  const day = DateTime.fromISO(date, { zone: 'UTC' });
  const start = DateTime.fromISO(startDate, { zone: 'UTC' });
  return { dayOffset: Math.round(day.diff(start, 'days').days), time };
}

/** Whether the join link is shown to learners: from 15 minutes before the start until (not including) the end. */
export function joinWindowOpen(session: { startsAt: Date; endsAt: Date }, now: Date): boolean {
  const t = now.getTime();
  return t >= session.startsAt.getTime() - JOIN_OPENS_MINUTES * 60_000 && t < session.endsAt.getTime();
}
