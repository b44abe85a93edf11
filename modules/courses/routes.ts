// The catalogue (GET /api/v1/courses and the home page; a course's own page, with its cohorts, is in modules/cohorts)
// and the authoring API: create a course, read and replace its draft, publish it, its versions and its authors.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { readerLocale } from '../../server/locale.js';
import { requireRole } from '../../server/plugins/auth.js';
import { Instant, Money, problemResponses } from '../../server/schemas.js';
import { courseView } from './view-models.js';

const routes: FastifyPluginAsync = async (app) => {
  const fastify = app.withTypeProvider<TypeBoxTypeProvider>();
  const courses = fastify.cc.courses;

  fastify.get(
    '/api/v1/courses',
    {
      schema: {
        summary: 'The course catalogue',
        tags: ['courses'],
        security: [],
        response: { 200: Type.Array(Type.Object({ slug: Type.String(), title: Type.String(), weeks: Type.Integer(), price: Money })) },
      },
    },
    async () => (await courses.list()).map((c) => courses.summary(c)),
  );

  // ---- authoring ----
  const Document = Type.Object({}, { additionalProperties: true, description: 'A whole course in the shape of the content files (course.yaml fields + weeks: [...]); see content/README.md' });
  const SlugParam = Type.Object({ slug: Type.String({ minLength: 1, maxLength: 100 }) });
  // A course document is maybe 200 kB; room to spare, still bounded.
  const DOCUMENT_LIMIT = 1024 * 1024;
  const people = fastify.cc.people;

  fastify.post(
    '/api/v1/courses',
    {
      schema: {
        summary: 'Create a course with an empty draft (admin); it is listed once published',
        tags: ['courses'],
        body: Type.Object({ slug: Type.String({ minLength: 1, maxLength: 100 }), title: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
        response: {
          201: Type.Object({ slug: Type.String(), title: Type.String(), latestVersion: Type.Union([Type.Integer(), Type.Null()]), draft: Document }),
          ...problemResponses(400, 401, 403, 409),
        },
      },
    },
    async (request, reply) => {
      const user = requireRole(request, 'admin');
      return reply.code(201).send(await courses.create(request.body, user));
    },
  );

  fastify.get(
    '/api/v1/courses/:slug/draft',
    { schema: { summary: "A course's draft, the whole course as JSON (its authors, admins)", tags: ['courses'], params: SlugParam, response: { 200: Document, ...problemResponses(400, 401, 403, 404) } } },
    async (request) => {
      await courses.authorAccess(request.user, request.params.slug);
      return courses.draft(request.params.slug);
    },
  );

  fastify.put(
    '/api/v1/courses/:slug/draft',
    {
      bodyLimit: DOCUMENT_LIMIT,
      schema: {
        summary: "Replace a course's draft (its authors, admins)",
        description: 'The whole course, checked against every content rule: a 400 lists every problem in `errors` ([{ field, detail }], fields at 0-based paths such as `weeks[0].assignment.prompts[1].id`) and saves nothing.',
        tags: ['courses'],
        params: SlugParam,
        body: Document,
        response: { 200: Document, ...problemResponses(400, 401, 403, 404, 413) },
      },
    },
    async (request) => {
      const { user } = await courses.authorAccess(request.user, request.params.slug);
      return courses.saveDraft(request.params.slug, request.body, user);
    },
  );

  fastify.post(
    '/api/v1/courses/:slug/publish',
    {
      // No body at all is a publish without a note.
      preValidation: async (request) => {
        if (request.body === undefined || request.body === null) request.body = {};
      },
      schema: {
        summary: "Publish a course's draft as its next version (its authors, admins)",
        description: 'Cohorts not started yet follow the new version; running cohorts keep theirs until it is applied to them (POST /api/v1/cohorts/:id/course-version). A draft that fails validation: 400 listing every problem in `errors`.',
        tags: ['courses'],
        params: SlugParam,
        body: Type.Object({ note: Type.Optional(Type.String({ maxLength: 1000 })) }, { additionalProperties: false }),
        response: { 201: Type.Object({ version: Type.Integer() }), ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { user } = await courses.authorAccess(request.user, request.params.slug);
      const note = request.body.note?.trim() || null;
      return reply.code(201).send(await courses.publish(request.params.slug, note, user));
    },
  );

  fastify.get(
    '/api/v1/courses/:slug/versions',
    {
      schema: {
        summary: 'Published versions of a course, oldest first (its authors, admins)',
        tags: ['courses'],
        params: SlugParam,
        response: {
          200: Type.Array(Type.Object({ version: Type.Integer(), note: Type.Union([Type.String(), Type.Null()]), publishedAt: Instant, publishedBy: Type.Union([Type.String(), Type.Null()]) })),
          ...problemResponses(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      await courses.authorAccess(request.user, request.params.slug);
      return (await courses.history(request.params.slug)).map((v) => ({ ...v, publishedAt: v.publishedAt.toISOString() }));
    },
  );

  fastify.post(
    '/api/v1/courses/:slug/authors',
    {
      schema: {
        summary: 'Make a person an author of a course (admin)',
        description: 'The person must have an account (404 otherwise); a learner becomes an instructor. Answers the course’s authors.',
        tags: ['courses'],
        params: SlugParam,
        body: Type.Object({ email: Type.String({ minLength: 3, maxLength: 254 }) }, { additionalProperties: false }),
        response: { 201: Type.Object({ slug: Type.String(), authors: Type.Array(Type.String()) }), ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      requireRole(request, 'admin');
      return reply.code(201).send(await courses.addAuthor(request.params.slug, request.body.email, people));
    },
  );

  // The API gives prices raw ({ amountMinor, currency }); pages format them for the reader's Accept-Language.
  fastify.get('/', { schema: { hide: true } }, async (request, reply) => {
    const locale = readerLocale(request);
    return reply.page('courses/catalogue', { title: 'Courses', courses: (await courses.list()).map((c) => courseView(c, locale)) });
  });
};
export default routes;
