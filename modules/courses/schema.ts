// Courses in the database: each course, its published versions (never changed once published), the draft its authors
// edit, and who authors it.
import { sqliteTable, integer, text, primaryKey, unique, index } from 'drizzle-orm/sqlite-core';
import { users } from '../people/schema.js';

export const courses = sqliteTable('courses', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  slug: text('slug').notNull().unique(),
  // The draft's title as last saved (the published title is in its version).
  title: text('title').notNull(),
  // The newest published version, or null until the first publish: unpublished courses are not listed.
  latestVersion: integer('latest_version'),
  createdBy: integer('created_by').references(() => users.id, { onDelete: 'set null' }),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
});

/** A published version: the whole course as a document (JSON), and the files it was imported from, for a faithful export. */
export const courseVersions = sqliteTable(
  'course_versions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    courseId: integer('course_id').notNull().references(() => courses.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    note: text('note'),
    // The CourseDocument as JSON (modules/courses/course-document.ts).
    document: text('document').notNull(),
    // The content files (JSON { path: text }) when the version came from files (import); null when authored in the app.
    files: text('files'),
    publishedBy: integer('published_by').references(() => users.id, { onDelete: 'set null' }),
    publishedAt: integer('published_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [unique('course_versions_uq').on(t.courseId, t.version)],
);

/** The one draft of a course its authors edit; publishing copies it into a new version. */
export const courseDrafts = sqliteTable('course_drafts', {
  courseId: integer('course_id').primaryKey().references(() => courses.id, { onDelete: 'cascade' }),
  document: text('document').notNull(),
  files: text('files'),
  updatedBy: integer('updated_by').references(() => users.id, { onDelete: 'set null' }),
  updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
});

/** Instructors who author a course (admins author every course). */
export const courseAuthors = sqliteTable(
  'course_authors',
  {
    courseId: integer('course_id').notNull().references(() => courses.id, { onDelete: 'cascade' }),
    userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.courseId, t.userId] }), index('course_authors_user_idx').on(t.userId)],
);
