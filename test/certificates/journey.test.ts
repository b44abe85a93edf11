// Automatic issue through the real modules: the certificate appears the moment the last rule is met, once, by email.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { enrolLearner } from '../helpers/factories.js';
import { apiAs } from '../helpers/http.js';
import { certificates } from '../../modules/certificates/schema.js';
import { attend, certCohort, doAlmostEverything, LATE_IN_COHORT, post, review } from './helpers.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp({ now: LATE_IN_COHORT });
});
afterEach(async () => t.close());

describe('automatic certificates through the real assignments, sessions and discussions', () => {
  it('a learner gets the certificate the moment the instructor marks the last worksheet complete, and an email', async () => {
    const c = await certCohort(t);
    const { week4 } = await doAlmostEverything(t, c, c.learner, 'review4');
    const before = (await c.asLearner('GET', `/api/v1/cohorts/${c.cohort.id}/progress`)).json();
    expect(before.eligible).toBe(false);
    expect(before.certificate).toBeNull();
    expect(before.missing).toEqual(['Week 4 worksheet is waiting for the instructor’s review']);
    expect(before).toMatchObject({ assignmentsComplete: 3, sessionsAttended: 3, posts: 1 });

    t.clock.advance({ minutes: 5 });
    await review(c.asInstructor, week4, 'complete');

    const after = (await c.asLearner('GET', `/api/v1/cohorts/${c.cohort.id}/progress`)).json();
    expect(after).toMatchObject({ assignmentsComplete: 4, sessionsAttended: 3, posts: 1, eligible: true, missing: [] });
    expect(after.certificate.code).toMatch(/^[A-Z2-7]{26}$/);
    const rows = await t.ctx.db.select().from(certificates);
    expect(rows).toHaveLength(1);
    expect(rows[0].issuedAt.toISOString()).toBe(t.clock.now().toISOString());
    expect(rows[0]).toMatchObject({ earned: 'on_time', issued: 'auto', learnerName: 'Lena Learner', courseTitle: 'Strategic Planning with Purpose' });

    const mails = (await t.mailsTo(c.learner.email)).filter((m) => m.subject?.startsWith('Your certificate'));
    expect(mails).toHaveLength(1);
    expect(mails[0].text).toContain(`http://cohort.test/certificates/${after.certificate.code}.pdf`);
    expect(mails[0].text).toContain(`http://cohort.test/certificates/${after.certificate.code}`);

    // Later progress changes (another post) issue nothing more.
    await post(c.cohort.id, c.asLearner);
    expect(await t.ctx.db.select().from(certificates)).toHaveLength(1);
  });

  it('a needs-revision review keeps the certificate back and says so in plain words', async () => {
    const c = await certCohort(t);
    const { week4 } = await doAlmostEverything(t, c, c.learner, 'review4');
    await review(c.asInstructor, week4, 'needs_revision');
    const p = (await c.asLearner('GET', `/api/v1/cohorts/${c.cohort.id}/progress`)).json();
    expect(p.eligible).toBe(false);
    expect(p.missing).toEqual(['Week 4 worksheet needs revision']);
    expect(await t.ctx.db.select().from(certificates)).toHaveLength(0);
  });

  it('the learner’s first discussion post can be the step that earns it', async () => {
    const c = await certCohort(t);
    await doAlmostEverything(t, c, c.learner, 'post');
    expect((await c.asLearner('GET', `/api/v1/cohorts/${c.cohort.id}/progress`)).json().missing).toEqual(['Post at least once in the discussion']);
    await post(c.cohort.id, c.asLearner);
    expect((await c.asLearner('GET', `/api/v1/cohorts/${c.cohort.id}/progress`)).json().certificate).not.toBeNull();
  });

  it('attendance marked during the grace period earns a certificate marked as earned in the grace period', async () => {
    const c = await certCohort(t);
    await doAlmostEverything(t, c, c.learner, 'attend3');
    expect((await c.asLearner('GET', `/api/v1/cohorts/${c.cohort.id}/progress`)).json().missing).toEqual(['Attend or watch one more session']);
    t.clock.set('2026-04-05T10:00:00.000Z');
    await attend(t, c, c.learner.email, 3);
    const [row] = await t.ctx.db.select().from(certificates).limit(1);
    expect(row.earned).toBe('grace');
    const doc = (await c.anonymous('GET', `/api/v1/certificates/${row.code}`)).json();
    expect(doc).toMatchObject({ status: 'valid', earned: 'grace' });
  });

  it('met one minute before graceEndsAt: issued; met one minute after: not', async () => {
    const c = await certCohort(t);
    const late = await enrolLearner(t, c.cohort.id, 'Lou Late');
    await doAlmostEverything(t, c, c.learner, 'attend3');
    await doAlmostEverything(t, c, late, 'attend3');
    const grace = c.cohort.timeline.graceEndsAt.getTime();
    t.clock.set(new Date(grace - 60_000));
    await attend(t, c, c.learner.email, 3);
    t.clock.set(new Date(grace + 60_000));
    await attend(t, c, late.email, 3);
    const rows = await t.ctx.db.select().from(certificates);
    expect(rows.map((r) => r.userId)).toEqual([c.learner.user.id]);
    const lateProgress = (await apiAs(t.app, c.instructor.token)('GET', `/api/v1/cohorts/${c.cohort.id}/progress?learner=${encodeURIComponent(late.email)}`)).json();
    expect(lateProgress).toMatchObject({ eligible: true, certificate: null });
  });
});
