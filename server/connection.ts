// The settings of a connection to the database file, kept apart from db.ts (migrations, every schema) so the post
// writer thread can configure its own connection without loading them.
import type Database from 'better-sqlite3';
import { sql, type Placeholder } from 'drizzle-orm';

export type Durability = 'normal' | 'full';

/**
 * A connection copies the WAL into the database file itself (in the committing thread) once the WAL holds this many
 * pages (about 40 MB). The background checkpointer (db.ts) has copied most of them by then; what is left is the sync,
 * which a commit then waits for. At SQLite's default (1,000 pages) the post writer ran one every ~150 ms under
 * sustained posting and those commits took up to 26 ms; at 10,000, commit time fell by about half.
 */
export const WAL_AUTOCHECKPOINT_PAGES = 10_000;

/** The settings every connection to the database file gets: the server's, the post writer's (WAL, durability, keys). */
export function configureConnection(sqlite: Database.Database, durability: Durability): void {
  sqlite.pragma('journal_mode = WAL');
  // NORMAL (with WAL): a commit survives the process crashing or being killed, and the file is never corrupted; a power
  // cut or kernel crash can lose the commits of the last moments before it. It costs no fsync per commit (about 12 µs
  // a commit on this machine against 184 µs with FULL). FULL also survives a power cut, for installs that want it.
  sqlite.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('temp_store = MEMORY');
  sqlite.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
  // After the WAL starts again from its beginning, a file that grew past this is cut back (bytes).
  sqlite.pragma(`journal_size_limit = ${WAL_AUTOCHECKPOINT_PAGES * 4096 * 2}`);
}

/** The durability an open connection was configured with (synchronous FULL is 2). */
export function durabilityOf(sqlite: Database.Database): Durability {
  return sqlite.pragma('synchronous', { simple: true }) === 2 ? 'full' : 'normal';
}

/**
 * A LIMIT written into a statement's text instead of bound to it: `.limit(fixedLimit(8))`. SQLite (3.53, as
 * better-sqlite3 builds it) reads a bound LIMIT's value while it plans, so binding any value to that parameter
 * expires the statement and the next run compiles it again, on every run. The post writer's posts-before count took
 * 12 µs a post that way and 2.8 µs with the limit in its text. Drizzle binds a number given to `.limit()`; OFFSET is
 * not affected (the thread page's offset stays a placeholder).
 */
export function fixedLimit(rows: number): Placeholder {
  if (!Number.isSafeInteger(rows) || rows < 0) throw new RangeError(`fixedLimit: ${rows} is not a number of rows`);
  // Drizzle embeds an SQL chunk given as the limit as it is; typed as a placeholder, which `.limit()` accepts.
  return sql.raw(String(rows)) as unknown as Placeholder;
}
