// Calendars: .ics files parsed back with ical.js give the right UTC instants across daylight-saving changes;
// the private feed covers every cohort, follows moved sessions under the same UID, and dies when revoked.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import ICAL from 'ical.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { enrolLearner, insertCohort, insertUser } from '../helpers/factories.js';
import { apiAs } from '../helpers/http.js';
import { calendarFeeds } from '../../modules/sessions/schema.js';
import { sessionCohort } from './helpers.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp({ now: '2026-03-02T09:00:00.000Z' });
});
afterEach(async () => t.close());

interface ParsedEvent {
  uid: string;
  summary: string;
  start: string;
  end: string;
  sequence: number;
  dtstamp: string;
}

/** Parse an iCalendar text with a real parser and list its events. */
function parse(text: string): ParsedEvent[] {
  const cal = new ICAL.Component(ICAL.parse(text));
  expect(cal.name).toBe('vcalendar');
  return cal.getAllSubcomponents('vevent').map((v) => {
    const e = new ICAL.Event(v);
    return {
      uid: e.uid,
      summary: e.summary,
      start: e.startDate.toJSDate().toISOString(),
      end: e.endDate.toJSDate().toISOString(),
      sequence: Number(v.getFirstPropertyValue('sequence') ?? 0),
      dtstamp: (v.getFirstPropertyValue('dtstamp') as ICAL.Time).toJSDate().toISOString(),
    };
  });
}

describe('cohort calendar', () => {
  it('a Europe/London cohort spanning the last Sunday of March keeps 12:30 local: 12:30Z before, 11:30Z after', async () => {
    const c = await sessionCohort(t, { startDate: '2026-03-16', timezone: 'Europe/London' });
    const res = await c.asLearner('GET', `/api/v1/cohorts/${c.cohort.id}/calendar.ics`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/calendar; charset=utf-8');
    expect(res.headers['content-disposition']).toContain('.ics');
    const events = parse(res.body);
    expect(events.map((e) => e.start)).toEqual([
      '2026-03-18T12:30:00.000Z',
      '2026-03-25T12:30:00.000Z',
      '2026-04-01T11:30:00.000Z',
      '2026-04-08T11:30:00.000Z',
    ]);
    expect(events.map((e) => e.end)[2]).toBe('2026-04-01T12:30:00.000Z');
    expect(events[0].summary).toBe('Strategic Planning with Purpose: Live session 1 — Starting from your users');
    expect(new Set(events.map((e) => e.uid)).size).toBe(4);
  });

  it('an America/New_York cohort spanning the first Sunday of November: 16:30Z before, 17:30Z after', async () => {
    const c = await sessionCohort(t, { startDate: '2026-10-19', timezone: 'America/New_York' });
    const events = parse((await c.asLearner('GET', `/api/v1/cohorts/${c.cohort.id}/calendar.ics`)).body);
    expect(events.map((e) => e.start)).toEqual([
      '2026-10-21T16:30:00.000Z',
      '2026-10-28T16:30:00.000Z',
      '2026-11-04T17:30:00.000Z',
      '2026-11-11T17:30:00.000Z',
    ]);
  });

  it('a single session .ics holds just that session', async () => {
    const c = await sessionCohort(t);
    const res = await c.asLearner('GET', `/api/v1/sessions/${c.sessions[1].id}/calendar.ics`);
    expect(res.statusCode).toBe(200);
    const events = parse(res.body);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ start: '2026-03-11T12:30:00.000Z', end: '2026-03-11T13:30:00.000Z', uid: `session-${c.sessions[1].id}@cohort.test` });
  });

  it('the join link is not written into calendar files (it is shown on the page in its window)', async () => {
    const c = await sessionCohort(t);
    await c.asInstructor('PATCH', `/api/v1/sessions/${c.sessions[0].id}`, { joinUrl: 'https://meet.example.org/secret-room' });
    const body = (await c.asLearner('GET', `/api/v1/cohorts/${c.cohort.id}/calendar.ics`)).body;
    expect(body).not.toContain('secret-room');
    expect(body).toContain('http://cohort.test/cohorts/');
  });
});

describe('private calendar feed', () => {
  it('covers every cohort of the learner, and a moved session keeps its UID with the new time and a higher SEQUENCE', async () => {
    const c = await sessionCohort(t);
    const second = await insertCohort(t, { course: 'library-partnerships', startDate: '2026-04-06' });
    await t.ctx.database.transaction((tx) => t.ctx.cohorts.enrol(tx, second.cohort.id, c.learner.user.id));
    const created = await c.asLearner('POST', '/api/v1/calendar-feed');
    expect(created.statusCode).toBe(201);
    const url = new URL(created.json().url);
    expect(url.origin).toBe('http://cohort.test');
    expect(url.pathname).toMatch(/^\/calendar\/[A-Za-z0-9_-]{40,}\.ics$/);
    // No cookie, no header: the calendar app only has the address.
    const before = await t.app.inject({ method: 'GET', url: url.pathname });
    expect(before.statusCode).toBe(200);
    expect(before.headers['content-type']).toContain('text/calendar');
    const events = parse(before.body);
    expect(events).toHaveLength(4 + 2);
    const target = events.find((e) => e.uid === `session-${c.sessions[2].id}@cohort.test`)!;
    expect(target).toMatchObject({ start: '2026-03-18T12:30:00.000Z', sequence: 0 });

    t.clock.set('2026-03-10T10:00:00.000Z');
    const moved = await c.asInstructor('PATCH', `/api/v1/sessions/${c.sessions[2].id}`, { startsAt: '2026-03-19T17:00:00.000Z' });
    expect(moved.statusCode).toBe(200);
    const after = parse((await t.app.inject({ method: 'GET', url: url.pathname })).body);
    expect(after).toHaveLength(6);
    const same = after.find((e) => e.uid === target.uid)!;
    expect(same).toMatchObject({ start: '2026-03-19T17:00:00.000Z', end: '2026-03-19T18:00:00.000Z', sequence: 1, dtstamp: '2026-03-10T10:00:00.000Z' });
    expect(after.filter((e) => e.uid === target.uid)).toHaveLength(1);
  });

  it('moving the whole cohort shows in the feed under the same UIDs', async () => {
    const c = await sessionCohort(t);
    const url = new URL((await c.asLearner('POST', '/api/v1/calendar-feed')).json().url);
    const before = parse((await t.app.inject({ method: 'GET', url: url.pathname })).body);
    await t.ctx.cohorts.move(c.cohort.id, { startDate: '2026-03-09' });
    const after = parse((await t.app.inject({ method: 'GET', url: url.pathname })).body);
    expect(after.map((e) => e.uid)).toEqual(before.map((e) => e.uid));
    expect(after[0]).toMatchObject({ start: '2026-03-11T12:30:00.000Z', sequence: 1 });
  });

  it('is refused once revoked (404 at the address, 403 as ?token=), and rotating kills the old address', async () => {
    const c = await sessionCohort(t);
    const first = (await c.asLearner('POST', '/api/v1/calendar-feed')).json().url as string;
    const token1 = /\/calendar\/([^/]+)\.ics$/.exec(first)![1];
    expect((await t.app.inject({ method: 'GET', url: `/api/v1/cohorts/${c.cohort.id}/calendar.ics?token=${token1}` })).statusCode).toBe(200);
    const second = (await c.asLearner('POST', '/api/v1/calendar-feed')).json().url as string;
    expect(second).not.toBe(first);
    expect((await t.app.inject({ method: 'GET', url: new URL(first).pathname })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: new URL(second).pathname })).statusCode).toBe(200);
    expect((await c.asLearner('GET', '/api/v1/calendar-feed')).json()).toMatchObject({ active: true });

    expect((await c.asLearner('DELETE', '/api/v1/calendar-feed')).statusCode).toBe(204);
    expect((await t.app.inject({ method: 'GET', url: new URL(second).pathname })).statusCode).toBe(404);
    const token2 = /\/calendar\/([^/]+)\.ics$/.exec(second)![1];
    expect((await t.app.inject({ method: 'GET', url: `/api/v1/cohorts/${c.cohort.id}/calendar.ics?token=${token2}` })).statusCode).toBe(403);
    expect((await c.asLearner('GET', '/api/v1/calendar-feed')).json()).toEqual({ active: false, createdAt: null });
  });

  it('stores only a hash of the token; guessed and malformed tokens are 404', async () => {
    const c = await sessionCohort(t);
    const url = (await c.asLearner('POST', '/api/v1/calendar-feed')).json().url as string;
    const token = /\/calendar\/([^/]+)\.ics$/.exec(url)![1];
    const [row] = await t.ctx.db.select().from(calendarFeeds);
    expect(row.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.tokenHash).not.toContain(token);
    for (const guess of ['A'.repeat(43), 'short', `${token.slice(0, -1)}x`, '..%2F..%2Fetc']) {
      expect((await t.app.inject({ method: 'GET', url: `/calendar/${guess}.ics` })).statusCode).toBe(404);
    }
  });

  it('an admin’s feed holds the cohorts they teach, not every cohort', async () => {
    const admin = await insertUser(t, 'admin');
    await sessionCohort(t);
    const taught = await insertCohort(t, { instructor: admin.email });
    const url = (await apiAs(t.app, admin.token)('POST', '/api/v1/calendar-feed')).json().url as string;
    const events = parse((await t.app.inject({ method: 'GET', url: new URL(url).pathname })).body);
    expect(events.map((e) => e.uid)).toEqual((await t.ctx.sessions.list(taught.cohort)).map((s) => `session-${s.id}@cohort.test`));
  });

  it('a feed token opens only the cohorts of its owner (403 for another cohort)', async () => {
    const c = await sessionCohort(t);
    const d = await sessionCohort(t);
    const token = /\/calendar\/([^/]+)\.ics$/.exec((await c.asLearner('POST', '/api/v1/calendar-feed')).json().url)![1];
    expect((await t.app.inject({ method: 'GET', url: `/api/v1/cohorts/${d.cohort.id}/calendar.ics?token=${token}` })).statusCode).toBe(403);
    // Another learner's feed does not include this one's cohorts.
    const other = await enrolLearner(t, d.cohort.id);
    const otherUrl = (await apiAs(t.app, other.token)('POST', '/api/v1/calendar-feed')).json().url as string;
    const events = parse((await t.app.inject({ method: 'GET', url: new URL(otherUrl).pathname })).body);
    expect(events.map((e) => e.uid)).toEqual(d.sessions.map((s) => `session-${s.id}@cohort.test`));
  });
});
