// Submissions through the API: drafts, submit, versions, review, who may do what, late and grace, extensions, list, CSV.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { apiAs } from '../helpers/http.js';
import { enrolLearner, insertCohort, insertUser } from '../helpers/factories.js';
import { setupCohort } from './helpers.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => t.close());

const sub = (cohortId: number, week: number) => `/api/v1/cohorts/${cohortId}/weeks/${week}/submission`;
const minutes = (d: Date, m: number) => new Date(d.getTime() + m * 60_000).toISOString();

describe('a learner saves drafts and submits versions', () => {
  it('a draft is saved privately; submitting makes version 1 that the instructor sees', async () => {
    const s = await setupCohort(t);
    const draft = await s.asLearner('PUT', sub(s.cohort.id, 1), { answers: { users: 'Students and carers' }, submit: false });
    expect(draft.statusCode).toBe(200);
    expect(draft.json()).toEqual({ id: expect.any(Number), status: 'draft', late: false, version: 0, submittedAt: null });

    // The instructor sees that a draft exists but not what it says.
    const list = (await s.asInstructor('GET', `/api/v1/cohorts/${s.cohort.id}/submissions`)).json();
    expect(list).toEqual([expect.objectContaining({ id: draft.json().id, status: 'draft', version: 0, learner: s.learner.email, submittedAt: null })]);
    const staffView = (await s.asInstructor('GET', `/api/v1/submissions/${draft.json().id}`)).json();
    expect(staffView.answers).toEqual({});
    expect(staffView.draft).toBeNull();
    expect(JSON.stringify(staffView)).not.toContain('Students and carers');

    const submitted = await s.asLearner('PUT', sub(s.cohort.id, 1), { answers: { users: 'Students and carers', gap: 'Evening hours' }, submit: true });
    expect(submitted.json()).toMatchObject({ status: 'submitted', late: false, version: 1, submittedAt: t.clock.now().toISOString() });
    const seen = (await s.asInstructor('GET', `/api/v1/submissions/${draft.json().id}`)).json();
    expect(seen.answers).toEqual({ users: 'Students and carers', gap: 'Evening hours' });
    expect(seen.versions).toHaveLength(1);
  });

  it('every submitted version is kept and stays readable after a revision', async () => {
    const s = await setupCohort(t);
    const v1 = (await s.asLearner('PUT', sub(s.cohort.id, 1), { answers: { users: 'First thoughts' }, submit: true })).json();
    await s.asInstructor('POST', `/api/v1/submissions/${v1.id}/review`, { outcome: 'needs_revision', feedback: 'Say who rarely uses the service.' });
    t.clock.advance({ hours: 2 });
    const v2 = await s.asLearner('PUT', sub(s.cohort.id, 1), { answers: { users: 'Second, fuller thoughts' }, submit: true });
    expect(v2.json()).toMatchObject({ id: v1.id, status: 'submitted', version: 2 });
    const own = (await s.asLearner('GET', sub(s.cohort.id, 1))).json();
    expect(own.versions.map((v: { version: number; answers: object }) => [v.version, v.answers])).toEqual([
      [1, { users: 'First thoughts' }],
      [2, { users: 'Second, fuller thoughts' }],
    ]);
    expect(own.versions[0].reviews).toEqual([expect.objectContaining({ outcome: 'needs_revision', feedback: 'Say who rarely uses the service.', reviewer: 'Ines Instructor' })]);
    expect(own.answers).toEqual({ users: 'Second, fuller thoughts' });
  });

  it('a learner may change and resubmit while waiting for review; saving a draft keeps the submitted status', async () => {
    const s = await setupCohort(t);
    await s.asLearner('PUT', sub(s.cohort.id, 1), { answers: { users: 'A' }, submit: true });
    const draft = await s.asLearner('PUT', sub(s.cohort.id, 1), { answers: { users: 'A, improved' }, submit: false });
    expect(draft.json()).toMatchObject({ status: 'submitted', version: 1 });
    const own = (await s.asLearner('GET', sub(s.cohort.id, 1))).json();
    expect(own.answers).toEqual({ users: 'A' });
    expect(own.draft.answers).toEqual({ users: 'A, improved' });
    expect((await s.asLearner('PUT', sub(s.cohort.id, 1), { answers: { users: 'A, improved' }, submit: true })).json()).toMatchObject({ version: 2, status: 'submitted' });
  });

  it('GET of a week with nothing saved yet is a 404', async () => {
    const s = await setupCohort(t);
    expect((await s.asLearner('GET', sub(s.cohort.id, 1))).statusCode).toBe(404);
  });
});

describe('bad input is refused with a 400 that names the field', () => {
  it('an unknown prompt id names the prompt', async () => {
    const s = await setupCohort(t);
    const res = await s.asLearner('PUT', sub(s.cohort.id, 1), { answers: { users: 'ok', nonsense: 'x' }, submit: false });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().detail).toContain('answers.nonsense');
  });

  it('an answer over the prompt’s length limit names the prompt; CRLF line breaks count once', async () => {
    const s = await setupCohort(t);
    const res = await s.asLearner('PUT', sub(s.cohort.id, 1), { answers: { users: 'x'.repeat(3001) }, submit: false });
    expect(res.statusCode).toBe(400);
    expect(res.json().detail).toMatch(/answers\.users: .*at most 3000 characters/);
    const crlf = 'line\r\n'.repeat(500); // 3000 characters with CRLF, 2500 once normalised
    expect((await s.asLearner('PUT', sub(s.cohort.id, 1), { answers: { users: crlf }, submit: false })).statusCode).toBe(200);
  });

  it('missing or extra fields and wrong types are 400', async () => {
    const s = await setupCohort(t);
    expect((await s.asLearner('PUT', sub(s.cohort.id, 1), { answers: {} })).statusCode).toBe(400);
    expect((await s.asLearner('PUT', sub(s.cohort.id, 1), { answers: {}, submit: false, extra: 1 })).statusCode).toBe(400);
    expect((await s.asLearner('PUT', sub(s.cohort.id, 1), { answers: { users: 5 }, submit: false })).statusCode).toBe(400);
    expect((await s.asLearner('PUT', sub(s.cohort.id, 1), { answers: [], submit: 'yes' })).statusCode).toBe(400);
  });

  it('submitting an empty worksheet is refused', async () => {
    const s = await setupCohort(t);
    const res = await s.asLearner('PUT', sub(s.cohort.id, 1), { answers: { users: '   ' }, submit: true });
    expect(res.statusCode).toBe(400);
    expect(res.json().detail).toContain('answer at least one prompt');
  });

  it('choose-k weeks: the wrong number of options or an unknown option is 400; the right number is accepted', async () => {
    const s = await setupCohort(t, { course: 'library-partnerships' });
    const url = sub(s.cohort.id, 1);
    const none = await s.asLearner('PUT', url, { answers: { 'write-up': 'My case' }, options: [], submit: true });
    expect(none.statusCode).toBe(400);
    expect(none.json().detail).toContain('options: choose 1 of the 3 options');
    const two = await s.asLearner('PUT', url, { answers: { 'write-up': 'My case' }, options: ['what-went-right', 'what-went-wrong'], submit: false });
    expect(two.statusCode).toBe(400);
    const unknown = await s.asLearner('PUT', url, { answers: {}, options: ['made-up'], submit: false });
    expect(unknown.json().detail).toContain('no option "made-up"');
    // A draft may hold fewer choices than needed.
    expect((await s.asLearner('PUT', url, { answers: { 'write-up': 'My case' }, submit: false })).statusCode).toBe(200);
    const ok = await s.asLearner('PUT', url, { answers: { 'write-up': 'My case' }, options: ['what-went-right'], submit: true });
    expect(ok.statusCode).toBe(200);
    expect((await s.asLearner('GET', url)).json().options).toEqual(['what-went-right']);
  });

  it('options on a week without options are 400', async () => {
    const s = await setupCohort(t);
    const res = await s.asLearner('PUT', sub(s.cohort.id, 1), { answers: { users: 'x' }, options: ['a'], submit: false });
    expect(res.statusCode).toBe(400);
    expect(res.json().detail).toContain('options');
  });
});

describe('who may do what', () => {
  it('signed out: 401; an instructor or admin cannot hand in work: 403', async () => {
    const s = await setupCohort(t);
    expect((await s.asAnon('PUT', sub(s.cohort.id, 1), { answers: {}, submit: false })).statusCode).toBe(401);
    expect((await s.asAnon('GET', sub(s.cohort.id, 1))).statusCode).toBe(401);
    expect((await s.asInstructor('PUT', sub(s.cohort.id, 1), { answers: {}, submit: false })).statusCode).toBe(403);
    const admin = await insertUser(t, 'admin');
    expect((await apiAs(t.app, admin.token)('PUT', sub(s.cohort.id, 1), { answers: {}, submit: false })).statusCode).toBe(403);
  });

  it('a learner cannot hand in a week before it opens, nor in a cohort they are not in; unknown weeks and cohorts are 404', async () => {
    const s = await setupCohort(t);
    expect((await s.asLearner('PUT', sub(s.cohort.id, 2), { answers: {}, submit: false })).statusCode).toBe(403);
    const { cohort: otherCohort } = await insertCohort(t);
    expect((await s.asLearner('PUT', sub(otherCohort.id, 1), { answers: {}, submit: false })).statusCode).toBe(403);
    expect((await s.asLearner('PUT', sub(s.cohort.id, 9), { answers: {}, submit: false })).statusCode).toBe(404);
    expect((await s.asLearner('PUT', sub(999, 1), { answers: {}, submit: false })).statusCode).toBe(404);
  });

  it('a submission is readable by its learner, its instructors and admins, not by other learners or other cohorts’ instructors', async () => {
    const s = await setupCohort(t);
    const { id } = (await s.asLearner('PUT', sub(s.cohort.id, 1), { answers: { users: 'mine' }, submit: true })).json();
    const otherInstructor = await insertUser(t, 'instructor');
    await insertCohort(t, { instructor: otherInstructor.email });
    const admin = await insertUser(t, 'admin');
    expect((await s.asLearner('GET', `/api/v1/submissions/${id}`)).statusCode).toBe(200);
    expect((await s.asInstructor('GET', `/api/v1/submissions/${id}`)).statusCode).toBe(200);
    expect((await apiAs(t.app, admin.token)('GET', `/api/v1/submissions/${id}`)).statusCode).toBe(200);
    expect((await s.asOther('GET', `/api/v1/submissions/${id}`)).statusCode).toBe(403);
    expect((await apiAs(t.app, otherInstructor.token)('GET', `/api/v1/submissions/${id}`)).statusCode).toBe(403);
    expect((await s.asAnon('GET', `/api/v1/submissions/${id}`)).statusCode).toBe(401);
    expect((await s.asInstructor('GET', `/api/v1/submissions/99999`)).statusCode).toBe(404);
  });

  it('only the cohort’s instructors and admins list submissions and review; not learners, not other instructors', async () => {
    const s = await setupCohort(t);
    const { id } = (await s.asLearner('PUT', sub(s.cohort.id, 1), { answers: { users: 'mine' }, submit: true })).json();
    const otherInstructor = apiAs(t.app, (await insertUser(t, 'instructor')).token);
    const list = `/api/v1/cohorts/${s.cohort.id}/submissions`;
    expect((await s.asLearner('GET', list)).statusCode).toBe(403);
    expect((await otherInstructor('GET', list)).statusCode).toBe(403);
    expect((await s.asAnon('GET', list)).statusCode).toBe(401);
    const review = { outcome: 'complete', feedback: 'Good' };
    expect((await s.asLearner('POST', `/api/v1/submissions/${id}/review`, review)).statusCode).toBe(403);
    expect((await otherInstructor('POST', `/api/v1/submissions/${id}/review`, review)).statusCode).toBe(403);
    expect((await s.asAnon('POST', `/api/v1/submissions/${id}/review`, review)).statusCode).toBe(401);
    const admin = apiAs(t.app, (await insertUser(t, 'admin')).token);
    expect((await admin('POST', `/api/v1/submissions/${id}/review`, review)).statusCode).toBe(200);
  });

  it('a review needs a submitted version (409), a known outcome, feedback for a revision and known prompt ids (400)', async () => {
    const s = await setupCohort(t);
    const { id } = (await s.asLearner('PUT', sub(s.cohort.id, 1), { answers: { users: 'draft only' }, submit: false })).json();
    expect((await s.asInstructor('POST', `/api/v1/submissions/${id}/review`, { outcome: 'complete', feedback: '' })).statusCode).toBe(409);
    await s.asLearner('PUT', sub(s.cohort.id, 1), { answers: { users: 'now submitted' }, submit: true });
    expect((await s.asInstructor('POST', `/api/v1/submissions/${id}/review`, { outcome: 'great', feedback: '' })).statusCode).toBe(400);
    const noFeedback = await s.asInstructor('POST', `/api/v1/submissions/${id}/review`, { outcome: 'needs_revision', feedback: ' ' });
    expect(noFeedback.statusCode).toBe(400);
    expect(noFeedback.json().detail).toContain('feedback');
    const badPrompt = await s.asInstructor('POST', `/api/v1/submissions/${id}/review`, { outcome: 'complete', feedback: '', promptFeedback: { nope: 'x' } });
    expect(badPrompt.statusCode).toBe(400);
    expect(badPrompt.json().detail).toContain('promptFeedback.nope');
  });

  it('once complete, the learner can change nothing (409), and every status change tells the progress listeners', async () => {
    const s = await setupCohort(t);
    const calls: Array<[number, number]> = [];
    t.ctx.events.on('progress.changed', async (_tx, { cohortId, userId }) => void calls.push([cohortId, userId]));
    const { id } = (await s.asLearner('PUT', sub(s.cohort.id, 1), { answers: { users: 'done' }, submit: true })).json();
    expect(calls).toEqual([[s.cohort.id, s.learner.user.id]]);
    const reviewed = await s.asInstructor('POST', `/api/v1/submissions/${id}/review`, { outcome: 'complete', feedback: 'Clear and honest.' });
    expect(reviewed.json()).toMatchObject({ id, status: 'complete', version: 1 });
    expect(calls).toHaveLength(2);
    for (const submit of [true, false]) {
      const res = await s.asLearner('PUT', sub(s.cohort.id, 1), { answers: { users: 'change' }, submit });
      expect(res.statusCode).toBe(409);
      expect(res.json().detail).toContain('already complete');
    }
    expect((await t.ctx.assignments.weekStatuses(s.cohort.id, s.learner.user.id))[0]).toEqual({ week: 1, title: 'Worksheet 1 — Who is this plan for?', status: 'complete', late: false });
  });
});

describe('review and the learner’s email', () => {
  it('needs revision with per-prompt feedback: the learner is emailed the feedback and can resubmit', async () => {
    const s = await setupCohort(t);
    const { id } = (await s.asLearner('PUT', sub(s.cohort.id, 1), { answers: { users: 'Everyone', gap: 'None' }, submit: true })).json();
    const res = await s.asInstructor('POST', `/api/v1/submissions/${id}/review`, {
      outcome: 'needs_revision',
      feedback: 'A good start; go deeper.',
      promptFeedback: { gap: 'Is there really no gap?' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().versions[0].reviews[0]).toMatchObject({ outcome: 'needs_revision', promptFeedback: { gap: 'Is there really no gap?' } });
    const mails = await t.mailsTo(s.learner.email);
    expect(mails).toHaveLength(1);
    expect(mails[0].subject).toBe('Week 1 needs revision: Strategic Planning with Purpose');
    expect(mails[0].text).toContain('A good start; go deeper.');
    expect(mails[0].text).toContain('Is there really no gap?');
    expect(mails[0].text).toContain(`http://cohort.test/cohorts/${s.cohort.id}/weeks/1/worksheet`);
    expect(mails[0].html).toContain('needs revision');
    expect((await s.asLearner('PUT', sub(s.cohort.id, 1), { answers: { users: 'Everyone', gap: 'Evenings' }, submit: true })).json()).toMatchObject({ status: 'submitted', version: 2 });
  });

  it('complete: the learner is emailed that the week is done', async () => {
    const s = await setupCohort(t);
    const { id } = (await s.asLearner('PUT', sub(s.cohort.id, 1), { answers: { users: 'Everyone' }, submit: true })).json();
    await s.asInstructor('POST', `/api/v1/submissions/${id}/review`, { outcome: 'complete', feedback: '' });
    const mails = await t.mailsTo(s.learner.email);
    expect(mails.map((m) => m.subject)).toEqual(['Week 1 is complete: Strategic Planning with Purpose']);
    expect(await t.mailsTo(s.other.email)).toHaveLength(0);
  });

  it('on a course without review, submitting completes the week at once', async () => {
    const s = await setupCohort(t, { course: 'community-led-planning' });
    const calls: number[] = [];
    t.ctx.events.on('progress.changed', async (_tx, { userId }) => void calls.push(userId));
    const res = await s.asLearner('PUT', sub(s.cohort.id, 1), { answers: { 'personal-goals': 'Listen more' }, submit: true });
    expect(res.json()).toMatchObject({ status: 'complete', version: 1 });
    expect(calls).toEqual([s.learner.user.id]);
    expect((await s.asLearner('PUT', sub(s.cohort.id, 1), { answers: { 'personal-goals': 'More' }, submit: true })).statusCode).toBe(409);
  });
});

describe('late, grace and closed, with and without an extension', () => {
  it('one minute before the due date is on time; one minute after is late but accepted', async () => {
    const s = await setupCohort(t);
    const due = s.cohort.timeline.weeks[0].dueAt;
    t.clock.set(minutes(due, -1));
    expect((await s.asLearner('PUT', sub(s.cohort.id, 1), { answers: { users: 'on time' }, submit: true })).json()).toMatchObject({ late: false });
    t.clock.set(minutes(due, 1));
    expect((await s.asOther('PUT', sub(s.cohort.id, 1), { answers: { users: 'late' }, submit: true })).json()).toMatchObject({ status: 'submitted', late: true });
  });

  it('a revision after the due date keeps the first submission’s on-time flag', async () => {
    const s = await setupCohort(t);
    const { id } = (await s.asLearner('PUT', sub(s.cohort.id, 1), { answers: { users: 'v1' }, submit: true })).json();
    await s.asInstructor('POST', `/api/v1/submissions/${id}/review`, { outcome: 'needs_revision', feedback: 'More please' });
    t.clock.set(minutes(s.cohort.timeline.weeks[0].dueAt, 60 * 24 * 3));
    const v2 = (await s.asLearner('PUT', sub(s.cohort.id, 1), { answers: { users: 'v2' }, submit: true })).json();
    expect(v2).toMatchObject({ version: 2, late: false });
    expect((await s.asLearner('GET', sub(s.cohort.id, 1))).json().versions.map((v: { late: boolean }) => v.late)).toEqual([false, true]);
  });

  it('accepted until one minute before graceEndsAt; from graceEndsAt drafts and submits are refused with 409', async () => {
    const s = await setupCohort(t);
    const grace = s.cohort.timeline.graceEndsAt;
    t.clock.set(minutes(grace, -1));
    expect((await s.asLearner('PUT', sub(s.cohort.id, 4), { answers: { 'one-page': 'just in time' }, submit: true })).json()).toMatchObject({ late: true, version: 1 });
    t.clock.set(grace.toISOString());
    const refused = await s.asOther('PUT', sub(s.cohort.id, 4), { answers: { 'one-page': 'too late' }, submit: false });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().detail).toMatch(/^Submissions for week 4 closed on .*extension/);
    t.clock.set(minutes(grace, 1));
    expect((await s.asOther('PUT', sub(s.cohort.id, 4), { answers: { 'one-page': 'too late' }, submit: true })).statusCode).toBe(409);
  });

  it('with a later due date for a week, work after the cohort’s due date is not late for that learner only', async () => {
    const s = await setupCohort(t);
    const due = s.cohort.timeline.weeks[0].dueAt;
    const ext = await s.asInstructor('POST', `/api/v1/cohorts/${s.cohort.id}/extensions`, { learner: s.learner.email, week: 1, dueAt: minutes(due, 60 * 48), reason: 'Illness' });
    expect(ext.statusCode).toBe(201);
    t.clock.set(minutes(due, 60));
    expect((await s.asLearner('PUT', sub(s.cohort.id, 1), { answers: { users: 'x' }, submit: true })).json().late).toBe(false);
    expect((await s.asOther('PUT', sub(s.cohort.id, 1), { answers: { users: 'x' }, submit: true })).json().late).toBe(true);
    const dates = await t.ctx.assignments.personalDates(s.cohort.id, s.learner.user.id);
    expect(dates.dueAt(1).toISOString()).toBe(minutes(due, 60 * 48));
    expect(dates.dueAt(2).getTime()).toBe(s.cohort.timeline.weeks[1].dueAt.getTime());
    expect(dates.graceEndsAt.getTime()).toBe(s.cohort.timeline.graceEndsAt.getTime());
  });

  it('a personal grace end lets one learner hand in after the cohort’s grace end; the others are refused', async () => {
    const s = await setupCohort(t);
    const grace = s.cohort.timeline.graceEndsAt;
    const personal = minutes(grace, 60 * 24 * 3);
    await s.asInstructor('POST', `/api/v1/cohorts/${s.cohort.id}/extensions`, { learner: s.learner.email, graceEndsAt: personal, reason: 'Bereavement' });
    t.clock.set(minutes(grace, 60));
    expect((await s.asLearner('PUT', sub(s.cohort.id, 2), { answers: { stakeholders: 'x' }, submit: true })).json()).toMatchObject({ status: 'submitted', late: true });
    expect((await s.asOther('PUT', sub(s.cohort.id, 2), { answers: { stakeholders: 'x' }, submit: true })).statusCode).toBe(409);
    t.clock.set(personal);
    expect((await s.asLearner('PUT', sub(s.cohort.id, 3), { answers: { signals: 'x' }, submit: true })).statusCode).toBe(409);
    expect((await t.ctx.assignments.personalDates(s.cohort.id, s.learner.user.id)).graceEndsAt.toISOString()).toBe(personal);
  });

  it('a due date extended past the cohort’s grace end moves that learner’s grace end with it', async () => {
    const s = await setupCohort(t);
    const grace = s.cohort.timeline.graceEndsAt;
    await s.asInstructor('POST', `/api/v1/cohorts/${s.cohort.id}/extensions`, { learner: s.learner.email, week: 4, dueAt: minutes(grace, 60 * 24), reason: 'Surgery' });
    t.clock.set(minutes(grace, 60));
    expect((await s.asLearner('PUT', sub(s.cohort.id, 4), { answers: { 'one-page': 'x' }, submit: true })).json()).toMatchObject({ late: false });
    expect((await t.ctx.assignments.personalDates(s.cohort.id, s.learner.user.id)).graceEndsAt.toISOString()).toBe(minutes(grace, 60 * 24));
  });

  it('an extension granted after a late submission clears its late flag', async () => {
    const s = await setupCohort(t);
    const due = s.cohort.timeline.weeks[0].dueAt;
    t.clock.set(minutes(due, 30));
    const { id } = (await s.asLearner('PUT', sub(s.cohort.id, 1), { answers: { users: 'x' }, submit: true })).json();
    expect((await s.asInstructor('GET', `/api/v1/submissions/${id}`)).json().late).toBe(true);
    await s.asInstructor('POST', `/api/v1/cohorts/${s.cohort.id}/extensions`, { learner: s.learner.email, week: 1, dueAt: minutes(due, 60), reason: 'Network outage' });
    expect((await s.asInstructor('GET', `/api/v1/submissions/${id}`)).json().late).toBe(false);
    expect((await t.ctx.assignments.weekStatuses(s.cohort.id, s.learner.user.id))[0].late).toBe(false);
  });
});

describe('extensions', () => {
  it('an instructor grants one with a reason; the learner is emailed their new date; the list shows it', async () => {
    const s = await setupCohort(t);
    const due = s.cohort.timeline.weeks[1].dueAt;
    const res = await s.asInstructor('POST', `/api/v1/cohorts/${s.cohort.id}/extensions`, { learner: s.learner.email, week: 2, dueAt: minutes(due, 60 * 24 * 2), reason: 'Caring duties' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ learner: s.learner.email, week: 2, dueAt: minutes(due, 60 * 24 * 2), graceEndsAt: null, reason: 'Caring duties', grantedBy: s.instructor.email });
    const mails = await t.mailsTo(s.learner.email);
    expect(mails).toHaveLength(1);
    expect(mails[0].subject).toBe('Your dates have changed: Strategic Planning with Purpose');
    expect(mails[0].text).toContain('Week 2 is now due Wed, 18 Mar 2026, 08:00 GMT');
    expect(mails[0].text).toContain('Caring duties');
    const list = (await s.asInstructor('GET', `/api/v1/cohorts/${s.cohort.id}/extensions`)).json();
    expect(list).toHaveLength(1);
  });

  it('refuses what makes no sense: no dates, a due date without a week, earlier dates, dates past access, missing reason', async () => {
    const s = await setupCohort(t);
    const url = `/api/v1/cohorts/${s.cohort.id}/extensions`;
    const tl = s.cohort.timeline;
    const cases: Array<[object, string]> = [
      [{ learner: s.learner.email, reason: 'x' }, 'dueAt'],
      [{ learner: s.learner.email, dueAt: minutes(tl.weeks[0].dueAt, 60), reason: 'x' }, 'week'],
      [{ learner: s.learner.email, week: 1, dueAt: minutes(tl.weeks[0].dueAt, -60), reason: 'x' }, 'dueAt: must be later'],
      [{ learner: s.learner.email, graceEndsAt: minutes(tl.graceEndsAt, -60), reason: 'x' }, 'graceEndsAt: must be later'],
      [{ learner: s.learner.email, graceEndsAt: minutes(tl.accessEndsAt, 60), reason: 'x' }, 'graceEndsAt: must be before'],
      [{ learner: s.learner.email, week: 1, dueAt: minutes(tl.weeks[0].dueAt, 60), reason: '  ' }, 'reason'],
      [{ learner: s.learner.email, week: 9, dueAt: minutes(tl.weeks[0].dueAt, 60), reason: 'x' }, 'week'],
      [{ learner: s.learner.email, week: 1, dueAt: 'tomorrow', reason: 'x' }, 'dueAt'],
    ];
    for (const [body, field] of cases) {
      const res = await s.asInstructor('POST', url, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().detail).toContain(field);
    }
  });

  it('only for learners of this cohort (422), and only by its instructors and admins (403)', async () => {
    const s = await setupCohort(t);
    const url = `/api/v1/cohorts/${s.cohort.id}/extensions`;
    const body = (learner: string) => ({ learner, graceEndsAt: minutes(s.cohort.timeline.graceEndsAt, 60), reason: 'x' });
    const { cohort: elsewhere } = await insertCohort(t);
    const stranger = await enrolLearner(t, elsewhere.id);
    expect((await s.asInstructor('POST', url, body(stranger.email))).statusCode).toBe(422);
    expect((await s.asInstructor('POST', url, body('nobody@example.org'))).statusCode).toBe(422);
    expect((await s.asInstructor('POST', url, body(s.instructor.email))).statusCode).toBe(422);
    expect((await s.asLearner('POST', url, body(s.learner.email))).statusCode).toBe(403);
    expect((await apiAs(t.app, (await insertUser(t, 'instructor')).token)('POST', url, body(s.learner.email))).statusCode).toBe(403);
    expect((await s.asAnon('POST', url, body(s.learner.email))).statusCode).toBe(401);
  });
});

describe('the instructor’s list and the CSV grid', () => {
  it('lists oldest submitted first, drafts last, with week and status filters', async () => {
    const s = await setupCohort(t);
    const third = await enrolLearner(t, s.cohort.id, 'Thea Third');
    const asThird = apiAs(t.app, third.token);
    await s.asOther('PUT', sub(s.cohort.id, 1), { answers: { users: 'first' }, submit: true });
    t.clock.advance({ minutes: 5 });
    await s.asLearner('PUT', sub(s.cohort.id, 1), { answers: { users: 'second' }, submit: true });
    await asThird('PUT', sub(s.cohort.id, 1), { answers: { users: 'draft' }, submit: false });
    t.clock.set(s.cohort.timeline.weeks[1].opensAt);
    await s.asLearner('PUT', sub(s.cohort.id, 2), { answers: { stakeholders: 'w2' }, submit: true });
    const all = (await s.asInstructor('GET', `/api/v1/cohorts/${s.cohort.id}/submissions`)).json();
    expect(all.map((r: { learner: string; week: number }) => [r.learner, r.week])).toEqual([
      [s.other.email, 1],
      [s.learner.email, 1],
      [s.learner.email, 2],
      [third.email, 1],
    ]);
    expect(Object.keys(all[0]).sort()).toEqual(['id', 'late', 'learner', 'learnerName', 'status', 'submittedAt', 'version', 'week']);
    const week2 = (await s.asInstructor('GET', `/api/v1/cohorts/${s.cohort.id}/submissions?week=2`)).json();
    expect(week2).toHaveLength(1);
    const drafts = (await s.asInstructor('GET', `/api/v1/cohorts/${s.cohort.id}/submissions?status=draft`)).json();
    expect(drafts.map((r: { learner: string }) => r.learner)).toEqual([third.email]);
    expect((await s.asInstructor('GET', `/api/v1/cohorts/${s.cohort.id}/submissions?status=lost`)).statusCode).toBe(400);
    expect((await s.asInstructor('GET', `/api/v1/cohorts/${s.cohort.id}/submissions?week=x`)).statusCode).toBe(400);
  });

  it('the CSV has one row per learner and one column per week, with late marked and formulas defused', async () => {
    const s = await setupCohort(t);
    const sly = await enrolLearner(t, s.cohort.id, '=HYPERLINK("http://evil")');
    const { id } = (await s.asLearner('PUT', sub(s.cohort.id, 1), { answers: { users: 'x' }, submit: true })).json();
    await s.asInstructor('POST', `/api/v1/submissions/${id}/review`, { outcome: 'complete', feedback: '' });
    t.clock.set(minutes(s.cohort.timeline.weeks[0].dueAt, 10));
    await s.asOther('PUT', sub(s.cohort.id, 1), { answers: { users: 'x' }, submit: true });
    const res = await s.asInstructor('GET', `/api/v1/cohorts/${s.cohort.id}/submissions.csv`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toContain('attachment');
    const lines = res.body.replace(/^\ufeff/, '').trim().split('\r\n');
    expect(lines[0]).toMatch(/^learner,name,week 1: Worksheet 1 — Who is this plan for\?,week 2: .+,"week 3: .+",week 4: Worksheet 4 — Your plan on a page,complete$/);
    expect(lines).toHaveLength(4);
    expect(lines).toContain(`${s.learner.email},Lena Learner,complete,none,none,none,1/4`);
    expect(lines).toContain(`${s.other.email},Otto Other,submitted (late),none,none,none,0/4`);
    expect(lines).toContain(`${sly.email},"'=HYPERLINK(""http://evil"")",none,none,none,none,0/4`);
    expect((await s.asLearner('GET', `/api/v1/cohorts/${s.cohort.id}/submissions.csv`)).statusCode).toBe(403);
  });
});

describe('due-soon reminders', () => {
  it('one email a day before the learner’s own due date, only if nothing is submitted, once, and again after an extension', async () => {
    const s = await setupCohort(t);
    const due = s.cohort.timeline.weeks[0].dueAt;
    await s.asOther('PUT', sub(s.cohort.id, 1), { answers: { users: 'done' }, submit: true });
    const reminders = async (email: string) => (await t.mailsTo(email)).map((m) => m.subject).filter((x) => x?.startsWith('Week 1 is due'));
    t.clock.set(minutes(due, -60 * 25));
    await t.ctx.scheduler.runDue();
    expect(await reminders(s.learner.email)).toHaveLength(0);
    t.clock.set(minutes(due, -60 * 23));
    await t.ctx.scheduler.runDue();
    await t.ctx.scheduler.runDue();
    expect(await reminders(s.learner.email)).toEqual(['Week 1 is due Mon, 9 Mar 2026, 08:00 GMT: Strategic Planning with Purpose']);
    expect(await reminders(s.other.email)).toHaveLength(0);
    // An extension moves the due date: a fresh reminder comes before the new one.
    await s.asInstructor('POST', `/api/v1/cohorts/${s.cohort.id}/extensions`, { learner: s.learner.email, week: 1, dueAt: minutes(due, 60 * 24 * 3), reason: 'Away' });
    t.clock.set(minutes(due, 60 * 24 * 2 + 60));
    await t.ctx.scheduler.runDue();
    const after = await reminders(s.learner.email);
    expect(after).toHaveLength(2);
    expect(after.at(-1)).toContain('Thu, 12 Mar 2026, 08:00 GMT');
  });
});
