// Certificate pages: public verification (and the PDF), the learner's preference form, the instructor's progress
// grid and "who is behind" view with nudges, and the admin list with manual issue and revoke forms.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requireRole } from '../../server/plugins/auth.js';
import { formatInstant } from '../../server/time.js';
import type { CohortAccess } from '../cohorts/service.js';
import type { User } from '../people/service.js';
import type { WeekStatus } from './rules.js';
import type { CertificateRow, LearnerProgress } from './service.js';

const IdParam = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) });
const Csrf = { _csrf: Type.Optional(Type.String()) };

const STATUS_TEXT: Record<WeekStatus, { text: string; kind: string }> = {
  complete: { text: 'Complete', kind: 'ok' },
  submitted: { text: 'Waiting for review', kind: 'info' },
  needs_revision: { text: 'Needs revision', kind: 'bad' },
  draft: { text: 'Draft', kind: 'warn' },
  none: { text: 'Not submitted', kind: 'warn' },
};

/** A week cell of the grid: words first, colour only as an extra. */
export function weekCell(w: { status: WeekStatus; late: boolean }) {
  const s = STATUS_TEXT[w.status];
  return { text: s.text, kind: s.kind, late: w.late && w.status !== 'none' };
}

/** Validation-failed status for a form field, as the template expects. */
function statusOf(err: unknown): number {
  return (err as { statusCode?: number }).statusCode ?? 500;
}

const pages: FastifyPluginAsync = async (app) => {
  const fastify = app.withTypeProvider<TypeBoxTypeProvider>();
  const ctx = fastify.cc;
  const { prefix } = ctx;
  const certs = ctx.certificates;

  function verificationPage(reply: FastifyReply, row: CertificateRow) {
    const v = certs.view(row);
    return reply.page('certificates/verify', {
      title: v.valid ? `Valid certificate: ${v.learner}` : `Revoked certificate: ${v.learner}`,
      cert: { ...v, pdfPath: `${prefix}/certificates/${v.code}.pdf`, credentialPath: `${prefix}/api/v1/certificates/${v.code}/credential.json`, apiPath: `${prefix}/api/v1/certificates/${v.code}` },
      keysPath: `${prefix}/.well-known/cohort-course/keys.json`,
    });
  }

  fastify.get(
    '/certificates',
    { schema: { hide: true, querystring: Type.Object({ code: Type.Optional(Type.String({ maxLength: 200 })) }) }, attachValidation: true },
    async (request, reply) => {
      const raw = request.validationError ? '' : (request.query.code ?? '');
      const code = raw.replace(/[\s-]/g, '');
      if (!code) return reply.page('certificates/lookup', { title: 'Check a certificate' });
      const row = await certs.find(code);
      if (!row) return reply.page('certificates/lookup', { title: 'Check a certificate', code: raw, error: 'No certificate has this code. Check it against the PDF: it has 26 letters and digits.' }, 404);
      return reply.redirect(`${prefix}/certificates/${row.code}`, 303);
    },
  );

  // One route for the page and the PDF: codes never contain a dot, so ".pdf" is unambiguous.
  fastify.get(
    '/certificates/:file',
    { schema: { hide: true, params: Type.Object({ file: Type.String({ maxLength: 120 }) }) } },
    async (request, reply) => {
      const file = request.params.file;
      const pdf = file.toLowerCase().endsWith('.pdf');
      const row = await certs.find(pdf ? file.slice(0, -4) : file);
      if (!row) {
        return reply.page('certificates/lookup', { title: 'Certificate not found', notFound: true, error: 'No certificate has this code. Check it against the PDF: it has 26 letters and digits.' }, 404);
      }
      if (!pdf) return verificationPage(reply, row);
      const bytes = await certs.pdf(row);
      return reply
        .type('application/pdf')
        .header('content-disposition', `inline; filename="certificate-${row.code}.pdf"`)
        .header('cache-control', 'no-cache')
        .send(Buffer.from(bytes));
    },
  );

  fastify.post(
    '/cohorts/:id/certificate-preference',
    { schema: { hide: true, params: IdParam, body: Type.Object({ wanted: Type.Optional(Type.String({ maxLength: 10 })), ...Csrf }) }, attachValidation: true },
    async (request, reply) => {
      const access = await ctx.cohorts.access(request.user, request.params.id, ['learner']);
      const wanted = !request.validationError && Boolean(request.body?.wanted);
      const res = await certs.setWanted(access.cohort.id, access.user.id, wanted);
      const note = res.issued ? 'issued' : wanted ? 'on' : 'off';
      return reply.redirect(`${prefix}/cohorts/${access.cohort.id}?certificate=${note}#progress`, 303);
    },
  );

  // ---- instructors and admins ----

  function staffAccess(request: { user: CohortAccess['user'] | null }, id: number): Promise<CohortAccess> {
    return ctx.cohorts.access(request.user, id, ['admin', 'instructor']);
  }

  function learnerRow(p: LearnerProgress, access: CohortAccess, lastNudge?: Date) {
    const zone = access.user.timezone || access.cohort.timezone;
    return {
      userId: p.userId,
      name: p.name,
      email: p.email,
      weeks: p.weeks.map((w) => ({ week: w.week, ...weekCell(w) })),
      sessions: `${p.evaluation.sessionsAttended} of ${p.evaluation.sessionsTotal}`,
      sessionsOk: p.evaluation.sessionsAttended >= p.evaluation.sessionsRequired,
      posts: p.evaluation.posts,
      postsOk: p.evaluation.posts >= p.evaluation.postsRequired,
      missing: p.evaluation.missing,
      steps: p.evaluation.missing.length,
      distance: p.evaluation.distance,
      eligible: p.evaluation.eligible,
      wanted: p.certificateWanted,
      certificate: p.certificate ? { code: p.certificate.code, path: `${prefix}/certificates/${p.certificate.code}` } : null,
      revoked: Boolean(p.revoked),
      graceEndsAt: formatInstant(p.graceEndsAt, zone),
      extended: p.graceEndsAt.getTime() !== access.cohort.timeline.graceEndsAt.getTime(),
      lastNudge: lastNudge ? formatInstant(lastNudge, zone) : null,
    };
  }

  fastify.get('/teach/cohorts/:id/progress', { schema: { hide: true, params: IdParam } }, async (request, reply) => {
    const access = await staffAccess(request, request.params.id);
    const { cohort } = access;
    const all = await certs.cohortProgress(cohort);
    const weeks = cohort.course.weeks.filter((w) => w.assignment).map((w) => ({ number: w.number }));
    const rules = cohort.course.certificate;
    return reply.page('certificates/progress', {
      title: `Progress: ${cohort.course.title}`,
      cohort: { id: cohort.id, title: cohort.course.title, startDate: cohort.startDate },
      rules: rules
        ? {
            assignments: rules.assignments === 'all' ? 'every weekly assignment complete' : `${rules.assignments} assignments complete`,
            sessions: rules.sessions,
            posts: rules.posts,
          }
        : null,
      weeks,
      learners: all.map((p) => learnerRow(p, access)),
      issued: all.filter((p) => p.certificate).length,
      behindPath: `${prefix}/teach/cohorts/${cohort.id}/behind`,
      csvPath: access.role === 'admin' ? `${prefix}/api/v1/certificates.csv?cohort=${cohort.id}` : null,
      staffPath: `${prefix}/teach/cohorts/${cohort.id}`,
    });
  });

  async function behindPage(reply: FastifyReply, access: CohortAccess, extra: Record<string, unknown> = {}, status = 200) {
    const { cohort } = access;
    const now = ctx.clock.now();
    const { behind, done, notSeeking } = await certs.behind(cohort);
    const nudges = await certs.lastNudges(cohort.id);
    const zone = access.user.timezone || cohort.timezone;
    const open = now.getTime() <= cohort.timeline.graceEndsAt.getTime();
    return reply.page(
      'certificates/behind',
      {
        title: `Who is behind: ${cohort.course.title}`,
        cohort: { id: cohort.id, title: cohort.course.title, startDate: cohort.startDate },
        hasRules: Boolean(cohort.course.certificate),
        graceEndsAt: formatInstant(cohort.timeline.graceEndsAt, zone),
        open,
        behind: behind.map((p) => ({ ...learnerRow(p, access, nudges.get(p.userId)), canNudge: !p.revoked && now.getTime() <= p.graceEndsAt.getTime() })),
        done: done.map((p) => learnerRow(p, access)),
        notSeeking: notSeeking.map((p) => learnerRow(p, access)),
        progressPath: `${prefix}/teach/cohorts/${cohort.id}/progress`,
        nudgePath: `${prefix}/teach/cohorts/${cohort.id}/behind/nudge`,
        ...extra,
      },
      status,
    );
  }

  fastify.get(
    '/teach/cohorts/:id/behind',
    { schema: { hide: true, params: IdParam, querystring: Type.Object({ nudged: Type.Optional(Type.String({ maxLength: 300 })), already: Type.Optional(Type.String({ maxLength: 300 })) }) }, attachValidation: true },
    async (request, reply) => {
      const access = await staffAccess(request, request.params.id);
      const q = request.validationError ? {} : request.query;
      return behindPage(reply, access, {
        notice: q.nudged ? `Nudge sent to ${q.nudged}.` : q.already ? `${q.already} was already nudged today; no second email was sent.` : null,
      });
    },
  );

  fastify.post(
    '/teach/cohorts/:id/behind/nudge',
    { schema: { hide: true, params: IdParam, body: Type.Object({ learner: Type.String({ pattern: '^[1-9][0-9]{0,9}$' }), ...Csrf }) }, attachValidation: true },
    async (request, reply) => {
      const access = await staffAccess(request, request.params.id);
      if (request.validationError) return behindPage(reply, access, { error: 'Choose a learner to nudge.' }, 400);
      try {
        const { sent, learner } = await certs.nudge(access.user, access.cohort, Number(request.body.learner));
        const key = sent ? 'nudged' : 'already';
        return reply.redirect(`${prefix}/teach/cohorts/${access.cohort.id}/behind?${key}=${encodeURIComponent(learner.name)}`, 303);
      } catch (err) {
        const status = statusOf(err);
        if (status !== 404 && status !== 422) throw err;
        return behindPage(reply, access, { error: (err as Error).message }, status === 404 ? 400 : 422);
      }
    },
  );

  // ---- admin ----

  async function adminPage(reply: FastifyReply, admin: User, query: { cohort?: number }, extra: Record<string, unknown> = {}, status = 200) {
    const cohorts = (await ctx.cohorts.list()).filter((c) => c.course.certificate);
    const list = await certs.list(query.cohort);
    const counts = await certs.counts(query.cohort);
    return reply.page(
      'certificates/admin',
      {
        title: 'Certificates',
        cohorts: cohorts.map((c) => ({ id: c.id, label: `${c.course.title}, starting ${c.startDate}`, selected: c.id === query.cohort || c.id === extra.formCohort })),
        filter: query.cohort ?? null,
        certificates: list.map((c) => {
          const zone = admin.timezone || c.cohortTimezone;
          return {
            code: c.code,
            path: `${ctx.prefix}/certificates/${c.code}`,
            learner: c.learnerName,
            email: c.email,
            course: c.courseTitle,
            cohortId: c.cohortId,
            startDate: c.cohortStartDate,
            issuedAt: formatInstant(c.issuedAt, zone),
            earned: c.earned === 'on_time' ? 'On time' : 'Grace period',
            manual: c.issued === 'manual',
            valid: !c.revokedAt,
            revokedAt: c.revokedAt ? formatInstant(c.revokedAt, zone) : null,
            reason: c.revokedReason,
            revokePath: `${ctx.prefix}/admin/certificates/${c.code}/revoke`,
          };
        }),
        counts,
        csvPath: `${ctx.prefix}/api/v1/certificates.csv${query.cohort ? `?cohort=${query.cohort}` : ''}`,
        ...extra,
      },
      status,
    );
  }

  fastify.get(
    '/admin/certificates',
    {
      schema: {
        hide: true,
        querystring: Type.Object({
          cohort: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_147_483_647 })),
          issued: Type.Optional(Type.String({ maxLength: 64 })),
          revoked: Type.Optional(Type.String({ maxLength: 64 })),
        }),
      },
      attachValidation: true,
    },
    async (request, reply) => {
      const admin = requireRole(request, 'admin');
      const q = request.validationError ? {} : request.query;
      return adminPage(reply, admin, { cohort: q.cohort }, {
        notice: q.issued ? `Certificate ${q.issued} issued.` : q.revoked ? `Certificate ${q.revoked} revoked.` : null,
      });
    },
  );

  fastify.post(
    '/admin/certificates/issue',
    {
      schema: { hide: true, body: Type.Object({ cohort: Type.String({ pattern: '^[1-9][0-9]{0,9}$' }), email: Type.String({ minLength: 3, maxLength: 254 }), ...Csrf }) },
      attachValidation: true,
    },
    async (request, reply) => {
      const admin = requireRole(request, 'admin');
      const body = (request.body ?? {}) as { cohort?: string; email?: string };
      const form = { formEmail: body.email ?? '', formCohort: Number(body.cohort) || null };
      if (request.validationError) return adminPage(reply, admin, {}, { ...form, issueError: 'Choose a cohort and enter the learner’s email address.' }, 400);
      try {
        const row = await certs.issueManually(admin, Number(request.body.cohort), request.body.email);
        return reply.redirect(`${prefix}/admin/certificates?issued=${row.code}`, 303);
      } catch (err) {
        const status = statusOf(err);
        if (status < 400 || status >= 500) throw err;
        return adminPage(reply, admin, {}, { ...form, issueError: (err as Error).message }, status === 404 ? 400 : status);
      }
    },
  );

  fastify.post(
    '/admin/certificates/:code/revoke',
    {
      schema: { hide: true, params: Type.Object({ code: Type.String({ maxLength: 100 }) }), body: Type.Object({ reason: Type.String({ maxLength: 500 }), ...Csrf }) },
      attachValidation: true,
    },
    async (request, reply) => {
      const admin = requireRole(request, 'admin');
      const reason = request.validationError ? '' : request.body.reason;
      try {
        const row = await certs.revoke(admin, request.params.code, reason);
        return reply.redirect(`${prefix}/admin/certificates?revoked=${row.code}`, 303);
      } catch (err) {
        const status = statusOf(err);
        if (status === 404) throw err;
        if (status !== 400 && status !== 409) throw err;
        const message = status === 400 ? 'Give a reason for revoking (up to 500 characters); it is shown on the verification page.' : (err as Error).message;
        return adminPage(reply, admin, {}, { revokeError: message, revokeCode: request.params.code.toUpperCase() }, status);
      }
    },
  );
};
export default pages;
