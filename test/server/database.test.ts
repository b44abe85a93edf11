// The database: migrations applied to an empty file as in production, durable settings on.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, backupDatabase, durabilityFrom, startCheckpointer } from '../../server/db.js';

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

  it('keeps the planner’s per-index averages but drops ANALYZE’s sample rows when opened', () => {
    const path = join(dir, 'samples.db');
    const first = openDatabase(path);
    const users = first.sqlite.prepare('insert into users (email, name, role, created_at) values (?, ?, ?, ?)');
    for (let i = 0; i < 500; i++) users.run(`u${i}@library.test`, `User ${i}`, i % 50 === 0 ? 'admin' : 'learner', i);
    // A full ANALYZE, as the sqlite3 shell or the bench's generator runs it (the server's own, with analysis_limit,
    // keeps no samples): this SQLite is built with STAT4, so it keeps samples, which the next open must remove.
    first.sqlite.pragma('analysis_limit = 0');
    first.sqlite.exec('ANALYZE');
    const count = (db: typeof first, table: string) => (db.sqlite.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n;
    expect(count(first, 'sqlite_stat4')).toBeGreaterThan(0);
    const averages = count(first, 'sqlite_stat1');
    first.close();

    const again = openDatabase(path);
    expect(count(again, 'sqlite_stat4')).toBe(0);
    expect(count(again, 'sqlite_stat1')).toBe(averages);
    void again.close();
    // A file without samples is opened without writing.
    const third = openDatabase(path);
    expect((third.sqlite.prepare('select total_changes() as n').get() as { n: number }).n).toBe(0);
    void third.close();
  });

  it('migrates an empty file, with WAL, synchronous=NORMAL, foreign keys, a busy timeout and a late automatic checkpoint', async () => {
    const database = openDatabase(join(dir, 'fresh.db'));
    const tables = database.sqlite.prepare("select name from sqlite_master where type='table'").all().map((r) => (r as { name: string }).name);
    expect(tables).toEqual(expect.arrayContaining(['users', 'auth_sessions', 'sign_in_links', 'api_tokens', 'outbox', 'cohorts', 'enrolments', '__drizzle_migrations']));
    expect(database.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(database.sqlite.pragma('synchronous', { simple: true })).toBe(1);
    expect(database.sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(database.sqlite.pragma('busy_timeout', { simple: true })).toBe(5000);
    // The background checkpointer does most copying; a connection's own checkpoint waits for a 40 MB WAL.
    expect(database.sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(10_000);
    expect(database.sqlite.pragma('journal_size_limit', { simple: true })).toBe(10_000 * 4096 * 2);
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

  it('a background checkpointer copies committed pages into the database file while the main connection only commits', async () => {
    const file = join(dir, 'server.db');
    const database = openDatabase(file);
    // The main connection never checkpoints here, so only the worker can move pages out of the WAL.
    database.sqlite.pragma('wal_autocheckpoint = 0');
    database.sqlite.exec('create table blobs (id integer primary key, body blob)');
    const before = statSync(file).size;
    const insert = database.sqlite.prepare('insert into blobs (body) values (?)');
    for (let i = 0; i < 200; i++) database.write(() => insert.run(Buffer.alloc(16_384, i)));
    expect(statSync(file).size).toBe(before); // 3 MB committed, all of it still in the WAL
    const checkpointer = startCheckpointer(file, 20);
    const deadline = Date.now() + 5000;
    while (statSync(file).size < before + 3_000_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(statSync(file).size).toBeGreaterThan(before + 3_000_000);
    await checkpointer.stop();
    expect((database.sqlite.prepare('select count(*) n from blobs').get() as { n: number }).n).toBe(200);
    database.close();

    // The standalone server's option: started with the database and stopped with it.
    const served = openDatabase(file, { backgroundCheckpoint: true });
    served.write((tx) => tx.run(sql`insert into blobs (body) values (x'00')`));
    await served.close();
    const reopened = openDatabase(file);
    expect(reopened.sqlite.pragma('integrity_check', { simple: true })).toBe('ok');
    expect((reopened.sqlite.prepare('select count(*) n from blobs').get() as { n: number }).n).toBe(201);
    reopened.close();
  });

  it('write() rolls back what fn did when it throws, and nests as a savepoint', async () => {
    const database = openDatabase(join(dir, 'tx.db'));
    database.sqlite.exec('create table t (v integer)');
    const add = database.sqlite.prepare('insert into t (v) values (?)');
    expect(() =>
      database.write(() => {
        add.run(1);
        throw new Error('refused');
      }),
    ).toThrow('refused');
    database.write(() => {
      add.run(2);
      expect(() =>
        database.write(() => {
          add.run(3);
          throw new Error('inner refused');
        }),
      ).toThrow('inner refused');
    });
    expect(database.sqlite.prepare('select v from t order by v').all()).toEqual([{ v: 2 }]);
    database.close();
  });
});
