// The database: migrations applied to an empty file as in production, durable settings on.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, backupDatabase, durabilityFrom } from '../../server/db.js';

describe('the SQLite database', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cc-db-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('fsyncs every commit when asked (DB_SYNCHRONOUS=full), and refuses a value it does not know', () => {
    const database = openDatabase(join(dir, 'full.db'), { durability: durabilityFrom('FULL') });
    expect(database.sqlite.pragma('synchronous', { simple: true })).toBe(2);
    database.close();
    expect(durabilityFrom(undefined)).toBe('normal');
    expect(durabilityFrom(' normal ')).toBe('normal');
    expect(() => durabilityFrom('extra')).toThrow(/DB_SYNCHRONOUS/);
  });

  it('gives an index without planner statistics (as after a migration recreates it) its statistics when opened', () => {
    const path = join(dir, 'stats.db');
    const first = openDatabase(path);
    const users = first.sqlite.prepare('insert into users (email, name, role, created_at) values (?, ?, ?, 0)');
    for (let i = 0; i < 300; i++) users.run(`u${i}@library.test`, `User ${i}`, 'learner');
    first.sqlite.exec('ANALYZE');
    const statsOf = (db: typeof first) => db.sqlite.prepare("select idx from sqlite_stat1 where tbl = 'users'").all().map((r) => (r as { idx: string }).idx);
    expect(statsOf(first).length).toBeGreaterThan(0);
    // What a migration that drops and recreates an index leaves: the index, and no statistics for it.
    first.sqlite.exec("DELETE FROM sqlite_stat1 WHERE tbl = 'users'");
    first.close();
    const again = openDatabase(path);
    expect(statsOf(again).length).toBeGreaterThan(0);
    void again.close();
  });

  it('migrates an empty file, with WAL, synchronous=NORMAL, foreign keys, and a busy timeout', async () => {
    const database = openDatabase(join(dir, 'fresh.db'));
    const tables = database.sqlite.prepare("select name from sqlite_master where type='table'").all().map((r) => (r as { name: string }).name);
    expect(tables).toEqual(expect.arrayContaining(['users', 'auth_sessions', 'sign_in_links', 'api_tokens', 'outbox', 'cohorts', 'enrolments', '__drizzle_migrations']));
    expect(database.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(database.sqlite.pragma('synchronous', { simple: true })).toBe(1);
    expect(database.sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(database.sqlite.pragma('busy_timeout', { simple: true })).toBe(5000);
    // The background checkpointer does most copying; a connection's own checkpoint waits for a 40 MB WAL.
    const applied = database.sqlite.prepare('select count(*) n from __drizzle_migrations').get() as { n: number };
    database.close();
    // Opening again applies nothing twice.
    const again = openDatabase(join(dir, 'fresh.db'));
    expect((again.sqlite.prepare('select count(*) n from __drizzle_migrations').get() as { n: number }).n).toBe(applied.n);
    // Foreign keys are enforced.
    expect(() => again.sqlite.prepare('insert into enrolments (cohort_id, user_id, created_at) values (999, 999, 0)').run()).toThrow(/FOREIGN KEY/);
    // Online backup produces a database that opens and passes integrity_check.
    await backupDatabase(again, join(dir, 'backup.db'));
    again.close();
    const restored = openDatabase(join(dir, 'backup.db'));
    expect(restored.sqlite.pragma('integrity_check', { simple: true })).toBe('ok');
    restored.close();
  });
});
