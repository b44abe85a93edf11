// A cohort's weeks: the course file's text overlaid by the cohort's own edits, the edits themselves, and what is open.
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../../server/db.js';
import { BadInput, NotFound } from '../../server/errors.js';
import { renderMarkdown } from '../../server/markdown.js';
import { weekOverrides } from './schema.js';
import { reader, type Cohort, type CohortDeps, type CohortOverview, type CohortWeek, type CohortWeekTitle } from './model.js';
import { cohortState, currentWeek } from './timeline.js';

const DAY_MS = 86_400_000;

export function createCohortWeeks(deps: CohortDeps) {
  const { clock, database } = deps;
  // An edited week's text is rendered once per edit (the key holds the edit's time), not on every page view.
  const htmlCache = new Map<string, string>();

  /** Every week's title for this cohort (its edits applied), in one read. */
  async function weeks(cohort: Cohort, tx?: Db): Promise<CohortWeekTitle[]> {
    const edits = await reader(deps, tx)
      .select({ week: weekOverrides.week, title: weekOverrides.title })
      .from(weekOverrides)
      .where(eq(weekOverrides.cohortId, cohort.id));
    const byWeek = new Map(edits.map((e) => [e.week, e]));
    return cohort.course.weeks.map((source, i) => {
      const edit = byWeek.get(i + 1);
      return { number: i + 1, title: edit?.title ?? source.title, source, edited: edit !== undefined };
    });
  }

  const face = {
    /** A week's content for this cohort: the course file, overlaid by the cohort's own edit if any. */
    async week(cohort: Cohort, n: number, tx?: Db): Promise<CohortWeek> {
      const source = cohort.course.weeks[n - 1];
      if (!source) throw new NotFound(`Week ${n}`);
      const [override] = await reader(deps, tx)
        .select()
        .from(weekOverrides)
        .where(and(eq(weekOverrides.cohortId, cohort.id), eq(weekOverrides.week, n)))
        .limit(1);
      if (!override) return { number: n, title: source.title, markdown: source.markdown, html: source.html, source, edited: false };
      const markdown = override.markdown ?? source.markdown;
      const key = `${cohort.id}:${n}:${override.updatedAt.getTime()}`;
      let html = htmlCache.get(key);
      if (html === undefined) {
        html = override.markdown === null ? source.html : renderMarkdown(markdown);
        htmlCache.set(key, html);
      }
      return { number: n, title: override.title ?? source.title, markdown, html, source, edited: true };
    },

    weeks,

    /**
     * An instructor's edit of a week's title and/or text for this cohort only. A field given as null goes back to
     * the course file; when both are back to the course file the cohort's edit is removed altogether.
     */
    async editWeek(cohort: Cohort, n: number, userId: number, patch: { title?: string | null; markdown?: string | null }): Promise<void> {
      if (!cohort.course.weeks[n - 1]) throw new NotFound(`Week ${n}`);
      if (typeof patch.title === 'string' && patch.title.trim() === '') throw new BadInput('title must not be empty.');
      const now = clock.now();
      await database.transaction(async (tx) => {
        await tx
          .insert(weekOverrides)
          .values({ cohortId: cohort.id, week: n, title: patch.title ?? null, markdown: patch.markdown ?? null, updatedBy: userId, updatedAt: now })
          .onConflictDoUpdate({
            target: [weekOverrides.cohortId, weekOverrides.week],
            set: {
              ...(patch.title !== undefined ? { title: patch.title } : {}),
              ...(patch.markdown !== undefined ? { markdown: patch.markdown } : {}),
              updatedBy: userId,
              updatedAt: now,
            },
          });
        await tx
          .delete(weekOverrides)
          .where(and(eq(weekOverrides.cohortId, cohort.id), eq(weekOverrides.week, n), sql`${weekOverrides.title} is null`, sql`${weekOverrides.markdown} is null`));
      });
    },

    /** Drop the cohort's edit of a week: the course file's text applies again. */
    async resetWeek(cohort: Cohort, n: number): Promise<void> {
      if (!cohort.course.weeks[n - 1]) throw new NotFound(`Week ${n}`);
      await database.transaction(async (tx) => {
        await tx.delete(weekOverrides).where(and(eq(weekOverrides.cohortId, cohort.id), eq(weekOverrides.week, n)));
      });
    },

    /** What is open now, what is due next and the days left in the grace period. */
    async overview(cohort: Cohort, now: Date = clock.now(), tx?: Db): Promise<CohortOverview> {
      const t = cohort.timeline;
      const ms = now.getTime();
      const state = cohortState(t, now);
      const n = currentWeek(t, now);
      const due = t.weeks.find((w) => w.opensAt.getTime() <= ms && w.dueAt.getTime() > ms && cohort.course.weeks[w.number - 1]?.assignment);
      const titles = n > 0 || due ? await weeks(cohort, tx) : [];
      const openWeek = n > 0 ? { number: n, title: titles[n - 1].title, dueAt: t.weeks[n - 1].dueAt } : null;
      const nextDue = due ? { number: due.number, title: titles[due.number - 1].title, dueAt: due.dueAt } : null;
      const graceDaysLeft = state === 'grace' ? Math.ceil((t.graceEndsAt.getTime() - ms) / DAY_MS) : null;
      return { state, openWeek, nextDue, opensAt: state === 'upcoming' ? t.startsAt : null, graceDaysLeft };
    },
  };
  return face;
}
