// Assignment pages: the learner's worksheet form (drafts, submit, files, late and closed), instructor review and extensions, panels.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { Browser, csrfFrom } from '../helpers/http.js';
import { insertCohort, insertUser, signInBrowser } from '../helpers/factories.js';
import { formatInstant } from '../../server/time.js';
import { viewsDir } from '../../server/paths.js';
import { multipartBody, PDF_BYTES, PNG_BYTES, setupCohort } from './helpers.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => t.close());

const worksheet = (cohortId: number, week: number) => `/cohorts/${cohortId}/weeks/${week}/worksheet`;

/** Post a multipart form as the browser would, with the CSRF token in the query string as the page's form does. */
async function postMultipart(browser: Browser, url: string, parts: Parameters<typeof multipartBody>[0], csrf: string | null) {
  const body = multipartBody(parts);
  return t.app.inject({
    method: 'POST',
    url: csrf ? `${url}?_csrf=${encodeURIComponent(csrf)}` : url,
    payload: body.payload,
    headers: { 'content-type': body.contentType, cookie: [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; '), origin: browser.origin },
  });
}

const count = (html: string, needle: string) => html.split(needle).length - 1;

describe('the learner’s worksheet page', () => {
  it('shows one labelled box per prompt with its hint and limit, the buttons, and the due date in the learner’s own zone', async () => {
    const s = await setupCohort(t);
    await t.ctx.people.updateProfile(s.learner.user.id, { timezone: 'America/New_York' });
    const browser = await signInBrowser(t, s.learner.email);
    const res = await browser.get(worksheet(s.cohort.id, 1));
    expect(res.statusCode).toBe(200);
    const html = res.body;
    expect(count(html, '<h1')).toBe(1);
    for (const id of ['users', 'evidence', 'gap', 'conversation']) {
      expect(html).toContain(`<label for="prompt-1-${id}">`);
      expect(html).toMatch(new RegExp(`<textarea id="prompt-1-${id}" name="prompt-${id}" maxlength="3000"`));
    }
    expect(html).toContain('<p class="hint" id="prompt-1-evidence-hint">Distinguish evidence');
    expect(html).toContain('aria-describedby="prompt-1-evidence-hint"');
    expect(html).toContain('value="draft" class="button button-secondary">Save draft</button>');
    expect(html).toContain('value="submit" class="button">Submit</button>');
    expect(html).toContain(formatInstant(s.cohort.timeline.weeks[0].dueAt, 'America/New_York'));
    expect(html).toContain('Not started');
    expect(html).not.toContain('enctype="multipart/form-data"');
  });

  it('saves a draft, then submits, from the form; the status follows', async () => {
    const s = await setupCohort(t);
    const browser = await signInBrowser(t, s.learner.email);
    const url = worksheet(s.cohort.id, 1);
    const draft = await browser.post(url, { 'prompt-users': 'Families <b>and</b> carers', action: 'draft' });
    expect(draft.statusCode).toBe(303);
    expect(draft.headers.location).toBe(`${url}?saved=draft`);
    const page = (await browser.get(draft.headers.location as string)).body;
    expect(page).toContain('Your draft is saved.');
    expect(page).toContain('Families &lt;b&gt;and&lt;/b&gt; carers</textarea>');
    expect(page).toContain('Draft saved, not submitted');
    const submitted = await browser.post(url, { 'prompt-users': 'Families and carers', 'prompt-gap': 'Evenings', action: 'submit' });
    expect(submitted.statusCode).toBe(303);
    const after = (await browser.get(submitted.headers.location as string)).body;
    expect(after).toContain('Submitted. Your instructor will review it.');
    expect(after).toContain('Submitted, awaiting review');
    expect(after).toContain('Submitted versions (1)');
    expect(await t.ctx.assignments.find(s.cohort.id, s.learner.user.id, 1)).toMatchObject({ status: 'submitted', version: 1 });
  });

  it('a too-long answer comes back with a clear message and the typed text kept (400)', async () => {
    const s = await setupCohort(t);
    const browser = await signInBrowser(t, s.learner.email);
    const res = await browser.post(worksheet(s.cohort.id, 1), { 'prompt-users': 'y'.repeat(3001), 'prompt-gap': 'keep me', action: 'submit' });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('role="alert"');
    expect(res.body).toContain('allows at most 3000 characters');
    expect(res.body).toContain('keep me</textarea>');
    expect(await t.ctx.assignments.find(s.cohort.id, s.learner.user.id, 1)).toBeUndefined();
  });

  it('a form without its CSRF token is refused (403) and saves nothing', async () => {
    const s = await setupCohort(t);
    const browser = await signInBrowser(t, s.learner.email);
    const res = await browser.post(worksheet(s.cohort.id, 1), { 'prompt-users': 'x', action: 'draft' }, { csrf: null });
    expect(res.statusCode).toBe(403);
    expect(await t.ctx.assignments.find(s.cohort.id, s.learner.user.id, 1)).toBeUndefined();
  });

  it('choose-k weeks show the options as checkboxes in a fieldset with a legend', async () => {
    const s = await setupCohort(t, { course: 'library-partnerships' });
    const browser = await signInBrowser(t, s.learner.email);
    const url = worksheet(s.cohort.id, 1);
    const html = (await browser.get(url)).body;
    expect(html).toMatch(/<fieldset class="field">\s*<legend>Choose one of these 3 options<\/legend>/);
    expect(html).toContain('<input type="checkbox" id="option-1-what-went-right" name="option" value="what-went-right" aria-describedby="option-1-what-went-right-desc">');
    const none = await browser.post(url, { 'prompt-write-up': 'My case', action: 'submit' });
    expect(none.statusCode).toBe(400);
    expect(none.body).toContain('choose 1 of the 3 options');
    const ok = await browser.post(url, { 'prompt-write-up': 'My case', option: 'what-went-right', action: 'submit' });
    expect(ok.statusCode).toBe(303);
  });

  it('uploads a file with the answers in one multipart form; the CSRF token is still required', async () => {
    const s = await setupCohort(t);
    t.clock.set(s.cohort.timeline.weeks[3].opensAt);
    const browser = await signInBrowser(t, s.learner.email);
    const url = worksheet(s.cohort.id, 4);
    const page = (await browser.get(url)).body;
    expect(page).toContain('enctype="multipart/form-data"');
    expect(page).toContain('accept=".pdf,.docx"');
    const token = csrfFrom(page)!;
    expect(page).toContain(`action="/cohorts/${s.cohort.id}/weeks/4/worksheet?_csrf=${token}"`);
    const fields = { 'prompt-one-page': 'See the attached plan', action: 'draft' };

    const forged = await postMultipart(browser, url, { fields, file: { name: 'plan.pdf', content: PDF_BYTES } }, null);
    expect(forged.statusCode).toBe(403);

    const wrongType = await postMultipart(browser, url, { fields, file: { name: 'plan.pdf', content: PNG_BYTES } }, token);
    expect(wrongType.statusCode).toBe(400);
    expect(wrongType.body).toContain('not a PDF file');
    expect(wrongType.body).toContain('See the attached plan</textarea>');

    const ok = await postMultipart(browser, url, { fields, file: { name: 'Plan on a page.pdf', content: PDF_BYTES } }, token);
    expect(ok.statusCode).toBe(303);
    const after = (await browser.get(ok.headers.location as string)).body;
    expect(after).toContain('Plan on a page.pdf</a>');
    expect(after).toContain('See the attached plan</textarea>');
    // No file chosen: the empty file part is ignored.
    const noFile = await postMultipart(browser, url, { fields: { ...fields, action: 'submit' }, file: { name: '', content: '' } }, token);
    expect(noFile.statusCode).toBe(303);
    const doc = (await s.asLearner('GET', `/api/v1/cohorts/${s.cohort.id}/weeks/4/submission`)).json();
    expect(doc.versions[0].files.map((f: { name: string }) => f.name)).toEqual(['Plan on a page.pdf']);

    // Removing a file from the working copy, with the token.
    const fileId = doc.files[0].id;
    const removed = await browser.post(`${url}/files/${fileId}/remove`, {}, { fromPage: url });
    expect(removed.statusCode).toBe(303);
    expect((await browser.get(removed.headers.location as string)).body).toContain('The file was removed.');
  });

  it('after the due date it warns that work will be late; after the grace end it says so clearly and refuses (409)', async () => {
    const s = await setupCohort(t);
    const url = worksheet(s.cohort.id, 1);
    t.clock.set(new Date(s.cohort.timeline.weeks[0].dueAt.getTime() + 60_000));
    let browser = await signInBrowser(t, s.learner.email);
    expect((await browser.get(url)).body).toContain('has passed. You can still submit until');
    await browser.post(url, { 'prompt-users': 'draft', action: 'draft' });
    t.clock.set(s.cohort.timeline.graceEndsAt);
    browser = await signInBrowser(t, s.learner.email);
    const closed = (await browser.get(url)).body;
    expect(closed).toContain('Submissions for this week closed on');
    expect(closed).not.toContain('Save draft');
    expect(closed).toContain('<span class="pre-line">draft</span>');
    const refused = await browser.post(url, { 'prompt-users': 'too late', action: 'submit' }, { csrf: csrfFrom(closed) });
    expect(refused.statusCode).toBe(409);
    expect(refused.body).toContain('Submissions for week 1 closed on');
  });

  it('shows the instructor’s feedback beside each answer and every earlier version', async () => {
    const s = await setupCohort(t);
    const { id } = (await s.asLearner('PUT', `/api/v1/cohorts/${s.cohort.id}/weeks/1/submission`, { answers: { users: 'v1 text' }, submit: true })).json();
    await s.asInstructor('POST', `/api/v1/submissions/${id}/review`, { outcome: 'needs_revision', feedback: 'Overall: dig deeper', promptFeedback: { users: 'Who is missing?' } });
    const browser = await signInBrowser(t, s.learner.email);
    const html = (await browser.get(worksheet(s.cohort.id, 1))).body;
    expect(html).toContain('Feedback from Ines Instructor: Needs revision');
    expect(html).toContain('Overall: dig deeper');
    expect(html).toContain('<strong>Feedback:</strong> <span class="pre-line">Who is missing?</span>');
    expect(html).toContain('aria-describedby="prompt-1-users-feedback"');
    expect(html).toContain('Submit revision');
    expect(html).toContain('<h3>Version 1</h3>');
  });

  it('signed-out visitors are sent to sign in; instructors see the week summary instead of a form', async () => {
    const s = await setupCohort(t);
    const anon = await new Browser(t.app).get(worksheet(s.cohort.id, 1));
    expect(anon.statusCode).toBe(303);
    expect(anon.headers.location).toContain('/sign-in?next=');
    await s.asLearner('PUT', `/api/v1/cohorts/${s.cohort.id}/weeks/1/submission`, { answers: { users: 'x' }, submit: true });
    const staff = await signInBrowser(t, s.instructor.email);
    const html = (await staff.get(worksheet(s.cohort.id, 1))).body;
    expect(html).toContain('<dt>Awaiting review</dt><dd>1</dd>');
    expect(html).toContain(`/teach/cohorts/${s.cohort.id}/reviews?week=1`);
    expect(html).not.toContain('<textarea');
    expect((await staff.post(worksheet(s.cohort.id, 1), { 'prompt-users': 'x', action: 'draft' }, { fromPage: worksheet(s.cohort.id, 1) })).statusCode).toBe(403);
  });
});

describe('instructor pages', () => {
  it('the review queue lists work awaiting review, oldest first, filtered by week and status', async () => {
    const s = await setupCohort(t);
    await s.asOther('PUT', `/api/v1/cohorts/${s.cohort.id}/weeks/1/submission`, { answers: { users: 'a' }, submit: true });
    t.clock.advance({ minutes: 3 });
    await s.asLearner('PUT', `/api/v1/cohorts/${s.cohort.id}/weeks/1/submission`, { answers: { users: 'b' }, submit: true });
    const browser = await signInBrowser(t, s.instructor.email);
    const html = (await browser.get(`/teach/cohorts/${s.cohort.id}/reviews`)).body;
    expect(count(html, '<h1')).toBe(1);
    expect(html.indexOf('Otto Other')).toBeLessThan(html.indexOf('Lena Learner'));
    expect(html).toContain('<label for="filter-week">Week</label>');
    expect(html).toContain('<th scope="col">Learner</th>');
    const complete = (await browser.get(`/teach/cohorts/${s.cohort.id}/reviews?status=complete`)).body;
    expect(complete).toContain('Nothing matches');
    const any = (await browser.get(`/teach/cohorts/${s.cohort.id}/reviews?status=any&week=2`)).body;
    expect(any).toContain('Nothing matches');
  });

  it('an instructor reviews from the submission page; the learner is emailed; bad input re-shows the form (400)', async () => {
    const s = await setupCohort(t);
    const { id } = (await s.asLearner('PUT', `/api/v1/cohorts/${s.cohort.id}/weeks/1/submission`, { answers: { users: 'Readers', gap: 'Hours' }, submit: true })).json();
    const browser = await signInBrowser(t, s.instructor.email);
    const url = `/teach/submissions/${id}`;
    const page = (await browser.get(url)).body;
    expect(page).toContain('Readers');
    expect(page).toContain('<label for="pf-users">Feedback on this answer<span class="visually-hidden"> to “Who are your main user groups');
    expect(page).toMatch(/<fieldset class="field">\s*<legend>Outcome<\/legend>/);
    const missing = await browser.post(`${url}/review`, { feedback: 'hmm', 'pf-users': 'keep this note' }, { fromPage: url });
    expect(missing.statusCode).toBe(400);
    expect(missing.body).toContain('Choose an outcome');
    expect(missing.body).toContain('keep this note</textarea>');
    const noFeedback = await browser.post(`${url}/review`, { outcome: 'needs_revision', feedback: '' }, { fromPage: url });
    expect(noFeedback.statusCode).toBe(400);
    const done = await browser.post(`${url}/review`, { outcome: 'needs_revision', feedback: 'More on evening users', 'pf-gap': 'Which hours?' }, { fromPage: url });
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe(`/teach/cohorts/${s.cohort.id}/reviews?reviewed=${id}`);
    expect((await browser.get(done.headers.location as string)).body).toContain('Your review is saved');
    const mails = await t.mailsTo(s.learner.email);
    expect(mails.at(-1)?.text).toContain('Which hours?');
  });

  it('learners and other cohorts’ instructors cannot open the instructor pages (403)', async () => {
    const s = await setupCohort(t);
    const { id } = (await s.asLearner('PUT', `/api/v1/cohorts/${s.cohort.id}/weeks/1/submission`, { answers: { users: 'x' }, submit: true })).json();
    const learner = await signInBrowser(t, s.learner.email);
    const other = await insertUser(t, 'instructor');
    await insertCohort(t, { instructor: other.email });
    const stranger = await signInBrowser(t, other.email);
    for (const b of [learner, stranger]) {
      for (const path of [`/teach/cohorts/${s.cohort.id}/reviews`, `/teach/submissions/${id}`, `/teach/cohorts/${s.cohort.id}/extensions`]) {
        expect((await b.get(path)).statusCode, path).toBe(403);
      }
    }
  });

  it('grants an extension from the form, in the instructor’s zone; the learner then sees their own dates', async () => {
    const s = await setupCohort(t);
    const browser = await signInBrowser(t, s.instructor.email);
    const url = `/teach/cohorts/${s.cohort.id}/extensions`;
    const page = (await browser.get(url)).body;
    expect(page).toContain('<label for="ext-learner-');
    expect(page).toContain('Date and time in Europe/London');
    const bad = await browser.post(url, { learner: s.learner.email, week: '1', reason: 'Ill' }, { fromPage: url });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('give a new due date');
    const ok = await browser.post(url, { learner: s.learner.email, week: '1', dueAt: '2026-03-12T17:00', reason: 'Ill' }, { fromPage: url });
    expect(ok.statusCode).toBe(303);
    expect((await browser.get(ok.headers.location as string)).body).toContain('Thu, 12 Mar 2026, 17:00 GMT');
    expect((await t.ctx.assignments.personalDates(s.cohort.id, s.learner.user.id)).dueAt(1).toISOString()).toBe('2026-03-12T17:00:00.000Z');
    const learner = await signInBrowser(t, s.learner.email);
    const html = (await learner.get(worksheet(s.cohort.id, 1))).body;
    expect(html).toContain('Thu, 12 Mar 2026, 17:00 GMT <span class="meta">(extended for you)</span>');
  });
});

describe('panels on shared pages', () => {
  /** Render a panel partial the way the views plugin does, with the shared partials it uses. */
  function renderPanel(name: string, model: object): string {
    const hbs = Handlebars.create();
    hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);
    for (const p of ['csrf', 'form-errors']) hbs.registerPartial(p, readFileSync(join(viewsDir, 'partials', `${p}.hbs`), 'utf8'));
    hbs.registerPartial('assignments/extension-form', readFileSync(join(viewsDir, 'assignments/panels/extension-form.hbs'), 'utf8'));
    return hbs.compile(readFileSync(join(viewsDir, `assignments/panels/${name}.hbs`), 'utf8'))({ ...model, prefix: '/p', csrfToken: 'tok' });
  }

  it('the week page gets the worksheet; the cohort home gets the learner’s own dates; the staff page gets the queue and extension form', async () => {
    const s = await setupCohort(t);
    const now = t.clock.now();
    const learnerAccess = await t.ctx.cohorts.access(s.learner.user, s.cohort.id);
    const staffAccess = await t.ctx.cohorts.access(await t.ctx.people.get(s.instructor.user.id), s.cohort.id);
    await s.asLearner('PUT', `/api/v1/cohorts/${s.cohort.id}/weeks/1/submission`, { answers: { users: 'x' }, submit: true });
    await s.asInstructor('POST', `/api/v1/cohorts/${s.cohort.id}/extensions`, {
      learner: s.learner.email,
      week: 2,
      dueAt: new Date(s.cohort.timeline.weeks[1].dueAt.getTime() + 86_400_000).toISOString(),
      reason: 'Away',
    });

    const week = (await t.ctx.panels.render('week', { access: learnerAccess, week: 1, now })).find((p) => p.partial === 'assignments/worksheet');
    expect(week?.model).toMatchObject({ learner: true, week: 1, status: { label: 'Submitted, awaiting review' } });
    expect((await t.ctx.panels.render('week', { access: learnerAccess, week: 2, now })).map((p) => p.partial)).not.toContain('assignments/worksheet');

    const home = (await t.ctx.panels.render('cohort-home', { access: learnerAccess, now })).find((p) => p.partial === 'assignments/my-dates')!;
    const homeHtml = renderPanel('my-dates', home.model);
    expect(homeHtml).toContain('<th scope="col">Your due date</th>');
    expect(homeHtml).toContain('Tue, 17 Mar 2026, 08:00 GMT <span class="meta">(extended)</span>');
    expect(homeHtml).toContain('Submitted, awaiting review');
    expect(homeHtml).toContain('/p/api/v1/cohorts/');

    const staff = (await t.ctx.panels.render('cohort-staff', { access: staffAccess, now })).find((p) => p.partial === 'assignments/staff-tools')!;
    expect(staff.model).toMatchObject({ queueCount: 1 });
    const staffHtml = renderPanel('staff-tools', staff.model);
    expect(staffHtml).toContain('Review queue (1)');
    expect(staffHtml).toContain(`/p/api/v1/cohorts/${s.cohort.id}/submissions.csv`);
    expect(staffHtml).toContain('<input type="hidden" name="_csrf" value="tok">');
    expect(staffHtml).toContain(`<option value="${s.learner.email}">Lena Learner (${s.learner.email})</option>`);
    expect((await t.ctx.panels.render('cohort-staff', { access: learnerAccess, now })).map((p) => p.partial)).not.toContain('assignments/staff-tools');

    const staffHome = (await t.ctx.panels.render('cohort-home', { access: staffAccess, now })).find((p) => p.partial === 'assignments/my-dates')!;
    expect(renderPanel('my-dates', staffHome.model)).toContain('1 submission is waiting for review.');
  });

  it('the real week page, cohort home and instructor cohort page show them', async () => {
    const s = await setupCohort(t);
    const learner = await signInBrowser(t, s.learner.email);
    const week = await learner.get(`/cohorts/${s.cohort.id}/weeks/1`);
    expect(week.statusCode).toBe(200);
    expect(week.body).toContain('<label for="prompt-1-users">');
    expect(week.body).toContain(`action="/cohorts/${s.cohort.id}/weeks/1/worksheet"`);
    expect(count(week.body, '<h1')).toBe(1);
    const home = await learner.get(`/cohorts/${s.cohort.id}`);
    expect(home.body).toContain('Your assignments and dates');
    const staff = await signInBrowser(t, s.instructor.email);
    const plan = await staff.get(`/teach/cohorts/${s.cohort.id}`);
    expect(plan.statusCode).toBe(200);
    expect(plan.body).toContain('Submissions and extensions');
    expect(plan.body).toContain(`action="/teach/cohorts/${s.cohort.id}/extensions"`);
  });
});
