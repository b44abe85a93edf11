// Reading assignment rows into what the use cases and pages work with: personal dates, submission documents, files.
import { and, asc, eq, inArray, isNull } from 'drizzle-orm';
import type { Db } from '../../server/db.js';
import { Forbidden, NotFound } from '../../server/errors.js';
import { users } from '../people/schema.js';
import type { User } from '../people/service.js';
import type { Cohort, CohortAccess } from '../cohorts/service.js';
import type { Assignment, Prompt } from '../courses/content.js';
import { extensions, reviews, submissionFiles, submissions, submissionVersions } from './schema.js';
import type { Deps, FileDoc, LabelledAnswer, PersonalDates, SubmissionDoc, SubmissionRow, VersionDoc, WeekStatus } from './types.js';

export type ExtensionRow = typeof extensions.$inferSelect;
export type FileRow = typeof submissionFiles.$inferSelect;

export const parseObject = (json: string): Record<string, string> => {
  try {
    const v = JSON.parse(json) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, string>) : {};
  } catch {
    return {};
  }
};
export const parseArray = (json: string): string[] => {
  try {
    const v = JSON.parse(json) as unknown;
    return Array.isArray(v) ? (v as string[]) : [];
  } catch {
    return [];
  }
};

/** Line breaks as \n (forms send \r\n, which would otherwise count twice against a length limit). */
export function normaliseText(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}

/** The week's assignment for this cohort, or 404. */
export function assignmentOf(cohort: Cohort, n: number): Assignment {
  const week = cohort.course.weeks[n - 1];
  if (!week) throw new NotFound(`Week ${n}`);
  if (!week.assignment) throw new NotFound(`An assignment for week ${n}`);
  return week.assignment;
}

/** Later grants win; the personal grace end is never before a personal due date or the cohort's grace end. */
export function personalFrom(cohort: Cohort, rows: ExtensionRow[]): PersonalDates {
  const due = new Map<number, Date>();
  let grace: Date | null = null;
  for (const r of rows) {
    if (r.week !== null && r.dueAt) due.set(r.week, r.dueAt);
    if (r.graceEndsAt) grace = r.graceEndsAt;
  }
  let graceEnd = cohort.timeline.graceEndsAt.getTime();
  if (grace) graceEnd = Math.max(graceEnd, grace.getTime());
  for (const d of due.values()) graceEnd = Math.max(graceEnd, d.getTime());
  const t = cohort.timeline;
  return {
    dueAt: (week: number) => {
      const w = t.weeks[week - 1];
      if (!w) throw new NotFound(`Week ${week}`);
      return due.get(week) ?? w.dueAt;
    },
    graceEndsAt: new Date(graceEnd),
    extendedWeeks: [...due.keys()].sort((a, b) => a - b),
    graceExtended: graceEnd !== t.graceEndsAt.getTime(),
  };
}

/** One learner's dates in a loaded cohort, read through `q` (the caller's transaction, or the read connection). */
export async function datesFor(q: Db, cohort: Cohort, userId: number): Promise<PersonalDates> {
  const rows = await q
    .select()
    .from(extensions)
    .where(and(eq(extensions.cohortId, cohort.id), eq(extensions.userId, userId)))
    .orderBy(asc(extensions.id));
  return personalFrom(cohort, rows);
}

/** Rows grouped by learner, in the order they came. */
export function byUser<R extends { userId: number }>(rows: R[]): Map<number, R[]> {
  const out = new Map<number, R[]>();
  for (const r of rows) {
    const list = out.get(r.userId);
    if (list) list.push(r);
    else out.set(r.userId, [r]);
  }
  return out;
}

/** Each assignment week of the course with the learner's status in it ('none' before any save). */
export function statusesFrom(cohort: Cohort, rows: Array<{ week: number; status: WeekStatus; late: boolean }>) {
  const byWeek = new Map(rows.map((r) => [r.week, r]));
  return cohort.course.weeks
    .filter((w) => w.assignment)
    .map((w) => {
      const r = byWeek.get(w.number);
      return { week: w.number, title: w.assignment!.title, status: (r?.status ?? 'none') as WeekStatus, late: r?.late ?? false };
    });
}

/** The prompts of a week's worksheet now ([] when the week or its assignment is gone), for reading old answers. */
export function currentPrompts(cohort: Cohort, n: number): Prompt[] {
  return cohort.course.weeks[n - 1]?.assignment?.prompts ?? [];
}

/** The label of each answered prompt, as it is kept beside the answers (JSON { promptId: label }). */
export function labelsOf(prompts: Prompt[], answers: Record<string, string>): Record<string, string> {
  const byId = new Map(prompts.map((p) => [p.id, p.label]));
  const out: Record<string, string> = {};
  for (const id of Object.keys(answers)) {
    const label = byId.get(id);
    if (label !== undefined) out[id] = label;
  }
  return out;
}

/** The label each answer answered: the one kept with it, else (rows from before labels were kept) the current prompt's, else its id. */
export function answeredLabels(prompts: Prompt[], answers: Record<string, string>, kept: Record<string, string>): Record<string, string> {
  const current = new Map(prompts.map((p) => [p.id, p.label]));
  const out: Record<string, string> = {};
  for (const id of Object.keys(answers)) out[id] = typeof kept[id] === 'string' && kept[id] ? kept[id] : (current.get(id) ?? id);
  return out;
}

/** How an answer to a prompt since removed from the worksheet is marked (pages, PDF, mail). */
export const EARLIER_PROMPT = 'from an earlier version of this worksheet';

/**
 * Answers in worksheet order: every current prompt (answered or not) under its current label, noting the label it
 * answered when the prompt was renamed since; then answers to prompts the worksheet no longer has, under the label
 * they answered and marked as from an earlier version. Nothing answered is left out.
 */
export function labelAnswers(prompts: Prompt[], answers: Record<string, string>, labels: Record<string, string>): LabelledAnswer[] {
  const out: LabelledAnswer[] = prompts.map((p) => {
    const text = answers[p.id] ?? '';
    const was = text ? labels[p.id] : undefined;
    const answeredAs = was && was !== p.label ? was : null;
    return { id: p.id, label: p.label, answeredAs, earlier: false, note: answeredAs ? `answered as: “${answeredAs}”` : null, text, empty: !text };
  });
  const asked = new Set(prompts.map((p) => p.id));
  for (const [id, text] of Object.entries(answers)) {
    if (asked.has(id) || typeof text !== 'string' || !text) continue;
    out.push({ id, label: labels[id] || id, answeredAs: null, earlier: true, note: EARLIER_PROMPT, text, empty: false });
  }
  return out;
}

/** The learner's row for a week, if any. */
export async function findRow(q: Db, cohortId: number, userId: number, n: number): Promise<SubmissionRow | undefined> {
  const [row] = await q
    .select()
    .from(submissions)
    .where(and(eq(submissions.cohortId, cohortId), eq(submissions.userId, userId), eq(submissions.week, n)))
    .limit(1);
  return row;
}

/** The learner's row for a week, created as a draft if missing (insert-or-ignore, so two instances cannot collide). */
export async function ensureRow(tx: Db, cohortId: number, userId: number, n: number, now: Date): Promise<SubmissionRow> {
  await tx.insert(submissions).values({ cohortId, userId, week: n, status: 'draft', createdAt: now, updatedAt: now }).onConflictDoNothing();
  return (await findRow(tx, cohortId, userId, n))!;
}

export function fileDoc(f: FileRow): FileDoc {
  return { id: f.id, name: f.originalName, type: f.type, size: f.size, sha256: f.sha256, uploadedAt: f.uploadedAt };
}

/**
 * Upload order. Attaching keeps `uploadedAt` strictly increasing within a submission (see uploads.ts), so the instant
 * orders the files on any engine; the id only breaks ties in rows from before that rule.
 */
const uploadOrder = [asc(submissionFiles.uploadedAt), asc(submissionFiles.id)];

/** The files attached to the working copy now, in upload order. */
export async function currentFiles(q: Db, submissionId: number): Promise<FileRow[]> {
  return q
    .select()
    .from(submissionFiles)
    .where(and(eq(submissionFiles.submissionId, submissionId), isNull(submissionFiles.removedAt)))
    .orderBy(...uploadOrder);
}

export async function learnerOf(q: Db, userId: number): Promise<{ id: number; email: string; name: string }> {
  const [u] = await q.select({ id: users.id, email: users.email, name: users.name }).from(users).where(eq(users.id, userId)).limit(1);
  if (!u) throw new NotFound('Learner');
  return u;
}

/** A submission with its versions, files and reviews; the working copy only for the learner. */
export async function buildDoc(q: Db, cohort: Cohort, row: SubmissionRow, forLearner: boolean): Promise<SubmissionDoc> {
  const versions = await q.select().from(submissionVersions).where(eq(submissionVersions.submissionId, row.id)).orderBy(asc(submissionVersions.version));
  const allFiles = await q.select().from(submissionFiles).where(eq(submissionFiles.submissionId, row.id)).orderBy(...uploadOrder);
  const fileById = new Map(allFiles.map((f) => [f.id, f]));
  const reviewRows = await q
    .select({ review: reviews, reviewer: users.name, reviewerEmail: users.email })
    .from(reviews)
    .leftJoin(users, eq(users.id, reviews.reviewerId))
    .where(eq(reviews.submissionId, row.id))
    .orderBy(asc(reviews.id));
  const dates = await datesFor(q, cohort, row.userId);
  const prompts = currentPrompts(cohort, row.week);
  const versionDocs: VersionDoc[] = versions.map((v) => {
    const answers = parseObject(v.answers);
    return {
      version: v.version,
      submittedAt: v.submittedAt,
      late: v.late,
      answers,
      promptLabels: answeredLabels(prompts, answers, parseObject(v.promptLabels)),
      options: parseArray(v.options),
      files: parseArray(v.fileIds)
        .map((id) => fileById.get(id))
        .filter((f): f is NonNullable<typeof f> => Boolean(f))
        .map(fileDoc),
      reviews: reviewRows
        .filter((r) => r.review.version === v.version)
        .map((r) => ({
          version: r.review.version,
          outcome: r.review.outcome,
          feedback: r.review.feedback,
          promptFeedback: parseObject(r.review.promptFeedback),
          reviewer: r.reviewer || r.reviewerEmail || null,
          at: r.review.createdAt,
        })),
    };
  });
  const latest = versionDocs.at(-1);
  const draftAnswers = parseObject(row.draftAnswers);
  const draft = forLearner
    ? { answers: draftAnswers, promptLabels: answeredLabels(prompts, draftAnswers, parseObject(row.draftPromptLabels)), options: parseArray(row.chosenOptions), savedAt: row.draftSavedAt }
    : null;
  const asked = new Set(prompts.map((p) => p.id));
  const earlierPrompts = [...new Set([...versionDocs.flatMap((v) => Object.keys(v.answers)), ...Object.keys(draft?.answers ?? {})])].filter((id) => !asked.has(id));
  return {
    id: row.id,
    cohortId: row.cohortId,
    week: row.week,
    learner: await learnerOf(q, row.userId),
    status: row.status,
    late: row.late,
    version: row.version,
    submittedAt: row.submittedAt,
    dueAt: dates.dueAt(row.week),
    closesAt: dates.graceEndsAt,
    answers: latest?.answers ?? {},
    promptLabels: latest?.promptLabels ?? {},
    earlierPrompts,
    options: latest?.options ?? [],
    files: allFiles.filter((f) => !f.removedAt).map(fileDoc),
    draft,
    versions: versionDocs,
  };
}

/** A submission by id with the caller's access: its instructors and admins, or the learner who owns it. */
export async function accessSubmission(d: Deps, user: User | null, submissionId: number): Promise<{ access: CohortAccess; row: SubmissionRow }> {
  const [row] = await d.database.db.select().from(submissions).where(eq(submissions.id, submissionId)).limit(1);
  if (!row) throw new NotFound('Submission');
  const access = await d.cohorts.access(user, row.cohortId);
  if (access.role === 'learner' && row.userId !== access.user.id) throw new Forbidden('This is another learner’s submission.');
  return { access, row };
}

/** The active learners of a cohort with name and email, by name. */
export async function cohortLearners(d: Deps, cohortId: number): Promise<Array<{ id: number; email: string; name: string }>> {
  const ids = (await d.cohorts.learners(cohortId)).map((l) => l.userId);
  if (ids.length === 0) return [];
  const rows = await d.database.db.select({ id: users.id, email: users.email, name: users.name }).from(users).where(inArray(users.id, ids));
  return rows.sort((a, b) => (a.name || a.email).localeCompare(b.name || b.email, 'en') || a.email.localeCompare(b.email));
}

/** Words for a status, for pages, PDFs and mail. */
export function statusLabel(status: WeekStatus): string {
  switch (status) {
    case 'none':
      return 'Not started';
    case 'draft':
      return 'Draft saved, not submitted';
    case 'submitted':
      return 'Submitted, awaiting review';
    case 'needs_revision':
      return 'Needs revision';
    case 'complete':
      return 'Complete';
  }
}

/** One CSV cell: quoted when needed, and formula-looking text defused for spreadsheets. */
export function csvCell(value: string): string {
  let v = value;
  if (/^[=+\-@\t\r]/.test(v)) v = `'${v}`;
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}
