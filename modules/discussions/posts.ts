// Posts: checking and rendering a body, posting and replying, editing within the window, finding a post for its viewer, and the counts certificates read.
import { and, eq, isNull, sql } from 'drizzle-orm';
import { isForeignKeyViolation, type Db } from '../../server/db.js';
import { BadInput, Conflict, Forbidden, NotFound, NotSignedIn } from '../../server/errors.js';
import { renderMarkdown } from '../../server/markdown.js';
import { users } from '../people/schema.js';
import type { User } from '../people/service.js';
import { posts, threads } from './schema.js';
import {
  assertCanSee,
  assertCanWrite,
  EDIT_WINDOW_MINUTES,
  instructorSet,
  isStaff,
  reader,
  toView,
  type DiscussionDeps,
  type PostRow,
  type PostView,
  type ThreadScope,
} from './common.js';

export const MAX_BODY = 20_000;

export const NOTHING_LEFT = 'nothing is left once unsafe HTML is removed; write your post as text or Markdown.';

/** The posts that count toward certificates in a cohort (an author's own, when given): neither removed nor hidden. */
export function countedPosts(cohortId: number, authorId?: number) {
  return and(eq(posts.cohortId, cohortId), authorId === undefined ? undefined : eq(posts.authorId, authorId), isNull(posts.deletedAt), eq(posts.hidden, false));
}

/** The normalised body; a 400 naming `body` for an empty or over-long one. */
export function checkBody(body: string): string {
  const markdown = body.replace(/\r\n?/g, '\n').trim();
  if (!markdown) throw new BadInput('write something before posting.', 'body');
  if (markdown.length > MAX_BODY) throw new BadInput(`a post can be at most ${MAX_BODY} characters.`, 'body');
  return markdown;
}

/** The sanitised HTML of a checked body, or null when nothing is left once unsafe HTML is removed. */
export function renderPostBody(markdown: string): string | null {
  const html = renderMarkdown(markdown);
  return html.replace(/<[^>]*>/g, '').trim() ? html : null;
}

/** Checks the body and renders it; refuses what is empty once unsafe HTML is removed. */
export function renderBody(body: string): { markdown: string; html: string } {
  const markdown = checkBody(body);
  const html = renderPostBody(markdown);
  if (html === null) throw new BadInput(NOTHING_LEFT, 'body');
  return { markdown, html };
}


/** The parent a new post attaches to (a reply to a reply attaches to its top-level post), checked for the caller. */
async function replyParent(deps: DiscussionDeps, scope: ThreadScope, parentId: number | null | undefined): Promise<number | null> {
  const { access, thread } = scope;
  if (parentId === undefined || parentId === null) return null;
  const [parent] = await deps.database.db
    .select()
    .from(posts)
    .where(and(eq(posts.id, parentId), eq(posts.threadId, thread.id), eq(posts.cohortId, access.cohort.id)))
    .limit(1);
  if (!parent || (parent.hidden && !isStaff(access) && parent.authorId !== access.user.id)) {
    throw new BadInput('that post is not in this thread.', 'parentId');
  }
  if (parent.deletedAt) throw new Conflict('That post was removed; reply to the thread instead.');
  return parent.parentId ?? parent.id;
}

/** Post in a thread, or reply to a post (a reply to a reply attaches to its top-level post). 409 when locked. */
export async function createPost(deps: DiscussionDeps, scope: ThreadScope, input: { body: string; parentId?: number | null }): Promise<PostRow> {
  const { access, thread } = scope;
  assertCanWrite(deps, access, thread);
  const parentId = await replyParent(deps, scope, input.parentId);
  const { markdown, html } = renderBody(input.body);
  const now = deps.clock.now();
  return deps.database.transaction(async (tx) => {
    // Locking a thread while this post was being checked must still refuse it: the lock is read again here.
    const [current] = await tx
      .select({ locked: threads.locked })
      .from(threads)
      .where(and(eq(threads.id, thread.id), eq(threads.cohortId, access.cohort.id)))
      .limit(1);
    if (!current) throw new NotFound('Thread');
    if (current.locked) throw new Conflict('This thread is locked: no new posts or edits.');
    let post: PostRow;
    try {
      [post] = await tx.insert(posts).values({ threadId: thread.id, cohortId: access.cohort.id, parentId, authorId: access.user.id, markdown, html, createdAt: now }).returning();
    } catch (err) {
      // A parent removed in the meantime fails its foreign key.
      if (isForeignKeyViolation(err)) throw new Conflict('The post you replied to is gone; reload the thread and post again.');
      throw err;
    }
    await tx.update(threads).set({ lastPostAt: now }).where(eq(threads.id, thread.id));
    await deps.events.emit(tx, 'progress.changed', { cohortId: access.cohort.id, userId: access.user.id });
    return post;
    // Posts to one thread take turns (each updates the thread's last-post time): a cohort posting at once queues.
  }, { turn: `thread ${thread.id} posts` });
}

/** A post by id for the API, with its thread: 401 signed out, 404 unknown, 403 outside its cohort, 404 hidden from the caller. */
export async function postById(deps: DiscussionDeps, user: User | null, postId: number): Promise<ThreadScope & { post: PostRow }> {
  if (!user) throw new NotSignedIn();
  const db = deps.database.db;
  const [post] = await db.select().from(posts).where(eq(posts.id, postId)).limit(1);
  if (!post) throw new NotFound('Post');
  const access = await deps.cohorts.access(user, post.cohortId);
  const [thread] = await db
    .select()
    .from(threads)
    .where(and(eq(threads.id, post.threadId), eq(threads.cohortId, access.cohort.id)))
    .limit(1);
  if (!thread) throw new NotFound('Post');
  assertCanSee(deps, access, thread);
  if (post.hidden && !isStaff(access) && post.authorId !== user.id) throw new NotFound('Post');
  return { access, thread, post };
}

/** A post of a thread the caller may see (pages): 404 when it belongs elsewhere. */
export async function postInThread(deps: DiscussionDeps, scope: ThreadScope, postId: number): Promise<PostRow> {
  const [post] = await deps.database.db
    .select()
    .from(posts)
    .where(and(eq(posts.id, postId), eq(posts.threadId, scope.thread.id), eq(posts.cohortId, scope.access.cohort.id)))
    .limit(1);
  if (!post) throw new NotFound('Post');
  if (post.hidden && !isStaff(scope.access) && post.authorId !== scope.access.user.id) throw new NotFound('Post');
  return post;
}

/** One post as the caller sees it (after a change, or for the reply and edit pages). */
export async function viewPost(deps: DiscussionDeps, scope: ThreadScope, postId: number): Promise<PostView> {
  const [row] = await deps.database.db
    .select({ post: posts, authorName: users.name, authorRole: users.role })
    .from(posts)
    .innerJoin(users, eq(users.id, posts.authorId))
    .where(and(eq(posts.id, postId), eq(posts.threadId, scope.thread.id), eq(posts.cohortId, scope.access.cohort.id)))
    .limit(1);
  if (!row) throw new NotFound('Post');
  return toView(deps, scope, row, Number.MAX_SAFE_INTEGER, await instructorSet(deps, scope.access.cohort.id));
}

/** Refuses an edit: 403 for anyone but the author; 409 once removed, in a locked thread, or after the 30-minute window. */
export function assertCanEdit(deps: DiscussionDeps, scope: ThreadScope, post: PostRow): void {
  const { access, thread } = scope;
  if (post.authorId !== access.user.id) throw new Forbidden('Only the author can edit a post.');
  if (post.deletedAt) throw new Conflict('This post was removed.');
  assertCanWrite(deps, access, thread);
  if (deps.clock.now().getTime() - post.createdAt.getTime() > EDIT_WINDOW_MINUTES * 60_000) {
    throw new Conflict(`A post can be edited for ${EDIT_WINDOW_MINUTES} minutes after posting; that time has passed.`);
  }
}

/** The author edits their post within 30 minutes of posting: 403 for anyone else, 409 once the window has closed. */
export async function editPost(deps: DiscussionDeps, scope: ThreadScope, post: PostRow, body: string): Promise<PostRow> {
  assertCanEdit(deps, scope, post);
  const { markdown, html } = renderBody(body);
  return deps.database.transaction(async (tx) => {
    const [row] = await tx.update(posts).set({ markdown, html, editedAt: deps.clock.now() }).where(eq(posts.id, post.id)).returning();
    return row;
  });
}

/** A learner's posts in a cohort that count (not removed, not hidden), through the caller's transaction if any. */
export async function postCount(deps: DiscussionDeps, cohortId: number, userId: number, tx?: Db): Promise<number> {
  return reader(deps, tx).$count(posts, countedPosts(cohortId, userId));
}

/** postCount for every author in a cohort from one grouped query (whole-cohort certificate checks). */
export async function postCounts(deps: DiscussionDeps, cohortId: number, tx?: Db): Promise<(userId: number) => number> {
  const rows = await reader(deps, tx)
    .select({ authorId: posts.authorId, n: sql<number>`count(*)` })
    .from(posts)
    .where(countedPosts(cohortId))
    .groupBy(posts.authorId);
  const counts = new Map(rows.map((r) => [r.authorId, Number(r.n)]));
  return (userId) => counts.get(userId) ?? 0;
}
