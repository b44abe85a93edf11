// The assignments module's shapes and limits, and what its use cases receive: the typed dependencies and the file store.
import type { Infrastructure } from '../../server/infrastructure.js';
import type { PeopleService } from '../people/service.js';
import type { CourseService } from '../courses/service.js';
import type { CohortService } from '../cohorts/service.js';
import type { FileStore } from './files.js';
import type { ReviewOutcome, SubmissionStatus, submissions } from './schema.js';

/** What the assignment service is built from: infrastructure and the services of the modules it uses. */
export interface AssignmentDeps extends Infrastructure {
  people: PeopleService;
  courses: CourseService;
  cohorts: CohortService;
}

/** What every use case receives: the dependencies and the store of uploaded files. */
export interface Deps extends AssignmentDeps {
  files: FileStore;
}

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

/** One week with an assignment and the learner's standing in it (what certificates count). */
export interface WeekStatusRow {
  week: number;
  title: string;
  status: WeekStatus;
  late: boolean;
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
  /** The label each answer answered (kept at submit; the course's label for versions from before labels were kept). */
  promptLabels: Record<string, string>;
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
  /** The label each of `answers` answered. */
  promptLabels: Record<string, string>;
  /** Ids of prompts answered in this submission (any version, or the working copy shown) that the worksheet no longer asks. */
  earlierPrompts: string[];
  options: string[];
  /** Files attached now (the working copy). */
  files: FileDoc[];
  /** The learner's working copy; only shown to the learner. */
  draft: { answers: Record<string, string>; promptLabels: Record<string, string>; options: string[]; savedAt: Date | null } | null;
  /** Every submitted version, oldest first. */
  versions: VersionDoc[];
}

/**
 * One answer as pages, the PDF and mail show it: under its prompt's current label, or, its prompt since removed
 * from the worksheet, under the label it answered. `note` says which, in words.
 */
export interface LabelledAnswer {
  id: string;
  label: string;
  /** The label it answered, when the prompt has been renamed since. */
  answeredAs: string | null;
  /** The prompt is no longer in the week's worksheet. */
  earlier: boolean;
  note: string | null;
  text: string;
  empty: boolean;
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

export interface ExtensionInput {
  learner: string;
  week?: number;
  dueAt?: Date;
  graceEndsAt?: Date;
  reason: string;
}
