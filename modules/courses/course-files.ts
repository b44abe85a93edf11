// A course's content files (course.yaml + weeks/NN.md) to and from its CourseDocument, and to and from a folder.
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import {
  COURSE_KEYS, WEEK_KEYS, describe, isObj, validateCourseDocument, type CourseDocument, type DocumentProblem,
} from './course-document.js';
import { MAX_WEEKS, type Course } from './model.js';

/** A course folder's content files by their path inside it (`course.yaml`, `weeks/01.md`, …), as UTF-8 text. */
export type CourseFiles = Record<string, string>;
/** One thing wrong with a course's files: the file (under `folder` when one is given), the field in it, what is wrong. */
export interface ContentProblem { file: string; field: string; detail: string }
/** Where problems name their files: `folder` is how the course folder is shown (`content/strategic-planning`). */
export interface FilesOptions { folder?: string }

export type CourseFilesValidation =
  | { ok: true; course: Course; document: CourseDocument }
  | { ok: false; problems: ContentProblem[] };

type Obj = Record<string, unknown>;

const WEEK_FILE_PATTERN = /^(\d{2})\.md$/;
/** A week file's front matter holds a week's fields except `markdown`, which is the file's body. */
const FRONT_MATTER_KEYS = WEEK_KEYS.filter((k) => k !== 'markdown');
/** Problems that make a file unreadable: nothing else is reported in it, since its fields are unknown. */
const UNREADABLE = new Set(['(file)', '(yaml)', '(front matter)']);

/** Reads a course folder's content files as text, unchanged; other files (notes, images, hidden files) are left out. */
export function readCourseFolder(dir: string): CourseFiles {
  const files: CourseFiles = {};
  const yamlPath = path.join(dir, 'course.yaml');
  if (fs.statSync(yamlPath, { throwIfNoEntry: false })?.isFile()) files['course.yaml'] = fs.readFileSync(yamlPath, 'utf8');
  const weeksDir = path.join(dir, 'weeks');
  if (fs.statSync(weeksDir, { throwIfNoEntry: false })?.isDirectory()) {
    for (const name of fs.readdirSync(weeksDir).sort()) {
      const file = path.join(weeksDir, name);
      if (name.startsWith('.') || !fs.statSync(file).isFile()) continue;
      files[`weeks/${name}`] = fs.readFileSync(file, 'utf8');
    }
  }
  return files;
}

/**
 * Writes a course's files into dir (created if need be). Refuses, before writing anything, a path that is not a
 * content file's and a folder holding week files that these would not replace (an old export of a longer course).
 */
export function writeCourseFolder(files: CourseFiles, dir: string): void {
  for (const name of Object.keys(files)) {
    if (name !== 'course.yaml' && !/^weeks\/[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new Error(`not a course content file: ${name}`);
  }
  const weeksDir = path.join(dir, 'weeks');
  const stale = fs.existsSync(weeksDir)
    ? fs.readdirSync(weeksDir).filter((n) => WEEK_FILE_PATTERN.test(n) && !(`weeks/${n}` in files))
    : [];
  if (stale.length > 0) throw new Error(`${weeksDir} already holds ${stale.join(', ')}, which this course does not have`);
  fs.mkdirSync(weeksDir, { recursive: true });
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, ...name.split('/')), text);
}

/**
 * Parses a course's files into its document (course.yaml's fields, `weeks` the list of week files' front matter
 * plus `markdown`, their body), with the problems only files can have: unreadable YAML (with line and column),
 * duplicate keys, week files missing, misnamed or not as many as `weeks` says. Never throws. `weekFiles[i]` is the
 * file that `weeks[i]` came from. The document is as complete as the files allow, for the validator to check.
 */
export function courseFilesToDocument(files: CourseFiles, options: FilesOptions = {}): {
  document: Obj; problems: ContentProblem[]; weekFiles: string[];
} {
  const problems: ContentProblem[] = [];
  const fail = (file: string, field: string, detail: string) => problems.push({ file: inFolder(options, file), field, detail });

  let course: Obj | undefined;
  const yamlText = Object.hasOwn(files, 'course.yaml') ? files['course.yaml'] : undefined;
  if (typeof yamlText !== 'string') {
    fail('course.yaml', '(file)', 'missing: every course folder needs a course.yaml');
  } else {
    const parsed = parseYaml(yamlText.replace(/^\uFEFF/, ''));
    if (!parsed.ok) fail('course.yaml', '(yaml)', parsed.detail);
    else if (!isObj(parsed.value)) fail('course.yaml', '(file)', `must be a YAML mapping of course fields (got ${describe(parsed.value)})`);
    else course = parsed.value;
  }

  const listing = listWeekFiles(files, fail);
  if (course) {
    // In course.yaml `weeks` is how many week files there are; in the document it is the weeks themselves.
    const count = course.weeks;
    if (count === undefined || count === null) {
      fail('course.yaml', 'weeks', 'is required');
    } else if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_WEEKS) {
      fail('course.yaml', 'weeks', `must be an integer from 1 to ${MAX_WEEKS} (got ${describe(count)})`);
    } else if (listing.ok && listing.files.length !== count) {
      const n = listing.files.length;
      fail('course.yaml', 'weeks', `is ${count} but ${inFolder(options, 'weeks')} has ${n} week file${n === 1 ? '' : 's'}`);
    }
  }

  const weeks = listing.files.map((file) => readWeekFile(file, files[file], fail));
  const document: Obj = {};
  for (const [key, value] of Object.entries(course ?? {})) document[key] = key === 'weeks' ? weeks : value;
  document.weeks = weeks;
  return { document, problems, weekFiles: listing.files };
}

/**
 * Checks a course given as files: their own problems, then the document's, each named by file and field as
 * `weeks/02.md: assignment.prompts[1].id` (a document's `weeks[1].markdown` is that file's `(body)`). Never throws.
 */
export function validateCourseFiles(slug: string, files: CourseFiles, options: FilesOptions = {}): CourseFilesValidation {
  const read = courseFilesToDocument(files, options);
  const result = validateCourseDocument(slug, read.document);
  if (result.ok && read.problems.length === 0) return result;

  const unreadable = new Set(read.problems.filter((p) => UNREADABLE.has(p.field)).map((p) => p.file));
  const weeksFile = inFolder(options, 'weeks');
  const listingBroken = read.problems.some((p) => p.file === weeksFile);
  const countWrong = listingBroken || read.problems.some((p) => p.file === inFolder(options, 'course.yaml') && p.field === 'weeks');
  // What the document says about the number of weeks is a knock-on of the files' own problem with them.
  const knockOn = (field: string) => (countWrong && (field === 'weeks' || /^sessions\[\d+\]\.week$/.test(field)))
    || (listingBroken && field === 'certificate.assignments');

  const fromDocument = (result.ok ? [] : result.problems)
    .filter((p) => !knockOn(p.field))
    .map((p) => locate(p, read.weekFiles, options))
    .filter((p) => !unreadable.has(p.file));
  // A stable sort by file: course.yaml, then the weeks folder, then each week file, every file's problems in order.
  const problems = [...read.problems, ...fromDocument].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return { ok: false, problems };
}

/**
 * The files for a document: course.yaml with `weeks: N` and its fields in the usual order, and weeks/NN.md as
 * front matter then `markdown`. YAML 1.2, block style, multi-line text as `|` blocks, times quoted.
 */
export function courseDocumentToFiles(doc: CourseDocument): CourseFiles {
  const { weeks, ...fields } = doc;
  const list: unknown[] = Array.isArray(weeks) ? weeks : [];
  const files: CourseFiles = { 'course.yaml': emitYaml(ordered({ ...fields, weeks: list.length }, COURSE_KEYS)) };
  list.forEach((week, i) => {
    const { markdown, ...frontMatter } = isObj(week) ? week : {};
    // The body is the Markdown followed by one line break, the one courseFilesToDocument takes off again.
    files[`weeks/${pad(i + 1)}.md`] = `---\n${emitYaml(ordered(frontMatter, FRONT_MATTER_KEYS))}---\n${typeof markdown === 'string' ? markdown : ''}\n`;
  });
  return files;
}

// ---------------------------------------------------------------------------------------------------------------

function inFolder(options: FilesOptions, file: string): string {
  return options.folder ? `${options.folder}/${file}` : file;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** A document problem as a file problem: `weeks[i].x` is in week i's file, everything else in course.yaml. */
function locate(p: DocumentProblem, weekFiles: string[], options: FilesOptions): ContentProblem {
  const m = /^weeks\[(\d+)\](?:\.(.*))?$/.exec(p.field);
  if (m) {
    const i = Number(m[1]);
    const rest = m[2] ?? '(front matter)';
    return { file: inFolder(options, weekFiles[i] ?? `weeks/${pad(i + 1)}.md`), field: rest === 'markdown' ? '(body)' : rest, detail: p.detail };
  }
  if (p.field === 'slug') return { file: options.folder || '.', field: '(folder)', detail: p.detail };
  return { file: inFolder(options, 'course.yaml'), field: p.field, detail: p.detail };
}

/** The well-named week files in number order, and whether they are numbered 01.. without gaps and nothing else. */
function listWeekFiles(files: CourseFiles, fail: (file: string, field: string, detail: string) => void): { files: string[]; ok: boolean } {
  const names = Object.keys(files).filter((k) => k.startsWith('weeks/')).map((k) => k.slice('weeks/'.length))
    .filter((n) => !n.startsWith('.')).sort();
  const numbers: number[] = [];
  let ok = true;
  for (const name of names) {
    const m = WEEK_FILE_PATTERN.exec(name);
    if (!m) {
      fail('weeks', '(files)', `unexpected "${name}": week files are named NN.md (01.md, 02.md, …)`);
      ok = false;
      continue;
    }
    numbers.push(Number(m[1]));
  }
  const last = numbers.length ? Math.max(...numbers) : 0;
  const missing: string[] = [];
  for (let n = 1; n <= last; n++) if (!numbers.includes(n)) missing.push(`${pad(n)}.md`);
  if (numbers.includes(0)) {
    fail('weeks', '(files)', 'week numbering starts at 01.md, not 00.md');
    ok = false;
  }
  if (missing.length > 0) {
    fail('weeks', '(files)', `week files must be numbered 01..${pad(last)} without gaps; missing ${missing.join(', ')}`);
    ok = false;
  }
  if (numbers.length === 0) {
    fail('weeks', '(files)', 'no week files: add 01.md, 02.md, …');
    ok = false;
  }
  return { files: numbers.sort((a, b) => a - b).map((n) => `weeks/${pad(n)}.md`), ok };
}

/** A week file as a week of the document; an unreadable one is `{}` (its problem is reported, the rest are not). */
function readWeekFile(file: string, text: unknown, fail: (file: string, field: string, detail: string) => void): Obj {
  const source = String(text).replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  if (!/^---[ \t]*\n/.test(source) || !/\n---[ \t]*(\n|$)/.test(source)) {
    fail(file, '(front matter)', 'missing: a week file starts with YAML front matter between two --- lines');
    return {};
  }
  // Split as gray-matter did before: the front matter runs to the first line starting "---"; the body starts on
  // the line after it. The YAML keeps the opening line's break, so its line numbers are the file's.
  const rest = source.slice(3);
  const close = rest.indexOf('\n---');
  const yamlText = rest.slice(0, close);
  let body = rest.slice(close + 4);
  if (body.startsWith('\n')) body = body.slice(1);
  // The file's last line break is the file's, not the text's (courseDocumentToFiles puts it back).
  if (body.endsWith('\n')) body = body.slice(0, -1);

  let data: unknown = {};
  if (yamlText.replace(/^\s*#[^\n]+/gm, '').trim() !== '') {
    const parsed = parseYaml(yamlText);
    if (!parsed.ok) {
      fail(file, '(yaml)', parsed.detail);
      return {};
    }
    data = parsed.value;
  }
  if (!isObj(data)) {
    fail(file, '(front matter)', `must be a YAML mapping of week fields (got ${describe(data)})`);
    return {};
  }
  const week: Obj = {};
  for (const [key, value] of Object.entries(data)) {
    if (key === 'markdown') {
      fail(file, 'markdown', `unknown key: a week's Markdown text goes below the front matter; expected one of: ${FRONT_MATTER_KEYS.join(', ')}`);
      continue;
    }
    week[key] = value;
  }
  week.markdown = body;
  return week;
}

/** YAML 1.2 text as plain data (the yaml package: "18:00" stays a string, no surprise dates), or why it is not. */
function parseYaml(text: string): { ok: true; value: unknown } | { ok: false; detail: string } {
  try {
    const doc = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
    if (doc.errors.length > 0) return { ok: false, detail: describeYamlError(doc.errors[0]) };
    return { ok: true, value: doc.toJS() ?? {} };
  } catch (err) {
    // toJS refuses documents that expand aliases without bound ("billion laughs").
    return { ok: false, detail: `invalid YAML: ${err instanceof Error ? err.message : String(err)}` };
  }
}

function describeYamlError(err: YAML.YAMLError): string {
  const first = err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
  const pos = err.linePos?.[0];
  return pos ? `invalid YAML at line ${pos.line}, column ${pos.col}: ${first}` : `invalid YAML: ${first}`;
}

/** o with the keys in `order` first, in that order, then any others as they were. */
function ordered(o: Obj, order: string[]): Obj {
  const out: Obj = {};
  for (const key of order) if (Object.hasOwn(o, key)) out[key] = o[key];
  for (const [key, value] of Object.entries(o)) if (!Object.hasOwn(out, key)) out[key] = value;
  return out;
}

function emitYaml(value: Obj): string {
  const doc = new YAML.Document(value, { aliasDuplicateObjects: false });
  YAML.visit(doc, {
    Pair(_, pair) {
      // Short mappings and lists read better on one line, as the bundled files write them.
      const key = YAML.isScalar(pair.key) ? pair.key.value : undefined;
      if ((key === 'price' && YAML.isMap(pair.value)) || (key === 'types' && YAML.isSeq(pair.value))) pair.value.flow = true;
    },
    Scalar(_, node) {
      // "18:00" is a string in YAML 1.2 but a number to YAML 1.1 readers: quoting it is clear to both.
      if (typeof node.value === 'string' && /^\d{1,2}:\d{2}$/.test(node.value)) node.type = 'QUOTE_DOUBLE';
    },
  });
  return doc.toString({ blockQuote: 'literal' });
}
