// Nudges: staff email a learner who is behind what is still missing for the certificate, at most once a day.
import { eq, max } from 'drizzle-orm';
import { DomainRule, NotFound } from '../../server/errors.js';
import { formatInstant, localDate } from '../../server/time.js';
import type { Cohort } from '../cohorts/service.js';
import type { User } from '../people/service.js';
import { certificateNudges } from './schema.js';
import type { ProgressUseCases } from './progress.js';
import type { CertificateDeps, LearnerProgress } from './types.js';

/** The nudge use cases. */
export function nudgeUseCases({ database, clock, mailer, baseUrl }: CertificateDeps, progress: ProgressUseCases) {
  return {
    /**
     * Email a learner what they still need for the certificate and their grace deadline in their own zone.
     * At most once per learner per day (the cohort's local day); returns false when already nudged today.
     */
    async nudge(staff: User, cohort: Cohort, userId: number): Promise<{ sent: boolean; learner: LearnerProgress }> {
      const learner = (await progress.cohortProgress(cohort)).find((p) => p.userId === userId);
      if (!learner) throw new NotFound('Learner');
      if (learner.certificate) throw new DomainRule(`${learner.name} already has a certificate.`);
      if (!learner.certificateWanted) throw new DomainRule(`${learner.name} chose not to receive a certificate.`);
      if (learner.revoked) throw new DomainRule(`${learner.name}’s certificate was revoked; only an admin can issue a new one.`);
      const now = clock.now();
      if (now.getTime() > learner.graceEndsAt.getTime()) throw new DomainRule('The grace period has ended: no certificate can be earned now.');
      if (learner.evaluation.eligible) throw new DomainRule(`${learner.name} has nothing left to do.`);
      const day = localDate(now, cohort.timezone);
      const zone = learner.timezone || cohort.timezone;
      const sent = await database.transaction(async (tx) => {
        const inserted = await tx
          .insert(certificateNudges)
          .values({ cohortId: cohort.id, userId, day, sentBy: staff.id, sentAt: now })
          .onConflictDoNothing()
          .returning({ id: certificateNudges.id });
        if (inserted.length === 0) return false;
        await mailer.enqueue(tx, {
          to: learner.email,
          subject: `What is left for your certificate: ${cohort.course.title}`,
          template: 'certificates-nudge',
          data: {
            name: learner.name,
            course: cohort.course.title,
            missing: learner.evaluation.missing,
            deadline: formatInstant(learner.graceEndsAt, zone),
            instructor: staff.name || staff.email,
            cohortUrl: `${baseUrl}/cohorts/${cohort.id}`,
          },
          dedupeKey: `certificates:nudge:${cohort.id}:${userId}:${day}`,
        });
        return true;
      });
      return { sent, learner };
    },

    /** The last nudge per learner of a cohort (for the "who is behind" view). */
    async lastNudges(cohortId: number): Promise<Map<number, Date>> {
      const rows = await database.db
        .select({ userId: certificateNudges.userId, at: max(certificateNudges.sentAt) })
        .from(certificateNudges)
        .where(eq(certificateNudges.cohortId, cohortId))
        .groupBy(certificateNudges.userId);
      const last = new Map<number, Date>();
      for (const r of rows) if (r.at) last.set(r.userId, r.at);
      return last;
    },
  };
}
