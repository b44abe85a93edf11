// The learner's workbook PDF: their answers come back out of the PDF as text, in any Latin script, until access ends.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { setupCohort } from './helpers.js';
import { pdfPages } from '../helpers/pdf.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => t.close());

/** Every page's text, joined, and how many pages. */
async function pdfText(bytes: Buffer): Promise<{ text: string; pages: number }> {
  const pages = await pdfPages(bytes);
  return { text: pages.join('\n'), pages: pages.length };
}

describe('the workbook PDF', () => {
  it('holds every worksheet answer, choices and feedback, including text beyond Latin-1', async () => {
    const s = await setupCohort(t, { course: 'library-partnerships' });
    await t.ctx.people.updateProfile(s.learner.user.id, { name: 'Łucja Ó Súilleabháin' });
    const url = `/api/v1/cohorts/${s.cohort.id}/weeks/1/submission`;
    const { id } = (
      await s.asLearner('PUT', url, {
        answers: { 'write-up': 'Zażółć gęślą jaźń: partnerships start with listening.\nSecond line about the council. 李小龙 说：合作', lesson: 'Ask early; ask often — “always”.' },
        options: ['what-went-right'],
        submit: true,
      })
    ).json();
    await s.asInstructor('POST', `/api/v1/submissions/${id}/review`, { outcome: 'needs_revision', feedback: 'Name the partner.', promptFeedback: { lesson: 'Lovely.' } });
    const res = await s.asLearner('GET', `/api/v1/cohorts/${s.cohort.id}/workbook.pdf`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.headers['content-disposition']).toBe('attachment; filename="workbook-library-partnerships.pdf"');
    expect(res.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
    const { text } = await pdfText(res.rawPayload);
    for (const expected of [
      'Library Partnerships',
      'Workbook of Łucja Ó Súilleabháin',
      'Zażółć gęślą jaźń: partnerships start with listening.',
      'Second line about the council.',
      '李小龙 说：合作', // from the fallback font in assets/fonts
      'Ask early; ask often — “always”.',
      'Chosen: Analyse a successful collaboration',
      'Feedback: Lovely.',
      'Instructor feedback: Name the partner.',
      'Status: Needs revision',
      'This week has not opened yet.',
    ]) {
      expect(text, expected).toContain(expected);
    }
    // Another learner's workbook does not hold these answers.
    const theirs = await pdfText((await s.asOther('GET', `/api/v1/cohorts/${s.cohort.id}/workbook.pdf`)).rawPayload);
    expect(theirs.text).not.toContain('Zażółć');
    expect(theirs.text).toContain('(no answer yet)');
  });

  it('long answers flow over several pages without losing words', async () => {
    const s = await setupCohort(t);
    t.clock.set(s.cohort.timeline.weeks[3].opensAt);
    const long = (n: number) => Array.from({ length: 250 }, (_, i) => `word${n}x${i}`).join(' ');
    for (const [week, prompt] of [
      [1, 'users'],
      [2, 'stakeholders'],
      [3, 'signals'],
      [4, 'one-page'],
    ] as const) {
      const saved = await s.asLearner('PUT', `/api/v1/cohorts/${s.cohort.id}/weeks/${week}/submission`, { answers: { [prompt]: long(week) }, submit: false });
      expect(saved.statusCode).toBe(200);
    }
    const { text, pages } = await pdfText((await s.asLearner('GET', `/api/v1/cohorts/${s.cohort.id}/workbook.pdf`)).rawPayload);
    expect(pages).toBeGreaterThanOrEqual(3);
    for (const w of [1, 2, 3, 4]) for (const i of [0, 125, 249]) expect(text).toContain(`word${w}x${i}`);
  });

  it('is the learner’s own (instructors get a blank copy), strangers 401, and learners lose it when access ends', async () => {
    const s = await setupCohort(t);
    await s.asLearner('PUT', `/api/v1/cohorts/${s.cohort.id}/weeks/1/submission`, { answers: { users: 'Private answer' }, submit: true });
    const url = `/api/v1/cohorts/${s.cohort.id}/workbook.pdf`;
    const blank = await s.asInstructor('GET', url);
    expect(blank.statusCode).toBe(200);
    const { text } = await pdfText(blank.rawPayload);
    expect(text).toContain('Workbook of nobody yet: a blank copy for instructors');
    expect(text).toContain('Worksheet 4 — Your plan on a page');
    expect(text).not.toContain('Private answer');
    expect((await s.asAnon('GET', url)).statusCode).toBe(401);
    t.clock.set(new Date(s.cohort.timeline.accessEndsAt.getTime() - 60_000));
    expect((await s.asLearner('GET', url)).statusCode).toBe(200);
    t.clock.set(s.cohort.timeline.accessEndsAt);
    expect((await s.asLearner('GET', url)).statusCode).toBe(403);
  });
});
