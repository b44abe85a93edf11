// Discussion API (threads, posts, moderation) and pages (thread list, thread, reply, edit), all scoped to the caller's cohorts.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { BadInput, Forbidden } from '../../server/errors.js';
import { Instant, problemResponses } from '../../server/schemas.js';
import { formatInstant } from '../../server/time.js';
import type { CohortAccess } from '../cohorts/service.js';
import { EDIT_WINDOW_MINUTES, MAX_BODY, MAX_TITLE, POSTS_PER_PAGE, type PostView, type ThreadPage, type ThreadScope, type ThreadSummary } from './service.js';

const Id = Type.Integer({ minimum: 1, maximum: 2_147_483_647 });
const IdParam = Type.Object({ id: Id });
const Page = Type.Object({ page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: `Page of ${POSTS_PER_PAGE} posts, from 1` })) });

const Author = Type.Union([
  Type.Object({ id: Type.Integer(), name: Type.String(), role: Type.String({ enum: ['learner', 'instructor', 'admin'] }) }),
  Type.Null(),
]);
const ThreadSummaryDoc = Type.Object({
  id: Type.Integer(),
  title: Type.String(),
  week: Type.Union([Type.Integer(), Type.Null()], { description: 'The week whose prompt opens this thread; null for member-started threads' }),
  pinned: Type.Boolean(),
  locked: Type.Boolean(),
  hidden: Type.Boolean({ description: 'Hidden threads are listed for instructors and admins only' }),
  posts: Type.Integer({ description: 'Posts the caller can read (removed posts and, for learners, hidden posts not counted)' }),
  unread: Type.Integer({ description: 'Posts by others newer than the caller last read' }),
  lastPostAt: Type.Union([Instant, Type.Null()]),
  author: Author,
});
const PostDoc = Type.Object({
  id: Type.Integer(),
  author: Author,
  html: Type.String({ description: 'Sanitised HTML; empty when removed, or hidden and the caller is a learner other than the author' }),
  createdAt: Instant,
  editedAt: Type.Union([Instant, Type.Null()]),
  parentId: Type.Union([Type.Integer(), Type.Null()], { description: 'The top-level post this replies to' }),
  removed: Type.Boolean(),
  hidden: Type.Boolean(),
});
const ThreadDoc = Type.Object({
  id: Type.Integer(),
  cohortId: Type.Integer(),
  title: Type.String(),
  week: Type.Union([Type.Integer(), Type.Null()]),
  pinned: Type.Boolean(),
  locked: Type.Boolean(),
  hidden: Type.Boolean(),
  prompt: Type.Union([Type.String(), Type.Null()], { description: "The week's discussion prompt as HTML (week threads)" }),
  page: Type.Integer(),
  pages: Type.Integer(),
  perPage: Type.Integer(),
  total: Type.Integer(),
  posts: Type.Array(PostDoc),
});
const Body = Type.String({ minLength: 1, maxLength: MAX_BODY, description: 'Markdown (a safe subset; raw HTML is sanitised, images are not allowed)' });

function summaryDoc(t: ThreadSummary) {
  return {
    id: t.id,
    title: t.title,
    week: t.week,
    pinned: t.pinned,
    locked: t.locked,
    hidden: t.hidden,
    posts: t.posts,
    unread: t.unread,
    lastPostAt: t.lastPostAt?.toISOString() ?? null,
    author: t.author,
  };
}

function postDoc(p: PostView) {
  return {
    id: p.id,
    author: p.author,
    html: p.html,
    createdAt: p.createdAt.toISOString(),
    editedAt: p.editedAt?.toISOString() ?? null,
    parentId: p.parentId,
    removed: p.removed,
    hidden: p.hidden,
  };
}

function threadDoc(page: ThreadPage) {
  const t = page.thread;
  return {
    id: t.id,
    cohortId: t.cohortId,
    title: t.title,
    week: t.week,
    pinned: t.pinned,
    locked: t.locked,
    hidden: t.hidden,
    prompt: page.promptHtml,
    page: page.page,
    pages: page.pages,
    perPage: page.perPage,
    total: page.total,
    posts: page.posts.map(postDoc),
  };
}

/** Short confirmations shown after a form posts and redirects (kept together, in users' words). */
const DONE: Record<string, string> = {
  thread: 'Your thread is started.',
  posted: 'Your post is published.',
  edited: 'Your changes are saved.',
  removed: 'The post was removed.',
  hidden: 'The post is hidden from learners.',
  shown: 'The post is visible to learners again.',
  pinned: 'The thread is pinned to the top of the list.',
  unpinned: 'The thread is no longer pinned.',
  locked: 'The thread is locked: no one can post or edit in it.',
  unlocked: 'The thread is open for posts again.',
  'thread-hidden': 'The thread is hidden from learners.',
  'thread-shown': 'The thread is visible to learners again.',
};

/** A service refusal the form can show (400 bad input, 409 conflict); anything else goes to the error page. */
function formError(err: unknown): { status: number; message: string; field: string | null } | null {
  const status = (err as { statusCode?: number }).statusCode;
  if (status !== 400 && status !== 409) return null;
  const text = err instanceof BadInput ? err.reason : (err as Error).message;
  return { status, message: text.charAt(0).toUpperCase() + text.slice(1), field: err instanceof BadInput ? err.field : null };
}

const routes: FastifyPluginAsync = async (app) => {
  const fastify = app.withTypeProvider<TypeBoxTypeProvider>();
  const { prefix } = fastify.cc;
  const cohorts = fastify.cc.cohorts;
  const discussions = fastify.cc.discussions;

  // ---- API ----

  fastify.get(
    '/api/v1/cohorts/:id/threads',
    {
      schema: {
        summary: "The cohort's discussion threads (pinned first, then by latest activity)",
        description: 'Learners see week threads from the moment their week opens, and never hidden threads.',
        tags: ['discussions'],
        params: IdParam,
        response: { 200: Type.Array(ThreadSummaryDoc), ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => (await discussions.listThreads(await cohorts.access(request.user, request.params.id))).map(summaryDoc),
  );

  fastify.post(
    '/api/v1/cohorts/:id/threads',
    {
      schema: {
        summary: 'Start a thread (any member of the cohort); the body becomes its first post',
        tags: ['discussions'],
        params: IdParam,
        body: Type.Object({ title: Type.String({ minLength: 1, maxLength: MAX_TITLE }), body: Body }, { additionalProperties: false }),
        response: { 201: ThreadDoc, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const access = await cohorts.access(request.user, request.params.id);
      const { thread } = await discussions.createThread(access, request.body);
      return reply.code(201).send(threadDoc(await discussions.readThread({ access, thread }, 1)));
    },
  );

  fastify.get(
    '/api/v1/threads/:id',
    {
      schema: {
        summary: 'A thread with one page of posts (each top-level post followed by its replies)',
        description: `${POSTS_PER_PAGE} posts a page. Reading a page marks its posts as read for the caller. Removed posts stay as markers; hidden posts are markers (empty html, no author) for learners other than their author.`,
        tags: ['discussions'],
        params: IdParam,
        querystring: Page,
        response: { 200: ThreadDoc, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const scope = await discussions.threadById(request.user, request.params.id);
      return threadDoc(await discussions.readThread(scope, request.query.page ?? 1));
    },
  );

  fastify.patch(
    '/api/v1/threads/:id',
    {
      schema: {
        summary: 'Pin, lock or hide a thread (its instructors and admins)',
        tags: ['discussions'],
        params: IdParam,
        body: Type.Object(
          { pinned: Type.Optional(Type.Boolean()), locked: Type.Optional(Type.Boolean()), hidden: Type.Optional(Type.Boolean()) },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: ThreadSummaryDoc, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const scope = await discussions.threadById(request.user, request.params.id);
      const thread = await discussions.updateThread(scope, request.body);
      return summaryDoc(await discussions.summary({ access: scope.access, thread }));
    },
  );

  fastify.post(
    '/api/v1/threads/:id/posts',
    {
      schema: {
        summary: 'Post in a thread, or reply to a post (a reply to a reply attaches to its top-level post)',
        description: '409 when the thread is locked, or for learners once the cohort’s grace period has ended.',
        tags: ['discussions'],
        params: IdParam,
        body: Type.Object({ body: Body, parentId: Type.Optional(Type.Union([Id, Type.Null()])) }, { additionalProperties: false }),
        response: {
          201: Type.Object({ id: Type.Integer(), html: Type.String(), parentId: Type.Union([Type.Integer(), Type.Null()]), createdAt: Instant }),
          ...problemResponses(400, 401, 403, 404, 409),
        },
      },
    },
    async (request, reply) => {
      const scope = await discussions.threadById(request.user, request.params.id);
      const post = await discussions.createPost(scope, request.body);
      return reply.code(201).send({ id: post.id, html: post.html, parentId: post.parentId, createdAt: post.createdAt.toISOString() });
    },
  );

  fastify.patch(
    '/api/v1/posts/:id',
    {
      schema: {
        summary: 'Hide or show a post (instructors), or edit its body (the author, within 30 minutes of posting)',
        description: `\`hidden\`: the cohort's instructors and admins. \`body\`: the author only (403 for others), 409 after ${EDIT_WINDOW_MINUTES} minutes, on a removed post or in a locked thread.`,
        tags: ['discussions'],
        params: IdParam,
        body: Type.Object({ hidden: Type.Optional(Type.Boolean()), body: Type.Optional(Body) }, { additionalProperties: false, minProperties: 1 }),
        response: { 200: PostDoc, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const scope = await discussions.postById(request.user, request.params.id);
      const { hidden, body } = request.body;
      // Check both permissions before writing either, so a refused half leaves nothing changed.
      if (hidden !== undefined && scope.access.role === 'learner') throw new Forbidden('Only the cohort’s instructors can hide posts.');
      let post = scope.post;
      if (body !== undefined) post = await discussions.editPost(scope, post, body);
      if (hidden !== undefined) post = await discussions.setPostHidden(scope, post, hidden);
      return postDoc(await discussions.viewPost(scope, post.id));
    },
  );

  fastify.delete(
    '/api/v1/posts/:id',
    {
      schema: {
        summary: 'Remove a post (its author, or the cohort’s instructors): the text is erased, a "removed" marker stays',
        tags: ['discussions'],
        params: IdParam,
        response: { 204: Type.Null(), ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const scope = await discussions.postById(request.user, request.params.id);
      await discussions.deletePost(scope, scope.post);
      return reply.code(204).send(null);
    },
  );

  // ---- pages ----

  const CohortParams = Type.Object({ id: Id });
  const ThreadParams = Type.Object({ id: Id, threadId: Id });
  const PostParams = Type.Object({ id: Id, threadId: Id, postId: Id });
  const Csrf = Type.Optional(Type.String());
  const Text = (max: number) => Type.Optional(Type.String({ maxLength: max }));

  const zoneOf = (access: CohortAccess) => access.user.timezone ?? access.cohort.timezone;
  const base = (access: CohortAccess) => `${prefix}/cohorts/${access.cohort.id}/discussions`;
  const threadUrl = (access: CohortAccess, threadId: number, page = 1, anchor?: string) =>
    `${base(access)}/${threadId}${page > 1 ? `?page=${page}` : ''}${anchor ? `#${anchor}` : ''}`;

  function cohortModel(access: CohortAccess) {
    return {
      id: access.cohort.id,
      title: access.cohort.course.title,
      homeUrl: `${prefix}/cohorts/${access.cohort.id}`,
      discussionsUrl: base(access),
    };
  }

  async function listModel(access: CohortAccess, extra: { done?: string; form?: Record<string, unknown> } = {}) {
    const zone = zoneOf(access);
    const threads = (await discussions.listThreads(access)).map((t) => ({
      ...t,
      url: threadUrl(access, t.id),
      activity: formatInstant(t.activityAt, zone),
      activityIso: t.activityAt.toISOString(),
    }));
    const closed = access.role === 'learner' && fastify.cc.clock.now().getTime() >= access.cohort.timeline.graceEndsAt.getTime();
    return {
      title: `Discussions: ${access.cohort.course.title}`,
      cohort: cohortModel(access),
      threads,
      canStart: !closed,
      staff: access.role !== 'learner',
      done: extra.done ? DONE[extra.done] : undefined,
      form: extra.form ?? {},
      maxTitle: MAX_TITLE,
      maxBody: MAX_BODY,
    };
  }

  function threadModel(scope: ThreadScope, page: ThreadPage, extra: { done?: string; form?: Record<string, unknown> } = {}) {
    const { access, thread } = scope;
    const zone = zoneOf(access);
    const staff = access.role !== 'learner';
    const names = new Map(page.posts.map((p) => [p.id, p.author?.name ?? null]));
    const postUrl = (id: number, action: string) => `${base(access)}/${thread.id}/posts/${id}/${action}`;
    const closed = access.role === 'learner' && fastify.cc.clock.now().getTime() >= access.cohort.timeline.graceEndsAt.getTime();
    const pageLinks = Array.from({ length: page.pages }, (_, i) => ({ n: i + 1, url: threadUrl(access, thread.id, i + 1), current: i + 1 === page.page }));
    return {
      title: thread.title,
      cohort: cohortModel(access),
      thread: { id: thread.id, title: thread.title, week: thread.week, pinned: thread.pinned, locked: thread.locked, hidden: thread.hidden, flags: thread.pinned || thread.locked || thread.hidden },
      weekUrl: thread.week !== null ? `${prefix}/cohorts/${access.cohort.id}/weeks/${thread.week}` : null,
      prompt: page.promptHtml,
      staff,
      canPost: !thread.locked && !closed,
      closed,
      // Object.assign rather than {...p, …}: V8 builds a spread followed by this many properties ~7× slower (measured).
      posts: page.posts.map((p) =>
        Object.assign({}, p, {
          isReply: p.parentId !== null,
          parentName: p.parentId !== null ? (names.get(p.parentId) ?? null) : null,
          parentOnPage: p.parentId !== null && names.has(p.parentId),
          when: formatInstant(p.createdAt, zone),
          whenIso: p.createdAt.toISOString(),
          edited: p.editedAt ? formatInstant(p.editedAt, zone) : null,
          roleLabel: p.author && p.author.role !== 'learner' ? (p.author.role === 'admin' ? 'Admin' : 'Instructor') : null,
          maskedHidden: p.hidden && !p.removed && !p.author,
          canReply: !thread.locked && !closed && !p.removed && !(p.hidden && !p.author),
          replyUrl: postUrl(p.parentId ?? p.id, 'reply'),
          editUrl: postUrl(p.id, 'edit'),
          deleteUrl: postUrl(p.id, 'delete'),
          hideUrl: postUrl(p.id, 'hide'),
        }),
      ),
      page: page.page,
      pages: page.pages,
      total: page.total,
      pagination: page.pages > 1 ? { links: pageLinks, prev: page.page > 1 ? threadUrl(access, thread.id, page.page - 1) : null, next: page.page < page.pages ? threadUrl(access, thread.id, page.page + 1) : null } : null,
      postUrl: `${base(access)}/${thread.id}/posts`,
      moderateUrl: `${base(access)}/${thread.id}/moderate`,
      done: extra.done ? DONE[extra.done] : undefined,
      form: extra.form ?? {},
      maxBody: MAX_BODY,
      editMinutes: EDIT_WINDOW_MINUTES,
    };
  }

  /** The thread page at the page of a post, or its first page. */
  async function renderThread(reply: FastifyReply, scope: ThreadScope, pageNo: number, status = 200, extra: { done?: string; form?: Record<string, unknown> } = {}) {
    const page = await discussions.readThread(scope, pageNo);
    if (pageNo > page.pages) return reply.page('errors/error', { title: 'Not found', status: 404, detail: `This thread has ${page.pages} page${page.pages === 1 ? '' : 's'}.` }, 404);
    return reply.page('discussions/thread', threadModel(scope, page, extra), status);
  }

  fastify.get(
    '/cohorts/:id/discussions',
    { schema: { hide: true, params: CohortParams, querystring: Type.Object({ done: Type.Optional(Type.String({ maxLength: 40 })) }) } },
    async (request, reply) => {
      const access = await cohorts.access(request.user, request.params.id);
      return reply.page('discussions/list', await listModel(access, { done: request.query.done }));
    },
  );

  fastify.post(
    '/cohorts/:id/discussions',
    { schema: { hide: true, params: CohortParams, body: Type.Object({ title: Text(MAX_TITLE * 2), body: Text(MAX_BODY * 2), _csrf: Csrf }) }, attachValidation: true },
    async (request, reply) => {
      const access = await cohorts.access(request.user, request.params.id);
      const title = String(request.body?.title ?? '');
      const body = String(request.body?.body ?? '');
      const form = { title, body };
      if (request.validationError) {
        return reply.page('discussions/list', await listModel(access, { form: { ...form, error: 'Give the thread a title and write your first post.', field: 'title' } }), 400);
      }
      try {
        const { thread } = await discussions.createThread(access, { title, body });
        return reply.redirect(`${threadUrl(access, thread.id)}?done=thread`, 303);
      } catch (err) {
        const e = formError(err);
        if (!e) throw err;
        return reply.page('discussions/list', await listModel(access, { form: { ...form, error: e.message, field: e.field } }), e.status);
      }
    },
  );

  fastify.get(
    '/cohorts/:id/discussions/:threadId',
    {
      schema: { hide: true, params: ThreadParams, querystring: Type.Object({ page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })), done: Type.Optional(Type.String({ maxLength: 40 })) }) },
    },
    async (request, reply) => {
      const access = await cohorts.access(request.user, request.params.id);
      const scope = await discussions.threadInCohort(access, request.params.threadId);
      return renderThread(reply, scope, request.query.page ?? 1, 200, { done: request.query.done });
    },
  );

  fastify.post(
    '/cohorts/:id/discussions/:threadId/posts',
    {
      schema: { hide: true, params: ThreadParams, body: Type.Object({ body: Text(MAX_BODY * 2), parentId: Type.Optional(Type.String({ maxLength: 12 })), _csrf: Csrf }) },
      attachValidation: true,
    },
    async (request, reply) => {
      const access = await cohorts.access(request.user, request.params.id);
      const scope = await discussions.threadInCohort(access, request.params.threadId);
      const body = String(request.body?.body ?? '');
      const parentRaw = request.body?.parentId ?? '';
      const parentId = /^\d{1,10}$/.test(parentRaw) ? Number(parentRaw) : null;
      const showError = async (status: number, message: string) => {
        if (parentId !== null) {
          try {
            const parent = await discussions.postInThread(scope, parentId);
            const model = await replyModel(scope, parent.parentId ?? parent.id, { body, error: message });
            if (model) return reply.page('discussions/reply', model, status);
          } catch {
            // The parent is not there: fall back to the thread page.
          }
        }
        return renderThread(reply, scope, await discussions.pageCount(scope.thread.id), status, { form: { body, error: message } });
      };
      if (request.validationError || (parentRaw && parentId === null)) return showError(400, 'Write your post (up to 20,000 characters).');
      try {
        const post = await discussions.createPost(scope, { body, parentId });
        const page = await discussions.pageOfPost(scope.thread.id, post);
        return reply.redirect(`${base(access)}/${scope.thread.id}?${page > 1 ? `page=${page}&` : ''}done=posted#post-${post.id}`, 303);
      } catch (err) {
        const e = formError(err);
        if (!e) throw err;
        return showError(e.status, e.message);
      }
    },
  );

  async function replyModel(scope: ThreadScope, parentId: number, form: Record<string, unknown> = {}) {
    const { access, thread } = scope;
    const parent = await discussions.viewPost(scope, parentId);
    if (parent.removed || (parent.hidden && !parent.author)) return null;
    return {
      title: `Reply: ${thread.title}`,
      cohort: cohortModel(access),
      thread: { id: thread.id, title: thread.title, url: threadUrl(access, thread.id, await discussions.pageOfPost(thread.id, parent), `post-${parent.id}`) },
      parent: { ...parent, when: formatInstant(parent.createdAt, zoneOf(access)), whenIso: parent.createdAt.toISOString() },
      postUrl: `${base(access)}/${thread.id}/posts`,
      form,
      maxBody: MAX_BODY,
    };
  }

  fastify.get('/cohorts/:id/discussions/:threadId/posts/:postId/reply', { schema: { hide: true, params: PostParams } }, async (request, reply) => {
    const access = await cohorts.access(request.user, request.params.id);
    const scope = await discussions.threadInCohort(access, request.params.threadId);
    const post = await discussions.postInThread(scope, request.params.postId);
    const model = await replyModel(scope, post.parentId ?? post.id);
    if (!model) return reply.page('errors/error', { title: 'Conflict', status: 409, detail: 'That post was removed; reply to the thread instead.' }, 409);
    if (scope.thread.locked) return reply.page('errors/error', { title: 'Conflict', status: 409, detail: 'This thread is locked: no new posts or edits.' }, 409);
    return reply.page('discussions/reply', model);
  });

  async function editModel(scope: ThreadScope, postId: number, form: Record<string, unknown>) {
    const { access, thread } = scope;
    const post = await discussions.viewPost(scope, postId);
    return {
      title: `Edit your post: ${thread.title}`,
      cohort: cohortModel(access),
      thread: { id: thread.id, title: thread.title, url: threadUrl(access, thread.id, await discussions.pageOfPost(thread.id, post), `post-${post.id}`) },
      post,
      editUrl: `${base(access)}/${thread.id}/posts/${post.id}/edit`,
      form,
      maxBody: MAX_BODY,
      editMinutes: EDIT_WINDOW_MINUTES,
    };
  }

  fastify.get('/cohorts/:id/discussions/:threadId/posts/:postId/edit', { schema: { hide: true, params: PostParams } }, async (request, reply) => {
    const access = await cohorts.access(request.user, request.params.id);
    const scope = await discussions.threadInCohort(access, request.params.threadId);
    const post = await discussions.postInThread(scope, request.params.postId);
    discussions.assertCanEdit(scope, post);
    return reply.page('discussions/edit', await editModel(scope, post.id, { body: post.markdown }));
  });

  fastify.post(
    '/cohorts/:id/discussions/:threadId/posts/:postId/edit',
    { schema: { hide: true, params: PostParams, body: Type.Object({ body: Text(MAX_BODY * 2), _csrf: Csrf }) }, attachValidation: true },
    async (request, reply) => {
      const access = await cohorts.access(request.user, request.params.id);
      const scope = await discussions.threadInCohort(access, request.params.threadId);
      const post = await discussions.postInThread(scope, request.params.postId);
      const body = String(request.body?.body ?? '');
      if (request.validationError) return reply.page('discussions/edit', await editModel(scope, post.id, { body, error: 'Write your post (up to 20,000 characters).' }), 400);
      try {
        const saved = await discussions.editPost(scope, post, body);
        const page = await discussions.pageOfPost(scope.thread.id, saved);
        return reply.redirect(`${base(access)}/${scope.thread.id}?${page > 1 ? `page=${page}&` : ''}done=edited#post-${saved.id}`, 303);
      } catch (err) {
        const e = formError(err);
        if (!e) throw err;
        return reply.page('discussions/edit', await editModel(scope, post.id, { body, error: e.message }), e.status);
      }
    },
  );

  fastify.post(
    '/cohorts/:id/discussions/:threadId/posts/:postId/delete',
    { schema: { hide: true, params: PostParams, body: Type.Object({ _csrf: Csrf }) } },
    async (request, reply) => {
      const access = await cohorts.access(request.user, request.params.id);
      const scope = await discussions.threadInCohort(access, request.params.threadId);
      const post = await discussions.postInThread(scope, request.params.postId);
      await discussions.deletePost(scope, post);
      const page = await discussions.pageOfPost(scope.thread.id, post);
      return reply.redirect(`${base(access)}/${scope.thread.id}?${page > 1 ? `page=${page}&` : ''}done=removed#post-${post.id}`, 303);
    },
  );

  fastify.post(
    '/cohorts/:id/discussions/:threadId/posts/:postId/hide',
    { schema: { hide: true, params: PostParams, body: Type.Object({ hidden: Type.String({ enum: ['true', 'false'] }), _csrf: Csrf }) } },
    async (request, reply) => {
      const access = await cohorts.access(request.user, request.params.id);
      const scope = await discussions.threadInCohort(access, request.params.threadId);
      const post = await discussions.postInThread(scope, request.params.postId);
      const hidden = request.body.hidden === 'true';
      await discussions.setPostHidden(scope, post, hidden);
      const page = await discussions.pageOfPost(scope.thread.id, post);
      return reply.redirect(`${base(access)}/${scope.thread.id}?${page > 1 ? `page=${page}&` : ''}done=${hidden ? 'hidden' : 'shown'}#post-${post.id}`, 303);
    },
  );

  fastify.post(
    '/cohorts/:id/discussions/:threadId/moderate',
    {
      schema: {
        hide: true,
        params: ThreadParams,
        body: Type.Object({
          pinned: Type.Optional(Type.String({ enum: ['true', 'false'] })),
          locked: Type.Optional(Type.String({ enum: ['true', 'false'] })),
          hidden: Type.Optional(Type.String({ enum: ['true', 'false'] })),
          _csrf: Csrf,
        }),
      },
    },
    async (request, reply) => {
      const access = await cohorts.access(request.user, request.params.id);
      const scope = await discussions.threadInCohort(access, request.params.threadId);
      const flag = (v: string | undefined) => (v === undefined ? undefined : v === 'true');
      const patch = { pinned: flag(request.body.pinned), locked: flag(request.body.locked), hidden: flag(request.body.hidden) };
      const thread = await discussions.updateThread(scope, patch);
      const done =
        patch.pinned !== undefined ? (thread.pinned ? 'pinned' : 'unpinned') : patch.locked !== undefined ? (thread.locked ? 'locked' : 'unlocked') : thread.hidden ? 'thread-hidden' : 'thread-shown';
      return reply.redirect(`${threadUrl(access, thread.id)}?done=${done}`, 303);
    },
  );
};
export default routes;
