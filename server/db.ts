// Opens SQLite (WAL, synchronous=FULL, foreign keys, busy timeout) and applies drizzle-kit migrations.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from './schema.js';
import { migrationsDir } from './paths.js';

export type Db = BetterSQLite3Database<typeof schema>;

export interface AppDatabase {
  sqlite: Database.Database;
  db: Db;
  close(): void;
}

/** Open (creating if needed) the database file and bring its schema up to date. */
export function openDatabase(path: string, options: { migrate?: boolean } = {}): AppDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  // FULL: an acknowledged commit survives a power cut, not only a process crash.
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('temp_store = MEMORY');
  const db = drizzle(sqlite, { schema });
  if (options.migrate !== false) migrate(db, { migrationsFolder: migrationsDir });
  return { sqlite, db, close: () => sqlite.close() };
}

/** Online backup to a file (safe while the server runs). */
export async function backupDatabase(database: AppDatabase, target: string): Promise<void> {
  mkdirSync(dirname(target), { recursive: true });
  // One step for the whole file: a stepwise copy restarts whenever another connection (the server, when
  // the CLI runs the backup) commits between steps, so under steady writes it would never finish.
  await database.sqlite.backup(target, { progress: () => 0x7fffffff });
}
