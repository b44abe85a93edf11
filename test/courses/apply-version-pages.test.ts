// Applying a new course version to a running cohort from its page: the preview lists what changes (weeks, prompts,
// live sessions, dates) before anything happens; applying moves the cohort; a version without the week the cohort is
// in is refused with the reason (409 on the page and in the API) and changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { apiAs } from '../helpers/http.js';
import { insertCohort, insertUser, signInBrowser } from '../helpers/factories.js';
import type { Browser } from '../helpers/http.js';
import type { CourseDocument } from '../../modules/courses/course-document.js';

let t: TestApp;
let teacher: Browser;
let teacherApi: ReturnType<typeof apiAs>;
let inWeek1: number;
let inWeek4: number;
let outsider: Browser;

beforeAll(async () => {
  // Monday 2 March 2026: one cohort starts today (week 1), one started three weeks ago (week 4).
  t = await createTestApp({ now: '2026-03-02T09:00:00.000Z' });
  const te = await insertUser(t, 'instructor', 'Tess Teacher');
  teacher = await signInBrowser(t, te.email);
  teacherApi = apiAs(t.app, te.token);
  inWeek1 = (await insertCohort(t, { startDate: '2026-03-02', instructor: te.email })).cohort.id;
  inWeek4 = (await insertCohort(t, { startDate: '2026-02-09', instructor: te.email })).cohort.id;
  outsider = await signInBrowser(t, (await insertUser(t, 'instructor')).email);
  // Version 2: week 1's first prompt relabelled, week 2 renamed, week 4 gone (with its sessions), sessions at 10:00.
  const admin = apiAs(t.app, (await insertUser(t, 'admin')).token);
  const draft = (await admin('GET', '/api/v1/courses/strategic-planning/draft')).json() as CourseDocument;
  const prompts = draft.weeks[0].assignment?.prompts ?? [];
  expect(prompts.length).toBeGreaterThan(0);
  prompts[0] = { ...prompts[0], label: 'Renamed: what does your library do best?' };
  draft.weeks[1].title = 'Week 2, rewritten';
  draft.weeks.pop();
  draft.sessions = (draft.sessions ?? []).filter((s) => s.week <= 3).map((s) => ({ ...s, time: '10:00' }));
  if (draft.certificate && typeof draft.certificate === 'object' && typeof draft.certificate.sessions === 'number') {
    draft.certificate.sessions = Math.min(draft.certificate.sessions, draft.sessions.length);
  }
  const put = await admin('PUT', '/api/v1/courses/strategic-planning/draft', draft);
  expect(put.statusCode, put.body).toBe(200);
  expect((await admin('POST', '/api/v1/courses/strategic-planning/publish', { note: 'Three weeks' })).json()).toEqual({ version: 2 });
}, 60_000);
afterAll(async () => t?.close());

describe('applying a course version to a cohort', () => {
  it('the cohort page says a newer version exists; the version page previews it without changing anything', async () => {
    const plan = await teacher.get(`/teach/cohorts/${inWeek1}`);
    expect(plan.body).toContain('version 2 is published');
    const page = await teacher.get(`/teach/cohorts/${inWeek1}/course-version?version=2`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('This cohort follows <strong>version 1</strong>');
    expect(page.body).toContain('Renamed: what does your library do best?');
    expect(page.body).toContain('Week 2, rewritten');
    expect(page.body).toMatch(/Week 4:<\/strong> Removed/);
    expect(page.body).toContain('The last week ends');
    expect(page.body).toContain('No longer held');
    expect(page.body).toContain('Apply version 2 to this cohort');
    expect((await t.ctx.cohorts.get(inWeek1)).courseVersion).toBe(1);
  });

  it('a cohort in a week the version removes cannot take it: the page says why, the API answers 409, nothing changes', async () => {
    const page = await teacher.get(`/teach/cohorts/${inWeek4}/course-version?version=2`);
    expect(page.body).toContain('This cohort is in week 4');
    expect(page.body).not.toContain('Apply version 2 to this cohort');
    const post = await teacher.post(`/teach/cohorts/${inWeek4}/course-version`, { version: '2' }, { fromPage: `/teach/cohorts/${inWeek4}/course-version` });
    expect(post.statusCode).toBe(409);
    expect(post.body).toContain('The version was not applied');
    const api = await teacherApi('POST', `/api/v1/cohorts/${inWeek4}/course-version`, { version: 2 });
    expect(api.statusCode).toBe(409);
    expect(api.headers['content-type']).toContain('application/problem+json');
    expect(api.json().detail).toContain('week 4');
    expect((await t.ctx.cohorts.get(inWeek4)).courseVersion).toBe(1);
  });

  it('applies the version from the page; learners then read the new week title', async () => {
    const post = await teacher.post(`/teach/cohorts/${inWeek1}/course-version`, { version: '2' }, { fromPage: `/teach/cohorts/${inWeek1}/course-version?version=2` });
    expect(post.statusCode).toBe(303);
    expect(post.headers.location).toBe(`/teach/cohorts/${inWeek1}/course-version?applied=2`);
    const cohort = await t.ctx.cohorts.get(inWeek1);
    expect(cohort.courseVersion).toBe(2);
    expect(cohort.course.weekCount).toBe(3);
    expect(cohort.course.weeks[1].title).toBe('Week 2, rewritten');
    expect((await teacher.get(`/teach/cohorts/${inWeek1}/course-version?applied=2`)).body).toContain('now follows version 2');
  });

  it('an unknown version is a friendly 400; another instructor is refused', async () => {
    const post = await teacher.post(`/teach/cohorts/${inWeek1}/course-version`, { version: '99' }, { fromPage: `/teach/cohorts/${inWeek1}/course-version` });
    expect(post.statusCode).toBe(400);
    expect(post.body).toContain('Choose one of the published versions');
    expect((await outsider.get(`/teach/cohorts/${inWeek1}/course-version`)).statusCode).toBe(403);
  });
});
