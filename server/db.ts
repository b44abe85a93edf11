// Opens SQLite (WAL, synchronous NORMAL or FULL, foreign keys, busy timeout) and applies drizzle-kit migrations.
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
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
  /**
   * `fn` in a transaction (a savepoint inside one already open), as `db.transaction` does, but through one transaction
   * function built once: drizzle builds a transaction object and better-sqlite3 a wrapped function on every call, about
   * a tenth of a draft save. For the hot writes; `fn` gets the database itself, which is the same connection.
   */
  write<T>(fn: (tx: Db) => T): T;
  /** Close the connection; resolves once the background checkpointer, if any, has stopped too. */
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

// The background checkpointer: a worker thread with its own connection that copies committed pages from the WAL into
// the database file. It runs as plain JavaScript (eval), so it needs no build step or loader in either runtime.
const CHECKPOINTER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
let timer = null;
function tick() {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message) });
  }
  timer = setTimeout(tick, workerData.intervalMs);
}
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearTimeout(timer);
  db.close();
  parentPort.close();
});
tick();
`;

/**
 * Checkpoint the WAL of `path` every `intervalMs` from a worker thread, so a commit seldom pays for copying pages into
 * the database file and syncing it. On the bench database a post's commit took 120 µs with SQLite's automatic
 * checkpoints and 62 µs with none. Connections keep the automatic checkpoint as a backstop, at WAL_AUTOCHECKPOINT_PAGES
 * (connection.ts): by then most pages are already copied, and the WAL can start again from its beginning.
 *
 * Every 20 ms rather than every 100: a checkpoint ends with a sync of the database file, and while it runs another
 * thread's commit can wait for the disk. Under sustained posting the slowest commits took 16-26 ms with 100 ms between
 * checkpoints, 40-47 ms with 1 s, and 5-11 ms with 20 ms. A checkpoint with nothing to copy reads one header.
 */
export function startCheckpointer(path: string, intervalMs = 20): { stop(): Promise<void> } {
  const worker = new Worker(CHECKPOINTER_SOURCE, {
    eval: true,
    workerData: { path: resolve(path), driver: createRequire(import.meta.url).resolve('better-sqlite3'), intervalMs },
    // The worker holds nothing but a connection: a small heap keeps its memory small.
    resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
  });
  worker.unref();
  // A failed checkpoint changes nothing (the main connection's own checkpoint still runs); it is reported, not thrown.
  worker.on('message', (m: { error?: string }) => m.error && process.emitWarning(`background checkpoint failed: ${m.error}`));
  worker.on('error', (err) => process.emitWarning(`background checkpointer stopped: ${err.message}`));
  let stopped: Promise<void> | null = null;
  return {
    stop() {
      stopped ??= new Promise<void>((done) => {
        worker.once('exit', () => done());
        worker.postMessage('stop');
        setTimeout(() => void worker.terminate(), 1000).unref();
      });
      return stopped;
    },
  };
}

/**
 * Keep the planner's per-index averages (sqlite_stat1) but not ANALYZE's sample rows (sqlite_stat4). better-sqlite3
 * builds SQLite with STAT4, so a full ANALYZE (the sqlite3 shell's, or the bench generator's) keeps samples; the
 * server's own, limited by analysis_limit, keeps none. A statement whose plan was estimated from the samples for a bound
 * parameter is compiled again every time a value is bound to it, which is every time it runs: on the bench's database
 * the author-index count the post writer runs for each post took 12 µs with samples and 3 µs without. Every statement
 * here is planned for the indexes it is written for (see test/discussions/query-plans.test.ts), so the samples add
 * nothing. `ANALYZE sqlite_schema` reloads the statistics this connection plans with; connections opened later read
 * them from the file.
 */
export function dropStat4Samples(sqlite: Database.Database): void {
  const hasSamples = sqlite.prepare("select 1 from sqlite_schema where name = 'sqlite_stat4'").get() !== undefined
    && sqlite.prepare('select 1 from sqlite_stat4 limit 1').get() !== undefined;
  if (hasSamples) sqlite.exec('DELETE FROM sqlite_stat4; ANALYZE sqlite_schema;');
}

/** Open (creating if needed) the database file and bring its schema up to date. */
export function openDatabase(path: string, options: { migrate?: boolean; durability?: Durability; backgroundCheckpoint?: boolean } = {}): AppDatabase {
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
    dropStat4Samples(sqlite);
  }
  const checkpointer = options.backgroundCheckpoint && path !== ':memory:' ? startCheckpointer(path) : null;
  // The post writer thread writes through a second connection. A transaction that read before it wrote could then find
  // the file changed under it (SQLITE_BUSY_SNAPSHOT, which no busy timeout waits out), so every transaction on this
  // connection takes the write lock when it begins (IMMEDIATE), waiting for the writer's commit if it must.
  const deferred = db.transaction.bind(db);
  db.transaction = ((fn, config) => deferred(fn, { behavior: 'immediate', ...config })) as typeof db.transaction;
  const inTransaction = sqlite.transaction((fn: (tx: Db) => unknown) => fn(db));
  return {
    sqlite,
    db,
    write: <T>(fn: (tx: Db) => T) => inTransaction.immediate(fn) as T,
    close: () => {
      const stopped = checkpointer?.stop() ?? Promise.resolve();
      sqlite.close();
      return stopped;
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
