// The whole-cohort views (staff grid, "who is behind", the sweep) read every learner's progress in a few queries:
// they must say exactly what each learner's own progress says, and the sweep must still issue what the hook missed.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { and, eq } from 'drizzle-orm';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { enrolLearner } from '../helpers/factories.js';
import { apiAs } from '../helpers/http.js';
import { enrolments } from '../../modules/cohorts/schema.js';
import { certificates } from '../../modules/certificates/schema.js';
import { attend, certCohort, doAlmostEverything, LATE_IN_COHORT, post, submitWeek } from './helpers.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp({ now: LATE_IN_COHORT });
});
afterEach(async () => t.close());

describe('progress of a whole cohort', () => {
  it('matches each learner’s own progress, whatever stage they are at', async () => {
    const c = await certCohort(t);
    const course = c.cohort.courseSlug;
    // Lena: everything but the last review. Done: everything (certificate issued), then revoked for Rita.
    await doAlmostEverything(t, c, c.learner, 'review4');
    const done = await enrolLearner(t, c.cohort.id, 'Dana Done');
    await doAlmostEverything(t, c, done, 'nothing');
    const revoked = await enrolLearner(t, c.cohort.id, 'Rita Revoked');
    await doAlmostEverything(t, c, revoked, 'nothing');
    const code = (await t.ctx.db.select().from(certificates)).find((r) => r.learnerName === 'Rita Revoked')!.code;
    await t.ctx.certificates.revoke(c.admin.user, code, 'Issued in error');
    // Sam: one worksheet, one session, one post, and a personal grace extension.
    const some = await enrolLearner(t, c.cohort.id, 'Sam Some');
    await submitWeek(t, c.cohort.id, course, apiAs(t.app, some.token), 1);
    await attend(t, c, some.email, 0);
    await post(c.cohort.id, apiAs(t.app, some.token));
    const ext = await c.asInstructor('POST', `/api/v1/cohorts/${c.cohort.id}/extensions`, {
      learner: some.email,
      graceEndsAt: '2026-04-20T12:00:00.000Z',
      reason: 'Illness',
    });
    expect(ext.statusCode, ext.body).toBeLessThan(300);
    // Nia: nothing yet, and no certificate wanted. Wes: withdrawn (not listed).
    const none = await enrolLearner(t, c.cohort.id, 'Nia Nothing');
    await t.ctx.certificates.setWanted(c.cohort.id, none.user.id, false);
    const gone = await enrolLearner(t, c.cohort.id, 'Wes Withdrawn');
    await t.ctx.database.transaction((tx) => t.ctx.cohorts.withdraw(tx, c.cohort.id, gone.user.id));

    const cohort = await t.ctx.cohorts.get(c.cohort.id);
    const all = await t.ctx.certificates.cohortProgress(cohort);
    expect(all.map((p) => p.name)).toEqual(['Dana Done', 'Lena Learner', 'Nia Nothing', 'Rita Revoked', 'Sam Some']);
    for (const p of all) {
      expect(p).toEqual(await t.ctx.certificates.progress(cohort, { id: p.userId, name: p.name, email: p.email, timezone: p.timezone }));
    }
    const sam = all.find((p) => p.name === 'Sam Some')!;
    expect(sam.graceEndsAt.toISOString()).toBe('2026-04-20T12:00:00.000Z');
    expect(sam.evaluation).toMatchObject({ assignmentsComplete: 0, sessionsAttended: 1, posts: 1 });
    expect(all.find((p) => p.name === 'Rita Revoked')!.revoked?.revokedReason).toBe('Issued in error');
    expect(all.find((p) => p.name === 'Dana Done')!.certificate?.learnerName).toBe('Dana Done');
  });

  it('the sweep issues a certificate the hook missed, and none to learners still short of the rules', async () => {
    const c = await certCohort(t);
    // The learner does everything while not wanting a certificate; the wish is then switched on behind the hook's back.
    await t.ctx.certificates.setWanted(c.cohort.id, c.learner.user.id, false);
    await doAlmostEverything(t, c, c.learner, 'nothing');
    const short = await enrolLearner(t, c.cohort.id, 'Sid Short');
    await doAlmostEverything(t, c, short, 'post');
    await t.ctx.database.transaction(async (tx) => {
      await tx
        .update(enrolments)
        .set({ certificateWanted: true })
        .where(and(eq(enrolments.cohortId, c.cohort.id), eq(enrolments.userId, c.learner.user.id)));
    });
    expect(await t.ctx.db.select().from(certificates)).toHaveLength(0);

    expect(await t.ctx.certificates.sweep(t.clock.now())).toBe(1);
    const rows = await t.ctx.db.select().from(certificates);
    expect(rows.map((r) => r.learnerName)).toEqual(['Lena Learner']);
    expect(await t.ctx.certificates.sweep(t.clock.now())).toBe(0);
  });
});
