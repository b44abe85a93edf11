// A learner with an extension sees their own dates on the cohort pages, not the cohort's.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { apiAs } from '../helpers/http.js';
import { enrolLearner, insertCohort, insertUser, signInBrowser } from '../helpers/factories.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp({ now: '2026-03-10T12:00:00.000Z' });
});
afterEach(async () => t.close());

describe('personal dates on cohort pages', () => {
  it('the week page, cohort home and my courses show the extended due date and grace end', async () => {
    const instructor = await insertUser(t, 'instructor');
    const { cohort } = await insertCohort(t, { instructor: instructor.email, startDate: '2026-03-02' });
    const ana = await enrolLearner(t, cohort.id, 'Ana');
    const ben = await enrolLearner(t, cohort.id, 'Ben');
    const granted = await apiAs(t.app, instructor.token)('POST', `/api/v1/cohorts/${cohort.id}/extensions`, {
      learner: ana.email,
      week: 2,
      dueAt: '2026-03-20T17:00:00.000Z',
      graceEndsAt: '2026-04-20T17:00:00.000Z',
      reason: 'Annual leave',
    });
    expect(granted.statusCode).toBeLessThan(300);
    const anaBrowser = await signInBrowser(t, ana.email);
    const week = await anaBrowser.get(`/cohorts/${cohort.id}/weeks/2`);
    expect(week.statusCode).toBe(200);
    expect(week.body).toContain('Fri, 20 Mar 2026, 17:00 GMT');
    const home = await anaBrowser.get(`/cohorts/${cohort.id}`);
    expect(home.body).toContain('Fri, 20 Mar 2026, 17:00 GMT');
    expect(home.body).toContain('Mon, 20 Apr 2026, 18:00 BST');
    // Ben has no extension: the cohort's own week-2 due date (opensAt(3) at 08:00 local) stands.
    const benBrowser = await signInBrowser(t, ben.email);
    const benWeek = await benBrowser.get(`/cohorts/${cohort.id}/weeks/2`);
    expect(benWeek.body).not.toContain('Fri, 20 Mar 2026, 17:00 GMT');
    expect(benWeek.body).toContain('Mon, 16 Mar 2026, 08:00 GMT');
  });
});
