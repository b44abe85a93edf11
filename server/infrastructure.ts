// What every module's service is built from besides the services of the modules it uses.
import type { AppContext } from './context.js';
import type { AppDatabase } from './db.js';
import type { Clock } from './clock.js';
import type { Events } from './events.js';
import type { Mailer } from './mailer.js';

export interface Infrastructure {
  database: AppDatabase;
  clock: Clock;
  mailer: Mailer;
  events: Events;
  /** The absolute URL of the plugin's root (prefix included): links in emails, calendars and credentials. */
  baseUrl: string;
}

/** The infrastructure part of the application context, for a module's index.ts to build its service with. */
export function infrastructure(ctx: AppContext): Infrastructure {
  return { database: ctx.database, clock: ctx.clock, mailer: ctx.mailer, events: ctx.events, baseUrl: ctx.baseUrl };
}
