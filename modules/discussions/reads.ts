// Reading a thread: one page of posts as its viewer sees them, where a post falls in the pages, and the read markers.
import { and, asc, eq, sql } from 'drizzle-orm';
import { users } from '../people/schema.js';
import { posts, threadReads } from './schema.js';
import { instructorSet, toView, type DiscussionDeps, type PostView, type ThreadRow, type ThreadScope } from './common.js';

/** Posts shown on one page of a thread. */
export const POSTS_PER_PAGE = 50;

export interface ThreadPage {
  thread: ThreadRow;
  /** The week's discussion prompt (sanitised HTML from the course), for week threads. */
  promptHtml: string | null;
  page: number;
  pages: number;
  perPage: number;
  total: number;
  posts: PostView[];
}

/** How many posts the thread has, removed and hidden ones included (they stay as markers). */
async function postTotal(deps: DiscussionDeps, threadId: number): Promise<number> {
  return deps.database.db.$count(posts, eq(posts.threadId, threadId));
}

/** Move the reader's marker up to `postId` (never back: another tab may have read further meanwhile). */
async function markRead(deps: DiscussionDeps, userId: number, threadId: number, postId: number): Promise<void> {
  const now = deps.clock.now();
  await deps.database.transaction(async (tx) => {
    await tx
      .insert(threadReads)
      .values({ userId, threadId, lastReadPostId: postId, readAt: now })
      .onConflictDoUpdate({
        target: [threadReads.userId, threadReads.threadId],
        set: {
          lastReadPostId: sql`case when excluded.last_read_post_id > ${threadReads.lastReadPostId} then excluded.last_read_post_id else ${threadReads.lastReadPostId} end`,
          readAt: now,
        },
      });
  });
}

/**
 * One page of a thread as the caller sees it: top-level posts in order, each followed by its replies.
 * One query for the posts with their authors, whatever the page size. Marks what was shown as read.
 */
export async function readThread(deps: DiscussionDeps, scope: ThreadScope, page = 1, opts: { markRead?: boolean } = {}): Promise<ThreadPage> {
  const { access, thread } = scope;
  const db = deps.database.db;
  const me = access.user.id;
  const total = await postTotal(deps, thread.id);
  const pages = Math.max(1, Math.ceil(total / POSTS_PER_PAGE));
  const rows =
    page > pages
      ? []
      : await db
          .select({
            // What a post view needs (not the Markdown source, which only the edit form reads).
            post: {
              id: posts.id,
              parentId: posts.parentId,
              authorId: posts.authorId,
              html: posts.html,
              createdAt: posts.createdAt,
              editedAt: posts.editedAt,
              deletedAt: posts.deletedAt,
              hidden: posts.hidden,
            },
            authorName: users.name,
            authorRole: users.role,
          })
          .from(posts)
          .innerJoin(users, eq(users.id, posts.authorId))
          // The cohort is only a guard (the thread is already known to be the cohort's): the unary + keeps SQLite from
          // reading the cohort's posts through posts_cohort_author_idx and sorting them, which it would otherwise
          // prefer whenever that index has no statistics.
          .where(and(eq(posts.threadId, thread.id), sql`+${posts.cohortId} = ${access.cohort.id}`))
          // A reply's id is always larger than its parent's, so this is "each post, then its replies". Written as in
          // posts_thread_order_idx (coalesce(parent_id, id) without a comma), so the page is read from the index, not
          // sorted.
          .orderBy(sql`(case when ${posts.parentId} is null then ${posts.id} else ${posts.parentId} end)`, asc(posts.id))
          .limit(POSTS_PER_PAGE)
          .offset((page - 1) * POSTS_PER_PAGE);
  const [read] = await db
    .select({ last: threadReads.lastReadPostId })
    .from(threadReads)
    .where(and(eq(threadReads.userId, me), eq(threadReads.threadId, thread.id)))
    .limit(1);
  const lastRead = read?.last ?? 0;
  const instructors = await instructorSet(deps, access.cohort.id);
  const views = rows.map((row) => toView(deps, scope, row, lastRead, instructors));
  if (opts.markRead !== false && rows.length > 0) {
    const maxShown = Math.max(...rows.map((r) => r.post.id));
    if (maxShown > lastRead) await markRead(deps, me, thread.id, maxShown);
  }
  const promptHtml = thread.week !== null ? (access.cohort.course.weeks[thread.week - 1]?.discussionPromptHtml ?? null) : null;
  return { thread, promptHtml, page, pages, perPage: POSTS_PER_PAGE, total, posts: views };
}

/** How many pages the thread has. */
export async function pageCount(deps: DiscussionDeps, threadId: number): Promise<number> {
  return Math.max(1, Math.ceil((await postTotal(deps, threadId)) / POSTS_PER_PAGE));
}

/** The page of the thread on which a post appears (for redirects after posting). */
export async function pageOfPost(deps: DiscussionDeps, threadId: number, post: { id: number; parentId: number | null }): Promise<number> {
  const root = post.parentId ?? post.id;
  const [row] = await deps.database.db
    .select({ n: sql<number>`count(*)` })
    .from(posts)
    .where(
      and(
        eq(posts.threadId, threadId),
        sql`(coalesce(${posts.parentId}, ${posts.id}) < ${root} or (coalesce(${posts.parentId}, ${posts.id}) = ${root} and ${posts.id} < ${post.id}))`,
      ),
    );
  return Math.floor(Number(row?.n ?? 0) / POSTS_PER_PAGE) + 1;
}
