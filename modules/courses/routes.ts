// The catalogue: GET /api/v1/courses and the home page (a course's own page, with its cohorts, is in modules/cohorts).
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { readerLocale } from '../../server/locale.js';
import { Money } from '../../server/schemas.js';
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

  // The API gives prices raw ({ amountMinor, currency }); pages format them for the reader's Accept-Language.
  fastify.get('/', { schema: { hide: true } }, async (request, reply) => {
    const locale = readerLocale(request);
    return reply.page('courses/catalogue', { title: 'Courses', courses: (await courses.list()).map((c) => courseView(c, locale)) });
  });
};
export default routes;
