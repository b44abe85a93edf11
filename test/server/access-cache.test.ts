// Sessions, API tokens and cohort roles are kept in memory (server/access-cache.ts) until a row they come from changes.
// A kept answer must never outlive its truth: a sign-out, a revoked token, a withdrawal, a new role or an expired session
// is seen by the very next request, whichever connection or process made the change, and a change a transaction
// rolled back is never kept.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { apiAs } from '../helpers/http.js';
import { enrolLearner, insertCohort, insertUser, signInBrowser } from '../helpers/factories.js';
import { createAccessCache } from '../../server/access-cache.js';
import { SESSION_DAYS } from '../../modules/people/service.js';

let t: TestApp;
let other: Database.Database | null = null;
beforeEach(async () => {
  t = await createTestApp({ now: '2026-03-04T12:00:00.000Z' });
});
afterEach(async () => {
  other?.close();
  other = null;
  await t.close();
});

/** A second connection to the same file, as the CLI or another process has. */
function otherConnection(): Database.Database {
  other = new Database(join(t.dir, 'test.db'));
  other.pragma('busy_timeout = 5000');
  return other;
}

const accessVersion = () => t.ctx.accessCache.version();

describe('access cache', () => {
  it('serves a kept role until the counter moves: a withdrawal through another connection is refused on the next request', async () => {
    const { cohort } = insertCohort(t);
    const ana = enrolLearner(t, cohort.id, 'Ana Learner');
    const api = apiAs(t.app, ana.token);
    expect((await api('GET', `/api/v1/cohorts/${cohort.id}`)).statusCode).toBe(200);

    const db = otherConnection();
    const before = accessVersion();
    // The row changes, and the counter is put back: the kept answer is still served, so answers really are kept.
    db.prepare("UPDATE enrolments SET status = 'withdrawn' WHERE cohort_id = ? AND user_id = ?").run(cohort.id, ana.user.id);
    db.prepare("UPDATE cache_versions SET version = ? WHERE scope = 'a'").run(before);
    expect((await api('GET', `/api/v1/cohorts/${cohort.id}`)).statusCode).toBe(200);

    // As the triggers do it: the change moves the counter, and the next request reads the row again.
    db.prepare("UPDATE enrolments SET status = 'withdrawn' WHERE cohort_id = ? AND user_id = ?").run(cohort.id, ana.user.id);
    expect(accessVersion()).toBeGreaterThan(before);
    expect((await api('GET', `/api/v1/cohorts/${cohort.id}`)).statusCode).toBe(403);
  });

  it('sees a new enrolment, an instructor added and a promotion to admin on the next request', async () => {
    const { cohort } = insertCohort(t);
    const { cohort: second } = insertCohort(t);
    const ben = insertUser(t, 'learner', 'Ben');
    const api = apiAs(t.app, ben.token);
    expect((await api('GET', `/api/v1/cohorts/${cohort.id}`)).statusCode).toBe(403);
    t.ctx.db.transaction((tx) => t.ctx.cohorts.enrol(tx, cohort.id, ben.user.id));
    expect((await api('GET', `/api/v1/cohorts/${cohort.id}`)).statusCode).toBe(200);

    const db = otherConnection();
    expect((await api('GET', `/api/v1/cohorts/${second.id}`)).statusCode).toBe(403);
    db.prepare('INSERT INTO cohort_instructors (cohort_id, user_id) VALUES (?, ?)').run(second.id, ben.user.id);
    expect((await api('GET', `/api/v1/cohorts/${second.id}`)).statusCode).toBe(200);
    db.prepare('DELETE FROM cohort_instructors WHERE cohort_id = ? AND user_id = ?').run(second.id, ben.user.id);
    expect((await api('GET', `/api/v1/cohorts/${second.id}`)).statusCode).toBe(403);

    db.prepare("UPDATE users SET role = 'admin' WHERE id = ?").run(ben.user.id);
    expect((await api('GET', `/api/v1/cohorts/${second.id}`)).statusCode).toBe(200);
    expect((await api('GET', '/api/v1/me')).json().role).toBe('admin');
  });

  it('ends a kept session at sign-out (here, its row deleted by another connection), at its expiry, and a token at revocation', async () => {
    const { cohort } = insertCohort(t);
    const ana = enrolLearner(t, cohort.id, 'Ana Learner');
    const browser = await signInBrowser(t, ana.email);
    expect((await browser.api('GET', '/api/v1/me')).statusCode).toBe(200);
    expect((await browser.api('GET', '/api/v1/me')).statusCode).toBe(200);

    const db = otherConnection();
    db.prepare('DELETE FROM auth_sessions WHERE user_id = ?').run(ana.user.id);
    expect((await browser.api('GET', '/api/v1/me')).statusCode).toBe(401);

    // A new session, kept, then the clock passes its expiry: refused without any row changing.
    const again = await signInBrowser(t, ana.email);
    expect((await again.api('GET', '/api/v1/me')).statusCode).toBe(200);
    const kept = accessVersion();
    t.clock.advance({ hours: SESSION_DAYS * 24 - 1 });
    expect((await again.api('GET', '/api/v1/me')).statusCode).toBe(200);
    t.clock.advance({ hours: 2 });
    expect((await again.api('GET', '/api/v1/me')).statusCode).toBe(401);
    expect(accessVersion()).toBe(kept);

    const api = apiAs(t.app, ana.token);
    expect((await api('GET', '/api/v1/me')).statusCode).toBe(200);
    db.prepare('UPDATE api_tokens SET revoked_at = ? WHERE user_id = ?').run(t.clock.now().getTime(), ana.user.id);
    expect((await api('GET', '/api/v1/me')).statusCode).toBe(401);
  });

  it('keeps nothing read inside a transaction, so an enrolment rolled back is never served', async () => {
    const { cohort } = insertCohort(t);
    const cam = insertUser(t, 'learner', 'Cam');
    const start = accessVersion();
    expect(() =>
      t.ctx.db.transaction((tx) => {
        t.ctx.cohorts.enrol(tx, cohort.id, cam.user.id);
        expect(accessVersion()).toBeGreaterThan(start);
        expect(t.ctx.cohorts.access(cam.user, cohort.id).role).toBe('learner');
        throw new Error('roll back');
      }),
    ).toThrow('roll back');
    expect(accessVersion()).toBe(start);
    // An unrelated change brings the counter to the value the rolled-back transaction had reached.
    t.ctx.people.updateProfile(insertUser(t, 'learner').user.id, { name: 'Dee' });
    expect(accessVersion()).toBeGreaterThan(start);
    expect(() => t.ctx.cohorts.access(cam.user, cohort.id)).toThrow(/not part of this cohort/);
    expect((await apiAs(t.app, cam.token)('GET', `/api/v1/cohorts/${cohort.id}`)).statusCode).toBe(403);
  });

  it('hands out frozen answers, so no caller can change what the next request is told', async () => {
    const { cohort } = insertCohort(t);
    const ana = enrolLearner(t, cohort.id, 'Ana Learner');
    const user = t.ctx.people.userForApiToken(ana.token)!;
    const access = t.ctx.cohorts.access(user, cohort.id);
    expect(Object.isFrozen(user)).toBe(true);
    expect(Object.isFrozen(access.cohort)).toBe(true);
    expect(t.ctx.cohorts.access(user, cohort.id).cohort).toBe(access.cohort);
    expect(() => {
      (access.cohort as { timezone: string }).timezone = 'America/New_York';
    }).toThrow(TypeError);
  });

  it('keeps at most its number of answers, dropping the oldest, and never keeps a missing one', () => {
    const cache = createAccessCache(t.ctx.db, t.ctx.database.sqlite);
    const memo = cache.memo<{ n: number }>(2);
    let loads = 0;
    const load = (n: number) => () => {
      loads += 1;
      return { n };
    };
    expect(memo.get('a', load(1))).toEqual({ n: 1 });
    expect(memo.get('a', load(99))).toEqual({ n: 1 });
    memo.get('b', load(2));
    memo.get('c', load(3));
    expect(memo.size()).toBe(2);
    expect(loads).toBe(3);
    expect(memo.get('a', load(4))).toEqual({ n: 4 });
    expect(memo.get('c', load(99))).toEqual({ n: 3 });
    expect(memo.get('gone', () => undefined)).toBeUndefined();
    expect(memo.get('gone', load(5))).toEqual({ n: 5 });
  });
});
