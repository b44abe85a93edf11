// "Week n is open" emails: sent by the scheduler at the opening instant, once per learner, also across restarts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { eq } from 'drizzle-orm';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { enrolLearner, insertCohort } from '../helpers/factories.js';
import { weekOpenNotices } from '../../modules/cohorts/schema.js';

const subjects = (mails: Array<{ subject?: string }>) => mails.map((m) => m.subject ?? '').filter((s) => /^Week \d+ is open/.test(s)).sort();

let dir: string | null = null;
let t: TestApp | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

describe('week-opening emails', () => {
  it('each learner gets "Week n is open" exactly once, at the opening instant, even when the server restarts mid-cohort', async () => {
    dir = mkdtempSync(join(tmpdir(), 'cc-cohorts-restart-'));
    t = await createTestApp({ dir, now: '2026-03-10T12:00:00.000Z' });
    // Strategic planning opens weeks at 08:00 London time; the clocks go forward on 29 March.
    const { cohort } = await insertCohort(t, { course: 'strategic-planning', startDate: '2026-03-16', timezone: 'Europe/London' });
    const ann = await enrolLearner(t, cohort.id, 'Ann Archivist');
    const ben = await enrolLearner(t, cohort.id, 'Ben Cataloguer');
    await t.ctx.people.updateProfile(ben.user.id, { timezone: 'America/New_York' });
    const gone = await enrolLearner(t, cohort.id, 'Withdrawn Learner');
    await t.ctx.database.transaction((tx) => t!.ctx.cohorts.withdraw(tx, cohort.id, gone.user.id));

    t.clock.set('2026-03-16T07:59:59.999Z');
    await t.ctx.scheduler.runDue();
    expect(subjects(await t.mails())).toHaveLength(0);

    t.clock.set('2026-03-16T08:00:00.000Z');
    await t.ctx.scheduler.runDue();
    await t.ctx.scheduler.runDue();
    const week1 = await t.mails();
    expect(week1.map((m) => m.to && JSON.stringify(m.to)).join()).not.toContain(gone.email);
    expect(subjects(await t.mailsTo(ann.email))).toEqual(['Week 1 is open: Strategic Planning with Purpose']);
    expect(subjects(await t.mailsTo(ben.email))).toEqual(['Week 1 is open: Strategic Planning with Purpose']);
    // The link and the due date, in each learner's own zone.
    const annMail = (await t.mailsTo(ann.email))[0];
    expect(annMail.text).toContain(`http://cohort.test/cohorts/${cohort.id}/weeks/1`);
    expect(annMail.text).toContain('Mon, 23 Mar 2026, 08:00 GMT');
    expect((await t.mailsTo(ben.email))[0].text).toContain('Mon, 23 Mar 2026, 04:00 EDT');

    t.clock.set('2026-03-23T08:00:00.000Z');
    await t.ctx.scheduler.runDue();
    expect(subjects(await t.mails())).toHaveLength(4);

    // The server stops during week 2 and comes back after week 3 has opened (07:00Z: 08:00 BST).
    await t.close();
    t = await createTestApp({ dir, now: '2026-03-30T07:05:00.000Z' });
    await t.ctx.scheduler.runDue();
    await t.ctx.scheduler.runDue();
    expect(subjects(await t.mailsTo(ann.email))).toEqual([
      'Week 1 is open: Strategic Planning with Purpose',
      'Week 2 is open: Strategic Planning with Purpose',
      'Week 3 is open: Strategic Planning with Purpose',
    ]);

    // A second restart at the same instant sends nothing more.
    await t.close();
    t = await createTestApp({ dir, now: '2026-03-30T07:06:00.000Z' });
    await t.ctx.scheduler.runDue();
    expect(subjects(await t.mails())).toHaveLength(6);

    // Week 4 opens at 07:00Z, a summer-time 08:00.
    t.clock.set('2026-04-06T06:59:59.999Z');
    await t.ctx.scheduler.runDue();
    expect(subjects(await t.mails())).toHaveLength(6);
    t.clock.set('2026-04-06T07:00:00.000Z');
    await t.ctx.scheduler.runDue();
    expect(subjects(await t.mails())).toHaveLength(8);

    // Through the rest of the cohort's life, nothing else is sent.
    for (const at of ['2026-04-13T07:00:00.000Z', '2026-04-27T07:00:00.000Z', '2026-05-11T07:00:00.000Z', '2026-09-01T00:00:00.000Z']) {
      t.clock.set(at);
      await t.ctx.scheduler.runDue();
    }
    expect(subjects(await t.mails())).toHaveLength(8);
  });

  it('the per-learner key holds even if the week was somehow announced twice (two instances, a lost notice row)', async () => {
    t = await createTestApp({ now: '2026-03-16T09:00:00.000Z' });
    const { cohort } = await insertCohort(t, { startDate: '2026-03-16' });
    const learner = await enrolLearner(t, cohort.id);
    await t.ctx.scheduler.runDue();
    await t.ctx.database.transaction(async (tx) => {
      await tx.delete(weekOpenNotices).where(eq(weekOpenNotices.cohortId, cohort.id));
    });
    await t.ctx.scheduler.runDue();
    expect(subjects(await t.mailsTo(learner.email))).toHaveLength(1);
  });

  it('a learner who enrols after a week was announced does not get that week’s email, but gets the next ones', async () => {
    t = await createTestApp({ now: '2026-03-16T09:00:00.000Z' });
    const { cohort } = await insertCohort(t, { startDate: '2026-03-16' });
    const early = await enrolLearner(t, cohort.id);
    await t.ctx.scheduler.runDue();
    const late = await enrolLearner(t, cohort.id);
    await t.ctx.scheduler.runDue();
    expect(subjects(await t.mailsTo(early.email))).toHaveLength(1);
    expect(subjects(await t.mailsTo(late.email))).toHaveLength(0);
    t.clock.set('2026-03-23T08:00:00.000Z');
    await t.ctx.scheduler.runDue();
    expect(subjects(await t.mailsTo(late.email))).toEqual(['Week 2 is open: Strategic Planning with Purpose']);
  });

  it('sends nothing when the server comes back after the cohort’s material has closed (accessEndsAt)', async () => {
    t = await createTestApp({ now: '2026-03-10T00:00:00.000Z' });
    const { cohort } = await insertCohort(t, { startDate: '2026-03-16' });
    const learner = await enrolLearner(t, cohort.id);
    t.clock.set('2026-05-11T07:00:00.000Z');
    await t.ctx.scheduler.runDue();
    expect(subjects(await t.mailsTo(learner.email))).toHaveLength(0);
  });

  it('does not read cohorts that are long archived or far in the future on each tick', async () => {
    t = await createTestApp({ now: '2026-03-20T12:00:00.000Z' });
    await insertCohort(t, { startDate: '2025-06-02' }); // archived long ago
    await insertCohort(t, { startDate: '2026-09-07' }); // months ahead
    const { cohort } = await insertCohort(t, { startDate: '2026-03-16' });
    await enrolLearner(t, cohort.id);
    // Each cohort the tick looks at is given its course version: the running one when listed, and again inside the
    // transaction that announces its week; the archived and the far-off cohorts are never looked at.
    const load = vi.spyOn(t.ctx.courses, 'load');
    const result = await t.ctx.cohorts.announceOpenWeeks(t.clock.now());
    expect(load).toHaveBeenCalledTimes(2);
    expect(result).toEqual({ weeks: 1, emails: 1 });
    load.mockClear();
    // The next tick reads the running cohort and finds nothing to do.
    expect(await t.ctx.cohorts.announceOpenWeeks(t.clock.now())).toEqual({ weeks: 0, emails: 0 });
    expect(load).toHaveBeenCalledTimes(1);
  });
});
