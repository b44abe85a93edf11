// Threads: the week threads every cohort opens with, member-started threads, the thread list, and finding a thread for its viewer.
import { and, eq, isNotNull, isNull, sql } from 'drizzle-orm';
import type { Db } from '../../server/db.js';
import { BadInput, NotFound, NotSignedIn } from '../../server/errors.js';
import { users } from '../people/schema.js';
import type { User } from '../people/service.js';
import type { Cohort, CohortAccess } from '../cohorts/service.js';
import { posts, threadReads, threads } from './schema.js';
import { renderBody } from './posts.js';
import {
  assertCanSee,
  assertCanWrite,
  displayName,
  instructorSet,
  isStaff,
  roleOf,
  type Author,
  type DiscussionDeps,
  type PostRow,
  type ThreadRow,
  type ThreadScope,
} from './common.js';

export const MAX_TITLE = 200;

export interface ThreadSummary {
  id: number;
  cohortId: number;
  title: string;
  week: number | null;
  pinned: boolean;
  locked: boolean;
  hidden: boolean;
  /** Posts the caller can read (not removed; for learners, not hidden). */
  posts: number;
  /** Of those, posts by others newer than the caller's last visit. */
  unread: number;
  lastPostAt: Date | null;
  author: Author | null;
  /** For sorting and display: the latest post, else when the thread opened (a week thread: when its week opens). */
  activityAt: Date;
}

function checkTitle(title: string): string {
  const t = title.replace(/\s+/g, ' ').trim();
  if (!t) throw new BadInput('give the thread a title.', 'title');
  if (t.length > MAX_TITLE) throw new BadInput(`a title can be at most ${MAX_TITLE} characters.`, 'title');
  return t;
}

/** "Week 2 — Bringing people in"; course titles that already say "Week 2" are kept as they are. */
function weekTitle(cohort: Cohort, n: number): string {
  const title = cohort.course.weeks[n - 1]?.title?.trim() ?? '';
  if (new RegExp(`^week\\s*${n}\\b`, 'i').test(title)) return title;
  return title ? `Week ${n} — ${title}` : `Week ${n}`;
}

/** Create the week threads of a cohort (idempotent; inside the caller's transaction). */
export async function ensureWeekThreads(deps: DiscussionDeps, tx: Db, cohort: Cohort): Promise<void> {
  const now = deps.clock.now();
  for (const w of cohort.timeline.weeks) {
    await tx
      .insert(threads)
      .values({ cohortId: cohort.id, week: w.number, title: weekTitle(cohort, w.number), createdAt: now })
      .onConflictDoNothing();
  }
}

/**
 * The thread list's rows. Per thread, readable posts and the caller's unread ones are counted in correlated subqueries
 * over posts_thread_order_idx (never the post bodies); grouping a join instead made SQLite scan every thread of every
 * cohort. Staff also see hidden posts and hidden threads.
 */
function threadRows(db: Db, cohortId: number, userId: number, staff: boolean) {
  const visible = staff ? isNull(posts.deletedAt) : and(isNull(posts.deletedAt), eq(posts.hidden, false));
  return db
    .select({
      id: threads.id,
      cohortId: threads.cohortId,
      title: threads.title,
      week: threads.week,
      pinned: threads.pinned,
      locked: threads.locked,
      hidden: threads.hidden,
      createdAt: threads.createdAt,
      lastPostAt: threads.lastPostAt,
      authorId: threads.authorId,
      authorName: users.name,
      authorRole: users.role,
      posts: sql<number>`(select count(*) from ${posts} where ${posts.threadId} = ${threads.id} and ${visible})`,
      // The reader's marker is joined once per thread, not looked up again for every post the count reads (SQLite
      // does not hoist a correlated subquery): the cohort home's thread list took 445 µs that way and 205 µs
      // joined, for a cohort whose busiest thread has 1,200 posts.
      unread: sql<number>`(select count(*) from ${posts} where ${posts.threadId} = ${threads.id} and ${visible} and ${posts.authorId} <> ${userId} and ${posts.id} > coalesce(${threadReads.lastReadPostId}, 0))`,
    })
    .from(threads)
    .leftJoin(users, eq(users.id, threads.authorId))
    .leftJoin(threadReads, and(eq(threadReads.threadId, threads.id), eq(threadReads.userId, userId)))
    .where(staff ? eq(threads.cohortId, cohortId) : and(eq(threads.cohortId, cohortId), eq(threads.hidden, false)));
}

/** The cohort's threads the caller may see: pinned first, then by latest activity. */
export async function listThreads(deps: DiscussionDeps, access: CohortAccess): Promise<ThreadSummary[]> {
  const { database, clock } = deps;
  const cohort = access.cohort;
  const have = await database.db.$count(threads, and(eq(threads.cohortId, cohort.id), isNotNull(threads.week)));
  // Cohorts created before this module (or by a path without the event) get their week threads on first sight.
  if (have < cohort.timeline.weeks.length) await database.transaction((tx) => ensureWeekThreads(deps, tx, cohort));
  const staff = isStaff(access);
  const rows = await threadRows(database.db, cohort.id, access.user.id, staff);
  const now = clock.now().getTime();
  const instructors = await instructorSet(deps, cohort.id);
  return rows
    .map((r) => {
      const opensAt = r.week !== null ? cohort.timeline.weeks[r.week - 1]?.opensAt : undefined;
      const started = opensAt ?? r.createdAt;
      const activityAt = r.lastPostAt && r.lastPostAt.getTime() > started.getTime() ? r.lastPostAt : started;
      const role = r.authorId !== null ? roleOf({ id: r.authorId, role: r.authorRole ?? 'learner' }, instructors) : null;
      return {
        summary: {
          id: r.id,
          cohortId: r.cohortId,
          title: r.title,
          week: r.week,
          pinned: r.pinned,
          locked: r.locked,
          hidden: r.hidden,
          posts: Number(r.posts),
          unread: Number(r.unread),
          lastPostAt: r.lastPostAt,
          author: r.authorId !== null && role ? { id: r.authorId, name: displayName(r.authorName ?? '', role), role } : null,
          activityAt,
        } satisfies ThreadSummary,
        // Learners see a week's thread from the moment the week opens.
        visible: staff || !opensAt || opensAt.getTime() <= now,
      };
    })
    .filter((r) => r.visible)
    .map((r) => r.summary)
    .sort((a, b) => Number(b.pinned) - Number(a.pinned) || b.activityAt.getTime() - a.activityAt.getTime() || b.id - a.id);
}

/** The week's thread for the week page (created if missing), or null when the caller may not see it yet. */
export async function weekThread(deps: DiscussionDeps, access: CohortAccess, week: number): Promise<ThreadSummary | null> {
  const list = await listThreads(deps, access);
  return list.find((t) => t.week === week) ?? null;
}

/** The summary of one thread for the caller (after a change). */
export async function summary(deps: DiscussionDeps, scope: ThreadScope): Promise<ThreadSummary> {
  const found = (await listThreads(deps, scope.access)).find((t) => t.id === scope.thread.id);
  if (!found) throw new NotFound('Thread');
  return found;
}

/** A thread by id for the API: 401 signed out, 404 unknown, 403 outside its cohort (or week not open), 404 hidden for learners. */
export async function threadById(deps: DiscussionDeps, user: User | null, threadId: number): Promise<ThreadScope> {
  if (!user) throw new NotSignedIn();
  const [thread] = await deps.database.db.select().from(threads).where(eq(threads.id, threadId)).limit(1);
  if (!thread) throw new NotFound('Thread');
  const access = await deps.cohorts.access(user, thread.cohortId);
  assertCanSee(deps, access, thread);
  return { access, thread };
}

/** A thread of a cohort the caller already has access to (pages): 404 when it belongs elsewhere. */
export async function threadInCohort(deps: DiscussionDeps, access: CohortAccess, threadId: number): Promise<ThreadScope> {
  const [thread] = await deps.database.db
    .select()
    .from(threads)
    .where(and(eq(threads.id, threadId), eq(threads.cohortId, access.cohort.id)))
    .limit(1);
  if (!thread) throw new NotFound('Thread');
  assertCanSee(deps, access, thread);
  return { access, thread };
}

/** Start a thread with its first post (any member of the cohort). */
export async function createThread(deps: DiscussionDeps, access: CohortAccess, input: { title: string; body: string }): Promise<{ thread: ThreadRow; post: PostRow }> {
  assertCanWrite(deps, access, null);
  const title = checkTitle(input.title);
  const { markdown, html } = renderBody(input.body);
  const now = deps.clock.now();
  return deps.database.transaction(async (tx) => {
    const [thread] = await tx
      .insert(threads)
      .values({ cohortId: access.cohort.id, title, authorId: access.user.id, createdAt: now, lastPostAt: now })
      .returning();
    const [post] = await tx
      .insert(posts)
      .values({ threadId: thread.id, cohortId: access.cohort.id, authorId: access.user.id, markdown, html, createdAt: now })
      .returning();
    await deps.events.emit(tx, 'progress.changed', { cohortId: access.cohort.id, userId: access.user.id });
    return { thread, post };
  });
}
