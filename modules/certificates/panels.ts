// Certificate panels on shared pages: the learner's progress on the cohort home, links for staff, the admin
// dashboard and "My courses".
import type { AppContext } from '../../server/context.js';
import { formatInstant } from '../../server/time.js';
import type { CertificateService } from './service.js';

/** Register the certificates module's panels. */
export function registerCertificatePanels(ctx: AppContext, certs: CertificateService): void {
  const { prefix } = ctx;

  ctx.panels.register('cohort-home', {
    order: 5,
    async render({ access, now }) {
      const { cohort } = access;
      if (!cohort.course.certificate) return null;
      if (access.role !== 'learner') {
        return { partial: 'certificates/progress', model: { staff: true, progressPath: `${prefix}/teach/cohorts/${cohort.id}/progress`, behindPath: `${prefix}/teach/cohorts/${cohort.id}/behind` } };
      }
      const p = await certs.progress(cohort, access.user);
      const e = p.evaluation;
      const zone = access.user.timezone || cohort.timezone;
      const open = now.getTime() <= p.graceEndsAt.getTime();
      return {
        partial: 'certificates/progress',
        model: {
          cohortId: cohort.id,
          assignments: `${e.assignmentsComplete} of ${e.assignmentsTotal} complete`,
          assignmentsOk: e.assignmentsComplete >= e.assignmentsRequired,
          assignmentsNeeded: e.assignmentsRequired === e.assignmentsTotal ? 'all' : String(e.assignmentsRequired),
          sessions: `${e.sessionsAttended} of ${e.sessionsTotal} attended or watched`,
          sessionsOk: e.sessionsAttended >= e.sessionsRequired,
          sessionsNeeded: e.sessionsRequired,
          posts: `${e.posts} post${e.posts === 1 ? '' : 's'}`,
          postsOk: e.posts >= e.postsRequired,
          postsNeeded: e.postsRequired,
          missing: e.missing,
          wanted: p.certificateWanted,
          open,
          deadline: formatInstant(p.graceEndsAt, zone),
          certificate: p.certificate
            ? { code: p.certificate.code, pdfPath: `${prefix}/certificates/${p.certificate.code}.pdf`, verifyPath: `${prefix}/certificates/${p.certificate.code}`, onTime: p.certificate.earned === 'on_time' }
            : null,
          revoked: p.revoked ? { reason: p.revoked.revokedReason, on: formatInstant(p.revoked.revokedAt!, zone) } : null,
          eligibleNotWanted: e.eligible && !p.certificateWanted && !p.certificate,
          formPath: `${prefix}/cohorts/${cohort.id}/certificate-preference`,
        },
      };
    },
  });

  ctx.panels.register('cohort-staff', {
    order: 30,
    async render({ access }) {
      const { cohort } = access;
      if (!cohort.course.certificate) return null;
      const { behind, done, notSeeking } = await certs.behind(cohort);
      return {
        partial: 'certificates/staff',
        model: {
          issued: done.length,
          behind: behind.length,
          notSeeking: notSeeking.length,
          progressPath: `${prefix}/teach/cohorts/${cohort.id}/progress`,
          behindPath: `${prefix}/teach/cohorts/${cohort.id}/behind`,
        },
      };
    },
  });

  ctx.panels.register('admin', {
    order: 40,
    async render() {
      const counts = await certs.counts();
      return { partial: 'certificates/admin', model: { ...counts, path: `${prefix}/admin/certificates`, csvPath: `${prefix}/api/v1/certificates.csv` } };
    },
  });

  ctx.panels.register('my', {
    order: 60,
    async render({ user }) {
      const mine = await certs.forUser(user.id);
      if (mine.length === 0) return null;
      return {
        partial: 'certificates/my',
        model: {
          certificates: mine.map((c) => ({
            course: c.courseTitle,
            valid: !c.revokedAt,
            issuedOn: certs.view(c).issuedOn,
            pdfPath: `${prefix}/certificates/${c.code}.pdf`,
            verifyPath: `${prefix}/certificates/${c.code}`,
          })),
        },
      };
    },
  });
}
