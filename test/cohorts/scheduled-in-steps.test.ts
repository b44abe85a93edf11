// Large scheduled runs (a whole install's week opening, the 07:00 digests) let requests in between their steps, so the
// server keeps answering while they run, and they still do all their work once.
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { enrolLearner, insertCohort } from '../helpers/factories.js';
import { outbox } from '../../server/outbox-schema.js';
import type { Cohort } from '../../modules/cohorts/service.js';

let t: TestApp | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
});

describe('scheduled work in steps', () => {
  it('the server answers a request while week 1 of many cohorts is being announced, and every learner gets one email', async () => {
    t = await createTestApp({ now: '2026-03-16T07:00:00.000Z' });
    const cohorts: Cohort[] = [];
    for (let i = 0; i < 6; i++) cohorts.push((await insertCohort(t, { course: 'strategic-planning', startDate: '2026-03-16', timezone: 'Europe/London' })).cohort);
    for (const c of cohorts) for (let i = 0; i < 3; i++) await enrolLearner(t, c.id);
    t.clock.set('2026-03-16T08:00:00.000Z');

    const weekOneMails = async () => (await t!.ctx.db.select().from(outbox)).filter((m) => m.subject.startsWith('Week 1 is open'));
    const run = t.ctx.scheduler.runDue();
    const res = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    // Answered mid-run: some cohorts were announced, not all.
    expect((await weekOneMails()).length).toBeLessThan(18);
    await run;

    const weekOne = await weekOneMails();
    expect(weekOne).toHaveLength(18);
    expect(new Set(weekOne.map((m) => m.to)).size).toBe(18);
    await t.ctx.scheduler.runDue();
    expect(await weekOneMails()).toHaveLength(18);
  });
});
