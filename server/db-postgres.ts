// PostgreSQL through node-postgres (`pg`), for several app instances on one database.
//
// Transactions run at SERIALIZABLE isolation, so they behave as if one ran after another, as on SQLite: a use case
// that reads then writes (the last place of a cohort, a once-only certificate) needs no lock of its own. When
// PostgreSQL refuses to commit one of two transactions that overlapped (a serialization failure or a deadlock), the
// transaction is run again from the start, up to MAX_ATTEMPTS times.
//
// While PostgreSQL cannot be reached, every statement fails fast with DatabaseUnavailable (503 to the client), and the
// pool opens new connections by itself once it is back.
import pg from 'pg';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import * as schema from './schema.js';
import { postgresMigrationsDir } from './paths.js';
import { DatabaseUnavailable, isTransactionConflict, isUnavailable, transactionScope, type AppDatabase, type Db, type OpenOptions, type TransactionOptions, type TransactionState } from './db.js';

export interface PostgresDatabase extends AppDatabase {
  readonly engine: 'postgres';
  /** The connection pool, for the reliability tests only. */
  readonly pool: pg.Pool;
}

/** bigint (int8) values as numbers, which is what the app's columns hold (epoch milliseconds, counts, sums). */
function parseInt8(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`a bigint value beyond 2^53 cannot be read as a number: ${value}`);
  return n;
}

const INT8 = 20;

/**
 * node-postgres reads int8 as a string, and drizzle passes its own type parsers with every query (falling back to pg's
 * global ones). This client reads int8 as a number for this app's connections only, leaving the global parsers of a
 * host application untouched.
 */
class AppClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    // The server ending a connection that a request holds between two statements (a restart: 57P01) is an error event
    // on the client, which would stop the process without a listener. The next statement on it fails instead (503),
    // and the pool discards a connection that is no longer queryable when it comes back.
    this.on('error', () => {});
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override query(...args: unknown[]): any {
    const config = args[0] as { types?: { getTypeParser: (oid: number, format?: string) => unknown } } | null;
    if (config && typeof config === 'object') {
      const inner = config.types ?? pg.types;
      args[0] = {
        ...config,
        types: { getTypeParser: (oid: number, format?: string) => (oid === INT8 ? parseInt8 : inner.getTypeParser(oid, format as never)) },
      };
    }
    return (super.query as (...a: unknown[]) => unknown)(...args);
  }
}

/** A number for pg_advisory_lock: migrations of this app, whichever instance runs them. */
const MIGRATION_LOCK = 0x636f6872; // "cohr"

/**
 * How many times a transaction that collided with others runs before the request gets a 503. Under a burst (a class
 * booking and posting at once) PostgreSQL's predicate locks cover index pages, not only rows, so transactions on
 * different cohorts can collide too; each retry waits a random while, up to twice as long as the last (5 ms … 250 ms).
 * 12 attempts (about 0.4 s of waiting) ran out in the crash test under load; 25 (about 2.5 s at worst) did not.
 */
const MAX_ATTEMPTS = 25;

/** How long /healthz waits for `select 1` before it answers that the database cannot be reached. */
const PING_TIMEOUT_MS = 2_000;


interface OpenTransaction extends TransactionState {
  tx: Db & { transaction: NodePgDatabase<typeof schema>['transaction'] };
}

/** Connect to PostgreSQL at `url` and bring its schema up to date (under an advisory lock). */
export async function openPostgres(url: string, options: OpenOptions = {}): Promise<PostgresDatabase> {
  const poolSize = options.poolSize ?? (Number(process.env.DB_POOL_MAX) || 10);
  const connection = {
    connectionString: url,
    application_name: 'cohort-course',
    // A statement that runs this long is stuck (a lock never released): fail it rather than hold the request.
    statement_timeout: 30_000,
  };
  if (options.migrate !== false) await migrateLocked(connection);

  const pool = new pg.Pool({
    ...connection,
    Client: AppClient as unknown as typeof pg.Client,
    max: poolSize,
    // While PostgreSQL is unreachable, waiting for a connection ends in DatabaseUnavailable rather than a hang.
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle connection that the server closed (a restart) is an error event on the pool: without a listener it
  // would stop the process. The pool drops that connection and opens another when next asked.
  pool.on('error', () => {});

  const scope = transactionScope<OpenTransaction>();
  const { current } = scope;
  const readDb = drizzle({ client: pool, schema, logger: scope.readGuard });
  const writeDb = drizzle({ client: pool, schema });
  const running = new Set<Promise<unknown>>();
  let closed = false;

  /** Connection failures become DatabaseUnavailable, whatever layer (pool, drizzle, pg) threw them. */
  const unavailable = (err: unknown) => (isUnavailable(err) && !(err instanceof DatabaseUnavailable) ? new DatabaseUnavailable(err) : err);

  async function once<T>(on: NodePgDatabase<typeof schema>, fn: (tx: Db) => Promise<T>, isolation: TransactionOptions['isolation']): Promise<{ result: T; after: Array<() => void> }> {
    const state = { open: true, afterCommit: [] as Array<() => void> } as OpenTransaction;
    const result = await on.transaction(
      async (tx) => {
        state.tx = tx as unknown as OpenTransaction['tx'];
        try {
          return await current.run(state, () => fn(tx as unknown as Db));
        } finally {
          // Closed before COMMIT, as on SQLite: work `fn` started that outlives it runs outside the transaction.
          state.open = false;
        }
      },
      { isolationLevel: isolation ?? 'serializable' },
    );
    return { result, after: state.afterCommit };
  }

  /** Run `attempt` on one connection holding the advisory lock for `key` (held across retries, freed after). */
  async function inTurn<T>(key: string, attempt: (on: NodePgDatabase<typeof schema>) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      throw unavailable(err);
    }
    let broken: Error | undefined;
    try {
      await client.query('select pg_advisory_lock(hashtext($1))', [key]);
      return await attempt(drizzle({ client, schema }));
    } catch (err) {
      if (isUnavailable(err)) broken = err as Error;
      throw unavailable(err);
    } finally {
      if (!broken) await client.query('select pg_advisory_unlock(hashtext($1))', [key]).catch((err: Error) => (broken = err));
      // A connection whose lock state is unknown is closed rather than handed to the next request.
      client.release(broken);
    }
  }

  async function run<T>(fn: (tx: Db) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const attempts = async (on: NodePgDatabase<typeof schema>) => {
      for (let attempt = 1; ; attempt++) {
        try {
          const { result, after } = await once(on, fn, options.isolation);
          scope.committed(after);
          return result;
        } catch (err) {
          if (!isTransactionConflict(err) || attempt >= MAX_ATTEMPTS) throw unavailable(err);
          // Back off a little, more each time and at random, so the transactions that collided do not collide again.
          await new Promise((r) => setTimeout(r, Math.random() * Math.min(5 * 2 ** attempt, 250)));
        }
      }
    };
    return options.turn ? inTurn(options.turn, attempts) : attempts(writeDb);
  }

  return {
    engine: 'postgres',
    pool,
    db: readDb as unknown as Db,
    async transaction(fn, options) {
      const outer = current.getStore();
      if (outer?.open) {
        // A savepoint of the transaction in progress; its afterCommit work joins the outer list only if it commits.
        const pending = outer.afterCommit.length;
        try {
          return await outer.tx.transaction(async (sp) => fn(sp as unknown as Db));
        } catch (err) {
          outer.afterCommit.length = pending;
          throw err;
        }
      }
      if (closed) throw new Error('the database is closed');
      const p = run(fn, options);
      running.add(p);
      try {
        return await p;
      } finally {
        running.delete(p);
      }
    },
    afterCommit: scope.afterCommit,
    async ping() {
      try {
        // Bounded: through a network that drops packets without a word, a query waits for TCP to give up (minutes) and
        // the load balancer would never hear. The pool closes the connection a ping timed out on.
        await pool.query({ text: 'select 1', query_timeout: PING_TIMEOUT_MS } as pg.QueryConfig);
      } catch (err) {
        throw err instanceof DatabaseUnavailable ? err : new DatabaseUnavailable(err);
      }
    },
    async backup() {
      throw new Error('On PostgreSQL, back up with pg_dump, e.g. pg_dump --format=custom --file=cohort.dump "$DATABASE_URL" (restore with pg_restore).');
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...running]);
      await pool.end();
    },
  };
}

/** Apply pending migrations on one connection holding an advisory lock: instances starting together take turns. */
async function migrateLocked(connection: pg.ClientConfig): Promise<void> {
  const client = new AppClient({ ...connection, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    throw new DatabaseUnavailable(err);
  }
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await migrate(drizzle({ client }), { migrationsFolder: postgresMigrationsDir });
  } finally {
    await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
    await client.end().catch(() => {});
  }
}
