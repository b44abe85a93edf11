// The cohorts module: runs of a course, their timeline, membership and per-cohort week text.
import type { FastifyPluginAsync } from 'fastify';
import { createCohortService, type CohortService } from './service.js';
import routes from './routes.js';
import pages from './pages.js';
import adminPages from './admin-pages.js';

declare module '../../server/context.js' {
  interface AppContext {
    cohorts: CohortService;
  }
}

const cohortsModule: FastifyPluginAsync = async (fastify) => {
  const ctx = fastify.cc;
  ctx.cohorts = createCohortService(ctx);
  // Week openings are computed from the timeline on each tick, so moves and restarts need no rescheduling.
  // One cohort's week at a time with requests let in between: a whole install's week opening is many thousand emails.
  ctx.scheduler.register('cohorts:week-open', async (now) => {
    await ctx.cohorts.announceOpenWeeksInSteps(now);
  });
  await fastify.register(routes);
  await fastify.register(pages);
  await fastify.register(adminPages);
};
export default cohortsModule;
