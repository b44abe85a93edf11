// The catalogue: GET /api/v1/courses, the home page and a page per course.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Money } from '../../server/schemas.js';
import { formatMoney } from './service.js';
import type { Course } from './content.js';

const weekdayNames = ['', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

const views = new WeakMap<Course, ReturnType<typeof buildCourseView>>();

/** The page model of a course card and course page (made once per course: course files do not change while running). */
function courseView(c: Course) {
  let v = views.get(c);
  if (!v) {
    v = buildCourseView(c);
    views.set(c, v);
  }
  return v;
}

function buildCourseView(c: Course) {
  return {
    slug: c.slug,
    title: c.title,
    summary: c.summary,
    descriptionHtml: c.descriptionHtml,
    audience: c.audience,
    outcomes: c.outcomes,
    weekCount: c.weekCount,
    hoursPerWeek: c.hoursPerWeek,
    price: formatMoney(c.price),
    sessionCount: c.sessions.length,
    certificate: c.certificate,
    weeks: c.weeks.map((w) => ({
      number: w.number,
      title: w.title,
      summary: w.summary,
      session: c.sessions
        .filter((s) => s.week === w.number)
        .map((s) => ({ title: s.title, when: `${weekdayNames[s.weekday]} ${s.time}`, minutes: s.durationMinutes })),
    })),
  };
}

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
    async () => courses.list().map((c) => courses.summary(c)),
  );

  fastify.get('/', { schema: { hide: true } }, async (_request, reply) => {
    return reply.page('courses/catalogue', { title: 'Courses', courses: courses.list().map(courseView) });
  });

  fastify.get('/courses/:slug', { schema: { hide: true, params: Type.Object({ slug: Type.String({ maxLength: 100 }) }) } }, async (request, reply) => {
    const course = courses.get(request.params.slug);
    // The dates come from cohorts, a module registered after this one: read when a page is asked for, not at start.
    const upcoming = await fastify.cc.cohorts.upcomingForCourse(course.slug, request.user);
    return reply.page('courses/course', { title: course.title, course: courseView(course), cohorts: upcoming });
  });
};
export default routes;
