// A course as one plain JSON document (the content files' information, the API's draft body) and its one validator.
import { renderMarkdown } from '../../server/markdown.js';
import {
  CURRENCIES, DEFAULT_PROMPT_MAX_LENGTH, ID_PATTERN, MAX_WEEKS, SLUG_PATTERN, UPLOAD_TYPES,
  type Assignment, type AssignmentOption, type CertificateRules, type Course, type Currency, type Money, type Prompt,
  type Reading, type SessionSlot, type UploadRule, type Week, type Weekday,
} from './model.js';

// The document holds what an author wrote, not what the app derives from it: Markdown as source (description,
// instructions, discussion prompts, a week's text), weekdays as `mon`…`sun`, uploads in MiB, defaults left out.
// content/README.md describes every field; the optional ones may also be null, as YAML lets authors write them.

export type WeekdayName = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
export interface ReadingDocument { title: string; url?: string | null; note?: string | null }
export interface PromptDocument { id: string; label: string; help?: string | null; maxLength?: number }
export interface OptionDocument { id: string; label: string; description?: string | null }
export interface UploadDocument { maxMb: number; types?: string[] }
export interface AssignmentDocument {
  title: string;
  /** Markdown. */
  instructions: string;
  prompts?: PromptDocument[] | null;
  choose?: number | null;
  options?: OptionDocument[] | null;
  upload?: UploadDocument | false | null;
}
export interface WeekDocument {
  title: string;
  summary: string;
  /** The week's module text in Markdown: in a week file, everything below the front matter (see course-files.ts). */
  markdown: string;
  readings?: ReadingDocument[] | null;
  assignment?: AssignmentDocument | null;
  /** `prompt` is Markdown. */
  discussion?: { prompt: string } | null;
}
export interface SessionSlotDocument { week: number; weekday: WeekdayName; time: string; durationMinutes: number; title: string }
export interface CertificateRulesDocument { assignments?: 'all' | number; sessions?: number; posts?: number; hours?: number }
/** The whole course: course.yaml's fields, except that `weeks` is the list of weeks rather than their number. */
export interface CourseDocument {
  title: string;
  summary: string;
  /** Markdown. */
  description: string;
  audience?: string | null;
  outcomes?: string[] | null;
  weeks: WeekDocument[];
  hoursPerWeek: number;
  price: { amountMinor: number; currency: Currency };
  releaseTime?: string | null;
  review?: 'instructor' | 'none';
  instructorSupportWeeks?: number | null;
  sessions?: SessionSlotDocument[] | null;
  certificate?: boolean | CertificateRulesDocument | null;
}

/** One thing wrong with a document: the field as a path into it (`weeks[2].assignment.prompts[1].id`, 0-based) and what is wrong. */
export interface DocumentProblem { field: string; detail: string }
export type CourseValidation =
  | { ok: true; course: Course; document: CourseDocument }
  | { ok: false; problems: DocumentProblem[] };

/** The keys of a course, in the order course.yaml lists them. */
export const COURSE_KEYS = [
  'title', 'summary', 'description', 'audience', 'outcomes', 'weeks', 'hoursPerWeek', 'price', 'releaseTime',
  'review', 'instructorSupportWeeks', 'sessions', 'certificate',
];
/** The keys of a week in a document; a week file holds the same ones except `markdown`, which is its body. */
export const WEEK_KEYS = ['title', 'summary', 'markdown', 'readings', 'assignment', 'discussion'];

// One wording for both forms: a week file has no `markdown` key, its body is the week's markdown.
const WEEK_KEYS_EXPECTED = 'title, summary, readings, assignment, discussion (and markdown: the week\'s text, a week file\'s body)';
const TIME_PATTERN = /^([01]\d|2[0-3]):[0-5]\d$/;
const WEEKDAYS: Record<WeekdayName, Weekday> = { mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6, sun: 7 };
const MB = 1024 * 1024;

/**
 * Checks a course document against every content rule and builds the Course from it (Markdown rendered and
 * sanitised). Lists every problem, course fields first and then week by week; never throws, whatever `doc` is.
 */
export function validateCourseDocument(slug: string, doc: unknown): CourseValidation {
  const problems: DocumentProblem[] = [];
  const c = new Checker(problems);
  if (typeof slug !== 'string' || !SLUG_PATTERN.test(slug)) c.fail('slug', `must match ${SLUG_PATTERN.source} (got ${describe(slug)})`);
  const d = c.object(doc, '(course)', 'must be a mapping of course fields');
  if (!d) return { ok: false, problems };
  c.noUnknownKeys(d, '', COURSE_KEYS);

  // The weeks are checked first because the certificate's bounds depend on them; their problems are listed last.
  const weekProblems: DocumentProblem[] = [];
  const weeks = readWeeks(d, c, new Checker(weekProblems));
  const course = readCourse(slug, d, c, weeks);
  problems.push(...weekProblems);
  return problems.length === 0 ? { ok: true, course, document: doc as CourseDocument } : { ok: false, problems };
}

interface WeeksRead { weeks: Week[]; count: number; sound: boolean }

function readWeeks(d: Obj, c: Checker, wc: Checker): WeeksRead {
  if (d.weeks === undefined || d.weeks === null) {
    c.fail('weeks', 'is required');
    return { weeks: [], count: 0, sound: false };
  }
  if (!Array.isArray(d.weeks)) {
    c.fail('weeks', `must be a list of weeks (got ${describe(d.weeks)})`);
    return { weeks: [], count: 0, sound: false };
  }
  const list: unknown[] = d.weeks;
  const countOk = list.length >= 1 && list.length <= MAX_WEEKS;
  if (!countOk) c.fail('weeks', `must hold from 1 to ${MAX_WEEKS} weeks (got ${list.length})`);
  const weeks: Week[] = [];
  for (let i = 0; i < list.length; i++) weeks.push(readWeek(i + 1, list[i], wc.within(`weeks[${i}]`)));
  return { weeks, count: countOk ? list.length : 0, sound: countOk && wc.problemCount() === 0 };
}

function readCourse(slug: string, doc: Obj, c: Checker, read: WeeksRead): Course {
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
  const sessions = readSessions(doc, c, read.count);
  const sessionsOk = c.problemCount() === beforeSessions;
  // Bounds that depend on other parts are only checked when those parts are sound, to avoid knock-on errors.
  const certificate = readCertificate(doc, c, {
    weeksWithAssignment: read.sound ? read.weeks.filter((w) => w.assignment !== null).length : null,
    sessionCount: sessionsOk ? sessions.length : null,
    hours: (hoursPerWeek ?? 0) * read.count,
  });

  return {
    slug,
    title: title ?? '',
    summary: summary ?? '',
    descriptionHtml: renderMarkdown(description ?? ''),
    audience,
    outcomes,
    weekCount: read.count,
    weeks: read.weeks,
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
    const day = c.oneOf(s, 'weekday', Object.keys(WEEKDAYS) as WeekdayName[], field);
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
// One week

function readWeek(number: number, v: unknown, c: Checker): Week {
  const week: Week = {
    number, title: '', summary: '', markdown: '', html: '', readings: [], assignment: null,
    discussionPromptMarkdown: null, discussionPromptHtml: null,
  };
  const fm = c.object(v, '', 'must be a mapping of week fields');
  if (!fm) return week;
  c.noUnknownKeys(fm, '', WEEK_KEYS, WEEK_KEYS_EXPECTED);

  week.title = c.string(fm, 'title') ?? '';
  week.summary = c.string(fm, 'summary') ?? '';
  week.markdown = c.markdown(fm, 'markdown');
  week.html = renderMarkdown(week.markdown);

  week.readings = c.list(fm, 'readings', (rv, field): Reading | undefined => {
    const r = c.object(rv, field, 'must be a mapping with title, and optionally url and note');
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
// Checks that record a problem at a field path and keep going, so one run reports every mistake.

type Obj = Record<string, unknown>;

/** A mapping (a JSON object, a YAML mapping): not null, a list or a date. */
export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** `base.key`, where either may be empty ('' is the thing itself). */
function join(base: string, key: string): string {
  return base && key ? `${base}.${key}` : base || key;
}

/** A value as a problem's detail shows it: `"text"`, `3`, `null`, `a list`, `a mapping`. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `"${v.length > 40 ? `${v.slice(0, 40)}…` : v}"`;
  if (typeof v === 'symbol' || typeof v === 'function') return typeof v;
  return String(v);
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
  /** Problems go to `problems`, each field prefixed with `prefix` (a week's checker records `weeks[2].title`). */
  constructor(private readonly problems: DocumentProblem[], private readonly prefix = '') {}

  within(prefix: string): Checker {
    return new Checker(this.problems, join(this.prefix, prefix));
  }

  problemCount(): number {
    return this.problems.length;
  }

  fail(field: string, detail: string): void {
    this.problems.push({ field: join(this.prefix, field), detail });
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

  /** Every key of o not in `allowed` is a problem, with the nearest allowed key as a hint; `expected` lists them. */
  noUnknownKeys(o: Obj, base: string, allowed: string[], expected = allowed.join(', ')): void {
    for (const key of Object.keys(o)) {
      if (allowed.includes(key)) continue;
      // Long keys are not misspellings of short ones; skipping them keeps a hostile document cheap to check.
      const near = key.length > 40 ? undefined
        : allowed.filter((k) => distance(k, key) <= 2).sort((x, y) => distance(x, key) - distance(y, key))[0];
      // An empty key still needs a field name to be shown at.
      this.fail(join(base, key === '' ? '""' : key), `unknown key${near ? ` (did you mean "${near}"?)` : ''}; expected one of: ${expected}`);
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

  /** A week's module text: required, not blank; line endings made \n, as a week file's are, then trimmed. */
  markdown(o: Obj, key: string): string {
    const v = o[key];
    if (typeof v !== 'string' || v.trim() === '') {
      const got = v === undefined || v === null ? '' : ` (got ${describe(v)})`;
      this.fail(key, `must be the week's module text in Markdown, not empty (in a week file: the text below the front matter)${got}`);
      return '';
    }
    return v.replace(/\r\n?/g, '\n').trim();
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

  /** An id matching ID_PATTERN, unique among `seen` (which maps id → index in `listName`). */
  id(o: Obj, key: string, field: string, seen: Map<string, number>, index: number, listName: string): string | undefined {
    const id = this.string(o, key, field);
    if (id === undefined) return undefined;
    if (!ID_PATTERN.test(id)) {
      this.fail(join(field, key), `must match ${ID_PATTERN.source} (got ${describe(id)})`);
      return undefined;
    }
    if (seen.has(id)) {
      this.fail(join(field, key), `duplicate id "${id}" (already used by ${listName}[${seen.get(id)}])`);
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
    for (let i = 0; i < v.length; i++) {
      const r = item(v[i], `${field}[${i}]`, i);
      if (r !== undefined) out.push(r);
    }
    return out;
  }
}
