// The reminder job: active learners are emailed 24 hours and 1 hour before each session, once each (dedupe keys).
import { and, gt, inArray, lte } from 'drizzle-orm';
import { outbox } from '../../server/outbox-schema.js';
import { formatInstant, formatTime } from '../../server/time.js';
import type { Cohort } from '../cohorts/service.js';
import { liveSessions } from './schema.js';
import { activeLearners, cohortUrl, zoneFor, type SessionDeps } from './model.js';

const HOUR = 3_600_000;

/** Which of these outbox dedupe keys have been used already (queued or sent). */
async function alreadyQueued(deps: Pick<SessionDeps, 'database'>, keys: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < keys.length; i += 500) {
    const chunk = keys.slice(i, i + 500);
    for (const r of await deps.database.db.select({ key: outbox.dedupeKey }).from(outbox).where(inArray(outbox.dedupeKey, chunk))) {
      if (r.key) found.add(r.key);
    }
  }
  return found;
}

/**
 * Reminders to active learners 24 h and 1 h before each session, once each (dedupe keys); returns how many were queued.
 * Only the window that is current is sent: [start−24 h, start−1 h) for the first, [start−1 h, start) for the second,
 * so a server that was down sends what is still useful and nothing for sessions already started.
 */
export async function sendReminders(deps: SessionDeps, now: Date): Promise<number> {
  const { database, mailer, cohorts, baseUrl } = deps;
  const due = await database.db
    .select()
    .from(liveSessions)
    .where(and(gt(liveSessions.startsAt, now), lte(liveSessions.startsAt, new Date(now.getTime() + 24 * HOUR))));
  let queued = 0;
  for (const row of due) {
    const kind = row.startsAt.getTime() - now.getTime() <= HOUR ? '1h' : '24h';
    const key = (userId: number) => `session-reminder:${row.id}:${kind}:${userId}`;
    // Most ticks find every reminder already queued: check the keys first rather than render mail to drop. The key on
    // each message is what makes it once-only (another instance, or this check racing a send).
    const learners = await activeLearners(deps, row.cohortId);
    const done = await alreadyQueued(deps, learners.map((l) => key(l.id)));
    const pending = learners.filter((l) => !done.has(key(l.id)));
    if (pending.length === 0) continue;
    let cohort: Cohort;
    try {
      cohort = await cohorts.get(row.cohortId);
    } catch {
      continue;
    }
    await database.transaction(async (tx) => {
      for (const learner of pending) {
        const zone = zoneFor(learner, cohort);
        const sent = await mailer.enqueue(tx, {
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
            url: cohortUrl(deps, cohort.id),
            icsUrl: `${baseUrl}/api/v1/sessions/${row.id}/calendar.ics`,
          },
          dedupeKey: key(learner.id),
        });
        if (sent) queued++;
      }
    });
  }
  return queued;
}
