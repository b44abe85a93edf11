// Discussions: the module's face. Threads and posts per cohort, moderation, read markers and the daily digest, one use case a file.
import type { Db } from '../../server/db.js';
import type { User } from '../people/service.js';
import type { Cohort, CohortAccess } from '../cohorts/service.js';
import type { DiscussionDeps, PostRow, PostView, ThreadRow, ThreadScope } from './common.js';
import * as threads from './threads.js';
import * as posts from './posts.js';
import * as moderation from './moderation.js';
import * as reads from './reads.js';
import * as digest from './digest.js';
import type { ThreadSummary } from './threads.js';
import type { ThreadPage } from './reads.js';

export { EDIT_WINDOW_MINUTES } from './common.js';
export type { Author, DiscussionDeps, PostRow, PostView, ThreadRow, ThreadScope } from './common.js';
export { MAX_TITLE, type ThreadSummary } from './threads.js';
export { MAX_BODY } from './posts.js';
export { POSTS_PER_PAGE, type ThreadPage } from './reads.js';
export { DIGEST_HOUR, excerpt } from './digest.js';

export function createDiscussionService(deps: DiscussionDeps) {
  return {
    /** Create the week threads of a cohort (idempotent; inside the caller's transaction). */
    ensureWeekThreads: (tx: Db, cohort: Cohort): Promise<void> => threads.ensureWeekThreads(deps, tx, cohort),
    /** The cohort's threads the caller may see: pinned first, then by latest activity. */
    listThreads: (access: CohortAccess): Promise<ThreadSummary[]> => threads.listThreads(deps, access),
    /** The week's thread for the week page, or null when the caller may not see it yet. */
    weekThread: (access: CohortAccess, week: number): Promise<ThreadSummary | null> => threads.weekThread(deps, access, week),
    /** The summary of one thread for the caller (after a change). */
    summary: (scope: ThreadScope): Promise<ThreadSummary> => threads.summary(deps, scope),
    /** A thread by id for the API: 401, 404, or 403 outside its cohort or before its week opens. */
    threadById: (user: User | null, threadId: number): Promise<ThreadScope> => threads.threadById(deps, user, threadId),
    /** A thread of a cohort the caller already has access to (pages): 404 when it belongs elsewhere. */
    threadInCohort: (access: CohortAccess, threadId: number): Promise<ThreadScope> => threads.threadInCohort(deps, access, threadId),
    /** Start a thread with its first post (any member of the cohort). */
    createThread: (access: CohortAccess, input: { title: string; body: string }): Promise<{ thread: ThreadRow; post: PostRow }> =>
      threads.createThread(deps, access, input),

    /** Post in a thread, or reply to a post. 409 when locked. */
    createPost: (scope: ThreadScope, input: { body: string; parentId?: number | null }): Promise<PostRow> => posts.createPost(deps, scope, input),
    /** A post by id for the API, with its thread, scoped like threadById. */
    postById: (user: User | null, postId: number): Promise<ThreadScope & { post: PostRow }> => posts.postById(deps, user, postId),
    /** A post of a thread the caller may see (pages): 404 when it belongs elsewhere. */
    postInThread: (scope: ThreadScope, postId: number): Promise<PostRow> => posts.postInThread(deps, scope, postId),
    /** One post as the caller sees it. */
    viewPost: (scope: ThreadScope, postId: number): Promise<PostView> => posts.viewPost(deps, scope, postId),
    /** Refuses an edit: 403 for anyone but the author; 409 once removed, locked, or past the edit window. */
    assertCanEdit: (scope: ThreadScope, post: PostRow): void => posts.assertCanEdit(deps, scope, post),
    /** The author edits their post within the edit window. */
    editPost: (scope: ThreadScope, post: PostRow, body: string): Promise<PostRow> => posts.editPost(deps, scope, post, body),
    /** A learner's posts in a cohort that count (not removed, not hidden): the certificates module reads this. */
    postCount: (cohortId: number, userId: number, tx?: Db): Promise<number> => posts.postCount(deps, cohortId, userId, tx),
    /** postCount for every author in a cohort from one grouped query (whole-cohort certificate checks). */
    postCounts: (cohortId: number, tx?: Db): Promise<(userId: number) => number> => posts.postCounts(deps, cohortId, tx),

    /** Instructors hide or show a post. */
    setPostHidden: (scope: ThreadScope, post: PostRow, hidden: boolean): Promise<PostRow> => moderation.setPostHidden(deps, scope, post, hidden),
    /** The author or an instructor removes a post; a "removed" marker stays. */
    deletePost: (scope: ThreadScope, post: PostRow): Promise<void> => moderation.deletePost(deps, scope, post),
    /** Instructors pin, lock or hide a thread. */
    updateThread: (scope: ThreadScope, patch: { pinned?: boolean; locked?: boolean; hidden?: boolean }): Promise<ThreadRow> =>
      moderation.updateThread(deps, scope, patch),

    /** One page of a thread as the caller sees it; marks what was shown as read. */
    readThread: (scope: ThreadScope, page = 1, opts: { markRead?: boolean } = {}): Promise<ThreadPage> => reads.readThread(deps, scope, page, opts),
    /** How many pages the thread has. */
    pageCount: (threadId: number): Promise<number> => reads.pageCount(deps, threadId),
    /** The page of the thread on which a post appears (for redirects after posting). */
    pageOfPost: (threadId: number, post: { id: number; parentId: number | null }): Promise<number> => reads.pageOfPost(deps, threadId, post),

    /** The daily digest, all due members at once. Returns emails queued. */
    runDigest: (now: Date): Promise<number> => digest.runDigest(deps, now),
    /** The daily digest with requests let in every few members (the scheduler's way). */
    runDigestInSteps: (now: Date): Promise<number> => digest.runDigestInSteps(deps, now),
  };
}

export type DiscussionService = ReturnType<typeof createDiscussionService>;
