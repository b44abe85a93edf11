// An instructor's change to one session: its join and recording links, or a move to another time; learners are
// emailed the new time, and once when the first recording is added.
import { and, eq } from 'drizzle-orm';
import { BadInput, NotFound } from '../../server/errors.js';
import { formatDay, formatInstant, formatTime } from '../../server/time.js';
import { checkDate, type CohortAccess } from '../cohorts/service.js';
import { liveSessions } from './schema.js';
import { instantsAt, placeOf, placeOfLocal, type LocalPlace } from './schedule.js';
import {
  MAX_DURATION,
  MIN_DURATION,
  MOVE_MARGIN_DAYS,
  activeLearners,
  checkHttpsUrl,
  cohortUrl,
  durationFor,
  placeFor,
  zoneFor,
  type SessionDeps,
  type SessionPatch,
  type SessionRow,
} from './model.js';

const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

/** The new place asked for, checked against the cohort's weeks (null when the patch does not move the session). */
function targetPlace(access: CohortAccess, patch: SessionPatch): LocalPlace | null {
  const cohort = access.cohort;
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
  return place;
}

/** An instructor's change to one session: links (https only), or a move (learners are emailed). */
export async function updateSession(deps: SessionDeps, access: CohortAccess, row: SessionRow, patch: SessionPatch): Promise<SessionRow> {
  const { database, clock, mailer, baseUrl } = deps;
  const cohort = access.cohort;
  const set: Partial<SessionRow> = {};
  if (patch.joinUrl !== undefined) set.joinUrl = patch.joinUrl === null ? null : checkHttpsUrl(patch.joinUrl, 'joinUrl');
  if (patch.recordingUrl !== undefined) set.recordingUrl = patch.recordingUrl === null ? null : checkHttpsUrl(patch.recordingUrl, 'recordingUrl');
  if (patch.durationMinutes !== undefined) {
    const d = patch.durationMinutes;
    if (!Number.isInteger(d) || d < MIN_DURATION || d > MAX_DURATION) throw new BadInput(`durationMinutes must be a whole number from ${MIN_DURATION} to ${MAX_DURATION}.`);
  }
  const place = targetPlace(access, patch);
  const now = clock.now();
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
  const firstRecording = Boolean(set.recordingUrl && !row.recordingUrl && !row.recordingAddedAt);
  if (firstRecording) set.recordingAddedAt = now;

  return database.transaction(async (tx) => {
    const [result] = await tx
      .update(liveSessions)
      .set({ ...set, updatedAt: now })
      .where(and(eq(liveSessions.id, row.id), eq(liveSessions.cohortId, cohort.id)))
      .returning();
    if (!result) throw new NotFound('Session');
    const learners = set.sequence !== undefined || firstRecording ? await activeLearners(deps, cohort.id, tx) : [];
    if (set.sequence !== undefined) {
      for (const learner of learners) {
        const zone = zoneFor(learner, cohort);
        await mailer.enqueue(tx, {
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
            url: cohortUrl(deps, cohort.id),
            icsUrl: `${baseUrl}/api/v1/sessions/${result.id}/calendar.ics`,
          },
          dedupeKey: `session-moved:${result.id}:${result.sequence}:${learner.id}`,
        });
      }
    }
    if (firstRecording) {
      for (const learner of learners) {
        await mailer.enqueue(tx, {
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
            url: cohortUrl(deps, cohort.id),
          },
          dedupeKey: `session-recording:${result.id}:${learner.id}`,
        });
      }
    }
    return result;
  });
}
