// The courses module: the catalogue read from content/.
import type { FastifyPluginAsync } from 'fastify';
import { createCourseService, type CourseService } from './service.js';
import routes from './routes.js';

declare module '../../server/context.js' {
  interface AppContext {
    courses: CourseService;
  }
}

const coursesModule: FastifyPluginAsync = async (fastify) => {
  fastify.cc.courses = createCourseService(fastify.cc.contentDir);
  await fastify.register(routes);
};
export default coursesModule;
