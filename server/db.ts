// Opens SQLite (WAL, synchronous NORMAL or FULL, foreign keys, busy timeout) and applies drizzle-kit migrations.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from './schema.js';
import { migrationsDir } from './paths.js';
import { configureConnection, type Durability } from './connection.js';

export { configureConnection, durabilityOf } from './connection.js';

export type Db = BetterSQLite3Database<typeof schema>;

export interface AppDatabase {
  sqlite: Database.Database;
  db: Db;
  /** Close the connection. */
  close(): Promise<void>;
}

export type { Durability } from './connection.js';

/** DB_SYNCHRONOUS=full|normal (default normal); anything else is refused, so a typo cannot weaken a choice. */
export function durabilityFrom(value: string | undefined): Durability {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '' || v === 'normal') return 'normal';
  if (v === 'full') return 'full';
  throw new Error(`DB_SYNCHRONOUS must be "normal" or "full", not "${value}"`);
}

/** Open (creating if needed) the database file and bring its schema up to date. */
export function openDatabase(path: string, options: { migrate?: boolean; durability?: Durability } = {}): AppDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new Database(path);
  configureConnection(sqlite, options.durability ?? durabilityFrom(process.env.DB_SYNCHRONOUS));
  const db = drizzle(sqlite, { schema });
  if (options.migrate !== false) {
    migrate(db, { migrationsFolder: migrationsDir });
    // Planner statistics for every table that lacks or has outgrown them, as after a migration that (re)creates an
    // index: without them SQLite guesses. analysis_limit reads a sample of each index, so a large file starts quickly.
    sqlite.pragma('analysis_limit = 1000');
    sqlite.pragma('optimize = 0x10002');
  }
  return {
    sqlite,
    db,
    close: async () => {
      sqlite.close();
    },
  };
}

/** Online backup to a file (safe while the server runs). */
export async function backupDatabase(database: AppDatabase, target: string): Promise<void> {
  mkdirSync(dirname(target), { recursive: true });
  // One step for the whole file: a stepwise copy restarts whenever another connection (the server, when
  // the CLI runs the backup) commits between steps, so under steady writes it would never finish.
  await database.sqlite.backup(target, { progress: () => 0x7fffffff });
}
