// Cohort pages for people: my courses, the cohort home, the week page, and the instructor's cohort pages.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Forbidden } from '../../server/errors.js';
import { requireRole, requireUser } from '../../server/plugins/auth.js';
import { courseView } from '../courses/view-models.js';
import { readerLocale } from '../../server/locale.js';
import type { CohortAccess } from './service.js';
import { STATE_LABELS, dates, keyDates, myCard, pageId, pageWeek, weekPlan, type OwnDates } from './view-models.js';

const IdParams = Type.Object({ id: Type.String({ maxLength: 20 }) });
const WeekParams = Type.Object({ id: Type.String({ maxLength: 20 }), n: Type.String({ maxLength: 10 }) });
const Flash = Type.Object({ saved: Type.Optional(Type.String({ maxLength: 10 })), reset: Type.Optional(Type.String({ maxLength: 10 })) });
export const MAX_TITLE = 200;
export const MAX_MARKDOWN = 100_000;

const pages: FastifyPluginAsync = async (app) => {
  const fastify = app.withTypeProvider<TypeBoxTypeProvider>();
  const ctx = fastify.cc;
  const { cohorts, clock, prefix } = ctx;

  /**
   * A learner's own dates (extensions), from the assignments module. It is registered after this one (it depends on
   * cohorts), so it is read at request time, when every module is loaded.
   */
  async function ownDates(cohortId: number, userId: number): Promise<OwnDates> {
    return ctx.assignments.personalDates(cohortId, userId);
  }
  async function learnerDates(access: CohortAccess): Promise<OwnDates | null> {
    return access.role === 'learner' ? ownDates(access.cohort.id, access.user.id) : null;
  }

  /** The heading facts every cohort page shares. */
  function cohortHeader(access: CohortAccess) {
    const { cohort, role } = access;
    const state = STATE_LABELS[cohorts.state(cohort)];
    return {
      id: cohort.id,
      title: cohort.course.title,
      courseSlug: cohort.courseSlug,
      startDay: dates(access.user, cohort).day(cohort.timeline.startsAt),
      stateLabel: state.label,
      stateClass: state.status,
      stateHint: state.hint,
      isStaff: role !== 'learner',
      url: `${prefix}/cohorts/${cohort.id}`,
      teachUrl: `${prefix}/teach/cohorts/${cohort.id}`,
    };
  }

  // ---- a course's page: what it is and its upcoming cohorts (this module depends on courses) ----

  fastify.get('/courses/:slug', { schema: { hide: true, params: Type.Object({ slug: Type.String({ maxLength: 100 }) }) } }, async (request, reply) => {
    const course = await ctx.courses.latest(request.params.slug);
    const upcoming = await cohorts.upcomingForCourse(course.slug, request.user);
    return reply.page('courses/course', { title: course.title, course: courseView(course, readerLocale(request)), cohorts: upcoming });
  });

  // ---- learners (and everyone in the cohort) ----

  fastify.get('/my', { schema: { hide: true } }, async (request, reply) => {
    const user = requireUser(request);
    const now = clock.now();
    const cards = await Promise.all(
      (await cohorts.memberships(user)).map(async ({ cohort, role }) =>
        myCard(cohort, role, await cohorts.overview(cohort, now), user, prefix, role === 'learner' ? await ownDates(cohort.id, user.id) : null),
      ),
    );
    const finished = (s: string) => s === 'closed' || s === 'archived';
    return reply.page('cohorts/my', {
      title: 'My courses',
      current: cards.filter((c) => !finished(c.state)),
      finished: cards.filter((c) => finished(c.state)),
      none: cards.length === 0,
      isStaff: user.role !== 'learner',
      panels: await ctx.panels.render('my', { user, now }),
    });
  });

  fastify.get('/cohorts/:id', { schema: { hide: true, params: IdParams } }, async (request, reply) => {
    const access = await cohorts.access(request.user, pageId(request.params.id));
    const now = clock.now();
    const own = await learnerDates(access);
    return reply.page('cohorts/home', {
      title: access.cohort.course.title,
      cohort: cohortHeader(access),
      dates: keyDates(access.user, access.cohort, own),
      weeks: weekPlan(await cohorts.weeks(access.cohort), access.cohort, access.user, access.role, now, prefix, own),
      panels: await ctx.panels.render('cohort-home', { access, now }),
    });
  });

  fastify.get('/cohorts/:id/weeks/:n', { schema: { hide: true, params: WeekParams, querystring: Flash } }, async (request, reply) => {
    const access = await cohorts.access(request.user, pageId(request.params.id));
    const { cohort } = access;
    const n = pageWeek(request.params.n, cohort);
    const now = clock.now();
    const d = dates(access.user, cohort);
    const t = cohort.timeline.weeks[n - 1];
    if (access.role === 'learner' && now.getTime() < t.opensAt.getTime()) {
      throw new Forbidden(`Week ${n} opens on ${d.at(t.opensAt)}. Come back then: we will email you when it opens.`);
    }
    cohorts.assertWeekOpen(access, n);
    const [week, titles, own] = await Promise.all([cohorts.week(cohort, n), cohorts.weeks(cohort), learnerDates(access)]);
    const readable = (k: number) => k >= 1 && k <= cohort.course.weekCount && (access.role !== 'learner' || cohort.timeline.weeks[k - 1].opensAt.getTime() <= now.getTime());
    const link = (k: number) => (readable(k) ? { number: k, title: titles[k - 1].title, url: `${prefix}/cohorts/${cohort.id}/weeks/${k}` } : null);
    return reply.page('cohorts/week', {
      title: `${week.title} · ${cohort.course.title}`,
      cohort: cohortHeader(access),
      week: {
        number: n,
        title: week.title,
        html: week.html,
        edited: week.edited,
        readings: week.source.readings,
        opensAt: d.at(t.opensAt),
        dueAt: week.source.assignment ? d.at(own?.dueAt(n) ?? t.dueAt) : null,
        zone: d.zoneLabel,
        editUrl: `${prefix}/teach/cohorts/${cohort.id}/weeks/${n}/edit`,
      },
      saved: request.query.saved === '1',
      prev: link(n - 1),
      next: link(n + 1),
      panels: await ctx.panels.render('week', { access, week: n, now }),
    });
  });

  // ---- instructors (and admins) ----

  fastify.get('/teach', { schema: { hide: true } }, async (request, reply) => {
    const user = requireRole(request, 'instructor', 'admin');
    const now = clock.now();
    const [counts, taught] = await Promise.all([cohorts.enrolledCounts(), cohorts.taughtBy(user)]);
    const rows = taught.map((cohort) => {
      const state = STATE_LABELS[cohorts.state(cohort)];
      const n = cohort.timeline.weeks.filter((w) => w.opensAt.getTime() <= now.getTime()).length;
      return {
        id: cohort.id,
        title: cohort.course.title,
        startDay: dates(user, cohort).day(cohort.timeline.startsAt),
        zone: cohort.timezone.replace(/_/g, ' '),
        stateLabel: state.label,
        stateClass: state.status,
        week: n > 0 && n <= cohort.course.weekCount ? n : null,
        weekCount: cohort.course.weekCount,
        enrolled: counts.get(cohort.id) ?? 0,
        url: `${prefix}/teach/cohorts/${cohort.id}`,
      };
    });
    return reply.page('teach/dashboard', { title: 'Teaching', cohorts: rows, isAdmin: user.role === 'admin' });
  });

  fastify.get('/teach/cohorts/:id', { schema: { hide: true, params: IdParams, querystring: Flash } }, async (request, reply) => {
    const access = await cohorts.access(request.user, pageId(request.params.id), ['instructor', 'admin']);
    const { cohort } = access;
    const now = clock.now();
    const d = dates(access.user, cohort);
    const reset = Number(request.query.reset) || null;
    // Staff only: no learner's own dates here.
    const [titles, instructors, roster, latest] = await Promise.all([cohorts.weeks(cohort), cohorts.instructors(cohort.id), cohorts.roster(cohort.id), ctx.courses.latestVersion(cohort.courseSlug)]);
    return reply.page('teach/cohort', {
      title: `${cohort.course.title}: plan and learners`,
      cohort: cohortHeader(access),
      dates: keyDates(access.user, cohort),
      weeks: weekPlan(titles, cohort, access.user, access.role, now, prefix),
      resetWeek: reset && reset <= cohort.course.weekCount ? reset : null,
      instructors,
      learners: roster.map((l) => ({ ...l, name: l.name || l.email, enrolledOn: d.day(l.enrolledAt) })),
      capacity: cohort.capacity,
      isAdmin: access.role === 'admin',
      adminUrl: `${prefix}/admin/cohorts/${cohort.id}`,
      versionUrl: `${prefix}/teach/cohorts/${cohort.id}/course-version`,
      courseVersion: cohort.courseVersion,
      newerVersion: latest !== null && latest > cohort.courseVersion ? latest : null,
      panels: await ctx.panels.render('cohort-staff', { access, now }),
    });
  });

  async function editModel(access: CohortAccess, n: number, form?: { title: string; markdown: string }, error?: string) {
    const { cohort } = access;
    const week = await cohorts.week(cohort, n);
    return {
      title: `Edit week ${n} · ${cohort.course.title}`,
      cohort: cohortHeader(access),
      week: {
        number: n,
        edited: week.edited,
        courseTitle: week.source.title,
        action: `${prefix}/teach/cohorts/${cohort.id}/weeks/${n}/edit`,
        viewUrl: `${prefix}/cohorts/${cohort.id}/weeks/${n}`,
      },
      form: form ?? { title: week.title, markdown: week.markdown },
      maxTitle: MAX_TITLE,
      maxMarkdown: MAX_MARKDOWN,
      error,
    };
  }

  fastify.get('/teach/cohorts/:id/weeks/:n/edit', { schema: { hide: true, params: WeekParams } }, async (request, reply) => {
    const access = await cohorts.access(request.user, pageId(request.params.id), ['instructor', 'admin']);
    const n = pageWeek(request.params.n, access.cohort);
    return reply.page('teach/week-edit', await editModel(access, n));
  });

  fastify.post(
    '/teach/cohorts/:id/weeks/:n/edit',
    {
      schema: {
        hide: true,
        params: WeekParams,
        body: Type.Object({
          title: Type.Optional(Type.String({ maxLength: 2000 })),
          markdown: Type.Optional(Type.String({ maxLength: 2 * MAX_MARKDOWN })),
          action: Type.Optional(Type.String({ maxLength: 20 })),
          _csrf: Type.Optional(Type.String()),
        }),
      },
      attachValidation: true,
    },
    async (request, reply) => {
      const access = await cohorts.access(request.user, pageId(request.params.id), ['instructor', 'admin']);
      const { cohort } = access;
      const n = pageWeek(request.params.n, cohort);
      const body = (request.body ?? {}) as { title?: string; markdown?: string; action?: string };
      if (body.action === 'reset') {
        await cohorts.resetWeek(cohort, n);
        return reply.redirect(`${prefix}/teach/cohorts/${cohort.id}?reset=${n}`, 303);
      }
      const title = String(body.title ?? '').trim();
      // Browsers send textarea line breaks as CRLF; store what the author sees.
      const markdown = String(body.markdown ?? '').replace(/\r\n?/g, '\n');
      const form = { title, markdown };
      let error: string | null = null;
      if (request.validationError) error = `The text is too long: keep the title under ${MAX_TITLE} characters and the week's text under ${MAX_MARKDOWN.toLocaleString('en-GB')}.`;
      else if (!title) error = "Enter the week's title.";
      else if (title.length > MAX_TITLE) error = `Keep the title to ${MAX_TITLE} characters or fewer (it has ${title.length}).`;
      else if (!markdown.trim()) error = "Write the week's text, or use “Reset to the course text”.";
      else if (markdown.length > MAX_MARKDOWN) error = `Keep the week's text to ${MAX_MARKDOWN.toLocaleString('en-GB')} characters or fewer.`;
      if (error) return reply.page('teach/week-edit', await editModel(access, n, form, error), 400);
      const source = cohort.course.weeks[n - 1];
      // What equals the course file is not an edit: the course file stays the default for that part.
      await cohorts.editWeek(cohort, n, access.user.id, {
        title: title === source.title ? null : title,
        markdown: markdown.trim() === source.markdown.trim() ? null : markdown,
      });
      return reply.redirect(`${prefix}/cohorts/${cohort.id}/weeks/${n}?saved=1`, 303);
    },
  );
};
export default pages;
