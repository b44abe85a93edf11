// Writing posts: one code path for the post writer thread (post-writer.ts) and for writing on the caller's own
// connection. A batch of posts is rendered first, then written in one transaction, each post in its own savepoint so
// one refused post leaves the others written.
import type Database from 'better-sqlite3';
import { and, eq, isNull, sql, type Placeholder } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { fixedLimit } from '../../server/connection.js';
import { renderMarkdown } from '../../server/markdown.js';
import { posts, threads } from './schema.js';

export type PostRow = typeof posts.$inferSelect;

export const MAX_BODY = 20_000;

/** A post checked by its route (access, lock, parent, body) and ready to be written. */
export interface PostJob {
  threadId: number;
  cohortId: number;
  parentId: number | null;
  authorId: number;
  /** Normalised by checkBody. */
  markdown: string;
  /** Epoch milliseconds (the app clock's now). */
  createdAt: number;
}

/**
 * What became of one job: the written row, or why it was refused (status as the API answers it). `postsBefore` counts
 * the author's posts in the cohort (not removed, not hidden) written before this one, up to POSTS_BEFORE_CAP: what the
 * certificate hook needs to know about a post.
 */
export type PostOutcome = { ok: true; post: PostRow; postsBefore: number } | { ok: false; status: 400 | 404 | 409 | 500; message: string };

/** The most earlier posts counted for a new post: rules ask for one or two (a rule asking for more is checked in full). */
export const POSTS_BEFORE_CAP = 8;

/**
 * The posts that count toward an author's certificate in a cohort: their own there, neither removed nor hidden. One
 * condition for the certificate's post count and the writer's posts-before count, so the two always agree.
 */
export function countedPosts(cohortId: Placeholder, authorId: Placeholder) {
  return and(eq(posts.cohortId, cohortId), eq(posts.authorId, authorId), isNull(posts.deletedAt), eq(posts.hidden, false));
}

/** Normalises a post body and refuses an empty or over-long one (before anything is queued). */
export function checkBody(body: string): { ok: true; markdown: string } | { ok: false; message: string } {
  const markdown = body.replace(/\r\n?/g, '\n').trim();
  if (!markdown) return { ok: false, message: 'body: write something before posting.' };
  if (markdown.length > MAX_BODY) return { ok: false, message: `body: a post can be at most ${MAX_BODY} characters.` };
  return { ok: true, markdown };
}

/** The sanitised HTML of a checked body, or null when nothing is left once unsafe HTML is removed. */
export function renderPostBody(markdown: string): string | null {
  const html = renderMarkdown(markdown);
  return html.replace(/<[^>]*>/g, '').trim() ? html : null;
}

export const NOTHING_LEFT = 'body: nothing is left once unsafe HTML is removed; write your post as text or Markdown.';

/**
 * Prepared once per connection: the lock check, the insert, the thread's activity time and the author's earlier posts,
 * all in one transaction.
 */
export function createPostWrites(sqlite: Database.Database) {
  const db = drizzle(sqlite);
  // Locking a thread while a post waits to be written must still refuse it: the lock is read again inside the write.
  const threadStmt = db.select({ locked: threads.locked, cohortId: threads.cohortId }).from(threads).where(eq(threads.id, sql.placeholder('id'))).prepare();
  // SQLite compiles the cache-version triggers into each statement, so these are prepared once, not per post.
  const insertStmt = db
    .insert(posts)
    .values({
      threadId: sql.placeholder('threadId'),
      cohortId: sql.placeholder('cohortId'),
      parentId: sql.placeholder('parentId'),
      authorId: sql.placeholder('authorId'),
      markdown: sql.placeholder('markdown'),
      html: sql.placeholder('html'),
      createdAt: sql.placeholder('createdAt'),
    })
    .returning()
    .prepare();
  // Counted in the writing transaction, right after the insert, while the author index's pages are in this
  // connection's cache: a range of that index read no further than POSTS_BEFORE_CAP entries. "Before" is by id, so
  // posts written in one batch each count the ones before them.
  const postsBeforeStmt = db
    .select({ n: sql<number>`count(*)` })
    .from(
      db
        .select({ one: sql`1` })
        .from(posts)
        .where(and(countedPosts(sql.placeholder('cohortId'), sql.placeholder('authorId')), sql`${posts.id} < ${sql.placeholder('id')}`))
        .limit(fixedLimit(POSTS_BEFORE_CAP))
        .as('before'),
    )
    .prepare();
  // The post a job would have written, if it was: same thread, author, instant and text (see `recover`). A rare path:
  // the thread's index, named, so the planner never scans posts for it (it did, on a small analyzed table).
  const sameStmt = sqlite.prepare<[number, number, number, string], { id: number }>(
    'SELECT id FROM posts INDEXED BY posts_thread_order_idx WHERE thread_id = ? AND author_id = ? AND created_at = ? AND markdown = ?',
  );
  const byIdStmt = db.select().from(posts).where(eq(posts.id, sql.placeholder('id'))).prepare();
  const postsBefore = (job: PostJob, id: number) => postsBeforeStmt.get({ cohortId: job.cohortId, authorId: job.authorId, id })?.n ?? 0;
  const touchStmt = db
    .update(threads)
    .set({ lastPostAt: sql`${sql.placeholder('at')}` })
    .where(eq(threads.id, sql.placeholder('id')))
    .prepare();

  // Called inside the batch's transaction, so better-sqlite3 makes it a savepoint: a failure undoes this post only.
  const writeOne = sqlite.transaction((job: PostJob, html: string): PostOutcome => {
    const thread = threadStmt.get({ id: job.threadId });
    if (!thread || thread.cohortId !== job.cohortId) return { ok: false, status: 404, message: 'Thread not found.' };
    if (thread.locked) return { ok: false, status: 409, message: 'This thread is locked: no new posts or edits.' };
    const post = insertStmt.get({ ...job, createdAt: new Date(job.createdAt), html })!;
    touchStmt.run({ at: job.createdAt, id: job.threadId });
    return { ok: true, post, postsBefore: postsBefore(job, post.id) };
  });
  const writeAll = sqlite.transaction((jobs: PostJob[], html: Array<string | null>): PostOutcome[] =>
    jobs.map((job, i) => {
      const body = html[i];
      if (body === null) return { ok: false, status: 400, message: NOTHING_LEFT };
      try {
        return writeOne(job, body);
      } catch (err) {
        // A parent removed in the meantime fails its foreign key: the post is refused, the batch goes on.
        if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
          return { ok: false, status: 409, message: 'The post you replied to is gone; reload the thread and post again.' };
        }
        throw err;
      }
    }),
  );

  const recoverOne = sqlite.transaction((job: PostJob, html: string | null): PostOutcome => {
    const same = sameStmt.get(job.threadId, job.authorId, job.createdAt, job.markdown);
    const post = same && byIdStmt.get({ id: same.id });
    if (!post) return writeAll([job], [html])[0];
    return { ok: true, post, postsBefore: postsBefore(job, post.id) };
  });

  return {
    /**
     * Write `jobs` in one transaction (IMMEDIATE: it takes the write lock before reading, so another connection's
     * commit can never invalidate what it read). Rendering happens first, outside the lock.
     */
    write(jobs: PostJob[]): PostOutcome[] {
      const html = jobs.map((j) => renderPostBody(j.markdown));
      return writeAll.immediate(jobs, html);
    },

    /**
     * A job whose writer stopped before answering: it may have committed the post or not. The post it wrote if it did
     * (found by thread, author, instant to the millisecond and text), else written now, in one IMMEDIATE transaction,
     * so the post is there exactly once.
     */
    recover(job: PostJob): PostOutcome {
      return recoverOne.immediate(job, renderPostBody(job.markdown));
    },
  };
}
