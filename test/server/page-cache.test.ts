// The page cache serves a cohort page again only while nothing it shows can have changed: a write in the cohort
// (from any path, another process included), the reader's own marks, a renamed person or the next minute of the
// clock all make the next view a fresh render, and nobody is ever served someone else's page.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { GZIP_FROM_BYTES } from '../../server/page-cache.js';
import { eq } from 'drizzle-orm';
import { apiAs, Browser } from '../helpers/http.js';
import { users } from '../../modules/people/schema.js';
import { enrolLearner, insertCohort, insertUser, signInBrowser } from '../helpers/factories.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp({ now: '2026-03-04T12:00:00.000Z' });
});
afterEach(async () => t.close());

async function view(b: Browser, url: string) {
  const res = await b.get(url);
  expect(res.statusCode).toBe(200);
  return { cache: res.headers['x-page-cache'], body: res.body };
}

function setup() {
  const instructor = insertUser(t, 'instructor', 'Iris Instructor');
  const { cohort } = insertCohort(t, { instructor: instructor.email, startDate: '2026-03-02' });
  const ana = enrolLearner(t, cohort.id, 'Ana Learner');
  const ben = enrolLearner(t, cohort.id, 'Ben Learner');
  const weekThread = t.ctx.discussions.listThreads(t.ctx.cohorts.access(ana.user, cohort.id)).find((x) => x.week === 1)!;
  return { instructor, cohort, ana, ben, weekThread };
}

describe('page cache', () => {
  it('serves a repeated view from memory, and a post by another member makes the next view fresh', async () => {
    const { cohort, ana, ben, weekThread } = setup();
    const browser = await signInBrowser(t, ana.email);
    const home = `/cohorts/${cohort.id}`;
    const first = await view(browser, home);
    expect(first.cache).toBe('miss');
    const second = await view(browser, home);
    expect(second.cache).toBe('hit');
    expect(second.body).toBe(first.body);

    const threadUrl = `/cohorts/${cohort.id}/discussions/${weekThread.id}`;
    await view(browser, threadUrl);
    expect((await view(browser, threadUrl)).cache).toBe('hit');

    const posted = await apiAs(t.app, ben.token)('POST', `/api/v1/threads/${weekThread.id}/posts`, { body: 'Our branch library tried **evening hours** last year.' });
    expect(posted.statusCode).toBe(201);
    const after = await view(browser, threadUrl);
    expect(after.cache).toBe('miss');
    expect(after.body).toContain('evening hours');
    expect((await view(browser, home)).cache).toBe('miss');
  });

  it('keeps a large page gzipped: a browser gets it gzipped, a client without gzip the same page unzipped', async () => {
    const { cohort, ana, ben, weekThread } = setup();
    const scope = t.ctx.discussions.threadById(t.ctx.people.get(ben.user.id), weekThread.id);
    // Twenty posts of about 1,500 characters: a page well past GZIP_FROM_BYTES.
    for (let i = 0; i < 20; i++) t.ctx.discussions.createPost(scope, { body: `Post ${i}: ${'our library tried evening hours and a quiet study room. '.repeat(28)}` });
    const browser = await signInBrowser(t, ana.email);
    const url = `/cohorts/${cohort.id}/discussions/${weekThread.id}`;
    // The first view marks the posts read (the reader's marks changed): the second is the page that is kept.
    await browser.get(url, { 'accept-encoding': 'gzip, deflate, br' });
    const first = await browser.get(url, { 'accept-encoding': 'gzip, deflate, br' });
    expect(first.headers['x-page-cache']).toBe('miss');
    expect(first.headers['content-encoding']).toBeUndefined();
    expect(first.rawPayload.length).toBeGreaterThan(GZIP_FROM_BYTES);
    const kept = t.ctx.pageCache.stats();
    expect(kept.entries).toBe(1);
    expect(kept.bytes).toBeLessThan(first.rawPayload.length / 4);

    const zipped = await browser.get(url, { 'accept-encoding': 'gzip, deflate, br' });
    expect(zipped.headers['x-page-cache']).toBe('hit');
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers.vary).toBe('accept-encoding');
    expect(zipped.rawPayload.length).toBeLessThan(first.rawPayload.length / 4);
    expect(gunzipSync(zipped.rawPayload).toString()).toBe(first.body);

    for (const refused of [undefined, 'br', 'gzip;q=0, identity']) {
      const plain = await browser.get(url, refused ? { 'accept-encoding': refused } : {});
      expect(plain.headers['x-page-cache']).toBe('hit');
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.body).toBe(first.body);
    }
    // Unzipped per hit: the cache still holds only the gzipped page.
    expect(t.ctx.pageCache.stats().bytes).toBe(kept.bytes);
    // A browser still gets the gzipped page.
    const again = await browser.get(url, { 'accept-encoding': 'gzip' });
    expect(again.headers['content-encoding']).toBe('gzip');
    expect(again.rawPayload.equals(zipped.rawPayload)).toBe(true);
  });

  it('a change in another cohort leaves the page cached; people never get each other’s page', async () => {
    const { cohort, ana, ben } = setup();
    const other = insertCohort(t, { startDate: '2026-03-02' }).cohort;
    const stranger = enrolLearner(t, other.id, 'Stranger');
    const otherThread = t.ctx.discussions.listThreads(t.ctx.cohorts.access(stranger.user, other.id)).find((x) => x.week === 1)!;
    const anaBrowser = await signInBrowser(t, ana.email);
    const benBrowser = await signInBrowser(t, ben.email);
    const home = `/cohorts/${cohort.id}`;
    await view(anaBrowser, home);
    const posted = await apiAs(t.app, stranger.token)('POST', `/api/v1/threads/${otherThread.id}/posts`, { body: 'Hello from the other cohort.' });
    expect(posted.statusCode).toBe(201);
    expect((await view(anaBrowser, home)).cache).toBe('hit');

    const benHome = await view(benBrowser, home);
    expect(benHome.cache).toBe('miss');
    expect(benHome.body).toContain(`Signed in as ${ben.email}`);
    expect(benHome.body).not.toContain(ana.email);

    // Someone outside the cohort gets the refusal, not anyone's cached page.
    const strangerBrowser = await signInBrowser(t, stranger.email);
    expect((await strangerBrowser.get(home)).statusCode).toBe(403);
  });

  it('the next minute renders again, so a week that opens on the minute shows as open', async () => {
    const { cohort, ana } = setup();
    t.clock.set('2026-03-09T07:59:30.000Z'); // week 2 opens at 08:00 London time (GMT)
    const browser = await signInBrowser(t, ana.email);
    const home = `/cohorts/${cohort.id}`;
    const before = await view(browser, home);
    expect(before.body).not.toContain(`href="/cohorts/${cohort.id}/weeks/2"`);
    t.clock.set('2026-03-09T07:59:59.000Z');
    expect((await view(browser, home)).cache).toBe('hit');
    t.clock.set('2026-03-09T08:00:00.000Z');
    const opened = await view(browser, home);
    expect(opened.cache).toBe('miss');
    expect(opened.body).toContain(`href="/cohorts/${cohort.id}/weeks/2"`);
  });

  it('frees the pages of an earlier minute on the first view of the next, whichever page that is', async () => {
    const { cohort, ana, ben } = setup();
    const anaBrowser = await signInBrowser(t, ana.email);
    const benBrowser = await signInBrowser(t, ben.email);
    await view(anaBrowser, `/cohorts/${cohort.id}`);
    await view(anaBrowser, `/cohorts/${cohort.id}/weeks/1`);
    expect(t.ctx.pageCache.stats().entries).toBe(2);
    t.clock.set('2026-03-04T12:01:00.000Z');
    // Ben's first view in the new minute drops Ana's two pages (they could never be served again) and keeps his own.
    await view(benBrowser, `/cohorts/${cohort.id}`);
    const stats = t.ctx.pageCache.stats();
    expect(stats.entries).toBe(1);
    expect((await view(benBrowser, `/cohorts/${cohort.id}`)).cache).toBe('hit');
    expect(stats.bytes).toBeLessThan(20_000);
  });

  it('a write from another process (here, a rename through a second connection) is seen on the next view', async () => {
    const { cohort, ana, weekThread } = setup();
    const browser = await signInBrowser(t, ana.email);
    const threadUrl = `/cohorts/${cohort.id}/discussions/${weekThread.id}`;
    expect((await apiAs(t.app, ana.token)('POST', `/api/v1/threads/${weekThread.id}/posts`, { body: 'First thoughts on the plan.' })).statusCode).toBe(201);
    // The first view marks the new post read (the reader's own marks changed), so the view after that is the first hit.
    expect((await view(browser, threadUrl)).body).toContain('Ana Learner');
    expect((await view(browser, threadUrl)).cache).toBe('miss');
    expect((await view(browser, threadUrl)).cache).toBe('hit');

    const other = new Database(join(t.dir, 'test.db'));
    try {
      other.prepare('UPDATE users SET name = ? WHERE id = ?').run('Ana Renamed', ana.user.id);
    } finally {
      other.close();
    }
    const after = await view(browser, threadUrl);
    expect(after.cache).toBe('miss');
    expect(after.body).toContain('Ana Renamed');
  });

  it('access ends at once: a withdrawn learner and a signed-out browser get no cached page', async () => {
    const { cohort, ana, ben } = setup();
    const anaBrowser = await signInBrowser(t, ana.email);
    const benBrowser = await signInBrowser(t, ben.email);
    const home = `/cohorts/${cohort.id}`;
    await view(anaBrowser, home);
    await view(benBrowser, home);
    expect((await view(anaBrowser, home)).cache).toBe('hit');

    t.ctx.db.transaction((tx) => t.ctx.cohorts.withdraw(tx, cohort.id, ana.user.id));
    expect((await anaBrowser.get(home)).statusCode).toBe(403);

    const signOut = await benBrowser.post('/sign-out', {}, { fromPage: home });
    expect(signOut.statusCode).toBe(303);
    const res = await benBrowser.get(home);
    expect(res.statusCode).not.toBe(200);
    expect(res.headers['x-page-cache']).toBeUndefined();
  });

  it('a flash notice in the query string is its own page, and an error page is never kept', async () => {
    const { cohort, ana } = setup();
    const browser = await signInBrowser(t, ana.email);
    const week = `/cohorts/${cohort.id}/weeks/1`;
    await view(browser, week);
    const saved = await view(browser, `${week}?saved=1`);
    expect(saved.cache).toBe('miss');
    expect((await view(browser, week)).cache).toBe('hit');
    const missing = `/cohorts/${cohort.id}/discussions/999999`;
    expect((await browser.get(missing)).statusCode).toBe(404);
    expect((await browser.get(missing)).headers['x-page-cache']).toBe('miss');
    expect(t.ctx.pageCache.stats().hits).toBeGreaterThan(0);
  });
});

describe('public pages', () => {
  it('the catalogue is kept for visitors who are not signed in; a signed-in reader gets their own', async () => {
    const { ana } = setup();
    const visitor = new Browser(t.app);
    const first = await visitor.get('/');
    expect(first.statusCode).toBe(200);
    expect(first.headers['x-page-cache']).toBe('miss');
    const second = await visitor.get('/');
    expect(second.headers['x-page-cache']).toBe('hit');
    expect(second.body).toBe(first.body);
    // Names changing (the global scope) renders it again.
    t.ctx.db.update(users).set({ name: 'Ana Renamed' }).where(eq(users.id, ana.user.id)).run();
    expect((await visitor.get('/')).headers['x-page-cache']).toBe('miss');

    const browser = await signInBrowser(t, ana.email);
    const own = await browser.get('/');
    expect(own.headers['x-page-cache']).toBeUndefined();
    expect(own.body).toContain(`Signed in as ${ana.email}`);
  });
});

describe('cache version triggers', () => {
  // Tables no cached page reads. A new table must be added here or get triggers in a migration: this test says which.
  const UNSHOWN = ['__drizzle_migrations', 'cache_versions', 'outbox', 'api_tokens', 'auth_sessions', 'sign_in_links', 'discussion_digests'];

  it('every table a page can show has insert, update and delete triggers that bump a version', () => {
    const sqlite = t.ctx.database.sqlite;
    const tables = sqlite.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).pluck().all() as string[];
    const triggers = sqlite.prepare(`SELECT tbl_name AS tbl, sql FROM sqlite_master WHERE type = 'trigger'`).all() as Array<{ tbl: string; sql: string }>;
    const missing: string[] = [];
    for (const table of tables.filter((x) => !UNSHOWN.includes(x))) {
      const on = triggers.filter((x) => x.tbl === table && x.sql.includes('cache_versions'));
      // A new account shows nowhere until it joins a cohort (an enrolment, which has its own trigger).
      const events = table === 'users' ? ['UPDATE', 'DELETE'] : ['INSERT', 'UPDATE', 'DELETE'];
      for (const ev of events) if (!on.some((x) => x.sql.includes(`AFTER ${ev} ON`))) missing.push(`${table} ${ev}`);
    }
    expect(missing).toEqual([]);
  });
});
