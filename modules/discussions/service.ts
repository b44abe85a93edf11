// Discussions: threads and posts per cohort, who may see and change what, read markers and the daily digest.
import { and, asc, eq, gt, inArray, isNull, ne, sql } from 'drizzle-orm';
import sanitizeHtml from 'sanitize-html';
import type { AppContext } from '../../server/context.js';
import type { Db } from '../../server/db.js';
import { BadInput, Conflict, Forbidden, NotFound, NotSignedIn } from '../../server/errors.js';
import { formatDay, formatInstant } from '../../server/time.js';
import { users } from '../people/schema.js';
import type { User } from '../people/service.js';
import type { Cohort, CohortAccess, CohortRole } from '../cohorts/service.js';
import { discussionDigests, posts, threadReads, threads } from './schema.js';
import { checkBody, countedPosts, NOTHING_LEFT, renderPostBody, type PostRow } from './post-write.js';
import { cohortInstructors, enrolments } from '../cohorts/schema.js';

export type ThreadRow = typeof threads.$inferSelect;
export type { PostRow } from './post-write.js';

/** Posts shown on one page of a thread. */
export const POSTS_PER_PAGE = 50;
/** How long an author may edit a post after posting it. */
export const EDIT_WINDOW_MINUTES = 30;
/** The local hour from which a user's daily digest goes out. */
export const DIGEST_HOUR = 7;
export const MAX_TITLE = 200;
export { MAX_BODY } from './post-write.js';
/** Posts listed per thread in a digest before "and N more". */
const DIGEST_POSTS_PER_THREAD = 5;
const EXCERPT_CHARS = 240;

export interface Author {
  id: number;
  name: string;
  role: CohortRole;
}

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

/** A post as one particular viewer sees it. */
export interface PostView {
  id: number;
  parentId: number | null;
  /** Null when the post is removed, or hidden and the viewer is a learner other than its author. */
  author: Author | null;
  html: string;
  createdAt: Date;
  editedAt: Date | null;
  removed: boolean;
  hidden: boolean;
  mine: boolean;
  /** Newer than the viewer's last visit (and not their own). */
  isNew: boolean;
  canEdit: boolean;
  canDelete: boolean;
  canHide: boolean;
}

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

/** Where a thread or post lives and who is asking. */
export interface ThreadScope {
  access: CohortAccess;
  thread: ThreadRow;
}

const isStaff = (access: CohortAccess) => access.role !== 'learner';

/** A display name that never exposes an email address. */
function displayName(name: string, role: CohortRole): string {
  if (name.trim()) return name.trim();
  return role === 'learner' ? 'A learner' : 'An instructor';
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** Plain text of sanitised HTML, shortened for digests and panels. */
export function excerpt(html: string, max = EXCERPT_CHARS): string {
  const text = sanitizeHtml(html.replace(/<\/(p|li|h\d|blockquote|pre|tr)>/g, ' $&'), { allowedTags: [], allowedAttributes: {} })
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
      if (e[0] === '#') {
        const code = e[1].toLowerCase() === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return Number.isFinite(code) && code > 0 && code < 0x110000 ? String.fromCodePoint(code) : m;
      }
      return ENTITIES[e.toLowerCase()] ?? m;
    })
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > max ? `${text.slice(0, max - 1).trimEnd()}…` : text;
}

const localPartsFormatters = new Map<string, Intl.DateTimeFormat>();
/** The local calendar day and hour of an instant in a zone (formatters cached: building them is slow). */
/** A post as the digest reads it. */
interface DigestRow {
  id: number;
  cohortId: number;
  threadId: number;
  html: string;
  createdAt: Date;
  authorId: number;
  authorName: string;
  threadTitle: string;
  week: number | null;
}

/** User ids per cohort, keeping the rows' order. */
function groupByCohort(rows: Array<{ cohortId: number; userId: number }>): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const r of rows) {
    const list = out.get(r.cohortId);
    if (list) list.push(r.userId);
    else out.set(r.cohortId, [r.userId]);
  }
  return out;
}

/** Ids per statement when reading members in bulk (SQLite allows at most 32,766 bound values). */
const ID_CHUNK = 10_000;

/** A post's digest excerpt, made once per digest run however many members' emails show it. */
function cachedExcerpt(cache: Map<number, string>, row: { id: number; html: string }): string {
  let text = cache.get(row.id);
  if (text === undefined) {
    text = excerpt(row.html);
    cache.set(row.id, text);
  }
  return text;
}

function localDayHour(instant: Date, zone: string): { day: string; hour: number } {
  let f = localPartsFormatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', hourCycle: 'h23' });
    localPartsFormatters.set(zone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(instant).map((p) => [p.type, p.value]));
  return { day: `${parts.year}-${parts.month}-${parts.day}`, hour: Number(parts.hour) };
}

export function createDiscussionService(ctx: AppContext) {
  const { clock } = ctx;
  const db = () => ctx.db;
  // The thread list is on every cohort home and week page. Per thread, readable posts and the caller's unread ones are
  // counted in correlated subqueries over posts_thread_order_idx (never the post bodies); grouping a join instead made
  // SQLite scan every thread of every cohort. Staff also see hidden posts and hidden threads.
  const threadListStmt = (staff: boolean) => {
    const visible = staff ? sql`${posts.deletedAt} is null` : sql`(${posts.deletedAt} is null and ${posts.hidden} = 0)`;
    const userId = sql.placeholder('userId');
    return ctx.db
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
      .where(staff ? eq(threads.cohortId, sql.placeholder('cohortId')) : and(eq(threads.cohortId, sql.placeholder('cohortId')), eq(threads.hidden, false)))
      .prepare();
  };
  // A thread page: its size, one page of posts with their authors, and the reader's marker.
  const threadPostCountStmt = ctx.db
    .select({ n: sql<number>`count(*)` })
    .from(posts)
    .where(eq(posts.threadId, sql.placeholder('threadId')))
    .prepare();
  const threadPageStmt = ctx.db
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
    // reading the cohort's posts through posts_cohort_author_idx and sorting them, which it would otherwise prefer
    // whenever that index has no statistics.
    .where(and(eq(posts.threadId, sql.placeholder('threadId')), sql`+${posts.cohortId} = ${sql.placeholder('cohortId')}`))
    // A reply's id is always larger than its parent's, so this is "each post, then its replies". Written as in
    // posts_thread_order_idx (coalesce(parent_id, id) without a comma), so the page is read from the index, not sorted.
    .orderBy(sql`(case when ${posts.parentId} is null then ${posts.id} else ${posts.parentId} end)`, asc(posts.id))
    .limit(POSTS_PER_PAGE)
    .offset(sql.placeholder('offset'))
    .prepare();
  const lastReadStmt = ctx.db
    .select({ last: threadReads.lastReadPostId })
    .from(threadReads)
    .where(and(eq(threadReads.userId, sql.placeholder('userId')), eq(threadReads.threadId, sql.placeholder('threadId'))))
    .prepare();
  const threadByIdStmt = ctx.db.select().from(threads).where(eq(threads.id, sql.placeholder('id'))).prepare();
  const threadInCohortStmt = ctx.db
    .select()
    .from(threads)
    .where(and(eq(threads.id, sql.placeholder('id')), eq(threads.cohortId, sql.placeholder('cohortId'))))
    .prepare();
  // One digest row per member and day (prepared: the 07:00 run writes one per member). It runs on the connection of
  // the transaction around it, so it is part of it.
  const digestRowStmt = ctx.db
    .insert(discussionDigests)
    .values({
      userId: sql.placeholder('userId'),
      day: sql.placeholder('day'),
      upToPostId: sql.placeholder('upToPostId'),
      postCount: sql.placeholder('postCount'),
      createdAt: sql.placeholder('createdAt'),
    })
    .onConflictDoNothing()
    .prepare();
  const threadListStaffStmt = threadListStmt(true);
  const threadListLearnerStmt = threadListStmt(false);
  const weekThreadCountStmt = ctx.db
    .select({ n: sql<number>`count(*)` })
    .from(threads)
    .where(and(eq(threads.cohortId, sql.placeholder('cohortId')), sql`${threads.week} is not null`))
    .prepare();
  // Certificate progress on every cohort home counts the learner's posts: prepared once.
  const postCountStmt = ctx.db
    .select({ n: sql<number>`count(*)` })
    .from(posts)
    .where(countedPosts(sql.placeholder('cohortId'), sql.placeholder('userId')))
    .prepare();
  /** The normalised body, or a 400 for an empty or over-long one. */
  function checkedMarkdown(body: string): string {
    const checked = checkBody(body);
    if (!checked.ok) throw new BadInput(checked.message);
    return checked.markdown;
  }

  /** Checks the body and renders it; refuses what is empty once unsafe HTML is removed. */
  function renderBody(body: string): { markdown: string; html: string } {
    const markdown = checkedMarkdown(body);
    const html = renderPostBody(markdown);
    if (html === null) throw new BadInput(NOTHING_LEFT);
    return { markdown, html };
  }

  /** The parent a new post attaches to (a reply to a reply attaches to its top-level post), checked for the caller. */
  function replyParent(scope: ThreadScope, parentId: number | null | undefined): number | null {
    const { access, thread } = scope;
    if (parentId === undefined || parentId === null) return null;
    const parent = db()
      .select()
      .from(posts)
      .where(and(eq(posts.id, parentId), eq(posts.threadId, thread.id), eq(posts.cohortId, access.cohort.id)))
      .get();
    if (!parent || (parent.hidden && !isStaff(access) && parent.authorId !== access.user.id)) {
      throw new BadInput('parentId: that post is not in this thread.');
    }
    if (parent.deletedAt) throw new Conflict('That post was removed; reply to the thread instead.');
    return parent.parentId ?? parent.id;
  }

  function checkTitle(title: string): string {
    const t = title.replace(/\s+/g, ' ').trim();
    if (!t) throw new BadInput('title: give the thread a title.');
    if (t.length > MAX_TITLE) throw new BadInput(`title: a title can be at most ${MAX_TITLE} characters.`);
    return t;
  }

  /** Learners may write until graceEndsAt; afterwards the discussion stays readable until accessEndsAt. */
  function assertCanWrite(access: CohortAccess, thread: ThreadRow | null): void {
    if (thread?.locked) throw new Conflict('This thread is locked: no new posts or edits.');
    if (access.role === 'learner' && clock.now().getTime() >= access.cohort.timeline.graceEndsAt.getTime()) {
      throw new Conflict('The cohort’s discussion has closed for new posts; it stays readable until access ends.');
    }
  }

  /** Learners never see hidden threads (404) nor week threads before the week opens (403). */
  function assertCanSee(access: CohortAccess, thread: ThreadRow): void {
    if (thread.hidden && !isStaff(access)) throw new NotFound('Thread');
    if (thread.week !== null) ctx.cohorts.assertWeekOpen(access, thread.week);
  }

  function authorsRoleMap(cohortId: number): Set<number> {
    return new Set(ctx.cohorts.instructorIds(cohortId));
  }

  function roleOf(user: { id: number; role: string }, instructors: Set<number>): CohortRole {
    if (instructors.has(user.id)) return 'instructor';
    return user.role === 'admin' ? 'admin' : 'learner';
  }

  /** "Week 2 — Bringing people in"; course titles that already say "Week 2" are kept as they are. */
  function weekTitle(cohort: Cohort, n: number): string {
    const title = cohort.course.weeks[n - 1]?.title?.trim() ?? '';
    if (new RegExp(`^week\\s*${n}\\b`, 'i').test(title)) return title;
    return title ? `Week ${n} — ${title}` : `Week ${n}`;
  }

  /** A post as this viewer sees it: removed posts and (for other learners) hidden posts become markers. */
  function toView(
    access: CohortAccess,
    thread: ThreadRow,
    row: { post: Pick<PostRow, 'id' | 'parentId' | 'authorId' | 'html' | 'createdAt' | 'editedAt' | 'deletedAt' | 'hidden'>; authorName: string; authorRole: string },
    lastRead: number,
    instructors: Set<number>,
  ): PostView {
    const { post } = row;
    const staff = isStaff(access);
    const now = clock.now().getTime();
    const writable = !thread.locked && !(access.role === 'learner' && now >= access.cohort.timeline.graceEndsAt.getTime());
    const mine = post.authorId === access.user.id;
    const removed = post.deletedAt !== null;
    const masked = removed || (post.hidden && !staff && !mine);
    const role = roleOf({ id: post.authorId, role: row.authorRole }, instructors);
    return {
      id: post.id,
      parentId: post.parentId,
      author: masked ? null : { id: post.authorId, name: displayName(row.authorName, role), role },
      html: masked ? '' : post.html,
      createdAt: post.createdAt,
      editedAt: removed ? null : post.editedAt,
      removed,
      hidden: post.hidden,
      mine,
      isNew: !mine && post.id > lastRead && !masked,
      canEdit: mine && !removed && writable && now - post.createdAt.getTime() <= EDIT_WINDOW_MINUTES * 60_000,
      canDelete: !removed && (mine || staff),
      canHide: staff && !removed,
    };
  }

  const service = {
    /** Create the week threads of a cohort (idempotent; inside the caller's transaction). */
    ensureWeekThreads(tx: Db, cohort: Cohort): void {
      const now = clock.now();
      for (const w of cohort.timeline.weeks) {
        tx.insert(threads)
          .values({ cohortId: cohort.id, week: w.number, title: weekTitle(cohort, w.number), createdAt: now })
          .onConflictDoNothing()
          .run();
      }
    },

    /** The cohort's threads the caller may see: pinned first, then by latest activity. */
    listThreads(access: CohortAccess): ThreadSummary[] {
      const cohort = access.cohort;
      const have = weekThreadCountStmt.get({ cohortId: cohort.id });
      // Cohorts created before this module (or by a path without the hook) get their week threads on first sight.
      if ((have?.n ?? 0) < cohort.timeline.weeks.length) db().transaction((tx) => service.ensureWeekThreads(tx, cohort));
      const staff = isStaff(access);
      const rows = (staff ? threadListStaffStmt : threadListLearnerStmt).all({ cohortId: cohort.id, userId: access.user.id });
      const now = clock.now().getTime();
      const instructors = authorsRoleMap(cohort.id);
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
    },

    /** The week's thread for the week page (created if missing), or null when the caller may not see it yet. */
    weekThread(access: CohortAccess, week: number): ThreadSummary | null {
      const list = service.listThreads(access);
      return list.find((t) => t.week === week) ?? null;
    },

    /** A thread by id for the API: 401 signed out, 404 unknown, 403 outside its cohort (or week not open), 404 hidden for learners. */
    threadById(user: User | null, threadId: number): ThreadScope {
      if (!user) throw new NotSignedIn();
      const thread = threadByIdStmt.get({ id: threadId });
      if (!thread) throw new NotFound('Thread');
      const access = ctx.cohorts.access(user, thread.cohortId);
      assertCanSee(access, thread);
      return { access, thread };
    },

    /** A thread of a cohort the caller already has access to (pages): 404 when it belongs elsewhere. */
    threadInCohort(access: CohortAccess, threadId: number): ThreadScope {
      const thread = threadInCohortStmt.get({ id: threadId, cohortId: access.cohort.id });
      if (!thread) throw new NotFound('Thread');
      assertCanSee(access, thread);
      return { access, thread };
    },

    /** A post by id for the API, with its thread, scoped like threadById. */
    postById(user: User | null, postId: number): ThreadScope & { post: PostRow } {
      if (!user) throw new NotSignedIn();
      const post = db().select().from(posts).where(eq(posts.id, postId)).get();
      if (!post) throw new NotFound('Post');
      const access = ctx.cohorts.access(user, post.cohortId);
      const thread = db()
        .select()
        .from(threads)
        .where(and(eq(threads.id, post.threadId), eq(threads.cohortId, access.cohort.id)))
        .get();
      if (!thread) throw new NotFound('Post');
      assertCanSee(access, thread);
      if (post.hidden && !isStaff(access) && post.authorId !== user.id) throw new NotFound('Post');
      return { access, thread, post };
    },

    /** A post of a thread the caller may see (pages): 404 when it belongs elsewhere. */
    postInThread(scope: ThreadScope, postId: number): PostRow {
      const post = db()
        .select()
        .from(posts)
        .where(and(eq(posts.id, postId), eq(posts.threadId, scope.thread.id), eq(posts.cohortId, scope.access.cohort.id)))
        .get();
      if (!post) throw new NotFound('Post');
      if (post.hidden && !isStaff(scope.access) && post.authorId !== scope.access.user.id) throw new NotFound('Post');
      return post;
    },

    /**
     * One page of a thread as the caller sees it: top-level posts in order, each followed by its replies.
     * One query for the posts with their authors, whatever the page size. Marks what was shown as read.
     */
    readThread(scope: ThreadScope, page = 1, opts: { markRead?: boolean } = {}): ThreadPage {
      const { access, thread } = scope;
      const me = access.user.id;
      const total = threadPostCountStmt.get({ threadId: thread.id })?.n ?? 0;
      const pages = Math.max(1, Math.ceil(total / POSTS_PER_PAGE));
      const rows = page > pages ? [] : threadPageStmt.all({ threadId: thread.id, cohortId: access.cohort.id, offset: (page - 1) * POSTS_PER_PAGE });
      const read = lastReadStmt.get({ userId: me, threadId: thread.id });
      const lastRead = read?.last ?? 0;
      const instructors = authorsRoleMap(access.cohort.id);
      const views = rows.map((row) => toView(access, thread, row, lastRead, instructors));
      if (opts.markRead !== false && rows.length > 0) {
        const maxShown = Math.max(...rows.map((r) => r.post.id));
        if (maxShown > lastRead) {
          db()
            .insert(threadReads)
            .values({ userId: me, threadId: thread.id, lastReadPostId: maxShown, readAt: clock.now() })
            .onConflictDoUpdate({
              target: [threadReads.userId, threadReads.threadId],
              set: { lastReadPostId: sql`max(${threadReads.lastReadPostId}, excluded.last_read_post_id)`, readAt: clock.now() },
            })
            .run();
        }
      }
      const promptHtml = thread.week !== null ? (access.cohort.course.weeks[thread.week - 1]?.discussionPromptHtml ?? null) : null;
      return { thread, promptHtml, page, pages, perPage: POSTS_PER_PAGE, total, posts: views };
    },

    /** How many pages the thread has. */
    pageCount(threadId: number): number {
      const total = db().select({ n: sql<number>`count(*)` }).from(posts).where(eq(posts.threadId, threadId)).get()?.n ?? 0;
      return Math.max(1, Math.ceil(total / POSTS_PER_PAGE));
    },

    /** The page of the thread on which a post appears (for redirects after posting). */
    pageOfPost(threadId: number, post: { id: number; parentId: number | null }): number {
      const root = post.parentId ?? post.id;
      const before =
        db()
          .select({ n: sql<number>`count(*)` })
          .from(posts)
          .where(
            and(
              eq(posts.threadId, threadId),
              sql`(coalesce(${posts.parentId}, ${posts.id}) < ${root} or (coalesce(${posts.parentId}, ${posts.id}) = ${root} and ${posts.id} < ${post.id}))`,
            ),
          )
          .get()?.n ?? 0;
      return Math.floor(before / POSTS_PER_PAGE) + 1;
    },

    /** Start a thread with its first post (any member of the cohort). */
    createThread(access: CohortAccess, input: { title: string; body: string }): { thread: ThreadRow; post: PostRow } {
      assertCanWrite(access, null);
      const title = checkTitle(input.title);
      const { markdown, html } = renderBody(input.body);
      const now = clock.now();
      return db().transaction((tx) => {
        const thread = tx
          .insert(threads)
          .values({ cohortId: access.cohort.id, title, authorId: access.user.id, createdAt: now, lastPostAt: now })
          .returning()
          .get();
        const post = tx
          .insert(posts)
          .values({ threadId: thread.id, cohortId: access.cohort.id, authorId: access.user.id, markdown, html, createdAt: now })
          .returning()
          .get();
        ctx.progress.changed(tx, access.cohort.id, access.user.id);
        return { thread, post };
      });
    },

    /** Post in a thread, or reply to a post (a reply to a reply attaches to its top-level post). 409 when locked. */
    createPost(scope: ThreadScope, input: { body: string; parentId?: number | null }): PostRow {
      const { access, thread } = scope;
      assertCanWrite(access, thread);
      const parentId = replyParent(scope, input.parentId);
      const { markdown, html } = renderBody(input.body);
      const now = clock.now();
      return db().transaction((tx) => {
        // Locking a thread while this post was being checked must still refuse it: the lock is read again here.
        const current = tx.select({ locked: threads.locked }).from(threads).where(and(eq(threads.id, thread.id), eq(threads.cohortId, access.cohort.id))).get();
        if (!current) throw new NotFound('Thread');
        if (current.locked) throw new Conflict('This thread is locked: no new posts or edits.');
        let post: PostRow;
        try {
          post = tx.insert(posts).values({ threadId: thread.id, cohortId: access.cohort.id, parentId, authorId: access.user.id, markdown, html, createdAt: now }).returning().get();
        } catch (err) {
          // A parent removed in the meantime fails its foreign key.
          if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY') throw new Conflict('The post you replied to is gone; reload the thread and post again.');
          throw err;
        }
        tx.update(threads).set({ lastPostAt: now }).where(eq(threads.id, thread.id)).run();
        ctx.progress.changed(tx, access.cohort.id, access.user.id);
        return post;
      });
    },

    /** One post as the caller sees it (after a change, or for the reply and edit pages). */
    viewPost(scope: ThreadScope, postId: number): PostView {
      const row = db()
        .select({ post: posts, authorName: users.name, authorRole: users.role })
        .from(posts)
        .innerJoin(users, eq(users.id, posts.authorId))
        .where(and(eq(posts.id, postId), eq(posts.threadId, scope.thread.id), eq(posts.cohortId, scope.access.cohort.id)))
        .get();
      if (!row) throw new NotFound('Post');
      return toView(scope.access, scope.thread, row, Number.MAX_SAFE_INTEGER, authorsRoleMap(scope.access.cohort.id));
    },

    /** Refuses an edit: 403 for anyone but the author; 409 once removed, in a locked thread, or after the 30-minute window. */
    assertCanEdit(scope: ThreadScope, post: PostRow): void {
      const { access, thread } = scope;
      if (post.authorId !== access.user.id) throw new Forbidden('Only the author can edit a post.');
      if (post.deletedAt) throw new Conflict('This post was removed.');
      assertCanWrite(access, thread);
      if (clock.now().getTime() - post.createdAt.getTime() > EDIT_WINDOW_MINUTES * 60_000) {
        throw new Conflict(`A post can be edited for ${EDIT_WINDOW_MINUTES} minutes after posting; that time has passed.`);
      }
    },

    /** The author edits their post within 30 minutes of posting: 403 for anyone else, 409 once the window has closed. */
    editPost(scope: ThreadScope, post: PostRow, body: string): PostRow {
      service.assertCanEdit(scope, post);
      const { markdown, html } = renderBody(body);
      return db().update(posts).set({ markdown, html, editedAt: clock.now() }).where(eq(posts.id, post.id)).returning().get();
    },

    /** Instructors hide or show a post; hidden posts stay visible to instructors (and to their author). */
    setPostHidden(scope: ThreadScope, post: PostRow, hidden: boolean): PostRow {
      const { access } = scope;
      if (!isStaff(access)) throw new Forbidden('Only the cohort’s instructors can hide posts.');
      if (post.hidden === hidden) return post;
      return db().transaction((tx) => {
        const row = tx
          .update(posts)
          .set(hidden ? { hidden, hiddenBy: access.user.id, hiddenAt: clock.now() } : { hidden, hiddenBy: null, hiddenAt: null })
          .where(eq(posts.id, post.id))
          .returning()
          .get();
        // Shown again, the post counts toward its author's certificate once more.
        if (!hidden) ctx.progress.changed(tx, access.cohort.id, post.authorId);
        return row;
      });
    },

    /** The author or an instructor removes a post: its text is erased and a "removed" marker stays in the thread. */
    deletePost(scope: ThreadScope, post: PostRow): void {
      const { access } = scope;
      if (post.authorId !== access.user.id && !isStaff(access)) throw new Forbidden('Only the author or an instructor can remove a post.');
      if (post.deletedAt) return;
      db().update(posts).set({ deletedAt: clock.now(), deletedBy: access.user.id, markdown: '', html: '' }).where(eq(posts.id, post.id)).run();
    },

    /** Instructors pin, lock or hide a thread. */
    updateThread(scope: ThreadScope, patch: { pinned?: boolean; locked?: boolean; hidden?: boolean }): ThreadRow {
      const { access, thread } = scope;
      if (!isStaff(access)) throw new Forbidden('Only the cohort’s instructors can pin, lock or hide threads.');
      const set: Partial<ThreadRow> = {};
      if (patch.pinned !== undefined) set.pinned = patch.pinned;
      if (patch.locked !== undefined) set.locked = patch.locked;
      if (patch.hidden !== undefined) set.hidden = patch.hidden;
      if (Object.keys(set).length === 0) throw new BadInput('body: send at least one of pinned, locked, hidden.');
      return db().update(threads).set(set).where(eq(threads.id, thread.id)).returning().get();
    },

    /** Thread summary of one thread for the caller (after a change). */
    summary(scope: ThreadScope): ThreadSummary {
      const found = service.listThreads(scope.access).find((t) => t.id === scope.thread.id);
      if (!found) throw new NotFound('Thread');
      return found;
    },

    /** A learner's posts in a cohort that count (not removed, not hidden): the certificates module reads this. */
    postCount(cohortId: number, userId: number): number {
      return postCountStmt.get({ cohortId, userId })?.n ?? 0;
    },

    /** postCount for every author in a cohort from one grouped query (whole-cohort certificate checks). */
    postCounts(cohortId: number): (userId: number) => number {
      const rows = db()
        .select({ authorId: posts.authorId, n: sql<number>`count(*)` })
        .from(posts)
        .where(and(eq(posts.cohortId, cohortId), isNull(posts.deletedAt), eq(posts.hidden, false)))
        .groupBy(posts.authorId)
        .all();
      const counts = new Map(rows.map((r) => [r.authorId, r.n]));
      return (userId) => counts.get(userId) ?? 0;
    },

    /**
     * The daily digest: once per local day (from DIGEST_HOUR) each member who has not opted out gets one email of
     * the posts by others since their last digest, in cohorts they can still read. Nothing new: no email.
     * Idempotent (one discussion_digests row per user and day, and a dedupe key on the email). Returns emails queued.
     */
    runDigest(now: Date): number {
      const steps = digestSteps(now);
      for (;;) {
        const step = steps.next();
        if (step.done) return step.value;
      }
    },

    /** runDigest with requests let in every few members (the scheduler's way). */
    async runDigestInSteps(now: Date): Promise<number> {
      const steps = digestSteps(now);
      for (;;) {
        const step = steps.next();
        if (step.done) return step.value;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    },
  };

  /** The local day and hour in a zone at `now`, worked out once per zone for one run (members share a few zones). */
  function localClock(now: Date): (zone: string) => { day: string; hour: number } {
    const byZone = new Map<string, { day: string; hour: number }>();
    return (zone) => {
      let local = byZone.get(zone);
      if (!local) byZone.set(zone, (local = localDayHour(now, zone)));
      return local;
    };
  }

  /**
   * Whether any member of a live cohort may be due a digest now: past the digest hour in their zone (their own, else a
   * cohort's) with none for that local day yet. One query in SQLite, so the tick stays cheap on a large install: reading
   * every member into JavaScript to find nobody due took 3 s of CPU (half of it garbage collection) every 30 s with
   * 100,000 members. It may say yes for someone the full check then skips (a member whose zone comes from another of
   * their cohorts), never no for someone due.
   */
  function anyoneMayBeDue(live: Cohort[], localIn: (zone: string) => { day: string; hour: number }): boolean {
    const liveIds = sql.join(
      live.map((c) => sql`${c.id}`),
      sql`, `,
    );
    const zoneNames = new Set(live.map((c) => c.timezone));
    for (const r of db().all<{ zone: string }>(sql`select distinct ${users.timezone} as zone from ${users} where ${users.timezone} is not null`)) zoneNames.add(r.zone);
    const zones: Array<{ zone: string; day: string }> = [];
    for (const zone of zoneNames) {
      let local: { day: string; hour: number };
      try {
        local = localIn(zone);
      } catch {
        return true; // a zone Intl does not know: leave it to the full check
      }
      if (local.hour >= DIGEST_HOUR) zones.push({ zone, day: local.day });
    }
    if (zones.length === 0) return false;
    const zoneDays = sql.join(
      zones.map((z) => sql`(${z.zone}, ${z.day})`),
      sql`, `,
    );
    const row = db().get<{ one: number } | undefined>(sql`
      with z(zone, day) as (values ${zoneDays})
      select 1 as one from (
        select e.user_id as uid, c.timezone as ctz from enrolments e join cohorts c on c.id = e.cohort_id
          where e.cohort_id in (${liveIds}) and e.status = 'active'
        union all
        select ci.user_id, c.timezone from cohort_instructors ci join cohorts c on c.id = ci.cohort_id
          where ci.cohort_id in (${liveIds})
      ) m
      join users u on u.id = m.uid and u.digest_opt_out = 0
      join z on z.zone = coalesce(u.timezone, m.ctz)
      where not exists (select 1 from discussion_digests d where d.user_id = u.id and d.day >= z.day)
      limit 1`);
    return row !== undefined;
  }

  /** The daily digest run (see runDigest), pausing (yield) every few members. */
  function* digestSteps(now: Date): Generator<void, number> {
    const live = ctx.cohorts.list().filter((c) => now.getTime() < c.timeline.accessEndsAt.getTime());
    const localIn = localClock(now);
    if (live.length === 0 || !anyoneMayBeDue(live, localIn)) return 0;
    const memberships = new Map<number, Array<{ cohort: Cohort; role: 'learner' | 'instructor' }>>();
    const add = (userId: number, cohort: Cohort, role: 'learner' | 'instructor') => {
      const list = memberships.get(userId) ?? [];
      const existing = list.find((m) => m.cohort.id === cohort.id);
      if (existing) existing.role = existing.role === 'instructor' || role === 'instructor' ? 'instructor' : 'learner';
      else list.push({ cohort, role });
      memberships.set(userId, list);
    };
    // Every live cohort's learners and instructors in two queries (this runs on every scheduler tick), in the
    // order reading them cohort by cohort gives: cohorts in list order, learners then instructors, by user id.
    const liveIds = live.map((c) => c.id);
    const learnersOf = groupByCohort(
      db()
        .select({ cohortId: enrolments.cohortId, userId: enrolments.userId })
        .from(enrolments)
        .where(and(inArray(enrolments.cohortId, liveIds), eq(enrolments.status, 'active')))
        .orderBy(asc(enrolments.cohortId), asc(enrolments.userId))
        .all(),
    );
    const instructorsOf = groupByCohort(
      db()
        .select({ cohortId: cohortInstructors.cohortId, userId: cohortInstructors.userId })
        .from(cohortInstructors)
        .where(inArray(cohortInstructors.cohortId, liveIds))
        .orderBy(asc(cohortInstructors.cohortId), asc(cohortInstructors.userId))
        .all(),
    );
    for (const cohort of live) {
      for (const id of learnersOf.get(cohort.id) ?? []) add(id, cohort, 'learner');
      for (const id of instructorsOf.get(cohort.id) ?? []) add(id, cohort, 'instructor');
    }
    if (memberships.size === 0) return 0;
    const ids = [...memberships.keys()];
    // In chunks: SQLite refuses more than 32,766 bound values in one statement, and a large install has more members.
    const people: Array<{ id: number; email: string; name: string; timezone: string | null }> = [];
    const lastRuns = new Map<number, { userId: number; day: string; upTo: number }>();
    for (let i = 0; i < ids.length; i += ID_CHUNK) {
      const chunk = ids.slice(i, i + ID_CHUNK);
      people.push(
        ...db()
          .select({ id: users.id, email: users.email, name: users.name, timezone: users.timezone })
          .from(users)
          .where(and(inArray(users.id, chunk), eq(users.digestOptOut, false)))
          .all(),
      );
      for (const r of db()
        .select({ userId: discussionDigests.userId, day: sql<string>`max(${discussionDigests.day})`, upTo: sql<number>`max(${discussionDigests.upToPostId})` })
        .from(discussionDigests)
        .where(inArray(discussionDigests.userId, chunk))
        .groupBy(discussionDigests.userId)
        .all()) {
        lastRuns.set(r.userId, r);
      }
    }
    if (people.length === 0) return 0;
    const due = people.flatMap((person) => {
      const cohortsOf = memberships.get(person.id)!;
      const zone = person.timezone ?? cohortsOf[0].cohort.timezone;
      const local = localIn(zone);
      if (local.hour < DIGEST_HOUR) return [];
      const last = lastRuns.get(person.id);
      if (last && last.day >= local.day) return [];
      return [{ person, zone, day: local.day, cohortsOf, since: last?.upTo ?? null }];
    });
    if (due.length === 0) return 0;
    const upTo = db().select({ max: sql<number | null>`max(${posts.id})` }).from(posts).get()?.max ?? 0;
    // Members of the same cohorts with the same last digest read the same posts: read them once per run, not per member.
    const candidates = new Map<string, DigestRow[]>();
    const postsFor = (cohortIds: number[], since: number | null): DigestRow[] => {
      const key = `${cohortIds.join(',')}|${since ?? 'day'}`;
      let rows = candidates.get(key);
      if (!rows) {
        // First digest ever: the last day's posts, not the whole history.
        const after = since !== null ? gt(posts.id, since) : gt(posts.createdAt, new Date(now.getTime() - 86_400_000));
        rows =
          upTo === 0
            ? []
            : db()
                .select({
                  id: posts.id,
                  cohortId: posts.cohortId,
                  threadId: posts.threadId,
                  html: posts.html,
                  createdAt: posts.createdAt,
                  authorId: posts.authorId,
                  authorName: users.name,
                  threadTitle: threads.title,
                  week: threads.week,
                })
                .from(posts)
                .innerJoin(threads, eq(threads.id, posts.threadId))
                .innerJoin(users, eq(users.id, posts.authorId))
                .where(and(inArray(posts.cohortId, cohortIds), after, sql`${posts.id} <= ${upTo}`, isNull(posts.deletedAt), eq(posts.hidden, false), eq(threads.hidden, false)))
                .orderBy(asc(posts.cohortId), asc(posts.threadId), asc(posts.id))
                .all();
        candidates.set(key, rows);
      }
      return rows;
    };
    const texts = new Map<number, string>();
    let sent = 0;
    let done = 0;
    for (const d of due) {
      const cohortIds = d.cohortsOf.map((m) => m.cohort.id);
      const rows = postsFor(cohortIds, d.since).filter((r) => {
        if (r.authorId === d.person.id) return false;
        const m = d.cohortsOf.find((c) => c.cohort.id === r.cohortId)!;
        if (m.role !== 'learner' || r.week === null) return true;
        const opens = m.cohort.timeline.weeks[r.week - 1]?.opensAt;
        return !opens || opens.getTime() <= now.getTime();
      });
      const model = digestModel(d.cohortsOf.map((m) => m.cohort), rows, d.zone, texts);
      db().transaction((tx) => {
        const run = digestRowStmt.run({ userId: d.person.id, day: d.day, upToPostId: upTo, postCount: rows.length, createdAt: now });
        if (run.changes === 0 || rows.length === 0) return;
        const queued = ctx.mailer.enqueue(tx, {
          to: d.person.email,
          subject: rows.length === 1 ? '1 new post in your cohort discussions' : `${rows.length} new posts in your cohort discussions`,
          template: 'discussions-digest',
          data: { name: d.person.name || 'there', day: formatDay(now, d.zone), total: rows.length, plural: rows.length !== 1, cohorts: model, profileUrl: `${ctx.baseUrl}/profile` },
          dedupeKey: `digest:${d.person.id}:${d.day}`,
        });
        if (queued) sent++;
      });
      // A pause every few members: the scheduler lets requests in (a large install has many thousand digests).
      if (++done % 50 === 0) yield;
    }
    return sent;
  }

  /** The digest's view model: cohorts, then threads with a few post excerpts each. */
  function digestModel(cohortList: Cohort[], rows: DigestRow[], zone: string, texts: Map<number, string>) {
    const out: Array<{ title: string; threads: Array<{ title: string; url: string; count: number; posts: Array<{ author: string; when: string; text: string }>; more: number }> }> = [];
    for (const cohort of cohortList) {
      const mine = rows.filter((r) => r.cohortId === cohort.id);
      if (mine.length === 0) continue;
      const byThread = new Map<number, typeof mine>();
      for (const r of mine) {
        const list = byThread.get(r.threadId);
        if (list) list.push(r);
        else byThread.set(r.threadId, [r]);
      }
      out.push({
        title: `${cohort.course.title} (from ${formatDay(cohort.timeline.startsAt, cohort.timezone)})`,
        threads: [...byThread.entries()].map(([threadId, list]) => ({
          title: list[0].threadTitle,
          url: `${ctx.baseUrl}/cohorts/${cohort.id}/discussions/${threadId}`,
          count: list.length,
          posts: list.slice(0, DIGEST_POSTS_PER_THREAD).map((r) => ({
            author: displayName(r.authorName, 'learner'),
            when: formatInstant(r.createdAt, zone),
            text: cachedExcerpt(texts, r),
          })),
          more: Math.max(0, list.length - DIGEST_POSTS_PER_THREAD),
        })),
      });
    }
    return out;
  }

  return service;
}

export type DiscussionService = ReturnType<typeof createDiscussionService>;
