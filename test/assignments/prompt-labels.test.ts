// Old answers after the course changes: a learner hands in week 1, a new version of the course with one prompt renamed,
// another removed and a new one added is applied to the cohort; every place that shows the work still shows both.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submissions, submissionVersions } from '../../modules/assignments/schema.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { dropTestDatabase, onPostgres } from '../helpers/engine.js';
import { apiAs } from '../helpers/http.js';
import { signInBrowser } from '../helpers/factories.js';
import { pdfPages } from '../helpers/pdf.js';
import { setupCohort } from './helpers.js';

const BUNDLED = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../content');
const OLD_WRITE_UP = 'Your write-up for the option you chose';
const NEW_WRITE_UP = 'Your case, in your own words';
const LESSON = 'One lesson you will carry into this course';
const EARLIER = 'from an earlier version of this worksheet';
const WRITE_UP_TEXT = 'Our library and the adult education centre share a goal: evening classes for new readers.';
const LESSON_TEXT = 'Write the goal down in plain words before the first meeting.';

/** A content folder holding a copy of Library Partnerships, its week 1 worksheet changed by `change` (when given). */
function contentFolder(root: string, change?: (week1: string) => string): string {
  const dir = path.join(root, change ? 'content-changed' : 'content');
  fs.cpSync(path.join(BUNDLED, 'library-partnerships'), path.join(dir, 'library-partnerships'), { recursive: true });
  if (change) {
    const file = path.join(dir, 'library-partnerships', 'weeks', '01.md');
    const before = fs.readFileSync(file, 'utf8');
    const after = change(before);
    expect(after).not.toBe(before);
    fs.writeFileSync(file, after);
  }
  return dir;
}

/** Week 1 with the write-up prompt renamed, the lesson prompt removed and a new prompt added. */
const changeWeek1 = (text: string) =>
  text
    .replace(`label: ${OLD_WRITE_UP}`, `label: ${NEW_WRITE_UP}`)
    .replace(/    - id: lesson\n      label: .*\n      maxLength: 1000\n/, '    - id: next-step\n      label: Your next step\n      maxLength: 1000\n');

describe('answers written before the worksheet changed', () => {
  let root: string;
  let t: TestApp;
  let s: Awaited<ReturnType<typeof setupCohort>>;
  let submissionId: number;

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-prompt-labels-'));
    const dbDir = path.join(root, 'db');
    fs.mkdirSync(dbDir);
    const first = await createTestApp({ dir: dbDir, contentDir: contentFolder(root) });
    s = await setupCohort(first, { course: 'library-partnerships' });
    const put = await s.asLearner('PUT', `/api/v1/cohorts/${s.cohort.id}/weeks/1/submission`, {
      answers: { 'write-up': WRITE_UP_TEXT, lesson: LESSON_TEXT },
      options: ['what-went-right'],
      submit: true,
    });
    expect(put.statusCode).toBe(200);
    submissionId = put.json().id;
    // A new version of the course with week 1's worksheet changed, published and applied to this running cohort.
    const changed = path.join(contentFolder(root, changeWeek1), 'library-partnerships');
    expect(await first.ctx.courses.importFolder(changed, { userId: null, note: 'Week 1 worksheet revised' })).toMatchObject({ version: 2 });
    expect((await first.ctx.cohorts.applyVersion(s.cohort.id, 2)).courseVersion).toBe(2);
    await first.close();

    // Restarted on the same database: the cohort is on version 2 whatever the content folder says now.
    t = await createTestApp({ dir: dbDir, contentDir: contentFolder(root) });
    s = { ...s, asLearner: apiAs(t.app, s.learner.token), asInstructor: apiAs(t.app, s.instructor.token) };
  });

  afterAll(async () => {
    await t?.close();
    const pg = path.join(root, 'db', 'postgres-database');
    if (onPostgres && fs.existsSync(pg)) await dropTestDatabase(fs.readFileSync(pg, 'utf8').trim());
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('the restarted app asks the changed worksheet', async () => {
    const browser = await signInBrowser(t, s.learner.email);
    const html = (await browser.get(`/cohorts/${s.cohort.id}/weeks/1/worksheet`)).body;
    expect(html).toContain(`>${NEW_WRITE_UP}</label>`);
    expect(html).toContain('>Your next step</label>');
    expect(html).not.toContain(`name="prompt-lesson"`);
  });

  it('the API gives both answers with the labels they answered, and names the prompt no longer asked', async () => {
    for (const res of [await s.asLearner('GET', `/api/v1/submissions/${submissionId}`), await s.asLearner('GET', `/api/v1/cohorts/${s.cohort.id}/weeks/1/submission`)]) {
      expect(res.statusCode).toBe(200);
      const doc = res.json();
      expect(doc.answers).toEqual({ 'write-up': WRITE_UP_TEXT, lesson: LESSON_TEXT });
      expect(doc.promptLabels).toEqual({ 'write-up': OLD_WRITE_UP, lesson: LESSON });
      expect(doc.versions[0].promptLabels).toEqual({ 'write-up': OLD_WRITE_UP, lesson: LESSON });
      expect(doc.draft.promptLabels).toEqual({ 'write-up': OLD_WRITE_UP, lesson: LESSON });
      expect(doc.earlierPrompts).toEqual(['lesson']);
    }
    const staff = (await s.asInstructor('GET', `/api/v1/submissions/${submissionId}`)).json();
    expect(staff.versions[0].answers).toEqual({ 'write-up': WRITE_UP_TEXT, lesson: LESSON_TEXT });
    expect(staff.earlierPrompts).toEqual(['lesson']);
    expect(staff.draft).toBeNull();
  });

  it('the learner’s page shows the renamed answer under its new label, noting the old one, and the removed one marked as earlier', async () => {
    const browser = await signInBrowser(t, s.learner.email);
    const res = await browser.get(`/cohorts/${s.cohort.id}/weeks/1/worksheet`);
    expect(res.statusCode).toBe(200);
    const html = res.body;
    // The working copy: the renamed prompt's box holds the answer and says what the prompt read when it was written.
    expect(html).toContain(`Your saved answer was written when this prompt read “${OLD_WRITE_UP}”.`);
    expect(html).toMatch(new RegExp(`aria-describedby="prompt-1-write-up-note"[^>]*>${WRITE_UP_TEXT}</textarea>`));
    // The removed prompt's answer is shown, read-only, with what happens to it.
    expect(html).toContain('Answers to prompts no longer in this worksheet');
    expect(html).toContain(`<dt>${LESSON} <span class="meta">(${EARLIER})</span></dt><dd><span class="pre-line">${LESSON_TEXT}</span></dd>`);
    // The submitted version lists both.
    expect(html).toContain(`<dt>${NEW_WRITE_UP} <span class="meta">(answered as: “${OLD_WRITE_UP}”)</span></dt><dd><span class="pre-line">${WRITE_UP_TEXT}</span>`);
    expect(html.split(LESSON_TEXT).length - 1).toBe(2);
  });

  it('the instructor’s review page shows both, and can give feedback on the removed prompt’s answer', async () => {
    const browser = await signInBrowser(t, s.instructor.email);
    const res = await browser.get(`/teach/submissions/${submissionId}`);
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain(`<h3>${NEW_WRITE_UP} <span class="meta">(answered as: “${OLD_WRITE_UP}”)</span></h3>`);
    expect(res.body).toContain(`<h3>${LESSON} <span class="meta">(${EARLIER})</span></h3>`);
    expect(res.body).toContain(LESSON_TEXT);
    expect(res.body).toContain('name="pf-lesson"');
    const reviewed = await browser.post(`/teach/submissions/${submissionId}/review`, { outcome: 'needs_revision', feedback: 'Say who else was involved.', 'pf-lesson': 'A lesson worth keeping.' });
    expect(reviewed.statusCode).toBe(303);
    const mail = (await t.mailsTo(s.learner.email)).find((m) => m.subject?.startsWith('Week 1 needs revision'));
    expect(mail?.text).toContain(`${LESSON} (${EARLIER})`);
    expect(mail?.text).toContain('A lesson worth keeping.');
    // An id the submission never answered is still refused.
    const bad = await s.asInstructor('POST', `/api/v1/submissions/${submissionId}/review`, { outcome: 'complete', feedback: '', promptFeedback: { nonsense: 'x' } });
    expect(bad.statusCode).toBe(400);
  });

  it('the workbook PDF shows both answers with their labels', async () => {
    const res = await s.asLearner('GET', `/api/v1/cohorts/${s.cohort.id}/workbook.pdf`);
    expect(res.statusCode).toBe(200);
    const text = (await pdfPages(res.rawPayload, { spaced: true })).join(' ');
    expect(text).toContain(`${NEW_WRITE_UP} (answered as: “${OLD_WRITE_UP}”) ${WRITE_UP_TEXT}`);
    expect(text).toContain(`${LESSON} (${EARLIER}) ${LESSON_TEXT} Feedback: A lesson worth keeping.`);
    expect(text).toContain('Your next step (no answer yet)');
  });

  it('the submissions CSV (a status grid, no answers) still exports the week', async () => {
    const res = await s.asInstructor('GET', `/api/v1/cohorts/${s.cohort.id}/submissions.csv`);
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain(`${s.learner.email},Lena Learner,needs_revision,`);
  });

  it('the learner can save and submit again: the removed answer leaves the new work and stays in version 1', async () => {
    const api = `/api/v1/cohorts/${s.cohort.id}/weeks/1/submission`;
    // An API client saving the draft as it got it, the removed prompt's answer included, is not blocked: the answer is left out.
    let doc = (await s.asLearner('GET', api)).json();
    const saved = await s.asLearner('PUT', api, { answers: { ...doc.draft.answers, 'write-up': `${WRITE_UP_TEXT} Revised.` }, submit: false });
    expect(saved.statusCode).toBe(200);
    doc = (await s.asLearner('GET', api)).json();
    expect(doc.draft.answers).toEqual({ 'write-up': `${WRITE_UP_TEXT} Revised.` });
    expect(doc.draft.promptLabels).toEqual({ 'write-up': NEW_WRITE_UP });
    // Once the draft no longer holds it, the removed prompt is refused like any prompt the worksheet does not have.
    const unknown = await s.asLearner('PUT', api, { answers: { lesson: LESSON_TEXT }, submit: false });
    expect(unknown.statusCode).toBe(400);

    // The learner submits the revision from the page.
    const browser = await signInBrowser(t, s.learner.email);
    const url = `/cohorts/${s.cohort.id}/weeks/1/worksheet`;
    const submitted = await browser.post(url, { 'prompt-write-up': `${WRITE_UP_TEXT} Revised.`, 'prompt-next-step': 'Meet the centre in May.', option: 'what-went-right', action: 'submit' });
    expect(submitted.statusCode).toBe(303);
    expect(submitted.headers.location).toContain('saved=submitted');

    doc = (await s.asLearner('GET', `/api/v1/cohorts/${s.cohort.id}/weeks/1/submission`)).json();
    expect(doc.versions.map((v: { answers: object }) => Object.keys(v.answers).sort())).toEqual([['lesson', 'write-up'], ['next-step', 'write-up']]);
    expect(doc.versions[1].promptLabels).toEqual({ 'write-up': NEW_WRITE_UP, 'next-step': 'Your next step' });
    expect(doc.versions[0].promptLabels).toEqual({ 'write-up': OLD_WRITE_UP, lesson: LESSON });
    expect(doc.earlierPrompts).toEqual(['lesson']);

    const html = (await browser.get(url)).body;
    expect(html).not.toContain('Answers to prompts no longer in this worksheet');
    expect(html).not.toContain('Your saved answer was written when this prompt read');
    expect(html).toContain(`<dt>${LESSON} <span class="meta">(${EARLIER})</span></dt>`);
    const staffHtml = (await (await signInBrowser(t, s.instructor.email)).get(`/teach/submissions/${submissionId}`)).body;
    expect(staffHtml).toContain(LESSON_TEXT);
    expect(staffHtml).toContain(`${WRITE_UP_TEXT} Revised.`);
    // The workbook keeps the handed-in answer to the removed prompt, from version 1.
    const pdf = (await pdfPages((await s.asLearner('GET', `/api/v1/cohorts/${s.cohort.id}/workbook.pdf`)).rawPayload, { spaced: true })).join(' ');
    expect(pdf).toContain(`${LESSON} (${EARLIER}) ${LESSON_TEXT}`);
    expect(pdf).toContain('Meet the centre in May.');
  });
});

const USERS_LABEL = 'Who are your main user groups today, and who in your community rarely or never uses the service?';

describe('work saved before labels were kept', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  it('reads the labels of the course as it is, and an answer to a prompt it no longer knows under the prompt’s id', async () => {
    const s = await setupCohort(t);
    const api = `/api/v1/cohorts/${s.cohort.id}/weeks/1/submission`;
    const { id } = (await s.asLearner('PUT', api, { answers: { users: 'Students and carers' }, submit: true })).json();
    // As rows from before the migration: no labels kept, and (say) an answer to a prompt since dropped.
    await t.ctx.database.transaction(async (tx) => {
      await tx.update(submissionVersions).set({ promptLabels: '{}', answers: JSON.stringify({ users: 'Students and carers', gone: 'An old answer' }) }).where(eq(submissionVersions.submissionId, id));
      await tx.update(submissions).set({ draftPromptLabels: '{}' }).where(eq(submissions.id, id));
    });
    const doc = (await s.asLearner('GET', api)).json();
    expect(doc.versions[0].promptLabels).toEqual({ users: USERS_LABEL, gone: 'gone' });
    expect(doc.draft.promptLabels).toEqual({ users: USERS_LABEL });
    expect(doc.earlierPrompts).toEqual(['gone']);
    const browser = await signInBrowser(t, s.instructor.email);
    const page = await browser.get(`/teach/submissions/${id}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(`<h3>gone <span class="meta">(${EARLIER})</span></h3>`);
    expect(page.body).toContain('An old answer');
    expect(page.body).not.toContain('answered as');
  });
});
