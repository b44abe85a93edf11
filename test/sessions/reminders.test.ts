// Reminder emails 24 hours and 1 hour before each session: once each, only while current, also across restarts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { enrolLearner } from '../helpers/factories.js';
import { sessionCohort } from './helpers.js';

const dirs: string[] = [];
const apps: TestApp[] = [];
async function open(dir?: string): Promise<TestApp> {
  const t = await createTestApp({ now: '2026-03-02T09:00:00.000Z', dir });
  apps.push(t);
  return t;
}
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'cc-sessions-'));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close().catch(() => undefined);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

// Session 1 of a strategic-planning cohort from 2 March 2026 (London): Wednesday 4 March 12:30 GMT.
const START = Date.parse('2026-03-04T12:30:00.000Z');
const at = (msBeforeStart: number) => new Date(START - msBeforeStart);
const H = 3_600_000;

async function tick(t: TestApp, instant: Date) {
  t.clock.set(instant);
  await t.ctx.scheduler.runDue();
}

const reminders = async (t: TestApp, email: string) =>
  (await t.mailsTo(email)).filter((m) => /^(Reminder|Starting soon):/.test(m.subject ?? '')).map((m) => m.subject!);

describe('session reminders', () => {
  it('go 24 hours and 1 hour before, once each, even when the server restarts on the same database', async () => {
    const dir = tempDir();
    let t = await open(dir);
    const c = await sessionCohort(t);
    await tick(t, at(24 * H + 1));
    expect(await reminders(t, c.learner.email)).toEqual([]);
    await tick(t, at(24 * H));
    await tick(t, at(23 * H));
    expect(await reminders(t, c.learner.email)).toEqual(['Reminder: Live session 1 — Starting from your users, Wed, 4 Mar 2026, 12:30 GMT']);

    await t.close();
    t = await open(dir);
    await tick(t, at(20 * H));
    expect(await reminders(t, c.learner.email)).toHaveLength(1);
    await tick(t, at(H + 1));
    expect(await reminders(t, c.learner.email)).toHaveLength(1);
    await tick(t, at(H));
    await tick(t, at(30 * 60_000));

    await t.close();
    t = await open(dir);
    await tick(t, at(10 * 60_000));
    await tick(t, at(-5 * 60_000));
    const sent = await reminders(t, c.learner.email);
    expect(sent).toEqual([
      'Reminder: Live session 1 — Starting from your users, Wed, 4 Mar 2026, 12:30 GMT',
      'Starting soon: Live session 1 — Starting from your users at 12:30 GMT',
    ]);
    // The instructor is not reminded; only active learners are.
    expect(await reminders(t, c.instructor.email)).toEqual([]);
  });

  it('a server that was down 3 hours still sends the 24-hour reminder; one back 30 minutes before sends only the 1-hour one', async () => {
    const late = await open();
    const c = await sessionCohort(late);
    await tick(late, at(21 * H));
    expect(await reminders(late, c.learner.email)).toHaveLength(1);

    const later = await open();
    const d = await sessionCohort(later);
    await tick(later, at(30 * 60_000));
    expect(await reminders(later, d.learner.email)).toEqual(['Starting soon: Live session 1 — Starting from your users at 12:30 GMT']);
  });

  it('nothing is sent for a session that has started or is long past', async () => {
    const t = await open();
    const c = await sessionCohort(t);
    await tick(t, new Date(START));
    await tick(t, new Date(START + 2 * H));
    await tick(t, new Date(START + 3 * 86_400_000));
    expect(await reminders(t, c.learner.email)).toEqual([]);
  });

  it('each learner gets the time in their own zone; withdrawn learners get nothing', async () => {
    const t = await open();
    const c = await sessionCohort(t);
    const ny = await enrolLearner(t, c.cohort.id, 'Ny Learner');
    await t.ctx.people.updateProfile(ny.user.id, { timezone: 'America/New_York' });
    const gone = await enrolLearner(t, c.cohort.id, 'Gone Learner');
    await t.ctx.database.transaction((tx) => t.ctx.cohorts.withdraw(tx, c.cohort.id, gone.user.id));
    await tick(t, at(2 * H));
    const [mail] = (await t.mailsTo(ny.email)).filter((m) => m.subject?.startsWith('Reminder'));
    expect(mail.subject).toContain('07:30 EST');
    expect(mail.text).toContain('http://cohort.test/cohorts/');
    expect(mail.text).toContain('calendar.ics');
    expect(await reminders(t, gone.email)).toEqual([]);
  });

  it('a moved session is reminded at its new time', async () => {
    const t = await open();
    const c = await sessionCohort(t);
    await c.asInstructor('PATCH', `/api/v1/sessions/${c.sessions[0].id}`, { startsAt: '2026-03-05T18:00:00.000Z' });
    await tick(t, at(23 * H));
    expect(await reminders(t, c.learner.email)).toEqual([]);
    await tick(t, new Date('2026-03-05T17:15:00.000Z'));
    expect(await reminders(t, c.learner.email)).toEqual(['Starting soon: Live session 1 — Starting from your users at 18:00 GMT']);
  });
});
