// The cohorts module: runs of a course, their timeline, membership and per-cohort week text.
import type { FastifyPluginAsync } from 'fastify';
import { createCohortService, type CohortService } from './service.js';
import routes from './routes.js';

declare module '../../server/context.js' {
  interface AppContext {
    cohorts: CohortService;
  }
}

const cohortsModule: FastifyPluginAsync = async (fastify) => {
  fastify.cc.cohorts = createCohortService(fastify.cc);
  await fastify.register(routes);
};
export default cohortsModule;
