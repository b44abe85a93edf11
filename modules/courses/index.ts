// The courses module: the catalogue read from content/.
import fp from 'fastify-plugin';
import { createCourseService, type CourseService } from './service.js';
import routes from './routes.js';

declare module '../../server/context.js' {
  interface AppContext {
    courses: CourseService;
  }
}

export default fp(
  async (fastify) => {
    fastify.cc.courses = createCourseService({ contentDir: fastify.cc.contentDir });
    await fastify.register(routes);
  },
  { name: 'courses', dependencies: [] },
);
