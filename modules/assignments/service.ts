// Assignments: drafts, submissions and their versions, files, instructor review, extensions, late and grace rules.
import { and, asc, desc, eq, gt, inArray, isNull, lte, sql, type SQL } from 'drizzle-orm';
import type { AppContext } from '../../server/context.js';
import type { Db } from '../../server/db.js';
import { BadInput, Conflict, DomainRule, Forbidden, NotFound } from '../../server/errors.js';
import { formatInstant } from '../../server/time.js';
import type { User } from '../people/service.js';
import { users } from '../people/schema.js';
import type { Cohort, CohortAccess } from '../cohorts/service.js';
import type { Assignment, UploadRule } from '../courses/content.js';
import { createFileStore, uploadsDirFor, newFileId, type PreparedUpload } from './files.js';
import {
  dueReminders,
  extensions,
  reviews,
  submissionFiles,
  submissions,
  submissionVersions,
  type ReviewOutcome,
  type SubmissionStatus,
} from './schema.js';

export type SubmissionRow = typeof submissions.$inferSelect;
export type WeekStatus = 'none' | SubmissionStatus;

/** How many files a learner may keep attached to one week's work. */
export const MAX_FILES = 5;
export const MAX_FEEDBACK = 10_000;
export const MAX_REASON = 500;
/** Learners get one reminder this long before their own due date when nothing is submitted yet. */
export const REMINDER_HOURS = 24;

/** The learner's own dates, extensions included. */
export interface PersonalDates {
  dueAt: (week: number) => Date;
  graceEndsAt: Date;
  /** Weeks whose due date an extension moved. */
  extendedWeeks: number[];
  /** True when an extension moved the learner's grace end. */
  graceExtended: boolean;
}

export interface FileDoc {
  id: string;
  name: string;
  type: string;
  size: number;
  sha256: string;
  uploadedAt: Date;
}

export interface ReviewDoc {
  version: number;
  outcome: ReviewOutcome;
  feedback: string;
  promptFeedback: Record<string, string>;
  reviewer: string | null;
  at: Date;
}

export interface VersionDoc {
  version: number;
  submittedAt: Date;
  late: boolean;
  answers: Record<string, string>;
  options: string[];
  files: FileDoc[];
  reviews: ReviewDoc[];
}

export interface SubmissionDoc {
  id: number;
  cohortId: number;
  week: number;
  learner: { id: number; email: string; name: string };
  status: SubmissionStatus;
  late: boolean;
  version: number;
  submittedAt: Date | null;
  dueAt: Date;
  closesAt: Date;
  /** The latest submitted answers ({} before the first submit). */
  answers: Record<string, string>;
  options: string[];
  /** Files attached now (the working copy). */
  files: FileDoc[];
  /** The learner's working copy; only shown to the learner. */
  draft: { answers: Record<string, string>; options: string[]; savedAt: Date | null } | null;
  /** Every submitted version, oldest first. */
  versions: VersionDoc[];
}

export interface SaveInput {
  answers: Record<string, string>;
  options?: string[];
  submit: boolean;
}

export interface SaveResult {
  id: number;
  status: SubmissionStatus;
  late: boolean;
  version: number;
  submittedAt: Date | null;
}

export interface ListRow {
  id: number;
  week: number;
  learner: string;
  learnerName: string;
  status: SubmissionStatus;
  late: boolean;
  version: number;
  submittedAt: Date | null;
}

export interface ExtensionDoc {
  id: number;
  learner: string;
  learnerName: string;
  week: number | null;
  dueAt: Date | null;
  graceEndsAt: Date | null;
  reason: string;
  grantedBy: string | null;
  createdAt: Date;
}

const parseObject = (json: string): Record<string, string> => {
  try {
    const v = JSON.parse(json) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, string>) : {};
  } catch {
    return {};
  }
};
const parseArray = (json: string): string[] => {
  try {
    const v = JSON.parse(json) as unknown;
    return Array.isArray(v) ? (v as string[]) : [];
  } catch {
    return [];
  }
};

/** Line breaks as \n (forms send \r\n, which would otherwise count twice against a length limit). */
function normaliseText(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}

export function createAssignmentService(ctx: AppContext) {
  const { clock } = ctx;
  const db = () => ctx.db;
  const files = createFileStore(uploadsDirFor(ctx.database.file));

  /** The week's assignment for this cohort, or 404. */
  function assignmentOf(cohort: Cohort, n: number): Assignment {
    const week = cohort.course.weeks[n - 1];
    if (!week) throw new NotFound(`Week ${n}`);
    if (!week.assignment) throw new NotFound(`An assignment for week ${n}`);
    return week.assignment;
  }

  // Personal dates are read on every page that shows a learner's deadlines: prepared once. `_tx` marks the caller's
  // transaction; the statement runs on the same connection, so it reads inside it.
  const extensionsStmt = ctx.db
    .select()
    .from(extensions)
    .where(and(eq(extensions.cohortId, sql.placeholder('cohortId')), eq(extensions.userId, sql.placeholder('userId'))))
    .orderBy(asc(extensions.id))
    .prepare();

  function datesFor(cohort: Cohort, userId: number, _tx: Db = db()): PersonalDates {
    return personalFrom(cohort, extensionsStmt.all({ cohortId: cohort.id, userId }));
  }

  /** Later grants win; the personal grace end is never before a personal due date or the cohort's grace end. */
  function personalFrom(cohort: Cohort, rows: Array<typeof extensions.$inferSelect>): PersonalDates {
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

  // Certificate checks read every learner's week statuses: prepared once, one row per week.
  const weekStatusStmt = ctx.db
    .select({ week: submissions.week, status: submissions.status, late: submissions.late })
    .from(submissions)
    .where(and(eq(submissions.cohortId, sql.placeholder('cohortId')), eq(submissions.userId, sql.placeholder('userId'))))
    .prepare();
  const cohortWeekStatusStmt = ctx.db
    .select({ userId: submissions.userId, week: submissions.week, status: submissions.status, late: submissions.late })
    .from(submissions)
    .where(eq(submissions.cohortId, sql.placeholder('cohortId')))
    .prepare();

  /** Each assignment week of the course with the learner's status in it ('none' before any save). */
  function statusesFrom(cohort: Cohort, rows: Array<{ week: number; status: SubmissionStatus; late: boolean }>) {
    const byWeek = new Map(rows.map((r) => [r.week, r]));
    return cohort.course.weeks
      .filter((w) => w.assignment)
      .map((w) => {
        const r = byWeek.get(w.number);
        return { week: w.number, title: w.assignment!.title, status: (r?.status ?? 'none') as WeekStatus, late: r?.late ?? false };
      });
  }

  // Saving a draft is the most frequent write of a cohort: prepared once (preparing it costs more than running it,
  // as SQLite compiles the cache-version triggers into every statement on the table).
  const saveDraftStmt = ctx.db
    .update(submissions)
    .set({ draftAnswers: sql`${sql.placeholder('answers')}`, chosenOptions: sql`${sql.placeholder('options')}`, draftSavedAt: sql`${sql.placeholder('at')}`, updatedAt: sql`${sql.placeholder('at')}` })
    .where(eq(submissions.id, sql.placeholder('id')))
    .returning({ id: submissions.id, status: submissions.status, late: submissions.late, version: submissions.version, submittedAt: submissions.submittedAt })
    .prepare(); // `at` is milliseconds: a placeholder inside sql`` is bound as given
  // The worksheet on every week page and every save read these: prepared once. Each takes the caller's `tx` to mark
  // its transaction; prepared statements run on the same connection, so they read and write inside it.
  const findRowStmt = ctx.db
    .select()
    .from(submissions)
    .where(and(eq(submissions.cohortId, sql.placeholder('cohortId')), eq(submissions.userId, sql.placeholder('userId')), eq(submissions.week, sql.placeholder('week'))))
    .prepare();
  const versionsStmt = ctx.db
    .select()
    .from(submissionVersions)
    .where(eq(submissionVersions.submissionId, sql.placeholder('id')))
    .orderBy(asc(submissionVersions.version))
    .prepare();
  // Upload order (rowid), since several files can share an instant.
  const filesStmt = ctx.db
    .select()
    .from(submissionFiles)
    .where(eq(submissionFiles.submissionId, sql.placeholder('id')))
    .orderBy(asc(sql`rowid`))
    .prepare();
  const reviewsStmt = ctx.db
    .select({ review: reviews, reviewer: users.name, reviewerEmail: users.email })
    .from(reviews)
    .leftJoin(users, eq(users.id, reviews.reviewerId))
    .where(eq(reviews.submissionId, sql.placeholder('id')))
    .orderBy(asc(reviews.id))
    .prepare();
  const learnerStmt = ctx.db.select({ id: users.id, email: users.email, name: users.name }).from(users).where(eq(users.id, sql.placeholder('id'))).prepare();

  const findRow = (_tx: Db, cohortId: number, userId: number, n: number) => findRowStmt.get({ cohortId, userId, week: n });

  /** The learner's row for a week, created as a draft if missing (insert-or-ignore, so two instances cannot collide). */
  function ensureRow(tx: Db, cohortId: number, userId: number, n: number, now: Date): SubmissionRow {
    tx.insert(submissions).values({ cohortId, userId, week: n, status: 'draft', createdAt: now, updatedAt: now }).onConflictDoNothing().run();
    return findRow(tx, cohortId, userId, n)!;
  }

  function fileDoc(f: typeof submissionFiles.$inferSelect): FileDoc {
    return { id: f.id, name: f.originalName, type: f.type, size: f.size, sha256: f.sha256, uploadedAt: f.uploadedAt };
  }

  function currentFiles(tx: Db, submissionId: number) {
    return tx
      .select()
      .from(submissionFiles)
      .where(and(eq(submissionFiles.submissionId, submissionId), isNull(submissionFiles.removedAt)))
      .orderBy(asc(submissionFiles.uploadedAt), asc(sql`rowid`))
      .all();
  }

  /** Learner, week open, assignment present, not past the learner's grace end, not complete. */
  function assertWritable(access: CohortAccess, n: number, tx: Db = db()): { assignment: Assignment; dates: PersonalDates; row: SubmissionRow | undefined } {
    if (access.role !== 'learner') throw new Forbidden('Only enrolled learners hand in work.');
    ctx.cohorts.assertWeekOpen(access, n);
    const assignment = assignmentOf(access.cohort, n);
    const dates = datesFor(access.cohort, access.user.id, tx);
    const now = clock.now();
    if (now.getTime() >= dates.graceEndsAt.getTime()) {
      const zone = access.user.timezone ?? access.cohort.timezone;
      throw new Conflict(`Submissions for week ${n} closed on ${formatInstant(dates.graceEndsAt, zone)}. Ask your instructor if you need an extension.`);
    }
    const row = findRow(tx, access.cohort.id, access.user.id, n);
    if (row?.status === 'complete') throw new Conflict(`Your week ${n} work is already complete; it can no longer be changed.`);
    return { assignment, dates, row };
  }

  /** Checks answers and options against the assignment; returns them cleaned. Throws 400 naming the field. */
  function cleanInput(assignment: Assignment, n: number, input: SaveInput, keepOptions: string[]): { answers: Record<string, string>; options: string[] } {
    const answers: Record<string, string> = {};
    const prompts = new Map(assignment.prompts.map((p) => [p.id, p]));
    for (const [id, raw] of Object.entries(input.answers ?? {})) {
      const prompt = prompts.get(id);
      if (!prompt) throw new BadInput(`answers.${id.slice(0, 60)}: week ${n} has no prompt "${id.slice(0, 60)}".`);
      if (typeof raw !== 'string') throw new BadInput(`answers.${id}: must be text.`);
      const text = normaliseText(raw);
      const length = [...text].length;
      if (length > prompt.maxLength) {
        throw new BadInput(`answers.${id}: "${prompt.label}" allows at most ${prompt.maxLength} characters (this answer has ${length}).`);
      }
      if (text.trim()) answers[id] = text;
    }
    let options = keepOptions;
    if (input.options !== undefined) {
      const known = new Set(assignment.options.map((o) => o.id));
      if (assignment.choose === null && input.options.length > 0) throw new BadInput(`options: week ${n} has no options to choose from.`);
      for (const id of input.options) if (!known.has(id)) throw new BadInput(`options: week ${n} has no option "${String(id).slice(0, 60)}".`);
      if (new Set(input.options).size !== input.options.length) throw new BadInput('options: each option can be chosen once.');
      if (assignment.choose !== null && input.options.length > assignment.choose) {
        throw new BadInput(`options: choose ${assignment.choose} of the ${assignment.options.length} options (you chose ${input.options.length}).`);
      }
      // Keep the course's order, whatever order they came in.
      options = assignment.options.map((o) => o.id).filter((id) => input.options!.includes(id));
    }
    if (input.submit && assignment.choose !== null && options.length !== assignment.choose) {
      throw new BadInput(`options: choose ${assignment.choose} of the ${assignment.options.length} options before you submit (you chose ${options.length}).`);
    }
    return { answers, options };
  }

  function learnerOf(_tx: Db, userId: number) {
    const u = learnerStmt.get({ id: userId });
    if (!u) throw new NotFound('Learner');
    return u;
  }

  function buildDoc(tx: Db, cohort: Cohort, row: SubmissionRow, forLearner: boolean): SubmissionDoc {
    const versions = versionsStmt.all({ id: row.id });
    const allFiles = filesStmt.all({ id: row.id });
    const fileById = new Map(allFiles.map((f) => [f.id, f]));
    const reviewRows = reviewsStmt.all({ id: row.id });
    const dates = datesFor(cohort, row.userId, tx);
    const versionDocs: VersionDoc[] = versions.map((v) => ({
      version: v.version,
      submittedAt: v.submittedAt,
      late: v.late,
      answers: parseObject(v.answers),
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
    }));
    const latest = versionDocs.at(-1);
    return {
      id: row.id,
      cohortId: row.cohortId,
      week: row.week,
      learner: learnerOf(tx, row.userId),
      status: row.status,
      late: row.late,
      version: row.version,
      submittedAt: row.submittedAt,
      dueAt: dates.dueAt(row.week),
      closesAt: dates.graceEndsAt,
      answers: latest?.answers ?? {},
      options: latest?.options ?? [],
      files: allFiles.filter((f) => !f.removedAt).map(fileDoc),
      draft: forLearner ? { answers: parseObject(row.draftAnswers), options: parseArray(row.chosenOptions), savedAt: row.draftSavedAt } : null,
      versions: versionDocs,
    };
  }

  /** A submission by id with the caller's access: its instructors and admins, or the learner who owns it. */
  function accessSubmission(user: User | null, submissionId: number): { access: CohortAccess; row: SubmissionRow } {
    const row = db().select().from(submissions).where(eq(submissions.id, submissionId)).get();
    if (!row) throw new NotFound('Submission');
    const access = ctx.cohorts.access(user, row.cohortId);
    if (access.role === 'learner' && row.userId !== access.user.id) throw new Forbidden('This is another learner’s submission.');
    return { access, row };
  }

  function statusChanged(tx: Db, row: { cohortId: number; userId: number }): void {
    ctx.progress.changed(tx, row.cohortId, row.userId);
  }

  const service = {
    files,

    /** The week's assignment definition, or 404. */
    assignment: assignmentOf,

    /** The learner's own due dates and grace end in a cohort, extensions included. */
    personalDates(cohortId: number, userId: number): PersonalDates {
      return datesFor(ctx.cohorts.get(cohortId), userId);
    },

    /** Dates for an already loaded cohort (pages). */
    datesFor(cohort: Cohort, userId: number): PersonalDates {
      return datesFor(cohort, userId);
    },

    /** For each week that has an assignment: the learner's status and late flag (certificates and progress use it). */
    weekStatuses(cohortId: number, userId: number): Array<{ week: number; title: string; status: WeekStatus; late: boolean }> {
      const cohort = ctx.cohorts.get(cohortId);
      return statusesFrom(cohort, weekStatusStmt.all({ cohortId, userId }));
    },

    /** weekStatuses for every learner of a cohort in one query (whole-cohort certificate checks); absent learners: all 'none'. */
    weekStatusesForCohort(cohort: Cohort): (userId: number) => Array<{ week: number; title: string; status: WeekStatus; late: boolean }> {
      const byUser = new Map<number, Array<{ week: number; status: SubmissionStatus; late: boolean }>>();
      for (const r of cohortWeekStatusStmt.all({ cohortId: cohort.id })) {
        const list = byUser.get(r.userId);
        if (list) list.push(r);
        else byUser.set(r.userId, [r]);
      }
      return (userId) => statusesFrom(cohort, byUser.get(userId) ?? []);
    },

    /** The personal grace end of every learner of a cohort (extensions included), from one query. */
    graceEndsForCohort(cohort: Cohort): (userId: number) => Date {
      const byUser = new Map<number, Array<typeof extensions.$inferSelect>>();
      for (const r of db().select().from(extensions).where(eq(extensions.cohortId, cohort.id)).orderBy(asc(extensions.id)).all()) {
        const list = byUser.get(r.userId);
        if (list) list.push(r);
        else byUser.set(r.userId, [r]);
      }
      return (userId) => personalFrom(cohort, byUser.get(userId) ?? []).graceEndsAt;
    },

    /** The learner's own submission row for a week (undefined before any save). */
    find(cohortId: number, userId: number, n: number): SubmissionRow | undefined {
      return findRow(db(), cohortId, userId, n);
    },

    /** Throws what save() would throw for this input, without saving (pages check before storing an upload). */
    check(access: CohortAccess, n: number, input: SaveInput): void {
      const { assignment, row } = assertWritable(access, n);
      cleanInput(assignment, n, input, row ? parseArray(row.chosenOptions) : []);
    },

    /**
     * Save the learner's working copy as a draft, or submit it as a new version. Submitting on a `review: none`
     * course completes the week. Late is decided by the first submit against the learner's own due date.
     */
    save(access: CohortAccess, n: number, input: SaveInput): SaveResult {
      const now = clock.now();
      return db().transaction((tx) => {
        const { assignment, dates, row: existing } = assertWritable(access, n, tx);
        const { answers, options } = cleanInput(assignment, n, input, existing ? parseArray(existing.chosenOptions) : []);
        const row = existing ?? ensureRow(tx, access.cohort.id, access.user.id, n, now);
        if (!input.submit) {
          // The prepared statement runs on the same connection, so inside this transaction.
          return saveDraftStmt.get({ answers: JSON.stringify(answers), options: JSON.stringify(options), at: now.getTime(), id: row.id })!;
        }
        const attached = currentFiles(tx, row.id);
        if (Object.keys(answers).length === 0 && attached.length === 0) {
          throw new BadInput(assignment.prompts.length > 0 ? 'answers: answer at least one prompt before you submit.' : 'file: attach your file before you submit.');
        }
        if (assignment.prompts.length === 0 && assignment.upload && attached.length === 0) throw new BadInput('file: attach your file before you submit.');
        const late = now.getTime() >= dates.dueAt(n).getTime();
        const version = row.version + 1;
        tx.insert(submissionVersions)
          .values({
            submissionId: row.id,
            version,
            answers: JSON.stringify(answers),
            options: JSON.stringify(options),
            fileIds: JSON.stringify(attached.map((f) => f.id)),
            late,
            submittedAt: now,
          })
          .run();
        const status: SubmissionStatus = access.cohort.course.review === 'none' ? 'complete' : 'submitted';
        const updated = tx
          .update(submissions)
          .set({
            status,
            version,
            late: row.firstSubmittedAt ? row.late : late,
            firstSubmittedAt: row.firstSubmittedAt ?? now,
            submittedAt: now,
            draftAnswers: JSON.stringify(answers),
            chosenOptions: JSON.stringify(options),
            draftSavedAt: now,
            updatedAt: now,
          })
          .where(eq(submissions.id, row.id))
          .returning()
          .get();
        statusChanged(tx, updated);
        return { id: updated.id, status: updated.status, late: updated.late, version: updated.version, submittedAt: updated.submittedAt };
      });
    },

    /** The learner's own submission for a week with its history, or 404 before the first save. */
    own(access: CohortAccess, n: number): SubmissionDoc {
      if (access.role !== 'learner') throw new Forbidden('Only enrolled learners have their own submissions.');
      ctx.cohorts.assertWeekOpen(access, n);
      assignmentOf(access.cohort, n);
      const row = findRow(db(), access.cohort.id, access.user.id, n);
      if (!row) throw new NotFound(`Your week ${n} submission`);
      return buildDoc(db(), access.cohort, row, true);
    },

    /** The learner's own doc for a week, or null (pages). */
    ownOrNull(access: CohortAccess, n: number): SubmissionDoc | null {
      const row = findRow(db(), access.cohort.id, access.user.id, n);
      return row ? buildDoc(db(), access.cohort, row, true) : null;
    },

    /** A submission for its cohort's instructors and admins, or for its learner. */
    get(user: User | null, submissionId: number): { doc: SubmissionDoc; access: CohortAccess } {
      const { access, row } = accessSubmission(user, submissionId);
      return { doc: buildDoc(db(), access.cohort, row, access.role === 'learner'), access };
    },

    /** The cohort's submissions for its instructors, oldest submitted first (drafts, never submitted, last). */
    list(access: CohortAccess, filters: { week?: number; status?: SubmissionStatus } = {}): ListRow[] {
      if (access.role === 'learner') throw new Forbidden('Only the cohort’s instructors and admins can see every submission.');
      const where: SQL[] = [eq(submissions.cohortId, access.cohort.id)];
      if (filters.week !== undefined) where.push(eq(submissions.week, filters.week));
      if (filters.status !== undefined) where.push(eq(submissions.status, filters.status));
      const rows = db()
        .select({ s: submissions, email: users.email, name: users.name })
        .from(submissions)
        .innerJoin(users, eq(users.id, submissions.userId))
        .where(and(...where))
        .orderBy(asc(submissions.submittedAt), asc(submissions.id))
        .all();
      const submitted = rows.filter((r) => r.s.submittedAt);
      const drafts = rows.filter((r) => !r.s.submittedAt);
      return [...submitted, ...drafts].map(({ s, email, name }) => ({
        id: s.id,
        week: s.week,
        learner: email,
        learnerName: name || email,
        status: s.status,
        late: s.late,
        version: s.version,
        submittedAt: s.submittedAt,
      }));
    },

    /** How many submissions wait for review in a cohort. */
    queueCount(cohortId: number): number {
      return db()
        .select({ id: submissions.id })
        .from(submissions)
        .where(and(eq(submissions.cohortId, cohortId), eq(submissions.status, 'submitted')))
        .all().length;
    },

    /** Counts by status for one week (the instructor's view of a week page). */
    weekCounts(cohortId: number, n: number): Record<SubmissionStatus, number> {
      const counts: Record<SubmissionStatus, number> = { draft: 0, submitted: 0, complete: 0, needs_revision: 0 };
      for (const r of db().select({ status: submissions.status }).from(submissions).where(and(eq(submissions.cohortId, cohortId), eq(submissions.week, n))).all()) counts[r.status]++;
      return counts;
    },

    /**
     * An instructor's review of the latest submitted version: complete or needs revision, with overall and
     * per-prompt feedback. The learner is emailed in the same transaction.
     */
    review(user: User | null, submissionId: number, input: { outcome: ReviewOutcome; feedback: string; promptFeedback?: Record<string, string> }): SubmissionDoc {
      const { access, row: found } = accessSubmission(user, submissionId);
      if (access.role === 'learner') throw new Forbidden('Only the cohort’s instructors and admins review submissions.');
      const assignment = assignmentOf(access.cohort, found.week);
      const feedback = normaliseText(input.feedback ?? '').trim();
      if ([...feedback].length > MAX_FEEDBACK) throw new BadInput(`feedback: at most ${MAX_FEEDBACK} characters.`);
      if (input.outcome === 'needs_revision' && !feedback) throw new BadInput('feedback: say what needs revising.');
      const promptFeedback: Record<string, string> = {};
      const ids = new Set(assignment.prompts.map((p) => p.id));
      for (const [id, raw] of Object.entries(input.promptFeedback ?? {})) {
        if (!ids.has(id)) throw new BadInput(`promptFeedback.${id.slice(0, 60)}: week ${found.week} has no prompt "${id.slice(0, 60)}".`);
        const text = normaliseText(String(raw)).trim();
        if ([...text].length > MAX_FEEDBACK) throw new BadInput(`promptFeedback.${id}: at most ${MAX_FEEDBACK} characters.`);
        if (text) promptFeedback[id] = text;
      }
      const now = clock.now();
      return db().transaction((tx) => {
        const row = tx.select().from(submissions).where(eq(submissions.id, found.id)).get()!;
        if (row.version === 0) throw new Conflict('There is no submitted version to review yet; the learner has only a draft.');
        tx.insert(reviews)
          .values({ submissionId: row.id, version: row.version, outcome: input.outcome, feedback, promptFeedback: JSON.stringify(promptFeedback), reviewerId: access.user.id, createdAt: now })
          .run();
        const updated = tx.update(submissions).set({ status: input.outcome, updatedAt: now }).where(eq(submissions.id, row.id)).returning().get();
        statusChanged(tx, updated);
        const learner = learnerOf(tx, row.userId);
        const learnerUser = ctx.people.get(row.userId);
        const zone = learnerUser.timezone ?? access.cohort.timezone;
        const dates = datesFor(access.cohort, row.userId, tx);
        const weekTitle = ctx.cohorts.week(access.cohort, row.week).title;
        ctx.mailer.enqueue(tx, {
          to: learner.email,
          subject: input.outcome === 'complete' ? `Week ${row.week} is complete: ${access.cohort.course.title}` : `Week ${row.week} needs revision: ${access.cohort.course.title}`,
          template: 'assignments-reviewed',
          data: {
            name: learner.name || learner.email,
            course: access.cohort.course.title,
            week: row.week,
            weekTitle,
            assignmentTitle: assignment.title,
            complete: input.outcome === 'complete',
            feedback,
            prompts: assignment.prompts.filter((p) => promptFeedback[p.id]).map((p) => ({ label: p.label, feedback: promptFeedback[p.id] })),
            reviewer: access.user.name || access.user.email,
            closes: formatInstant(dates.graceEndsAt, zone),
            url: `${ctx.baseUrl}/cohorts/${access.cohort.id}/weeks/${row.week}/worksheet`,
          },
        });
        return buildDoc(tx, access.cohort, updated, false);
      });
    },

    /** Checks that the learner may upload to this week now; returns the upload rule. */
    uploadRule(access: CohortAccess, n: number): UploadRule {
      const { assignment, row } = assertWritable(access, n);
      if (!assignment.upload) throw new BadInput(`file: week ${n} does not take file uploads.`);
      if (row && currentFiles(db(), row.id).length >= MAX_FILES) throw new Conflict(`You can attach up to ${MAX_FILES} files to one week; remove one first.`);
      return assignment.upload;
    },

    /** Keep a checked upload: move it to its final name and attach it to the learner's working copy. */
    async attach(access: CohortAccess, n: number, prepared: PreparedUpload): Promise<FileDoc> {
      const id = newFileId();
      const now = clock.now();
      let row: typeof submissionFiles.$inferSelect;
      try {
        row = db().transaction((tx) => {
          const { assignment, row: existing } = assertWritable(access, n, tx);
          if (!assignment.upload) throw new BadInput(`file: week ${n} does not take file uploads.`);
          const sub = existing ?? ensureRow(tx, access.cohort.id, access.user.id, n, now);
          if (currentFiles(tx, sub.id).length >= MAX_FILES) throw new Conflict(`You can attach up to ${MAX_FILES} files to one week; remove one first.`);
          return tx
            .insert(submissionFiles)
            .values({ id, submissionId: sub.id, originalName: prepared.originalName, type: prepared.type, size: prepared.size, sha256: prepared.sha256, uploadedAt: now })
            .returning()
            .get();
        });
      } catch (err) {
        await files.discard(prepared);
        throw err;
      }
      try {
        await files.commit(prepared, id);
      } catch (err) {
        db().delete(submissionFiles).where(eq(submissionFiles.id, id)).run();
        await files.discard(prepared);
        throw err;
      }
      return fileDoc(row);
    },

    /** Take a file off the learner's working copy; files in submitted versions stay for the history. */
    async removeFile(access: CohortAccess, n: number, fileId: string): Promise<void> {
      const deleteFromDisk = db().transaction((tx) => {
        const { row } = assertWritable(access, n, tx);
        const file = row
          ? tx.select().from(submissionFiles).where(and(eq(submissionFiles.id, fileId), eq(submissionFiles.submissionId, row.id), isNull(submissionFiles.removedAt))).get()
          : undefined;
        if (!row || !file) throw new NotFound('File');
        const used = tx
          .select({ fileIds: submissionVersions.fileIds })
          .from(submissionVersions)
          .where(eq(submissionVersions.submissionId, row.id))
          .all()
          .some((v) => parseArray(v.fileIds).includes(fileId));
        if (used) {
          tx.update(submissionFiles).set({ removedAt: clock.now() }).where(eq(submissionFiles.id, fileId)).run();
          return false;
        }
        tx.delete(submissionFiles).where(eq(submissionFiles.id, fileId)).run();
        return true;
      });
      if (deleteFromDisk) await files.remove(fileId);
    },

    /** The learner removes one of their own files (API). */
    async removeOwnFile(user: User | null, fileId: string): Promise<void> {
      const found = /^[0-9a-f]{32}$/.test(fileId)
        ? db()
            .select({ cohortId: submissions.cohortId, userId: submissions.userId, week: submissions.week })
            .from(submissionFiles)
            .innerJoin(submissions, eq(submissions.id, submissionFiles.submissionId))
            .where(eq(submissionFiles.id, fileId))
            .get()
        : undefined;
      if (!found) throw new NotFound('File');
      const access = ctx.cohorts.access(user, found.cohortId);
      if (access.role !== 'learner' || found.userId !== access.user.id) throw new Forbidden('Only the learner who uploaded a file can remove it.');
      await service.removeFile(access, found.week, fileId);
    },

    /** A stored file for its owner or the cohort's instructors and admins. */
    fileFor(user: User | null, fileId: string): { file: FileDoc; cohortId: number } {
      const found = /^[0-9a-f]{32}$/.test(fileId)
        ? db()
            .select({ file: submissionFiles, cohortId: submissions.cohortId, userId: submissions.userId })
            .from(submissionFiles)
            .innerJoin(submissions, eq(submissions.id, submissionFiles.submissionId))
            .where(eq(submissionFiles.id, fileId))
            .get()
        : undefined;
      if (!found) throw new NotFound('File');
      const access = ctx.cohorts.access(user, found.cohortId);
      if (access.role === 'learner' && found.userId !== access.user.id) throw new Forbidden('This file belongs to another learner.');
      return { file: fileDoc(found.file), cohortId: found.cohortId };
    },

    /**
     * Grant one learner a later due date for a week and/or a later personal grace end, with a reason.
     * Late flags are recomputed against the new dates, and the learner is emailed.
     */
    grantExtension(
      access: CohortAccess,
      input: { learner: string; week?: number; dueAt?: Date; graceEndsAt?: Date; reason: string },
    ): ExtensionDoc {
      if (access.role === 'learner') throw new Forbidden('Only the cohort’s instructors and admins grant extensions.');
      const cohort = access.cohort;
      const t = cohort.timeline;
      const reason = (input.reason ?? '').trim();
      if (!reason) throw new BadInput('reason: say why the extension is granted.');
      if ([...reason].length > MAX_REASON) throw new BadInput(`reason: at most ${MAX_REASON} characters.`);
      if (!input.dueAt && !input.graceEndsAt) throw new BadInput('dueAt: give a new due date for a week, a new personal grace end (graceEndsAt), or both.');
      if (input.dueAt && input.week === undefined) throw new BadInput('week: a new due date needs the week it is for.');
      if (input.week !== undefined) {
        if (!t.weeks[input.week - 1]) throw new BadInput(`week: the course has weeks 1 to ${t.weeks.length}.`);
        if (!cohort.course.weeks[input.week - 1].assignment) throw new BadInput(`week: week ${input.week} has no assignment.`);
      }
      const zone = access.user.timezone ?? cohort.timezone;
      if (input.dueAt) {
        const standard = t.weeks[input.week! - 1].dueAt;
        if (input.dueAt.getTime() <= standard.getTime()) throw new BadInput(`dueAt: must be later than the week's own due date (${formatInstant(standard, zone)}).`);
        if (input.dueAt.getTime() > t.accessEndsAt.getTime()) throw new BadInput(`dueAt: must be before the course material closes (${formatInstant(t.accessEndsAt, zone)}).`);
      }
      if (input.graceEndsAt) {
        if (input.graceEndsAt.getTime() <= t.graceEndsAt.getTime()) throw new BadInput(`graceEndsAt: must be later than the cohort's grace end (${formatInstant(t.graceEndsAt, zone)}).`);
        if (input.graceEndsAt.getTime() > t.accessEndsAt.getTime()) throw new BadInput(`graceEndsAt: must be before the course material closes (${formatInstant(t.accessEndsAt, zone)}).`);
      }
      let learner: User | undefined;
      try {
        learner = ctx.people.findByEmail(input.learner);
      } catch {
        throw new BadInput(`learner: "${input.learner.slice(0, 80)}" is not an email address.`);
      }
      if (!learner || ctx.cohorts.roleIn(learner, cohort.id) !== 'learner' || learner.role === 'admin') {
        throw new DomainRule(`${input.learner.slice(0, 80)} is not a learner in this cohort.`);
      }
      const target = learner;
      const now = clock.now();
      return db().transaction((tx) => {
        const ext = tx
          .insert(extensions)
          .values({
            cohortId: cohort.id,
            userId: target.id,
            week: input.week ?? null,
            dueAt: input.dueAt ?? null,
            graceEndsAt: input.graceEndsAt ?? null,
            reason,
            grantedBy: access.user.id,
            createdAt: now,
          })
          .returning()
          .get();
        const dates = datesFor(cohort, target.id, tx);
        for (const s of tx.select().from(submissions).where(and(eq(submissions.cohortId, cohort.id), eq(submissions.userId, target.id))).all()) {
          if (!s.firstSubmittedAt) continue;
          const late = s.firstSubmittedAt.getTime() >= dates.dueAt(s.week).getTime();
          if (late !== s.late) tx.update(submissions).set({ late, updatedAt: now }).where(eq(submissions.id, s.id)).run();
        }
        statusChanged(tx, { cohortId: cohort.id, userId: target.id });
        const learnerZone = target.timezone ?? cohort.timezone;
        ctx.mailer.enqueue(tx, {
          to: target.email,
          subject: `Your dates have changed: ${cohort.course.title}`,
          template: 'assignments-extension',
          data: {
            name: target.name || target.email,
            course: cohort.course.title,
            week: input.week ?? null,
            dueAt: input.dueAt ? formatInstant(dates.dueAt(input.week!), learnerZone) : null,
            graceEndsAt: formatInstant(dates.graceEndsAt, learnerZone),
            graceChanged: Boolean(input.graceEndsAt) || dates.graceExtended,
            reason,
            url: input.week ? `${ctx.baseUrl}/cohorts/${cohort.id}/weeks/${input.week}/worksheet` : `${ctx.baseUrl}/cohorts/${cohort.id}`,
          },
        });
        return {
          id: ext.id,
          learner: target.email,
          learnerName: target.name || target.email,
          week: ext.week,
          dueAt: ext.dueAt,
          graceEndsAt: ext.graceEndsAt,
          reason: ext.reason,
          grantedBy: access.user.email,
          createdAt: ext.createdAt,
        };
      });
    },

    /** Every extension granted in a cohort, newest first. */
    listExtensions(access: CohortAccess): ExtensionDoc[] {
      if (access.role === 'learner') throw new Forbidden('Only the cohort’s instructors and admins see extensions.');
      const rows = db()
        .select({ e: extensions, email: users.email, name: users.name })
        .from(extensions)
        .innerJoin(users, eq(users.id, extensions.userId))
        .where(eq(extensions.cohortId, access.cohort.id))
        .orderBy(desc(extensions.id))
        .all();
      const granters = new Map<number, string>();
      for (const id of new Set(rows.map((r) => r.e.grantedBy).filter((v): v is number => v !== null))) {
        const u = db().select({ email: users.email }).from(users).where(eq(users.id, id)).get();
        if (u) granters.set(id, u.email);
      }
      return rows.map(({ e, email, name }) => ({
        id: e.id,
        learner: email,
        learnerName: name || email,
        week: e.week,
        dueAt: e.dueAt,
        graceEndsAt: e.graceEndsAt,
        reason: e.reason,
        grantedBy: e.grantedBy !== null ? (granters.get(e.grantedBy) ?? null) : null,
        createdAt: e.createdAt,
      }));
    },

    /** The active learners of a cohort with name and email, by name. */
    learners(cohortId: number): Array<{ id: number; email: string; name: string }> {
      const ids = ctx.cohorts.learners(cohortId).map((l) => l.userId);
      if (ids.length === 0) return [];
      return db()
        .select({ id: users.id, email: users.email, name: users.name })
        .from(users)
        .where(inArray(users.id, ids))
        .all()
        .sort((a, b) => (a.name || a.email).localeCompare(b.name || b.email, 'en') || a.email.localeCompare(b.email));
    },

    /** The status grid (learners × weeks with an assignment) as CSV for spreadsheets. */
    csv(access: CohortAccess): string {
      if (access.role === 'learner') throw new Forbidden('Only the cohort’s instructors and admins can export submissions.');
      const cohort = access.cohort;
      const weeks = cohort.course.weeks.filter((w) => w.assignment);
      const rows = db().select().from(submissions).where(eq(submissions.cohortId, cohort.id)).all();
      const key = (u: number, w: number) => `${u}:${w}`;
      const byKey = new Map(rows.map((r) => [key(r.userId, r.week), r]));
      const lines = [['learner', 'name', ...weeks.map((w) => `week ${w.number}: ${w.assignment!.title}`), 'complete'].map(csvCell).join(',')];
      for (const l of service.learners(cohort.id)) {
        let complete = 0;
        const cells = weeks.map((w) => {
          const r = byKey.get(key(l.id, w.number));
          if (r?.status === 'complete') complete++;
          return r ? `${r.status}${r.late ? ' (late)' : ''}` : 'none';
        });
        lines.push([l.email, l.name, ...cells, `${complete}/${weeks.length}`].map(csvCell).join(','));
      }
      return lines.join('\r\n') + '\r\n';
    },

    /**
     * Everything the learner's workbook shows: each week with an assignment, their latest answers, choices and files.
     * Instructors and admins get the blank workbook (every prompt, no answers) to see what learners get.
     */
    workbook(access: CohortAccess) {
      const cohort = access.cohort;
      const now = clock.now();
      const preview = access.role !== 'learner';
      const rows = preview ? [] : db().select().from(submissions).where(and(eq(submissions.cohortId, cohort.id), eq(submissions.userId, access.user.id))).all();
      const byWeek = new Map(rows.map((r) => [r.week, r]));
      const zone = access.user.timezone ?? cohort.timezone;
      const dates = datesFor(cohort, access.user.id);
      return {
        course: cohort.course.title,
        learner: preview ? 'nobody yet: a blank copy for instructors' : access.user.name || access.user.email,
        dates: `${formatInstant(cohort.timeline.startsAt, zone)} – ${formatInstant(cohort.timeline.endsAt, zone)}`,
        generated: formatInstant(now, zone),
        weeks: cohort.course.weeks
          .filter((w) => w.assignment)
          .map((w) => {
            const r = byWeek.get(w.number);
            const opened = preview || cohort.timeline.weeks[w.number - 1].opensAt.getTime() <= now.getTime();
            const a = w.assignment!;
            const answers = r ? parseObject(r.draftAnswers) : {};
            const chosen = r ? parseArray(r.chosenOptions) : [];
            const doc = r ? buildDoc(db(), cohort, r, true) : null;
            const lastReview = doc?.versions.at(-1)?.reviews.at(-1) ?? null;
            return {
              number: w.number,
              title: ctx.cohorts.week(cohort, w.number).title,
              assignment: a.title,
              opened,
              status: preview ? 'Blank copy' : statusLabel(r?.status ?? 'none'),
              due: formatInstant(dates.dueAt(w.number), zone),
              options: a.options.filter((o) => chosen.includes(o.id)).map((o) => o.label),
              prompts: a.prompts.map((p) => ({ label: p.label, answer: answers[p.id] ?? '', feedback: lastReview?.promptFeedback[p.id] ?? '' })),
              files: doc?.files.map((f) => f.name) ?? [],
              feedback: lastReview?.feedback ?? '',
            };
          }),
      };
    },

    /**
     * The scheduler's job: one reminder per learner and week, REMINDER_HOURS before the learner's own due date,
     * while nothing has been submitted for it. Idempotent (a row per reminder, unique on the due date).
     */
    remindDueSoon(now: Date): number {
      let sent = 0;
      const horizon = now.getTime() + REMINDER_HOURS * 3_600_000;
      // This runs on every tick: a cohort is only read when a due date falls in the window, its own or a learner's
      // extended one (a personal due date always comes from an extension row).
      const extendedInWindow = new Set(
        db()
          .select({ cohortId: extensions.cohortId })
          .from(extensions)
          .where(and(gt(extensions.dueAt, now), lte(extensions.dueAt, new Date(horizon))))
          .all()
          .map((r) => r.cohortId),
      );
      for (const cohort of ctx.cohorts.list()) {
        const t = cohort.timeline;
        if (now.getTime() < t.startsAt.getTime() || now.getTime() >= t.accessEndsAt.getTime()) continue;
        const weeks = cohort.course.weeks.filter((w) => w.assignment && t.weeks[w.number - 1].opensAt.getTime() <= now.getTime());
        if (weeks.length === 0) continue;
        const dueInWindow = (d: Date) => d.getTime() > now.getTime() && d.getTime() <= horizon;
        if (!extendedInWindow.has(cohort.id) && !weeks.some((w) => dueInWindow(t.weeks[w.number - 1].dueAt))) continue;
        const learners = service.learners(cohort.id);
        if (learners.length === 0) continue;
        const subs = db().select({ userId: submissions.userId, week: submissions.week, version: submissions.version }).from(submissions).where(eq(submissions.cohortId, cohort.id)).all();
        const submitted = new Set(subs.filter((s) => s.version > 0).map((s) => `${s.userId}:${s.week}`));
        const exts = db().select().from(extensions).where(eq(extensions.cohortId, cohort.id)).orderBy(asc(extensions.id)).all();
        // Skip reminders already sent without opening a transaction for each (this runs on every scheduler tick).
        const sentKeys = new Set(
          db()
            .select({ userId: dueReminders.userId, week: dueReminders.week, dueAt: dueReminders.dueAt })
            .from(dueReminders)
            .where(eq(dueReminders.cohortId, cohort.id))
            .all()
            .map((r) => `${r.userId}:${r.week}:${r.dueAt.getTime()}`),
        );
        for (const l of learners) {
          const dates = personalFrom(cohort, exts.filter((e) => e.userId === l.id));
          for (const w of weeks) {
            const due = dates.dueAt(w.number);
            if (due.getTime() <= now.getTime() || due.getTime() > horizon) continue;
            if (submitted.has(`${l.id}:${w.number}`)) continue;
            if (sentKeys.has(`${l.id}:${w.number}:${due.getTime()}`)) continue;
            const user = ctx.people.get(l.id);
            const zone = user.timezone ?? cohort.timezone;
            db().transaction((tx) => {
              const fresh = tx.insert(dueReminders).values({ cohortId: cohort.id, userId: l.id, week: w.number, dueAt: due, sentAt: now }).onConflictDoNothing().run();
              if (fresh.changes === 0) return;
              ctx.mailer.enqueue(tx, {
                to: l.email,
                subject: `Week ${w.number} is due ${formatInstant(due, zone)}: ${cohort.course.title}`,
                template: 'assignments-due-soon',
                data: {
                  name: l.name || l.email,
                  course: cohort.course.title,
                  week: w.number,
                  assignmentTitle: w.assignment!.title,
                  due: formatInstant(due, zone),
                  closes: formatInstant(dates.graceEndsAt, zone),
                  url: `${ctx.baseUrl}/cohorts/${cohort.id}/weeks/${w.number}/worksheet`,
                },
                dedupeKey: `assignments-due-soon:${cohort.id}:${l.id}:${w.number}:${due.getTime()}`,
              });
              sent++;
            });
          }
        }
      }
      return sent;
    },
  };
  return service;
}

export type AssignmentService = ReturnType<typeof createAssignmentService>;

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
