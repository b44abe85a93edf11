// A fingerprint of every table, to prove that a refused request wrote nothing (not even half of something).
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { AppDatabase } from '../../../server/db.js';
import type { PostgresDatabase } from '../../../server/db-postgres.js';
import { sqliteOf } from '../../helpers/engine.js';

/** The write guard's log (helpers/guard.ts), which is no application table. */
const GUARD_LOG = 'reliability_writes';

/**
 * Per-table row count and content hash, every application table (migrations bookkeeping and the write guard's log
 * excluded). Rows are hashed in a fixed order (sorted by their serialised form), so the same content gives the same
 * digest however the engine happens to return it. Digests are compared on one engine only: the two engines serialise
 * values differently.
 */
export async function digest(database: AppDatabase, opts: { ignore?: string[] } = {}): Promise<Record<string, string>> {
  const skip = (name: string) => name === GUARD_LOG || (opts.ignore?.includes(name) ?? false);
  return database.engine === 'postgres' ? digestPostgres(database as PostgresDatabase, skip) : digestSqlite(sqliteOf(database).connections.writer, skip);
}

function digestSqlite(sqlite: Database.Database, skip: (name: string) => boolean): Record<string, string> {
  const tables = sqlite
    .prepare("select name from main.sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like '__drizzle%' order by name")
    .all() as Array<{ name: string }>;
  const out: Record<string, string> = {};
  for (const { name } of tables) {
    if (skip(name)) continue;
    const rows = sqlite.prepare(`select * from main."${name}"`).raw().all() as unknown[][];
    const lines = rows.map((row) => JSON.stringify(row.map(serialisable))).sort();
    const hash = createHash('sha1');
    for (const line of lines) hash.update(line).update('\n');
    out[name] = `${rows.length}:${hash.digest('hex').slice(0, 12)}`;
  }
  return out;
}

/** A column value as JSON can hold it, without collisions between types (blobs as hex, bigints as digits). */
function serialisable(v: unknown): unknown {
  if (typeof v === 'bigint') return { bigint: String(v) };
  if (Buffer.isBuffer(v)) return { blob: v.toString('hex') };
  if (v instanceof Date) return { date: v.toISOString() };
  return v;
}

/**
 * One round trip for every table: PostgreSQL counts and hashes each table itself, over the rows' text form (a
 * canonical rendering of every type: bytea as hex, timestamps and numerics in full) sorted byte-wise.
 */
async function digestPostgres(database: PostgresDatabase, skip: (name: string) => boolean): Promise<Record<string, string>> {
  const { rows: tables } = await database.pool.query<{ name: string }>(
    `select table_name as name from information_schema.tables
      where table_schema = 'public' and table_type = 'BASE TABLE' and table_name not like '\\_\\_drizzle%'
      order by table_name collate "C"`,
  );
  const names = tables.map((t) => t.name).filter((n) => !skip(n));
  const out: Record<string, string> = {};
  if (names.length === 0) return out;
  const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;
  const query = names
    .map(
      (n) =>
        `select ${literal(n)}::text as name, count(*)::text as n, md5(coalesce(string_agg(r::text, E'\\n' order by r::text collate "C"), '')) as h from public."${n.replace(/"/g, '""')}" r`,
    )
    .join('\nunion all\n');
  const { rows } = await database.pool.query<{ name: string; n: string; h: string }>(query);
  for (const r of rows) out[r.name] = `${r.n}:${r.h.slice(0, 12)}`;
  return out;
}

/** The tables whose fingerprint differs between two digests. */
export function changedTables(before: Record<string, string>, after: Record<string, string>): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((n) => before[n] !== after[n]).sort();
}

/** Total rows changed by this connection since it opened (SQLite only; cheap; the app and the test share the connection). */
export function totalChanges(sqlite: Database.Database): number {
  return (sqlite.prepare('select total_changes() as n').get() as { n: number }).n;
}
