// `npm run cli -- backup PATH` while the server is serving writes, and the documented restore (README).
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../server/app.js';
import { openSqlite as openDatabase } from '../../server/db-sqlite.js';
import { createEmlTransport } from '../../server/mailer.js';
import { packageRoot } from '../../server/paths.js';
import { startChild } from './helpers/child.js';
import { httpApi } from './helpers/http-client.js';

const run = promisify(execFile);

let dir: string;
let adminToken: string;
let bigCohortId: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cc-backup-'));
  const app = await buildApp({ databasePath: join(dir, 'cohort.db'), mailTransport: createEmlTransport(join(dir, 'mail')), workers: false });
  const ctx = app.cc;
  await ctx.people.upsert({ email: 'backup-admin@example.org', role: 'admin' });
  adminToken = (await ctx.people.createApiToken('backup-admin@example.org')).token;
  // Some bulk, so the backup takes many steps: a few thousand pages of edited week text.
  for (let i = 0; i < 60; i++) {
    const cohort = await ctx.cohorts.create({ course: 'strategic-planning', startDate: '2026-03-02', timezone: 'Europe/London', capacity: 30, instructors: [] });
    for (let n = 1; n <= 4; n++) await ctx.cohorts.editWeek(cohort, n, 1, { markdown: `Cohort ${cohort.id} week ${n}. `.repeat(2500) });
    bigCohortId = cohort.id;
  }
  await app.close();
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The CLI, as an operator runs it (same environment variables as the server). */
async function cli(args: string[]) {
  return run(process.execPath, ['--import', 'tsx', join(packageRoot, 'server/cli.ts'), ...args], {
    cwd: packageRoot,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      DATABASE_PATH: join(dir, 'cohort.db'),
      MAIL_DIR: join(dir, 'mail'),
      SESSION_SECRET: 'reliability-secret-reliability-secret-00',
    },
    timeout: 120_000,
  });
}

describe('backup and restore', () => {
  it('backs up a live database under write load, and a restore from it brings back exactly what was backed up', async () => {
    const paths = { databasePath: join(dir, 'cohort.db'), mailDir: join(dir, 'mail') };
    let server = await startChild(paths);
    const backupPath = join(dir, 'backups', 'cohort-backup.db');
    let afterBackupCohort = 0;
    try {
      const api = httpApi(server.baseUrl, adminToken);
      const before = await api('POST', '/api/v1/cohorts', { course: 'leading-change', startDate: '2026-04-06', timezone: 'Europe/London', capacity: 12, instructors: [] });
      expect(before.status).toBe(201);

      // Writers keep going for the whole backup.
      let writing = true;
      let writes = 0;
      const load = (async () => {
        while (writing) {
          const res = await api('PUT', `/api/v1/cohorts/${bigCohortId}/weeks/2`, { title: `Busy ${writes}` });
          expect(res.status).toBe(200);
          writes += 1;
        }
      })();
      const started = Date.now();
      const out = await cli(['backup', backupPath]);
      const took = Date.now() - started;
      writing = false;
      await load;
      expect(out.stdout).toContain(`to ${backupPath}`);
      expect(writes).toBeGreaterThan(0);
      console.log(`[backup] ${(statSync(backupPath).size / 1e6).toFixed(1)} MB backed up in ${took} ms while ${writes} writes were served`);

      const copy = new Database(backupPath, { readonly: true });
      try {
        expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
        expect(copy.prepare('select capacity from cohorts where id = ?').get(before.body.id)).toEqual({ capacity: 12 });
      } finally {
        copy.close();
      }

      const after = await api('POST', '/api/v1/cohorts', { course: 'leading-change', startDate: '2026-05-04', timezone: 'Europe/London', capacity: 13, instructors: [] });
      expect(after.status).toBe(201);
      afterBackupCohort = after.body.id;
      // Restore (README): stop the server, replace the file, remove its -wal and -shm, start again.
      expect(await server.stop()).toBe(0);
    } finally {
      await server.kill();
    }
    copyFileSync(backupPath, paths.databasePath);
    for (const suffix of ['-wal', '-shm']) rmSync(paths.databasePath + suffix, { force: true });
    server = await startChild(paths);
    try {
      const api = httpApi(server.baseUrl, adminToken);
      expect((await api('GET', `/api/v1/cohorts/${bigCohortId}/weeks/4`)).body.html).toContain(`Cohort ${bigCohortId} week 4.`);
      // The cohort created after the backup is not in the restored database.
      expect((await api('GET', `/api/v1/cohorts/${afterBackupCohort}`)).status).toBe(404);
      expect((await api('GET', '/api/v1/me')).status).toBe(200);
    } finally {
      await server.stop();
      await server.kill();
    }
  });

  it('finishes even when another connection commits between every step of the copy', async () => {
    // The CLI is such a connection beside a busy server; a stepwise backup restarted after every commit, for ever.
    const file = join(dir, 'busy.db');
    const source = await openDatabase(file);
    const writer = new Database(file);
    let writing = true;
    let writes = 0;
    try {
      source.connections.writer.exec('create table filler (x text)');
      const fill = source.connections.writer.prepare('insert into filler values (?)');
      source.connections.writer.transaction(() => {
        for (let i = 0; i < 2000; i++) fill.run('x'.repeat(1000));
      })();
      const write = writer.prepare('insert into filler values (?)');
      const tick = () => {
        if (!writing) return;
        write.run('y');
        writes += 1;
        setImmediate(tick);
      };
      tick();
      const copied = source.backup(join(dir, 'busy-backup.db'));
      const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error(`backup still running after 20 s and ${writes} writes`)), 20_000));
      await Promise.race([copied, timeout]);
    } finally {
      writing = false;
      writer.close();
      source.close();
    }
    const copy = new Database(join(dir, 'busy-backup.db'), { readonly: true });
    try {
      expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
      expect((copy.prepare('select count(*) as n from filler').get() as { n: number }).n).toBeGreaterThanOrEqual(2000);
    } finally {
      copy.close();
    }
  });

  it('refuses a backup without a target path', async () => {
    await expect(cli(['backup'])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('backup needs a target path') });
    expect(existsSync(join(dir, 'backups', 'nothing.db'))).toBe(false);
  });
});
