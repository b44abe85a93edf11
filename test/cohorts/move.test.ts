// Changing a cohort (PATCH /api/v1/cohorts/:id): moving it recomputes every instant, keeps the cohort's own week
// edits, tells each enrolled learner once in their own zone; capacity and instructors; bad input and who may.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { apiAs } from '../helpers/http.js';
import { enrolLearner, insertCohort, insertUser } from '../helpers/factories.js';
import type { Cohort } from '../../modules/cohorts/service.js';

/** The cohorts module's own messages to one address (other modules mail too: reminders, bookings). */
async function ours(t: TestApp, address: string) {
  return (await t.mailsTo(address)).filter((m) => /^(New dates for|Week \d+ is open)/.test(m.subject ?? ''));
}

let t: TestApp;
let admin: Awaited<ReturnType<typeof insertUser>>;
const changes: Array<{ id: number; change: string; startsAt: string }> = [];
beforeAll(async () => {
  t = await createTestApp({ now: '2026-03-01T10:00:00.000Z' });
  admin = await insertUser(t, 'admin');
  t.ctx.events.on('cohort.changed', async (_tx, { cohort, change }: { cohort: Cohort; change: string }) => {
    changes.push({ id: cohort.id, change, startsAt: cohort.timeline.startsAt.toISOString() });
  });
});
afterAll(async () => t.close());
const patch = (token: string | null, id: number, body: unknown) => apiAs(t.app, token)('PATCH', `/api/v1/cohorts/${id}`, body);

describe('moving a cohort', () => {
  it('recomputes every instant, keeps the week edits, and emails one notice to each enrolled learner in their zone', async () => {
    t.clock.set('2026-03-01T10:00:00.000Z');
    const { cohort, instructor } = await insertCohort(t, { course: 'strategic-planning', startDate: '2026-03-16', timezone: 'Europe/London' });
    const ann = await enrolLearner(t, cohort.id, 'Ann Archivist');
    const ben = await enrolLearner(t, cohort.id, 'Ben Cataloguer');
    await t.ctx.people.updateProfile(ben.user.id, { timezone: 'America/New_York' });
    const gone = await enrolLearner(t, cohort.id);
    await t.ctx.database.transaction((tx) => t.ctx.cohorts.withdraw(tx, cohort.id, gone.user.id));
    const edit = await apiAs(t.app, (instructor as { token: string }).token)('PUT', `/api/v1/cohorts/${cohort.id}/weeks/2`, {
      title: 'Week 2 — Our own stakeholders',
      markdown: 'Bring **your** map to the session.',
    });
    expect(edit.statusCode).toBe(200);

    const res = await patch(admin.token, cohort.id, { startDate: '2026-04-13' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    // After the clocks went forward: 08:00 BST is 07:00Z.
    expect(doc.startDate).toBe('2026-04-13');
    expect(doc.weeks.map((w: { opensAt: string }) => w.opensAt)).toEqual([
      '2026-04-13T07:00:00.000Z',
      '2026-04-20T07:00:00.000Z',
      '2026-04-27T07:00:00.000Z',
      '2026-05-04T07:00:00.000Z',
    ]);
    expect(doc.weeks[3].dueAt).toBe('2026-05-11T07:00:00.000Z');
    expect([doc.endsAt, doc.graceEndsAt, doc.accessEndsAt]).toEqual(['2026-05-11T07:00:00.000Z', '2026-05-25T07:00:00.000Z', '2026-06-08T07:00:00.000Z']);
    expect(doc.weeks[1].title).toBe('Week 2 — Our own stakeholders');
    const week2 = await apiAs(t.app, admin.token)('GET', `/api/v1/cohorts/${cohort.id}/weeks/2`);
    expect(week2.json()).toMatchObject({ title: 'Week 2 — Our own stakeholders', opensAt: '2026-04-20T07:00:00.000Z', edited: true });
    expect(week2.json().html).toContain('<strong>your</strong>');
    // The 'cohort.changed' reactions (sessions recompute their instants) ran inside the move with the new timeline.
    expect(changes.filter((c) => c.id === cohort.id)).toEqual([
      { id: cohort.id, change: 'created', startsAt: '2026-03-16T08:00:00.000Z' },
      { id: cohort.id, change: 'moved', startsAt: '2026-04-13T07:00:00.000Z' },
    ]);

    const annMails = await ours(t, ann.email);
    expect(annMails.map((m) => m.subject)).toEqual(['New dates for Strategic Planning with Purpose']);
    expect(annMails[0].text).toContain('now starts Mon, 13 Apr 2026, 08:00 BST (it was Mon, 16 Mar 2026, 08:00 GMT)');
    expect(annMails[0].text).toContain('Week 2 — Our own stakeholders: opens Mon, 20 Apr 2026, 08:00 BST');
    expect(annMails[0].text).toContain(`http://cohort.test/cohorts/${cohort.id}`);
    const benMails = await ours(t, ben.email);
    expect(benMails).toHaveLength(1);
    expect(benMails[0].text).toContain('now starts Mon, 13 Apr 2026, 03:00 EDT');
    expect(benMails[0].html).toContain('America/New_York');
    expect(await ours(t, gone.email)).toHaveLength(0);
  });

  it('moves to another time zone: weeks open at the release time there', async () => {
    const { cohort } = await insertCohort(t, { course: 'strategic-planning', startDate: '2026-03-16', timezone: 'Europe/London' });
    const learner = await enrolLearner(t, cohort.id);
    const res = await patch(admin.token, cohort.id, { timezone: 'America/New_York' });
    expect(res.statusCode).toBe(200);
    expect(res.json().timezone).toBe('America/New_York');
    expect(res.json().weeks[0].opensAt).toBe('2026-03-16T12:00:00.000Z');
    const mails = await ours(t, learner.email);
    expect(mails).toHaveLength(1);
    // The learner has no zone of their own: the cohort's (new) zone is used.
    expect(mails[0].text).toContain('now starts Mon, 16 Mar 2026, 08:00 EDT');
  });

  it('a change that keeps the same dates sends nothing', async () => {
    const { cohort } = await insertCohort(t, { startDate: '2026-03-16' });
    const learner = await enrolLearner(t, cohort.id);
    const res = await patch(admin.token, cohort.id, { startDate: '2026-03-16', timezone: 'Europe/London' });
    expect(res.statusCode).toBe(200);
    expect(await ours(t, learner.email)).toHaveLength(0);
  });

  it('mid-cohort: a week announced before the move is not announced again; weeks still ahead open on the new dates', async () => {
    t.clock.set('2026-03-16T09:00:00.000Z');
    const { cohort } = await insertCohort(t, { startDate: '2026-03-16' });
    const learner = await enrolLearner(t, cohort.id);
    await t.ctx.scheduler.runDue();
    expect((await ours(t, learner.email)).map((m) => m.subject)).toEqual(['Week 1 is open: Strategic Planning with Purpose']);
    // Push the rest a week later: week 2 now opens 30 March 07:00Z instead of 23 March.
    expect((await patch(admin.token, cohort.id, { startDate: '2026-03-23' })).statusCode).toBe(200);
    t.clock.set('2026-03-23T08:00:00.000Z');
    await t.ctx.scheduler.runDue();
    expect(await ours(t, learner.email)).toHaveLength(2); // week 1 + the move notice
    t.clock.set('2026-03-30T07:00:00.000Z');
    await t.ctx.scheduler.runDue();
    const subjects = (await ours(t, learner.email)).map((m) => m.subject);
    expect(subjects).toEqual([
      'Week 1 is open: Strategic Planning with Purpose',
      'New dates for Strategic Planning with Purpose',
      'Week 2 is open: Strategic Planning with Purpose',
    ]);
    t.clock.set('2026-03-01T10:00:00.000Z');
  });
});

describe('changing capacity and instructors', () => {
  it('an admin changes capacity and replaces the instructors; the old instructor loses access', async () => {
    const { cohort, instructor } = await insertCohort(t);
    const newcomer = await insertUser(t, 'learner', 'Nora New');
    const res = await patch(admin.token, cohort.id, { capacity: 35, instructors: [newcomer.email.toUpperCase()] });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ capacity: 35, instructors: [newcomer.email] });
    expect((await t.ctx.people.findByEmail(newcomer.email))?.role).toBe('instructor');
    expect((await apiAs(t.app, newcomer.token)('GET', `/api/v1/cohorts/${cohort.id}`)).statusCode).toBe(200);
    expect((await apiAs(t.app, (instructor as { token: string }).token)('GET', `/api/v1/cohorts/${cohort.id}`)).statusCode).toBe(403);
    expect(changes.at(-1)).toMatchObject({ id: cohort.id, change: 'updated' });
  });

  it('learners do not see the instructors’ addresses in the cohort document', async () => {
    const { cohort } = await insertCohort(t);
    const learner = await enrolLearner(t, cohort.id);
    const doc = (await apiAs(t.app, learner.token)('GET', `/api/v1/cohorts/${cohort.id}`)).json();
    expect(doc.instructors).toBeUndefined();
  });
});

describe('PATCH /api/v1/cohorts/:id refuses', () => {
  it.each([
    [{ startDate: '2026-02-30' }, 'startDate'],
    [{ startDate: '16/03/2026' }, 'startDate'],
    [{ timezone: 'Mars/Olympus_Mons' }, 'timezone'],
    [{ capacity: 0 }, 'capacity'],
    [{ capacity: '20' }, 'capacity'],
    [{ instructors: ['not-an-address'] }, 'not-an-address'],
    [{ colour: 'blue' }, 'colour'],
    [{}, 'body'],
  ])('bad input %j with a 400 naming %s', async (body, field) => {
    const { cohort } = await insertCohort(t);
    const res = await patch(admin.token, cohort.id, body);
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().detail).toContain(field);
  });

  it('the signed-out (401), instructors and learners (403), and an unknown cohort (404)', async () => {
    const { cohort, instructor } = await insertCohort(t);
    const learner = await enrolLearner(t, cohort.id);
    expect((await patch(null, cohort.id, { capacity: 5 })).statusCode).toBe(401);
    expect((await patch((instructor as { token: string }).token, cohort.id, { capacity: 5 })).statusCode).toBe(403);
    expect((await patch(learner.token, cohort.id, { capacity: 5 })).statusCode).toBe(403);
    expect((await patch(admin.token, 999_999, { capacity: 5 })).statusCode).toBe(404);
    expect((await t.ctx.cohorts.get(cohort.id)).capacity).toBe(20);
  });

  it('is documented in the OpenAPI document', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    const op = doc.paths['/api/v1/cohorts/{id}'].patch;
    expect(op.summary).toMatch(/move/i);
    expect(Object.keys(op.requestBody.content['application/json'].schema.properties).sort()).toEqual(['capacity', 'instructors', 'startDate', 'timezone']);
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403', '404']));
  });
});
