// Cohorts: runs of a course, their instructors, enrolled learners and per-cohort week text.
import { sqliteTable, integer, text, index, primaryKey, unique } from 'drizzle-orm/sqlite-core';
import { users } from '../people/schema.js';

export const cohorts = sqliteTable(
  'cohorts',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    courseSlug: text('course_slug').notNull(),
    // The course version the cohort follows: the latest published until it starts, then kept until an instructor applies a newer one.
    courseVersion: integer('course_version').notNull().default(1),
    // Local calendar date (YYYY-MM-DD) in `timezone` when week 1 opens.
    startDate: text('start_date').notNull(),
    timezone: text('timezone').notNull(),
    capacity: integer('capacity').notNull(),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
  },
  // start_date alone: the week-opening job picks cohorts whose life spans "now" by date range.
  (t) => [index('cohorts_course_idx').on(t.courseSlug, t.startDate), index('cohorts_start_idx').on(t.startDate)],
);

export const cohortInstructors = sqliteTable(
  'cohort_instructors',
  {
    cohortId: integer('cohort_id').notNull().references(() => cohorts.id, { onDelete: 'cascade' }),
    userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.cohortId, t.userId] }), index('cohort_instructors_user_idx').on(t.userId)],
);

export const enrolments = sqliteTable(
  'enrolments',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    cohortId: integer('cohort_id').notNull().references(() => cohorts.id, { onDelete: 'cascade' }),
    userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    status: text('status', { enum: ['active', 'withdrawn'] }).notNull().default('active'),
    // The learner wants a certificate (on by default; switchable at booking and in the profile).
    certificateWanted: integer('certificate_wanted', { mode: 'boolean' }).notNull().default(true),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [unique('enrolments_cohort_user_uq').on(t.cohortId, t.userId), index('enrolments_user_idx').on(t.userId)],
);

export const weekOverrides = sqliteTable(
  'week_overrides',
  {
    cohortId: integer('cohort_id').notNull().references(() => cohorts.id, { onDelete: 'cascade' }),
    week: integer('week').notNull(),
    title: text('title'),
    markdown: text('markdown'),
    updatedBy: integer('updated_by').references(() => users.id),
    updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.cohortId, t.week] })],
);

// A week's opening has been announced to the cohort (one row per cohort and week, written in the same
// transaction as the emails), so the scheduler does the work once and skips it on every later tick.
export const weekOpenNotices = sqliteTable(
  'week_open_notices',
  {
    cohortId: integer('cohort_id').notNull().references(() => cohorts.id, { onDelete: 'cascade' }),
    week: integer('week').notNull(),
    // The opening instant that was announced (a move can put it back into the future).
    opensAt: integer('opens_at', { mode: 'timestamp_ms' }).notNull(),
    notifiedAt: integer('notified_at', { mode: 'timestamp_ms' }).notNull(),
    // How many learners were emailed.
    learners: integer('learners').notNull(),
  },
  (t) => [primaryKey({ columns: [t.cohortId, t.week] })],
);
