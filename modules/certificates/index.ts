// The certificates module: progress towards the certificate, issue the moment the rules are met (up to the grace
// end), verification, signed credentials, PDFs, nudges, and their pages and panels.
import type { FastifyPluginAsync } from 'fastify';
import { createCertificateService, type CertificateService } from './service.js';
import { registerCertificatePanels } from './panels.js';
import routes from './routes.js';
import pages from './pages.js';

declare module '../../server/context.js' {
  interface AppContext {
    certificates: CertificateService;
  }
}

/** How often the safety-net sweep may run (the hook issues at once; the sweep only catches misses). */
const SWEEP_EVERY_MS = 10 * 60_000;

const certificatesModule: FastifyPluginAsync = async (fastify) => {
  const ctx = fastify.cc;
  const certs = createCertificateService(ctx);
  ctx.certificates = certs;
  certs.ensureKey();
  // Issue inside the transaction that changed the learner's progress; a failure here must not undo their work.
  ctx.progress.listen((tx, cohortId, userId) => {
    try {
      certs.issueIfEligible(tx, cohortId, userId);
    } catch (err) {
      ctx.log.error({ err, cohortId, userId }, 'certificate check failed; the sweep will retry');
    }
  });
  let lastSweep = 0;
  ctx.scheduler.register('certificates:sweep', async (now) => {
    if (Math.abs(now.getTime() - lastSweep) < SWEEP_EVERY_MS) return;
    lastSweep = now.getTime();
    // Cohort by cohort with requests let in between: over a whole install the sweep takes a while.
    await certs.sweepInSteps(now);
  });
  registerCertificatePanels(ctx, certs);
  await fastify.register(routes);
  await fastify.register(pages);
};
export default certificatesModule;
