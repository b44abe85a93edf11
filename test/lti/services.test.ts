// LTI Advantage services against the stand-in platform: Names and Role Provisioning (a cohort's roster synced from
// the platform's course, pages followed, learners booked through the booking rules) and Assignment and Grade Services
// (line items made once, scores after the change commits, retried from the outbox while the platform is down).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { and, eq } from 'drizzle-orm';
import { enrolLearner, insertCohort, insertUser, signInBrowser } from '../helpers/factories.js';
import { apiAs } from '../helpers/http.js';
import { LTI } from '../helpers/lti-platform.js';
import { ltiLineItems, ltiScoreOutbox } from '../../modules/lti/schema.js';
import { nextLink, scoresUrl } from '../../modules/lti/services.js';
import { launch, ltiWorld, type LtiWorld } from './setup.js';

type Token = { token: string; email: string };

describe('names and role provisioning', () => {
  let w: LtiWorld;
  let teacher: Token;
  beforeAll(async () => {
    w = await ltiWorld();
    teacher = w.instructor as Token;
    // The cohort's instructor opens it from the platform once: the launch links the platform course (and its roster URL).
    const r = await launch(w, { sub: 'p-teacher', roles: [LTI.instructor], email: teacher.email, custom: { cohort_id: String(w.cohort.id) } });
    expect(r.res.status).toBe(303);
  });
  afterAll(async () => w?.close());

  it("an instructor syncs the class list: pages followed, members linked, learners booked by the booking rules, the rest skipped", async () => {
    await w.t.ctx.bookings.addMember({ domain: 'county-libraries.example.org' }, w.admin.user);
    const enrolled = await enrolLearner(w.t, w.cohort.id, 'Already Here');
    w.platform.members.set('course-101', [
      { user_id: 'p-teacher', roles: [LTI.instructor], email: teacher.email, name: 'The Teacher' },
      { user_id: 'p-amy', roles: [LTI.learner], email: 'amy@county-libraries.example.org', name: 'Amy Member' },
      { user_id: 'p-bob', roles: [LTI.learner], email: 'bob@elsewhere.example.org', name: 'Bob Standalone' },
      { user_id: 'p-cat', roles: [LTI.learner], email: 'cat@county-libraries.example.org', name: 'Cat Gone', status: 'Inactive' },
      { user_id: 'p-dan', roles: [LTI.learner], name: 'Dan No-Email' },
      { user_id: 'p-eve', roles: [LTI.learner], email: enrolled.email, name: 'Already Here' },
    ]);
    const res = await apiAs(w.t.app, teacher.token)('POST', `/api/v1/cohorts/${w.cohort.id}/lti/roster-sync`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ contexts: 1, members: 6, booked: 2, alreadyIn: 1, linked: 1, skipped: 2, refused: [] });
    // The token came by client credentials with an assertion the platform checked against the tool's key set.
    const tokenRequest = w.platform.tokenRequests.at(-1)!;
    expect(tokenRequest.scope).toBe('https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly');
    expect(tokenRequest.assertion).toMatchObject({ iss: w.platform.clientId, sub: w.platform.clientId, aud: `${w.platform.url}/token` });
    const list = await w.t.ctx.bookings.listForCohort(w.cohort.id);
    const byEmail = new Map(list.map((b) => [b.email, b]));
    expect(byEmail.get('amy@county-libraries.example.org')).toMatchObject({ kind: 'member', status: 'confirmed' });
    expect(byEmail.get('bob@elsewhere.example.org')).toMatchObject({ kind: 'standalone', status: 'pending_payment' });
    expect(byEmail.has('cat@county-libraries.example.org')).toBe(false);
    // Amy later launches as the same person the sync made, and lands on the cohort.
    const amy = await launch(w, { sub: 'p-amy', roles: [LTI.learner] });
    expect(amy.res.headers.get('location')).toBe(`/cohorts/${w.cohort.id}`);
    // A second sync books nobody twice.
    const again = await apiAs(w.t.app, teacher.token)('POST', `/api/v1/cohorts/${w.cohort.id}/lti/roster-sync`);
    expect(again.json()).toMatchObject({ booked: 0, alreadyIn: 3 });
  });

  it('the sync button on the staff page; learners and strangers are refused; no linked course is a 422; the platform down is a 503', async () => {
    const browser = await signInBrowser(w.t, teacher.email);
    const staff = await browser.get(`/teach/cohorts/${w.cohort.id}`);
    expect(staff.body).toContain('Sync the class list from the platform');
    const done = await browser.post(`/cohorts/${w.cohort.id}/lti/roster-sync`, {}, { fromPage: `/teach/cohorts/${w.cohort.id}` });
    expect(done.statusCode, done.body.slice(0, 200)).toBe(200);
    expect(done.body).toContain('Class list synced');
    const learner = await enrolLearner(w.t, w.cohort.id);
    expect((await apiAs(w.t.app, learner.token)('POST', `/api/v1/cohorts/${w.cohort.id}/lti/roster-sync`)).statusCode).toBe(403);
    expect((await apiAs(w.t.app, null)('POST', `/api/v1/cohorts/${w.cohort.id}/lti/roster-sync`)).statusCode).toBe(401);
    const { cohort: unlinked } = await insertCohort(w.t);
    const admin = apiAs(w.t.app, w.admin.token);
    expect((await admin('POST', `/api/v1/cohorts/${unlinked.id}/lti/roster-sync`)).statusCode).toBe(422);
    w.platform.down = true;
    try {
      const down = await admin('POST', `/api/v1/cohorts/${w.cohort.id}/lti/roster-sync`);
      expect(down.statusCode).toBe(503);
      expect(down.headers['content-type']).toContain('application/problem+json');
    } finally {
      w.platform.down = false;
    }
  });
});

describe('assignment and grade services', () => {
  let w: LtiWorld;
  let teacher: Token;
  let learner: Awaited<ReturnType<typeof enrolLearner>>;
  beforeAll(async () => {
    w = await ltiWorld();
    teacher = w.instructor as Token;
    // Week 2 of the cohort: weeks 1 and 2 are open.
    w.t.clock.set('2026-03-10T10:00:00.000Z');
    learner = await enrolLearner(w.t, w.cohort.id, 'Gwen Grade');
    expect((await launch(w, { sub: 'p-teacher', roles: [LTI.instructor], email: teacher.email, custom: { cohort_id: String(w.cohort.id) } })).res.status).toBe(303);
    expect((await launch(w, { sub: 'p-gwen', roles: [LTI.learner], email: learner.email, custom: { cohort_id: String(w.cohort.id) } })).res.status).toBe(303);
  });
  afterAll(async () => w?.close());

  const submit = async (week: number) => {
    const api = apiAs(w.t.app, learner.token);
    const doc = (await api('GET', `/api/v1/cohorts/${w.cohort.id}/weeks/${week}`)).json() as { assignment: { prompts: Array<{ id: string }> } };
    const answers = Object.fromEntries(doc.assignment.prompts.map((p) => [p.id, `My answer for week ${week}.`]));
    const res = await api('PUT', `/api/v1/cohorts/${w.cohort.id}/weeks/${week}/submission`, { answers, submit: true });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().id as number;
  };
  const review = async (id: number) => {
    const res = await apiAs(w.t.app, teacher.token)('POST', `/api/v1/submissions/${id}/review`, { outcome: 'complete', feedback: 'Well done.' });
    expect(res.statusCode, res.body).toBe(200);
  };

  it("a submitted and then completed week reaches the platform's gradebook: one line item, made once, and two scores after each change", async () => {
    const id = await submit(1);
    await w.t.ctx.lti.deliverScores();
    expect(w.platform.lineItems).toHaveLength(1);
    expect(w.platform.lineItems[0]).toMatchObject({ resourceId: `cohort-${w.cohort.id}-week-1`, scoreMaximum: 1, tag: 'assignment' });
    expect(w.platform.scores.at(-1)!.body).toMatchObject({ userId: 'p-gwen', activityProgress: 'Submitted', gradingProgress: 'PendingManual' });
    await review(id);
    await w.t.ctx.lti.deliverScores();
    expect(w.platform.lineItems).toHaveLength(1);
    const last = w.platform.scores.at(-1)!;
    expect(last.lineItem).toBe(w.platform.lineItems[0].id);
    expect(last.body).toMatchObject({ userId: 'p-gwen', scoreGiven: 1, scoreMaximum: 1, activityProgress: 'Completed', gradingProgress: 'FullyGraded', timestamp: w.t.clock.now().toISOString() });
    const stored = await w.t.ctx.db.select().from(ltiLineItems);
    expect(stored.map((l) => l.item)).toEqual(['week:1']);
    // The AGS token asked for the line item and score scopes, with a fresh assertion.
    const tokenRequest = w.platform.tokenRequests.at(-1)!;
    expect(tokenRequest.scope.split(' ').sort()).toEqual(['https://purl.imsglobal.org/spec/lti-ags/scope/lineitem', 'https://purl.imsglobal.org/spec/lti-ags/scope/score']);
    expect(tokenRequest.assertion.jti).toBeTruthy();
  });

  it('while the platform is down the score waits in the outbox, and it is delivered once the platform is back', async () => {
    const before = w.platform.scores.length;
    w.platform.down = true;
    const id = await submit(2);
    // (The try right after the commit may already have run; either way the score was tried once.)
    await w.t.ctx.lti.deliverScores();
    const [waiting] = await w.t.ctx.db.select().from(ltiScoreOutbox).where(and(eq(ltiScoreOutbox.item, 'week:2'), eq(ltiScoreOutbox.status, 'pending')));
    expect(waiting).toMatchObject({ attempts: 1 });
    expect(waiting.lastError).toMatch(/503|cannot be reached|failing/);
    w.platform.down = false;
    // Not due yet: retried after its backoff, by the scheduler's job.
    await w.t.ctx.lti.deliverScores();
    expect(w.platform.scores.length).toBe(before);
    w.t.clock.advance({ minutes: 1 });
    await w.t.ctx.scheduler.runDue();
    expect(w.platform.scores.slice(before).map((s) => s.body.activityProgress)).toEqual(['Submitted']);
    const [sent] = await w.t.ctx.db.select().from(ltiScoreOutbox).where(eq(ltiScoreOutbox.id, waiting.id));
    expect(sent.status).toBe('sent');
    await review(id);
    await w.t.ctx.lti.deliverScores();
    expect(w.platform.lineItems.map((l) => l.resourceId)).toEqual([`cohort-${w.cohort.id}-week-1`, `cohort-${w.cohort.id}-week-2`]);
  });

  it('the certificate outcome is sent when the change that earns it commits', async () => {
    w.t.ctx.certificates.useSources({
      weekStatuses: async () => [1, 2, 3, 4].map((week) => ({ week, title: `Worksheet ${week}`, status: 'complete' as const, late: false })),
      attendance: async () => ({ attendedOrWatched: 4, total: 4, missed: [] }),
      posts: async () => 5,
    });
    try {
      // Any change to the learner's progress (here: a week 2 resubmission is not possible, so a post in the discussion).
      const api = apiAs(w.t.app, learner.token);
      const thread = await api('POST', `/api/v1/cohorts/${w.cohort.id}/threads`, { title: 'Hello', body: 'A first post.' });
      expect(thread.statusCode, thread.body).toBe(201);
      await w.t.ctx.lti.deliverScores();
      const cert = w.platform.scores.find((s) => String(s.body.comment ?? '').startsWith('Certificate '));
      expect(cert?.body).toMatchObject({ userId: 'p-gwen', scoreGiven: 1, activityProgress: 'Completed', gradingProgress: 'FullyGraded' });
      expect(w.platform.lineItems.some((l) => l.resourceId === `cohort-${w.cohort.id}-certificate`)).toBe(true);
      // Nothing changed since: a second change queues nothing new for the items already sent.
      const count = w.platform.scores.length;
      await api('POST', `/api/v1/cohorts/${w.cohort.id}/threads`, { title: 'Again', body: 'A second post.' });
      await w.t.ctx.lti.deliverScores();
      expect(w.platform.scores.length).toBe(count);
    } finally {
      w.t.ctx.certificates.useSources(null);
    }
  });

  it("an admin's revocation reaches the gradebook as 0, and a certificate issued by hand as 1", async () => {
    const admin = apiAs(w.t.app, w.admin.token);
    const certScores = () => w.platform.scores.filter((s) => s.body.userId === 'p-gwen' && String(s.body.comment ?? '').startsWith('Certificate '));
    const [{ code }] = (await admin('GET', `/api/v1/certificates?cohort=${w.cohort.id}`)).json().filter((c: { email: string }) => c.email === learner.email);
    const revoked = await admin('POST', `/api/v1/certificates/${code}/revoke`, { reason: 'Issued to the wrong person.' });
    expect(revoked.statusCode, revoked.body).toBe(200);
    await w.t.ctx.lti.deliverScores();
    expect(certScores().at(-1)?.body).toMatchObject({ scoreGiven: 0, scoreMaximum: 1, comment: `Certificate ${code} revoked` });
    const issued = await admin('POST', `/api/v1/cohorts/${w.cohort.id}/certificates`, { email: learner.email });
    expect(issued.statusCode, issued.body).toBe(201);
    await w.t.ctx.lti.deliverScores();
    expect(certScores().at(-1)?.body).toMatchObject({ scoreGiven: 1, scoreMaximum: 1, comment: `Certificate ${issued.json().code}` });
  });

  it('a score the platform refuses (4xx) is marked failed at once, not retried', async () => {
    w.platform.refuseScores = 422;
    try {
      const other = await enrolLearner(w.t, w.cohort.id, 'Rae Refused');
      expect((await launch(w, { sub: 'p-rae', roles: [LTI.learner], email: other.email, custom: { cohort_id: String(w.cohort.id) } })).res.status).toBe(303);
      const api = apiAs(w.t.app, other.token);
      const doc = (await api('GET', `/api/v1/cohorts/${w.cohort.id}/weeks/1`)).json() as { assignment: { prompts: Array<{ id: string }> } };
      await api('PUT', `/api/v1/cohorts/${w.cohort.id}/weeks/1/submission`, { answers: Object.fromEntries(doc.assignment.prompts.map((p) => [p.id, 'An answer.'])), submit: true });
      await w.t.ctx.lti.deliverScores();
      const rows = await w.t.ctx.db.select().from(ltiScoreOutbox).where(eq(ltiScoreOutbox.userId, other.user.id));
      expect(rows.map((r) => [r.status, r.attempts])).toEqual([['failed', 1]]);
      expect(rows[0].lastError).toContain('422');
    } finally {
      w.platform.refuseScores = null;
    }
  });

  it('a learner the platform never launched gets no scores, and nothing breaks', async () => {
    const other = await enrolLearner(w.t, w.cohort.id);
    const api = apiAs(w.t.app, other.token);
    const res = await api('POST', `/api/v1/cohorts/${w.cohort.id}/threads`, { title: 'Mine', body: 'Hello.' });
    expect(res.statusCode).toBe(201);
    const rows = await w.t.ctx.db.select().from(ltiScoreOutbox).where(eq(ltiScoreOutbox.userId, other.user.id));
    expect(rows).toHaveLength(0);
    void insertUser;
  });
});

describe('helpers', () => {
  it('reads rel=next from a Link header and puts /scores before the query string', () => {
    expect(nextLink('<https://lms.example.org/m?page=2>; rel="next", <https://lms.example.org/m?page=9>; rel="last"')).toBe('https://lms.example.org/m?page=2');
    expect(nextLink('<https://lms.example.org/m?page=1>; rel="prev"')).toBeNull();
    expect(nextLink(null)).toBeNull();
    expect(scoresUrl('https://lms.example.org/lineitems/7?type=x')).toBe('https://lms.example.org/lineitems/7/scores?type=x');
  });
});
