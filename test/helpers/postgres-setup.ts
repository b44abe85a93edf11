// Global set-up on PostgreSQL: build the template database once per run (migrated exactly as production migrates),
// which every test database is then copied from.
import pg from 'pg';
import { openDatabase } from '../../server/db.js';
import { databaseUrl, postgresUrl, TEMPLATE } from './engine.js';

export default async function setup(): Promise<void> {
  if (!postgresUrl) return;
  // Each test project runs its global set-up: the template is made once per run.
  const g = globalThis as { ccTemplate?: Promise<void> };
  g.ccTemplate ??= makeTemplate();
  return g.ccTemplate;
}

async function makeTemplate(): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl('postgres') });
  await client.connect();
  // Databases left by an earlier run that was stopped.
  const { rows } = await client.query<{ datname: string }>("select datname from pg_database where datname like 'cc_t_%'");
  for (const r of rows) await client.query(`DROP DATABASE IF EXISTS "${r.datname}" WITH (FORCE)`);
  await client.query(`DROP DATABASE IF EXISTS "${TEMPLATE}" WITH (FORCE)`);
  await client.query(`CREATE DATABASE "${TEMPLATE}"`);
  await client.end();
  const database = await openDatabase(databaseUrl(TEMPLATE));
  await database.close();
}
