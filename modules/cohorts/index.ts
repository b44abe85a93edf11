// The cohorts module: runs of a course, their timeline, membership and per-cohort week text.
import fp from 'fastify-plugin';
import { createCohortService, type CohortService } from './service.js';
import routes from './routes.js';
import pages from './pages.js';
import adminPages from './admin-pages.js';
import versionPages from './version-pages.js';

declare module '../../server/context.js' {
  interface AppContext {
    cohorts: CohortService;
  }
}

export default fp(
  async (fastify) => {
    const ctx = fastify.cc;
    const { database, clock, mailer, events, baseUrl, people, courses } = ctx;
    const cohorts = createCohortService({ database, clock, mailer, events, baseUrl, people, courses });
    ctx.cohorts = cohorts;
    // Cohorts not started yet follow a course's newest version; running ones keep theirs until it is applied to them.
    events.on('course.published', async (tx, { slug, version }) => {
      await cohorts.followPublished(tx, slug, version);
    });
    // Week openings are computed from the timeline on each tick, so moves and restarts need no rescheduling.
    // One cohort's week at a time with requests let in between: a whole install's week opening is many thousand
    // emails. The notice row each week inserts is its claim, so a week is announced once across ticks and instances.
    ctx.scheduler.register('cohorts:week-open', async (now) => {
      await cohorts.announceOpenWeeksInSteps(now);
    });
    await fastify.register(routes);
    await fastify.register(pages);
    await fastify.register(adminPages);
    await fastify.register(versionPages);
  },
  { name: 'cohorts', dependencies: ['people', 'courses'] },
);
