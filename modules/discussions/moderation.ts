// Moderation: instructors hide or show posts and pin, lock or hide threads; authors and instructors remove posts.
import { eq } from 'drizzle-orm';
import { BadInput, Forbidden } from '../../server/errors.js';
import { posts, threads } from './schema.js';
import { isStaff, type DiscussionDeps, type PostRow, type ThreadRow, type ThreadScope } from './common.js';

/** Instructors hide or show a post; hidden posts stay visible to instructors (and to their author). */
export async function setPostHidden(deps: DiscussionDeps, scope: ThreadScope, post: PostRow, hidden: boolean): Promise<PostRow> {
  const { access } = scope;
  if (!isStaff(access)) throw new Forbidden('Only the cohort’s instructors can hide posts.');
  if (post.hidden === hidden) return post;
  return deps.database.transaction(async (tx) => {
    const [row] = await tx
      .update(posts)
      .set(hidden ? { hidden, hiddenBy: access.user.id, hiddenAt: deps.clock.now() } : { hidden, hiddenBy: null, hiddenAt: null })
      .where(eq(posts.id, post.id))
      .returning();
    // Shown again, the post counts toward its author's certificate once more.
    if (!hidden) await deps.events.emit(tx, 'progress.changed', { cohortId: access.cohort.id, userId: post.authorId });
    return row;
  });
}

/** The author or an instructor removes a post: its text is erased and a "removed" marker stays in the thread. */
export async function deletePost(deps: DiscussionDeps, scope: ThreadScope, post: PostRow): Promise<void> {
  const { access } = scope;
  if (post.authorId !== access.user.id && !isStaff(access)) throw new Forbidden('Only the author or an instructor can remove a post.');
  if (post.deletedAt) return;
  await deps.database.transaction(async (tx) => {
    await tx.update(posts).set({ deletedAt: deps.clock.now(), deletedBy: access.user.id, markdown: '', html: '' }).where(eq(posts.id, post.id));
  });
}

/** Instructors pin, lock or hide a thread. */
export async function updateThread(deps: DiscussionDeps, scope: ThreadScope, patch: { pinned?: boolean; locked?: boolean; hidden?: boolean }): Promise<ThreadRow> {
  const { access, thread } = scope;
  if (!isStaff(access)) throw new Forbidden('Only the cohort’s instructors can pin, lock or hide threads.');
  const set: Partial<ThreadRow> = {};
  if (patch.pinned !== undefined) set.pinned = patch.pinned;
  if (patch.locked !== undefined) set.locked = patch.locked;
  if (patch.hidden !== undefined) set.hidden = patch.hidden;
  if (Object.keys(set).length === 0) throw new BadInput('send at least one of pinned, locked, hidden.', 'body');
  return deps.database.transaction(async (tx) => {
    const [row] = await tx.update(threads).set(set).where(eq(threads.id, thread.id)).returning();
    return row;
  });
}
