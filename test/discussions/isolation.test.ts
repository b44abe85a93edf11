// No one outside a cohort sees or touches its discussion: every API route and every page, for learners and instructors of another cohort.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, post, startThread, type Api, type World } from './setup.js';
import { signInBrowser } from '../helpers/factories.js';
import type { Browser } from '../helpers/http.js';
import { posts, threads } from '../../modules/discussions/schema.js';

let w: World;
let threadA: number;
let postA: number;
let weekThreadA: number;
let threadB: number;
let postB: number;
let outsider: Browser;
let outsiderInstructor: Browser;
let learnerA: Browser;

beforeAll(async () => {
  w = await createWorld();
  threadA = await startThread(w.a.learner.api, w.a.id, 'Cohort A only', 'private to A');
  postA = await post(w.a.learner.api, threadA, 'also private to A');
  weekThreadA = (await w.a.learner.api('GET', `/api/v1/cohorts/${w.a.id}/threads`)).json().find((t: { week: number | null }) => t.week === 1).id;
  threadB = await startThread(w.b.learner.api, w.b.id, 'Cohort B only', 'private to B');
  postB = await post(w.b.learner.api, threadB, 'also private to B');
  outsider = await signInBrowser(w.t, w.b.learner.email);
  outsiderInstructor = await signInBrowser(w.t, w.b.instructor.email);
  learnerA = await signInBrowser(w.t, w.a.learner.email);
});
afterAll(async () => w.t.close());

type Call = [method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown];

/** Every discussion API route, aimed at cohort A's things. */
const apiCalls = (): Call[] => [
  ['GET', `/api/v1/cohorts/${w.a.id}/threads`],
  ['POST', `/api/v1/cohorts/${w.a.id}/threads`, { title: 'intruder', body: 'hello' }],
  ['GET', `/api/v1/threads/${threadA}`],
  ['GET', `/api/v1/threads/${weekThreadA}`],
  ['GET', `/api/v1/threads/${threadA}?page=2`],
  ['POST', `/api/v1/threads/${threadA}/posts`, { body: 'intruder' }],
  ['POST', `/api/v1/threads/${threadA}/posts`, { body: 'intruder', parentId: postA }],
  ['PATCH', `/api/v1/threads/${threadA}`, { locked: true }],
  ['PATCH', `/api/v1/posts/${postA}`, { hidden: true }],
  ['PATCH', `/api/v1/posts/${postA}`, { body: 'rewritten' }],
  ['DELETE', `/api/v1/posts/${postA}`],
];

/** Every discussion page and form, aimed at cohort A's things. */
const pageCalls = (): Call[] => [
  ['GET', `/cohorts/${w.a.id}/discussions`],
  ['POST', `/cohorts/${w.a.id}/discussions`, { title: 'intruder', body: 'hello' }],
  ['GET', `/cohorts/${w.a.id}/discussions/${threadA}`],
  ['GET', `/cohorts/${w.a.id}/discussions/${weekThreadA}`],
  ['POST', `/cohorts/${w.a.id}/discussions/${threadA}/posts`, { body: 'intruder' }],
  ['GET', `/cohorts/${w.a.id}/discussions/${threadA}/posts/${postA}/reply`],
  ['GET', `/cohorts/${w.a.id}/discussions/${threadA}/posts/${postA}/edit`],
  ['POST', `/cohorts/${w.a.id}/discussions/${threadA}/posts/${postA}/edit`, { body: 'rewritten' }],
  ['POST', `/cohorts/${w.a.id}/discussions/${threadA}/posts/${postA}/delete`, {}],
  ['POST', `/cohorts/${w.a.id}/discussions/${threadA}/posts/${postA}/hide`, { hidden: 'true' }],
  ['POST', `/cohorts/${w.a.id}/discussions/${threadA}/moderate`, { locked: 'true' }],
];

async function unchanged() {
  const rowsA = (await w.t.ctx.db.select().from(posts)).filter((p) => p.cohortId === w.a.id);
  expect(rowsA.map((p) => [p.markdown, p.hidden, p.deletedAt])).toEqual([
    ['private to A', false, null],
    ['also private to A', false, null],
  ]);
  const a = (await w.t.ctx.db.select().from(threads)).filter((t) => t.cohortId === w.a.id);
  expect(a.filter((t) => t.week === null).map((t) => t.title)).toEqual(['Cohort A only']);
  expect(a.every((t) => !t.locked && !t.hidden && !t.pinned)).toBe(true);
}

async function apiAsEach(api: Api, label: string) {
  for (const [method, url, body] of apiCalls()) {
    const res = await api(method, url, body);
    expect(res.statusCode, `${label}: ${method} ${url}`).toBe(403);
    expect(res.body, `${label}: ${method} ${url}`).not.toContain('private to A');
  }
}

async function pagesAsEach(browser: Browser, label: string) {
  // A CSRF token of the browser's own (from a page it may see), so only the cohort guard can refuse.
  const csrf = /name="_csrf" value="([^"]+)"/.exec((await browser.get('/profile')).body)![1];
  for (const [method, url, body] of pageCalls()) {
    const res = method === 'GET' ? await browser.get(url) : await browser.post(url, body as Record<string, string>, { csrf });
    expect(res.statusCode, `${label}: ${method} ${url}`).toBe(403);
    expect(res.body, `${label}: ${method} ${url}`).not.toContain('private to A');
    expect(res.body, `${label}: ${method} ${url}`).not.toContain('Cohort A only');
  }
}

describe('isolation between cohorts', () => {
  it("a learner of another cohort gets 403 on every discussion API route and nothing changes", async () => {
    await apiAsEach(w.b.learner.api, 'cohort B learner');
    await unchanged();
  });

  it("an instructor of another cohort gets 403 on every discussion API route", async () => {
    await apiAsEach(w.b.instructor.api, 'cohort B instructor');
    await unchanged();
  });

  it('a learner of another cohort gets 403 on every discussion page and form', async () => {
    await pagesAsEach(outsider, 'cohort B learner');
    await unchanged();
  });

  it('an instructor of another cohort gets 403 on every discussion page and form', async () => {
    await pagesAsEach(outsiderInstructor, 'cohort B instructor');
    await unchanged();
  });

  it("cohort B's thread addressed through cohort A's pages is not found, even by a member of A", async () => {
    const csrf = /name="_csrf" value="([^"]+)"/.exec((await learnerA.get(`/cohorts/${w.a.id}/discussions`)).body)![1];
    const crossed: Call[] = [
      ['GET', `/cohorts/${w.a.id}/discussions/${threadB}`],
      ['POST', `/cohorts/${w.a.id}/discussions/${threadB}/posts`, { body: 'smuggled' }],
      ['GET', `/cohorts/${w.a.id}/discussions/${threadB}/posts/${postB}/reply`],
      ['POST', `/cohorts/${w.a.id}/discussions/${threadB}/posts/${postB}/delete`, {}],
      // A's thread with B's post, and a reply whose parent lives in B.
      ['GET', `/cohorts/${w.a.id}/discussions/${threadA}/posts/${postB}/edit`],
      ['POST', `/cohorts/${w.a.id}/discussions/${threadA}/posts/${postB}/delete`, {}],
    ];
    for (const [method, url, body] of crossed) {
      const res = method === 'GET' ? await learnerA.get(url) : await learnerA.post(url, body as Record<string, string>, { csrf });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.body).not.toContain('private to B');
    }
    const smuggledParent = await w.a.learner.api('POST', `/api/v1/threads/${threadA}/posts`, { body: 'smuggled', parentId: postB });
    expect(smuggledParent.statusCode).toBe(400);
    const rowsB = (await w.t.ctx.db.select().from(posts)).filter((p) => p.cohortId === w.b.id || p.markdown === 'smuggled');
    expect(rowsB.map((p) => [p.cohortId, p.markdown, p.deletedAt])).toEqual([
      [w.b.id, 'private to B', null],
      [w.b.id, 'also private to B', null],
    ]);
  });

  it("a withdrawn learner loses access to the cohort's discussion", async () => {
    const learner = await w.t.ctx.people.get(w.a.learner2.user.id);
    await w.t.ctx.database.transaction((tx) => w.t.ctx.cohorts.withdraw(tx, w.a.id, learner.id));
    expect((await w.a.learner2.api('GET', `/api/v1/threads/${threadA}`)).statusCode).toBe(403);
    expect((await w.a.learner2.api('GET', `/api/v1/cohorts/${w.a.id}/threads`)).statusCode).toBe(403);
  });

  it("an admin sees every cohort's discussion", async () => {
    expect((await w.admin.api('GET', `/api/v1/threads/${threadA}`)).statusCode).toBe(200);
    expect((await w.admin.api('GET', `/api/v1/threads/${threadB}`)).statusCode).toBe(200);
  });
});
