// The admin dashboard and cohort administration pages: list, create, capacity and instructors, move.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { DateTime } from 'luxon';
import { requireRole } from '../../server/plugins/auth.js';
import { pendingMailCount } from '../../server/mailer.js';
import { isValidZone, listZones } from '../../server/time.js';
import { normaliseEmail } from '../people/service.js';
import type { Cohort, CohortPatch } from './service.js';
import { STATE_LABELS, cohortZoneOptions, dates, keyDates, pageId } from './view-models.js';
import type { CohortState } from './timeline.js';

const IdParams = Type.Object({ id: Type.String({ maxLength: 20 }) });
const Str = (max: number) => Type.Optional(Type.String({ maxLength: max }));
const CreateForm = Type.Object({ course: Str(200), startDate: Str(100), timezone: Str(100), capacity: Str(50), instructors: Str(10_000), _csrf: Str(200) });
const EditForm = Type.Object({ capacity: Str(50), instructors: Str(10_000), _csrf: Str(200) });
const MoveForm = Type.Object({ startDate: Str(100), timezone: Str(100), _csrf: Str(200) });
const Flash = Type.Object({ created: Str(5), saved: Str(5), moved: Str(5) });

type Errors = Record<string, string>;

/** Friendly checks of the cohort form fields; each problem is named for the person fixing it. */
function readFields(body: Record<string, string | undefined>, fields: string[], courses: ReadonlySet<string>) {
  const errors: Errors = {};
  const values: { course?: string; startDate?: string; timezone?: string; capacity?: number; instructors?: string[] } = {};
  if (fields.includes('course')) {
    const course = (body.course ?? '').trim();
    if (fields.includes('course') && !courses.has(course)) errors.course = 'Choose a course.';
    values.course = course;
  }
  if (fields.includes('startDate')) {
    const startDate = (body.startDate ?? '').trim();
    if (!/^\d{4}-\d{2}-\d{2}$/.test(startDate) || !DateTime.fromISO(startDate).isValid) errors.startDate = 'Enter the start date as a real date, for example 2026-03-02.';
    values.startDate = startDate;
  }
  if (fields.includes('timezone')) {
    const timezone = (body.timezone ?? '').trim();
    if (!isValidZone(timezone)) errors.timezone = 'Choose a time zone from the list.';
    values.timezone = timezone;
  }
  if (fields.includes('capacity')) {
    const raw = (body.capacity ?? '').trim();
    const capacity = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
    if (!(capacity >= 1 && capacity <= 10_000)) errors.capacity = 'Enter the number of places as a whole number from 1 to 10000.';
    values.capacity = capacity;
  }
  if (fields.includes('instructors')) {
    const list = (body.instructors ?? '').split(/[\s,;]+/).filter(Boolean);
    const bad = list.filter((e) => {
      try {
        normaliseEmail(e);
        return false;
      } catch {
        return true;
      }
    });
    if (bad.length) errors.instructors = `“${bad[0].slice(0, 80)}” is not an email address. Enter one address per line.`;
    else if (list.length > 20) errors.instructors = 'A cohort can have up to 20 instructors.';
    values.instructors = list;
  }
  return { values, errors, error: Object.keys(errors).length ? 'Check the fields marked below.' : null };
}

const adminPages: FastifyPluginAsync = async (app) => {
  const fastify = app.withTypeProvider<TypeBoxTypeProvider>();
  const ctx = fastify.cc;
  const { cohorts, clock, prefix } = ctx;

  const courseOptions = async (selected?: string) => (await ctx.courses.list()).map((c) => ({ value: c.slug, label: c.title, selected: c.slug === selected }));
  /** The slugs of published courses, for the course field's check. */
  const courseSlugs = async () => new Set((await ctx.courses.list()).map((c) => c.slug));

  fastify.get('/admin', { schema: { hide: true } }, async (request, reply) => {
    const user = requireRole(request, 'admin');
    const now = clock.now();
    const [all, counts] = await Promise.all([cohorts.list(), cohorts.enrolledCounts()]);
    const byState = new Map<CohortState, number>();
    for (const c of all) byState.set(cohorts.state(c), (byState.get(cohorts.state(c)) ?? 0) + 1);
    const states = (Object.keys(STATE_LABELS) as CohortState[]).map((s) => ({ label: STATE_LABELS[s].label, count: byState.get(s) ?? 0 }));
    const active = all.filter((c) => ['upcoming', 'running', 'grace'].includes(cohorts.state(c)));
    return reply.page('admin/dashboard', {
      title: 'Admin',
      states,
      learners: active.reduce((n, c) => n + (counts.get(c.id) ?? 0), 0),
      pendingMail: await pendingMailCount(ctx.db),
      panels: await ctx.panels.render('admin', { user, now }),
    });
  });

  fastify.get('/admin/cohorts', { schema: { hide: true } }, async (request, reply) => {
    const user = requireRole(request, 'admin');
    const [all, counts] = await Promise.all([cohorts.list(), cohorts.enrolledCounts()]);
    const rows = await Promise.all(
      all.reverse().map(async (c) => {
        const state = STATE_LABELS[cohorts.state(c)];
        return {
          id: c.id,
          title: c.course.title,
          startDate: c.startDate,
          startDay: dates(user, c).day(c.timeline.startsAt),
          zone: c.timezone.replace(/_/g, ' '),
          stateLabel: state.label,
          stateClass: state.status,
          enrolled: counts.get(c.id) ?? 0,
          capacity: c.capacity,
          instructors: (await cohorts.instructors(c.id)).map((i) => i.name || i.email).join(', '),
          url: `${prefix}/admin/cohorts/${c.id}`,
          teachUrl: `${prefix}/teach/cohorts/${c.id}`,
        };
      }),
    );
    return reply.page('admin/cohorts', { title: 'Cohorts', cohorts: rows });
  });

  async function newModel(form: Record<string, unknown>, errors: Errors = {}, error: string | null = null) {
    return {
      title: 'New cohort',
      courses: await courseOptions(form.course as string | undefined),
      zones: cohortZoneOptions(listZones(), (form.timezone as string) || 'Europe/London'),
      form,
      errors,
      error,
    };
  }

  fastify.get('/admin/cohorts/new', { schema: { hide: true } }, async (request, reply) => {
    requireRole(request, 'admin');
    return reply.page('admin/cohort-new', await newModel({ capacity: '20', timezone: 'Europe/London' }));
  });

  fastify.post('/admin/cohorts', { schema: { hide: true, body: CreateForm }, attachValidation: true }, async (request, reply) => {
    requireRole(request, 'admin');
    const body = (request.body ?? {}) as Record<string, string | undefined>;
    if (request.validationError) return reply.page('admin/cohort-new', await newModel(body, {}, 'Some of the fields are far too long. Check them and try again.'), 400);
    const { values, errors, error } = readFields(body, ['course', 'startDate', 'timezone', 'capacity', 'instructors'], await courseSlugs());
    if (error) return reply.page('admin/cohort-new', await newModel(body, errors, error), 400);
    const cohort = await cohorts.create(values as { course: string; startDate: string; timezone: string; capacity: number; instructors: string[] });
    return reply.redirect(`${prefix}/admin/cohorts/${cohort.id}?created=1`, 303);
  });

  async function editModel(cohort: Cohort, extra: { edit?: Record<string, unknown>; move?: Record<string, unknown>; errors?: Errors; error?: string | null; flash?: Record<string, unknown> } = {}) {
    const state = STATE_LABELS[cohorts.state(cohort)];
    const [instructors, learners] = await Promise.all([cohorts.instructors(cohort.id), cohorts.learners(cohort.id).then((l) => l.length)]);
    return {
      title: `${cohort.course.title}, starting ${cohort.startDate}`,
      cohort: {
        id: cohort.id,
        title: cohort.course.title,
        startDate: cohort.startDate,
        zone: cohort.timezone,
        stateLabel: state.label,
        stateClass: state.status,
        capacity: cohort.capacity,
        learners,
        url: `${prefix}/cohorts/${cohort.id}`,
        teachUrl: `${prefix}/teach/cohorts/${cohort.id}`,
        action: `${prefix}/admin/cohorts/${cohort.id}`,
        moveAction: `${prefix}/admin/cohorts/${cohort.id}/move`,
      },
      // In the cohort's own zone: the admin is deciding the cohort's dates.
      dates: keyDates(null, cohort),
      edit: extra.edit ?? { capacity: String(cohort.capacity), instructors: instructors.map((i) => i.email).join('\n') },
      move: extra.move ?? { startDate: cohort.startDate },
      zones: cohortZoneOptions(listZones(), (extra.move?.timezone as string) || cohort.timezone),
      errors: extra.errors ?? {},
      error: extra.error ?? null,
      ...extra.flash,
    };
  }

  fastify.get('/admin/cohorts/:id', { schema: { hide: true, params: IdParams, querystring: Flash } }, async (request, reply) => {
    requireRole(request, 'admin');
    const cohort = await cohorts.get(pageId(request.params.id));
    const q = request.query;
    return reply.page(
      'admin/cohort-edit',
      await editModel(cohort, { flash: { created: q.created === '1', saved: q.saved === '1', moved: q.moved === '1', unmoved: q.moved === '0' } }),
    );
  });

  fastify.post('/admin/cohorts/:id', { schema: { hide: true, params: IdParams, body: EditForm }, attachValidation: true }, async (request, reply) => {
    requireRole(request, 'admin');
    const cohort = await cohorts.get(pageId(request.params.id));
    const body = (request.body ?? {}) as Record<string, string | undefined>;
    const { values, errors, error } = request.validationError
      ? { values: {}, errors: {}, error: 'Some of the fields are far too long. Check them and try again.' }
      : readFields(body, ['capacity', 'instructors'], new Set());
    if (error) return reply.page('admin/cohort-edit', await editModel(cohort, { edit: body, errors, error }), 400);
    await cohorts.update(cohort.id, values as CohortPatch);
    return reply.redirect(`${prefix}/admin/cohorts/${cohort.id}?saved=1`, 303);
  });

  fastify.post('/admin/cohorts/:id/move', { schema: { hide: true, params: IdParams, body: MoveForm }, attachValidation: true }, async (request, reply) => {
    requireRole(request, 'admin');
    const cohort = await cohorts.get(pageId(request.params.id));
    const body = (request.body ?? {}) as Record<string, string | undefined>;
    const { values, errors, error } = request.validationError
      ? { values: {}, errors: {}, error: 'Some of the fields are far too long. Check them and try again.' }
      : readFields(body, ['startDate', 'timezone'], new Set());
    if (error) return reply.page('admin/cohort-edit', await editModel(cohort, { move: body, errors, error }), 400);
    const same = values.startDate === cohort.startDate && values.timezone === cohort.timezone;
    if (!same) await cohorts.update(cohort.id, values as CohortPatch);
    return reply.redirect(`${prefix}/admin/cohorts/${cohort.id}?moved=${same ? 0 : 1}`, 303);
  });
};
export default adminPages;
