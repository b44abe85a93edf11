// Session pages: the panels on the cohort home and week page, the instructor's editor and attendance sheet, /calendar.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { Browser } from '../helpers/http.js';
import { enrolLearner, signInBrowser } from '../helpers/factories.js';
import { attendance } from '../../modules/sessions/schema.js';
import { sessionCohort } from './helpers.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp({ now: '2026-03-02T09:00:00.000Z' });
});
afterEach(async () => t.close());

const JOIN = 'https://meet.example.org/planning-1';
const JOIN_BUTTON = 'Join the live session';

describe('sessions on the cohort home and week page', () => {
  it('the join button shows only from 15 minutes before the start until the end', async () => {
    const c = await sessionCohort(t);
    await c.asInstructor('PATCH', `/api/v1/sessions/${c.sessions[0].id}`, { joinUrl: JOIN });
    const browser = await signInBrowser(t, c.learner.email);
    const home = async (instant: string) => {
      t.clock.set(instant);
      const res = await browser.get(`/cohorts/${c.cohort.id}`);
      expect(res.statusCode).toBe(200);
      return res.body;
    };
    const early = await home('2026-03-04T12:14:59.999Z');
    expect(early).toContain('Live session 1 — Starting from your users');
    expect(early).toContain('Wed, 4 Mar 2026, 12:30 GMT');
    expect(early).not.toContain(JOIN_BUTTON);
    expect(early).not.toContain(JOIN);
    expect(early).toContain('appears here 15 minutes before the start');
    const open = await home('2026-03-04T12:15:00.000Z');
    expect(open).toContain(JOIN_BUTTON);
    expect(open).toContain(`href="${JOIN}"`);
    expect(await home('2026-03-04T13:30:00.000Z')).not.toContain(JOIN_BUTTON);
  });

  it('the week page lists only that week’s session, with its .ics link', async () => {
    const c = await sessionCohort(t);
    const browser = await signInBrowser(t, c.learner.email);
    t.clock.set('2026-03-09T09:00:00.000Z');
    const page = await browser.get(`/cohorts/${c.cohort.id}/weeks/2`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Live session 2');
    expect(page.body).not.toContain('Live session 1');
    expect(page.body).toContain(`/api/v1/sessions/${c.sessions[1].id}/calendar.ics`);
    const ics = await browser.get(`/api/v1/sessions/${c.sessions[1].id}/calendar.ics`);
    expect(ics.statusCode).toBe(200);
    expect(ics.body).toContain('BEGIN:VEVENT');
  });

  it('a learner who missed it says "I watched the recording" with a form, and the page then shows it watched', async () => {
    const c = await sessionCohort(t);
    await c.asInstructor('PATCH', `/api/v1/sessions/${c.sessions[0].id}`, { recordingUrl: 'https://video.example.org/1' });
    const browser = await signInBrowser(t, c.learner.email);
    t.clock.set('2026-03-05T09:00:00.000Z');
    const page = await browser.get(`/cohorts/${c.cohort.id}/weeks/1`);
    expect(page.body).toContain('Watch the recording');
    expect(page.body).toContain('Missed');
    expect(page.body).toContain('I watched the recording');
    const res = await browser.post(`/sessions/${c.sessions[0].id}/watched`, { back: `/cohorts/${c.cohort.id}/weeks/1` }, { fromPage: `/cohorts/${c.cohort.id}/weeks/1` });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe(`/cohorts/${c.cohort.id}/weeks/1`);
    const after = await browser.get(`/cohorts/${c.cohort.id}/weeks/1`);
    expect(after.body).toContain('Recording watched');
    expect(after.body).not.toContain('I watched the recording');
    expect(await t.ctx.db.select().from(attendance)).toHaveLength(1);
  });

  it('the watched form refuses a foreign "back" address and a missing CSRF token', async () => {
    const c = await sessionCohort(t);
    await c.asInstructor('PATCH', `/api/v1/sessions/${c.sessions[0].id}`, { recordingUrl: 'https://video.example.org/1' });
    const browser = await signInBrowser(t, c.learner.email);
    t.clock.set('2026-03-05T09:00:00.000Z');
    const noCsrf = await browser.post(`/sessions/${c.sessions[0].id}/watched`, {}, { csrf: null });
    expect(noCsrf.statusCode).toBe(403);
    const res = await browser.post(`/sessions/${c.sessions[0].id}/watched`, { back: 'https://evil.example/' }, { fromPage: `/cohorts/${c.cohort.id}` });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe(`/cohorts/${c.cohort.id}`);
  });

  it('"My courses" shows the next live sessions, with the join button only in the window', async () => {
    const c = await sessionCohort(t);
    await c.asInstructor('PATCH', `/api/v1/sessions/${c.sessions[0].id}`, { joinUrl: JOIN });
    const browser = await signInBrowser(t, c.learner.email);
    const page = await browser.get('/my');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Next live sessions');
    expect(page.body).toContain('Live session 1');
    expect(page.body).not.toContain(JOIN_BUTTON);
    t.clock.set('2026-03-04T12:20:00.000Z');
    expect((await browser.get('/my')).body).toContain(`href="${JOIN}"`);
  });

  it('the instructor’s cohort page lists each session with links to its editor and attendance sheet', async () => {
    const c = await sessionCohort(t);
    const browser = await signInBrowser(t, c.instructor.email);
    const page = await browser.get(`/teach/cohorts/${c.cohort.id}`);
    expect(page.statusCode).toBe(200);
    for (const s of c.sessions) {
      expect(page.body).toContain(`/teach/sessions/${s.id}"`);
      expect(page.body).toContain(`/teach/sessions/${s.id}/attendance"`);
    }
    expect(page.body).toContain('<th scope="col">Session</th>');
  });
});

describe('the session editor', () => {
  it('saves links, refuses a non-https link with a friendly 400, and a move emails learners', async () => {
    const c = await sessionCohort(t);
    const id = c.sessions[0].id;
    const browser = await signInBrowser(t, c.instructor.email);
    const form = await browser.get(`/teach/sessions/${id}`);
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('<label for="joinUrl">');
    expect(form.body).toContain('value="2026-03-04"');
    expect(form.body).toContain('value="12:30"');

    const bad = await browser.post(`/teach/sessions/${id}`, { joinUrl: 'http://meet.example.org/x', recordingUrl: '', date: '2026-03-04', time: '12:30', durationMinutes: '60' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('The join link must be an https:// address');
    expect(bad.body).toContain('value="http://meet.example.org/x"');

    const ok = await browser.post(`/teach/sessions/${id}`, { joinUrl: JOIN, recordingUrl: '', date: '2026-03-04', time: '12:30', durationMinutes: '60' });
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe(`/teach/sessions/${id}?saved=1`);
    expect((await t.ctx.sessions.list(c.cohort))[0]).toMatchObject({ joinUrl: JOIN, movedDayOffset: null });
    expect(await t.mailsTo(c.learner.email)).toHaveLength(0);

    const moved = await browser.post(`/teach/sessions/${id}`, { joinUrl: JOIN, recordingUrl: '', date: '2026-03-05', time: '17:00', durationMinutes: '75' });
    expect(moved.statusCode).toBe(303);
    const row = (await t.ctx.sessions.list(c.cohort)).find((s) => s.id === id)!;
    expect(row.startsAt.toISOString()).toBe('2026-03-05T17:00:00.000Z');
    expect(row.endsAt.toISOString()).toBe('2026-03-05T18:15:00.000Z');
    const mails = await t.mailsTo(c.learner.email);
    expect(mails.map((m) => m.subject)).toEqual(['New time: Live session 1 — Starting from your users — Thu, 5 Mar 2026, 17:00 GMT']);

    const badTime = await browser.post(`/teach/sessions/${id}`, { joinUrl: JOIN, recordingUrl: '', date: '2026-02-30', time: '25:00', durationMinutes: '60' });
    expect(badTime.statusCode).toBe(400);
    expect(badTime.body).toContain('The date must be a date');
  });

  it('is for the cohort’s instructors: learners get 403, signed-out visitors are sent to sign in', async () => {
    const c = await sessionCohort(t);
    const id = c.sessions[0].id;
    const learner = await signInBrowser(t, c.learner.email);
    expect((await learner.get(`/teach/sessions/${id}`)).statusCode).toBe(403);
    expect((await learner.get(`/teach/sessions/${id}/attendance`)).statusCode).toBe(403);
    const other = await sessionCohort(t);
    const otherInstructor = await signInBrowser(t, other.instructor.email);
    expect((await otherInstructor.get(`/teach/sessions/${id}`)).statusCode).toBe(403);
    const anon = await new Browser(t.app).get(`/teach/sessions/${id}`);
    expect(anon.statusCode).toBe(303);
    expect(anon.headers.location).toContain('/sign-in?next=');
    expect((await otherInstructor.get('/teach/sessions/99999')).statusCode).toBe(404);
  });
});

describe('the attendance sheet', () => {
  it('has a checkbox per enrolled learner once the session has started, and saves the whole sheet at once', async () => {
    const c = await sessionCohort(t);
    const second = await enrolLearner(t, c.cohort.id, 'Bo Second');
    const id = c.sessions[0].id;
    const browser = await signInBrowser(t, c.instructor.email);
    const before = await browser.get(`/teach/sessions/${id}/attendance`);
    expect(before.body).toContain('once the session has started');
    expect(before.body).not.toContain('type="checkbox"');

    t.clock.set('2026-03-04T13:00:00.000Z');
    const sheet = await browser.get(`/teach/sessions/${id}/attendance`);
    expect(sheet.body).toContain(`<label for="attended-${c.learner.user.id}">`);
    expect(sheet.body).toContain(`<label for="attended-${second.user.id}">`);
    const saved = await browser.post(`/teach/sessions/${id}/attendance`, { attended: [String(c.learner.user.id), String(second.user.id)] });
    expect(saved.statusCode).toBe(303);
    expect(await t.ctx.db.select().from(attendance)).toHaveLength(2);
    const again = await browser.get(`/teach/sessions/${id}/attendance?saved=1`);
    expect(again.body).toContain('Attendance saved');
    expect(again.body).toMatch(new RegExp(`value="${second.user.id}" checked`));
    // Unticking one learner removes only theirs.
    await browser.post(`/teach/sessions/${id}/attendance`, { attended: String(c.learner.user.id) });
    expect((await t.ctx.db.select().from(attendance)).map((r) => r.userId)).toEqual([c.learner.user.id]);
  });
});

describe('the calendar page', () => {
  it('makes a private feed address shown once, which works until the feed is turned off', async () => {
    const c = await sessionCohort(t);
    const browser = await signInBrowser(t, c.learner.email);
    const page = await browser.get('/calendar');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Make a private feed address');
    expect(page.body).toContain(`/api/v1/cohorts/${c.cohort.id}/calendar.ics`);
    const made = await browser.post('/calendar/feed', {}, { fromPage: '/calendar' });
    expect(made.statusCode).toBe(200);
    const url = /value="(http:\/\/cohort\.test\/calendar\/[^"]+\.ics)"/.exec(made.body)?.[1];
    expect(url).toBeTruthy();
    expect(made.body).toContain('webcal://cohort.test/calendar/');
    expect((await t.app.inject({ method: 'GET', url: new URL(url!).pathname })).statusCode).toBe(200);
    const later = await browser.get('/calendar');
    expect(later.body).not.toContain(url!);
    expect(later.body).toContain('Turn off the feed');
    const off = await browser.post('/calendar/revoke', {}, { fromPage: '/calendar' });
    expect(off.body).toContain('Your calendar feed is turned off');
    expect((await t.app.inject({ method: 'GET', url: new URL(url!).pathname })).statusCode).toBe(404);
  });

  it('asks signed-out visitors to sign in', async () => {
    const res = await new Browser(t.app).get('/calendar');
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/sign-in?next=%2Fcalendar');
  });
});
