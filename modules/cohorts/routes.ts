// Cohort API: create and list cohorts, read one with its timeline, apply a course version to it, read and edit a week.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requireRole } from '../../server/plugins/auth.js';
import { IdParam, Instant, problemResponses } from '../../server/schemas.js';
import type { Cohort, CohortRole } from './service.js';
import { cohortState } from './timeline.js';

const WeekSummary = Type.Object({ number: Type.Integer(), title: Type.String(), opensAt: Instant, dueAt: Instant });
const SessionSummary = Type.Object({ id: Type.Integer(), week: Type.Integer(), startsAt: Instant, endsAt: Instant });
export const CohortDoc = Type.Object({
  id: Type.Integer(),
  course: Type.String(),
  courseTitle: Type.String(),
  startDate: Type.String(),
  timezone: Type.String(),
  capacity: Type.Integer(),
  state: Type.String({ enum: ['upcoming', 'running', 'grace', 'closed', 'archived'] }),
  startsAt: Instant,
  endsAt: Instant,
  graceEndsAt: Instant,
  accessEndsAt: Instant,
  weeks: Type.Array(WeekSummary),
  sessions: Type.Array(SessionSummary),
  // Only for the cohort's staff (instructors and admins).
  instructors: Type.Optional(Type.Array(Type.String())),
});

const Prompt = Type.Object({ id: Type.String(), label: Type.String(), help: Type.Union([Type.String(), Type.Null()]), maxLength: Type.Integer() });
const WeekDoc = Type.Object({
  number: Type.Integer(),
  title: Type.String(),
  opensAt: Instant,
  dueAt: Instant,
  html: Type.String(),
  edited: Type.Boolean(),
  readings: Type.Array(Type.Object({ title: Type.String(), url: Type.Union([Type.String(), Type.Null()]), note: Type.Union([Type.String(), Type.Null()]) })),
  assignment: Type.Union([
    Type.Object({
      title: Type.String(),
      instructionsHtml: Type.String(),
      prompts: Type.Array(Prompt),
      choose: Type.Union([Type.Integer(), Type.Null()]),
      options: Type.Array(Type.Object({ id: Type.String(), label: Type.String(), description: Type.Union([Type.String(), Type.Null()]) })),
    }),
    Type.Null(),
  ]),
});

const WeekParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }), n: Type.Integer({ minimum: 1, maximum: 52 }) });

const routes: FastifyPluginAsync = async (app) => {
  const fastify = app.withTypeProvider<TypeBoxTypeProvider>();
  const cohorts = fastify.cc.cohorts;
  const clock = fastify.cc.clock;

  /** The API document of a cohort. */
  async function cohortDoc(c: Cohort, role: CohortRole = 'learner') {
    const t = c.timeline;
    const staff = role !== 'learner' ? { instructors: (await cohorts.instructors(c.id)).map((u) => u.email) } : {};
    const [weeks, sessions] = await Promise.all([cohorts.weeks(c), cohorts.sessions(c)]);
    return {
      ...staff,
      id: c.id,
      course: c.courseSlug,
      courseTitle: c.course.title,
      startDate: c.startDate,
      timezone: c.timezone,
      capacity: c.capacity,
      state: cohortState(t, clock.now()),
      startsAt: t.startsAt.toISOString(),
      endsAt: t.endsAt.toISOString(),
      graceEndsAt: t.graceEndsAt.toISOString(),
      accessEndsAt: t.accessEndsAt.toISOString(),
      weeks: t.weeks.map((w) => ({ number: w.number, title: weeks[w.number - 1].title, opensAt: w.opensAt.toISOString(), dueAt: w.dueAt.toISOString() })),
      sessions: sessions.map((s) => ({ id: s.id, week: s.week, startsAt: s.startsAt.toISOString(), endsAt: s.endsAt.toISOString() })),
    };
  }

  async function weekDoc(c: Cohort, n: number) {
    const w = await cohorts.week(c, n);
    const t = c.timeline.weeks[n - 1];
    const a = w.source.assignment;
    return {
      number: n,
      title: w.title,
      opensAt: t.opensAt.toISOString(),
      dueAt: t.dueAt.toISOString(),
      html: w.html,
      edited: w.edited,
      readings: w.source.readings,
      assignment: a
        ? { title: a.title, instructionsHtml: a.instructionsHtml, prompts: a.prompts, choose: a.choose, options: a.options }
        : null,
    };
  }

  fastify.post(
    '/api/v1/cohorts',
    {
      schema: {
        summary: 'Create a cohort of a course',
        tags: ['cohorts'],
        body: Type.Object(
          {
            course: Type.String({ minLength: 1, maxLength: 100 }),
            startDate: Type.String({ minLength: 10, maxLength: 10 }),
            timezone: Type.String({ minLength: 1, maxLength: 64 }),
            capacity: Type.Integer({ minimum: 1, maximum: 10_000 }),
            instructors: Type.Array(Type.String({ maxLength: 254 }), { maxItems: 20, default: [] }),
          },
          { additionalProperties: false },
        ),
        response: { 201: CohortDoc, ...problemResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      requireRole(request, 'admin');
      const cohort = await cohorts.create({ ...request.body, instructors: request.body.instructors ?? [] });
      return reply.code(201).send(await cohortDoc(cohort, 'admin'));
    },
  );

  fastify.get(
    '/api/v1/cohorts',
    {
      schema: {
        summary: 'Cohorts the caller belongs to (admins: all)',
        tags: ['cohorts'],
        response: { 200: Type.Array(CohortDoc), ...problemResponses(401) },
      },
    },
    async (request) => {
      const user = requireRole(request, 'admin', 'instructor', 'learner');
      const list = await cohorts.listForUser(user);
      return Promise.all(list.map(({ cohort, role }) => cohortDoc(cohort, role)));
    },
  );

  fastify.get(
    '/api/v1/cohorts/:id',
    { schema: { summary: 'A cohort with its timeline and sessions', tags: ['cohorts'], params: IdParam, response: { 200: CohortDoc, ...problemResponses(400, 401, 403, 404) } } },
    async (request) => {
      const access = await cohorts.access(request.user, request.params.id);
      return cohortDoc(access.cohort, access.role);
    },
  );

  fastify.patch(
    '/api/v1/cohorts/:id',
    {
      schema: {
        summary: 'Change a cohort: capacity, instructors, or move it (new startDate and/or timezone)',
        description:
          'Admins only. A move recomputes every instant of the timeline (weeks, due dates, sessions, scheduled emails), keeps the cohort’s own week edits and moved sessions, and emails one notice to each enrolled learner. `instructors` replaces the whole list.',
        tags: ['cohorts'],
        params: IdParam,
        body: Type.Object(
          {
            capacity: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
            instructors: Type.Optional(Type.Array(Type.String({ maxLength: 254 }), { maxItems: 20 })),
            startDate: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'Local date (YYYY-MM-DD) in the cohort’s zone when week 1 opens' })),
            timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone, e.g. Europe/London' })),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: CohortDoc, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      requireRole(request, 'admin');
      return cohortDoc(await cohorts.update(request.params.id, request.body), 'admin');
    },
  );

  fastify.post(
    '/api/v1/cohorts/:id/course-version',
    {
      schema: {
        summary: 'Put the cohort on another published version of its course (its instructors, admins)',
        description:
          'Cohorts not started yet follow each new version by themselves; a running cohort keeps its version until this applies one. 404 for a version that does not exist; 409 while learners have work in a week the version removes, or the cohort is in such a week.',
        tags: ['cohorts'],
        params: IdParam,
        body: Type.Object({ version: Type.Integer({ minimum: 1, maximum: 1_000_000 }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ ...CohortDoc.properties, courseVersion: Type.Integer() }), ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const access = await cohorts.access(request.user, request.params.id, ['instructor', 'admin']);
      const cohort = await cohorts.applyVersion(access.cohort.id, request.body.version);
      return { ...(await cohortDoc(cohort, access.role)), courseVersion: cohort.courseVersion };
    },
  );

  fastify.get(
    '/api/v1/cohorts/:id/weeks/:n',
    {
      schema: {
        summary: "A week's content (learners from opensAt(n) until accessEndsAt)",
        tags: ['cohorts'],
        params: WeekParams,
        response: { 200: WeekDoc, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const access = await cohorts.access(request.user, request.params.id);
      cohorts.assertWeekOpen(access, request.params.n);
      return weekDoc(access.cohort, request.params.n);
    },
  );

  fastify.put(
    '/api/v1/cohorts/:id/weeks/:n',
    {
      schema: {
        summary: "Edit a week's title and text for this cohort only (Markdown, sanitised on render)",
        tags: ['cohorts'],
        params: WeekParams,
        body: Type.Object(
          { title: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), markdown: Type.Optional(Type.String({ maxLength: 100_000 })) },
          { additionalProperties: false },
        ),
        response: { 200: WeekDoc, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const access = await cohorts.access(request.user, request.params.id, ['instructor', 'admin']);
      await cohorts.editWeek(access.cohort, request.params.n, access.user.id, request.body);
      return weekDoc(access.cohort, request.params.n);
    },
  );
};
export default routes;
