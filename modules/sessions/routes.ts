// Live-session API (sessions, links, attendance, watched, calendars, feed tokens), then the pages.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { DateTime } from 'luxon';
import { requireUser } from '../../server/plugins/auth.js';
import { BadInput, Forbidden, NotFound } from '../../server/errors.js';
import { IdParam, Instant, problemResponses } from '../../server/schemas.js';
import { formatDay, formatInstant, formatTime } from '../../server/time.js';
import { safeNext } from '../people/service.js';
import type { CohortAccess } from '../cohorts/service.js';
import { MAX_DURATION, MIN_DURATION, zoneFor, type SessionRow, type SessionView } from './service.js';

const SessionDoc = Type.Object({
  id: Type.Integer(),
  cohortId: Type.Integer(),
  week: Type.Integer(),
  title: Type.String(),
  startsAt: Instant,
  endsAt: Instant,
  durationMinutes: Type.Integer(),
  moved: Type.Boolean({ description: "True when an instructor moved it away from the course's slot" }),
  joinUrl: Type.Union([Type.String(), Type.Null()], { description: 'For learners null outside [startsAt − 15 min, endsAt)' }),
  recordingUrl: Type.Union([Type.String(), Type.Null()]),
  attendance: Type.Union([Type.Literal('attended'), Type.Literal('watched'), Type.Null()], { description: "The learner's own mark (null for staff)" }),
});

const UrlField = (description: string) => Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()], { description }));

const Calendar = {
  description: 'An iCalendar (RFC 5545) file, instants in UTC',
  content: { 'text/calendar': { schema: Type.String() } },
};

function sessionDoc(v: SessionView) {
  return {
    id: v.id,
    cohortId: v.cohortId,
    week: v.week,
    title: v.title,
    startsAt: v.startsAt.toISOString(),
    endsAt: v.endsAt.toISOString(),
    durationMinutes: v.durationMinutes,
    moved: v.moved,
    joinUrl: v.joinUrl,
    recordingUrl: v.recordingUrl,
    attendance: v.attendance,
  };
}

/** Service messages name API fields ("joinUrl must be …"); the form names what people see. */
function friendly(message: string): string {
  return message
    .replace(/^joinUrl/, 'The join link')
    .replace(/^recordingUrl/, 'The recording link')
    .replace(/^durationMinutes/, 'The length in minutes')
    .replace(/^startsAt/, 'The new time')
    .replace(/^date/, 'The date')
    .replace(/^time/, 'The start time');
}

function sendCalendar(reply: FastifyReply, body: string, filename: string | null) {
  reply.header('content-type', 'text/calendar; charset=utf-8').header('cache-control', 'private, no-cache');
  if (filename) reply.header('content-disposition', `attachment; filename="${filename}"`);
  return reply.send(body);
}

const routes: FastifyPluginAsync = async (app) => {
  const fastify = app.withTypeProvider<TypeBoxTypeProvider>();
  const { prefix } = fastify.cc;
  const sessions = fastify.cc.sessions;
  const cohorts = fastify.cc.cohorts;
  const clock = fastify.cc.clock;

  // ---- API ----

  fastify.get(
    '/api/v1/cohorts/:id/sessions',
    {
      schema: {
        summary: "A cohort's live sessions (cohort members)",
        description: 'Learners see `joinUrl` only from 15 minutes before the start until the end; recordings until accessEndsAt.',
        tags: ['sessions'],
        params: IdParam,
        response: { 200: Type.Array(SessionDoc), ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => (await sessions.listFor(await cohorts.access(request.user, request.params.id))).map(sessionDoc),
  );

  fastify.get(
    '/api/v1/sessions/:id',
    {
      schema: {
        summary: 'One live session (cohort members)',
        tags: ['sessions'],
        params: IdParam,
        response: { 200: SessionDoc, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { access, session } = await sessions.getScoped(request.user, request.params.id);
      return sessionDoc(await sessions.viewOne(access, session));
    },
  );

  fastify.patch(
    '/api/v1/sessions/:id',
    {
      schema: {
        summary: 'Set the join or recording link (https only), or move one session (its instructors)',
        description:
          'Links must be https:// (null clears one). `startsAt` and/or `durationMinutes` move this session for this cohort only; ' +
          'the new time is kept as a local date and time in the cohort’s zone (a later move of the whole cohort shifts it by the same days) ' +
          'and enrolled learners are emailed. Adding the first recording emails them too.',
        tags: ['sessions'],
        params: IdParam,
        body: Type.Object(
          {
            joinUrl: UrlField('https:// address of the live meeting'),
            recordingUrl: UrlField('https:// address of the recording'),
            startsAt: Type.Optional(Type.String({ format: 'date-time', description: 'New start instant (ISO 8601)' })),
            durationMinutes: Type.Optional(Type.Integer({ minimum: MIN_DURATION, maximum: MAX_DURATION })),
          },
          { additionalProperties: false },
        ),
        response: { 200: SessionDoc, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { access, session } = await sessions.getScoped(request.user, request.params.id, ['instructor', 'admin']);
      const b = request.body;
      const updated = await sessions.update(access, session, {
        joinUrl: b.joinUrl,
        recordingUrl: b.recordingUrl,
        startsAt: b.startsAt === undefined ? undefined : new Date(b.startsAt),
        durationMinutes: b.durationMinutes,
      });
      return sessionDoc(await sessions.viewOne(access, updated));
    },
  );

  fastify.get(
    '/api/v1/sessions/:id/attendance',
    {
      schema: {
        summary: 'The attendance sheet of a session (its instructors)',
        tags: ['sessions'],
        params: IdParam,
        response: {
          200: Type.Array(
            Type.Object({ learner: Type.String(), name: Type.String(), kind: Type.Union([Type.Literal('attended'), Type.Literal('watched'), Type.Null()]) }),
          ),
          ...problemResponses(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const { access, session } = await sessions.getScoped(request.user, request.params.id, ['instructor', 'admin']);
      return (await sessions.sheet(access, session)).map((r) => ({ learner: r.email, name: r.name, kind: r.kind }));
    },
  );

  fastify.post(
    '/api/v1/sessions/:id/attendance',
    {
      schema: {
        summary: 'Mark whether a learner attended (its instructors)',
        description: '409 before the session starts; 422 when the address is not an enrolled learner of the cohort. attended=false keeps a "watched" mark.',
        tags: ['sessions'],
        params: IdParam,
        body: Type.Object({ learner: Type.String({ minLength: 1, maxLength: 254 }), attended: Type.Boolean() }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            sessionId: Type.Integer(),
            learner: Type.String(),
            attended: Type.Boolean(),
            kind: Type.Union([Type.Literal('attended'), Type.Literal('watched'), Type.Null()]),
          }),
          ...problemResponses(400, 401, 403, 404, 409, 422),
        },
      },
    },
    async (request) => {
      const { access, session } = await sessions.getScoped(request.user, request.params.id, ['instructor', 'admin']);
      const r = await sessions.markAttendance(access, session, request.body.learner, request.body.attended);
      return { sessionId: session.id, ...r };
    },
  );

  fastify.post(
    '/api/v1/sessions/:id/watched',
    {
      schema: {
        summary: 'Say you watched the recording (enrolled learner)',
        description: '204 once the session has ended and a recording exists (saying it again changes nothing); 409 before.',
        tags: ['sessions'],
        params: IdParam,
        response: { 204: Type.Null(), ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { access, session } = await sessions.getScoped(request.user, request.params.id);
      await sessions.markWatched(access, session);
      return reply.code(204).send(null);
    },
  );

  fastify.get(
    '/api/v1/cohorts/:id/calendar.ics',
    {
      schema: {
        summary: "A cohort's sessions as an iCalendar file (cohort members, or ?token= a calendar-feed token)",
        tags: ['sessions'],
        params: IdParam,
        querystring: Type.Object({ token: Type.Optional(Type.String({ maxLength: 200 })) }),
        response: { 200: Calendar, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      let user = request.user;
      if (request.query.token !== undefined) {
        user = await sessions.userForFeed(request.query.token);
        if (!user) throw new Forbidden('This calendar address has been turned off or replaced.');
      }
      const access = await cohorts.access(user, request.params.id);
      return sendCalendar(reply, await sessions.cohortCalendar(access.cohort), `cohort-${access.cohort.id}.ics`);
    },
  );

  fastify.get(
    '/api/v1/sessions/:id/calendar.ics',
    {
      schema: {
        summary: 'One session as an iCalendar file (cohort members)',
        tags: ['sessions'],
        params: IdParam,
        response: { 200: Calendar, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { access, session } = await sessions.getScoped(request.user, request.params.id);
      return sendCalendar(reply, sessions.sessionCalendar(access.cohort, session), `session-${session.id}.ics`);
    },
  );

  const FeedDoc = Type.Object({ url: Type.String({ description: 'The private feed address; shown only now' }), createdAt: Instant });

  fastify.post(
    '/api/v1/calendar-feed',
    {
      schema: {
        summary: 'Create or replace your private calendar-feed address (the previous one stops working)',
        tags: ['sessions'],
        response: { 201: FeedDoc, ...problemResponses(401) },
      },
    },
    async (request, reply) => {
      const user = requireUser(request);
      const feed = await sessions.createFeed(user.id);
      return reply.code(201).send({ url: feed.url, createdAt: feed.createdAt.toISOString() });
    },
  );

  fastify.get(
    '/api/v1/calendar-feed',
    {
      schema: {
        summary: 'Whether you have a private calendar feed (its address is shown only when created)',
        tags: ['sessions'],
        response: { 200: Type.Object({ active: Type.Boolean(), createdAt: Type.Union([Instant, Type.Null()]) }), ...problemResponses(401) },
      },
    },
    async (request) => {
      const user = requireUser(request);
      const feed = await sessions.activeFeed(user.id);
      return { active: Boolean(feed), createdAt: feed ? feed.createdAt.toISOString() : null };
    },
  );

  fastify.delete(
    '/api/v1/calendar-feed',
    {
      schema: {
        summary: 'Turn off your private calendar feed',
        tags: ['sessions'],
        response: { 204: Type.Null(), ...problemResponses(401) },
      },
    },
    async (request, reply) => {
      const user = requireUser(request);
      await sessions.revokeFeed(user.id);
      return reply.code(204).send(null);
    },
  );

  // The feed itself: the secret in the path is the credential (calendar apps send no cookies).
  fastify.get(
    '/calendar/:token(^[A-Za-z0-9_-]{20,200}).ics',
    { schema: { hide: true, params: Type.Object({ token: Type.String({ maxLength: 200 }) }) } },
    async (request, reply) => {
      const user = await sessions.userForFeed(request.params.token);
      if (!user) throw new NotFound('Calendar feed');
      return sendCalendar(reply, await sessions.feedCalendar(user), null);
    },
  );

  // ---- pages ----

  /** Session times for the editor and sheet pages, in the viewer's zone and the cohort's. */
  function sessionFacts(access: CohortAccess, row: SessionRow) {
    const cohort = access.cohort;
    const zone = zoneFor(access.user, cohort);
    const local = DateTime.fromJSDate(row.startsAt, { zone: cohort.timezone });
    return {
      id: row.id,
      title: row.title,
      week: row.week,
      courseTitle: cohort.course.title,
      cohortId: cohort.id,
      when: `${formatInstant(row.startsAt, zone)} to ${formatTime(row.endsAt, zone)}`,
      whenCohort: zone === cohort.timezone ? null : `${formatInstant(row.startsAt, cohort.timezone)} to ${formatTime(row.endsAt, cohort.timezone)}`,
      cohortZone: cohort.timezone,
      date: local.toISODate(),
      time: local.toFormat('HH:mm'),
      durationMinutes: Math.round((row.endsAt.getTime() - row.startsAt.getTime()) / 60_000),
      moved: row.movedDayOffset !== null,
      started: clock.now().getTime() >= row.startsAt.getTime(),
    };
  }

  function editorPage(reply: FastifyReply, access: CohortAccess, row: SessionRow, extra: Record<string, unknown> = {}, status = 200) {
    return reply.page(
      'sessions/editor',
      {
        title: `Edit ${row.title}`,
        session: sessionFacts(access, row),
        form: { joinUrl: row.joinUrl ?? '', recordingUrl: row.recordingUrl ?? '' },
        minDuration: MIN_DURATION,
        maxDuration: MAX_DURATION,
        ...extra,
      },
      status,
    );
  }

  fastify.get(
    '/teach/sessions/:id',
    { schema: { hide: true, params: IdParam, querystring: Type.Object({ saved: Type.Optional(Type.String({ maxLength: 10 })) }) } },
    async (request, reply) => {
      const { access, session } = await sessions.getScoped(requireUser(request), request.params.id, ['instructor', 'admin']);
      return editorPage(reply, access, session, { saved: request.query.saved === '1' });
    },
  );

  fastify.post(
    '/teach/sessions/:id',
    {
      schema: {
        hide: true,
        params: IdParam,
        body: Type.Object({
          joinUrl: Type.Optional(Type.String({ maxLength: 2000 })),
          recordingUrl: Type.Optional(Type.String({ maxLength: 2000 })),
          date: Type.Optional(Type.String({ maxLength: 20 })),
          time: Type.Optional(Type.String({ maxLength: 10 })),
          durationMinutes: Type.Optional(Type.String({ maxLength: 10 })),
          _csrf: Type.Optional(Type.String()),
        }),
      },
      attachValidation: true,
    },
    async (request, reply) => {
      const { access, session } = await sessions.getScoped(requireUser(request), request.params.id, ['instructor', 'admin']);
      const body = request.body ?? {};
      const form = { joinUrl: body.joinUrl ?? '', recordingUrl: body.recordingUrl ?? '' };
      const fail = (error: string) => editorPage(reply, access, session, { form, error, formDate: body.date, formTime: body.time, formDuration: body.durationMinutes }, 400);
      if (request.validationError) return fail('Check the form: links can be up to 2000 characters.');
      const facts = sessionFacts(access, session);
      const date = (body.date ?? '').trim() || facts.date!;
      const time = (body.time ?? '').trim() || facts.time;
      const durationText = (body.durationMinutes ?? '').trim();
      const duration = durationText === '' ? facts.durationMinutes : Number(durationText);
      const moving = date !== facts.date || time !== facts.time || duration !== facts.durationMinutes;
      try {
        await sessions.update(access, session, {
          joinUrl: form.joinUrl.trim() === '' ? null : form.joinUrl,
          recordingUrl: form.recordingUrl.trim() === '' ? null : form.recordingUrl,
          ...(moving ? { localStart: { date, time }, durationMinutes: duration } : {}),
        });
      } catch (err) {
        if (!(err instanceof BadInput)) throw err;
        return fail(friendly(err.field ? `${err.field} ${err.reason}` : err.message));
      }
      return reply.redirect(`${prefix}/teach/sessions/${session.id}?saved=1`, 303);
    },
  );

  async function sheetPage(reply: FastifyReply, access: CohortAccess, row: SessionRow, extra: Record<string, unknown> = {}, status = 200) {
    const learners = (await sessions.sheet(access, row)).map((l) => ({
      ...l,
      attended: l.kind === 'attended',
      watched: l.kind === 'watched',
    }));
    return reply.page(
      'sessions/attendance',
      {
        title: `Attendance: ${row.title}`,
        session: sessionFacts(access, row),
        learners,
        attendedCount: learners.filter((l) => l.kind !== null).length,
        ...extra,
      },
      status,
    );
  }

  fastify.get(
    '/teach/sessions/:id/attendance',
    { schema: { hide: true, params: IdParam, querystring: Type.Object({ saved: Type.Optional(Type.String({ maxLength: 10 })) }) } },
    async (request, reply) => {
      const { access, session } = await sessions.getScoped(requireUser(request), request.params.id, ['instructor', 'admin']);
      return sheetPage(reply, access, session, { saved: request.query.saved === '1' });
    },
  );

  fastify.post(
    '/teach/sessions/:id/attendance',
    {
      schema: {
        hide: true,
        params: IdParam,
        body: Type.Object({
          attended: Type.Optional(Type.Union([Type.String({ maxLength: 20 }), Type.Array(Type.String({ maxLength: 20 }), { maxItems: 10_000 })])),
          _csrf: Type.Optional(Type.String()),
        }),
      },
      attachValidation: true,
    },
    async (request, reply) => {
      const { access, session } = await sessions.getScoped(requireUser(request), request.params.id, ['instructor', 'admin']);
      if (request.validationError) return sheetPage(reply, access, session, { error: 'The form could not be read; reload the page and try again.' }, 400);
      const raw = request.body?.attended;
      const ids = new Set((raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]).map(Number).filter((n) => Number.isInteger(n) && n > 0));
      try {
        await sessions.saveSheet(access, session, ids);
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 409) throw err;
        return sheetPage(reply, access, session, { error: (err as Error).message }, 409);
      }
      return reply.redirect(`${prefix}/teach/sessions/${session.id}/attendance?saved=1`, 303);
    },
  );

  fastify.post(
    '/sessions/:id/watched',
    {
      schema: {
        hide: true,
        params: IdParam,
        body: Type.Object({ back: Type.Optional(Type.String({ maxLength: 500 })), _csrf: Type.Optional(Type.String()) }),
      },
      attachValidation: true,
    },
    async (request, reply) => {
      const { access, session } = await sessions.getScoped(requireUser(request), request.params.id);
      await sessions.markWatched(access, session);
      const back = safeNext(request.body?.back);
      return reply.redirect(`${prefix}${back === '/' ? `/cohorts/${access.cohort.id}` : back}`, 303);
    },
  );

  /** The calendar page: the feed (its address shown once, when made), rotate and turn off, and per-cohort downloads. */
  async function calendarPage(reply: FastifyReply, userId: number, extra: Record<string, unknown> = {}) {
    const user = requireUser(reply.request);
    const feed = await sessions.activeFeed(userId);
    const own = [];
    for (const cohort of await sessions.ownCohorts(user)) {
      own.push({
        id: cohort.id,
        title: cohort.course.title,
        starts: formatDay(cohort.timeline.startsAt, zoneFor(user, cohort)),
        zone: cohort.timezone,
        sessions: (await sessions.list(cohort)).length,
      });
    }
    const zone = user.timezone ?? own[0]?.zone ?? 'UTC';
    return reply.page('sessions/calendar', {
      title: 'Your calendar',
      feed: feed ? { createdAt: formatInstant(feed.createdAt, zone) } : null,
      cohorts: own,
      ...extra,
    });
  }

  fastify.get('/calendar', { schema: { hide: true } }, async (request, reply) => {
    const user = requireUser(request);
    return calendarPage(reply, user.id);
  });

  fastify.post('/calendar/feed', { schema: { hide: true, body: Type.Object({ _csrf: Type.Optional(Type.String()) }) }, attachValidation: true }, async (request, reply) => {
    const user = requireUser(request);
    const feed = await sessions.createFeed(user.id);
    // The address is shown on this response only: we keep just its hash.
    return calendarPage(reply, user.id, { newFeed: { url: feed.url, webcal: feed.url.replace(/^https?:/, 'webcal:') } });
  });

  fastify.post('/calendar/revoke', { schema: { hide: true, body: Type.Object({ _csrf: Type.Optional(Type.String()) }) }, attachValidation: true }, async (request, reply) => {
    const user = requireUser(request);
    const revoked = await sessions.revokeFeed(user.id);
    return calendarPage(reply, user.id, { revoked });
  });
};
export default routes;
