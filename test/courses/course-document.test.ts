// A course as one JSON document: the bundled courses round-trip through files and folders, a course built in code
// validates and becomes files the loader accepts, problems are named at document paths, and nothing throws.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCourses, type Course } from '../../modules/courses/content.js';
import { validateCourseDocument, type CourseDocument, type DocumentProblem } from '../../modules/courses/course-document.js';
import {
  courseDocumentToFiles, courseFilesToDocument, readCourseFolder, validateCourseFiles, writeCourseFolder, type CourseFiles,
} from '../../modules/courses/course-files.js';

const CONTENT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../content');
const BUNDLED = fs.readdirSync(CONTENT_DIR, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();

const made: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'course-document-'));
  made.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

/** Every file under dir, by its path inside it, as bytes. */
function folderBytes(dir: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const name of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const file = path.join(dir, name);
    if (fs.statSync(file).isFile()) out[name.split(path.sep).join('/')] = fs.readFileSync(file);
  }
  return out;
}

/** The document a folder's files give, failing the test if the files have problems of their own. */
function documentOf(files: CourseFiles): Record<string, unknown> {
  const read = courseFilesToDocument(files);
  expect(read.problems).toEqual([]);
  return read.document;
}

/** The checked document, failing the test with the problems if it does not validate. */
function valid(slug: string, doc: unknown): { course: Course; document: CourseDocument } {
  const result = validateCourseDocument(slug, doc);
  if (!result.ok) throw new Error(`expected a valid document; got:\n${result.problems.map((p) => `${p.field}: ${p.detail}`).join('\n')}`);
  return result;
}

/** The problems of a document that must not validate. */
function problemsOf(doc: unknown, slug = 'a-course'): DocumentProblem[] {
  const result = validateCourseDocument(slug, doc);
  expect(result.ok, 'expected the document to be refused').toBe(false);
  return result.ok ? [] : result.problems;
}

/** A one-week course written in code, as an author using the API would send it. */
function oneWeekCourse(): CourseDocument {
  return {
    title: 'Reference Interviews',
    summary: 'One week on asking the question behind the question.',
    description: 'A short course on **reference interviews**.\n\nOne live session, one worksheet.\n',
    hoursPerWeek: 1.5,
    price: { amountMinor: 4500, currency: 'EUR' },
    sessions: [{ week: 1, weekday: 'tue', time: '09:30', durationMinutes: 45, title: 'Live session' }],
    weeks: [{
      title: 'Week 1 — Open questions',
      summary: 'Why the first question is rarely the real one.',
      markdown: '## Listening first\n\nMost questions at the desk are really about something else.',
      assignment: {
        title: 'Worksheet — Your last three questions',
        instructions: 'Think of the last three questions you were asked.',
        prompts: [
          { id: 'asked', label: 'What were you asked?' },
          { id: 'meant', label: 'What did they really want to know?', help: 'Guess if you must.', maxLength: 1000 },
        ],
      },
    }],
  };
}

/** Sets (or with `undefined`, deletes) the value at a path of keys and indexes in a copy of doc; doc if the path is gone. */
function withValue(doc: unknown, at: Array<string | number>, value: unknown): unknown {
  const copy = structuredClone(doc) as Record<string | number, unknown>;
  let node = copy;
  for (const key of at.slice(0, -1)) {
    node = node[key] as Record<string | number, unknown>;
    if (typeof node !== 'object' || node === null) return doc;
  }
  const last = at[at.length - 1];
  if (value === undefined) {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete node[last];
  } else {
    node[last] = value;
  }
  return copy;
}

/** Every path to a value inside doc (not doc itself). */
function pathsIn(doc: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (Array.isArray(doc)) return doc.flatMap((v, i) => [[...prefix, i], ...pathsIn(v, [...prefix, i])]);
  if (typeof doc === 'object' && doc !== null) {
    return Object.entries(doc).flatMap(([k, v]) => [[...prefix, k], ...pathsIn(v, [...prefix, k])]);
  }
  return [];
}

describe('each bundled course as a document', () => {
  const loaded = loadCourses(CONTENT_DIR);

  for (const slug of BUNDLED) {
    describe(slug, () => {
      const dir = path.join(CONTENT_DIR, slug);
      const files = readCourseFolder(dir);

      it('folder → files → document → files → document gives the same document', () => {
        const first = documentOf(files);
        const again = documentOf(courseDocumentToFiles(valid(slug, first).document));
        expect(again).toEqual(first);
        expect(Object.keys(files).sort()).toEqual(Object.keys(courseDocumentToFiles(valid(slug, first).document)).sort());
      });

      it('validates to the same Course that loadCourses gives', () => {
        expect(valid(slug, documentOf(files)).course).toEqual(loaded.get(slug));
      });

      it('folder → files → folder is byte for byte the same', () => {
        const out = path.join(tempDir(), slug);
        writeCourseFolder(files, out);
        const original = folderBytes(dir);
        expect(folderBytes(out)).toEqual(original);
      });

      it('written from its document into a new folder, loads as the same course', () => {
        const root = tempDir();
        writeCourseFolder(courseDocumentToFiles(valid(slug, documentOf(files)).document), path.join(root, slug));
        expect(loadCourses(root).get(slug)).toEqual(loaded.get(slug));
      });
    });
  }

  it('holds a week\'s Markdown as its file\'s body (without the file\'s last line break) and the description as written', () => {
    const files = readCourseFolder(path.join(CONTENT_DIR, 'strategic-planning'));
    const doc = documentOf(files) as unknown as CourseDocument;
    const body = files['weeks/01.md'].replace(/^---\n[\s\S]*?\n---\n/, '');
    expect(doc.weeks[0].markdown).toBe(body.replace(/\n$/, ''));
    expect(doc.weeks[0].markdown.startsWith('## Why plan at all?')).toBe(true);
    expect(doc.description).toMatch(/^Many library strategies/);
    expect(doc.description.endsWith('\n')).toBe(true);
    // course.yaml says how many weeks there are; the document holds the weeks themselves.
    expect(doc.weeks).toHaveLength(4);
    expect(doc.weeks[0]).not.toHaveProperty('number');
    expect(doc.sessions![0]).toMatchObject({ weekday: 'wed', time: '12:30' });
  });
});

describe('a one-week course built in code from nothing', () => {
  it('validates, with the defaults filled in', () => {
    const { course } = valid('reference-interviews', oneWeekCourse());
    expect(course).toMatchObject({
      slug: 'reference-interviews', title: 'Reference Interviews', weekCount: 1, price: { amountMinor: 4500, currency: 'EUR' },
      releaseTime: '00:00', review: 'instructor', certificate: null, audience: null, outcomes: [],
    });
    expect(course.sessions).toEqual([{ week: 1, weekday: 2, time: '09:30', durationMinutes: 45, title: 'Live session' }]);
    expect(course.weeks[0].assignment!.prompts).toEqual([
      { id: 'asked', label: 'What were you asked?', help: null, maxLength: 5000 },
      { id: 'meant', label: 'What did they really want to know?', help: 'Guess if you must.', maxLength: 1000 },
    ]);
    expect(course.weeks[0].html).toContain('<h2>Listening first</h2>');
  });

  it('becomes readable files that loadCourses accepts as the same course, and back into the same document', () => {
    const doc = oneWeekCourse();
    const files = courseDocumentToFiles(doc);
    expect(Object.keys(files)).toEqual(['course.yaml', 'weeks/01.md']);
    expect(files['course.yaml']).toContain('\nweeks: 1\n');
    expect(files['course.yaml']).toContain('price: { amountMinor: 4500, currency: EUR }');
    expect(files['course.yaml']).toContain('time: "09:30"');
    expect(files['course.yaml']).toContain('description: |\n  A short course on **reference interviews**.\n');
    expect(files['weeks/01.md']).toMatch(/^---\ntitle: Week 1 — Open questions\n[\s\S]*\n---\n## Listening first\n\nMost questions .* else\.\n$/);

    const root = tempDir();
    writeCourseFolder(files, path.join(root, 'reference-interviews'));
    expect(loadCourses(root).get('reference-interviews')).toEqual(valid('reference-interviews', doc).course);
    expect(documentOf(readCourseFolder(path.join(root, 'reference-interviews')))).toEqual(doc);
  });
});

describe('a document with problems lists every one, at paths into the document', () => {
  const threeWeeks = (): CourseDocument => {
    const doc = oneWeekCourse();
    doc.weeks = [doc.weeks[0], structuredClone(doc.weeks[0]), structuredClone(doc.weeks[0])];
    return doc;
  };

  it('names the issue\'s example field: weeks[2].assignment.prompts[1].id (0-based indexes)', () => {
    const doc = threeWeeks();
    doc.weeks[2].assignment!.prompts![1].id = 'Meant_2';
    expect(problemsOf(doc)).toEqual([
      { field: 'weeks[2].assignment.prompts[1].id', detail: 'must match ^[a-z][a-z0-9-]*$ (got "Meant_2")' },
    ]);
  });

  it('lists the course\'s fields first, then week by week, all at once', () => {
    const doc = threeWeeks() as unknown as Record<string, unknown> & CourseDocument;
    delete (doc as Partial<CourseDocument>).title;
    doc.price = { amountMinor: 4500, currency: 'JPY' as 'EUR' };
    doc.weeks[0].markdown = '   ';
    doc.weeks[1].assignment!.prompts![1].id = 'asked';
    doc.weeks[2].readings = [{ title: 'A page', url: 'http://example.org' }];
    (doc.weeks[2] as unknown as Record<string, unknown>).sumary = 'typo';
    expect(problemsOf(doc).map((p) => p.field)).toEqual([
      'title', 'price.currency', 'weeks[0].markdown', 'weeks[1].assignment.prompts[1].id', 'weeks[2].sumary', 'weeks[2].readings[0].url',
    ]);
    const byField = Object.fromEntries(problemsOf(doc).map((p) => [p.field, p.detail]));
    expect(byField.title).toBe('is required');
    expect(byField['price.currency']).toBe('must be one of GBP, USD, EUR, CAD, AUD (got "JPY")');
    expect(byField['weeks[1].assignment.prompts[1].id']).toMatch(/^duplicate id "asked"/);
    expect(byField['weeks[2].sumary']).toMatch(/^unknown key \(did you mean "summary"\?\)/);
  });

  it('gives the same message as the files form for the same mistake', () => {
    const doc = oneWeekCourse();
    doc.weeks[0].assignment!.prompts![1].maxLength = 0;
    const [fromDocument] = problemsOf(doc);
    const root = tempDir();
    writeCourseFolder(courseDocumentToFiles(doc), path.join(root, 'reference-interviews'));
    const fromFiles = (() => {
      try {
        loadCourses(root);
      } catch (err) {
        return (err as Error).message;
      }
      return '';
    })();
    expect(fromDocument.field).toBe('weeks[0].assignment.prompts[1].maxLength');
    expect(fromFiles).toBe(`${path.basename(root)}/reference-interviews/weeks/01.md: assignment.prompts[1].maxLength: ${fromDocument.detail}`);
  });

  it('refuses what is not a course at all', () => {
    expect(problemsOf(null)).toEqual([{ field: '(course)', detail: 'must be a mapping of course fields (got null)' }]);
    expect(problemsOf([oneWeekCourse()])).toEqual([{ field: '(course)', detail: 'must be a mapping of course fields (got a list)' }]);
    expect(problemsOf(oneWeekCourse(), 'Not A Slug').map((p) => p.field)).toEqual(['slug']);
  });

  it('needs 1 to 12 weeks, each a mapping with its text', () => {
    const field = (doc: unknown) => problemsOf(doc).map((p) => `${p.field}: ${p.detail}`);
    expect(field({ ...oneWeekCourse(), weeks: undefined })).toEqual(['weeks: is required']);
    expect(field({ ...oneWeekCourse(), weeks: 1 })).toEqual(['weeks: must be a list of weeks (got 1)']);
    expect(field({ ...oneWeekCourse(), weeks: [], sessions: [] })).toEqual(['weeks: must hold from 1 to 12 weeks (got 0)']);
    const thirteen = Array.from({ length: 13 }, () => oneWeekCourse().weeks[0]);
    expect(field({ ...oneWeekCourse(), weeks: thirteen })).toEqual(['weeks: must hold from 1 to 12 weeks (got 13)']);
    expect(field({ ...oneWeekCourse(), weeks: ['Week 1'] })).toEqual(['weeks[0]: must be a mapping of week fields (got "Week 1")']);
    const { markdown: _, ...noText } = oneWeekCourse().weeks[0];
    expect(field({ ...oneWeekCourse(), weeks: [noText] })).toEqual([
      'weeks[0].markdown: must be the week\'s module text in Markdown, not empty (in a week file: the text below the front matter)',
    ]);
  });

  it('renders and sanitises its Markdown', () => {
    const doc = oneWeekCourse();
    doc.description = 'Hello <script>alert(1)</script> [x](javascript:alert(1))';
    doc.weeks[0].markdown = '<img src=x onerror=alert(1)>Text';
    doc.weeks[0].discussion = { prompt: 'Say <b onclick="x()">hi</b>' };
    const { course } = valid('a-course', doc);
    expect([course.descriptionHtml, course.weeks[0].html, course.weeks[0].discussionPromptHtml].join('\n')).not.toMatch(/<script|onerror|onclick|javascript:/i);
    expect(course.weeks[0].markdown).toBe('<img src=x onerror=alert(1)>Text');
  });
});

describe('the files form', () => {
  const files = (): CourseFiles => courseDocumentToFiles(oneWeekCourse());

  it('reports unreadable YAML with its line and column, and duplicate keys', () => {
    const broken = { ...files(), 'course.yaml': `${files()['course.yaml']}outcomes: [unclosed\n` };
    const [problem] = courseFilesToDocument(broken).problems;
    expect(problem).toMatchObject({ file: 'course.yaml', field: '(yaml)' });
    expect(problem.detail).toMatch(/^invalid YAML at line \d+, column \d+: /);
    const twice = { ...files(), 'weeks/01.md': files()['weeks/01.md'].replace('---\n', '---\ntitle: Again\n') };
    expect(courseFilesToDocument(twice).problems).toEqual([
      { file: 'weeks/01.md', field: '(yaml)', detail: expect.stringMatching(/^invalid YAML at line 3, column 1: Map keys must be unique/) },
    ]);
  });

  it('reports week files missing, misnamed or not as many as course.yaml says, under the folder given', () => {
    const { 'weeks/01.md': week, ...rest } = files();
    expect(validateCourseFiles('reference-interviews', { ...rest, 'weeks/02.md': week, 'weeks/notes.txt': '' }, { folder: 'in/ri' })).toEqual({
      ok: false,
      problems: [
        { file: 'in/ri/weeks', field: '(files)', detail: 'unexpected "notes.txt": week files are named NN.md (01.md, 02.md, …)' },
        { file: 'in/ri/weeks', field: '(files)', detail: 'week files must be numbered 01..02 without gaps; missing 01.md' },
      ],
    });
    expect(validateCourseFiles('reference-interviews', { ...files(), 'weeks/02.md': week })).toMatchObject({
      ok: false, problems: [{ file: 'course.yaml', field: 'weeks', detail: 'is 1 but weeks has 2 week files' }],
    });
  });

  it('names a document problem by its file and field: a week\'s markdown is its file\'s (body)', () => {
    const blank = { ...files(), 'weeks/01.md': files()['weeks/01.md'].replace(/\n---\n[\s\S]*$/, '\n---\n\n') };
    const result = validateCourseFiles('reference-interviews', blank);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems.map((p) => `${p.file}: ${p.field}`)).toEqual(['weeks/01.md: (body)']);
  });

  it('keeps the Markdown out of the front matter', () => {
    const inside = { ...files(), 'weeks/01.md': files()['weeks/01.md'].replace('---\n', '---\nmarkdown: Text\n') };
    expect(courseFilesToDocument(inside).problems).toEqual([
      { file: 'weeks/01.md', field: 'markdown', detail: expect.stringMatching(/^unknown key: a week's Markdown text goes below the front matter/) },
    ]);
  });

  it('writes only content files, and not over an older, longer course', () => {
    const dir = tempDir();
    expect(() => writeCourseFolder({ '../escape.yaml': 'x' }, dir)).toThrow(/not a course content file/);
    expect(() => writeCourseFolder({ 'weeks/../../escape.md': 'x' }, dir)).toThrow(/not a course content file/);
    const two = { ...files(), 'weeks/02.md': files()['weeks/01.md'] };
    writeCourseFolder(two, dir);
    expect(() => writeCourseFolder(files(), dir)).toThrow(/already holds 02\.md/);
    expect(fs.readdirSync(path.join(dir, 'weeks'))).toEqual(['01.md', '02.md']);
  });
});

describe('checking never throws, whatever it is given', () => {
  const valid0 = documentOf(readCourseFolder(path.join(CONTENT_DIR, 'library-partnerships')));
  const paths = pathsIn(valid0);
  const wellFormed = (problems: DocumentProblem[]) => problems.length > 0
    && problems.every((p) => typeof p.field === 'string' && p.field !== '' && typeof p.detail === 'string' && p.detail !== '');

  it('any JSON value is a list of problems', () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => {
      const result = validateCourseDocument('a-course', value);
      expect(result.ok).toBe(false);
      expect(!result.ok && wellFormed(result.problems)).toBe(true);
    }), { numRuns: 300 });
  });

  it('any value, JSON or not, is a list of problems', () => {
    fc.assert(fc.property(fc.anything({ maxDepth: 3 }), (value) => {
      const result = validateCourseDocument('a-course', value);
      expect(result.ok).toBe(false);
    }), { numRuns: 200 });
  });

  it('a valid document with one value replaced, removed or added is valid or a list of problems; valid ones survive files', () => {
    const mutation = fc.tuple(fc.nat(), fc.oneof(fc.constant(undefined), fc.jsonValue({ maxDepth: 2 })), fc.string({ maxLength: 12 }));
    fc.assert(fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (mutations) => {
      let doc: unknown = valid0;
      for (const [n, value, key] of mutations) {
        const at = paths[n % paths.length];
        // Sometimes add a key beside the chosen value instead of replacing it.
        doc = key.length > 6 && typeof value !== 'undefined' ? withValue(doc, [...at.slice(0, -1), key], value) : withValue(doc, at, value);
      }
      const result = validateCourseDocument('library-partnerships', doc);
      if (!result.ok) {
        expect(wellFormed(result.problems)).toBe(true);
        return;
      }
      const back = validateCourseFiles('library-partnerships', courseDocumentToFiles(result.document));
      expect(back.ok && back.course).toEqual(result.course);
    }), { numRuns: 300 });
  });

  it('any text in the files is a list of problems, never an exception', () => {
    const text = fc.oneof(fc.string(), fc.constantFrom('---\n', '---\n---\n', '---\na: &a [*a]\n---\nx', 'a: *b\n', '---\n- 1\n---\n'));
    const fileSet = fc.dictionary(fc.constantFrom('course.yaml', 'weeks/01.md', 'weeks/02.md', 'weeks/00.md', 'weeks/x', 'weeks/.hidden'), text);
    fc.assert(fc.property(fileSet, (files) => {
      const result = validateCourseFiles('a-course', files);
      expect(result.ok).toBe(false);
    }), { numRuns: 300 });
  });
});
