// The courses module: the catalogue of courses and their published versions, in the database, and the course editor.
import fp from 'fastify-plugin';
import { createCourseService, type CourseService } from './service.js';
import routes from './routes.js';
import pages from './pages.js';

declare module '../../server/context.js' {
  interface AppContext {
    courses: CourseService;
  }
}

export default fp(
  async (fastify) => {
    const { database, clock, events, contentDir } = fastify.cc;
    fastify.cc.courses = createCourseService({ database, clock, events, contentDir });
    // An empty database gets the bundled courses as their first versions; afterwards the database is the catalogue.
    await fastify.cc.courses.importBundled();
    await fastify.register(routes);
    await fastify.register(pages);
  },
  { name: 'courses', dependencies: [] },
);
