// Discussions: threads per cohort (one per week plus member-started ones), posts with one level of replies, read markers, digest runs.
import { sql } from 'drizzle-orm';
import { sqliteTable, integer, text, index, primaryKey, unique, type AnySQLiteColumn } from 'drizzle-orm/sqlite-core';
import { users } from '../people/schema.js';
import { cohorts } from '../cohorts/schema.js';

export const threads = sqliteTable(
  'threads',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    cohortId: integer('cohort_id').notNull().references(() => cohorts.id, { onDelete: 'cascade' }),
    // Set on the one thread per week that opens with the week's discussion prompt; null for member-started threads.
    week: integer('week'),
    title: text('title').notNull(),
    // Null for the week threads the course opens.
    authorId: integer('author_id').references(() => users.id, { onDelete: 'set null' }),
    pinned: integer('pinned', { mode: 'boolean' }).notNull().default(false),
    locked: integer('locked', { mode: 'boolean' }).notNull().default(false),
    hidden: integer('hidden', { mode: 'boolean' }).notNull().default(false),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    lastPostAt: integer('last_post_at', { mode: 'timestamp_ms' }),
  },
  // SQLite treats NULL weeks as distinct, so the unique pair only binds the week threads.
  (t) => [unique('threads_cohort_week_uq').on(t.cohortId, t.week), index('threads_cohort_idx').on(t.cohortId, t.lastPostAt)],
);

export const posts = sqliteTable(
  'posts',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    threadId: integer('thread_id').notNull().references(() => threads.id, { onDelete: 'cascade' }),
    // Denormalised from the thread so every post query is scoped by cohort and counts per learner are one index read.
    cohortId: integer('cohort_id').notNull().references(() => cohorts.id, { onDelete: 'cascade' }),
    // A top-level post when null; replies always point at a top-level post (one level of nesting).
    parentId: integer('parent_id').references((): AnySQLiteColumn => posts.id, { onDelete: 'cascade' }),
    authorId: integer('author_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    markdown: text('markdown').notNull(),
    // Rendered and sanitised once, at write time.
    html: text('html').notNull(),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    editedAt: integer('edited_at', { mode: 'timestamp_ms' }),
    // Set when the author or an instructor removes the post: the text is erased, a "removed" marker stays.
    deletedAt: integer('deleted_at', { mode: 'timestamp_ms' }),
    deletedBy: integer('deleted_by').references(() => users.id, { onDelete: 'set null' }),
    hidden: integer('hidden', { mode: 'boolean' }).notNull().default(false),
    hiddenBy: integer('hidden_by').references(() => users.id, { onDelete: 'set null' }),
    hiddenAt: integer('hidden_at', { mode: 'timestamp_ms' }),
  },
  (t) => [
    // Every index is written on every post (about 18 µs a commit each), so each one earns its place. A learner's
    // post count (certificate progress, on every post and every cohort home) is read from this one alone.
    // Queries by thread use posts_thread_order_idx (no plain (thread_id, id) index).
    index('posts_cohort_author_idx').on(t.cohortId, t.authorId, t.deletedAt, t.hidden),
    // Replies only: most posts start a conversation (parent_id null) and so write nothing here. Lookups and the
    // cascade on a parent's delete compare parent_id with =, which SQLite knows implies "is not null".
    index('posts_parent_idx').on(t.parentId).where(sql`${t.parentId} is not null`),
    // One index for everything read by thread. A thread page reads its 50 posts in display order (each post, then its
    // replies) without sorting the thread; thread lists count readable and unread posts per thread from the same
    // entries (no post bodies read). It replaced a second, counting index: one index fewer written per post was a
    // quarter more posts a second on the bench, for about a tenth more time on an uncached cohort home.
    // The expression has no comma on purpose: drizzle-kit splits index expressions at commas.
    index('posts_thread_order_idx').on(
      t.threadId,
      sql`(case when ${t.parentId} is null then ${t.id} else ${t.parentId} end)`,
      t.id,
      t.deletedAt,
      t.hidden,
      t.authorId,
    ),
  ],
);

export const threadReads = sqliteTable(
  'thread_reads',
  {
    userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    threadId: integer('thread_id').notNull().references(() => threads.id, { onDelete: 'cascade' }),
    // Posts with a larger id are unread for this user.
    lastReadPostId: integer('last_read_post_id').notNull().default(0),
    readAt: integer('read_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.threadId] }), index('thread_reads_thread_idx').on(t.threadId)],
);

export const discussionDigests = sqliteTable(
  'discussion_digests',
  {
    userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    // The user's local day (YYYY-MM-DD) this run belongs to: at most one run per user and day.
    day: text('day').notNull(),
    // Every post with an id up to here has been considered; the next digest starts after it.
    upToPostId: integer('up_to_post_id').notNull(),
    // How many posts the email listed (0: nothing new, no email).
    postCount: integer('post_count').notNull(),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.day] })],
);
