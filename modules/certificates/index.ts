// The certificates module: progress towards the certificate, issue the moment the rules are met (up to the grace
// end), verification, signed credentials, PDFs, nudges, and their pages and panels.
import fp from 'fastify-plugin';
import { isTransactionConflict } from '../../server/db.js';
import { createCertificateService, type CertificateService } from './service.js';
import { registerCertificatePanels } from './panels.js';
import routes from './routes.js';
import pages from './pages.js';

declare module '../../server/context.js' {
  interface AppContext {
    certificates: CertificateService;
  }
}

/** How often the safety-net sweep may run (the reaction issues at once; the sweep only catches misses). */
const SWEEP_EVERY_MS = 10 * 60_000;

export default fp(
  async (fastify) => {
    const ctx = fastify.cc;
    const { database, clock, mailer, events, baseUrl, people, courses, cohorts, sessions, assignments, discussions } = ctx;
    const certs = createCertificateService({ database, clock, mailer, events, baseUrl, people, courses, cohorts, assignments, sessions, discussions });
    ctx.certificates = certs;
    await certs.ensureKey();
    // Certificates from before the status list get their bit and today's signed form, once.
    const upgraded = await certs.upgradeCredentials();
    if (upgraded > 0) fastify.log.info({ upgraded }, 'certificates signed again with did:key and a status list entry');
    // Issue inside the transaction that changed the learner's progress, in a savepoint of it: a failed check rolls
    // back only the certificate's own writes and never undoes the learner's work (the sweep retries it later).
    events.on('progress.changed', async (_tx, { cohortId, userId }) => {
      try {
        await database.transaction((tx) => certs.issueIfEligible(tx, cohortId, userId));
      } catch (err) {
        // The whole transaction lost a race with another: it runs again, certificate check included.
        if (isTransactionConflict(err)) throw err;
        fastify.log.error({ err, cohortId, userId }, 'certificate check failed; the sweep will retry');
      }
    });
    let lastSweep = 0;
    ctx.scheduler.register('certificates:sweep', async (now) => {
      if (Math.abs(now.getTime() - lastSweep) < SWEEP_EVERY_MS) return;
      lastSweep = now.getTime();
      await certs.sweep(now);
    });
    registerCertificatePanels(ctx, certs);
    await fastify.register(routes);
    await fastify.register(pages);
  },
  { name: 'certificates', dependencies: ['people', 'courses', 'cohorts', 'sessions', 'assignments', 'discussions'] },
);
