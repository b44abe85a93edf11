// The week-opening job: each week's opening is announced once to the cohort's active learners, whatever the restarts.
import { and, eq, gte, inArray, lte } from 'drizzle-orm';
import { DateTime } from 'luxon';
import type { Db } from '../../server/db.js';
import { formatInstant } from '../../server/time.js';
import { MAX_WEEKS } from '../courses/content.js';
import { cohorts, weekOpenNotices } from './schema.js';
import { hydrate, zoneFor, type Cohort, type CohortDeps, type CohortWeek } from './model.js';
import { learnerContacts } from './members.js';
import { ACCESS_DAYS_AFTER_GRACE, GRACE_DAYS } from './timeline.js';

/** Cohorts whose start date is older than this can no longer be open to anyone: the job never looks at them. */
const LIFE_DAYS = 7 * MAX_WEEKS + GRACE_DAYS + ACCESS_DAYS_AFTER_GRACE + 2;

export interface WeekOpenReads {
  week(cohort: Cohort, n: number, tx?: Db): Promise<CohortWeek>;
}

export function createWeekOpening(deps: CohortDeps, reads: WeekOpenReads) {
  const { baseUrl, clock, courses, database, mailer } = deps;

  /**
   * Announce one week's opening to every active learner, once: the notice row and the emails commit together.
   * The cohort is read again inside the transaction (it may have moved since the job listed it). Returns the emails
   * queued, or null when there was nothing to announce (the week is not open, or it was announced already).
   */
  async function announceWeek(cohortId: number, n: number, now: Date): Promise<number | null> {
    return database.transaction(async (tx) => {
      const [row] = await tx.select().from(cohorts).where(eq(cohorts.id, cohortId)).limit(1);
      if (!row) return null;
      const cohort = await hydrate(courses, row, tx);
      const timelineWeek = cohort.timeline.weeks[n - 1];
      if (!timelineWeek || timelineWeek.opensAt.getTime() > now.getTime()) return null;
      // The insert is the claim: another instance (or a second tick) that lost the race does nothing.
      const claimed = await tx
        .insert(weekOpenNotices)
        .values({ cohortId, week: n, opensAt: timelineWeek.opensAt, notifiedAt: now, learners: 0 })
        .onConflictDoNothing()
        .returning({ week: weekOpenNotices.week });
      if (claimed.length === 0) return null;
      const week = await reads.week(cohort, n, tx);
      const hasAssignment = week.source.assignment !== null;
      let sent = 0;
      for (const learner of await learnerContacts(tx, cohortId)) {
        const zone = zoneFor(learner, cohort);
        const queued = await mailer.enqueue(tx, {
          to: learner.email,
          subject: `Week ${n} is open: ${cohort.course.title}`,
          template: 'cohorts-week-open',
          dedupeKey: `week-open:${cohortId}:${n}:${learner.id}`,
          data: {
            name: learner.name || learner.email,
            courseTitle: cohort.course.title,
            number: n,
            title: week.title,
            summary: week.source.summary,
            dueAt: hasAssignment ? formatInstant(timelineWeek.dueAt, zone) : null,
            url: `${baseUrl}/cohorts/${cohortId}/weeks/${n}`,
          },
        });
        if (queued) sent++;
      }
      await tx.update(weekOpenNotices).set({ learners: sent }).where(and(eq(weekOpenNotices.cohortId, cohortId), eq(weekOpenNotices.week, n)));
      return sent;
    });
  }

  /**
   * For every cohort still within its life, announce each week that has opened and was not announced yet, calling
   * `pause` after each announced week. Only cohorts whose start date is within the longest possible life are read,
   * so archived cohorts cost nothing.
   */
  async function announce(now: Date, pause: () => Promise<void>): Promise<{ weeks: number; emails: number }> {
    const db = database.db;
    const today = DateTime.fromJSDate(now, { zone: 'utc' });
    // A local date can be up to 14 hours ahead of UTC: include tomorrow's starts.
    const latest = today.plus({ days: 1 }).toISODate() as string;
    const earliest = today.minus({ days: LIFE_DAYS }).toISODate() as string;
    const rows = await db.select().from(cohorts).where(and(gte(cohorts.startDate, earliest), lte(cohorts.startDate, latest)));
    if (rows.length === 0) return { weeks: 0, emails: 0 };
    const notices = await db
      .select({ cohortId: weekOpenNotices.cohortId, week: weekOpenNotices.week })
      .from(weekOpenNotices)
      .where(inArray(weekOpenNotices.cohortId, rows.map((r) => r.id)));
    const done = new Set(notices.map((r) => `${r.cohortId}:${r.week}`));
    let weeks = 0;
    let emails = 0;
    for (const row of rows) {
      const cohort = await hydrate(courses, row);
      if (now.getTime() >= cohort.timeline.accessEndsAt.getTime()) continue;
      for (const w of cohort.timeline.weeks) {
        if (w.opensAt.getTime() > now.getTime() || done.has(`${cohort.id}:${w.number}`)) continue;
        const sent = await announceWeek(cohort.id, w.number, now);
        if (sent === null) continue;
        weeks++;
        emails += sent;
        await pause();
      }
    }
    return { weeks, emails };
  }

  return {
    /**
     * The scheduler's job: for every cohort still within its life, announce each week that has opened and was not
     * announced yet (one email per active learner, deduplicated by week-open:<cohort>:<n>:<user>).
     */
    async announceOpenWeeks(now: Date = clock.now()): Promise<{ weeks: number; emails: number }> {
      return announce(now, async () => {});
    },

    /** announceOpenWeeks one cohort's week at a time, letting requests in between (the scheduler's way). */
    async announceOpenWeeksInSteps(now: Date = clock.now()): Promise<{ weeks: number; emails: number }> {
      return announce(now, () => new Promise<void>((resolve) => setImmediate(resolve)));
    },
  };
}
