// The application context: infrastructure and every module's service, shared by routes, CLI and scheduler.
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from './clock.js';
import type { AppDatabase, Db } from './db.js';
import type { Mailer } from './mailer.js';
import type { Scheduler } from './scheduler.js';
import type { Panels } from './panels.js';
import type { Events } from './events.js';

/** Modules add their services here by declaration merging (see modules/<name>/index.ts). */
export interface AppContext {
  database: AppDatabase;
  /** Reads outside a transaction (writes go through database.transaction). */
  db: Db;
  clock: Clock;
  mailer: Mailer;
  scheduler: Scheduler;
  /** Sections modules add to shared pages. */
  panels: Panels;
  /** Domain events: how one module reacts to a change in another, inside its transaction. */
  events: Events;
  baseUrl: string;
  /** The URL prefix the plugin is mounted under ('' at the root). */
  prefix: string;
  log: FastifyBaseLogger;
  /** Folder the course content was loaded from. */
  contentDir: string;
}
