// Live sessions: each cohort's concrete sessions, who attended or watched them, and private calendar feeds.
import { sqliteTable, integer, text, index, unique } from 'drizzle-orm/sqlite-core';
import { users } from '../people/schema.js';
import { cohorts } from '../cohorts/schema.js';

export const liveSessions = sqliteTable(
  'live_sessions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    cohortId: integer('cohort_id').notNull().references(() => cohorts.id, { onDelete: 'cascade' }),
    week: integer('week').notNull(),
    // Index into the course's `sessions` slots (its order in course.yaml).
    slotIndex: integer('slot_index').notNull(),
    title: text('title').notNull(),
    // Computed instants (UTC), recomputed from the slot or the override whenever the cohort moves.
    startsAt: integer('starts_at', { mode: 'timestamp_ms' }).notNull(),
    endsAt: integer('ends_at', { mode: 'timestamp_ms' }).notNull(),
    // An instructor's move, kept as a local date-time relative to the cohort: calendar days after the
    // cohort's startDate and HH:mm in the cohort's zone. A cohort moved by N days moves it by N days too.
    movedDayOffset: integer('moved_day_offset'),
    movedTime: text('moved_time'),
    movedDurationMinutes: integer('moved_duration_minutes'),
    joinUrl: text('join_url'),
    recordingUrl: text('recording_url'),
    recordingAddedAt: integer('recording_added_at', { mode: 'timestamp_ms' }),
    // iCalendar SEQUENCE: bumped whenever the instants change, so calendar apps take the new time.
    sequence: integer('sequence').notNull().default(0),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [unique('live_sessions_cohort_slot_uq').on(t.cohortId, t.slotIndex), index('live_sessions_starts_idx').on(t.startsAt)],
);

export const ATTENDANCE_KINDS = ['attended', 'watched'] as const;
export type AttendanceKind = (typeof ATTENDANCE_KINDS)[number];

export const attendance = sqliteTable(
  'attendance',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    sessionId: integer('session_id').notNull().references(() => liveSessions.id, { onDelete: 'cascade' }),
    userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: ATTENDANCE_KINDS }).notNull(),
    // Who recorded it: the instructor for "attended", the learner for "watched".
    markedBy: integer('marked_by').references(() => users.id, { onDelete: 'set null' }),
    at: integer('at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [unique('attendance_session_user_uq').on(t.sessionId, t.userId), index('attendance_user_idx').on(t.userId)],
);

export const calendarFeeds = sqliteTable(
  'calendar_feeds',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    // sha256 of the secret token in the feed URL; the token itself is never stored.
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    revokedAt: integer('revoked_at', { mode: 'timestamp_ms' }),
  },
  (t) => [index('calendar_feeds_user_idx').on(t.userId)],
);
