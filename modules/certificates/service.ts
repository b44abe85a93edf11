// Certificates: progress against the course rules, automatic issue the moment they are met (up to the learner's own
// grace end), manual issue and revocation, verification documents, signed credentials, PDFs and "who is behind"
// nudges. This file assembles the use cases (progress.ts, issue.ts, verification.ts, nudges.ts) into the module's face.
import { issueUseCases } from './issue.js';
import { nudgeUseCases } from './nudges.js';
import { liveSources, progressUseCases } from './progress.js';
import { createKeyRing, type SigningKey } from './signing.js';
import { verificationUseCases } from './verification.js';
import type { CertificateDeps, ProgressSources } from './types.js';

export type { CertificateDeps, CertificateDoc, CertificateRow, CohortSources, LearnerProgress, ProgressSources } from './types.js';
export { longDate } from './verification.js';

/** The certificate service, built from the modules progress is read from. */
export function createCertificateService(deps: CertificateDeps) {
  const live = liveSources(deps);
  let sources: ProgressSources = live;
  const current = () => sources;
  const keys = createKeyRing(deps.database, deps.clock);
  const progress = progressUseCases(deps, current);
  return {
    /** Replace where progress is read from (tests); null restores the real modules. */
    useSources(replacement: Partial<ProgressSources> | null): void {
      // A replaced per-learner source must be what whole-cohort checks read too: drop the batch reader unless given.
      sources = replacement ? { ...live, forCohort: undefined, ...replacement } : live;
    },

    /** Create the signing key if this database has none yet (at start, so the first certificate does not pay for it). */
    ensureKey(): Promise<SigningKey> {
      return keys.ensure();
    },

    /**
     * Retire the signing key and sign new certificates and status lists with a new one (CLI: certificates rotate-key).
     * What the old key signed still verifies: it names that key, which stays published.
     */
    rotateKey(): Promise<{ retired: SigningKey | null; active: SigningKey }> {
      return keys.rotate();
    },

    ...progress,
    ...issueUseCases(deps, current, keys),
    ...verificationUseCases(deps, keys),
    ...nudgeUseCases(deps, progress),
  };
}

export type CertificateService = ReturnType<typeof createCertificateService>;
