// The database: migrations applied to an empty file as in production, durable settings on, and the one transaction runner.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { durabilityFrom, ReadOutsideTransaction } from '../../server/db.js';
import { openSqlite as openDatabase } from '../../server/db-sqlite.js';
import { users } from '../../modules/people/schema.js';

describe('the SQLite database', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cc-db-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('fsyncs every commit when asked (DB_SYNCHRONOUS=full), and refuses a value it does not know', async () => {
    const database = await openDatabase(join(dir, 'full.db'), { durability: durabilityFrom('FULL') });
    expect(database.connections.writer.pragma('synchronous', { simple: true })).toBe(2);
    database.close();
    expect(durabilityFrom(undefined)).toBe('normal');
    expect(durabilityFrom(' normal ')).toBe('normal');
    expect(() => durabilityFrom('extra')).toThrow(/DB_SYNCHRONOUS/);
  });

  it('gives an index without planner statistics (as after a migration recreates it) its statistics when opened', async () => {
    const path = join(dir, 'stats.db');
    const first = await openDatabase(path);
    const users = first.connections.writer.prepare('insert into users (email, name, role, created_at) values (?, ?, ?, 0)');
    for (let i = 0; i < 300; i++) users.run(`u${i}@library.test`, `User ${i}`, 'learner');
    first.connections.writer.exec('ANALYZE');
    const statsOf = (db: typeof first) => db.connections.writer.prepare("select idx from sqlite_stat1 where tbl = 'users'").all().map((r) => (r as { idx: string }).idx);
    expect(statsOf(first).length).toBeGreaterThan(0);
    // What a migration that drops and recreates an index leaves: the index, and no statistics for it.
    first.connections.writer.exec("DELETE FROM sqlite_stat1 WHERE tbl = 'users'");
    first.close();
    const again = await openDatabase(path);
    expect(statsOf(again).length).toBeGreaterThan(0);
    void again.close();
  });

  it('migrates an empty file, with WAL, synchronous=NORMAL, foreign keys, and a busy timeout', async () => {
    const database = await openDatabase(join(dir, 'fresh.db'));
    const tables = database.connections.writer.prepare("select name from sqlite_master where type='table'").all().map((r) => (r as { name: string }).name);
    expect(tables).toEqual(expect.arrayContaining(['users', 'auth_sessions', 'sign_in_links', 'api_tokens', 'outbox', 'cohorts', 'enrolments', '__drizzle_migrations']));
    expect(database.connections.writer.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(database.connections.writer.pragma('synchronous', { simple: true })).toBe(1);
    expect(database.connections.writer.pragma('foreign_keys', { simple: true })).toBe(1);
    // Reads never wait for a lock in WAL; the writer waits for another connection's write lock from the event loop
    // (see the two-instances test below), never inside SQLite.
    expect(database.connections.reader.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(database.connections.writer.pragma('busy_timeout', { simple: true })).toBe(0);
    const applied = database.connections.writer.prepare('select count(*) n from __drizzle_migrations').get() as { n: number };
    database.close();
    // Opening again applies nothing twice.
    const again = await openDatabase(join(dir, 'fresh.db'));
    expect((again.connections.writer.prepare('select count(*) n from __drizzle_migrations').get() as { n: number }).n).toBe(applied.n);
    // Foreign keys are enforced.
    expect(() => again.connections.writer.prepare('insert into enrolments (cohort_id, user_id, created_at) values (999, 999, 0)').run()).toThrow(/FOREIGN KEY/);
    // Online backup produces a database that opens and passes integrity_check.
    await again.backup(join(dir, 'backup.db'));
    again.close();
    const restored = await openDatabase(join(dir, 'backup.db'));
    expect(restored.connections.writer.pragma('integrity_check', { simple: true })).toBe('ok');
    restored.close();
  });

  describe('transactions', () => {
    const person = (n: number) => ({ email: `p${n}@library.test`, name: `P ${n}`, role: 'learner' as const, createdAt: new Date(0) });
    const names = async (db: { select: Awaited<ReturnType<typeof openDatabase>>['db']['select'] }) => (await db.select({ name: users.name }).from(users).orderBy(users.id)).map((u) => u.name);

    it('another request reading while a transaction is open never sees its uncommitted writes, and sees them once it commits', async () => {
      const database = await openDatabase(join(dir, 'iso.db'));
      let release!: () => void;
      const paused = new Promise<void>((r) => (release = r));
      let written!: () => void;
      const wrote = new Promise<void>((r) => (written = r));
      const tx = database.transaction(async (t) => {
        await t.insert(users).values(person(1));
        written();
        await paused; // the transaction stays open across other requests' turns
        await t.insert(users).values(person(2));
      });
      await wrote;
      // Another request, in its own async flow: the read connection shows only what has committed.
      expect(await names(database.db)).toEqual([]);
      await new Promise((r) => setTimeout(r, 20));
      expect(await names(database.db)).toEqual([]);
      release();
      await tx;
      expect(await names(database.db)).toEqual(['P 1', 'P 2']);
      await database.close();
    });

    it('rolls back everything when the callback throws; a nested transaction is a savepoint that rolls back alone', async () => {
      const database = await openDatabase(join(dir, 'rollback.db'));
      await expect(
        database.transaction(async (t) => {
          await t.insert(users).values(person(1));
          throw new Error('refused');
        }),
      ).rejects.toThrow('refused');
      expect(await names(database.db)).toEqual([]);
      await database.transaction(async (t) => {
        await t.insert(users).values(person(2));
        await expect(
          database.transaction(async (inner) => {
            await inner.insert(users).values(person(3));
            throw new Error('inner refused');
          }),
        ).rejects.toThrow('inner refused');
        await database.transaction(async (inner) => void (await inner.insert(users).values(person(4))));
      });
      expect(await names(database.db)).toEqual(['P 2', 'P 4']);
      await database.close();
    });

    it('runs concurrent transactions one at a time, so a read-then-write inside one is never interleaved', async () => {
      const database = await openDatabase(join(dir, 'serial.db'));
      await database.transaction(async (t) => void (await t.insert(users).values({ ...person(0), name: '0' })));
      const bump = () =>
        database.transaction(async (t) => {
          const [row] = await t.select({ name: users.name }).from(users);
          await new Promise((r) => setImmediate(r)); // yield between the read and the write
          await t.update(users).set({ name: String(Number(row.name) + 1) });
        });
      await Promise.all(Array.from({ length: 25 }, bump));
      expect(await names(database.db)).toEqual(['25']);
      await database.close();
    });

    it('refuses a read on the read connection inside a transaction (it would miss the transaction\'s own writes), and any write outside one', async () => {
      const database = await openDatabase(join(dir, 'misuse.db'));
      await expect(
        database.transaction(async (t) => {
          await t.insert(users).values(person(1));
          await database.db.select().from(users);
        }),
      ).rejects.toBeInstanceOf(ReadOutsideTransaction);
      expect(await names(database.db)).toEqual([]);
      await expect(database.db.insert(users).values(person(2)).then(() => undefined)).rejects.toThrow(/readonly/);
      await database.close();
    });

    it('runs afterCommit work once the transaction has committed, outside it, and never for one that rolled back', async () => {
      const database = await openDatabase(join(dir, 'after.db'));
      const seen: string[][] = [];
      await database.transaction(async (t) => {
        await t.insert(users).values(person(1));
        // Runs outside the transaction: a read on the read connection is allowed and sees the commit.
        database.afterCommit(() => void names(database.db).then((n) => seen.push(n)));
        expect(seen).toEqual([]);
      });
      await expect(
        database.transaction(async (t) => {
          await t.insert(users).values(person(2));
          database.afterCommit(() => seen.push(['rolled back']));
          throw new Error('no');
        }),
      ).rejects.toThrow('no');
      await new Promise((r) => setTimeout(r, 20));
      expect(seen).toEqual([['P 1']]);
      await database.close();
    });

    it('two instances on one file (two processes, or two apps in one) wait for each other\'s write lock without blocking the event loop', async () => {
      const file = join(dir, 'two.db');
      const a = await openDatabase(file);
      const b = await openDatabase(file);
      let ticks = 0;
      const timer = setInterval(() => ticks++, 5);
      // A holds its transaction open across event-loop turns while B's transactions queue for the lock.
      const slow = a.transaction(async (t) => {
        await t.insert(users).values(person(1));
        await new Promise((r) => setTimeout(r, 100));
        await t.insert(users).values(person(2));
      });
      const others = Array.from({ length: 5 }, (_, i) => b.transaction(async (t) => void (await t.insert(users).values(person(10 + i)))));
      await Promise.all([slow, ...others]);
      clearInterval(timer);
      expect(ticks).toBeGreaterThan(10); // the loop kept turning while B waited
      expect((await names(a.db)).sort()).toEqual(['P 1', 'P 10', 'P 11', 'P 12', 'P 13', 'P 14', 'P 2']);
      await a.close();
      await b.close();
    });
  });
});
