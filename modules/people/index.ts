// The people module: accounts, sign-in and API tokens.
import type { FastifyPluginAsync } from 'fastify';
import { createPeopleService, type PeopleService } from './service.js';
import routes from './routes.js';

declare module '../../server/context.js' {
  interface AppContext {
    people: PeopleService;
  }
}

const peopleModule: FastifyPluginAsync = async (fastify) => {
  fastify.cc.people = createPeopleService(fastify.cc);
  await fastify.register(routes);
};
export default peopleModule;
