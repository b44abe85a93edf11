// Course content: reads content/<slug>/{course.yaml,weeks/NN.md}, validates every field and renders the Markdown.
import fs from 'node:fs';
import path from 'node:path';
import matter from 'gray-matter';
import YAML from 'yaml';
import { renderMarkdown } from '../../server/markdown.js';

/** The currencies a price may be in (ISO 4217 codes, upper case); payments and bookings take the list from here. */
export const CURRENCIES = ['GBP', 'USD', 'EUR', 'CAD', 'AUD'] as const;
export type Currency = (typeof CURRENCIES)[number];
/** An amount in the currency's minor units (pence, cents), as ISO 4217 defines them. */
export interface Money { amountMinor: number; currency: Currency }
export interface Reading { title: string; url: string | null; note: string | null }
export interface Prompt { id: string; label: string; help: string | null; maxLength: number }
export interface AssignmentOption { id: string; label: string; description: string | null }
export interface UploadRule { maxBytes: number; types: string[] }
export interface Assignment {
  title: string;
  instructionsHtml: string;
  prompts: Prompt[];
  /** How many of `options` the learner picks; null exactly when the assignment has no options. */
  choose: number | null;
  options: AssignmentOption[];
  upload: UploadRule | null;
}
export interface Week {
  number: number;
  title: string;
  summary: string;
  markdown: string;
  html: string;
  readings: Reading[];
  assignment: Assignment | null;
  discussionPromptMarkdown: string | null;
  discussionPromptHtml: string | null;
}
/** ISO weekday: 1 = Monday … 7 = Sunday (luxon's `weekday`). */
export type Weekday = 1 | 2 | 3 | 4 | 5 | 6 | 7;
export interface SessionSlot { week: number; weekday: Weekday; time: string; durationMinutes: number; title: string }
export interface CertificateRules { assignments: 'all' | number; sessions: number; posts: number; hours: number }
export interface Course {
  slug: string;
  title: string;
  summary: string;
  descriptionHtml: string;
  audience: string | null;
  outcomes: string[];
  weekCount: number;
  weeks: Week[];
  hoursPerWeek: number;
  price: Money;
  releaseTime: string;
  review: 'instructor' | 'none';
  instructorSupportWeeks: number | null;
  sessions: SessionSlot[];
  certificate: CertificateRules | null;
}

/** One thing wrong with the content: the file (shown relative to the content folder's parent) and the field path. */
export interface ContentProblem { file: string; field: string; detail: string }

/**
 * Bad course content. `file`, `field` and `detail` describe the first problem found; `problems` holds every
 * problem, and the message lists them one per line as `file: field: detail`.
 */
export class ContentError extends Error {
  readonly detail: string;
  readonly problems: ContentProblem[];

  constructor(public file: string, public field: string, detail: string, problems?: ContentProblem[]) {
    const all = problems && problems.length > 0 ? problems : [{ file, field, detail }];
    super(all.map((p) => `${p.file}: ${p.field}: ${p.detail}`).join('\n'));
    this.name = 'ContentError';
    this.detail = detail;
    this.problems = all;
  }
}

export const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]*$/;
export const ID_PATTERN = /^[a-z][a-z0-9-]*$/;
/** File types an assignment may accept, as lower-case extensions without the dot. */
export const UPLOAD_TYPES = ['pdf', 'docx', 'pptx', 'xlsx', 'png', 'jpg', 'txt'] as const;
export const DEFAULT_PROMPT_MAX_LENGTH = 5000;
export const MAX_WEEKS = 12;

const TIME_PATTERN = /^([01]\d|2[0-3]):[0-5]\d$/;
const WEEK_FILE_PATTERN = /^(\d{2})\.md$/;
const WEEKDAYS: Record<string, Weekday> = { mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6, sun: 7 };
const MB = 1024 * 1024;

const COURSE_KEYS = [
  'title', 'summary', 'description', 'audience', 'outcomes', 'weeks', 'hoursPerWeek', 'price', 'releaseTime',
  'review', 'instructorSupportWeeks', 'sessions', 'certificate',
];
const WEEK_KEYS = ['title', 'summary', 'readings', 'assignment', 'discussion'];

/** Reads every course folder under dir, validates, renders Markdown; throws one ContentError listing every problem. */
export function loadCourses(dir: string): Map<string, Course> {
  const root = path.resolve(dir);
  const show = (p: string) => path.relative(path.dirname(root), p).split(path.sep).join('/') || '.';
  const problems: ContentProblem[] = [];
  const courses: Course[] = [];

  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(root, { withFileTypes: true });
  } catch (err) {
    throw new ContentError(show(root), '(folder)', `cannot read the content folder (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }

  // Files at the top (README.md) and hidden folders are not courses.
  const folders = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
  for (const slug of folders) {
    const courseDir = path.join(root, slug);
    if (!SLUG_PATTERN.test(slug)) {
      problems.push({ file: show(courseDir), field: '(folder)', detail: `course folder name must match ${SLUG_PATTERN.source}` });
      continue;
    }
    const course = loadCourse(slug, courseDir, show, problems);
    if (course) courses.push(course);
  }

  if (problems.length > 0) {
    // Stable sort by file: course.yaml before its weeks, and each file's problems in field order.
    problems.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
    const [first] = problems;
    throw new ContentError(first.file, first.field, first.detail, problems);
  }
  courses.sort((a, b) => a.title.localeCompare(b.title, 'en') || a.slug.localeCompare(b.slug, 'en'));
  return new Map(courses.map((c) => [c.slug, c]));
}

// ---------------------------------------------------------------------------------------------------------------
// One course folder

function loadCourse(slug: string, courseDir: string, show: (p: string) => string, problems: ContentProblem[]): Course | null {
  const before = problems.length;
  const yamlPath = path.join(courseDir, 'course.yaml');
  const c = new Checker(show(yamlPath), problems);

  let data: unknown;
  if (!fs.existsSync(yamlPath)) {
    c.fail('(file)', 'missing: every course folder needs a course.yaml');
  } else {
    data = parseYaml(fs.readFileSync(yamlPath, 'utf8'), c);
  }

  const weeksDir = path.join(courseDir, 'weeks');
  const weekFiles = listWeekFiles(weeksDir, show, problems);

  const doc = data === undefined ? undefined : c.object(data, '(file)', 'must be a YAML mapping of course fields');
  let course: Course | null = null;
  if (doc) {
    c.noUnknownKeys(doc, '', COURSE_KEYS);
    const weekCount = c.int(doc, 'weeks', { min: 1, max: MAX_WEEKS });
    if (weekCount !== undefined && weekFiles && weekFiles.length !== weekCount) {
      c.fail('weeks', `is ${weekCount} but ${show(weeksDir)} has ${weekFiles.length} week file${weekFiles.length === 1 ? '' : 's'}`);
    }
    const beforeWeeks = problems.length;
    const weeks = (weekFiles ?? []).map((file, i) => loadWeek(i + 1, file, show, problems));
    const weeksOk = weekFiles !== null && problems.length === beforeWeeks;
    course = readCourse(slug, doc, c, weekCount ?? 0, weeks, weeksOk);
  } else if (weekFiles) {
    // Still check the weeks, so one run reports everything.
    weekFiles.forEach((file, i) => loadWeek(i + 1, file, show, problems));
  }
  return problems.length === before ? course : null;
}

/** The week files in order, or null when the folder is missing or its files are misnamed or numbered with gaps. */
function listWeekFiles(weeksDir: string, show: (p: string) => string, problems: ContentProblem[]): string[] | null {
  const c = new Checker(show(weeksDir), problems);
  if (!fs.existsSync(weeksDir) || !fs.statSync(weeksDir).isDirectory()) {
    c.fail('(folder)', 'missing: a course needs a weeks/ folder holding 01.md, 02.md, …');
    return null;
  }
  const numbers: number[] = [];
  let ok = true;
  for (const name of fs.readdirSync(weeksDir).sort()) {
    if (name.startsWith('.')) continue;
    const m = WEEK_FILE_PATTERN.exec(name);
    if (!m) {
      c.fail('(files)', `unexpected "${name}": week files are named NN.md (01.md, 02.md, …)`);
      ok = false;
      continue;
    }
    numbers.push(Number(m[1]));
  }
  const missing: string[] = [];
  const last = numbers.length ? Math.max(...numbers) : 0;
  for (let n = 1; n <= last; n++) if (!numbers.includes(n)) missing.push(`${pad(n)}.md`);
  if (numbers.includes(0)) {
    c.fail('(files)', 'week numbering starts at 01.md, not 00.md');
    ok = false;
  }
  if (missing.length > 0) {
    c.fail('(files)', `week files must be numbered 01..${pad(last)} without gaps; missing ${missing.join(', ')}`);
    ok = false;
  }
  if (numbers.length === 0) {
    c.fail('(files)', 'no week files: add 01.md, 02.md, …');
    ok = false;
  }
  return ok ? numbers.sort((a, b) => a - b).map((n) => path.join(weeksDir, `${pad(n)}.md`)) : null;
}

function readCourse(slug: string, doc: Obj, c: Checker, weekCount: number, weeks: Week[], weeksOk: boolean): Course {
  const title = c.string(doc, 'title');
  const summary = c.string(doc, 'summary');
  const description = c.string(doc, 'description');
  const audience = c.optionalString(doc, 'audience');
  const outcomes = c.list(doc, 'outcomes', (v, field) => c.stringValue(v, field)) ?? [];
  const hoursPerWeek = c.number(doc, 'hoursPerWeek', { above: 0, max: 40 });

  let price: Money = { amountMinor: 0, currency: 'GBP' };
  const priceObj = c.requiredObject(doc, 'price');
  if (priceObj) {
    c.noUnknownKeys(priceObj, 'price', ['amountMinor', 'currency']);
    const amountMinor = c.int(priceObj, 'amountMinor', { min: 0 }, 'price');
    // Exact codes only: "gbp" is refused rather than guessed, like every other enumerated field.
    const currency = c.oneOf(priceObj, 'currency', CURRENCIES, 'price');
    price = { amountMinor: amountMinor ?? 0, currency: currency ?? 'GBP' };
  }

  const releaseTime = c.time(doc, 'releaseTime', '') ?? '00:00';
  const review = doc.review === undefined ? 'instructor' : c.oneOf(doc, 'review', ['instructor', 'none'] as const) ?? 'instructor';
  const instructorSupportWeeks = doc.instructorSupportWeeks === undefined || doc.instructorSupportWeeks === null
    ? null
    : c.int(doc, 'instructorSupportWeeks', { min: 0, max: 52 }) ?? null;

  const beforeSessions = c.problemCount();
  const sessions = readSessions(doc, c, weekCount);
  const sessionsOk = c.problemCount() === beforeSessions;
  // Bounds that depend on other parts are only checked when those parts are sound, to avoid knock-on errors.
  const certificate = readCertificate(doc, c, {
    weeksWithAssignment: weeksOk ? weeks.filter((w) => w.assignment !== null).length : null,
    sessionCount: sessionsOk ? sessions.length : null,
    hours: (hoursPerWeek ?? 0) * weekCount,
  });

  return {
    slug,
    title: title ?? '',
    summary: summary ?? '',
    descriptionHtml: renderMarkdown(description ?? ''),
    audience,
    outcomes,
    weekCount,
    weeks,
    hoursPerWeek: hoursPerWeek ?? 0,
    price,
    releaseTime,
    review,
    instructorSupportWeeks,
    sessions,
    certificate,
  };
}

function readSessions(doc: Obj, c: Checker, weekCount: number): SessionSlot[] {
  const seen = new Map<string, number>();
  const slots = c.list(doc, 'sessions', (v, field, i): SessionSlot | undefined => {
    const s = c.object(v, field, 'must be a mapping with week, weekday, time, durationMinutes, title');
    if (!s) return undefined;
    c.noUnknownKeys(s, field, ['week', 'weekday', 'time', 'durationMinutes', 'title']);
    const week = c.int(s, 'week', { min: 1, max: weekCount || MAX_WEEKS }, field);
    const day = c.oneOf(s, 'weekday', Object.keys(WEEKDAYS), field);
    const time = c.time(s, 'time', field, true);
    const durationMinutes = c.int(s, 'durationMinutes', { min: 15, max: 480 }, field);
    const title = c.string(s, 'title', field);
    if (week === undefined || !day || !time || durationMinutes === undefined || title === undefined) return undefined;
    const key = `${week}/${day}/${time}`;
    if (seen.has(key)) c.fail(field, `same week, weekday and time as sessions[${seen.get(key)}]`);
    else seen.set(key, i);
    return { week, weekday: WEEKDAYS[day], time, durationMinutes, title };
  });
  return slots ?? [];
}

function readCertificate(
  doc: Obj,
  c: Checker,
  course: { weeksWithAssignment: number | null; sessionCount: number | null; hours: number },
): CertificateRules | null {
  const v = doc.certificate;
  if (v === undefined || v === null || v === false) return null;
  const defaultSessions = Math.min(3, course.sessionCount ?? 0);
  if (v === true) return { assignments: 'all', sessions: defaultSessions, posts: 1, hours: course.hours };
  const cert = c.object(v, 'certificate', 'must be false, true, or a mapping of certificate rules');
  if (!cert) return null;
  c.noUnknownKeys(cert, 'certificate', ['assignments', 'sessions', 'posts', 'hours']);

  let assignments: 'all' | number = 'all';
  if (cert.assignments !== undefined && cert.assignments !== 'all') {
    const max = course.weeksWithAssignment ?? undefined;
    const n = c.int(cert, 'assignments', { min: 0, max }, 'certificate', max === undefined
      ? '"all" or a whole number of weeks'
      : `"all" or an integer from 0 to ${max} (the number of weeks with an assignment)`);
    if (n !== undefined) assignments = n;
  }
  const maxSessions = course.sessionCount ?? undefined;
  const sessions = cert.sessions === undefined
    ? defaultSessions
    : c.int(cert, 'sessions', { min: 0, max: maxSessions }, 'certificate', maxSessions === undefined
      ? undefined
      : `an integer from 0 to ${maxSessions} (the number of sessions in the course)`) ?? 0;
  const posts = cert.posts === undefined ? 1 : c.int(cert, 'posts', { min: 0, max: 1000 }, 'certificate') ?? 0;
  const hours = cert.hours === undefined ? course.hours : c.number(cert, 'hours', { above: 0, max: 1000 }, 'certificate') ?? 0;
  return { assignments, sessions, posts, hours };
}

// ---------------------------------------------------------------------------------------------------------------
// One week file

function loadWeek(number: number, file: string, show: (p: string) => string, problems: ContentProblem[]): Week {
  const c = new Checker(show(file), problems);
  const week: Week = {
    number, title: '', summary: '', markdown: '', html: '', readings: [], assignment: null,
    discussionPromptMarkdown: null, discussionPromptHtml: null,
  };

  const source = fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  if (!/^---[ \t]*\n/.test(source) || !/\n---[ \t]*(\n|$)/.test(source)) {
    c.fail('(front matter)', 'missing: a week file starts with YAML front matter between two --- lines');
    return week;
  }

  let body = '';
  let data: unknown;
  try {
    const parsed = matter(source, {
      engines: {
        // The yaml package (YAML 1.2) rather than gray-matter's js-yaml: "18:00" stays a string, no surprise dates.
        yaml: (text: string) => {
          const doc = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
          if (doc.errors.length > 0) throw doc.errors[0];
          return (doc.toJS() ?? {}) as object;
        },
      },
    });
    data = parsed.data;
    body = parsed.content;
  } catch (err) {
    if (err instanceof YAML.YAMLError) {
      // The text handed to the engine starts right after the opening "---", so its line numbers are the file's.
      c.fail('(yaml)', describeYamlError(err));
    } else {
      c.fail('(yaml)', `cannot read front matter: ${(err as Error).message}`);
    }
    return week;
  }

  const fm = c.object(data, '(front matter)', 'must be a YAML mapping of week fields');
  if (!fm) return week;
  c.noUnknownKeys(fm, '', WEEK_KEYS);

  week.title = c.string(fm, 'title') ?? '';
  week.summary = c.string(fm, 'summary') ?? '';
  week.markdown = body.trim();
  if (week.markdown === '') c.fail('(body)', 'the week needs its module text below the front matter');
  week.html = renderMarkdown(week.markdown);

  week.readings = c.list(fm, 'readings', (v, field): Reading | undefined => {
    const r = c.object(v, field, 'must be a mapping with title, and optionally url and note');
    if (!r) return undefined;
    c.noUnknownKeys(r, field, ['title', 'url', 'note']);
    return { title: c.string(r, 'title', field) ?? '', url: c.httpsUrl(r, 'url', field), note: c.optionalString(r, 'note', field) };
  }) ?? [];

  if (fm.assignment !== undefined && fm.assignment !== null) week.assignment = readAssignment(fm.assignment, c);

  if (fm.discussion !== undefined && fm.discussion !== null) {
    const d = c.object(fm.discussion, 'discussion', 'must be a mapping with a prompt');
    if (d) {
      c.noUnknownKeys(d, 'discussion', ['prompt']);
      const prompt = c.string(d, 'prompt', 'discussion');
      if (prompt !== undefined) {
        week.discussionPromptMarkdown = prompt;
        week.discussionPromptHtml = renderMarkdown(prompt);
      }
    }
  }
  return week;
}

function readAssignment(v: unknown, c: Checker): Assignment | null {
  const a = c.object(v, 'assignment', 'must be a mapping (title, instructions, prompts, …)');
  if (!a) return null;
  c.noUnknownKeys(a, 'assignment', ['title', 'instructions', 'prompts', 'choose', 'options', 'upload']);
  const title = c.string(a, 'title', 'assignment') ?? '';
  const instructions = c.string(a, 'instructions', 'assignment') ?? '';

  const promptIds = new Map<string, number>();
  const prompts = c.list(a, 'prompts', (pv, field, i): Prompt | undefined => {
    const p = c.object(pv, field, 'must be a mapping with id and label');
    if (!p) return undefined;
    c.noUnknownKeys(p, field, ['id', 'label', 'help', 'maxLength']);
    const id = c.id(p, 'id', field, promptIds, i, 'assignment.prompts');
    const label = c.string(p, 'label', field);
    const help = c.optionalString(p, 'help', field);
    const maxLength = p.maxLength === undefined ? DEFAULT_PROMPT_MAX_LENGTH : c.int(p, 'maxLength', { min: 1, max: 20000 }, field);
    if (id === undefined || label === undefined || maxLength === undefined) return undefined;
    return { id, label, help, maxLength };
  }, 'assignment') ?? [];

  const optionIds = new Map<string, number>();
  const options = c.list(a, 'options', (ov, field, i): AssignmentOption | undefined => {
    const o = c.object(ov, field, 'must be a mapping with id and label');
    if (!o) return undefined;
    c.noUnknownKeys(o, field, ['id', 'label', 'description']);
    const id = c.id(o, 'id', field, optionIds, i, 'assignment.options');
    const label = c.string(o, 'label', field);
    const description = c.optionalString(o, 'description', field);
    if (id === undefined || label === undefined) return undefined;
    return { id, label, description };
  }, 'assignment') ?? [];

  const promptsGiven = Array.isArray(a.prompts) && a.prompts.length > 0;
  const optionsGiven = Array.isArray(a.options) && a.options.length > 0;
  if (!promptsGiven && !optionsGiven) c.fail('assignment', 'needs at least one prompt or option');

  let choose: number | null = null;
  if (a.choose !== undefined && a.choose !== null) {
    if (!optionsGiven) c.fail('assignment.choose', 'needs options to choose from');
    else choose = c.int(a, 'choose', { min: 1, max: options.length }, 'assignment',
      `an integer from 1 to ${options.length} (the number of options)`) ?? null;
  } else if (optionsGiven) {
    choose = 1; // options without `choose`: the learner picks one
  }

  let upload: UploadRule | null = null;
  if (a.upload !== undefined && a.upload !== null && a.upload !== false) {
    const u = c.object(a.upload, 'assignment.upload', 'must be a mapping with maxMb and types');
    if (u) {
      c.noUnknownKeys(u, 'assignment.upload', ['maxMb', 'types']);
      const maxMb = c.number(u, 'maxMb', { min: 1, max: 25 }, 'assignment.upload');
      const seen = new Set<string>();
      const types = u.types === undefined
        ? [...UPLOAD_TYPES]
        : c.list(u, 'types', (tv, field) => {
          const t = typeof tv === 'string' ? tv.trim().toLowerCase().replace(/^\./, '') : tv;
          if (typeof t !== 'string' || !(UPLOAD_TYPES as readonly string[]).includes(t)) {
            c.fail(field, `must be one of ${UPLOAD_TYPES.join(', ')}`);
            return undefined;
          }
          if (seen.has(t)) c.fail(field, `"${t}" is listed twice`);
          seen.add(t);
          return t;
        }, 'assignment.upload', true);
      if (maxMb !== undefined && types) upload = { maxBytes: Math.round(maxMb * MB), types };
    }
  }

  return { title, instructionsHtml: renderMarkdown(instructions), prompts, choose, options, upload };
}

// ---------------------------------------------------------------------------------------------------------------
// Checks that record a problem (file + field path) and keep going, so one run reports every mistake.

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function join(base: string, key: string): string {
  return base ? `${base}.${key}` : key;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `"${v.length > 40 ? `${v.slice(0, 40)}…` : v}"`;
  return String(v);
}

function describeYamlError(err: YAML.YAMLError): string {
  const first = err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
  const pos = err.linePos?.[0];
  return pos ? `invalid YAML at line ${pos.line}, column ${pos.col}: ${first}` : `invalid YAML: ${first}`;
}

function parseYaml(text: string, c: Checker): unknown {
  const doc = YAML.parseDocument(text.replace(/^\uFEFF/, ''), { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    c.fail('(yaml)', describeYamlError(doc.errors[0]));
    return undefined;
  }
  return doc.toJS() ?? {};
}

/** Small Levenshtein distance, for "did you mean" on misspelt keys. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

class Checker {
  constructor(readonly file: string, private readonly problems: ContentProblem[]) {}

  problemCount(): number {
    return this.problems.length;
  }

  fail(field: string, detail: string): void {
    this.problems.push({ file: this.file, field, detail });
  }

  /** v as a mapping, or a problem at `field`. */
  object(v: unknown, field: string, detail: string): Obj | undefined {
    if (isObj(v)) return v;
    this.fail(field, `${detail} (got ${describe(v)})`);
    return undefined;
  }

  requiredObject(o: Obj, key: string, base = ''): Obj | undefined {
    const field = join(base, key);
    if (o[key] === undefined || o[key] === null) {
      this.fail(field, 'is required');
      return undefined;
    }
    return this.object(o[key], field, 'must be a mapping');
  }

  noUnknownKeys(o: Obj, base: string, allowed: string[]): void {
    for (const key of Object.keys(o)) {
      if (allowed.includes(key)) continue;
      const near = allowed.filter((k) => distance(k, key) <= 2).sort((x, y) => distance(x, key) - distance(y, key))[0];
      this.fail(join(base, key), `unknown key${near ? ` (did you mean "${near}"?)` : ''}; expected one of: ${allowed.join(', ')}`);
    }
  }

  stringValue(v: unknown, field: string): string | undefined {
    if (typeof v !== 'string' || v.trim() === '') {
      this.fail(field, `must be a non-empty string (got ${describe(v)})`);
      return undefined;
    }
    return v.trim();
  }

  string(o: Obj, key: string, base = ''): string | undefined {
    const field = join(base, key);
    if (o[key] === undefined || o[key] === null) {
      this.fail(field, 'is required');
      return undefined;
    }
    return this.stringValue(o[key], field);
  }

  optionalString(o: Obj, key: string, base = ''): string | null {
    if (o[key] === undefined || o[key] === null) return null;
    return this.stringValue(o[key], join(base, key)) ?? null;
  }

  int(o: Obj, key: string, range: { min?: number; max?: number }, base = '', expected?: string): number | undefined {
    const field = join(base, key);
    const v = o[key];
    if (v === undefined || v === null) {
      this.fail(field, 'is required');
      return undefined;
    }
    const inRange = typeof v === 'number' && Number.isInteger(v)
      && (range.min === undefined || v >= range.min) && (range.max === undefined || v <= range.max);
    if (!inRange) {
      const want = expected ?? (range.max === undefined ? `an integer of at least ${range.min ?? 0}` : `an integer from ${range.min ?? 0} to ${range.max}`);
      this.fail(field, `must be ${want} (got ${describe(v)})`);
      return undefined;
    }
    return v as number;
  }

  number(o: Obj, key: string, range: { above?: number; min?: number; max?: number }, base = ''): number | undefined {
    const field = join(base, key);
    const v = o[key];
    if (v === undefined || v === null) {
      this.fail(field, 'is required');
      return undefined;
    }
    const ok = typeof v === 'number' && Number.isFinite(v)
      && (range.above === undefined || v > range.above) && (range.min === undefined || v >= range.min)
      && (range.max === undefined || v <= range.max);
    if (!ok) {
      const low = range.above !== undefined ? `greater than ${range.above}` : `at least ${range.min}`;
      this.fail(field, `must be a number ${low}${range.max !== undefined ? ` and at most ${range.max}` : ''} (got ${describe(v)})`);
      return undefined;
    }
    return v as number;
  }

  oneOf<T extends string>(o: Obj, key: string, allowed: readonly T[], base = ''): T | undefined {
    const field = join(base, key);
    const v = o[key];
    if (v === undefined || v === null) {
      this.fail(field, 'is required');
      return undefined;
    }
    if (typeof v !== 'string' || !allowed.includes(v as T)) {
      this.fail(field, `must be ${allowed.length === 1 ? allowed[0] : `one of ${allowed.join(', ')}`} (got ${describe(v)})`);
      return undefined;
    }
    return v as T;
  }

  /** "HH:mm" (24-hour). Optional unless `required`. */
  time(o: Obj, key: string, base: string, required = false): string | undefined {
    const field = join(base, key);
    const v = o[key];
    if (v === undefined || v === null) {
      if (required) this.fail(field, 'is required');
      return undefined;
    }
    if (typeof v !== 'string' || !TIME_PATTERN.test(v)) {
      const hint = typeof v === 'number' ? '; quote it, e.g. "09:30"' : '';
      this.fail(field, `must be a 24-hour time "HH:mm" (got ${describe(v)})${hint}`);
      return undefined;
    }
    return v;
  }

  httpsUrl(o: Obj, key: string, base: string): string | null {
    const field = join(base, key);
    const v = o[key];
    if (v === undefined || v === null) return null;
    let url: URL | null = null;
    if (typeof v === 'string') {
      try {
        url = new URL(v.trim());
      } catch {
        url = null;
      }
    }
    if (!url || url.protocol !== 'https:') {
      this.fail(field, `must be an https:// URL (got ${describe(v)})`);
      return null;
    }
    return String(v).trim();
  }

  /** An id matching ID_PATTERN, unique among `seen` (which maps id → index). */
  id(o: Obj, key: string, field: string, seen: Map<string, number>, index: number, listField: string): string | undefined {
    const id = this.string(o, key, field);
    if (id === undefined) return undefined;
    if (!ID_PATTERN.test(id)) {
      this.fail(join(field, key), `must match ${ID_PATTERN.source} (got ${describe(id)})`);
      return undefined;
    }
    if (seen.has(id)) {
      this.fail(join(field, key), `duplicate id "${id}" (already used by ${listField}[${seen.get(id)}])`);
      return undefined;
    }
    seen.set(id, index);
    return id;
  }

  /** An optional list (absent → undefined, treated by callers as []), each item read by `item`. */
  list<T>(
    o: Obj, key: string, item: (v: unknown, field: string, index: number) => T | undefined, base = '', nonEmpty = false,
  ): T[] | undefined {
    const field = join(base, key);
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) {
      this.fail(field, `must be a list (got ${describe(v)})`);
      return undefined;
    }
    if (nonEmpty && v.length === 0) {
      this.fail(field, 'must not be empty');
      return undefined;
    }
    const out: T[] = [];
    v.forEach((x, i) => {
      const r = item(x, `${field}[${i}]`, i);
      if (r !== undefined) out.push(r);
    });
    return out;
  }
}
