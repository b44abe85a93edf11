// Assignments: drafts, submissions and their versions, files, instructor review, extensions, late and grace rules.
// The use cases live one to a file (worksheet, uploads, reviews, extensions, exports, reminders, progress); this file
// builds them on the module's dependencies into the service other modules, routes and pages use.
import type { Db } from '../../server/db.js';
import type { User } from '../people/service.js';
import type { Cohort, CohortAccess } from '../cohorts/service.js';
import type { Course } from '../courses/content.js';
import { createFileStore, type PreparedUpload } from './files.js';
import type { ReviewOutcome, SubmissionStatus } from './schema.js';
import { assignmentOf, cohortLearners, datesFor } from './records.js';
import { graceEndsForCohort, personalDates, refuseLosingWork, weekStatuses, weekStatusesForCohort } from './progress.js';
import { check, find, own, ownOrNull, save } from './worksheet.js';
import { attach, fileContent, fileFor, removeFile, removeOwnFile, uploadRule } from './uploads.js';
import { get, list, queueCount, review, weekCounts } from './reviews.js';
import { grantExtension, listExtensions } from './extensions.js';
import { csv, workbook } from './exports.js';
import { remindDueSoon } from './reminders.js';
import type { AssignmentDeps, Deps, ExtensionInput, SaveInput } from './types.js';

export { statusLabel, csvCell } from './records.js';
export { MAX_FILES, MAX_FEEDBACK, MAX_REASON, REMINDER_HOURS } from './types.js';
export type {
  AssignmentDeps,
  ExtensionDoc,
  ExtensionInput,
  FileDoc,
  ListRow,
  PersonalDates,
  ReviewDoc,
  SaveInput,
  SaveResult,
  SubmissionDoc,
  SubmissionRow,
  VersionDoc,
  WeekStatus,
  WeekStatusRow,
} from './types.js';

export function createAssignmentService(deps: AssignmentDeps) {
  const d: Deps = { ...deps, files: createFileStore() };
  return {
    /** Checking an upload (type, content, size) before it is attached. */
    files: d.files,

    /** The week's assignment definition, or 404. */
    assignment: assignmentOf,

    /** The learner's own due dates and grace end in a cohort, extensions included; inside `tx` when given. */
    personalDates: (cohortId: number, userId: number, tx?: Db) => personalDates(d, cohortId, userId, tx),
    /** Personal dates for an already loaded cohort (pages); inside `tx` when given. */
    datesFor: (cohort: Cohort, userId: number, tx?: Db) => datesFor(tx ?? d.database.db, cohort, userId),
    /** For each week with an assignment: the learner's status and late flag (certificates count these). */
    weekStatuses: (cohortId: number, userId: number, tx?: Db) => weekStatuses(d, cohortId, userId, tx),
    /** weekStatuses for every learner of a cohort from one query (whole-cohort certificate checks). */
    weekStatusesForCohort: (cohort: Cohort, tx?: Db) => weekStatusesForCohort(d, cohort, tx),
    /** Refuse (409) a course version for a cohort that would take away weeks holding learners' work; inside the change's tx. */
    refuseLosingWork: (tx: Db, cohort: Cohort, next: Course) => refuseLosingWork(tx, cohort, next),
    /** The personal grace end of every learner of a cohort (extensions included), from one query. */
    graceEndsForCohort: (cohort: Cohort, tx?: Db) => graceEndsForCohort(d, cohort, tx),

    /** The learner's own submission row for a week (undefined before any save). */
    find: (cohortId: number, userId: number, n: number) => find(d, cohortId, userId, n),
    /** Throws what save() would throw for this input, without saving. */
    check: (access: CohortAccess, n: number, input: SaveInput) => check(d, access, n, input),
    /** Save the learner's working copy as a draft, or submit it as a new version. */
    save: (access: CohortAccess, n: number, input: SaveInput) => save(d, access, n, input),
    /** The learner's own submission for a week with its history, or 404 before the first save. */
    own: (access: CohortAccess, n: number) => own(d, access, n),
    /** The learner's own doc for a week, or null (pages). */
    ownOrNull: (access: CohortAccess, n: number) => ownOrNull(d, access, n),

    /** Checks that the learner may upload to this week now; returns the upload rule. */
    uploadRule: (access: CohortAccess, n: number) => uploadRule(d, access, n),
    /** Keep a checked upload: store its bytes and attach it to the learner's working copy. */
    attach: (access: CohortAccess, n: number, prepared: PreparedUpload) => attach(d, access, n, prepared),
    /** Take a file off the learner's working copy; files in submitted versions stay for the history. */
    removeFile: (access: CohortAccess, n: number, fileId: string) => removeFile(d, access, n, fileId),
    /** The learner removes one of their own files (API). */
    removeOwnFile: (user: User | null, fileId: string) => removeOwnFile(d, user, fileId),
    /** A stored file for its owner or the cohort's instructors and admins. */
    fileFor: (user: User | null, fileId: string) => fileFor(d, user, fileId),
    /** A stored file's bytes, once fileFor has allowed the reader. */
    fileContent: (fileId: string) => fileContent(d, fileId),

    /** A submission for its cohort's instructors and admins, or for its learner. */
    get: (user: User | null, submissionId: number) => get(d, user, submissionId),
    /** The cohort's submissions for its instructors, oldest submitted first (drafts last). */
    list: (access: CohortAccess, filters: { week?: number; status?: SubmissionStatus } = {}) => list(d, access, filters),
    /** How many submissions wait for review in a cohort. */
    queueCount: (cohortId: number) => queueCount(d, cohortId),
    /** Counts by status for one week (the instructor's view of a week page). */
    weekCounts: (cohortId: number, n: number) => weekCounts(d, cohortId, n),
    /** Review the latest submitted version; the learner is emailed. */
    review: (user: User | null, submissionId: number, input: { outcome: ReviewOutcome; feedback: string; promptFeedback?: Record<string, string> }) =>
      review(d, user, submissionId, input),

    /** Grant one learner a later due date and/or personal grace end; late flags follow and the learner is emailed. */
    grantExtension: (access: CohortAccess, input: ExtensionInput) => grantExtension(d, access, input),
    /** Every extension granted in a cohort, newest first. */
    listExtensions: (access: CohortAccess) => listExtensions(d, access),

    /** The active learners of a cohort with name and email, by name. */
    learners: (cohortId: number) => cohortLearners(d, cohortId),
    /** The status grid (learners × weeks with an assignment) as CSV for spreadsheets. */
    csv: (access: CohortAccess) => csv(d, access),
    /** The model of the learner's workbook PDF (a blank copy for instructors and admins). */
    workbook: (access: CohortAccess) => workbook(d, access),

    /** The scheduler's job: due-soon reminders; returns how many were queued. */
    remindDueSoon: (now: Date) => remindDueSoon(d, now),
  };
}

export type AssignmentService = ReturnType<typeof createAssignmentService>;
