// Every content rule of the loader, through the API: a draft that breaks one gets a 400 problem+json naming the field
// at its 0-based path, with the validator's message, and the draft is left as it was. One table, one rule per row.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { apiAs } from '../helpers/http.js';
import { insertUser } from '../helpers/factories.js';
import type { CourseDocument } from '../../modules/courses/course-document.js';

let t: TestApp;
let admin: ReturnType<typeof apiAs>;

/** A valid two-week course using every part: readings, prompts, options, uploads, a discussion, sessions, certificate rules. */
function valid(): CourseDocument {
  return {
    title: 'Rules',
    summary: 'A course that uses every field.',
    description: 'All of it.',
    audience: 'Everyone',
    outcomes: ['One', 'Two'],
    hoursPerWeek: 2,
    price: { amountMinor: 19500, currency: 'GBP' },
    releaseTime: '08:00',
    review: 'instructor',
    instructorSupportWeeks: 2,
    sessions: [{ week: 1, weekday: 'mon', time: '10:00', durationMinutes: 60, title: 'Live' }],
    certificate: { assignments: 'all', sessions: 1, posts: 1, hours: 4 },
    weeks: [
      {
        title: 'One',
        summary: 'First.',
        markdown: 'Text.',
        readings: [{ title: 'A reading', url: 'https://example.org/a', note: null }],
        assignment: {
          title: 'Sheet',
          instructions: 'Do it.',
          prompts: [{ id: 'first', label: 'First?' }, { id: 'second', label: 'Second?', maxLength: 100 }],
          choose: 1,
          options: [{ id: 'a', label: 'A' }, { id: 'b', label: 'B' }],
          upload: { maxMb: 5, types: ['pdf'] },
        },
        discussion: { prompt: 'Talk.' },
      },
      { title: 'Two', summary: 'Second.', markdown: 'More.', assignment: { title: 'Sheet 2', instructions: 'Again.', prompts: [{ id: 'only', label: 'Only?' }] } },
    ],
  };
}

type Doc = Record<string, any>;
/** Each rule: how to break a valid course, and the field the 400 must name (the detail matched loosely). */
const RULES: { rule: string; breakIt: (d: Doc) => void; field: string; detail?: RegExp }[] = [
  { rule: 'unknown course field', breakIt: (d) => (d.colour = 'blue'), field: 'colour', detail: /unknown/ },
  { rule: 'title required', breakIt: (d) => delete d.title, field: 'title', detail: /required/ },
  { rule: 'summary not empty', breakIt: (d) => (d.summary = ''), field: 'summary', detail: /non-empty/ },
  { rule: 'description a string', breakIt: (d) => (d.description = 42), field: 'description' },
  { rule: 'outcomes are strings', breakIt: (d) => (d.outcomes = ['ok', 3]), field: 'outcomes[1]' },
  { rule: 'hours above 0', breakIt: (d) => (d.hoursPerWeek = 0), field: 'hoursPerWeek', detail: /greater than 0/ },
  { rule: 'hours at most 40', breakIt: (d) => (d.hoursPerWeek = 41), field: 'hoursPerWeek' },
  { rule: 'price a whole number of minor units', breakIt: (d) => (d.price.amountMinor = 19.5), field: 'price.amountMinor' },
  { rule: 'price not negative', breakIt: (d) => (d.price.amountMinor = -1), field: 'price.amountMinor' },
  { rule: 'currency one of ours', breakIt: (d) => (d.price.currency = 'JPY'), field: 'price.currency' },
  { rule: 'release time HH:MM', breakIt: (d) => (d.releaseTime = '8am'), field: 'releaseTime' },
  { rule: 'review instructor or none', breakIt: (d) => (d.review = 'peer'), field: 'review' },
  { rule: 'support weeks 0–52', breakIt: (d) => (d.instructorSupportWeeks = 60), field: 'instructorSupportWeeks' },
  { rule: 'weeks required', breakIt: (d) => delete d.weeks, field: 'weeks', detail: /required/ },
  { rule: 'at least one week', breakIt: (d) => (d.weeks = []), field: 'weeks', detail: /from 1 to 12/ },
  { rule: 'at most twelve weeks', breakIt: (d) => (d.weeks = Array.from({ length: 13 }, () => d.weeks[1])), field: 'weeks', detail: /from 1 to 12/ },
  { rule: 'unknown week field', breakIt: (d) => (d.weeks[1].colour = 'red'), field: 'weeks[1].colour' },
  { rule: 'week title', breakIt: (d) => (d.weeks[1].title = ''), field: 'weeks[1].title' },
  { rule: 'week text', breakIt: (d) => (d.weeks[0].markdown = '  '), field: 'weeks[0].markdown', detail: /not empty/ },
  { rule: 'reading title', breakIt: (d) => (d.weeks[0].readings[0].title = ''), field: 'weeks[0].readings[0].title' },
  { rule: 'reading url https', breakIt: (d) => (d.weeks[0].readings[0].url = 'javascript:alert(1)'), field: 'weeks[0].readings[0].url' },
  { rule: 'discussion prompt', breakIt: (d) => (d.weeks[0].discussion = { prompt: '' }), field: 'weeks[0].discussion.prompt' },
  { rule: 'assignment title', breakIt: (d) => (d.weeks[0].assignment.title = ''), field: 'weeks[0].assignment.title' },
  { rule: 'assignment instructions', breakIt: (d) => delete d.weeks[0].assignment.instructions, field: 'weeks[0].assignment.instructions' },
  { rule: 'a prompt or an option', breakIt: (d) => (d.weeks[1].assignment.prompts = []), field: 'weeks[1].assignment', detail: /at least one prompt or option/ },
  { rule: 'prompt id pattern', breakIt: (d) => (d.weeks[0].assignment.prompts[1].id = 'Second!'), field: 'weeks[0].assignment.prompts[1].id' },
  { rule: 'prompt ids unique', breakIt: (d) => (d.weeks[0].assignment.prompts[1].id = 'first'), field: 'weeks[0].assignment.prompts[1].id' },
  { rule: 'prompt label', breakIt: (d) => (d.weeks[0].assignment.prompts[0].label = ''), field: 'weeks[0].assignment.prompts[0].label' },
  { rule: 'prompt length 1–20000', breakIt: (d) => (d.weeks[0].assignment.prompts[1].maxLength = 50_000), field: 'weeks[0].assignment.prompts[1].maxLength' },
  { rule: 'option label', breakIt: (d) => (d.weeks[0].assignment.options[1].label = ''), field: 'weeks[0].assignment.options[1].label' },
  { rule: 'choose needs options', breakIt: (d) => (d.weeks[1].assignment.choose = 1), field: 'weeks[1].assignment.choose', detail: /options/ },
  { rule: 'choose at most the options', breakIt: (d) => (d.weeks[0].assignment.choose = 3), field: 'weeks[0].assignment.choose' },
  { rule: 'upload 1–25 MB', breakIt: (d) => (d.weeks[0].assignment.upload.maxMb = 100), field: 'weeks[0].assignment.upload.maxMb' },
  { rule: 'upload types ours', breakIt: (d) => (d.weeks[0].assignment.upload.types = ['exe']), field: 'weeks[0].assignment.upload.types[0]' },
  { rule: 'upload types once', breakIt: (d) => (d.weeks[0].assignment.upload.types = ['pdf', 'pdf']), field: 'weeks[0].assignment.upload.types[1]', detail: /twice/ },
  { rule: 'session week in the course', breakIt: (d) => (d.sessions[0].week = 3), field: 'sessions[0].week' },
  { rule: 'session weekday', breakIt: (d) => (d.sessions[0].weekday = 'someday'), field: 'sessions[0].weekday' },
  { rule: 'session time', breakIt: (d) => (d.sessions[0].time = '25:00'), field: 'sessions[0].time' },
  { rule: 'session 15–480 minutes', breakIt: (d) => (d.sessions[0].durationMinutes = 5), field: 'sessions[0].durationMinutes' },
  { rule: 'session title', breakIt: (d) => (d.sessions[0].title = ''), field: 'sessions[0].title' },
  { rule: 'sessions not twice at one time', breakIt: (d) => d.sessions.push({ ...d.sessions[0], title: 'Again' }), field: 'sessions[1]', detail: /same week, weekday and time/ },
  { rule: 'certificate shape', breakIt: (d) => (d.certificate = 'yes'), field: 'certificate' },
  { rule: 'certificate assignments at most the course has', breakIt: (d) => (d.certificate.assignments = 5), field: 'certificate.assignments' },
  { rule: 'certificate sessions at most the course has', breakIt: (d) => (d.certificate.sessions = 3), field: 'certificate.sessions' },
  { rule: 'certificate unknown rule', breakIt: (d) => (d.certificate.grade = 'A'), field: 'certificate.grade' },
];

beforeAll(async () => {
  t = await createTestApp();
  admin = apiAs(t.app, (await insertUser(t, 'admin')).token);
  expect((await admin('POST', '/api/v1/courses', { slug: 'rules', title: 'Rules' })).statusCode).toBe(201);
  const ok = await admin('PUT', '/api/v1/courses/rules/draft', valid());
  expect(ok.statusCode, ok.body).toBe(200);
}, 60_000);
afterAll(async () => t?.close());

describe('every content rule, through PUT /api/v1/courses/:slug/draft', () => {
  it.each(RULES)('$rule → 400 naming $field, nothing saved', async ({ breakIt, field, detail }) => {
    const doc = valid() as Doc;
    breakIt(doc);
    const res = await admin('PUT', '/api/v1/courses/rules/draft', doc);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    const errors = res.json().errors as { field: string; detail: string }[];
    const hit = errors.find((e) => e.field === field);
    expect(hit, `no error at ${field}; got ${JSON.stringify(errors)}`).toBeTruthy();
    if (detail) expect(hit!.detail).toMatch(detail);
    // The draft is still the valid one.
    expect((await admin('GET', '/api/v1/courses/rules/draft')).json()).toEqual(JSON.parse(JSON.stringify(valid())));
  });

  it('the same rules refuse a publish of a draft saved part by part through the pages (400 with the list)', async () => {
    // A draft left incomplete by the editor's forms (which save one part at a time) cannot be published.
    const me = (await t.app.cc.people.findByEmail((await insertUser(t, 'admin')).email))!;
    await t.app.cc.courses.editDraft('rules', me, () => false, (d) => ({ ...d, summary: '' }));
    const res = await admin('POST', '/api/v1/courses/rules/publish', {});
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([{ field: 'summary', detail: expect.stringMatching(/non-empty/) }]);
  });
});
