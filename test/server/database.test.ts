// The database: migrations applied to an empty file as in production, durable settings on.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase, backupDatabase, durabilityFrom } from '../../server/db.js';

describe('the SQLite database', () => {
  it('fsyncs every commit when asked (DB_SYNCHRONOUS=full), and refuses a value it does not know', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cc-db-'));
    try {
      const database = openDatabase(join(dir, 'full.db'), { durability: durabilityFrom('FULL') });
      expect(database.sqlite.pragma('synchronous', { simple: true })).toBe(2);
      database.close();
      expect(durabilityFrom(undefined)).toBe('normal');
      expect(durabilityFrom(' normal ')).toBe('normal');
      expect(() => durabilityFrom('extra')).toThrow(/DB_SYNCHRONOUS/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('migrates an empty file, with WAL, synchronous=NORMAL, foreign keys and a busy timeout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cc-db-'));
    try {
      const database = openDatabase(join(dir, 'fresh.db'));
      const tables = database.sqlite.prepare("select name from sqlite_master where type='table'").all().map((r) => (r as { name: string }).name);
      expect(tables).toEqual(expect.arrayContaining(['users', 'auth_sessions', 'sign_in_links', 'api_tokens', 'outbox', 'cohorts', 'enrolments', '__drizzle_migrations']));
      expect(database.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(database.sqlite.pragma('synchronous', { simple: true })).toBe(1);
      expect(database.sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(database.sqlite.pragma('busy_timeout', { simple: true })).toBe(5000);
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
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
