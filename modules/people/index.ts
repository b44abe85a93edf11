// The people module: accounts, sign-in and API tokens.
import fp from 'fastify-plugin';
import { createPeopleService, type PeopleService } from './service.js';
import routes from './routes.js';

declare module '../../server/context.js' {
  interface AppContext {
    people: PeopleService;
  }
}

export default fp(
  async (fastify) => {
    const { database, clock, mailer, baseUrl, scheduler } = fastify.cc;
    const people = createPeopleService({ database, clock, mailer, baseUrl });
    fastify.cc.people = people;
    // Client addresses are kept no longer than the sign-in limits need them.
    scheduler.register('people:forget-sign-in-links', async (now) => {
      await people.forgetOldSignInLinks(now);
    });
    await fastify.register(routes);
  },
  { name: 'people', dependencies: [] },
);
