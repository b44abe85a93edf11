// SQLite through better-sqlite3, the default engine: one embedded file.
//
// better-sqlite3 is synchronous and refuses an async transaction callback, so the runner is ours: one write
// connection behind an async mutex (BEGIN IMMEDIATE … COMMIT or ROLLBACK), and a second, read-only connection for
// every read outside a transaction. In WAL mode the reader sees only committed data, so a request reading while
// another request's transaction is open never sees its uncommitted writes.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import * as schema from './schema.js';
import { sqliteMigrationsDir } from './paths.js';
import { configureConnection } from './connection.js';
import { durabilityFrom, engineCode, transactionScope, type AppDatabase, type Db, type OpenOptions, type TransactionState } from './db.js';
import { importLegacyUploads } from './legacy-uploads.js';

export interface SqliteDatabase extends AppDatabase {
  readonly engine: 'sqlite';
  /** The database file. */
  readonly file: string;
  /** The underlying connections, for the reliability tests and the CLI's backup only. */
  readonly connections: { readonly writer: Database.Database; readonly reader: Database.Database };
}

/** Statements kept prepared per connection (each distinct SQL text the app runs; a few hundred in all). */
const STATEMENTS_KEPT = 1000;

/**
 * Keep each connection's prepared statements by their SQL text. drizzle's better-sqlite3 driver prepares a statement
 * on every execution; preparing again what was prepared before was 6 % of a cohort home's CPU samples. A statement
 * read with `raw()` (drizzle's selects) is set back to objects before another caller gets it.
 */
function keepStatements(conn: Database.Database): void {
  const prepare = conn.prepare.bind(conn);
  const kept = new Map<string, Database.Statement>();
  conn.prepare = ((source: string) => {
    let stmt = kept.get(source);
    if (stmt) {
      if (stmt.reader) stmt.raw(false);
      return stmt;
    }
    stmt = prepare(source);
    if (kept.size >= STATEMENTS_KEPT) kept.delete(kept.keys().next().value!);
    kept.set(source, stmt);
    return stmt;
  }) as typeof conn.prepare;
}

/** One transaction at a time on the write connection, in the order they asked. */
function createMutex() {
  let tail: Promise<void> = Promise.resolve();
  return {
    async acquire(): Promise<() => void> {
      let release!: () => void;
      const next = new Promise<void>((resolve) => (release = resolve));
      const before = tail;
      tail = before.then(() => next);
      await before;
      return release;
    },
  };
}

/** How long a transaction waits for another connection's write lock before it fails (as SQLite's busy timeout did). */
const BUSY_WAIT_MS = 5000;

interface OpenTransaction extends TransactionState {
  savepoints: number;
}

/**
 * Apply the migrations not yet applied, recorded in drizzle's `__drizzle_migrations` table as drizzle's migrator does,
 * all in one BEGIN IMMEDIATE transaction: a second instance starting at the same moment waits for the write lock, then
 * finds every migration applied.
 */
async function migrateLocked(conn: Database.Database, databaseDir: string): Promise<void> {
  const migrations = readMigrationFiles({ migrationsFolder: sqliteMigrationsDir });
  conn.exec('CREATE TABLE IF NOT EXISTS "__drizzle_migrations" (id INTEGER PRIMARY KEY AUTOINCREMENT, hash text NOT NULL, created_at numeric)');
  await beginImmediate(conn);
  try {
    const last = conn.prepare('SELECT created_at FROM "__drizzle_migrations" ORDER BY created_at DESC LIMIT 1').get() as { created_at: number } | undefined;
    const record = conn.prepare('INSERT INTO "__drizzle_migrations" ("hash", "created_at") VALUES (?, ?)');
    for (const m of migrations) {
      if (last && Number(last.created_at) >= m.folderMillis) continue;
      for (const statement of m.sql) if (statement.trim()) conn.exec(statement);
      record.run(m.hash, m.folderMillis);
    }
    const afterCommit = importLegacyUploads(conn, databaseDir);
    conn.exec('COMMIT');
    afterCommit?.();
  } catch (err) {
    if (conn.inTransaction) conn.exec('ROLLBACK');
    throw err;
  }
}

/** Take the write lock, waiting (without blocking the event loop) while another process or instance holds it. */
async function beginImmediate(conn: Database.Database): Promise<void> {
  const deadline = Date.now() + BUSY_WAIT_MS;
  for (let pause = 1; ; pause = Math.min(pause * 2, 50)) {
    try {
      conn.exec('BEGIN IMMEDIATE');
      return;
    } catch (err) {
      if (engineCode(err) !== 'SQLITE_BUSY' || Date.now() >= deadline) throw err;
      await new Promise((r) => setTimeout(r, pause));
    }
  }
}

/** Open (creating if needed) the database file and bring its schema up to date. */
export async function openSqlite(path: string, options: OpenOptions = {}): Promise<SqliteDatabase> {
  if (path === ':memory:') throw new Error('openDatabase needs a file: the reader and the writer are two connections to it');
  mkdirSync(dirname(path), { recursive: true });
  const durability = options.durability ?? durabilityFrom(process.env.DB_SYNCHRONOUS);
  const writer = new Database(path);
  configureConnection(writer, durability);
  const writeDb = drizzle(writer, { schema });
  // From here the writer never waits inside SQLite for another connection's write lock: a busy wait there would
  // stop this process's event loop, and with it every request, for up to the busy timeout. BEGIN IMMEDIATE is retried
  // from the event loop instead (beginImmediate).
  writer.pragma('busy_timeout = 0');
  if (options.migrate !== false) {
    await migrateLocked(writer, dirname(resolve(path)));
    // Planner statistics for every table that lacks or has outgrown them, as after a migration that (re)creates an
    // index: without them SQLite guesses. analysis_limit reads a sample of each index, so a large file starts quickly.
    writer.pragma('analysis_limit = 1000');
    writer.pragma('optimize = 0x10002');
  }
  keepStatements(writer);
  const reader = new Database(path);
  configureConnection(reader, durability);
  reader.pragma('query_only = ON');
  keepStatements(reader);

  const scope = transactionScope<OpenTransaction>();
  const { current } = scope;
  const readDb = drizzle(reader, { schema, logger: scope.readGuard });
  const mutex = createMutex();
  let closed = false;

  async function savepoint<T>(tx: OpenTransaction, fn: (tx: Db) => Promise<T>): Promise<T> {
    const name = `sp_${++tx.savepoints}`;
    const pending = tx.afterCommit.length;
    writer.exec(`SAVEPOINT ${name}`);
    try {
      const result = await fn(writeDb);
      writer.exec(`RELEASE ${name}`);
      return result;
    } catch (err) {
      writer.exec(`ROLLBACK TO ${name}`);
      writer.exec(`RELEASE ${name}`);
      tx.afterCommit.length = pending;
      throw err;
    }
  }

  return {
    engine: 'sqlite',
    file: resolve(path),
    db: readDb as Db,
    connections: { writer, reader },
    async transaction(fn) {
      const outer = current.getStore();
      if (outer?.open) return savepoint(outer, fn);
      const release = await mutex.acquire();
      try {
        if (closed) throw new Error('the database is closed');
        const tx: OpenTransaction = { open: true, savepoints: 0, afterCommit: [] };
        // IMMEDIATE takes the write lock before the first read, so another process's commit (the CLI) cannot
        // invalidate what this transaction read.
        await beginImmediate(writer);
        try {
          const result = await current.run(tx, () => fn(writeDb));
          tx.open = false;
          writer.exec('COMMIT');
          scope.committed(tx.afterCommit);
          return result;
        } catch (err) {
          tx.open = false;
          if (writer.inTransaction) writer.exec('ROLLBACK');
          throw err;
        }
      } finally {
        release();
      }
    },
    afterCommit: scope.afterCommit,
    async ping() {
      reader.prepare('select 1').get();
    },
    async backup(target) {
      mkdirSync(dirname(target), { recursive: true });
      // One step for the whole file: a stepwise copy restarts whenever another connection (the server, when
      // the CLI runs the backup) commits between steps, so under steady writes it would never finish.
      await reader.backup(target, { progress: () => 0x7fffffff });
    },
    async close() {
      if (closed) return;
      // Wait for the transaction in progress (and those queued before this call) to finish.
      const release = await mutex.acquire();
      closed = true;
      reader.close();
      writer.close();
      release();
    },
  };
}
