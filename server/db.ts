// The database: one contract (AppDatabase) over two engines. SQLite, an embedded file, is the default
// (server/db-sqlite.ts); PostgreSQL, for several app instances on one database, when given a postgres:// URL
// (server/db-postgres.ts). Services see only `Db`, drizzle's query builders, and `transaction`.
//
// The same table objects (server/schema.ts) build every query on both engines; PostgreSQL's tables are declared so
// that each column takes and gives the same JavaScript values as on SQLite (server/schema-postgres.ts says how).
import { AsyncLocalStorage } from 'node:async_hooks';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import type * as schema from './schema.js';
import type { Durability } from './connection.js';

export { durabilityOf } from './connection.js';
export type { Durability } from './connection.js';

/**
 * What services query through: drizzle's builders (select, insert, update, delete, $count), awaited. Typed with the
 * SQLite builders; the PostgreSQL builders take the same calls for everything services use. Transactions are
 * opened with `AppDatabase.transaction`, never on this object, and raw statements stay in server/.
 */
export type Db = Omit<BetterSQLite3Database<typeof schema>, 'transaction' | 'run' | 'get' | 'all' | 'values' | 'batch' | '$client' | 'query'>;

export type Engine = 'sqlite' | 'postgres';

export interface AppDatabase {
  readonly engine: Engine;
  /** Reads outside a transaction. It cannot write: every write goes through `transaction`. */
  readonly db: Db;
  /**
   * Run `fn` in a transaction and commit what it wrote, or roll all of it back if it throws. Every statement inside goes
   * through `tx`. Called inside another transaction (in the same async flow), it is a savepoint of that one.
   *
   * Transactions behave as if they ran one at a time on both engines: SQLite runs them one at a time; PostgreSQL runs
   * them at SERIALIZABLE isolation and runs `fn` again when the engine refuses to commit one (a serialization failure
   * or a deadlock), so `fn` must do nothing outside the database but through `afterCommit`.
   */
  transaction<T>(fn: (tx: Db) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * Run `fn` once the transaction in progress (in this async flow) has committed, outside it; never if it rolls back.
   * Outside a transaction, `fn` runs soon. For work that must see the change committed (waking the outbox worker).
   */
  afterCommit(fn: () => void): void;
  /** Answers when the database does (for /healthz); throws DatabaseUnavailable when it cannot. */
  ping(): Promise<void>;
  /** Online backup to a file (SQLite; safe while the server runs). PostgreSQL refuses, naming pg_dump. */
  backup(target: string): Promise<void>;
  /** Close the connections (after the transactions in progress have finished). */
  close(): Promise<void>;
}

export interface TransactionOptions {
  /**
   * PostgreSQL only: 'read committed' for a queue claim that locks its rows itself (skipLocked), where serializable
   * would make workers on several instances fail over each other's claims. SQLite runs every transaction alone.
   */
  isolation?: 'serializable' | 'read committed';
  /**
   * Transactions naming the same key take turns, each starting after the one before has committed: for a hot spot
   * many people write at once (a cohort's places). On PostgreSQL a session advisory lock taken before BEGIN, so
   * each turn reads a fresh snapshot instead of failing serialization and retrying; SQLite runs every write alone.
   */
  turn?: string;
}

export interface OpenOptions {
  /** Apply pending migrations (default true), under a lock so that instances starting together are safe. */
  migrate?: boolean;
  /** SQLite only: synchronous=normal (default) or full. */
  durability?: Durability;
  /** PostgreSQL only: connections per instance (default DB_POOL_MAX, else 10). */
  poolSize?: number;
}

/**
 * Run a select that claims queue rows with `FOR UPDATE SKIP LOCKED` on PostgreSQL (rows another instance is claiming
 * are passed over, not waited for); on SQLite, where the transaction holds the only write lock, as it is.
 */
export function skipLocked<T>(database: AppDatabase, query: PromiseLike<T>): PromiseLike<T> {
  if (database.engine !== 'postgres') return query;
  return (query as unknown as { for(strength: 'update', config: { skipLocked: boolean }): PromiseLike<T> }).for('update', { skipLocked: true });
}

/** A postgres:// (or postgresql://) URL, as against a SQLite file path. */
export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

/** Open the database named by a SQLite file path or a PostgreSQL URL, and bring its schema up to date. */
export async function openDatabase(target: string, options: OpenOptions = {}): Promise<AppDatabase> {
  if (isPostgresUrl(target)) {
    const { openPostgres } = await import('./db-postgres.js');
    return openPostgres(target, options);
  }
  const { openSqlite } = await import('./db-sqlite.js');
  return openSqlite(target, options);
}

/** DB_SYNCHRONOUS=full|normal (default normal); anything else is refused, so a typo cannot weaken a choice. */
export function durabilityFrom(value: string | undefined): Durability {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '' || v === 'normal') return 'normal';
  if (v === 'full') return 'full';
  throw new Error(`DB_SYNCHRONOUS must be "normal" or "full", not "${value}"`);
}

/** The engine's code for an error, whether drizzle wrapped the driver's error (DrizzleQueryError) or not. */
export function engineCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  const code = e?.cause?.code ?? e?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * The engine refused the transaction because it overlapped another (PostgreSQL's 40001 serialization failure or 40P01
 * deadlock): it did nothing and runs again as a whole. Never swallow one inside a transaction (a savepoint that caught
 * it leaves the transaction doomed): rethrow it so the transaction retries.
 */
export function isTransactionConflict(err: unknown): boolean {
  const code = engineCode(err);
  return code === '40001' || code === '40P01';
}

/** A unique index or primary key refused the row (SQLite's codes; PostgreSQL's 23505). */
export function isUniqueViolation(err: unknown): boolean {
  const code = engineCode(err);
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

/** A foreign key refused the row: what it points at is gone (SQLite's code; PostgreSQL's 23503). */
export function isForeignKeyViolation(err: unknown): boolean {
  const code = engineCode(err);
  return code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === '23503';
}

/** Thrown by a read on `db` made inside a transaction's flow: it would not see the transaction's own writes. */
export class ReadOutsideTransaction extends Error {
  constructor(query: string) {
    super(`a statement inside a transaction ran on the read connection instead of its tx: ${query.slice(0, 120)}`);
  }
}

/** What either engine keeps for the transaction in progress in an async flow. */
export interface TransactionState {
  /** False once the transaction has ended: async work it started (a timer, a kick) runs outside it. */
  open: boolean;
  afterCommit: Array<() => void>;
}

/**
 * The per-flow bookkeeping both engines share: which transaction this async flow is in, the refusal of reads on `db`
 * inside it (a drizzle logger for the read connection), and work queued to run once it has committed.
 */
export function transactionScope<T extends TransactionState>() {
  const current = new AsyncLocalStorage<T>();
  return {
    current,
    readGuard: {
      logQuery(query: string) {
        if (current.getStore()?.open) throw new ReadOutsideTransaction(query);
      },
    },
    afterCommit(fn: () => void) {
      const tx = current.getStore();
      if (tx?.open) tx.afterCommit.push(fn);
      else current.exit(() => setImmediate(fn));
    },
    /** Run what a committed transaction queued, each outside it. */
    committed(queued: Array<() => void>) {
      for (const fn of queued) current.exit(() => setImmediate(fn));
    },
  };
}

/**
 * The database cannot be reached (PostgreSQL down, restarting, out of connections). Requests answer 503 with
 * Retry-After; the pool reconnects by itself when the server is back.
 */
export class DatabaseUnavailable extends Error {
  constructor(cause?: unknown) {
    super('The database cannot be reached just now.', { cause });
    this.name = 'DatabaseUnavailable';
  }
}

/** Connection-level failures from either engine's driver (never a refusal of the statement itself). */
export function isUnavailable(err: unknown): boolean {
  if (err instanceof DatabaseUnavailable) return true;
  for (let e = err as { code?: unknown; message?: unknown; cause?: unknown } | null, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    const code = typeof e.code === 'string' ? e.code : '';
    // Connection refused or dropped; PostgreSQL shutting down (57P01..57P03), connection exceptions (08xxx), too many
    // connections (53300).
    if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', '57P01', '57P02', '57P03', '53300'].includes(code)) return true;
    if (code.startsWith('08')) return true;
    const message = typeof e.message === 'string' ? e.message : '';
    if (/Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended unexpectedly/i.test(message)) return true;
  }
  return false;
}
