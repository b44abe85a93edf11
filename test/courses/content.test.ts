// The course content loader: the bundled courses load, and bad content is refused naming the file and the field.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ContentError, loadCourses, type ContentProblem } from '../../modules/courses/content.js';

const CONTENT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../content');

const COURSE_YAML = `title: Cataloguing Basics
summary: A short course.
description: |
  Learn the **basics**.
weeks: 2
hoursPerWeek: 2
price: { amountMinor: 9900, currency: GBP }
sessions:
  - week: 1
    weekday: wed
    time: "18:00"
    durationMinutes: 60
    title: Live session 1
`;

const WEEK_1 = `---
title: Week 1 — Records
summary: What a record is.
readings:
  - title: A standard
    url: https://example.org/standard
  - title: Your own catalogue
assignment:
  title: Worksheet 1
  instructions: Answer the prompts.
  prompts:
    - id: users
      label: Who uses your catalogue?
    - id: gaps
      label: What is missing?
      help: Think broadly.
      maxLength: 1000
discussion:
  prompt: Share one *odd* record.
---
## Records

A record describes an item.
`;

const WEEK_2 = `---
title: Week 2 — Subjects
summary: Subject headings.
assignment:
  title: Pick a task
  instructions: Choose one.
  options:
    - id: audit
      label: Audit ten records
    - id: compare
      label: Compare two schemes
      description: Any two.
  upload:
    maxMb: 2
    types: [pdf, txt]
---
Subject headings help people find things.
`;

let tmpRoots: string[] = [];

/** A content folder in a temp dir holding one valid course, with files replaced or removed as a test needs. */
function contentDir(files: Record<string, string | null> = {}, slug = 'cataloguing'): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'course-content-'));
  tmpRoots.push(root);
  const dir = path.join(root, 'content');
  const all: Record<string, string | null> = {
    'course.yaml': COURSE_YAML,
    'weeks/01.md': WEEK_1,
    'weeks/02.md': WEEK_2,
    ...files,
  };
  for (const [rel, text] of Object.entries(all)) {
    if (text === null) continue;
    const file = path.join(dir, slug, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  }
  return dir;
}

/** The ContentError thrown by loading dir (fails the test if loading succeeds). */
function loadError(dir: string): ContentError {
  try {
    loadCourses(dir);
  } catch (err) {
    expect(err).toBeInstanceOf(ContentError);
    return err as ContentError;
  }
  throw new Error('expected the content to be refused');
}

/** Asserts that loading dir fails with a problem in `file` at `field`, listed in the message as `file: field: …`. */
function expectProblem(dir: string, file: string, field: string, detail?: RegExp): ContentProblem {
  const err = loadError(dir);
  const problem = err.problems.find((p) => p.file === file && p.field === field);
  expect(problem, `no problem at ${file}: ${field}; got:\n${err.message}`).toBeDefined();
  expect(err.message).toContain(`${file}: ${field}: `);
  if (detail) expect(problem!.detail).toMatch(detail);
  return problem!;
}

afterEach(() => {
  for (const root of tmpRoots) fs.rmSync(root, { recursive: true, force: true });
  tmpRoots = [];
});

describe('the bundled courses', () => {
  const courses = loadCourses(CONTENT_DIR);

  it('load without problems: at least three courses, listed by title', () => {
    expect(courses.size).toBeGreaterThanOrEqual(3);
    const titles = [...courses.values()].map((c) => c.title);
    expect(titles).toEqual([...titles].sort((a, b) => a.localeCompare(b, 'en')));
    for (const course of courses.values()) {
      expect(course.weeks).toHaveLength(course.weekCount);
      expect(course.weeks.map((w) => w.number)).toEqual(Array.from({ length: course.weekCount }, (_, i) => i + 1));
      expect(course.price.currency).toBe('GBP');
    }
  });

  it('include Strategic Planning with Purpose: four weeks, four 60-minute sessions, £195', () => {
    const course = courses.get('strategic-planning');
    expect(course).toBeDefined();
    expect(course!.title).toBe('Strategic Planning with Purpose');
    expect(course!.weekCount).toBe(4);
    expect(course!.weeks).toHaveLength(4);
    expect(course!.sessions).toHaveLength(4);
    expect(course!.sessions.map((s) => s.week)).toEqual([1, 2, 3, 4]);
    for (const s of course!.sessions) expect(s.durationMinutes).toBe(60);
    expect(course!.price).toEqual({ amountMinor: 19500, currency: 'GBP' });
    expect(course!.certificate).toEqual({ assignments: 'all', sessions: 3, posts: 1, hours: 10 });
  });

  it('give every Strategic Planning week a worksheet of named prompts and a discussion prompt', () => {
    for (const week of courses.get('strategic-planning')!.weeks) {
      expect(week.assignment, `week ${week.number}`).not.toBeNull();
      expect(week.assignment!.prompts.length).toBeGreaterThanOrEqual(2);
      expect(week.assignment!.prompts.length).toBeLessThanOrEqual(4);
      for (const prompt of week.assignment!.prompts) {
        expect(prompt.id).toMatch(/^[a-z][a-z0-9-]*$/);
        expect(prompt.label.length).toBeGreaterThan(0);
      }
      expect(week.discussionPromptHtml).toBeTruthy();
      expect(week.html).toContain('<h2>');
    }
  });

  it('include a partnerships course where learners choose among options and the instructor stays on', () => {
    const course = courses.get('library-partnerships')!;
    expect(course.instructorSupportWeeks).toBe(2);
    expect(course.hoursPerWeek).toBe(2.5);
    expect(course.weeks.every((w) => w.assignment !== null && w.assignment.options.length > 0 && w.assignment.choose !== null)).toBe(true);
  });

  it('include a course whose submissions need no instructor review', () => {
    expect([...courses.values()].some((c) => c.review === 'none')).toBe(true);
  });
});

describe('a valid course folder', () => {
  it('loads with its fields read and the defaults filled in', () => {
    const course = loadCourses(contentDir()).get('cataloguing')!;
    expect(course).toMatchObject({
      slug: 'cataloguing', title: 'Cataloguing Basics', audience: null, outcomes: [], weekCount: 2, hoursPerWeek: 2,
      price: { amountMinor: 9900, currency: 'GBP' }, releaseTime: '00:00', review: 'instructor',
      instructorSupportWeeks: null, certificate: null,
    });
    expect(course.descriptionHtml).toContain('<strong>basics</strong>');
    expect(course.sessions).toEqual([{ week: 1, weekday: 3, time: '18:00', durationMinutes: 60, title: 'Live session 1' }]);

    const [w1, w2] = course.weeks;
    expect(w1.readings).toEqual([
      { title: 'A standard', url: 'https://example.org/standard', note: null },
      { title: 'Your own catalogue', url: null, note: null },
    ]);
    expect(w1.assignment!.prompts).toEqual([
      { id: 'users', label: 'Who uses your catalogue?', help: null, maxLength: 5000 },
      { id: 'gaps', label: 'What is missing?', help: 'Think broadly.', maxLength: 1000 },
    ]);
    expect(w1.assignment!.choose).toBeNull();
    expect(w1.assignment!.upload).toBeNull();
    expect(w1.discussionPromptMarkdown).toBe('Share one *odd* record.');
    expect(w1.discussionPromptHtml).toContain('<em>odd</em>');
    expect(w1.markdown).toBe('## Records\n\nA record describes an item.');

    // Options without `choose`: the learner picks one.
    expect(w2.assignment!.choose).toBe(1);
    expect(w2.assignment!.prompts).toEqual([]);
    expect(w2.assignment!.options[0]).toEqual({ id: 'audit', label: 'Audit ten records', description: null });
    expect(w2.assignment!.upload).toEqual({ maxBytes: 2 * 1024 * 1024, types: ['pdf', 'txt'] });
    expect(w2.discussionPromptHtml).toBeNull();
  });

  it('may offer a certificate with default rules by saying `certificate: true`', () => {
    const course = loadCourses(contentDir({ 'course.yaml': `${COURSE_YAML}certificate: true\n` })).get('cataloguing')!;
    expect(course.certificate).toEqual({ assignments: 'all', sessions: 1, posts: 1, hours: 4 });
  });

  it('may have a week with no assignment', () => {
    const week = WEEK_1.replace(/assignment:[\s\S]*?(?=discussion:)/, '');
    const course = loadCourses(contentDir({ 'weeks/01.md': week })).get('cataloguing')!;
    expect(course.weeks[0].assignment).toBeNull();
  });

  it('ignores files beside the course folders, such as the README', () => {
    const dir = contentDir();
    fs.writeFileSync(path.join(dir, 'README.md'), '# Content\n');
    expect([...loadCourses(dir).keys()]).toEqual(['cataloguing']);
  });

  it('may be priced in USD, EUR, CAD or AUD, in that currency\'s minor units', () => {
    for (const currency of ['USD', 'EUR', 'CAD', 'AUD'] as const) {
      const yaml = COURSE_YAML.replace('{ amountMinor: 9900, currency: GBP }', `{ amountMinor: 25000, currency: ${currency} }`);
      expect(loadCourses(contentDir({ 'course.yaml': yaml })).get('cataloguing')!.price).toEqual({ amountMinor: 25000, currency });
    }
  });
});

describe('bad content is refused, naming the file and the field', () => {
  it('a course without a title', () => {
    const dir = contentDir({ 'course.yaml': COURSE_YAML.replace('title: Cataloguing Basics\n', '') });
    const err = loadError(dir);
    expect(err.file).toBe('content/cataloguing/course.yaml');
    expect(err.field).toBe('title');
    expect(err.message).toBe('content/cataloguing/course.yaml: title: is required');
  });

  it('a week without a title', () => {
    expectProblem(contentDir({ 'weeks/02.md': WEEK_2.replace('title: Week 2 — Subjects\n', '') }),
      'content/cataloguing/weeks/02.md', 'title', /required/);
  });

  it('a weeks count that does not match the week files', () => {
    expectProblem(contentDir({ 'course.yaml': COURSE_YAML.replace('weeks: 2', 'weeks: 3') }),
      'content/cataloguing/course.yaml', 'weeks', /is 3 but content\/cataloguing\/weeks has 2 week files/);
  });

  it('week files numbered with a gap', () => {
    const dir = contentDir({ 'weeks/02.md': null, 'weeks/03.md': WEEK_2 });
    expectProblem(dir, 'content/cataloguing/weeks', '(files)', /missing 02\.md/);
  });

  it('a week without its module text', () => {
    expectProblem(contentDir({ 'weeks/02.md': WEEK_2.replace('Subject headings help people find things.\n', '') }),
      'content/cataloguing/weeks/02.md', '(body)', /module text in Markdown, not empty/);
  });

  it('a course whose weeks folder is missing or empty', () => {
    expectProblem(contentDir({ 'weeks/01.md': null, 'weeks/02.md': null }), 'content/cataloguing/weeks', '(files)', /no week files/);
  });

  it('a week file\'s own mistakes, even when the week files are misnumbered', () => {
    const dir = contentDir({ 'weeks/02.md': null, 'weeks/03.md': WEEK_2.replace('id: compare', 'id: audit') });
    expectProblem(dir, 'content/cataloguing/weeks', '(files)', /missing 02\.md/);
    expectProblem(dir, 'content/cataloguing/weeks/03.md', 'assignment.options[1].id', /duplicate/);
  });

  it('a misnamed week file', () => {
    expectProblem(contentDir({ 'weeks/3.md': WEEK_2 }), 'content/cataloguing/weeks', '(files)', /"3\.md"/);
  });

  it('a weeks count out of range', () => {
    expectProblem(contentDir({ 'course.yaml': COURSE_YAML.replace('weeks: 2', 'weeks: 13') }),
      'content/cataloguing/course.yaml', 'weeks', /integer from 1 to 12/);
  });

  it('a prompt id that breaks the pattern', () => {
    const dir = contentDir({ 'weeks/01.md': WEEK_1.replace('id: gaps', 'id: Gaps_2') });
    const err = loadError(dir);
    expect(err.message).toContain(
      'content/cataloguing/weeks/01.md: assignment.prompts[1].id: must match ^[a-z][a-z0-9-]*$');
  });

  it('two prompts with the same id', () => {
    expectProblem(contentDir({ 'weeks/01.md': WEEK_1.replace('id: gaps', 'id: users') }),
      'content/cataloguing/weeks/01.md', 'assignment.prompts[1].id', /duplicate id "users"/);
  });

  it('two options with the same id', () => {
    expectProblem(contentDir({ 'weeks/02.md': WEEK_2.replace('id: compare', 'id: audit') }),
      'content/cataloguing/weeks/02.md', 'assignment.options[1].id', /duplicate/);
  });

  it('a session in a week the course does not have', () => {
    expectProblem(contentDir({ 'course.yaml': COURSE_YAML.replace('  - week: 1', '  - week: 3') }),
      'content/cataloguing/course.yaml', 'sessions[0].week', /from 1 to 2/);
  });

  it('a session with a bad weekday, time or length', () => {
    const yaml = COURSE_YAML.replace('weekday: wed', 'weekday: wednesday').replace('"18:00"', '"6pm"')
      .replace('durationMinutes: 60', 'durationMinutes: 600');
    // The certificate's session bound is not re-reported as a knock-on of the broken session.
    const err = loadError(contentDir({ 'course.yaml': `${yaml}certificate: { sessions: 1 }\n` }));
    expect(err.problems.map((p) => p.field)).toEqual(['sessions[0].weekday', 'sessions[0].time', 'sessions[0].durationMinutes']);
  });

  it('a price in a currency we do not sell in, or a code in lower case', () => {
    expectProblem(contentDir({ 'course.yaml': COURSE_YAML.replace('currency: GBP', 'currency: JPY') }),
      'content/cataloguing/course.yaml', 'price.currency', /must be one of GBP, USD, EUR, CAD, AUD \(got "JPY"\)/);
    expectProblem(contentDir({ 'course.yaml': COURSE_YAML.replace('currency: GBP', 'currency: gbp') }),
      'content/cataloguing/course.yaml', 'price.currency', /must be one of .*\(got "gbp"\)/);
  });

  it('a price that is not a whole number of pence', () => {
    expectProblem(contentDir({ 'course.yaml': COURSE_YAML.replace('amountMinor: 9900', 'amountMinor: 99.5') }),
      'content/cataloguing/course.yaml', 'price.amountMinor', /integer/);
  });

  it('an unknown key in course.yaml, with a suggestion', () => {
    expectProblem(contentDir({ 'course.yaml': COURSE_YAML.replace('summary:', 'sumary:') }),
      'content/cataloguing/course.yaml', 'sumary', /unknown key \(did you mean "summary"\?\)/);
  });

  it('an unknown key deep in a week', () => {
    expectProblem(contentDir({ 'weeks/01.md': WEEK_1.replace('      help: Think broadly.', '      hint: Think broadly.') }),
      'content/cataloguing/weeks/01.md', 'assignment.prompts[1].hint', /unknown key/);
  });

  it('invalid YAML in course.yaml', () => {
    expectProblem(contentDir({ 'course.yaml': `${COURSE_YAML}outcomes: [unclosed\n` }),
      'content/cataloguing/course.yaml', '(yaml)', /invalid YAML at line \d+/);
  });

  it('invalid YAML in a week’s front matter', () => {
    expectProblem(contentDir({ 'weeks/02.md': WEEK_2.replace('summary: Subject headings.', 'summary: "unclosed') }),
      'content/cataloguing/weeks/02.md', '(yaml)', /invalid YAML/);
  });

  it('a duplicated key in YAML', () => {
    expectProblem(contentDir({ 'course.yaml': `${COURSE_YAML}title: Again\n` }),
      'content/cataloguing/course.yaml', '(yaml)', /unique/);
  });

  it('a week file without front matter', () => {
    expectProblem(contentDir({ 'weeks/02.md': 'Just text.\n' }), 'content/cataloguing/weeks/02.md', '(front matter)');
  });

  it('a reading link that is not https', () => {
    expectProblem(contentDir({ 'weeks/01.md': WEEK_1.replace('https://example.org/standard', 'http://example.org/standard') }),
      'content/cataloguing/weeks/01.md', 'readings[0].url', /https/);
  });

  it('choosing more options than there are', () => {
    expectProblem(contentDir({ 'weeks/02.md': WEEK_2.replace('  options:', '  choose: 3\n  options:') }),
      'content/cataloguing/weeks/02.md', 'assignment.choose', /from 1 to 2/);
  });

  it('an assignment with neither prompts nor options', () => {
    const week = WEEK_2.replace(/  options:[\s\S]*?(?=  upload:)/, '');
    expectProblem(contentDir({ 'weeks/02.md': week }), 'content/cataloguing/weeks/02.md', 'assignment', /at least one prompt or option/);
  });

  it('an upload type outside the allowed list', () => {
    expectProblem(contentDir({ 'weeks/02.md': WEEK_2.replace('[pdf, txt]', '[pdf, exe]') }),
      'content/cataloguing/weeks/02.md', 'assignment.upload.types[1]', /must be one of/);
  });

  it('certificate rules asking for more sessions than the course has', () => {
    const yaml = `${COURSE_YAML}certificate: { assignments: all, sessions: 3, posts: 1, hours: 4 }\n`;
    expectProblem(contentDir({ 'course.yaml': yaml }), 'content/cataloguing/course.yaml', 'certificate.sessions', /0 to 1/);
  });

  it('a course folder whose name is not a valid slug', () => {
    expectProblem(contentDir({}, 'Cataloguing_Basics'), 'content/Cataloguing_Basics', '(folder)', /must match/);
  });

  it('a course folder without course.yaml', () => {
    expectProblem(contentDir({ 'course.yaml': null }), 'content/cataloguing/course.yaml', '(file)', /missing/);
  });

  it('and every problem is listed at once, one per line', () => {
    const dir = contentDir({
      'course.yaml': COURSE_YAML.replace('currency: GBP', 'currency: JPY'),
      'weeks/01.md': WEEK_1.replace('id: gaps', 'id: users'),
    });
    const err = loadError(dir);
    expect(err.problems.length).toBeGreaterThanOrEqual(2);
    expect(err.message.split('\n')).toEqual(err.problems.map((p) => `${p.file}: ${p.field}: ${p.detail}`));
    expect(err.message).toContain('content/cataloguing/course.yaml: price.currency:');
    expect(err.message).toContain('content/cataloguing/weeks/01.md: assignment.prompts[1].id:');
  });
});

describe('Markdown in course content', () => {
  it('is sanitised: a script in a week body, an instruction or the description does not survive', () => {
    const dir = contentDir({
      'course.yaml': COURSE_YAML.replace('Learn the **basics**.', 'Learn <script>alert(1)</script> the basics.'),
      'weeks/01.md': `${WEEK_1.replace('instructions: Answer the prompts.', 'instructions: "<img src=x onerror=alert(1)>Answer"')}\n<script>alert("x")</script>\n\n[click](javascript:alert(1))\n`,
    });
    const course = loadCourses(dir).get('cataloguing')!;
    const html = [course.descriptionHtml, course.weeks[0].html, course.weeks[0].assignment!.instructionsHtml].join('\n');
    expect(html).not.toMatch(/<script|onerror|javascript:/i);
    expect(course.weeks[0].html).toContain('A record describes an item.');
    // The Markdown itself is kept as written, for instructors to edit per cohort.
    expect(course.weeks[0].markdown).toContain('<script>');
  });
});
