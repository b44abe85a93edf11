// API tokens: issued by admins or the CLI, stored hashed, checked on every call.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { apiAs } from '../helpers/http.js';
import { insertUser } from '../helpers/factories.js';
import { apiTokens } from '../../modules/people/schema.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

describe('API tokens', () => {
  it('an admin creates a token for a new address, which then authenticates as that learner', async () => {
    const admin = await insertUser(t, 'admin');
    const res = await apiAs(t.app, admin.token)('POST', '/api/v1/tokens', { email: 'New.Person@Example.org' });
    expect(res.statusCode).toBe(201);
    const { token } = res.json();
    expect(token).toMatch(/^cc_[A-Za-z0-9_-]{43}$/);
    const me = await apiAs(t.app, token)('GET', '/api/v1/me');
    expect(me.json()).toMatchObject({ email: 'new.person@example.org', role: 'learner' });
    const stored = (await t.ctx.db.select().from(apiTokens)).map((r) => r.tokenHash);
    expect(stored).not.toContain(token);
  });

  it('learners and instructors may not create tokens (403); anonymous callers get 401', async () => {
    for (const role of ['learner', 'instructor'] as const) {
      const u = await insertUser(t, role);
      const res = await apiAs(t.app, u.token)('POST', '/api/v1/tokens', { email: 'x@example.org' });
      expect(res.statusCode).toBe(403);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
    const anon = await apiAs(t.app, null)('POST', '/api/v1/tokens', { email: 'x@example.org' });
    expect(anon.statusCode).toBe(401);
    expect(anon.json()).toMatchObject({ status: 401, title: 'Not signed in' });
  });

  it('an unknown or malformed token is a 401, not an anonymous request', async () => {
    const res = await apiAs(t.app, 'cc_made-up')('GET', '/api/v1/courses');
    expect(res.statusCode).toBe(401);
  });

  it('bad input is a 400 problem naming the field', async () => {
    const admin = await insertUser(t, 'admin');
    const api = apiAs(t.app, admin.token);
    const missing = await api('POST', '/api/v1/tokens', {});
    expect(missing.statusCode).toBe(400);
    expect(missing.json().detail).toContain('email');
    const extra = await api('POST', '/api/v1/tokens', { email: 'a@example.org', admin: true });
    expect(extra.statusCode).toBe(400);
    const notEmail = await api('POST', '/api/v1/tokens', { email: 'nope' });
    expect(notEmail.statusCode).toBe(400);
    expect(notEmail.json().detail).toContain('not an email address');
  });
});

describe('the CLI', () => {
  it('adds a user and creates a token on the same database the server uses', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cc-cli-'));
    try {
      const env = { ...process.env, BASE_URL: 'http://127.0.0.1:3000', DATABASE_PATH: join(dir, 'cli.db'), MAIL_DIR: join(dir, 'mail') };
      const run = (...args: string[]) => execFileSync(process.execPath, ['--import', 'tsx', 'server/cli.ts', ...args], { env, encoding: 'utf8' });
      const added = JSON.parse(run('user', 'add', '--email', 'Boss@Example.org', '--role', 'admin', '--name', 'The Boss'));
      expect(added).toMatchObject({ email: 'boss@example.org', role: 'admin', name: 'The Boss' });
      const out = run('token', 'create', '--email', 'boss@example.org').trim().split('\n');
      expect(out.at(-1)).toMatch(/^cc_[A-Za-z0-9_-]{43}$/);
      expect(() => run('user', 'add', '--email', 'x@example.org', '--role', 'emperor')).toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // Three cold starts of the CLI (TypeScript compiled on the fly): slow on a busy 2-core machine.
  }, 120_000);
});
