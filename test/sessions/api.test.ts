// Live sessions through the JSON API: the join-link window, https-only links, moves, attendance, "watched", access.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { and, eq } from 'drizzle-orm';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { apiAs } from '../helpers/http.js';
import { enrolLearner, insertUser } from '../helpers/factories.js';
import { attendance, liveSessions } from '../../modules/sessions/schema.js';
import { sessionCohort } from './helpers.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp({ now: '2026-03-02T09:00:00.000Z' });
});
afterEach(async () => t.close());

// strategic-planning from Monday 2 March 2026 in Europe/London: session 1 is Wednesday 4 March, 12:30–13:30 GMT.
const S1_START = '2026-03-04T12:30:00.000Z';
const S1_END = '2026-03-04T13:30:00.000Z';
const JOIN = 'https://meet.example.org/planning-1';

describe('sessions come from the course slots', () => {
  it('a new cohort gets one session per slot at the slot weekday and local time, listed on the cohort too', async () => {
    const c = await sessionCohort(t);
    const res = await c.asLearner('GET', `/api/v1/cohorts/${c.cohort.id}/sessions`);
    expect(res.statusCode).toBe(200);
    const list = res.json();
    expect(list.map((s: { week: number }) => s.week)).toEqual([1, 2, 3, 4]);
    expect(list[0]).toMatchObject({ startsAt: S1_START, endsAt: S1_END, durationMinutes: 60, joinUrl: null, recordingUrl: null, moved: false, attendance: null });
    expect(list[3].startsAt).toBe('2026-03-25T12:30:00.000Z');
    const doc = (await c.asLearner('GET', `/api/v1/cohorts/${c.cohort.id}`)).json();
    expect(doc.sessions).toEqual(list.map((s: { id: number; week: number; startsAt: string; endsAt: string }) => ({ id: s.id, week: s.week, startsAt: s.startsAt, endsAt: s.endsAt })));
  });

  it('cohorts made before the sessions existed get them at start-up or on first read', async () => {
    const c = await sessionCohort(t);
    const d = await sessionCohort(t);
    await t.ctx.database.transaction(async (tx) => {
      await tx.delete(liveSessions);
    });
    // The start-up pass.
    expect(await t.ctx.sessions.ensureAll()).toBe(2);
    expect(await t.ctx.sessions.ensureAll()).toBe(0);
    expect((await d.asLearner('GET', `/api/v1/cohorts/${d.cohort.id}/sessions`)).json()).toHaveLength(4);
    // On first read of the sessions (the cohort document then lists them too).
    await t.ctx.database.transaction(async (tx) => {
      await tx.delete(liveSessions);
    });
    expect((await c.asLearner('GET', `/api/v1/cohorts/${c.cohort.id}/sessions`)).json()).toHaveLength(4);
    expect((await c.asLearner('GET', `/api/v1/cohorts/${c.cohort.id}`)).json().sessions).toHaveLength(4);
  });

  it('moving the cohort recomputes the sessions and keeps links, attendance and an instructor move (shifted by the same days)', async () => {
    const c = await sessionCohort(t);
    const [s1, s2] = c.sessions;
    await c.asInstructor('PATCH', `/api/v1/sessions/${s1.id}`, { joinUrl: JOIN });
    // Session 2 moved to Thursday 12 March, 18:00 London.
    const moved = await c.asInstructor('PATCH', `/api/v1/sessions/${s2.id}`, { startsAt: '2026-03-12T18:00:00.000Z' });
    expect(moved.json()).toMatchObject({ startsAt: '2026-03-12T18:00:00.000Z', endsAt: '2026-03-12T19:00:00.000Z', moved: true });
    t.clock.set('2026-03-04T13:00:00.000Z');
    await c.asInstructor('POST', `/api/v1/sessions/${s1.id}/attendance`, { learner: c.learner.email, attended: true });
    // Four weeks later: across the clocks going forward on 29 March, local times stay.
    await t.ctx.cohorts.move(c.cohort.id, { startDate: '2026-03-30' });
    const list = (await c.asInstructor('GET', `/api/v1/cohorts/${c.cohort.id}/sessions`)).json();
    expect(list[0]).toMatchObject({ id: s1.id, startsAt: '2026-04-01T11:30:00.000Z', joinUrl: JOIN });
    expect(list[1]).toMatchObject({ id: s2.id, startsAt: '2026-04-09T17:00:00.000Z', endsAt: '2026-04-09T18:00:00.000Z', moved: true });
    expect((await t.ctx.sessions.attendanceSummary(c.cohort.id, c.learner.user.id)).attendedOrWatched).toBe(1);
  });
});

describe('the join link', () => {
  it('learners see it from 15 minutes before the start until the end, not a millisecond outside', async () => {
    const c = await sessionCohort(t);
    const id = c.sessions[0].id;
    expect((await c.asInstructor('PATCH', `/api/v1/sessions/${id}`, { joinUrl: JOIN })).statusCode).toBe(200);
    const joinUrlAt = async (instant: string) => {
      t.clock.set(instant);
      const list = (await c.asLearner('GET', `/api/v1/cohorts/${c.cohort.id}/sessions`)).json();
      return list.find((s: { id: number }) => s.id === id).joinUrl;
    };
    expect(await joinUrlAt('2026-03-04T12:14:59.999Z')).toBeNull();
    expect(await joinUrlAt('2026-03-04T12:15:00.000Z')).toBe(JOIN);
    expect(await joinUrlAt('2026-03-04T13:29:59.999Z')).toBe(JOIN);
    expect(await joinUrlAt(S1_END)).toBeNull();
  });

  it('its instructors see it at any time', async () => {
    const c = await sessionCohort(t);
    const id = c.sessions[0].id;
    await c.asInstructor('PATCH', `/api/v1/sessions/${id}`, { joinUrl: JOIN });
    const one = (await c.asInstructor('GET', `/api/v1/sessions/${id}`)).json();
    expect(one.joinUrl).toBe(JOIN);
    expect((await c.asLearner('GET', `/api/v1/sessions/${id}`)).json().joinUrl).toBeNull();
  });
});

describe('links are https only', () => {
  it.each([
    ['joinUrl', 'http://meet.example.org/x'],
    ['joinUrl', 'javascript:alert(1)'],
    ['joinUrl', 'ftp://files.example.org/x'],
    ['joinUrl', 'not a link'],
    ['recordingUrl', 'http://video.example.org/x'],
    ['recordingUrl', 'javascript:alert(document.cookie)'],
    ['recordingUrl', 'ftp://video.example.org/x'],
  ])('%s %s is refused with a 400 naming the field', async (field, value) => {
    const c = await sessionCohort(t);
    const res = await c.asInstructor('PATCH', `/api/v1/sessions/${c.sessions[0].id}`, { [field]: value });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().detail).toContain(field);
    expect((await t.ctx.sessions.list(c.cohort))[0][field as 'joinUrl']).toBeNull();
  });

  it('bad types, unknown fields and a bad startsAt are 400s naming the field', async () => {
    const c = await sessionCohort(t);
    const url = `/api/v1/sessions/${c.sessions[0].id}`;
    const cases: Array<[unknown, string]> = [
      [{ joinUrl: 42 }, 'joinUrl'],
      [{ colour: 'red' }, 'colour'],
      [{ startsAt: 'next tuesday' }, 'startsAt'],
      [{ durationMinutes: 5 }, 'durationMinutes'],
      [{ joinUrl: `https://x.example.org/${'a'.repeat(2100)}` }, 'joinUrl'],
      [{ startsAt: '2030-01-01T10:00:00.000Z' }, 'startsAt'],
    ];
    for (const [body, field] of cases) {
      const res = await c.asInstructor('PATCH', url, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().detail).toContain(field);
    }
  });

  it('null clears a link', async () => {
    const c = await sessionCohort(t);
    const url = `/api/v1/sessions/${c.sessions[0].id}`;
    await c.asInstructor('PATCH', url, { joinUrl: JOIN });
    const res = await c.asInstructor('PATCH', url, { joinUrl: null });
    expect(res.json().joinUrl).toBeNull();
  });
});

describe('moving one session', () => {
  it('changes its time for this cohort and emails each learner the new time in their own zone', async () => {
    const c = await sessionCohort(t);
    const other = await enrolLearner(t, c.cohort.id, 'Ny Learner');
    await t.ctx.people.updateProfile(other.user.id, { timezone: 'America/New_York' });
    const res = await c.asInstructor('PATCH', `/api/v1/sessions/${c.sessions[0].id}`, { startsAt: '2026-03-05T14:00:00.000Z', durationMinutes: 90 });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ startsAt: '2026-03-05T14:00:00.000Z', endsAt: '2026-03-05T15:30:00.000Z', durationMinutes: 90, moved: true });
    const [mail] = await t.mailsTo(c.learner.email);
    expect(mail.subject).toContain('New time');
    expect(mail.text).toContain('Thu, 5 Mar 2026, 14:00 GMT');
    expect(mail.text).toContain('Wed, 4 Mar 2026, 12:30 GMT');
    const [nyMail] = await t.mailsTo(other.email);
    expect(nyMail.text).toContain('Thu, 5 Mar 2026, 09:00 EST');
    expect(await t.mailsTo(c.instructor.email)).toHaveLength(0);
  });

  it('saving only a link emails nobody', async () => {
    const c = await sessionCohort(t);
    await c.asInstructor('PATCH', `/api/v1/sessions/${c.sessions[0].id}`, { joinUrl: JOIN, startsAt: S1_START });
    expect(await t.mails()).toHaveLength(0);
  });
});

describe('who may do what', () => {
  it('signed out: 401 everywhere', async () => {
    const c = await sessionCohort(t);
    const id = c.sessions[0].id;
    expect((await c.anonymous('GET', `/api/v1/cohorts/${c.cohort.id}/sessions`)).statusCode).toBe(401);
    expect((await c.anonymous('PATCH', `/api/v1/sessions/${id}`, { joinUrl: JOIN })).statusCode).toBe(401);
    expect((await c.anonymous('POST', `/api/v1/sessions/${id}/attendance`, { learner: c.learner.email, attended: true })).statusCode).toBe(401);
    expect((await c.anonymous('POST', `/api/v1/sessions/${id}/watched`)).statusCode).toBe(401);
    expect((await c.anonymous('GET', `/api/v1/sessions/${id}/calendar.ics`)).statusCode).toBe(401);
    expect((await c.anonymous('GET', `/api/v1/cohorts/${c.cohort.id}/calendar.ics`)).statusCode).toBe(401);
    expect((await c.anonymous('POST', '/api/v1/calendar-feed')).statusCode).toBe(401);
    expect((await c.anonymous('DELETE', '/api/v1/calendar-feed')).statusCode).toBe(401);
  });

  it('a learner or instructor of another cohort gets 403 for this one’s sessions', async () => {
    const c = await sessionCohort(t);
    const d = await sessionCohort(t);
    const id = c.sessions[0].id;
    expect((await d.asLearner('GET', `/api/v1/cohorts/${c.cohort.id}/sessions`)).statusCode).toBe(403);
    expect((await d.asLearner('GET', `/api/v1/sessions/${id}`)).statusCode).toBe(403);
    expect((await d.asLearner('GET', `/api/v1/sessions/${id}/calendar.ics`)).statusCode).toBe(403);
    expect((await d.asLearner('GET', `/api/v1/cohorts/${c.cohort.id}/calendar.ics`)).statusCode).toBe(403);
    expect((await d.asInstructor('PATCH', `/api/v1/sessions/${id}`, { joinUrl: JOIN })).statusCode).toBe(403);
    expect((await d.asInstructor('POST', `/api/v1/sessions/${id}/attendance`, { learner: c.learner.email, attended: true })).statusCode).toBe(403);
  });

  it('learners cannot edit sessions or mark attendance (403); admins can', async () => {
    const c = await sessionCohort(t);
    const id = c.sessions[0].id;
    expect((await c.asLearner('PATCH', `/api/v1/sessions/${id}`, { joinUrl: JOIN })).statusCode).toBe(403);
    t.clock.set(S1_START);
    expect((await c.asLearner('POST', `/api/v1/sessions/${id}/attendance`, { learner: c.learner.email, attended: true })).statusCode).toBe(403);
    const admin = apiAs(t.app, (await insertUser(t, 'admin')).token);
    expect((await admin('PATCH', `/api/v1/sessions/${id}`, { joinUrl: JOIN })).statusCode).toBe(200);
  });

  it('an unknown session is 404; a bad id 400', async () => {
    const c = await sessionCohort(t);
    expect((await c.asInstructor('PATCH', '/api/v1/sessions/99999', { joinUrl: JOIN })).statusCode).toBe(404);
    expect((await c.asLearner('POST', '/api/v1/sessions/99999/watched')).statusCode).toBe(404);
    expect((await c.asLearner('GET', '/api/v1/sessions/abc')).statusCode).toBe(400);
    expect((await c.asLearner('GET', '/api/v1/cohorts/99999/sessions')).statusCode).toBe(404);
  });

  it('a learner’s access ends at accessEndsAt, recordings included', async () => {
    const c = await sessionCohort(t);
    await c.asInstructor('PATCH', `/api/v1/sessions/${c.sessions[0].id}`, { recordingUrl: 'https://video.example.org/1' });
    t.clock.set(new Date(c.cohort.timeline.accessEndsAt.getTime() - 1));
    expect((await c.asLearner('GET', `/api/v1/cohorts/${c.cohort.id}/sessions`)).json()[0].recordingUrl).toBe('https://video.example.org/1');
    t.clock.set(c.cohort.timeline.accessEndsAt);
    expect((await c.asLearner('GET', `/api/v1/cohorts/${c.cohort.id}/sessions`)).statusCode).toBe(403);
  });
});

describe('attendance', () => {
  it('instructors mark a learner attended once the session has started (409 before), and can undo it', async () => {
    const c = await sessionCohort(t);
    const changed: Array<[number, number]> = [];
    t.ctx.events.on('progress.changed', async (_tx, { cohortId, userId }) => void changed.push([cohortId, userId]));
    const url = `/api/v1/sessions/${c.sessions[0].id}/attendance`;
    t.clock.set('2026-03-04T12:29:59.999Z');
    const early = await c.asInstructor('POST', url, { learner: c.learner.email, attended: true });
    expect(early.statusCode).toBe(409);
    t.clock.set(S1_START);
    const res = await c.asInstructor('POST', url, { learner: c.learner.email.toUpperCase(), attended: true });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ sessionId: c.sessions[0].id, learner: c.learner.email, attended: true, kind: 'attended' });
    expect(changed).toEqual([[c.cohort.id, c.learner.user.id]]);
    // Marking again changes nothing.
    await c.asInstructor('POST', url, { learner: c.learner.email, attended: true });
    expect(changed).toHaveLength(1);
    expect(await t.ctx.db.select().from(attendance)).toHaveLength(1);
    const undo = await c.asInstructor('POST', url, { learner: c.learner.email, attended: false });
    expect(undo.json()).toMatchObject({ attended: false, kind: null });
    expect(changed).toHaveLength(2);
    expect(await t.ctx.db.select().from(attendance)).toHaveLength(0);
  });

  it('only enrolled learners can be marked: 422 for others, 400 for a non-address', async () => {
    const c = await sessionCohort(t);
    const d = await sessionCohort(t);
    t.clock.set(S1_START);
    const url = `/api/v1/sessions/${c.sessions[0].id}/attendance`;
    expect((await c.asInstructor('POST', url, { learner: d.learner.email, attended: true })).statusCode).toBe(422);
    expect((await c.asInstructor('POST', url, { learner: c.instructor.email, attended: true })).statusCode).toBe(422);
    expect((await c.asInstructor('POST', url, { learner: 'nobody@example.org', attended: true })).statusCode).toBe(422);
    const bad = await c.asInstructor('POST', url, { learner: 'not-an-address', attended: true });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().detail).toContain('learner');
    const missing = await c.asInstructor('POST', url, { learner: c.learner.email });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().detail).toContain('attended');
  });
});

describe('"I watched the recording"', () => {
  it('is refused before the session ends and before a recording exists (409), then counts once (204)', async () => {
    const c = await sessionCohort(t);
    const id = c.sessions[0].id;
    const url = `/api/v1/sessions/${id}/watched`;
    const changed: number[] = [];
    t.ctx.events.on('progress.changed', async (_tx, { userId }) => void changed.push(userId));
    await c.asInstructor('PATCH', `/api/v1/sessions/${id}`, { recordingUrl: 'https://video.example.org/1' });
    t.clock.set('2026-03-04T13:29:59.999Z');
    const during = await c.asLearner('POST', url);
    expect(during.statusCode).toBe(409);
    expect(during.json().detail).toContain('not ended');
    t.clock.set(S1_END);
    const second = c.sessions[1].id;
    t.clock.set('2026-03-11T14:00:00.000Z');
    const noRecording = await c.asLearner('POST', `/api/v1/sessions/${second}/watched`);
    expect(noRecording.statusCode).toBe(409);
    expect(noRecording.json().detail).toContain('no recording');
    const ok = await c.asLearner('POST', url);
    expect(ok.statusCode).toBe(204);
    expect(ok.body).toBe('');
    expect((await c.asLearner('POST', url)).statusCode).toBe(204);
    const rows = await t.ctx.db.select().from(attendance).where(and(eq(attendance.sessionId, id), eq(attendance.userId, c.learner.user.id)));
    expect(rows).toHaveLength(1);
    expect(rows[0].kind).toBe('watched');
    expect(changed).toEqual([c.learner.user.id]);
    expect((await c.asLearner('GET', `/api/v1/cohorts/${c.cohort.id}/sessions`)).json()[0].attendance).toBe('watched');
  });

  it('is for enrolled learners only: instructors and admins get 403', async () => {
    const c = await sessionCohort(t);
    const id = c.sessions[0].id;
    await c.asInstructor('PATCH', `/api/v1/sessions/${id}`, { recordingUrl: 'https://video.example.org/1' });
    t.clock.set('2026-03-05T09:00:00.000Z');
    expect((await c.asInstructor('POST', `/api/v1/sessions/${id}/watched`)).statusCode).toBe(403);
    expect((await apiAs(t.app, (await insertUser(t, 'admin')).token)('POST', `/api/v1/sessions/${id}/watched`)).statusCode).toBe(403);
  });

  it('an "attended" mark stays when the learner also says they watched, and an instructor unticking keeps "watched"', async () => {
    const c = await sessionCohort(t);
    const id = c.sessions[0].id;
    await c.asInstructor('PATCH', `/api/v1/sessions/${id}`, { recordingUrl: 'https://video.example.org/1' });
    t.clock.set('2026-03-05T09:00:00.000Z');
    await c.asInstructor('POST', `/api/v1/sessions/${id}/attendance`, { learner: c.learner.email, attended: true });
    expect((await c.asLearner('POST', `/api/v1/sessions/${id}/watched`)).statusCode).toBe(204);
    expect((await t.ctx.db.select().from(attendance).limit(1))[0]?.kind).toBe('attended');
    await c.asInstructor('POST', `/api/v1/sessions/${id}/attendance`, { learner: c.learner.email, attended: false });
    await c.asLearner('POST', `/api/v1/sessions/${id}/watched`);
    const undo = await c.asInstructor('POST', `/api/v1/sessions/${id}/attendance`, { learner: c.learner.email, attended: false });
    expect(undo.json()).toMatchObject({ attended: false, kind: 'watched' });
  });
});

describe('recordings', () => {
  it('adding the first recording emails each learner once; replacing it does not email again', async () => {
    const c = await sessionCohort(t);
    const url = `/api/v1/sessions/${c.sessions[0].id}`;
    t.clock.set('2026-03-04T15:00:00.000Z');
    await c.asInstructor('PATCH', url, { recordingUrl: 'https://video.example.org/1' });
    await c.asInstructor('PATCH', url, { recordingUrl: 'https://video.example.org/1-edited' });
    await c.asInstructor('PATCH', url, { recordingUrl: null });
    await c.asInstructor('PATCH', url, { recordingUrl: 'https://video.example.org/again' });
    const mails = await t.mailsTo(c.learner.email);
    expect(mails).toHaveLength(1);
    expect(mails[0].subject).toBe('Recording available: Live session 1 — Starting from your users');
    expect(mails[0].text).toContain('https://video.example.org/1');
    expect(mails[0].text).toContain('Mon, 27 Apr 2026');
  });
});

describe('attendance summary for certificates', () => {
  it('counts attended or watched, the total, and the ended sessions missed', async () => {
    const c = await sessionCohort(t);
    const [s1, s2, s3] = c.sessions;
    await c.asInstructor('PATCH', `/api/v1/sessions/${s2.id}`, { recordingUrl: 'https://video.example.org/2' });
    t.clock.set('2026-03-18T14:00:00.000Z');
    await c.asInstructor('POST', `/api/v1/sessions/${s1.id}/attendance`, { learner: c.learner.email, attended: true });
    expect(await t.ctx.sessions.attendanceSummary(c.cohort.id, c.learner.user.id)).toEqual({
      attendedOrWatched: 1,
      total: 4,
      missed: [
        { sessionId: s2.id, week: 2, title: s2.title, hasRecording: true },
        { sessionId: s3.id, week: 3, title: s3.title, hasRecording: false },
      ],
    });
    await c.asLearner('POST', `/api/v1/sessions/${s2.id}/watched`);
    expect(await t.ctx.sessions.attendanceSummary(c.cohort.id, c.learner.user.id)).toMatchObject({ attendedOrWatched: 2, missed: [{ sessionId: s3.id }] });
  });
});
