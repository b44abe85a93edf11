// The cohort pages for each role: my courses, the cohort home, the week page, teaching and admin pages,
// friendly 403/404 pages, form validation with friendly messages, and sanitised week edits.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { Browser } from '../helpers/http.js';
import { enrolLearner, insertCohort, insertUser, signInBrowser } from '../helpers/factories.js';
import type { Cohort } from '../../modules/cohorts/service.js';

/** The cohorts module's own messages to one address (other modules mail too: reminders, bookings). */
async function ours(t: TestApp, address: string) {
  return (await t.mailsTo(address)).filter((m) => /^(New dates for|Week \d+ is open)/.test(m.subject ?? ''));
}

let t: TestApp;
let cohort: Cohort;
let other: Cohort;
let learner: Awaited<ReturnType<typeof insertUser>>;
let instructorEmail: string;
let adminEmail: string;
let asLearner: Browser;
let asInstructor: Browser;
let asAdmin: Browser;
let asOtherInstructor: Browser;

beforeAll(async () => {
  t = await createTestApp({ now: '2026-03-01T00:00:00.000Z' });
  // Strategic planning in London, weeks at 08:00: 16, 23 March (GMT), 30 March, 6 April (BST).
  const c = await insertCohort(t, { course: 'strategic-planning', startDate: '2026-03-16', timezone: 'Europe/London' });
  cohort = c.cohort;
  instructorEmail = c.instructor.email;
  const o = await insertCohort(t, { course: 'strategic-planning', startDate: '2026-03-16', timezone: 'Europe/London' });
  other = o.cohort;
  learner = await enrolLearner(t, cohort.id, 'Ann Archivist');
  await enrolLearner(t, other.id, 'Olu Other');
  adminEmail = (await insertUser(t, 'admin', 'Ada Admin')).email;
  asLearner = await signInBrowser(t, learner.email);
  asInstructor = await signInBrowser(t, instructorEmail);
  asAdmin = await signInBrowser(t, adminEmail);
  asOtherInstructor = await signInBrowser(t, o.instructor.email);
});
afterAll(async () => t.close());
beforeEach(() => t.clock.set('2026-03-24T12:00:00.000Z'));

const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

describe('my courses', () => {
  it('shows a running cohort with what is open now and what is due next, in the learner’s time zone', async () => {
    const res = await asLearner.get('/my');
    expect(res.statusCode).toBe(200);
    const body = text(res.body);
    expect(res.body).toContain('<h1>My courses</h1>');
    expect(body).toContain('Strategic Planning with Purpose');
    expect(body).toContain('Running');
    expect(body).toMatch(/Open now: Week 2/);
    // Week 2 is due when week 3 opens: 30 March 08:00 BST.
    expect(body).toContain('Due next: week 2 assignment, by Mon, 30 Mar 2026, 08:00 BST');
    expect(res.body).toContain(`href="/cohorts/${cohort.id}/weeks/2"`);
    expect(res.body).not.toContain(`/cohorts/${other.id}"`);
  });

  it('before the start it says when week 1 opens; in the grace period how many days are left', async () => {
    t.clock.set('2026-03-10T00:00:00.000Z');
    expect(text((await asLearner.get('/my')).body)).toContain('Week 1 opens Mon, 16 Mar 2026, 08:00 GMT');
    // endsAt 13 April 07:00Z; graceEndsAt 27 April 07:00Z.
    // Sessions last 30 days: sign in again after the jump.
    t.clock.set('2026-04-14T12:00:00.000Z');
    const later = await signInBrowser(t, learner.email);
    const body = text((await later.get('/my')).body);
    expect(body).toContain('Grace period');
    expect(body).toContain('13 days left to submit work');
    t.clock.set('2026-04-26T12:00:00.000Z');
    expect(text((await later.get('/my')).body)).toContain('1 day left to submit work');
  });

  it('lists an archived cohort under Finished without a link', async () => {
    t.clock.set('2026-06-01T00:00:00.000Z');
    const res = await (await signInBrowser(t, learner.email)).get('/my');
    expect(text(res.body)).toContain('Finished');
    expect(text(res.body)).toContain('no longer available');
    expect(res.body).not.toContain(`href="/cohorts/${cohort.id}"`);
  });

  it('an instructor sees the cohorts they teach with a link to the plan', async () => {
    const res = await asInstructor.get('/my');
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain(`href="/teach/cohorts/${cohort.id}"`);
  });

  it('signed out, it sends you to sign in and back', async () => {
    const res = await new Browser(t.app).get('/my');
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/sign-in?next=%2Fmy');
  });
});

describe('the cohort home', () => {
  it('shows the week-by-week plan in the learner’s own zone, open weeks linked and later ones locked', async () => {
    await t.ctx.people.updateProfile(learner.user.id, { timezone: 'America/New_York' });
    try {
      const res = await asLearner.get(`/cohorts/${cohort.id}`);
      expect(res.statusCode).toBe(200);
      const body = text(res.body);
      expect(res.body.match(/<h1>/g)).toHaveLength(1);
      // Week 3 opens at 07:00Z = 03:00 in New York (EDT).
      expect(body).toContain('Opens Mon, 30 Mar 2026, 03:00 EDT');
      expect(body).toContain('Times are shown in America/New York (your choice)');
      expect(res.body).toContain(`href="/cohorts/${cohort.id}/weeks/2"`);
      expect(res.body).not.toContain(`href="/cohorts/${cohort.id}/weeks/3"`);
      expect(body).toMatch(/Locked/);
      expect(res.body).toContain('aria-current="step"');
    } finally {
      await t.ctx.people.updateProfile(learner.user.id, { timezone: null });
    }
  });

  it('defaults to the cohort’s zone; staff see every week linked and the teaching link', async () => {
    const mine = text((await asLearner.get(`/cohorts/${cohort.id}`)).body);
    expect(mine).toContain('Opens Mon, 30 Mar 2026, 08:00 BST');
    expect(mine).toContain("the cohort's time zone");
    const staff = await asInstructor.get(`/cohorts/${cohort.id}`);
    expect(staff.statusCode).toBe(200);
    expect(staff.body).toContain(`href="/cohorts/${cohort.id}/weeks/4"`);
    expect(staff.body).toContain(`href="/teach/cohorts/${cohort.id}"`);
    expect((await asAdmin.get(`/cohorts/${cohort.id}`)).statusCode).toBe(200);
  });

  it('refuses people outside the cohort with a friendly 403 page, and unknown cohorts with a 404 page', async () => {
    const res = await asLearner.get(`/cohorts/${other.id}`);
    expect(res.statusCode).toBe(403);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).toContain('You are not part of this cohort.');
    expect((await asOtherInstructor.get(`/cohorts/${cohort.id}`)).statusCode).toBe(403);
    for (const url of ['/cohorts/999999', '/cohorts/abc', `/cohorts/${cohort.id}/weeks/9`, `/cohorts/${cohort.id}/weeks/x`]) {
      const nf = await asLearner.get(url);
      expect(nf.statusCode, url).toBe(404);
      expect(nf.body).toContain('<h1>Not found</h1>');
    }
  });
});

describe('the week page', () => {
  it('shows the week’s text, readings and dates to a learner once it is open', async () => {
    const res = await asLearner.get(`/cohorts/${cohort.id}/weeks/2`);
    expect(res.statusCode).toBe(200);
    const body = text(res.body);
    expect(res.body).toContain('<h1>Week 2 — Bringing people into the plan</h1>');
    expect(body).toContain('Readings');
    expect(body).toContain('Libraries Connected strategic plan 2023–2027');
    expect(body).toContain('Assignment due Mon, 30 Mar 2026, 08:00 BST');
    expect(res.body).toContain(`href="/cohorts/${cohort.id}/weeks/1"`);
    expect(res.body).not.toContain(`href="/cohorts/${cohort.id}/weeks/3"`);
    expect(res.body).not.toContain('Edit this week');
  });

  it('before it opens a learner gets a 403 page saying when it opens; staff can read it', async () => {
    const res = await asLearner.get(`/cohorts/${cohort.id}/weeks/3`);
    expect(res.statusCode).toBe(403);
    expect(text(res.body)).toContain('Week 3 opens on Mon, 30 Mar 2026, 08:00 BST');
    t.clock.set('2026-03-30T07:00:00.000Z');
    expect((await asLearner.get(`/cohorts/${cohort.id}/weeks/3`)).statusCode).toBe(200);
    t.clock.set('2026-03-01T00:00:00.000Z');
    const staff = await asInstructor.get(`/cohorts/${cohort.id}/weeks/4`);
    expect(staff.statusCode).toBe(200);
    expect(staff.body).toContain('Edit this week');
  });

  it('after accessEndsAt a learner gets a 403 page; the instructor and admin still read it', async () => {
    t.clock.set('2026-05-11T07:00:00.000Z');
    const res = await (await signInBrowser(t, learner.email)).get(`/cohorts/${cohort.id}/weeks/1`);
    expect(res.statusCode).toBe(403);
    expect(res.body).toContain('archived');
    expect((await (await signInBrowser(t, instructorEmail)).get(`/cohorts/${cohort.id}/weeks/1`)).statusCode).toBe(200);
    expect((await (await signInBrowser(t, adminEmail)).get(`/cohorts/${cohort.id}/weeks/1`)).statusCode).toBe(200);
  });
});

describe('teaching pages', () => {
  it('an instructor sees their cohorts, the plan with every week’s dates, and who is enrolled', async () => {
    const dash = await asInstructor.get('/teach');
    expect(dash.statusCode).toBe(200);
    expect(dash.body).toContain(`href="/teach/cohorts/${cohort.id}"`);
    expect(dash.body).not.toContain(`href="/teach/cohorts/${other.id}"`);
    const plan = await asInstructor.get(`/teach/cohorts/${cohort.id}`);
    expect(plan.statusCode).toBe(200);
    const body = text(plan.body);
    expect(body).toContain('Mon, 6 Apr 2026, 08:00 BST');
    expect(body).toContain('Ann Archivist');
    expect(body).toContain(learner.email);
    expect(body).not.toContain('Olu Other');
    for (const n of [1, 2, 3, 4]) expect(plan.body).toContain(`href="/teach/cohorts/${cohort.id}/weeks/${n}/edit"`);
  });

  it('learners get 403 pages; another cohort’s instructor too; admins see every cohort', async () => {
    expect((await asLearner.get('/teach')).statusCode).toBe(403);
    expect((await asLearner.get(`/teach/cohorts/${cohort.id}`)).statusCode).toBe(403);
    expect((await asLearner.get(`/teach/cohorts/${cohort.id}/weeks/1/edit`)).statusCode).toBe(403);
    expect((await asOtherInstructor.get(`/teach/cohorts/${cohort.id}`)).statusCode).toBe(403);
    const admin = await asAdmin.get('/teach');
    expect(admin.body).toContain(`href="/teach/cohorts/${cohort.id}"`);
    expect(admin.body).toContain(`href="/teach/cohorts/${other.id}"`);
    expect((await asAdmin.get(`/teach/cohorts/${cohort.id}`)).statusCode).toBe(200);
  });

  it('editing a week: a <script> never survives, the course file stays the default, and "reset" restores it', async () => {
    const url = `/teach/cohorts/${cohort.id}/weeks/1/edit`;
    const form = await asInstructor.get(url);
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('<label for="title">');
    expect(form.body).toContain('Week 1');
    const saved = await asInstructor.post(url, {
      title: 'Week 1 — Starting from our readers',
      markdown: 'Hello **cohort**.\r\n\r\n<script>alert("x")</script><a href="javascript:alert(1)" onclick="x()">link</a>',
    });
    expect(saved.statusCode).toBe(303);
    expect(saved.headers.location).toBe(`/cohorts/${cohort.id}/weeks/1?saved=1`);
    const page = await asLearner.get(`/cohorts/${cohort.id}/weeks/1`);
    expect(page.body).toContain('<h1>Week 1 — Starting from our readers</h1>');
    expect(page.body).toContain('Hello <strong>cohort</strong>.');
    expect(page.body).not.toMatch(/<script|javascript:|onclick/i);
    // The other cohort and the course file keep the course text.
    const course = (await t.ctx.courses.latest('strategic-planning')).weeks[0];
    expect((await asAdmin.get(`/cohorts/${other.id}/weeks/1`)).body).toContain(`<h1>${course.title}</h1>`);
    expect(course.markdown).not.toContain('cohort**');
    // Back to the course text.
    const again = await asInstructor.get(url);
    expect(again.body).toContain('Reset to the course text');
    const reset = await asInstructor.post(url, { action: 'reset' });
    expect(reset.statusCode).toBe(303);
    expect(reset.headers.location).toBe(`/teach/cohorts/${cohort.id}?reset=1`);
    expect(text((await asInstructor.get(reset.headers.location as string)).body)).toContain('Week 1 is back to the course text.');
    expect((await asLearner.get(`/cohorts/${cohort.id}/weeks/1`)).body).toContain(`<h1>${course.title}</h1>`);
  });

  it('saving only a new title keeps the course text as the default for the body', async () => {
    const url = `/teach/cohorts/${cohort.id}/weeks/2/edit`;
    const course = (await t.ctx.courses.latest('strategic-planning')).weeks[1];
    const res = await asInstructor.post(url, { title: 'Week 2 — People first', markdown: course.markdown.replace(/\n/g, '\r\n') });
    expect(res.statusCode).toBe(303);
    const week = await t.ctx.cohorts.week(cohort, 2);
    expect(week).toMatchObject({ title: 'Week 2 — People first', html: course.html, edited: true });
    await t.ctx.cohorts.resetWeek(cohort, 2);
  });

  it('a week edit with an empty title or text is shown again with a friendly message (400)', async () => {
    const url = `/teach/cohorts/${cohort.id}/weeks/1/edit`;
    const noTitle = await asInstructor.post(url, { title: '  ', markdown: 'Keep this text' });
    expect(noTitle.statusCode).toBe(400);
    expect(noTitle.body).toContain('Enter the week&#x27;s title.');
    expect(noTitle.body).toContain('Keep this text');
    const noText = await asInstructor.post(url, { title: 'A title', markdown: '' });
    expect(noText.statusCode).toBe(400);
    expect(noText.body).toContain('Write the week&#x27;s text');
    const tooLong = await asInstructor.post(url, { title: 'x'.repeat(201), markdown: 'text' });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.body).toContain('200 characters or fewer');
    expect((await t.ctx.cohorts.week(cohort, 1)).edited).toBe(false);
  });

  it('refuses a week edit without its CSRF token', async () => {
    const res = await asInstructor.post(`/teach/cohorts/${cohort.id}/weeks/1/edit`, { title: 'x', markdown: 'y' }, { csrf: null });
    expect(res.statusCode).toBe(403);
    expect((await t.ctx.cohorts.week(cohort, 1)).edited).toBe(false);
  });
});

describe('admin pages', () => {
  it('the dashboard and the cohort list are for admins only', async () => {
    const dash = await asAdmin.get('/admin');
    expect(dash.statusCode).toBe(200);
    expect(dash.body).toContain('<h1>Admin</h1>');
    const list = await asAdmin.get('/admin/cohorts');
    expect(list.statusCode).toBe(200);
    expect(list.body).toContain(`href="/admin/cohorts/${cohort.id}"`);
    expect(text(list.body)).toContain('1 of 20');
    for (const url of ['/admin', '/admin/cohorts', '/admin/cohorts/new', `/admin/cohorts/${cohort.id}`]) {
      expect((await asInstructor.get(url)).statusCode, url).toBe(403);
      expect((await asLearner.get(url)).statusCode, url).toBe(403);
    }
    expect((await new Browser(t.app).get('/admin')).statusCode).toBe(303);
    expect((await asAdmin.get('/admin/cohorts/424242')).statusCode).toBe(404);
  });

  it('creates a cohort from the form, after friendly messages for each bad field', async () => {
    const form = await asAdmin.get('/admin/cohorts/new');
    expect(form.statusCode).toBe(200);
    for (const id of ['course', 'startDate', 'timezone', 'capacity', 'instructors']) expect(form.body).toContain(`<label for="${id}">`);
    const bad = await asAdmin.post('/admin/cohorts', { course: '', startDate: '2026-02-31', timezone: 'Nowhere/Land', capacity: 'ten', instructors: 'not an address' }, { fromPage: '/admin/cohorts/new' });
    expect(bad.statusCode).toBe(400);
    const body = text(bad.body);
    expect(body).toContain('Choose a course.');
    expect(body).toContain('Enter the start date as a real date');
    expect(body).toContain('Choose a time zone from the list.');
    expect(body).toContain('whole number from 1 to 10000');
    expect(body).toContain('is not an email address');
    expect(bad.body).toContain('aria-invalid="true"');
    const newInstructor = `new-teacher-${process.pid}@example.org`;
    const ok = await asAdmin.post(
      '/admin/cohorts',
      { course: 'library-partnerships', startDate: '2026-09-07', timezone: 'America/New_York', capacity: '16', instructors: `${newInstructor}\n${instructorEmail}` },
      { fromPage: '/admin/cohorts/new' },
    );
    expect(ok.statusCode).toBe(303);
    const id = Number(/\/admin\/cohorts\/(\d+)\?created=1$/.exec(ok.headers.location as string)?.[1]);
    const created = await t.ctx.cohorts.get(id);
    expect(created).toMatchObject({ courseSlug: 'library-partnerships', startDate: '2026-09-07', timezone: 'America/New_York', capacity: 16 });
    expect((await t.ctx.cohorts.instructors(id)).map((i) => i.email).sort()).toEqual([newInstructor, instructorEmail].sort());
    expect(text((await asAdmin.get(ok.headers.location as string)).body)).toContain('The cohort is created.');
  });

  it('edits places and instructors, with a friendly message for a bad number', async () => {
    const url = `/admin/cohorts/${other.id}`;
    const bad = await asAdmin.post(url, { capacity: '0', instructors: instructorEmail });
    expect(bad.statusCode).toBe(400);
    expect(text(bad.body)).toContain('whole number from 1 to 10000');
    const ok = await asAdmin.post(url, { capacity: '25', instructors: instructorEmail });
    expect(ok.statusCode).toBe(303);
    expect((await t.ctx.cohorts.get(other.id)).capacity).toBe(25);
    expect((await t.ctx.cohorts.instructors(other.id)).map((i) => i.email)).toEqual([instructorEmail]);
    expect((await asInstructor.get(`/teach/cohorts/${other.id}`)).statusCode).toBe(200);
  });

  it('moves a cohort from the form: new dates everywhere, one email per learner, none when nothing changes', async () => {
    t.clock.set('2026-03-01T00:00:00.000Z');
    const { cohort: c } = await insertCohort(t, { course: 'strategic-planning', startDate: '2026-03-16', timezone: 'Europe/London' });
    const a = await enrolLearner(t, c.id);
    const b = await enrolLearner(t, c.id);
    const url = `/admin/cohorts/${c.id}/move`;
    const bad = await asAdmin.post(url, { startDate: 'next monday', timezone: 'Europe/London' }, { fromPage: `/admin/cohorts/${c.id}` });
    expect(bad.statusCode).toBe(400);
    expect(text(bad.body)).toContain('Enter the start date as a real date');
    const same = await asAdmin.post(url, { startDate: '2026-03-16', timezone: 'Europe/London' }, { fromPage: `/admin/cohorts/${c.id}` });
    expect(same.headers.location).toBe(`/admin/cohorts/${c.id}?moved=0`);
    const moved = await asAdmin.post(url, { startDate: '2026-04-20', timezone: 'Europe/Dublin' }, { fromPage: `/admin/cohorts/${c.id}` });
    expect(moved.statusCode).toBe(303);
    expect(text((await asAdmin.get(moved.headers.location as string)).body)).toContain('The cohort is moved.');
    expect(await t.ctx.cohorts.get(c.id)).toMatchObject({ startDate: '2026-04-20', timezone: 'Europe/Dublin' });
    expect((await t.ctx.cohorts.get(c.id)).timeline.startsAt.toISOString()).toBe('2026-04-20T07:00:00.000Z');
    expect((await ours(t, a.email)).map((m) => m.subject)).toEqual(['New dates for Strategic Planning with Purpose']);
    expect(await ours(t, b.email)).toHaveLength(1);
  });
});
