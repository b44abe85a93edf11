// Opens the database and runs transactions: the one place that knows which engine is underneath (SQLite today).
//
// SQLite through better-sqlite3 is synchronous and refuses an async transaction callback, so the runner is ours: one
// write connection behind an async mutex (BEGIN IMMEDIATE … COMMIT or ROLLBACK), and a second, read-only connection
// for every read outside a transaction. In WAL mode the reader sees only committed data, so a request reading while
// another request's transaction is open never sees its uncommitted writes.
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from './schema.js';
import { migrationsDir } from './paths.js';
import { configureConnection, type Durability } from './connection.js';

export { configureConnection, durabilityOf } from './connection.js';
export type { Durability } from './connection.js';

/**
 * What services query through: drizzle's builders (select, insert, update, delete, query), awaited. Transactions are
 * opened with `AppDatabase.transaction`, never on this object, and raw statements stay in server/.
 */
export type Db = Omit<BetterSQLite3Database<typeof schema>, 'transaction' | 'run' | 'get' | 'all' | 'values' | 'batch' | '$client'>;

export interface AppDatabase {
  readonly engine: 'sqlite';
  /** The database file (uploaded files are kept in an `uploads` folder beside it). */
  readonly file: string;
  /** Reads outside a transaction. It cannot write: every write goes through `transaction`. */
  readonly db: Db;
  /**
   * Run `fn` in a transaction and commit what it wrote, or roll all of it back if it throws. Every statement inside goes
   * through `tx`. Called inside another transaction (in the same async flow), it is a savepoint of that one.
   */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  /**
   * Run `fn` once the transaction in progress (in this async flow) has committed, outside it; never if it rolls back.
   * Outside a transaction, `fn` runs soon. For work that must see the change committed (waking the outbox worker).
   */
  afterCommit(fn: () => void): void;
  /** Answers when the database does (for /healthz); throws when it cannot. */
  ping(): Promise<void>;
  /** Online backup to a file (safe while the server runs). */
  backup(target: string): Promise<void>;
  /** Close the connections (after the last transaction has finished). */
  close(): Promise<void>;
  /** The underlying connections, for the reliability tests and the CLI's backup only. */
  readonly connections: { readonly writer: Database.Database; readonly reader: Database.Database };
}

/** DB_SYNCHRONOUS=full|normal (default normal); anything else is refused, so a typo cannot weaken a choice. */
export function durabilityFrom(value: string | undefined): Durability {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '' || v === 'normal') return 'normal';
  if (v === 'full') return 'full';
  throw new Error(`DB_SYNCHRONOUS must be "normal" or "full", not "${value}"`);
}

/** The engine's code for an error, whether drizzle wrapped the driver's error (DrizzleQueryError) or not. */
function engineCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  const code = e?.cause?.code ?? e?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A unique index or primary key refused the row (SQLite's code; PostgreSQL's 23505 too). */
export function isUniqueViolation(err: unknown): boolean {
  const code = engineCode(err);
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

/** A foreign key refused the row: what it points at is gone (SQLite's code; PostgreSQL's 23503 too). */
export function isForeignKeyViolation(err: unknown): boolean {
  const code = engineCode(err);
  return code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === '23503';
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

/** Thrown by a read on `db` made inside a transaction's flow: it would not see the transaction's own writes. */
export class ReadOutsideTransaction extends Error {
  constructor(query: string) {
    super(`a statement inside a transaction ran on the read connection instead of its tx: ${query.slice(0, 120)}`);
  }
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

interface OpenTransaction {
  /** False once the transaction has ended: async work it started (a timer, a kick) runs outside it. */
  open: boolean;
  savepoints: number;
  afterCommit: Array<() => void>;
}

/** Open (creating if needed) the database file and bring its schema up to date. */
export function openDatabase(path: string, options: { migrate?: boolean; durability?: Durability } = {}): AppDatabase {
  if (path === ':memory:') throw new Error('openDatabase needs a file: the reader and the writer are two connections to it');
  mkdirSync(dirname(path), { recursive: true });
  const durability = options.durability ?? durabilityFrom(process.env.DB_SYNCHRONOUS);
  const writer = new Database(path);
  configureConnection(writer, durability);
  const writeDb = drizzle(writer, { schema });
  if (options.migrate !== false) {
    migrate(writeDb, { migrationsFolder: migrationsDir });
    // Planner statistics for every table that lacks or has outgrown them, as after a migration that (re)creates an
    // index: without them SQLite guesses. analysis_limit reads a sample of each index, so a large file starts quickly.
    writer.pragma('analysis_limit = 1000');
    writer.pragma('optimize = 0x10002');
  }
  // From here the writer never waits inside SQLite for another connection's write lock: a busy wait there would
  // stop this process's event loop, and with it every request, for up to the busy timeout. BEGIN IMMEDIATE is retried
  // from the event loop instead (beginImmediate).
  writer.pragma('busy_timeout = 0');
  keepStatements(writer);
  const reader = new Database(path);
  configureConnection(reader, durability);
  reader.pragma('query_only = ON');
  keepStatements(reader);

  const current = new AsyncLocalStorage<OpenTransaction>();
  const inTransaction = () => current.getStore()?.open === true;
  const readDb = drizzle(reader, {
    schema,
    logger: {
      logQuery(query) {
        if (inTransaction()) throw new ReadOutsideTransaction(query);
      },
    },
  });
  const mutex = createMutex();
  let closed = false;

  /** Take the write lock, waiting (without blocking the event loop) while another process or instance holds it. */
  async function beginImmediate(): Promise<void> {
    const deadline = Date.now() + BUSY_WAIT_MS;
    for (let pause = 1; ; pause = Math.min(pause * 2, 50)) {
      try {
        writer.exec('BEGIN IMMEDIATE');
        return;
      } catch (err) {
        if (engineCode(err) !== 'SQLITE_BUSY' || Date.now() >= deadline) throw err;
        await new Promise((r) => setTimeout(r, pause));
      }
    }
  }

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
    db: readDb,
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
        await beginImmediate();
        try {
          const result = await current.run(tx, () => fn(writeDb));
          tx.open = false;
          writer.exec('COMMIT');
          for (const after of tx.afterCommit) current.exit(() => setImmediate(after));
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
    afterCommit(fn) {
      const tx = current.getStore();
      if (tx?.open) tx.afterCommit.push(fn);
      else current.exit(() => setImmediate(fn));
    },
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
