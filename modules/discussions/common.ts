// What the discussion use cases share: their dependencies, who may see and write what, and how a post looks to a viewer.
import type { Infrastructure } from '../../server/infrastructure.js';
import type { Db } from '../../server/db.js';
import { Conflict, NotFound } from '../../server/errors.js';
import type { CohortAccess, CohortRole, CohortService } from '../cohorts/service.js';
import type { CourseService } from '../courses/service.js';
import type { PeopleService } from '../people/service.js';
import type { posts, threads } from './schema.js';

export type ThreadRow = typeof threads.$inferSelect;
export type PostRow = typeof posts.$inferSelect;

/** What the discussions module is built from: infrastructure and the services of the modules it depends on. */
export interface DiscussionDeps extends Infrastructure {
  /** The URL prefix the plugin is mounted under, for links on pages. */
  prefix: string;
  people: PeopleService;
  courses: CourseService;
  cohorts: CohortService;
}

/** How long an author may edit a post after posting it. */
export const EDIT_WINDOW_MINUTES = 30;

export interface Author {
  id: number;
  name: string;
  role: CohortRole;
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

/** Where a thread or post lives and who is asking. */
export interface ThreadScope {
  access: CohortAccess;
  thread: ThreadRow;
}

/** What a post view is made from: the post's columns a viewer may need, and its author. */
export interface PostWithAuthor {
  post: Pick<PostRow, 'id' | 'parentId' | 'authorId' | 'html' | 'createdAt' | 'editedAt' | 'deletedAt' | 'hidden'>;
  authorName: string;
  authorRole: string;
}

export const isStaff = (access: CohortAccess) => access.role !== 'learner';

/** A display name that never exposes an email address. */
export function displayName(name: string, role: CohortRole): string {
  if (name.trim()) return name.trim();
  return role === 'learner' ? 'A learner' : 'An instructor';
}

/** The cohort's instructors, to label their posts. */
export async function instructorSet(deps: DiscussionDeps, cohortId: number): Promise<Set<number>> {
  return new Set(await deps.cohorts.instructorIds(cohortId));
}

export function roleOf(user: { id: number; role: string }, instructors: Set<number>): CohortRole {
  if (instructors.has(user.id)) return 'instructor';
  return user.role === 'admin' ? 'admin' : 'learner';
}

/** Learners may write until graceEndsAt; afterwards the discussion stays readable until accessEndsAt. */
export function assertCanWrite(deps: DiscussionDeps, access: CohortAccess, thread: ThreadRow | null): void {
  if (thread?.locked) throw new Conflict('This thread is locked: no new posts or edits.');
  if (access.role === 'learner' && deps.clock.now().getTime() >= access.cohort.timeline.graceEndsAt.getTime()) {
    throw new Conflict('The cohort’s discussion has closed for new posts; it stays readable until access ends.');
  }
}

/** Learners never see hidden threads (404) nor week threads before the week opens (403). */
export function assertCanSee(deps: DiscussionDeps, access: CohortAccess, thread: ThreadRow): void {
  if (thread.hidden && !isStaff(access)) throw new NotFound('Thread');
  if (thread.week !== null) deps.cohorts.assertWeekOpen(access, thread.week);
}

/** A post as this viewer sees it: removed posts and (for other learners) hidden posts become markers. */
export function toView(deps: DiscussionDeps, scope: ThreadScope, row: PostWithAuthor, lastRead: number, instructors: Set<number>): PostView {
  const { access, thread } = scope;
  const { post } = row;
  const staff = isStaff(access);
  const now = deps.clock.now().getTime();
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

/** The connection a read runs on: the caller's transaction when there is one, else the read connection. */
export function reader(deps: DiscussionDeps, tx?: Db): Db {
  return tx ?? deps.database.db;
}
