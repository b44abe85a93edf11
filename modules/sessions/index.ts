// The sessions module: live sessions per cohort, links, attendance, calendars, reminders and their pages.
import type { FastifyPluginAsync } from 'fastify';
import { createSessionService, type SessionService } from './service.js';
import { registerSessionPanels } from './panels.js';
import routes from './routes.js';

declare module '../../server/context.js' {
  interface AppContext {
    sessions: SessionService;
  }
}

const sessionsModule: FastifyPluginAsync = async (fastify) => {
  const ctx = fastify.cc;
  const sessions = createSessionService(ctx);
  ctx.sessions = sessions;
  // Sessions appear with a new cohort and follow it when it moves (the hook runs inside the cohort's transaction).
  ctx.cohorts.onChange((tx, cohort) => sessions.onCohortChange(tx, cohort));
  ctx.cohorts.setSessionLister((cohort) => sessions.list(cohort).map((s) => ({ id: s.id, week: s.week, startsAt: s.startsAt, endsAt: s.endsAt })));
  // Reminders are derived from the sessions' instants on each tick: moves and restarts need no rescheduling.
  ctx.scheduler.register('sessions:reminders', (now) => {
    sessions.sendReminders(now);
  });
  registerSessionPanels(ctx, sessions);
  // Cohorts made before this module existed (or before a slot was added) get their sessions now.
  try {
    sessions.ensureAll();
  } catch (err) {
    fastify.log.error({ err }, 'could not materialise live sessions for existing cohorts; they will be made on first read');
  }
  await fastify.register(routes);
};
export default sessionsModule;
