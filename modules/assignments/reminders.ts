// The due-soon reminder: one email per learner and week a day before their own due date, while nothing is submitted.
import { and, asc, eq, gt, lte } from 'drizzle-orm';
import { formatInstant } from '../../server/time.js';
import { dueReminders, extensions, submissions } from './schema.js';
import { cohortLearners, personalFrom } from './records.js';
import { REMINDER_HOURS, type Deps } from './types.js';

/**
 * The scheduler's job: one reminder per learner and week, REMINDER_HOURS before the learner's own due date,
 * while nothing has been submitted for it. Idempotent (a row per reminder, unique on the due date).
 */
export async function remindDueSoon(d: Deps, now: Date): Promise<number> {
  const db = d.database.db;
  let sent = 0;
  const horizon = now.getTime() + REMINDER_HOURS * 3_600_000;
  // This runs on every tick: a cohort is only read when a due date falls in the window, its own or a learner's
  // extended one (a personal due date always comes from an extension row).
  const extendedInWindow = new Set(
    (await db
      .select({ cohortId: extensions.cohortId })
      .from(extensions)
      .where(and(gt(extensions.dueAt, now), lte(extensions.dueAt, new Date(horizon))))).map((r) => r.cohortId),
  );
  for (const cohort of await d.cohorts.list()) {
    const t = cohort.timeline;
    if (now.getTime() < t.startsAt.getTime() || now.getTime() >= t.accessEndsAt.getTime()) continue;
    const weeks = cohort.course.weeks.filter((w) => w.assignment && t.weeks[w.number - 1].opensAt.getTime() <= now.getTime());
    if (weeks.length === 0) continue;
    const dueInWindow = (due: Date) => due.getTime() > now.getTime() && due.getTime() <= horizon;
    if (!extendedInWindow.has(cohort.id) && !weeks.some((w) => dueInWindow(t.weeks[w.number - 1].dueAt))) continue;
    const learners = await cohortLearners(d, cohort.id);
    if (learners.length === 0) continue;
    const subs = await db.select({ userId: submissions.userId, week: submissions.week, version: submissions.version }).from(submissions).where(eq(submissions.cohortId, cohort.id));
    const submitted = new Set(subs.filter((s) => s.version > 0).map((s) => `${s.userId}:${s.week}`));
    const exts = await db.select().from(extensions).where(eq(extensions.cohortId, cohort.id)).orderBy(asc(extensions.id));
    // Skip reminders already sent without opening a transaction for each (this runs on every scheduler tick).
    const sentKeys = new Set(
      (await db
        .select({ userId: dueReminders.userId, week: dueReminders.week, dueAt: dueReminders.dueAt })
        .from(dueReminders)
        .where(eq(dueReminders.cohortId, cohort.id))).map((r) => `${r.userId}:${r.week}:${r.dueAt.getTime()}`),
    );
    for (const l of learners) {
      const dates = personalFrom(cohort, exts.filter((e) => e.userId === l.id));
      for (const w of weeks) {
        const due = dates.dueAt(w.number);
        if (due.getTime() <= now.getTime() || due.getTime() > horizon) continue;
        if (submitted.has(`${l.id}:${w.number}`)) continue;
        if (sentKeys.has(`${l.id}:${w.number}:${due.getTime()}`)) continue;
        const user = await d.people.get(l.id);
        const zone = user.timezone ?? cohort.timezone;
        const fresh = await d.database.transaction(async (tx) => {
          const inserted = await tx
            .insert(dueReminders)
            .values({ cohortId: cohort.id, userId: l.id, week: w.number, dueAt: due, sentAt: now })
            .onConflictDoNothing()
            .returning({ week: dueReminders.week });
          if (inserted.length === 0) return false;
          await d.mailer.enqueue(tx, {
            to: l.email,
            subject: `Week ${w.number} is due ${formatInstant(due, zone)}: ${cohort.course.title}`,
            template: 'assignments-due-soon',
            data: {
              name: l.name || l.email,
              course: cohort.course.title,
              week: w.number,
              assignmentTitle: w.assignment!.title,
              due: formatInstant(due, zone),
              closes: formatInstant(dates.graceEndsAt, zone),
              url: `${d.baseUrl}/cohorts/${cohort.id}/weeks/${w.number}/worksheet`,
            },
            dedupeKey: `assignments-due-soon:${cohort.id}:${l.id}:${w.number}:${due.getTime()}`,
          });
          return true;
        });
        if (fresh) sent++;
      }
    }
  }
  return sent;
}
