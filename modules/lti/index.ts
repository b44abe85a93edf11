// The LTI module: the tool side of IMS LTI 1.3 with LTI Advantage (Deep Linking, Names and Roles, Assignment and
// Grade Services) for platforms such as Moodle, Canvas and Brightspace; its API, endpoints and pages.
import fp from 'fastify-plugin';
import { infrastructure } from '../../server/infrastructure.js';
import { createLtiService, type LtiService } from './service.js';
import routes from './routes.js';
import pages, { frameLaunchedSessions } from './pages.js';

declare module '../../server/context.js' {
  interface AppContext {
    lti: LtiService;
  }
}

export default fp(
  async (fastify) => {
    const ctx = fastify.cc;
    const service = createLtiService({ ...infrastructure(ctx), people: ctx.people, cohorts: ctx.cohorts, bookings: ctx.bookings, assignments: ctx.assignments, log: ctx.log });
    ctx.lti = service;
    // The tool key is made at start (once per database), so GETs of the key set never write.
    await service.jwks();
    frameLaunchedSessions(fastify);
    await fastify.register(routes);
    await fastify.register(pages);
  },
  { name: 'lti', dependencies: ['people', 'cohorts', 'bookings', 'assignments', 'certificates'] },
);
