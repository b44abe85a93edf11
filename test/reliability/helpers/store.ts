// The database of a child-server test on the suite's engine (a SQLite file, or a PostgreSQL database of its own), and
// reads straight from it, as an operator would make after a crash: which rows are there, is the store intact.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { createTestDatabase, dropTestDatabase, onPostgres } from '../../helpers/engine.js';

export interface Store {
  /** Where the server finds it: buildApp options and, as they are, the child's. */
  location: { databasePath: string } | { databaseUrl: string };
  /** The ids among `ids` that have a row in `table`. */
  presentIds(table: string, ids: number[]): Promise<Set<number>>;
  /** 'ok', or what is damaged: SQLite's integrity_check; on PostgreSQL amcheck over every table and index. */
  integrity(): Promise<string>;
  /** Sessions app instances still hold on the database (PostgreSQL; a file has none). */
  appSessions(): Promise<number>;
  /** Run one statement on PostgreSQL (set-up, such as ALTER DATABASE). */
  query(sql: string): Promise<pg.QueryResult>;
  drop(): Promise<void>;
  /** After the database server restarted: a new connection for the reads above (PostgreSQL). */
  reconnect(): Promise<void>;
}

/** A fresh, empty, migrated-on-first-open database in `dir` (SQLite) or on the test server (PostgreSQL). */
export async function createStore(dir: string): Promise<Store> {
  return onPostgres ? postgresStore() : sqliteStore(join(dir, 'cohort.db'));
}

function sqliteStore(file: string): Store {
  mkdirSync(join(file, '..'), { recursive: true });
  const open = <T>(fn: (db: Database.Database) => T, readonly = true): T => {
    const db = new Database(file, { fileMustExist: true, readonly });
    try {
      return fn(db);
    } finally {
      db.close();
    }
  };
  return {
    location: { databasePath: file },
    async presentIds(table, ids) {
      if (ids.length === 0) return new Set();
      const rows = open((db) => db.prepare(`select id from "${table}" where id in (${ids.map(() => '?').join(',')})`).all(...ids) as Array<{ id: number }>);
      return new Set(rows.map((r) => r.id));
    },
    // Not read-only: opening the file runs recovery from the WAL, as the next server start would.
    integrity: async () => open((db) => (db.pragma('integrity_check', { simple: true }) as string) ?? 'no answer', false),
    appSessions: async () => 0,
    query: () => Promise.reject(new Error('query() is for PostgreSQL')),
    drop: async () => {},
    reconnect: async () => {},
  };
}

async function postgresStore(): Promise<Store> {
  const { name, url } = await createTestDatabase();
  return postgresStoreAt(url, () => dropTestDatabase(name));
}

/** The store of a PostgreSQL database made elsewhere (a test's own server); `remove` drops it. */
export async function postgresStoreAt(url: string, remove: () => Promise<void> = async () => {}): Promise<Store> {
  let client = new pg.Client({ connectionString: url, application_name: 'reliability-store' });
  client.on('error', () => {});
  await client.connect();
  // amcheck is PostgreSQL's own consistency checker (contrib, shipped with the server): heap pages and B-tree indexes.
  await client.query('create extension if not exists amcheck');
  return {
    location: { databaseUrl: url },
    async presentIds(table, ids) {
      if (ids.length === 0) return new Set();
      const { rows } = await client.query<{ id: number }>(`select id from "${table}" where id = any($1::int[])`, [ids]);
      return new Set(rows.map((r) => Number(r.id)));
    },
    async integrity() {
      const heap = await client.query<{ rel: string; msg: string }>(
        `select c.relname as rel, v.msg from pg_class c join pg_namespace n on n.oid = c.relnamespace,
           lateral verify_heapam(c.oid) v
          where n.nspname = 'public' and c.relkind = 'r'`,
      );
      // bt_index_check with heapallindexed: every index is well formed and holds every row of its table.
      const indexes = await client.query<{ rel: string }>(
        `select c.relname as rel from pg_index i join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace
           join pg_am am on am.oid = c.relam
          where n.nspname = 'public' and am.amname = 'btree'`,
      );
      const problems = heap.rows.map((r) => `${r.rel}: ${r.msg}`);
      for (const { rel } of indexes.rows) {
        try {
          await client.query(`select bt_index_check('public."${rel}"'::regclass, true)`);
        } catch (err) {
          problems.push(`${rel}: ${(err as Error).message}`);
        }
      }
      return problems.length === 0 && indexes.rows.length > 0 ? 'ok' : problems.join('\n') || 'no indexes found';
    },
    async appSessions() {
      const { rows } = await client.query<{ n: string }>(
        "select count(*)::text as n from pg_stat_activity where datname = current_database() and application_name = 'cohort-course'",
      );
      return Number(rows[0].n);
    },
    query: (sql) => client.query(sql),
    async drop() {
      await client.end().catch(() => {});
      await remove();
    },
    reconnect: async () => {
      await client.end().catch(() => {});
      client = new pg.Client({ connectionString: url, application_name: 'reliability-store' });
      client.on('error', () => {});
      await client.connect();
    },
  };
}
