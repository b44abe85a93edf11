// Assignments API: the learner's submission and files, the instructor's list, review, extensions, CSV and workbook.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { BadInput } from '../../server/errors.js';
import { requireUser } from '../../server/plugins/auth.js';
import { IdParam, Instant, problemResponses } from '../../server/schemas.js';
import { contentDisposition, uploadError } from './files.js';
import type { CohortAccess } from '../cohorts/service.js';
import type { ExtensionDoc, FileDoc, SubmissionDoc, SaveResult, ListRow } from './service.js';

export const WeekParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }), n: Type.Integer({ minimum: 1, maximum: 52 }) });
const Status = Type.Union([Type.Literal('draft'), Type.Literal('submitted'), Type.Literal('complete'), Type.Literal('needs_revision')]);
const Binary = (description: string) => Type.Unsafe<unknown>({ type: 'string', format: 'binary', description });
const Texts = Type.Record(Type.String(), Type.String({ maxLength: 100_000 }), { maxProperties: 100 });
const NullableInstant = Type.Union([Instant, Type.Null()]);
const Labels = Type.Record(Type.String(), Type.String(), {
  description: 'The label of each answered prompt as the learner saw it when answering (it stays when the course renames or removes the prompt)',
});

const FileJson = Type.Object({ id: Type.String(), name: Type.String(), type: Type.String(), size: Type.Integer(), sha256: Type.String(), uploadedAt: Instant, url: Type.String() });
const ReviewJson = Type.Object({
  version: Type.Integer(),
  outcome: Type.String(),
  feedback: Type.String(),
  promptFeedback: Texts,
  reviewer: Type.Union([Type.String(), Type.Null()]),
  at: Instant,
});
const VersionJson = Type.Object({
  version: Type.Integer(),
  submittedAt: Instant,
  late: Type.Boolean(),
  answers: Texts,
  promptLabels: Labels,
  options: Type.Array(Type.String()),
  files: Type.Array(FileJson),
  reviews: Type.Array(ReviewJson),
});
const SubmissionJson = Type.Object({
  id: Type.Integer(),
  cohortId: Type.Integer(),
  week: Type.Integer(),
  learner: Type.String(),
  learnerName: Type.String(),
  status: Status,
  late: Type.Boolean(),
  version: Type.Integer(),
  submittedAt: NullableInstant,
  dueAt: Instant,
  closesAt: Instant,
  answers: Texts,
  promptLabels: Labels,
  earlierPrompts: Type.Array(Type.String(), {
    description: 'Ids of prompts answered in this submission (any version, or the draft) that the week’s worksheet no longer has; their answers are kept',
  }),
  options: Type.Array(Type.String()),
  files: Type.Array(FileJson),
  draft: Type.Union([Type.Object({ answers: Texts, promptLabels: Labels, options: Type.Array(Type.String()), savedAt: NullableInstant }), Type.Null()]),
  versions: Type.Array(VersionJson),
});
const SaveJson = Type.Object({ id: Type.Integer(), status: Status, late: Type.Boolean(), version: Type.Integer(), submittedAt: NullableInstant });
const ListJson = Type.Pick(SubmissionJson, ['id', 'week', 'learner', 'learnerName', 'status', 'late', 'version', 'submittedAt']);
const ExtensionJson = Type.Object({
  id: Type.Integer(),
  learner: Type.String(),
  learnerName: Type.String(),
  week: Type.Union([Type.Integer(), Type.Null()]),
  dueAt: NullableInstant,
  graceEndsAt: NullableInstant,
  reason: Type.String(),
  grantedBy: Type.Union([Type.String(), Type.Null()]),
  createdAt: Instant,
});

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** JSON for API answers. */
export function fileJson(prefix: string, f: FileDoc) {
  return { id: f.id, name: f.name, type: f.type, size: f.size, sha256: f.sha256, uploadedAt: f.uploadedAt.toISOString(), url: `${prefix}/api/v1/files/${f.id}` };
}

export function submissionJson(prefix: string, d: SubmissionDoc) {
  return {
    id: d.id,
    cohortId: d.cohortId,
    week: d.week,
    learner: d.learner.email,
    learnerName: d.learner.name || d.learner.email,
    status: d.status,
    late: d.late,
    version: d.version,
    submittedAt: iso(d.submittedAt),
    dueAt: d.dueAt.toISOString(),
    closesAt: d.closesAt.toISOString(),
    answers: d.answers,
    promptLabels: d.promptLabels,
    earlierPrompts: d.earlierPrompts,
    options: d.options,
    files: d.files.map((f) => fileJson(prefix, f)),
    draft: d.draft ? { answers: d.draft.answers, promptLabels: d.draft.promptLabels, options: d.draft.options, savedAt: iso(d.draft.savedAt) } : null,
    versions: d.versions.map((v) => ({
      version: v.version,
      submittedAt: v.submittedAt.toISOString(),
      late: v.late,
      answers: v.answers,
      promptLabels: v.promptLabels,
      options: v.options,
      files: v.files.map((f) => fileJson(prefix, f)),
      reviews: v.reviews.map((r) => ({ ...r, at: r.at.toISOString() })),
    })),
  };
}

const saveJson = (r: SaveResult) => ({ ...r, submittedAt: iso(r.submittedAt) });
const listJson = (r: ListRow) => ({ ...r, submittedAt: iso(r.submittedAt) });
export const extensionJson = (e: ExtensionDoc) => ({ ...e, dueAt: iso(e.dueAt), graceEndsAt: iso(e.graceEndsAt), createdAt: e.createdAt.toISOString() });

/** Read the one file part of a multipart request, streamed through the file store's checks. */
export async function readUpload(request: FastifyRequest, maxBytes: number) {
  if (!request.isMultipart()) throw new BadInput('send the file as multipart/form-data in a field named "file".', 'file');
  const part = await request.file({ limits: { fileSize: maxBytes, files: 1 } });
  if (!part || !part.filename) throw new BadInput('no file was attached.', 'file');
  return part;
}

const routes: FastifyPluginAsync = async (app) => {
  const fastify = app.withTypeProvider<TypeBoxTypeProvider>();
  const { prefix } = fastify.cc;
  const cohorts = fastify.cc.cohorts;
  const assignments = fastify.cc.assignments;
  const staff = (request: FastifyRequest, cohortId: number): Promise<CohortAccess> => cohorts.access(request.user, cohortId, ['instructor', 'admin']);

  fastify.put(
    '/api/v1/cohorts/:id/weeks/:n/submission',
    {
      schema: {
        summary: "Save the learner's week n work as a draft, or submit it (a new version)",
        description:
          'Enrolled learners, from opensAt(n). `late` when first submitted after their own due date (extensions count); refused with 409 after their grace end or once complete. On `review: none` courses a submit completes the week.',
        tags: ['assignments'],
        params: WeekParams,
        body: Type.Object(
          { answers: Texts, options: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 50 })), submit: Type.Boolean() },
          { additionalProperties: false },
        ),
        response: { 200: SaveJson, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const access = await cohorts.access(request.user, request.params.id);
      return saveJson(await assignments.save(access, request.params.n, request.body));
    },
  );

  fastify.get(
    '/api/v1/cohorts/:id/weeks/:n/submission',
    {
      schema: {
        summary: "The learner's own week n submission with every submitted version and its reviews",
        tags: ['assignments'],
        params: WeekParams,
        response: { 200: SubmissionJson, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const access = await cohorts.access(request.user, request.params.id);
      return submissionJson(prefix, await assignments.own(access, request.params.n));
    },
  );

  fastify.post(
    '/api/v1/cohorts/:id/weeks/:n/submission/files',
    {
      schema: {
        summary: "Upload a file to the learner's week n work (multipart/form-data, field `file`)",
        description: 'Type checked by extension and content; 413 over the assignment’s size limit; at most 5 files attached at once.',
        tags: ['assignments'],
        consumes: ['multipart/form-data'],
        params: WeekParams,
        response: { 201: FileJson, ...problemResponses(400, 401, 403, 404, 409, 413) },
      },
    },
    async (request, reply) => {
      const access = await cohorts.access(request.user, request.params.id);
      const rule = await assignments.uploadRule(access, request.params.n);
      let prepared;
      try {
        const part = await readUpload(request, rule.maxBytes);
        prepared = await assignments.files.prepare(rule, part.filename, part.file);
      } catch (err) {
        throw uploadError(err);
      }
      const file = await assignments.attach(access, request.params.n, prepared);
      return reply.code(201).send(fileJson(prefix, file));
    },
  );

  fastify.get(
    '/api/v1/files/:id',
    {
      schema: {
        summary: 'Download an uploaded file (its learner, and the cohort’s instructors and admins)',
        tags: ['assignments'],
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        response: { 200: Binary('The file, as an attachment'), ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { file } = await assignments.fileFor(request.user, request.params.id);
      const content = await assignments.fileContent(file.id);
      if (!content) throw new BadInput('The file is missing from storage; ask the learner to upload it again.');
      return reply
        .header('content-type', file.type)
        .header('content-length', content.length)
        .header('content-disposition', contentDisposition(file.name))
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'none'; sandbox")
        .header('cache-control', 'private, no-store')
        .send(content);
    },
  );

  fastify.delete(
    '/api/v1/files/:id',
    {
      schema: {
        summary: "Remove a file from the learner's working copy (it stays in any version already submitted)",
        tags: ['assignments'],
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        response: { 204: Type.Null(), ...problemResponses(401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      await assignments.removeOwnFile(requireUser(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  fastify.get(
    '/api/v1/cohorts/:id/submissions',
    {
      schema: {
        summary: "The cohort's submissions, oldest submitted first (instructors and admins)",
        tags: ['assignments'],
        params: IdParam,
        querystring: Type.Object({ week: Type.Optional(Type.Integer({ minimum: 1, maximum: 52 })), status: Type.Optional(Status) }, { additionalProperties: false }),
        response: { 200: Type.Array(ListJson), ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => (await assignments.list(await staff(request, request.params.id), request.query)).map(listJson),
  );

  fastify.get(
    '/api/v1/cohorts/:id/submissions.csv',
    {
      schema: {
        summary: 'The status grid (learners × weeks) as CSV (instructors and admins)',
        tags: ['assignments'],
        params: IdParam,
        response: { 200: Type.String({ description: 'text/csv: learner, name, one column per week with an assignment, complete count' }), ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const access = await staff(request, request.params.id);
      const csv = await assignments.csv(access);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="cohort-${access.cohort.id}-submissions.csv"`)
        .header('cache-control', 'private, no-store')
        .send('\ufeff' + csv);
    },
  );

  fastify.get(
    '/api/v1/submissions/:id',
    {
      schema: {
        summary: 'A submission with its history (the cohort’s instructors and admins, or its learner)',
        tags: ['assignments'],
        params: IdParam,
        response: { 200: SubmissionJson, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => submissionJson(prefix, (await assignments.get(request.user, request.params.id)).doc),
  );

  fastify.post(
    '/api/v1/submissions/:id/review',
    {
      schema: {
        summary: 'Review the latest version: complete or needs revision, with feedback; the learner is emailed',
        tags: ['assignments'],
        params: IdParam,
        body: Type.Object(
          {
            outcome: Type.Union([Type.Literal('complete'), Type.Literal('needs_revision')]),
            feedback: Type.String({ maxLength: 20_000 }),
            promptFeedback: Type.Optional(Texts),
          },
          { additionalProperties: false },
        ),
        response: { 200: SubmissionJson, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => submissionJson(prefix, await assignments.review(request.user, request.params.id, request.body)),
  );

  fastify.post(
    '/api/v1/cohorts/:id/extensions',
    {
      schema: {
        summary: 'Grant one learner a later due date for a week and/or a later personal grace end',
        tags: ['assignments'],
        params: IdParam,
        body: Type.Object(
          {
            learner: Type.String({ maxLength: 254 }),
            week: Type.Optional(Type.Integer({ minimum: 1, maximum: 52 })),
            dueAt: Type.Optional(Instant),
            graceEndsAt: Type.Optional(Instant),
            reason: Type.String({ maxLength: 2000 }),
          },
          { additionalProperties: false },
        ),
        response: { 201: ExtensionJson, ...problemResponses(400, 401, 403, 404, 422) },
      },
    },
    async (request, reply) => {
      const access = await staff(request, request.params.id);
      const b = request.body;
      const ext = await assignments.grantExtension(access, {
        learner: b.learner,
        week: b.week,
        dueAt: b.dueAt ? new Date(b.dueAt) : undefined,
        graceEndsAt: b.graceEndsAt ? new Date(b.graceEndsAt) : undefined,
        reason: b.reason,
      });
      return reply.code(201).send(extensionJson(ext));
    },
  );

  fastify.get(
    '/api/v1/cohorts/:id/extensions',
    {
      schema: {
        summary: 'Extensions granted in the cohort, newest first (instructors and admins)',
        tags: ['assignments'],
        params: IdParam,
        response: { 200: Type.Array(ExtensionJson), ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => (await assignments.listExtensions(await staff(request, request.params.id))).map(extensionJson),
  );

  fastify.get(
    '/api/v1/cohorts/:id/workbook.pdf',
    {
      schema: {
        summary: "The learner's workbook: every worksheet answer in one PDF (until accessEndsAt)",
        tags: ['assignments'],
        params: IdParam,
        response: { 200: Binary('application/pdf'), ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const access = await cohorts.access(request.user, request.params.id);
      const model = await assignments.workbook(access);
      // pdf-lib and fontkit are loaded on the first workbook, not at start: they are about 20 MB of memory.
      const { renderWorkbook } = await import('./pdf.js');
      const bytes = await renderWorkbook(model);
      const slug = access.cohort.courseSlug;
      return reply
        .type('application/pdf')
        .header('content-disposition', `attachment; filename="workbook-${slug}.pdf"`)
        .header('cache-control', 'private, no-store')
        .send(Buffer.from(bytes));
    },
  );
};
export default routes;
