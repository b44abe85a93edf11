// The course editor's forms: each part of a course (details, a week, the live sessions) as form fields named by their
// path in the course document (`assignment.prompts[1].label`), read back into the document, and the validator's
// problems shown beside the field they name. Pure functions: the pages (pages.ts) do the requests.
import { renderMarkdown } from '../../server/markdown.js';
import type { CourseDocument, DocumentProblem, PromptDocument, ReadingDocument, SessionSlotDocument, WeekDocument, WeekdayName } from './course-document.js';
import { CURRENCIES, UPLOAD_TYPES } from './model.js';

/** A form body as @fastify/formbody gives it: repeated names (checkboxes) as arrays. */
export type FormBody = Record<string, string | string[] | undefined>;

/** How many empty rows a repeating group (readings, prompts, options, sessions) offers for adding more. */
export const SPARE_ROWS = 2;
export const WEEKDAY_NAMES: { value: WeekdayName; label: string }[] = [
  { value: 'mon', label: 'Monday' }, { value: 'tue', label: 'Tuesday' }, { value: 'wed', label: 'Wednesday' },
  { value: 'thu', label: 'Thursday' }, { value: 'fri', label: 'Friday' }, { value: 'sat', label: 'Saturday' }, { value: 'sun', label: 'Sunday' },
];

/** One form field: its name (the document path within the part), a unique id, its value and the problem with it. */
export interface Field { name: string; id: string; value: string; error: string | null; describedBy: string | null }

/** The problems of one part, by field path relative to the part, and the ones no field shows (listed at the top). */
export class PartErrors {
  readonly byField = new Map<string, string>();
  readonly list: { field: string; detail: string; href: string }[] = [];

  constructor(problems: DocumentProblem[], prefix: string) {
    for (const p of problems) {
      const rel = prefix ? p.field.slice(prefix.length).replace(/^\./, '') : p.field;
      if (!this.byField.has(rel)) this.byField.set(rel, p.detail);
      this.list.push({ field: rel || p.field, detail: p.detail, href: `#${fieldId(rel)}` });
    }
  }

  /** The field's problem (a group's or a row's, e.g. `readings` or `readings[1]`, shows on its fieldset). */
  take(name: string): string | null {
    const own = this.byField.get(name);
    return own ?? null;
  }

  get count(): number {
    return this.list.length;
  }
}

export function fieldId(name: string): string {
  return `f-${name.replace(/[^A-Za-z0-9]+/g, '-').replace(/-$/, '') || 'form'}`;
}

export function field(name: string, value: unknown, errors: PartErrors): Field {
  const error = errors.take(name);
  const id = fieldId(name);
  return { name, id, value: value === undefined || value === null ? '' : String(value), error, describedBy: error ? `${id}-error` : null };
}

// ---- reading a form ----

function one(body: FormBody, name: string): string {
  const v = body[name];
  return (Array.isArray(v) ? v[0] ?? '' : v ?? '').toString();
}
function many(body: FormBody, name: string): string[] {
  const v = body[name];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}
/** Text as typed, line breaks as the author sees them (browsers send CRLF). */
function text(body: FormBody, name: string): string {
  return one(body, name).replace(/\r\n?/g, '\n');
}
function trimmed(body: FormBody, name: string): string {
  return text(body, name).trim();
}
/** Optional text: blank is "not given". */
function optional(body: FormBody, name: string): string | null {
  return trimmed(body, name) || null;
}
/** A number field: blank is "not given"; anything that is not a number stays text, so the validator names it. */
function numberOr(body: FormBody, name: string): number | string | undefined {
  return asNumberOrText(trimmed(body, name));
}

/** The rows of a repeating group (`readings[0].title` …), in index order; rows left wholly empty are dropped. */
function rows(body: FormBody, group: string, keys: string[]): Record<string, string>[] {
  const indices = new Set<number>();
  const pattern = new RegExp(`^${group.replace(/[.[\]]/g, '\\$&')}\\[(\\d{1,3})\\]\\.`);
  for (const name of Object.keys(body)) {
    const m = pattern.exec(name);
    if (m) indices.add(Number(m[1]));
  }
  return [...indices]
    .sort((a, b) => a - b)
    .map((i) => Object.fromEntries(keys.map((k) => [k, trimmed(body, `${group}[${i}].${k}`)])))
    .filter((row) => Object.values(row).some((v) => v !== ''));
}

/** Typed text as a number when it is one; blank is "not given"; anything else stays text for the validator to name. */
function asNumberOrText(v: string): number | string | undefined {
  if (!v) return undefined;
  return /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
}

/** The course's details from the details form. Price and certificate rules are read only from an admin's form. */
export function readDetails(doc: CourseDocument, body: FormBody, isAdmin: boolean): CourseDocument {
  const next: CourseDocument = {
    ...doc,
    title: trimmed(body, 'title'),
    summary: trimmed(body, 'summary'),
    description: text(body, 'description'),
    audience: optional(body, 'audience'),
    outcomes: text(body, 'outcomes').split('\n').map((l) => l.replace(/^\s*[-*]\s+/, '').trim()).filter(Boolean),
    hoursPerWeek: numberOr(body, 'hoursPerWeek') as number,
    releaseTime: optional(body, 'releaseTime'),
    review: (trimmed(body, 'review') || 'instructor') as CourseDocument['review'],
    instructorSupportWeeks: (numberOr(body, 'instructorSupportWeeks') ?? null) as number | null,
  };
  if (isAdmin) {
    const amount = trimmed(body, 'price.amount');
    const currency = trimmed(body, 'price.currency') as CourseDocument['price']['currency'];
    // The price is typed in major units (195.00); the document keeps minor units (19500). Not a price: left as typed,
    // so the validator names the field.
    const minor = /^\d{1,7}(\.\d{1,2})?$/.test(amount) ? Math.round(Number(amount) * 100) : (amount as unknown as number);
    next.price = { amountMinor: minor, currency };
    const kind = trimmed(body, 'certificate');
    if (kind === '') next.certificate = doc.certificate; // no choice sent: leave the rules as they are
    else if (kind === 'none') next.certificate = false;
    else if (kind === 'default') next.certificate = true;
    else {
      const assignments = trimmed(body, 'certificate.assignments');
      next.certificate = {
        assignments: (assignments === 'all' || assignments === '' ? 'all' : asNumberOrText(assignments)) as 'all' | number,
        sessions: numberOr(body, 'certificate.sessions') as number,
        posts: numberOr(body, 'certificate.posts') as number,
        hours: numberOr(body, 'certificate.hours') as number,
      };
      for (const k of ['sessions', 'posts', 'hours'] as const) if (next.certificate[k] === undefined) delete next.certificate[k];
    }
  }
  return next;
}

/** One week from the week form. */
export function readWeek(body: FormBody): WeekDocument {
  const week: WeekDocument = { title: trimmed(body, 'title'), summary: trimmed(body, 'summary'), markdown: text(body, 'markdown') };
  const readings: ReadingDocument[] = rows(body, 'readings', ['title', 'url', 'note']).map((r) => ({ title: r.title, url: r.url || null, note: r.note || null }));
  if (readings.length) week.readings = readings;
  if (one(body, 'assignment') === 'yes') {
    const prompts: PromptDocument[] = rows(body, 'assignment.prompts', ['id', 'label', 'help', 'maxLength']).map((r) => {
      const p: PromptDocument = { id: r.id, label: r.label, help: r.help || null };
      const max = asNumberOrText(r.maxLength);
      if (max !== undefined) p.maxLength = max as number;
      return p;
    });
    const options = rows(body, 'assignment.options', ['id', 'label', 'description']).map((r) => ({ id: r.id, label: r.label, description: r.description || null }));
    const maxMb = numberOr(body, 'assignment.upload.maxMb');
    const types = many(body, 'assignment.upload.types');
    week.assignment = {
      title: trimmed(body, 'assignment.title'),
      instructions: text(body, 'assignment.instructions'),
      prompts: prompts.length ? prompts : null,
      choose: (numberOr(body, 'assignment.choose') ?? null) as number | null,
      options: options.length ? options : null,
      upload: maxMb === undefined ? null : { maxMb: maxMb as number, ...(types.length ? { types } : {}) },
    };
  }
  const discussion = text(body, 'discussion.prompt');
  if (discussion.trim()) week.discussion = { prompt: discussion };
  return week;
}

/** The live-session slots from the sessions form. */
export function readSessions(body: FormBody): SessionSlotDocument[] {
  return rows(body, 'sessions', ['week', 'weekday', 'time', 'durationMinutes', 'title']).map((r) => ({
    week: asNumberOrText(r.week) as number,
    weekday: r.weekday as WeekdayName,
    time: r.time,
    durationMinutes: asNumberOrText(r.durationMinutes) as number,
    title: r.title,
  }));
}

/** A new, empty week at the end (its fields are filled in on its own page). */
export function addWeek(doc: CourseDocument): CourseDocument {
  return { ...doc, weeks: [...doc.weeks, { title: `Week ${doc.weeks.length + 1}`, summary: '', markdown: '' }] };
}

/** Remove week `n` (1-based); its live sessions go with it and later weeks' sessions move up a week. */
export function removeWeek(doc: CourseDocument, n: number): CourseDocument {
  const sessions = (doc.sessions ?? [])
    .filter((s) => s.week !== n)
    .map((s) => (typeof s.week === 'number' && s.week > n ? { ...s, week: s.week - 1 } : s));
  return { ...doc, weeks: doc.weeks.filter((_, i) => i !== n - 1), sessions };
}

/** Move week `n` (1-based) one place up or down, its sessions with it. */
export function moveWeek(doc: CourseDocument, n: number, by: -1 | 1): CourseDocument {
  const m = n + by;
  if (m < 1 || m > doc.weeks.length) return doc;
  const weeks = [...doc.weeks];
  [weeks[n - 1], weeks[m - 1]] = [weeks[m - 1], weeks[n - 1]];
  const sessions = (doc.sessions ?? []).map((s) => (s.week === n ? { ...s, week: m } : s.week === m ? { ...s, week: n } : s));
  return { ...doc, weeks, sessions };
}

// ---- the forms' view models ----

/** A Markdown preview of what the author typed, sanitised as the learners' pages are. */
function preview(markdown: string | undefined | null, on: boolean): string | null {
  return on && markdown && markdown.trim() ? renderMarkdown(markdown) : null;
}

export function detailsForm(doc: CourseDocument, errors: PartErrors, showPreview: boolean) {
  const cert = doc.certificate;
  const rules = cert && typeof cert === 'object' ? cert : null;
  const amount = typeof doc.price?.amountMinor === 'number' ? (doc.price.amountMinor / 100).toFixed(2) : String(doc.price?.amountMinor ?? '');
  return {
    title: field('title', doc.title, errors),
    summary: field('summary', doc.summary, errors),
    description: field('description', doc.description, errors),
    descriptionPreview: preview(doc.description, showPreview),
    audience: field('audience', doc.audience, errors),
    outcomes: field('outcomes', (doc.outcomes ?? []).join('\n'), errors),
    hoursPerWeek: field('hoursPerWeek', doc.hoursPerWeek || '', errors),
    releaseTime: field('releaseTime', doc.releaseTime, errors),
    review: field('review', doc.review ?? 'instructor', errors),
    reviewNone: doc.review === 'none',
    instructorSupportWeeks: field('instructorSupportWeeks', doc.instructorSupportWeeks, errors),
    price: { ...field('price.amount', amount, errors), error: errors.take('price.amountMinor') ?? errors.take('price') ?? errors.take('price.amount') },
    currency: field('price.currency', doc.price?.currency, errors),
    currencies: CURRENCIES.map((c) => ({ value: c, selected: c === doc.price?.currency })),
    certificateKind: cert === true ? 'default' : rules ? 'custom' : 'none',
    certificateNone: !cert,
    certificateDefault: cert === true,
    certificateCustom: !!rules,
    certificateError: errors.take('certificate'),
    certificate: {
      assignments: field('certificate.assignments', rules?.assignments ?? 'all', errors),
      sessions: field('certificate.sessions', rules?.sessions, errors),
      posts: field('certificate.posts', rules?.posts, errors),
      hours: field('certificate.hours', rules?.hours, errors),
    },
    priceText: typeof doc.price?.amountMinor === 'number' ? `${(doc.price.amountMinor / 100).toFixed(2)} ${doc.price.currency}` : '',
    certificateText: !cert ? 'No certificate' : cert === true ? 'A certificate on the usual rules' : `A certificate: assignments ${rules!.assignments ?? 'all'}, sessions ${rules!.sessions ?? 0}, posts ${rules!.posts ?? 0}, ${rules!.hours ?? '—'} hours`,
  };
}

function withSpare<T>(list: T[] | null | undefined, empty: T): T[] {
  return [...(list ?? []), ...Array.from({ length: SPARE_ROWS }, () => empty)];
}

export function weekForm(week: WeekDocument, errors: PartErrors, showPreview: boolean) {
  const a = week.assignment ?? null;
  const upload = a?.upload && typeof a.upload === 'object' ? a.upload : null;
  const types = new Set(upload?.types ?? []);
  return {
    title: field('title', week.title, errors),
    summary: field('summary', week.summary, errors),
    markdown: field('markdown', week.markdown, errors),
    markdownPreview: preview(week.markdown, showPreview),
    readingsError: errors.take('readings'),
    readings: withSpare(week.readings, { title: '' } as ReadingDocument).map((r, i) => ({
      number: i + 1,
      rowId: fieldId(`readings[${i}]`),
      error: errors.take(`readings[${i}]`),
      title: field(`readings[${i}].title`, r.title, errors),
      url: field(`readings[${i}].url`, r.url, errors),
      note: field(`readings[${i}].note`, r.note, errors),
    })),
    hasAssignment: !!a,
    assignmentError: errors.take('assignment'),
    assignment: {
      title: field('assignment.title', a?.title, errors),
      instructions: field('assignment.instructions', a?.instructions, errors),
      instructionsPreview: preview(a?.instructions, showPreview),
      promptsError: errors.take('assignment.prompts'),
      prompts: withSpare(a?.prompts, { id: '', label: '' } as PromptDocument).map((p, i) => ({
        number: i + 1,
        rowId: fieldId(`assignment.prompts[${i}]`),
        error: errors.take(`assignment.prompts[${i}]`),
        id: field(`assignment.prompts[${i}].id`, p.id, errors),
        label: field(`assignment.prompts[${i}].label`, p.label, errors),
        help: field(`assignment.prompts[${i}].help`, p.help, errors),
        maxLength: field(`assignment.prompts[${i}].maxLength`, p.maxLength, errors),
      })),
      choose: field('assignment.choose', a?.choose, errors),
      optionsError: errors.take('assignment.options'),
      options: withSpare(a?.options, { id: '', label: '' }).map((o, i) => ({
        number: i + 1,
        rowId: fieldId(`assignment.options[${i}]`),
        error: errors.take(`assignment.options[${i}]`),
        id: field(`assignment.options[${i}].id`, o.id, errors),
        label: field(`assignment.options[${i}].label`, o.label, errors),
        description: field(`assignment.options[${i}].description`, o.description, errors),
      })),
      uploadError: errors.take('assignment.upload'),
      maxMb: field('assignment.upload.maxMb', upload?.maxMb, errors),
      typesError: errors.take('assignment.upload.types'),
      types: UPLOAD_TYPES.map((t) => ({ value: t, id: `f-upload-type-${t}`, checked: types.has(t) })),
    },
    discussion: field('discussion.prompt', week.discussion?.prompt, errors),
    discussionPreview: preview(week.discussion?.prompt, showPreview),
  };
}

export function sessionsForm(doc: CourseDocument, errors: PartErrors) {
  return {
    sessionsError: errors.take('sessions'),
    rows: withSpare(doc.sessions, { title: '' } as SessionSlotDocument).map((s, i) => ({
      number: i + 1,
      rowId: fieldId(`sessions[${i}]`),
      error: errors.take(`sessions[${i}]`),
      week: field(`sessions[${i}].week`, s.week, errors),
      weekday: field(`sessions[${i}].weekday`, s.weekday, errors),
      weekdays: WEEKDAY_NAMES.map((d) => ({ ...d, selected: d.value === s.weekday })),
      time: field(`sessions[${i}].time`, s.time, errors),
      durationMinutes: field(`sessions[${i}].durationMinutes`, s.durationMinutes, errors),
      title: field(`sessions[${i}].title`, s.title, errors),
    })),
  };
}

/** Which part of the editor a problem's field belongs to, and the link to it. */
export function partOf(field: string, base: string): { label: string; href: string } {
  const week = /^weeks\[(\d+)\]/.exec(field);
  if (week) return { label: `Week ${Number(week[1]) + 1}`, href: `${base}/weeks/${Number(week[1]) + 1}` };
  if (field.startsWith('sessions')) return { label: 'Live sessions', href: `${base}/sessions` };
  if (field === 'weeks') return { label: 'Weeks', href: `${base}#weeks-h` };
  return { label: 'Details', href: `${base}#details-h` };
}
