// Assignments: each learner's submission per week, its submitted versions, uploaded files, reviews and extensions.
import { sqliteTable, integer, text, index, unique, blob } from 'drizzle-orm/sqlite-core';
import { users } from '../people/schema.js';
import { cohorts } from '../cohorts/schema.js';

export const SUBMISSION_STATUSES = ['draft', 'submitted', 'complete', 'needs_revision'] as const;
export type SubmissionStatus = (typeof SUBMISSION_STATUSES)[number];
export const REVIEW_OUTCOMES = ['complete', 'needs_revision'] as const;
export type ReviewOutcome = (typeof REVIEW_OUTCOMES)[number];

export const submissions = sqliteTable(
  'submissions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    cohortId: integer('cohort_id').notNull().references(() => cohorts.id, { onDelete: 'cascade' }),
    userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    week: integer('week').notNull(),
    // draft: never submitted; afterwards the latest review (or "submitted" while awaiting one) decides.
    status: text('status', { enum: SUBMISSION_STATUSES }).notNull().default('draft'),
    // Whether the first submitted version came after the learner's own due date (extension-aware).
    late: integer('late', { mode: 'boolean' }).notNull().default(false),
    // Number of the latest submitted version; 0 until the first submit.
    version: integer('version').notNull().default(0),
    // The learner's working copy (JSON { promptId: text }), saved as a draft at any time.
    draftAnswers: text('draft_answers').notNull().default('{}'),
    // The label of each prompt answered in the working copy, as the learner saw it (JSON { promptId: label }), so the
    // answer stays readable after the course renames or removes the prompt. {} in rows from before: the course's labels.
    draftPromptLabels: text('draft_prompt_labels').notNull().default('{}'),
    // Option ids the learner has chosen in the working copy (JSON array).
    chosenOptions: text('chosen_options').notNull().default('[]'),
    draftSavedAt: integer('draft_saved_at', { mode: 'timestamp_ms' }),
    firstSubmittedAt: integer('first_submitted_at', { mode: 'timestamp_ms' }),
    submittedAt: integer('submitted_at', { mode: 'timestamp_ms' }),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [
    unique('submissions_cohort_user_week_uq').on(t.cohortId, t.userId, t.week),
    index('submissions_queue_idx').on(t.cohortId, t.status, t.submittedAt),
  ],
);

export const submissionVersions = sqliteTable(
  'submission_versions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    submissionId: integer('submission_id').notNull().references(() => submissions.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    answers: text('answers').notNull(),
    // The label of each prompt answered, when it was submitted (JSON { promptId: label }); {} in rows from before.
    promptLabels: text('prompt_labels').notNull().default('{}'),
    options: text('options').notNull().default('[]'),
    // Ids of the files attached when this version was submitted (JSON array).
    fileIds: text('file_ids').notNull().default('[]'),
    late: integer('late', { mode: 'boolean' }).notNull().default(false),
    submittedAt: integer('submitted_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [unique('submission_versions_uq').on(t.submissionId, t.version)],
);

export const submissionFiles = sqliteTable(
  'submission_files',
  {
    // A random id: the public handle and the name on disk, so neither path nor name comes from the learner.
    id: text('id').primaryKey(),
    submissionId: integer('submission_id').notNull().references(() => submissions.id, { onDelete: 'cascade' }),
    originalName: text('original_name').notNull(),
    type: text('type').notNull(),
    size: integer('size').notNull(),
    sha256: text('sha256').notNull(),
    uploadedAt: integer('uploaded_at', { mode: 'timestamp_ms' }).notNull(),
    // Removed from the working copy; kept because submitted versions may still list it.
    removedAt: integer('removed_at', { mode: 'timestamp_ms' }),
  },
  (t) => [index('submission_files_submission_idx').on(t.submissionId)],
);

// The bytes of each uploaded file, in the database (so every app instance serves them; no shared disk needed). A table
// of its own, so listing files never reads their content.
export const fileContents = sqliteTable('file_contents', {
  fileId: text('file_id').primaryKey().references(() => submissionFiles.id, { onDelete: 'cascade' }),
  content: blob('content', { mode: 'buffer' }).notNull(),
});

export const reviews = sqliteTable(
  'reviews',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    submissionId: integer('submission_id').notNull().references(() => submissions.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    outcome: text('outcome', { enum: REVIEW_OUTCOMES }).notNull(),
    feedback: text('feedback').notNull(),
    // JSON { promptId: text }
    promptFeedback: text('prompt_feedback').notNull().default('{}'),
    reviewerId: integer('reviewer_id').references(() => users.id, { onDelete: 'set null' }),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [index('reviews_submission_idx').on(t.submissionId)],
);

export const extensions = sqliteTable(
  'extensions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    cohortId: integer('cohort_id').notNull().references(() => cohorts.id, { onDelete: 'cascade' }),
    userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    // null: the extension is about the learner's personal grace end only.
    week: integer('week'),
    dueAt: integer('due_at', { mode: 'timestamp_ms' }),
    graceEndsAt: integer('grace_ends_at', { mode: 'timestamp_ms' }),
    reason: text('reason').notNull(),
    grantedBy: integer('granted_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [index('extensions_cohort_user_idx').on(t.cohortId, t.userId)],
);

/** Due-soon reminders already sent: once per learner, week and due date, across restarts and instances. */
export const dueReminders = sqliteTable(
  'due_reminders',
  {
    cohortId: integer('cohort_id').notNull().references(() => cohorts.id, { onDelete: 'cascade' }),
    userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    week: integer('week').notNull(),
    // The due date reminded about: a later extension earns a fresh reminder.
    dueAt: integer('due_at', { mode: 'timestamp_ms' }).notNull(),
    sentAt: integer('sent_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [unique('due_reminders_uq').on(t.cohortId, t.userId, t.week, t.dueAt)],
);
