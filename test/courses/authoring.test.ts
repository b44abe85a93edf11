// Course authoring through the API: an admin creates a course, its authors write the draft and publish it, cohorts of
// it follow new versions (running ones only once applied), and only admins and the course's authors get in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { apiAs } from '../helpers/http.js';
import { enrolLearner, insertUser } from '../helpers/factories.js';
import type { CourseDocument } from '../../modules/courses/course-document.js';

/** A one-week course written in code, as an author using the API would send it. */
function oneWeekCourse(weekTitle = 'Week 1 — Open questions'): CourseDocument {
  return {
    title: 'Reference Interviews',
    summary: 'One week on asking the question behind the question.',
    description: 'A short course on **reference interviews**.\n\nOne live session, one worksheet.\n',
    hoursPerWeek: 1.5,
    price: { amountMinor: 4500, currency: 'EUR' },
    sessions: [{ week: 1, weekday: 'tue', time: '09:30', durationMinutes: 45, title: 'Live session' }],
    weeks: [{
      title: weekTitle,
      summary: 'Why the first question is rarely the real one.',
      markdown: '## Listening first\n\nMost questions at the desk are really about something else.',
      assignment: {
        title: 'Worksheet — Your last three questions',
        instructions: 'Think of the last three questions you were asked.',
        prompts: [
          { id: 'asked', label: 'What were you asked?' },
          { id: 'meant', label: 'What did they really want to know?', help: 'Guess if you must.', maxLength: 1000 },
        ],
      },
    }],
  };
}

type Api = ReturnType<typeof apiAs>;
let t: TestApp;
let admin: Api;
let author: Api;
let otherInstructor: Api;
let learner: Api;
let anonymous: Api;
let authorEmail: string;
let authorToken: string;
let teacher: { email: string; api: Api };

beforeAll(async () => {
  // Monday 2 March 2026, 09:00 UTC: a cohort starting today is running, one starting in two weeks is not.
  t = await createTestApp({ now: '2026-03-02T09:00:00.000Z' });
  const a = await insertUser(t, 'admin');
  admin = apiAs(t.app, a.token);
  const au = await insertUser(t, 'instructor', 'Ada Author');
  author = apiAs(t.app, au.token);
  authorEmail = au.email;
  authorToken = au.token;
  otherInstructor = apiAs(t.app, (await insertUser(t, 'instructor')).token);
  learner = apiAs(t.app, (await insertUser(t, 'learner')).token);
  anonymous = apiAs(t.app, null);
  const te = await insertUser(t, 'instructor', 'Tom Teacher');
  teacher = { email: te.email, api: apiAs(t.app, te.token) };
}, 60_000);

afterAll(async () => t?.close());

describe('authoring a course through the API', () => {
  it('an admin creates a course, its author drafts and publishes it, and a learner of a cohort of it reads week 1', async () => {
    const created = await admin('POST', '/api/v1/courses', { slug: 'reference-interviews', title: 'Reference Interviews' });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ slug: 'reference-interviews', title: 'Reference Interviews', latestVersion: null, draft: { title: 'Reference Interviews', weeks: [] } });

    // Created but never published: not in the catalogue.
    const listed = (await anonymous('GET', '/api/v1/courses')).json() as Array<{ slug: string }>;
    expect(listed.map((c) => c.slug)).not.toContain('reference-interviews');

    expect((await admin('POST', '/api/v1/courses/reference-interviews/authors', { email: authorEmail })).statusCode).toBe(201);

    // An invalid draft: every problem listed at its path, and nothing saved.
    const bad = oneWeekCourse() as unknown as Record<string, unknown>;
    bad.hoursPerWeek = -1;
    const week = (bad.weeks as Array<Record<string, unknown>>)[0];
    delete week.title;
    ((week.assignment as { prompts: Array<{ id: string }> }).prompts[1]).id = 'Not An Id';
    const refused = await author('PUT', '/api/v1/courses/reference-interviews/draft', bad);
    expect(refused.statusCode).toBe(400);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    const problem = refused.json();
    const fields = (problem.errors as Array<{ field: string; detail: string }>).map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['hoursPerWeek', 'weeks[0].title', 'weeks[0].assignment.prompts[1].id']));
    expect(problem.detail).toContain('weeks[0].title');
    expect(problem.detail).toContain('hoursPerWeek');
    expect((await author('GET', '/api/v1/courses/reference-interviews/draft')).json()).toMatchObject({ title: 'Reference Interviews', weeks: [] });

    // The price is the admins' to set: an author who changes it is refused, and nothing is saved.
    const priced = await author('PUT', '/api/v1/courses/reference-interviews/draft', oneWeekCourse());
    expect(priced.statusCode).toBe(403);
    expect(priced.json().detail).toContain('price');
    expect((await author('GET', '/api/v1/courses/reference-interviews/draft')).json()).toMatchObject({ weeks: [] });
    const byAdmin = await admin('PUT', '/api/v1/courses/reference-interviews/draft', { ...oneWeekCourse(), certificate: true });
    expect(byAdmin.statusCode).toBe(200);
    expect((await author('PUT', '/api/v1/courses/reference-interviews/draft', oneWeekCourse())).json().detail).toContain('certificate');

    // Keeping the admins' fields as they are, the author writes everything else.
    const saved = await author('PUT', '/api/v1/courses/reference-interviews/draft', { ...oneWeekCourse(), certificate: true });
    expect(saved.statusCode).toBe(200);
    expect(saved.json()).toEqual({ ...oneWeekCourse(), certificate: true });
    expect((await author('GET', '/api/v1/courses/reference-interviews/draft')).json()).toEqual({ ...oneWeekCourse(), certificate: true });

    const published = await author('POST', '/api/v1/courses/reference-interviews/publish', { note: 'First run' });
    expect(published.statusCode).toBe(201);
    expect(published.json()).toEqual({ version: 1 });
    const catalogue = (await anonymous('GET', '/api/v1/courses')).json() as Array<{ slug: string; weeks: number }>;
    expect(catalogue.find((c) => c.slug === 'reference-interviews')).toMatchObject({ weeks: 1 });
    const versions = (await author('GET', '/api/v1/courses/reference-interviews/versions')).json();
    expect(versions).toEqual([{ version: 1, note: 'First run', publishedAt: '2026-03-02T09:00:00.000Z', publishedBy: authorEmail }]);

    const cohort = await admin('POST', '/api/v1/cohorts', { course: 'reference-interviews', startDate: '2026-03-02', timezone: 'Europe/London', capacity: 10, instructors: [teacher.email] });
    expect(cohort.statusCode).toBe(201);
    const id = cohort.json().id as number;
    const enrolled = apiAs(t.app, (await enrolLearner(t, id, 'Lena Learner')).token);
    const week1 = await enrolled('GET', `/api/v1/cohorts/${id}/weeks/1`);
    expect(week1.statusCode).toBe(200);
    expect(week1.json()).toMatchObject({ number: 1, title: 'Week 1 — Open questions', assignment: { prompts: [{ id: 'asked' }, { id: 'meant' }] } });
  });

  it('a second version reaches a running cohort only when applied to it; a cohort not started follows it', async () => {
    const running = (await admin('POST', '/api/v1/cohorts', { course: 'reference-interviews', startDate: '2026-03-02', timezone: 'Europe/London', capacity: 10, instructors: [teacher.email] })).json().id as number;
    const upcoming = (await admin('POST', '/api/v1/cohorts', { course: 'reference-interviews', startDate: '2026-03-16', timezone: 'Europe/London', capacity: 10, instructors: [teacher.email] })).json().id as number;
    const enrolled = apiAs(t.app, (await enrolLearner(t, running, 'Rita Running')).token);

    expect((await author('PUT', '/api/v1/courses/reference-interviews/draft', { ...oneWeekCourse('Week 1 — Questions behind questions'), certificate: true })).statusCode).toBe(200);
    const second = await author('POST', '/api/v1/courses/reference-interviews/publish', {});
    expect(second.statusCode).toBe(201);
    const version = second.json().version as number;
    expect(version).toBe(2);
    // No body at all is a publish without a note.
    expect((await author('PUT', '/api/v1/courses/reference-interviews/draft', { ...oneWeekCourse('Week 1 — Questions behind questions'), certificate: true })).statusCode).toBe(200);
    const third = await t.app.inject({ method: 'POST', url: '/api/v1/courses/reference-interviews/publish', headers: { authorization: `Bearer ${authorToken}` } });
    expect(third.statusCode).toBe(201);
    expect(third.json()).toEqual({ version: 3 });
    expect(((await admin('GET', '/api/v1/courses/reference-interviews/versions')).json() as Array<{ note: string | null }>).map((v) => v.note)).toEqual(['First run', null, null]);

    expect((await enrolled('GET', `/api/v1/cohorts/${running}/weeks/1`)).json().title).toBe('Week 1 — Open questions');
    expect((await admin('GET', `/api/v1/cohorts/${upcoming}`)).json().weeks[0].title).toBe('Week 1 — Questions behind questions');

    expect((await teacher.api('POST', `/api/v1/cohorts/${running}/course-version`, { version: 99 })).statusCode).toBe(404);
    const applied = await teacher.api('POST', `/api/v1/cohorts/${running}/course-version`, { version });
    expect(applied.statusCode, applied.body).toBe(200);
    expect(applied.statusCode).toBe(200);
    expect(applied.json()).toMatchObject({ id: running, courseVersion: version, weeks: [{ number: 1, title: 'Week 1 — Questions behind questions' }] });
    expect((await enrolled('GET', `/api/v1/cohorts/${running}/weeks/1`)).json().title).toBe('Week 1 — Questions behind questions');

    // Not the cohort's instructor, not a member: refused.
    expect((await otherInstructor('POST', `/api/v1/cohorts/${running}/course-version`, { version: 1 })).statusCode).toBe(403);
    expect((await enrolled('POST', `/api/v1/cohorts/${running}/course-version`, { version: 1 })).statusCode).toBe(403);
    expect((await anonymous('POST', `/api/v1/cohorts/${running}/course-version`, { version: 1 })).statusCode).toBe(401);
  });

  it('refuses a taken slug (409) and a bad one (400)', async () => {
    const taken = await admin('POST', '/api/v1/courses', { slug: 'strategic-planning', title: 'Again' });
    expect(taken.statusCode).toBe(409);
    const bad = await admin('POST', '/api/v1/courses', { slug: 'Not A Slug', title: 'Bad' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().detail).toMatch(/^slug: /);
  });

  it('refuses to publish a draft that does not validate, listing every problem (400)', async () => {
    expect((await admin('POST', '/api/v1/courses', { slug: 'half-written', title: 'Half Written' })).statusCode).toBe(201);
    const res = await admin('POST', '/api/v1/courses/half-written/publish', { note: 'Too soon' });
    expect(res.statusCode).toBe(400);
    const fields = (res.json().errors as Array<{ field: string }>).map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['summary', 'description', 'weeks', 'hoursPerWeek']));
    expect((await admin('GET', '/api/v1/courses/half-written/versions')).json()).toEqual([]);
    const listed = (await anonymous('GET', '/api/v1/courses')).json() as Array<{ slug: string }>;
    expect(listed.map((c) => c.slug)).not.toContain('half-written');
  });

  it('a learner named as an author becomes an instructor; an unknown address or course is 404', async () => {
    expect((await admin('POST', '/api/v1/courses', { slug: 'authors-course', title: 'Authors' })).statusCode).toBe(201);
    const person = await insertUser(t, 'learner');
    const res = await admin('POST', '/api/v1/courses/authors-course/authors', { email: person.email });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ slug: 'authors-course', authors: [person.email] });
    expect((await t.ctx.people.findByEmail(person.email))?.role).toBe('instructor');
    expect((await apiAs(t.app, person.token)('GET', '/api/v1/courses/authors-course/draft')).statusCode).toBe(200);
    expect((await admin('POST', '/api/v1/courses/authors-course/authors', { email: 'nobody-here@example.org' })).statusCode).toBe(404);
    expect((await admin('POST', '/api/v1/courses/no-such-course/authors', { email: person.email })).statusCode).toBe(404);
  });
});

describe('who may author', () => {
  const slug = 'who-may';
  beforeAll(async () => {
    await admin('POST', '/api/v1/courses', { slug, title: 'Who May' });
    await admin('POST', `/api/v1/courses/${slug}/authors`, { email: authorEmail });
  });

  const routes: Array<{ name: string; call: (api: Api) => ReturnType<Api>; ok: number }> = [
    { name: 'GET draft', call: (api) => api('GET', `/api/v1/courses/${slug}/draft`), ok: 200 },
    { name: 'PUT draft', call: (api) => api('PUT', `/api/v1/courses/${slug}/draft`, { ...oneWeekCourse(), title: 'Who May' }), ok: 200 },
    { name: 'publish', call: (api) => api('POST', `/api/v1/courses/${slug}/publish`, {}), ok: 201 },
    { name: 'GET versions', call: (api) => api('GET', `/api/v1/courses/${slug}/versions`), ok: 200 },
  ];

  for (const r of routes) {
    it(`${r.name}: admins and the course's authors; another instructor and a learner 403; anonymous 401`, async () => {
      expect((await r.call(admin)).statusCode).toBe(r.ok);
      expect((await r.call(author)).statusCode).toBe(r.ok);
      expect((await r.call(otherInstructor)).statusCode).toBe(403);
      expect((await r.call(learner)).statusCode).toBe(403);
      expect((await r.call(anonymous)).statusCode).toBe(401);
    });
  }

  it('creating a course and naming authors: admins only', async () => {
    for (const [api, status] of [[author, 403], [learner, 403], [anonymous, 401]] as const) {
      expect((await api('POST', '/api/v1/courses', { slug: 'not-mine', title: 'Not Mine' })).statusCode).toBe(status);
      expect((await api('POST', `/api/v1/courses/${slug}/authors`, { email: authorEmail })).statusCode).toBe(status);
    }
  });

  it('an instructor editing a course they do not author is refused and nothing changes', async () => {
    const before = (await admin('GET', `/api/v1/courses/${slug}/draft`)).json();
    const res = await otherInstructor('PUT', `/api/v1/courses/${slug}/draft`, { ...oneWeekCourse(), title: 'Taken Over' });
    expect(res.statusCode).toBe(403);
    expect((await admin('GET', `/api/v1/courses/${slug}/draft`)).json()).toEqual(before);
  });
});
