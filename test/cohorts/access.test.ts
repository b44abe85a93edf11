// Who may read what, when: learners see week n from opensAt(n) until accessEndsAt; the cohort's instructors and
// admins always; no one outside the cohort sees anything of it.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { apiAs } from '../helpers/http.js';
import { enrolLearner, insertCohort, insertUser } from '../helpers/factories.js';
import type { Cohort } from '../../modules/cohorts/service.js';

let t: TestApp;
let cohortA: Cohort;
let cohortB: Cohort;
let learner: Awaited<ReturnType<typeof insertUser>>;
let otherLearner: Awaited<ReturnType<typeof insertUser>>;
let instructorA: { token: string };
let admin: Awaited<ReturnType<typeof insertUser>>;
const get = (token: string | null, url: string) => apiAs(t.app, token)('GET', url);

beforeAll(async () => {
  t = await createTestApp({ now: '2026-03-01T00:00:00.000Z' });
  // New York cohort opening weeks at 08:00 local: 13:00Z before 8 March, 12:00Z after.
  const a = await insertCohort(t, { course: 'strategic-planning', startDate: '2026-03-02', timezone: 'America/New_York' });
  cohortA = a.cohort;
  instructorA = a.instructor as { token: string };
  cohortB = (await insertCohort(t, { course: 'strategic-planning', startDate: '2026-03-02', timezone: 'America/New_York' })).cohort;
  learner = await enrolLearner(t, cohortA.id);
  otherLearner = await enrolLearner(t, cohortB.id);
  admin = await insertUser(t, 'admin');
});
afterAll(async () => t.close());
beforeEach(() => t.clock.set('2026-03-01T00:00:00.000Z'));

describe('a learner and the weeks of their cohort', () => {
  it('cannot read week 1 before it opens, and can from the opening instant', async () => {
    t.clock.set('2026-03-02T12:59:59.999Z');
    const early = await get(learner.token, `/api/v1/cohorts/${cohortA.id}/weeks/1`);
    expect(early.statusCode).toBe(403);
    expect(early.headers['content-type']).toContain('application/problem+json');
    expect(early.json().detail).toContain('Week 1 opens');
    t.clock.set('2026-03-02T13:00:00.000Z');
    const open = await get(learner.token, `/api/v1/cohorts/${cohortA.id}/weeks/1`);
    expect(open.statusCode).toBe(200);
    expect(open.json()).toMatchObject({ number: 1, opensAt: '2026-03-02T13:00:00.000Z', dueAt: '2026-03-09T12:00:00.000Z' });
    expect(open.json().assignment.prompts.length).toBeGreaterThan(0);
  });

  it('cannot read week 3 before it opens, even though the cohort is running (after the spring change: 12:00Z)', async () => {
    t.clock.set('2026-03-16T11:59:59.999Z');
    expect((await get(learner.token, `/api/v1/cohorts/${cohortA.id}/weeks/3`)).statusCode).toBe(403);
    expect((await get(learner.token, `/api/v1/cohorts/${cohortA.id}/weeks/2`)).statusCode).toBe(200);
    t.clock.set('2026-03-16T12:00:00.000Z');
    expect((await get(learner.token, `/api/v1/cohorts/${cohortA.id}/weeks/3`)).statusCode).toBe(200);
  });

  it('reads every week until accessEndsAt, then nothing of the cohort at all', async () => {
    // accessEndsAt: 30 March + 28 days, 08:00 EDT = 2026-04-27T12:00Z.
    t.clock.set('2026-04-27T11:59:59.999Z');
    for (const n of [1, 2, 3, 4]) expect((await get(learner.token, `/api/v1/cohorts/${cohortA.id}/weeks/${n}`)).statusCode).toBe(200);
    expect((await get(learner.token, `/api/v1/cohorts/${cohortA.id}`)).statusCode).toBe(200);
    t.clock.set('2026-04-27T12:00:00.000Z');
    const late = await get(learner.token, `/api/v1/cohorts/${cohortA.id}/weeks/1`);
    expect(late.statusCode).toBe(403);
    expect(late.json().detail).toContain('archived');
    expect((await get(learner.token, `/api/v1/cohorts/${cohortA.id}`)).statusCode).toBe(403);
  });

  it('a withdrawn learner is outside the cohort', async () => {
    const gone = await enrolLearner(t, cohortA.id);
    t.clock.set('2026-03-10T00:00:00.000Z');
    expect((await get(gone.token, `/api/v1/cohorts/${cohortA.id}/weeks/1`)).statusCode).toBe(200);
    await t.ctx.database.transaction((tx) => t.ctx.cohorts.withdraw(tx, cohortA.id, gone.user.id));
    expect((await get(gone.token, `/api/v1/cohorts/${cohortA.id}/weeks/1`)).statusCode).toBe(403);
  });
});

describe('instructors and admins', () => {
  it('read every week before it opens and after access has ended', async () => {
    for (const at of ['2026-03-01T00:00:00.000Z', '2026-09-01T00:00:00.000Z']) {
      t.clock.set(at);
      for (const token of [instructorA.token, admin.token]) {
        expect((await get(token, `/api/v1/cohorts/${cohortA.id}/weeks/4`)).statusCode).toBe(200);
        expect((await get(token, `/api/v1/cohorts/${cohortA.id}`)).statusCode).toBe(200);
      }
    }
  });

  it('an instructor of another cohort is refused (403)', async () => {
    expect((await get(instructorA.token, `/api/v1/cohorts/${cohortB.id}`)).statusCode).toBe(403);
    expect((await get(instructorA.token, `/api/v1/cohorts/${cohortB.id}/weeks/1`)).statusCode).toBe(403);
    const put = await apiAs(t.app, instructorA.token)('PUT', `/api/v1/cohorts/${cohortB.id}/weeks/1`, { title: 'Mine now' });
    expect(put.statusCode).toBe(403);
  });
});

describe('outside the cohort', () => {
  it('a learner of cohort A cannot read cohort B, its weeks, or list it', async () => {
    t.clock.set('2026-03-20T00:00:00.000Z');
    expect((await get(learner.token, `/api/v1/cohorts/${cohortB.id}`)).statusCode).toBe(403);
    expect((await get(learner.token, `/api/v1/cohorts/${cohortB.id}/weeks/1`)).statusCode).toBe(403);
    const list = (await get(learner.token, '/api/v1/cohorts')).json();
    expect(list.map((c: { id: number }) => c.id)).toEqual([cohortA.id]);
    expect((await get(otherLearner.token, '/api/v1/cohorts')).json().map((c: { id: number }) => c.id)).toEqual([cohortB.id]);
  });

  it('signed out: 401; unknown cohort or week: 404; a malformed id: 400', async () => {
    expect((await get(null, `/api/v1/cohorts/${cohortA.id}`)).statusCode).toBe(401);
    expect((await get(null, `/api/v1/cohorts/${cohortA.id}/weeks/1`)).statusCode).toBe(401);
    expect((await get(null, '/api/v1/cohorts')).statusCode).toBe(401);
    expect((await get(admin.token, '/api/v1/cohorts/999999')).statusCode).toBe(404);
    expect((await get(admin.token, `/api/v1/cohorts/${cohortA.id}/weeks/5`)).statusCode).toBe(404);
    const bad = await get(admin.token, '/api/v1/cohorts/abc');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().detail).toContain('id');
  });

  it('only admins create cohorts', async () => {
    const body = { course: 'strategic-planning', startDate: '2026-06-01', timezone: 'Europe/London', capacity: 12, instructors: [] };
    expect((await apiAs(t.app, null)('POST', '/api/v1/cohorts', body)).statusCode).toBe(401);
    expect((await apiAs(t.app, instructorA.token)('POST', '/api/v1/cohorts', body)).statusCode).toBe(403);
    expect((await apiAs(t.app, learner.token)('POST', '/api/v1/cohorts', body)).statusCode).toBe(403);
    const ok = await apiAs(t.app, admin.token)('POST', '/api/v1/cohorts', body);
    expect(ok.statusCode).toBe(201);
    expect(ok.json()).toMatchObject({ course: 'strategic-planning', startDate: '2026-06-01', capacity: 12, weeks: expect.any(Array), sessions: expect.any(Array) });
  });

  it.each([
    [{ course: 'no-such-course' }, 'course'],
    [{ startDate: '2026-13-01' }, 'startDate'],
    [{ timezone: 'Europe/Atlantis' }, 'timezone'],
    [{ capacity: -1 }, 'capacity'],
    [{ instructors: 'someone@example.org' }, 'instructors'],
  ])('POST /api/v1/cohorts refuses %j with a 400 naming the field', async (change, field) => {
    const body = { course: 'strategic-planning', startDate: '2026-06-01', timezone: 'Europe/London', capacity: 12, instructors: [], ...change };
    const res = await apiAs(t.app, admin.token)('POST', '/api/v1/cohorts', body);
    expect(res.statusCode).toBe(400);
    expect(res.json().detail).toContain(field);
  });
});

describe('editing a week for one cohort (API)', () => {
  it('its instructor edits title and Markdown; the HTML is sanitised; the course file and other cohorts are untouched', async () => {
    const source = (await t.ctx.courses.latest('strategic-planning')).weeks[0];
    const before = source.markdown;
    const res = await apiAs(t.app, instructorA.token)('PUT', `/api/v1/cohorts/${cohortA.id}/weeks/1`, {
      title: 'Week 1 — Our users first',
      markdown: '# Hello\n\n<script>alert(1)</script>\n\n<img src=x onerror="alert(2)">\n\n[click](javascript:alert(3)) and **bold**',
    });
    expect(res.statusCode).toBe(200);
    const html: string = res.json().html;
    expect(html).not.toMatch(/<script|onerror|javascript:|<img/i);
    expect(html).toContain('<strong>bold</strong>');
    expect(html).toContain('<h2>Hello</h2>');
    expect(res.json()).toMatchObject({ title: 'Week 1 — Our users first', edited: true });
    expect((await t.ctx.courses.latest('strategic-planning')).weeks[0].markdown).toBe(before);
    const other = (await get(admin.token, `/api/v1/cohorts/${cohortB.id}/weeks/1`)).json();
    expect(other).toMatchObject({ title: source.title, edited: false, html: source.html });
  });

  it('learners cannot edit a week (403); bad input is 400', async () => {
    expect((await apiAs(t.app, learner.token)('PUT', `/api/v1/cohorts/${cohortA.id}/weeks/1`, { title: 'x' })).statusCode).toBe(403);
    const empty = await apiAs(t.app, instructorA.token)('PUT', `/api/v1/cohorts/${cohortA.id}/weeks/1`, { title: '' });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().detail).toContain('title');
    const unknown = await apiAs(t.app, instructorA.token)('PUT', `/api/v1/cohorts/${cohortA.id}/weeks/1`, { html: '<b>x</b>' });
    expect(unknown.statusCode).toBe(400);
  });
});
