// The discussions module: threads and posts per cohort, moderation, read markers, the daily digest and page panels.
import fp from 'fastify-plugin';
import { createDiscussionService, type DiscussionService } from './service.js';
import routes from './routes.js';

declare module '../../server/context.js' {
  interface AppContext {
    discussions: DiscussionService;
  }
}

/** Threads listed in the cohort-home panel before "All discussions". */
const PANEL_THREADS = 5;

export default fp(
  async (fastify) => {
    const ctx = fastify.cc;
    const { database, clock, mailer, events, baseUrl, prefix, people, courses, cohorts } = ctx;
    const discussions = createDiscussionService({ database, clock, mailer, events, baseUrl, prefix, people, courses, cohorts });
    ctx.discussions = discussions;

    // Every new cohort gets its week threads in the same transaction that creates it.
    events.on('cohort.changed', async (tx, { cohort, change }) => {
      if (change === 'created') await discussions.ensureWeekThreads(tx, cohort);
    });

    // Once per local day per member, from the digest hour; idempotent on every tick. A few members at a time with
    // requests let in between: at 07:00 a large install has many thousand digests to write.
    ctx.scheduler.register('discussions:digest', async (now) => {
      await discussions.runDigestInSteps(now);
    });

    ctx.panels.register('cohort-home', {
      order: 30,
      async render({ access }) {
        const threads = await discussions.listThreads(access);
        const base = `${prefix}/cohorts/${access.cohort.id}/discussions`;
        const unreadTotal = threads.reduce((n, t) => n + t.unread, 0);
        return {
          partial: 'discussions/cohort-home',
          model: {
            threads: threads.slice(0, PANEL_THREADS).map((t) => ({ ...t, url: `${base}/${t.id}`, onePost: t.posts === 1 })),
            total: threads.length,
            more: threads.length > PANEL_THREADS,
            unreadTotal,
            unreadPlural: unreadTotal !== 1,
            allUrl: base,
          },
        };
      },
    });

    ctx.panels.register('week', {
      order: 30,
      async render({ access, week, now }) {
        const opens = access.cohort.timeline.weeks[week - 1]?.opensAt;
        if (!opens || (access.role === 'learner' && now.getTime() < opens.getTime())) return null;
        const thread = await discussions.weekThread(access, week);
        if (!thread) return null;
        return {
          partial: 'discussions/week',
          model: {
            ...thread,
            url: `${prefix}/cohorts/${access.cohort.id}/discussions/${thread.id}`,
            promptHtml: access.cohort.course.weeks[week - 1]?.discussionPromptHtml ?? null,
            onePost: thread.posts === 1,
          },
        };
      },
    });

    await fastify.register(routes);
  },
  { name: 'discussions', dependencies: ['people', 'courses', 'cohorts'] },
);
