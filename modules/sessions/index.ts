// The sessions module: live sessions per cohort, links, attendance, calendars, reminders and their pages.
import { infrastructure } from '../../server/infrastructure.js';
import fp from 'fastify-plugin';
import { createSessionService, type SessionService } from './service.js';
import { registerSessionPanels } from './panels.js';
import routes from './routes.js';

declare module '../../server/context.js' {
  interface AppContext {
    sessions: SessionService;
  }
}

export default fp(
  async (fastify) => {
    const ctx = fastify.cc;
    const sessions = createSessionService({
      ...infrastructure(ctx),
      people: ctx.people,
      courses: ctx.courses,
      cohorts: ctx.cohorts,
    });
    ctx.sessions = sessions;
    // Sessions appear with a new cohort and follow it when it moves (the reaction runs inside the cohort's transaction).
    ctx.events.on('cohort.changed', async (tx, { cohort }) => sessions.onCohortChange(tx, cohort));
    // Reminders are derived from the sessions' instants on each tick: moves and restarts need no rescheduling.
    ctx.scheduler.register('sessions:reminders', async (now) => {
      await sessions.sendReminders(now);
    });
    registerSessionPanels({ panels: ctx.panels, prefix: ctx.prefix, cohorts: ctx.cohorts }, sessions);
    // Cohorts made before this module existed (or before a slot was added) get their sessions now.
    try {
      await sessions.ensureAll();
    } catch (err) {
      fastify.log.error({ err }, 'could not materialise live sessions for existing cohorts; they will be made on first read');
    }
    await fastify.register(routes);
  },
  { name: 'sessions', dependencies: ['people', 'courses', 'cohorts'] },
);
