// The LTI module: the tool side of IMS LTI 1.3 with LTI Advantage (Deep Linking, Names and Roles, Assignment and
// Grade Services) for platforms such as Moodle, Canvas and Brightspace; its API, endpoints and pages.
import fp from 'fastify-plugin';
import { infrastructure } from '../../server/infrastructure.js';
import { isTransactionConflict } from '../../server/db.js';
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
    // Scores are queued inside the transaction that changed the learner's progress (after the certificate reaction,
    // registered earlier, so a certificate issued by the same change is included), in a savepoint of it: a failure
    // here never undoes the learner's work.
    const queue = async (cohortId: number, userId: number) => {
      try {
        await ctx.database.transaction((tx) => service.queueScores(tx, cohortId, userId));
      } catch (err) {
        // The whole transaction lost a race with another (PostgreSQL): it runs again, this reaction included.
        if (isTransactionConflict(err)) throw err;
        fastify.log.error({ err, cohortId, userId }, 'LTI scores could not be queued');
      }
    };
    ctx.events.on('progress.changed', async (_tx, { cohortId, userId }) => queue(cohortId, userId));
    // An admin's manual issue or revocation reaches the gradebook too (a revoked certificate scores 0).
    ctx.events.on('certificate.changed', async (_tx, { cohortId, userId }) => queue(cohortId, userId));
    // Retries of scores a platform did not take (the first try runs right after the change commits).
    ctx.scheduler.register('lti:deliver-scores', async () => {
      await service.deliverScores();
    });
    // The cohort's staff page: the platform courses linked to it, and the roster sync.
    ctx.panels.register('cohort-staff', {
      order: 60,
      render: async ({ access }) => {
        const contexts = await service.contextsOf(access.cohort.id);
        if (contexts.length === 0) return null;
        return {
          partial: 'lti/cohort-staff',
          model: {
            cohortId: access.cohort.id,
            contexts: contexts.map((c) => ({ title: c.title || c.contextId, roster: Boolean(c.membershipsUrl), gradebook: Boolean(c.lineItemsUrl), synced: c.lastSyncedAt ? c.lastSyncedAt.toISOString().slice(0, 16).replace('T', ' ') + ' UTC' : null })),
            canSync: contexts.some((c) => c.membershipsUrl),
          },
        };
      },
    });
    frameLaunchedSessions(fastify);
    await fastify.register(routes);
    await fastify.register(pages);
  },
  { name: 'lti', dependencies: ['people', 'cohorts', 'bookings', 'assignments', 'certificates'] },
);
