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
  // Client addresses are kept no longer than the sign-in limits need them.
  fastify.cc.scheduler.register('people:forget-sign-in-links', (now) => void fastify.cc.people.forgetOldSignInLinks(now));
  await fastify.register(routes);
};
export default peopleModule;
