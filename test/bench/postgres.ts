// PostgreSQL for the benchmark: which server to use, its settings (durable, as a deployment runs it), a copy of the
// generated SQLite install in it, and what the server itself spends during a scenario (CPU, statements).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openDatabase } from '../../server/db.js';

export interface BenchServer {
  /** Any database on the server (the benchmark makes databases of its own on it). */
  url: string;
  /** The throwaway cluster scripts/with-postgres.sh started for this run: its data folder (for its CPU time). */
  ownCluster: string | null;
}

/**
 * The server named by BENCH_DATABASE_URL, else the throwaway cluster when running under scripts/with-postgres.sh;
 * null when neither. A TEST_DATABASE_URL from elsewhere is not used: the benchmark creates and drops databases and
 * restarts its own cluster, which it must not do to someone else's.
 */
export function benchServer(): BenchServer | null {
  if (process.env.BENCH_DATABASE_URL) return { url: process.env.BENCH_DATABASE_URL, ownCluster: null };
  if (process.env.TEST_DATABASE_URL && process.env.PG_TEST_DATA) return { url: process.env.TEST_DATABASE_URL, ownCluster: process.env.PG_TEST_DATA };
  return null;
}

/** Debian's PostgreSQL server programs are installed, so scripts/with-postgres.sh can start a throwaway cluster. */
export function clusterProgramsInstalled(): boolean {
  const dir = '/usr/lib/postgresql';
  return existsSync(dir) && readdirSync(dir).some((v) => existsSync(`${dir}/${v}/bin/initdb`));
}

/** The URL of database `name` on the server at `url`. */
export function databaseUrl(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Restart the throwaway cluster that scripts/with-postgres.sh started (set up for tests: fsync off) with PostgreSQL's
 * own durability defaults, fsync and full_page_writes on and each commit waiting for its WAL flush
 * (BENCH_PG_SYNCHRONOUS_COMMIT=off makes commits not wait, which is what SQLite's synchronous=NORMAL does). Also
 * loads pg_stat_statements to count the statements a request makes, and gives it the memory a small deployment would.
 */
export function restartClusterDurable(): void {
  const { PG_TEST_BIN: bin, PG_TEST_DATA: data, PG_TEST_PORT: port, PG_TEST_SOCKETS: sockets } = process.env;
  if (!bin || !data || !port || !sockets) throw new Error('restartClusterDurable: not under scripts/with-postgres.sh');
  const commit = process.env.BENCH_PG_SYNCHRONOUS_COMMIT ?? 'on';
  if (!['on', 'off'].includes(commit)) throw new Error(`BENCH_PG_SYNCHRONOUS_COMMIT must be on or off, not ${commit}`);
  const options = [
    `-p ${port} -k ${sockets} -c listen_addresses=127.0.0.1`,
    '-c fsync=on -c full_page_writes=on',
    `-c synchronous_commit=${commit}`,
    '-c shared_buffers=512MB -c max_wal_size=4GB -c shared_preload_libraries=pg_stat_statements',
  ].join(' ');
  const command = `${bin}/pg_ctl -D ${data} -l ${sockets}/log -m fast -w -o "${options}" restart`;
  if (process.getuid?.() === 0) execFileSync('su', ['postgres', '-s', '/bin/sh', '-c', command], { stdio: 'ignore' });
  else execFileSync('sh', ['-c', command], { stdio: 'ignore' });
}

/** The server's settings that decide what its numbers mean. */
export async function serverSettings(url: string): Promise<Record<string, string>> {
  return withClient(url, async (c) => {
    const names = ['server_version', 'fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers', 'max_connections'];
    const { rows } = await c.query<{ name: string; setting: string }>('select name, current_setting(name) as setting from unnest($1::text[]) as name', [names]);
    return Object.fromEntries(rows.map((r) => [r.name, r.setting]));
  });
}

/** Milliseconds of one `select 1` from here and back, on an idle connection (the floor under every statement). */
export async function roundTripMs(url: string, n = 2000): Promise<number> {
  return withClient(url, async (c) => {
    for (let i = 0; i < 200; i++) await c.query('select 1');
    const t = performance.now();
    for (let i = 0; i < n; i++) await c.query('select 1');
    return (performance.now() - t) / n;
  });
}

/** Tables in an order where each comes after the tables its foreign keys point at. */
function inKeyOrder(sqlite: Database.Database, tables: string[]): string[] {
  const wanted = new Set(tables);
  const done = new Set<string>();
  const order: string[] = [];
  const visit = (t: string, path: Set<string>) => {
    if (done.has(t) || path.has(t)) return;
    path.add(t);
    for (const fk of sqlite.prepare(`PRAGMA foreign_key_list("${t}")`).all() as Array<{ table: string }>) {
      if (wanted.has(fk.table) && fk.table !== t) visit(fk.table, path);
    }
    done.add(t);
    order.push(t);
  };
  for (const t of tables) visit(t, new Set());
  return order;
}

const BATCH = 5000;

/**
 * Make database `name` on the server a copy of the SQLite install at `sqlitePath`: migrated by the app, then every
 * row of every table copied as stored (the PostgreSQL columns take SQLite's values: epoch ms, 0/1, text, bytes), the
 * identity sequences moved past the copied ids, then VACUUM ANALYZE. Both engines then serve the very same install.
 */
export async function copyFromSqlite(sqlitePath: string, server: string, name: string): Promise<{ seconds: number; rows: number }> {
  const started = Date.now();
  await withClient(databaseUrl(server, 'postgres'), async (c) => {
    await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await c.query(`CREATE DATABASE "${name}"`);
  });
  const url = databaseUrl(server, name);
  await (await openDatabase(url)).close();
  const sqlite = new Database(sqlitePath, { readonly: true });
  let rows = 0;
  try {
    await withClient(url, async (c) => {
      const columns = (
        await c.query<{ table_name: string; column_name: string; udt_name: string; is_identity: string }>(
          `select table_name, column_name, udt_name, is_identity from information_schema.columns
           where table_schema = 'public' and is_generated = 'NEVER' order by table_name, ordinal_position`,
        )
      ).rows;
      const sqliteTables = new Set((sqlite.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as Array<{ name: string }>).map((r) => r.name));
      const pgTables = [...new Set(columns.map((col) => col.table_name))].filter((t) => t !== '__drizzle_migrations' && sqliteTables.has(t));
      // Rows the migrations themselves wrote (if any) give way to the copy.
      await c.query(`TRUNCATE ${pgTables.map((t) => `"${t}"`).join(', ')} CASCADE`);
      for (const table of inKeyOrder(sqlite, pgTables)) {
        const inSqlite = new Set((sqlite.prepare(`PRAGMA table_info("${table}")`).all() as Array<{ name: string }>).map((r) => r.name));
        const cols = columns.filter((col) => col.table_name === table && inSqlite.has(col.column_name));
        const insert =
          `INSERT INTO "${table}" (${cols.map((col) => `"${col.column_name}"`).join(', ')}) ` +
          `SELECT * FROM unnest(${cols.map((col, i) => `$${i + 1}::${col.udt_name}[]`).join(', ')})`;
        const flush = async (batch: unknown[][]) => {
          if (batch.length === 0) return;
          await c.query(insert, cols.map((_col, i) => batch.map((r) => r[i])));
          rows += batch.length;
        };
        let batch: unknown[][] = [];
        const read = sqlite.prepare(`SELECT ${cols.map((col) => `"${col.column_name}"`).join(', ')} FROM "${table}"`).raw();
        for (const row of read.iterate() as IterableIterator<unknown[]>) {
          batch.push(row);
          if (batch.length === BATCH) {
            await flush(batch);
            batch = [];
          }
        }
        await flush(batch);
        for (const col of cols.filter((x) => x.is_identity === 'YES')) {
          await c.query(`SELECT setval(pg_get_serial_sequence('"${table}"', '${col.column_name}'), coalesce(max("${col.column_name}"), 0) + 1, false) FROM "${table}"`);
        }
      }
      await c.query('VACUUM ANALYZE');
    });
  } finally {
    sqlite.close();
  }
  return { seconds: (Date.now() - started) / 1000, rows };
}

/** A fresh database `name`, copied from the database `template` (each run writes: posts, drafts, sessions). */
export async function cloneDatabase(server: string, template: string, name: string): Promise<string> {
  await withClient(databaseUrl(server, 'postgres'), async (c) => {
    await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await c.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
  });
  return databaseUrl(server, name);
}

export async function dropDatabase(server: string, name: string): Promise<void> {
  await withClient(databaseUrl(server, 'postgres'), (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

/**
 * CPU seconds the whole cluster whose data folder is `data` has used: the postmaster, its live processes (backends,
 * checkpointer, WAL writer) and those that have exited (counted in the postmaster's reaped-children fields).
 */
export function clusterCpuSeconds(data: string): number {
  const postmaster = Number(readFileSync(`${data}/postmaster.pid`, 'utf8').split('\n')[0]);
  const stat = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ').map(Number);
  const pm = stat(postmaster);
  let ticks = pm[11] + pm[12] + pm[13] + pm[14]; // utime, stime, and the children it has reaped
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const f = stat(Number(entry));
      if (f[1] === postmaster) ticks += f[11] + f[12];
    } catch {
      /* exited meanwhile */
    }
  }
  return ticks / 100;
}

/** Load pg_stat_statements' view if the server has the module preloaded; false when it has not. */
export async function enableStatements(server: string): Promise<boolean> {
  return withClient(databaseUrl(server, 'postgres'), (c) => c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements')).then(
    () => statementTotals(server, 'postgres').then((t) => t !== null),
    () => false,
  );
}

/**
 * Statements run in database `name` so far, and the milliseconds PostgreSQL spent executing them, from
 * pg_stat_statements (null when the server does not load it).
 */
export async function statementTotals(server: string, name: string): Promise<{ calls: number; execMs: number } | null> {
  try {
    return await withClient(databaseUrl(server, 'postgres'), async (c) => {
      const { rows } = await c.query<{ calls: number; ms: number }>(
        `select coalesce(sum(calls), 0)::float8 as calls, coalesce(sum(total_exec_time), 0)::float8 as ms
         from pg_stat_statements where dbid = (select oid from pg_database where datname = $1)`,
        [name],
      );
      return { calls: rows[0].calls, execMs: rows[0].ms };
    });
  } catch {
    return null;
  }
}

/** The statements that ran most often in database `name` (for "where the time goes"), with calls and mean ms. */
export async function topStatements(server: string, name: string, limit = 12): Promise<Array<{ calls: number; meanMs: number; query: string }>> {
  try {
    return await withClient(databaseUrl(server, 'postgres'), async (c) => {
      const { rows } = await c.query<{ calls: number; mean: number; query: string }>(
        `select calls::float8 as calls, mean_exec_time::float8 as mean, left(regexp_replace(query, '\\s+', ' ', 'g'), 200) as query
         from pg_stat_statements where dbid = (select oid from pg_database where datname = $1) order by calls desc, total_exec_time desc limit $2`,
        [name, limit],
      );
      return rows.map((r) => ({ calls: r.calls, meanMs: r.mean, query: r.query }));
    });
  } catch {
    return [];
  }
}

/** Forget the statement counts so far (before a run, so its top statements are its own). */
export async function resetStatements(server: string): Promise<void> {
  await withClient(databaseUrl(server, 'postgres'), (c) => c.query('select pg_stat_statements_reset()')).catch(() => {});
}
