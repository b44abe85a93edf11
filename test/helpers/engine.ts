// Which engine the suite runs on: SQLite files (npm test), or PostgreSQL (npm run test:postgres, which sets
// TEST_DATABASE_URL to a throwaway server). Each test app gets a database of its own, fresh from a migrated template.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { AppDatabase } from '../../server/db.js';
import type { SqliteDatabase } from '../../server/db-sqlite.js';

/** The PostgreSQL server's URL (any database on it), or undefined on SQLite. */
export const postgresUrl = process.env.TEST_DATABASE_URL || undefined;
export const onPostgres = postgresUrl !== undefined;

/** The migrated database every test database is copied from (made once per run by postgres-setup.ts). */
export const TEMPLATE = 'cc_test_template';

/** The URL of database `name` on the test server. */
export function databaseUrl(name: string): string {
  const url = new URL(postgresUrl!);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl('postgres') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A new, migrated, empty database (a copy of the template); returns its URL. */
export async function createTestDatabase(): Promise<{ name: string; url: string }> {
  const name = `cc_t_${process.pid}_${randomBytes(5).toString('hex')}`;
  // Copies of one template made at the same moment wait for each other ("being accessed by other users").
  for (let attempt = 0; ; attempt++) {
    try {
      await admin((c) => c.query(`CREATE DATABASE "${name}" TEMPLATE "${TEMPLATE}"`));
      break;
    } catch (err) {
      if (attempt > 50 || !/being accessed by other users/.test(String(err))) throw err;
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 80));
    }
  }
  return { name, url: databaseUrl(name) };
}

export async function dropTestDatabase(name: string): Promise<void> {
  await admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

/** The SQLite side of a database, for tests of SQLite's own mechanics (they skip on PostgreSQL). */
export function sqliteOf(database: AppDatabase): SqliteDatabase {
  if (database.engine !== 'sqlite') throw new Error('this test reads SQLite internals');
  return database as SqliteDatabase;
}
