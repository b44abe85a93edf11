// A fingerprint of every table, to prove that a refused request wrote nothing (not even half of something).
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';

/** Per-table row count and content hash, every application table (migrations bookkeeping excluded). */
export function digest(sqlite: Database.Database, opts: { ignore?: string[] } = {}): Record<string, string> {
  const tables = sqlite
    .prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like '__drizzle%' order by name")
    .all() as Array<{ name: string }>;
  const out: Record<string, string> = {};
  for (const { name } of tables) {
    if (opts.ignore?.includes(name)) continue;
    const rows = sqlite.prepare(`select * from "${name}"`).raw().all();
    const hash = createHash('sha1');
    for (const row of rows) hash.update(JSON.stringify(row, (_k, v) => (typeof v === 'bigint' ? String(v) : Buffer.isBuffer(v) ? v.toString('hex') : v)));
    out[name] = `${rows.length}:${hash.digest('hex').slice(0, 12)}`;
  }
  return out;
}

/** The tables whose fingerprint differs between two digests. */
export function changedTables(before: Record<string, string>, after: Record<string, string>): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((n) => before[n] !== after[n]).sort();
}

/** Total rows changed by this connection since it opened (cheap; the app and the test share the connection). */
export function totalChanges(sqlite: Database.Database): number {
  return (sqlite.prepare('select total_changes() as n').get() as { n: number }).n;
}
