// Assignment pages: the learner's worksheet (save, submit, files), the review queue, one submission, extensions.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Readable } from 'node:stream';
import { DateTime } from 'luxon';
import { Type } from 'typebox';
import { BadInput, Forbidden } from '../../server/errors.js';
import { requireUser } from '../../server/plugins/auth.js';
import { IdParam } from '../../server/schemas.js';
import { formatInstant } from '../../server/time.js';
import type { CohortAccess } from '../cohorts/service.js';
import type { UploadRule } from '../courses/content.js';
import { uploadError as asUploadError, type PreparedUpload } from './files.js';
import { labelAnswers } from './records.js';
import { SUBMISSION_STATUSES, type SubmissionStatus } from './schema.js';
import { WeekParams } from './routes.js';
import { statusBadge, zoneOf, type EnteredValues } from './view-models.js';

const FormFields = Type.Record(Type.String(), Type.Union([Type.String({ maxLength: 100_000 }), Type.Array(Type.String({ maxLength: 100_000 }), { maxItems: 60 })]), {
  maxProperties: 120,
});
type Fields = Record<string, string | string[] | undefined>;

const first = (v: string | string[] | undefined): string => (Array.isArray(v) ? (v[0] ?? '') : (v ?? ''));
const all = (v: string | string[] | undefined): string[] => (Array.isArray(v) ? v : v ? [v] : []);
const statusOf = (err: unknown) => (err as { statusCode?: number }).statusCode ?? 500;

const pages: FastifyPluginAsync = async (app) => {
  const fastify = app.withTypeProvider<TypeBoxTypeProvider>();
  const { prefix, clock } = fastify.cc;
  const cohorts = fastify.cc.cohorts;
  const assignments = fastify.cc.assignments;
  const views = fastify.cc.assignmentViews;

  const learnerAccess = async (request: FastifyRequest, cohortId: number, n: number): Promise<CohortAccess> => {
    const access = await cohorts.access(request.user, cohortId);
    cohorts.assertWeekOpen(access, n);
    assignments.assignment(access.cohort, n);
    return access;
  };

  async function renderWorksheet(reply: FastifyReply, access: CohortAccess, n: number, extra: Parameters<typeof views.worksheet>[3] = {}, status = 200) {
    const model = (await views.worksheet(access, n, clock.now(), extra))!;
    const weekTitle = (await cohorts.week(access.cohort, n)).title;
    return reply.page(
      'assignments/worksheet',
      { title: `${model.title} · Week ${n}`, heading: access.role === 'learner' ? `Your week ${n} worksheet` : `Week ${n} worksheet`, weekTitle, courseTitle: access.cohort.course.title, worksheet: model, error: extra.error ?? null },
      status,
    );
  }

  fastify.get(
    '/cohorts/:id/weeks/:n/worksheet',
    { schema: { hide: true, params: WeekParams, querystring: Type.Object({ saved: Type.Optional(Type.String({ maxLength: 20 })) }) } },
    async (request, reply) => {
      requireUser(request);
      const access = await learnerAccess(request, request.params.id, request.params.n);
      return renderWorksheet(reply, access, request.params.n, { saved: request.query.saved ?? null });
    },
  );

  /** Read a multipart worksheet form: fields, and the file (checked and kept aside) if one was chosen. */
  async function readMultipart(request: FastifyRequest, rule: UploadRule | null, ruleError: Error | null) {
    const got: { fields: Record<string, string[]>; prepared: PreparedUpload | null; uploadError: Error | null; fileChosen: boolean } = {
      fields: {},
      prepared: null,
      uploadError: null,
      fileChosen: false,
    };
    const skip = async (stream: Readable) => {
      for await (const _ of stream) void _;
    };
    {
      for await (const part of request.parts({ limits: { fileSize: rule?.maxBytes ?? 1, files: 1 } })) {
        if (part.type === 'field') {
          const value = String(part.value ?? '');
          if (value.includes('\u0000')) throw new BadInput('must not contain the NUL character (U+0000).', part.fieldname);
          (got.fields[part.fieldname] ??= []).push(value);
          continue;
        }
        const stream = part.file as Readable & { truncated?: boolean };
        if (!part.filename) {
          await skip(stream);
          continue;
        }
        got.fileChosen = true;
        if (!rule) {
          await skip(stream);
          got.uploadError = ruleError ?? new BadInput('this week does not take file uploads.', 'file');
          continue;
        }
        try {
          got.prepared = await assignments.files.prepare(rule, part.filename, stream);
        } catch (err) {
          if (statusOf(err) >= 500) throw err;
          got.uploadError = err as Error;
        }
      }
    }
    return got;
  }

  fastify.post(
    '/cohorts/:id/weeks/:n/worksheet',
    { schema: { hide: true, params: WeekParams, body: FormFields }, attachValidation: true },
    async (request, reply) => {
      requireUser(request);
      const { id, n } = request.params;
      const access = await learnerAccess(request, id, n);
      if (access.role !== 'learner') throw new Forbidden('Only enrolled learners hand in work.');
      const assignment = assignments.assignment(access.cohort, n);
      let fields: Fields;
      let prepared: PreparedUpload | null = null;
      let uploadError: Error | null = null;
      let fileChosen = false;
      if (request.isMultipart()) {
        let rule: UploadRule | null = null;
        let ruleError: Error | null = null;
        try {
          rule = assignment.upload ? await assignments.uploadRule(access, n) : null;
        } catch (err) {
          if (statusOf(err) >= 500) throw err;
          ruleError = err as Error;
        }
        try {
          ({ fields, prepared, uploadError, fileChosen } = await readMultipart(request, rule, ruleError));
        } catch (err) {
          const refused = asUploadError(err);
          return renderWorksheet(reply, access, n, { error: refused.message }, statusOf(refused));
        }
      } else {
        if (request.validationError) return renderWorksheet(reply, access, n, { error: 'The form could not be read. Reload the page and try again.' }, 400);
        fields = (request.body ?? {}) as Fields;
      }
      const answers: Record<string, string> = {};
      for (const p of assignment.prompts) {
        const v = fields[`prompt-${p.id}`];
        if (v !== undefined) answers[p.id] = first(v);
      }
      const options = assignment.choose !== null ? all(fields.option) : undefined;
      const submit = first(fields.action) === 'submit';
      const entered: EnteredValues = { answers, options: options ?? [] };
      try {
        await assignments.check(access, n, { answers, options, submit });
        if (uploadError) throw uploadError;
        if (prepared) await assignments.attach(access, n, prepared);
        await assignments.save(access, n, { answers, options, submit });
      } catch (err) {
        const status = statusOf(err);
        if (status !== 400 && status !== 409 && status !== 413) throw err;
        const again = fileChosen && err !== uploadError ? ' Choose your file again.' : '';
        return renderWorksheet(reply, access, n, { entered, error: `${(err as Error).message}${again}` }, status);
      }
      return reply.redirect(`${prefix}/cohorts/${id}/weeks/${n}/worksheet?saved=${submit ? 'submitted' : 'draft'}`, 303);
    },
  );

  fastify.post(
    '/cohorts/:id/weeks/:n/worksheet/files/:fileId/remove',
    {
      schema: {
        hide: true,
        params: Type.Object({ id: WeekParams.properties.id, n: WeekParams.properties.n, fileId: Type.String({ maxLength: 64 }) }),
        body: Type.Object({ _csrf: Type.Optional(Type.String()) }),
      },
      attachValidation: true,
    },
    async (request, reply) => {
      requireUser(request);
      const { id, n, fileId } = request.params;
      const access = await learnerAccess(request, id, n);
      try {
        await assignments.removeFile(access, n, fileId);
      } catch (err) {
        const status = statusOf(err);
        if (status !== 400 && status !== 409 && status !== 403) throw err;
        return renderWorksheet(reply, access, n, { error: (err as Error).message }, status);
      }
      return reply.redirect(`${prefix}/cohorts/${id}/weeks/${n}/worksheet?saved=removed`, 303);
    },
  );

  // ---- instructors ----

  const staffAccess = async (request: FastifyRequest, cohortId: number) => {
    requireUser(request);
    return cohorts.access(request.user, cohortId, ['instructor', 'admin']);
  };

  fastify.get(
    '/teach/cohorts/:id/reviews',
    {
      schema: {
        hide: true,
        params: IdParam,
        querystring: Type.Object({ week: Type.Optional(Type.String({ maxLength: 3 })), status: Type.Optional(Type.String({ maxLength: 20 })), reviewed: Type.Optional(Type.String({ maxLength: 12 })) }),
      },
    },
    async (request, reply) => {
      const access = await staffAccess(request, request.params.id);
      const cohort = access.cohort;
      const zone = zoneOf(access);
      const weekNumbers = cohort.course.weeks.filter((w) => w.assignment).map((w) => w.number);
      const q = request.query;
      const week = q.week && weekNumbers.includes(Number(q.week)) ? Number(q.week) : undefined;
      // The queue shows work awaiting review unless another status (or "any") is picked.
      const statusParam = q.status ?? 'submitted';
      const status = (SUBMISSION_STATUSES as readonly string[]).includes(statusParam) ? (statusParam as SubmissionStatus) : undefined;
      const rows = (await assignments.list(access, { week, status })).map((r) => ({
        ...r,
        badge: statusBadge(r.status),
        submitted: r.submittedAt ? formatInstant(r.submittedAt, zone) : 'Not submitted',
        url: `/teach/submissions/${r.id}`,
      }));
      const statusChoices = [
        { value: 'any', label: 'Any status' },
        ...SUBMISSION_STATUSES.map((s) => ({ value: s, label: statusBadge(s).label })),
      ].map((c) => ({ ...c, selected: c.value === (status ?? 'any') }));
      return reply.page('assignments/reviews', {
        title: `Review queue · ${cohort.course.title}`,
        cohortId: cohort.id,
        courseTitle: cohort.course.title,
        startDate: cohort.startDate,
        rows,
        empty: rows.length === 0,
        weekChoices: [{ value: '', label: 'All weeks', selected: week === undefined }, ...weekNumbers.map((w) => ({ value: String(w), label: `Week ${w}`, selected: w === week }))],
        statusChoices,
        queueCount: await assignments.queueCount(cohort.id),
        reviewed: q.reviewed ? 'Your review is saved and the learner has been emailed.' : null,
        zone,
      });
    },
  );

  async function submissionPage(
    reply: FastifyReply,
    request: FastifyRequest,
    submissionId: number,
    extra: { error?: string; entered?: { outcome?: string; feedback?: string; promptFeedback?: Record<string, string> } } = {},
    code = 200,
  ) {
    const { doc, access } = await assignments.get(request.user, submissionId);
    if (access.role === 'learner') throw new Forbidden('Only the cohort’s instructors and admins review submissions.');
    const cohort = access.cohort;
    const zone = zoneOf(access);
    const a = assignments.assignment(cohort, doc.week);
    const latest = doc.versions.at(-1);
    const entered = extra.entered ?? {};
    const versions = [...doc.versions].reverse().map((v, i) => ({
      version: v.version,
      current: i === 0,
      submittedAt: formatInstant(v.submittedAt, zone),
      late: v.late,
      options: a.options.filter((o) => v.options.includes(o.id)).map((o) => o.label),
      answers: labelAnswers(a.prompts, v.answers, v.promptLabels).map((x) => ({
        ...x,
        feedback: v.reviews.at(-1)?.promptFeedback[x.id] ?? '',
        inputId: `pf-${x.id}`,
        name: `pf-${x.id}`,
        value: entered.promptFeedback?.[x.id] ?? '',
      })),
      files: v.files.map((f) => ({ name: f.name, url: `/api/v1/files/${f.id}`, size: f.size })),
      reviews: v.reviews.map((r) => ({ outcome: statusBadge(r.outcome), feedback: r.feedback, reviewer: r.reviewer, at: formatInstant(r.at, zone) })),
    }));
    return reply.page(
      'assignments/submission',
      {
        title: `Week ${doc.week} · ${doc.learner.name || doc.learner.email}`,
        cohortId: cohort.id,
        courseTitle: cohort.course.title,
        submissionId: doc.id,
        week: doc.week,
        assignmentTitle: a.title,
        learner: doc.learner,
        badge: statusBadge(doc.status),
        late: doc.late,
        due: formatInstant(doc.dueAt, zone),
        closes: formatInstant(doc.closesAt, zone),
        submitted: Boolean(latest),
        current: versions[0] ?? null,
        earlier: versions.slice(1),
        hasEarlier: versions.length > 1,
        outcomeComplete: entered.outcome === 'complete',
        outcomeRevise: entered.outcome === 'needs_revision',
        feedback: entered.feedback ?? '',
        error: extra.error ?? null,
        zone,
      },
      code,
    );
  }

  fastify.get('/teach/submissions/:id', { schema: { hide: true, params: IdParam } }, async (request, reply) => {
    requireUser(request);
    return submissionPage(reply, request, request.params.id);
  });

  fastify.post(
    '/teach/submissions/:id/review',
    { schema: { hide: true, params: IdParam, body: FormFields }, attachValidation: true },
    async (request, reply) => {
      requireUser(request);
      const body = (request.validationError ? {} : (request.body ?? {})) as Fields;
      const outcome = first(body.outcome);
      const feedback = first(body.feedback);
      const promptFeedback: Record<string, string> = {};
      for (const [k, v] of Object.entries(body)) if (k.startsWith('pf-')) promptFeedback[k.slice(3)] = first(v);
      const entered = { outcome, feedback, promptFeedback };
      if (outcome !== 'complete' && outcome !== 'needs_revision') {
        return submissionPage(reply, request, request.params.id, { error: 'Choose an outcome: complete, or needs revision.', entered }, 400);
      }
      let cohortId: number;
      try {
        cohortId = (await assignments.review(request.user, request.params.id, { outcome, feedback, promptFeedback })).cohortId;
      } catch (err) {
        const status = statusOf(err);
        if (status !== 400 && status !== 409) throw err;
        return submissionPage(reply, request, request.params.id, { error: (err as Error).message, entered }, status);
      }
      return reply.redirect(`${prefix}/teach/cohorts/${cohortId}/reviews?reviewed=${request.params.id}`, 303);
    },
  );

  async function extensionsPage(reply: FastifyReply, access: CohortAccess, extra: { error?: string; granted?: boolean; entered?: Record<string, string> } = {}, code = 200) {
    const zone = zoneOf(access);
    const list = (await assignments.listExtensions(access)).map((e) => ({
      ...e,
      dueAt: e.dueAt ? formatInstant(e.dueAt, zone) : null,
      graceEndsAt: e.graceEndsAt ? formatInstant(e.graceEndsAt, zone) : null,
      createdAt: formatInstant(e.createdAt, zone),
    }));
    return reply.page(
      'assignments/extensions',
      {
        title: `Extensions · ${access.cohort.course.title}`,
        cohortId: access.cohort.id,
        courseTitle: access.cohort.course.title,
        form: await views.extensionForm(access, extra.entered ?? {}),
        list,
        empty: list.length === 0,
        granted: extra.granted ? 'The extension is granted and the learner has been emailed.' : null,
        error: extra.error ?? null,
      },
      code,
    );
  }

  fastify.get(
    '/teach/cohorts/:id/extensions',
    { schema: { hide: true, params: IdParam, querystring: Type.Object({ granted: Type.Optional(Type.String({ maxLength: 5 })) }) } },
    async (request, reply) => extensionsPage(reply, await staffAccess(request, request.params.id), { granted: request.query.granted === '1' }),
  );

  fastify.post(
    '/teach/cohorts/:id/extensions',
    { schema: { hide: true, params: IdParam, body: FormFields }, attachValidation: true },
    async (request, reply) => {
      const access = await staffAccess(request, request.params.id);
      const body = (request.validationError ? {} : (request.body ?? {})) as Fields;
      const entered = {
        learner: first(body.learner),
        week: first(body.week),
        dueAt: first(body.dueAt),
        graceEndsAt: first(body.graceEndsAt),
        reason: first(body.reason),
      };
      const zone = zoneOf(access);
      // datetime-local values carry no zone: they are read in the instructor's own zone, as the form says.
      const parseLocal = (value: string, field: string): Date | undefined => {
        if (!value) return undefined;
        const dt = DateTime.fromISO(value, { zone });
        if (!dt.isValid || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) throw new BadInput('enter a date and time.', field);
        return dt.toJSDate();
      };
      try {
        if (!entered.learner) throw new BadInput('choose a learner.', 'learner');
        const week = entered.week ? Number(entered.week) : undefined;
        if (week !== undefined && !Number.isInteger(week)) throw new BadInput('choose a week.', 'week');
        await assignments.grantExtension(access, {
          learner: entered.learner,
          week,
          dueAt: parseLocal(entered.dueAt, 'New due date'),
          graceEndsAt: parseLocal(entered.graceEndsAt, 'New personal grace end'),
          reason: entered.reason,
        });
      } catch (err) {
        const status = statusOf(err);
        if (status !== 400 && status !== 422) throw err;
        return extensionsPage(reply, access, { error: (err as Error).message, entered }, status);
      }
      return reply.redirect(`${prefix}/teach/cohorts/${access.cohort.id}/extensions?granted=1`, 303);
    },
  );
};
export default pages;
