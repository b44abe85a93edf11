// The discussion API: week threads, starting threads, posting and replying, editing, removing, moderation, unread markers, paging.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createWorld, post, startThread, type World } from './setup.js';
import { posts } from '../../modules/discussions/schema.js';
import { onPostgres, sqliteOf } from '../helpers/engine.js';

let w: World;
beforeEach(async () => {
  w = await createWorld();
});
afterEach(async () => w.t.close());

const threadsOf = async (api: World['anon'], cohortId: number) => {
  const res = await api('GET', `/api/v1/cohorts/${cohortId}/threads`);
  expect(res.statusCode).toBe(200);
  return res.json() as Array<{ id: number; title: string; week: number | null; pinned: boolean; locked: boolean; hidden: boolean; posts: number; unread: number }>;
};

describe('week threads', () => {
  it('a new cohort has one thread per week; a learner sees only the weeks that have opened', async () => {
    const staff = await threadsOf(w.a.instructor.api, w.a.id);
    expect(staff.filter((t) => t.week !== null).map((t) => t.week).sort()).toEqual([1, 2, 3, 4]);
    const learner = await threadsOf(w.a.learner.api, w.a.id);
    expect(learner.map((t) => t.week)).toEqual([1]);
    expect(learner[0].title).toMatch(/^Week 1 — /);
    w.t.clock.set((await w.t.ctx.cohorts.get(w.a.id)).timeline.weeks[1].opensAt);
    expect((await threadsOf(w.a.learner.api, w.a.id)).map((t) => t.week).sort()).toEqual([1, 2]);
  });

  it("opens with the week's discussion prompt from the course", async () => {
    const [week1] = await threadsOf(w.a.learner.api, w.a.id);
    const res = await w.a.learner.api('GET', `/api/v1/threads/${week1.id}`);
    expect(res.statusCode).toBe(200);
    const course = (await w.t.ctx.courses.latest('strategic-planning'));
    expect(res.json()).toMatchObject({ id: week1.id, week: 1, prompt: course.weeks[0].discussionPromptHtml, posts: [], page: 1, pages: 1, total: 0 });
  });

  it('a learner cannot read or post in week 3’s thread before week 3 opens; the instructor can', async () => {
    const week3 = (await threadsOf(w.a.instructor.api, w.a.id)).find((t) => t.week === 3)!;
    expect((await w.a.learner.api('GET', `/api/v1/threads/${week3.id}`)).statusCode).toBe(403);
    expect((await w.a.learner.api('POST', `/api/v1/threads/${week3.id}/posts`, { body: 'early' })).statusCode).toBe(403);
    expect((await w.a.instructor.api('GET', `/api/v1/threads/${week3.id}`)).statusCode).toBe(200);
    expect((await w.a.instructor.api('POST', `/api/v1/threads/${week3.id}/posts`, { body: 'Notes for next week' })).statusCode).toBe(201);
    w.t.clock.set((await w.t.ctx.cohorts.get(w.a.id)).timeline.weeks[2].opensAt);
    expect((await w.a.learner.api('GET', `/api/v1/threads/${week3.id}`)).statusCode).toBe(200);
  });

  it('week threads of a cohort created before the module existed appear on first sight', async () => {
    const { threads } = await import('../../modules/discussions/schema.js');
    const { eq } = await import('drizzle-orm');
    await w.t.ctx.database.transaction(async (tx) => {
      await tx.delete(threads).where(eq(threads.cohortId, w.a.id));
    });
    expect((await threadsOf(w.a.instructor.api, w.a.id)).filter((t) => t.week !== null)).toHaveLength(4);
  });
});

describe('starting threads and posting', () => {
  it('a learner starts a thread; it is listed with its first post and unread for the others only', async () => {
    const res = await w.a.learner.api('POST', `/api/v1/cohorts/${w.a.id}/threads`, { title: 'Reading group', body: 'Who is **in**?' });
    expect(res.statusCode).toBe(201);
    const doc = res.json();
    expect(doc).toMatchObject({ title: 'Reading group', week: null, pinned: false, locked: false, total: 1 });
    expect(doc.posts).toHaveLength(1);
    expect(doc.posts[0]).toMatchObject({ html: '<p>Who is <strong>in</strong>?</p>\n', parentId: null, author: { id: w.a.learner.user.id, name: 'Lena Learner', role: 'learner' } });
    const mine = (await threadsOf(w.a.learner.api, w.a.id)).find((t) => t.id === doc.id)!;
    expect(mine).toMatchObject({ posts: 1, unread: 0 });
    const theirs = (await threadsOf(w.a.learner2.api, w.a.id)).find((t) => t.id === doc.id)!;
    expect(theirs).toMatchObject({ posts: 1, unread: 1 });
  });

  it('refuses a thread without a title or body, naming the field', async () => {
    const url = `/api/v1/cohorts/${w.a.id}/threads`;
    const noTitle = await w.a.learner.api('POST', url, { body: 'x' });
    expect(noTitle.statusCode).toBe(400);
    expect(noTitle.headers['content-type']).toContain('application/problem+json');
    expect(noTitle.json().detail).toContain('title');
    const blankTitle = await w.a.learner.api('POST', url, { title: '   ', body: 'x' });
    expect(blankTitle.statusCode).toBe(400);
    expect(blankTitle.json().detail).toContain('title');
    const emptyBody = await w.a.learner.api('POST', url, { title: 'T', body: '' });
    expect(emptyBody.statusCode).toBe(400);
    expect(emptyBody.json().detail).toContain('body');
    const onlyScript = await w.a.learner.api('POST', url, { title: 'T', body: '<script>alert(1)</script>' });
    expect(onlyScript.statusCode).toBe(400);
    expect(onlyScript.json().detail).toContain('body');
    const long = await w.a.learner.api('POST', url, { title: 'x'.repeat(201), body: 'x' });
    expect(long.statusCode).toBe(400);
    const extra = await w.a.learner.api('POST', url, { title: 'T', body: 'x', pinned: true });
    expect(extra.statusCode).toBe(400);
    expect(extra.json().detail).toContain('pinned');
    const badPost = await w.a.learner.api('POST', `/api/v1/threads/${await startThread(w.a.learner.api, w.a.id)}/posts`, { body: 7 });
    expect(badPost.statusCode).toBe(400);
    expect(badPost.json().detail).toContain('body');
  });

  it('refuses text with a NUL character (which PostgreSQL cannot store) with 400 naming the field, and writes nothing', async () => {
    const url = `/api/v1/cohorts/${w.a.id}/threads`;
    const before = (await w.a.learner.api('GET', url)).json().length;
    const nul = await w.a.learner.api('POST', url, { title: 'Fine', body: 'a\u0000b' });
    expect(nul.statusCode).toBe(400);
    expect(nul.json().detail).toMatch(/body.*NUL/);
    expect((await w.a.learner.api('GET', url)).json()).toHaveLength(before);
  });

  it('signed-out callers get 401 on every route', async () => {
    const threadId = await startThread(w.a.learner.api, w.a.id);
    const postId = (await w.t.ctx.db.select().from(posts))[0].id;
    const calls: Array<[Parameters<World['anon']>[0], string, unknown?]> = [
      ['GET', `/api/v1/cohorts/${w.a.id}/threads`],
      ['POST', `/api/v1/cohorts/${w.a.id}/threads`, { title: 'T', body: 'B' }],
      ['GET', `/api/v1/threads/${threadId}`],
      ['POST', `/api/v1/threads/${threadId}/posts`, { body: 'B' }],
      ['PATCH', `/api/v1/threads/${threadId}`, { pinned: true }],
      ['PATCH', `/api/v1/posts/${postId}`, { hidden: true }],
      ['DELETE', `/api/v1/posts/${postId}`],
    ];
    for (const [method, url, body] of calls) {
      const res = await w.anon(method, url, body);
      expect(res.statusCode, `${method} ${url}`).toBe(401);
    }
  });

  it('unknown cohorts, threads and posts are 404', async () => {
    expect((await w.a.learner.api('GET', '/api/v1/cohorts/9999/threads')).statusCode).toBe(404);
    expect((await w.a.learner.api('GET', '/api/v1/threads/9999')).statusCode).toBe(404);
    expect((await w.a.learner.api('POST', '/api/v1/threads/9999/posts', { body: 'x' })).statusCode).toBe(404);
    expect((await w.a.instructor.api('PATCH', '/api/v1/threads/9999', { locked: true })).statusCode).toBe(404);
    expect((await w.a.learner.api('PATCH', '/api/v1/posts/9999', { body: 'x' })).statusCode).toBe(404);
    expect((await w.a.learner.api('DELETE', '/api/v1/posts/9999')).statusCode).toBe(404);
    expect((await w.a.learner.api('GET', '/api/v1/threads/abc')).statusCode).toBe(400);
  });

  it('a reply to a reply attaches to the top-level post, and replies follow their post in order', async () => {
    const threadId = await startThread(w.a.learner.api, w.a.id, 'Order', 'first');
    const first = (await w.a.learner.api('GET', `/api/v1/threads/${threadId}`)).json().posts[0].id as number;
    const second = await post(w.a.learner2.api, threadId, 'second');
    const reply = await post(w.a.learner2.api, threadId, 'reply to first', first);
    const res = await w.a.learner.api('POST', `/api/v1/threads/${threadId}/posts`, { body: 'reply to the reply', parentId: reply });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ parentId: first, html: '<p>reply to the reply</p>\n' });
    const doc = (await w.a.instructor.api('GET', `/api/v1/threads/${threadId}`)).json();
    expect(doc.posts.map((p: { id: number; parentId: number | null }) => [p.id, p.parentId])).toEqual([
      [first, null],
      [reply, first],
      [res.json().id, first],
      [second, null],
    ]);
  });

  it('refuses a parent from another thread (400) and a reply to a removed post (409)', async () => {
    const t1 = await startThread(w.a.learner.api, w.a.id, 'One', 'one');
    const t2 = await startThread(w.a.learner.api, w.a.id, 'Two', 'two');
    const inT2 = (await w.a.learner.api('GET', `/api/v1/threads/${t2}`)).json().posts[0].id;
    const wrong = await w.a.learner.api('POST', `/api/v1/threads/${t1}/posts`, { body: 'x', parentId: inT2 });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().detail).toContain('parentId');
    expect((await w.a.learner.api('DELETE', `/api/v1/posts/${inT2}`)).statusCode).toBe(204);
    expect((await w.a.learner2.api('POST', `/api/v1/threads/${t2}/posts`, { body: 'x', parentId: inT2 })).statusCode).toBe(409);
  });

  it('tells the certificates module once the post is written, so the new post already counts (a new thread: inside its transaction)', async () => {
    const seen: Array<{ cohortId: number; userId: number; count: number }> = [];
    w.t.ctx.events.on('progress.changed', async (tx, { cohortId, userId }) => {
      seen.push({ cohortId, userId, count: await w.t.ctx.discussions.postCount(cohortId, userId, tx) });
    });
    const threadId = await startThread(w.a.learner.api, w.a.id);
    await post(w.a.learner.api, threadId, 'again');
    expect(seen).toEqual([
      { cohortId: w.a.id, userId: w.a.learner.user.id, count: 1 },
      { cohortId: w.a.id, userId: w.a.learner.user.id, count: 2 },
    ]);
  });

  it('postCount counts posts that are neither removed nor hidden', async () => {
    const threadId = await startThread(w.a.learner.api, w.a.id);
    const p2 = await post(w.a.learner.api, threadId, 'two');
    const p3 = await post(w.a.learner.api, threadId, 'three');
    expect(await w.t.ctx.discussions.postCount(w.a.id, w.a.learner.user.id)).toBe(3);
    await w.a.learner.api('DELETE', `/api/v1/posts/${p2}`);
    await w.a.instructor.api('PATCH', `/api/v1/posts/${p3}`, { hidden: true });
    expect(await w.t.ctx.discussions.postCount(w.a.id, w.a.learner.user.id)).toBe(1);
    expect(await w.t.ctx.discussions.postCount(w.a.id, w.a.learner2.user.id)).toBe(0);
    expect(await w.t.ctx.discussions.postCount(w.b.id, w.a.learner.user.id)).toBe(0);
    const counts = await w.t.ctx.discussions.postCounts(w.a.id);
    expect([counts(w.a.learner.user.id), counts(w.a.learner2.user.id)]).toEqual([1, 0]);
  });
});

describe('editing within 30 minutes', () => {
  it('the author edits their post for 30 minutes; after that the edit is refused with 409', async () => {
    const threadId = await startThread(w.a.learner.api, w.a.id);
    const id = await post(w.a.learner.api, threadId, 'frist');
    w.t.clock.advance({ minutes: 29, seconds: 59 });
    const ok = await w.a.learner.api('PATCH', `/api/v1/posts/${id}`, { body: 'first' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ id, html: '<p>first</p>\n', editedAt: w.t.clock.now().toISOString() });
    w.t.clock.advance({ seconds: 2 });
    const late = await w.a.learner.api('PATCH', `/api/v1/posts/${id}`, { body: 'first!' });
    expect(late.statusCode).toBe(409);
    expect(late.json().detail).toContain('30 minutes');
  });

  it('nobody else may edit a post: not another learner, not an instructor (403)', async () => {
    const threadId = await startThread(w.a.learner.api, w.a.id);
    const id = await post(w.a.learner.api, threadId, 'mine');
    expect((await w.a.learner2.api('PATCH', `/api/v1/posts/${id}`, { body: 'hijack' })).statusCode).toBe(403);
    expect((await w.a.instructor.api('PATCH', `/api/v1/posts/${id}`, { body: 'hijack' })).statusCode).toBe(403);
    expect((await w.a.learner.api('PATCH', `/api/v1/posts/${id}`, {})).statusCode).toBe(400);
    expect((await w.a.learner.api('PATCH', `/api/v1/posts/${id}`, { body: '' })).statusCode).toBe(400);
  });
});

describe('removing posts', () => {
  it('the author removes a post: a "removed" marker stays, its replies stay, the text is gone', async () => {
    const threadId = await startThread(w.a.learner.api, w.a.id, 'T', 'opening');
    const id = await post(w.a.learner.api, threadId, 'regrettable');
    const reply = await post(w.a.learner2.api, threadId, 'a reply', id);
    expect((await w.a.learner.api('DELETE', `/api/v1/posts/${id}`)).statusCode).toBe(204);
    expect((await w.a.learner.api('DELETE', `/api/v1/posts/${id}`)).statusCode).toBe(204);
    for (const api of [w.a.learner2.api, w.a.instructor.api]) {
      const doc = (await api('GET', `/api/v1/threads/${threadId}`)).json();
      const removed = doc.posts.find((p: { id: number }) => p.id === id);
      expect(removed).toMatchObject({ removed: true, html: '', author: null, editedAt: null });
      expect(doc.posts.find((p: { id: number }) => p.id === reply)).toMatchObject({ parentId: id, html: '<p>a reply</p>\n' });
    }
    const row = (await w.t.ctx.db.select().from(posts)).find((p) => p.id === id)!;
    expect(row.markdown).toBe('');
    expect(row.html).toBe('');
    expect((await w.a.learner.api('PATCH', `/api/v1/posts/${id}`, { body: 'back' })).statusCode).toBe(409);
  });

  it('another learner cannot remove a post (403); an instructor can', async () => {
    const threadId = await startThread(w.a.learner.api, w.a.id);
    const id = await post(w.a.learner.api, threadId, 'x');
    expect((await w.a.learner2.api('DELETE', `/api/v1/posts/${id}`)).statusCode).toBe(403);
    expect((await w.a.instructor.api('DELETE', `/api/v1/posts/${id}`)).statusCode).toBe(204);
  });
});

describe('lock, hide and pin', () => {
  it('only instructors and admins moderate (403 for learners)', async () => {
    const threadId = await startThread(w.a.learner.api, w.a.id);
    const id = await post(w.a.learner.api, threadId, 'x');
    expect((await w.a.learner.api('PATCH', `/api/v1/threads/${threadId}`, { locked: true })).statusCode).toBe(403);
    expect((await w.a.learner.api('PATCH', `/api/v1/posts/${id}`, { hidden: true })).statusCode).toBe(403);
    // Asking for both: nothing changes when half is refused.
    expect((await w.a.learner.api('PATCH', `/api/v1/posts/${id}`, { hidden: true, body: 'changed' })).statusCode).toBe(403);
    expect((await w.t.ctx.db.select().from(posts)).find((p) => p.id === id)!.markdown).toBe('x');
    expect((await w.admin.api('PATCH', `/api/v1/threads/${threadId}`, { pinned: true })).statusCode).toBe(200);
    expect((await w.a.instructor.api('PATCH', `/api/v1/threads/${threadId}`, {})).statusCode).toBe(400);
  });

  it('a locked thread refuses new posts, replies and edits with 409, for everyone, until unlocked', async () => {
    const threadId = await startThread(w.a.learner.api, w.a.id);
    const id = await post(w.a.learner.api, threadId, 'x');
    const locked = await w.a.instructor.api('PATCH', `/api/v1/threads/${threadId}`, { locked: true });
    expect(locked.statusCode).toBe(200);
    expect(locked.json()).toMatchObject({ id: threadId, locked: true });
    expect((await w.a.learner2.api('POST', `/api/v1/threads/${threadId}/posts`, { body: 'y' })).statusCode).toBe(409);
    expect((await w.a.learner2.api('POST', `/api/v1/threads/${threadId}/posts`, { body: 'y', parentId: id })).statusCode).toBe(409);
    expect((await w.a.instructor.api('POST', `/api/v1/threads/${threadId}/posts`, { body: 'y' })).statusCode).toBe(409);
    expect((await w.a.learner.api('PATCH', `/api/v1/posts/${id}`, { body: 'edit' })).statusCode).toBe(409);
    expect((await threadsOf(w.a.learner.api, w.a.id)).find((t) => t.id === threadId)!.locked).toBe(true);
    await w.a.instructor.api('PATCH', `/api/v1/threads/${threadId}`, { locked: false });
    expect((await w.a.learner2.api('POST', `/api/v1/threads/${threadId}/posts`, { body: 'y' })).statusCode).toBe(201);
  });

  it('a hidden post is a marker for other learners, visible to its author and to instructors', async () => {
    const threadId = await startThread(w.a.learner.api, w.a.id);
    const id = await post(w.a.learner.api, threadId, 'off-topic rant');
    const hide = await w.a.instructor.api('PATCH', `/api/v1/posts/${id}`, { hidden: true });
    expect(hide.statusCode).toBe(200);
    expect(hide.json()).toMatchObject({ id, hidden: true, html: '<p>off-topic rant</p>\n' });
    expect((await threadsOf(w.a.learner2.api, w.a.id)).find((t) => t.id === threadId)).toMatchObject({ posts: 1, unread: 1 });
    const other = (await w.a.learner2.api('GET', `/api/v1/threads/${threadId}`)).json().posts.find((p: { id: number }) => p.id === id);
    expect(other).toMatchObject({ hidden: true, html: '', author: null });
    const author = (await w.a.learner.api('GET', `/api/v1/threads/${threadId}`)).json().posts.find((p: { id: number }) => p.id === id);
    expect(author).toMatchObject({ hidden: true, html: '<p>off-topic rant</p>\n' });
    const staff = (await w.a.instructor.api('GET', `/api/v1/threads/${threadId}`)).json().posts.find((p: { id: number }) => p.id === id);
    expect(staff).toMatchObject({ hidden: true, html: '<p>off-topic rant</p>\n', author: { name: 'Lena Learner' } });
    expect((await threadsOf(w.a.instructor.api, w.a.id)).find((t) => t.id === threadId)).toMatchObject({ posts: 2 });
    // Other learners can neither reply to it nor act on it.
    expect((await w.a.learner2.api('POST', `/api/v1/threads/${threadId}/posts`, { body: 'y', parentId: id })).statusCode).toBe(400);
    expect((await w.a.learner2.api('DELETE', `/api/v1/posts/${id}`)).statusCode).toBe(404);
  });

  it('showing a hidden post again counts toward the certificate again', async () => {
    const threadId = await startThread(w.a.learner.api, w.a.id);
    const id = await post(w.a.learner.api, threadId, 'x');
    await w.a.instructor.api('PATCH', `/api/v1/posts/${id}`, { hidden: true });
    const seen: number[] = [];
    w.t.ctx.events.on('progress.changed', async (_tx, { userId }) => {
      seen.push(userId);
    });
    await w.a.instructor.api('PATCH', `/api/v1/posts/${id}`, { hidden: false });
    expect(seen).toEqual([w.a.learner.user.id]);
  });

  it('a hidden thread disappears for learners (404) and stays for instructors', async () => {
    const threadId = await startThread(w.a.learner.api, w.a.id);
    const res = await w.a.instructor.api('PATCH', `/api/v1/threads/${threadId}`, { hidden: true });
    expect(res.json()).toMatchObject({ hidden: true });
    expect((await threadsOf(w.a.learner.api, w.a.id)).some((t) => t.id === threadId)).toBe(false);
    expect((await w.a.learner.api('GET', `/api/v1/threads/${threadId}`)).statusCode).toBe(404);
    expect((await w.a.learner.api('POST', `/api/v1/threads/${threadId}/posts`, { body: 'x' })).statusCode).toBe(404);
    expect((await threadsOf(w.a.instructor.api, w.a.id)).find((t) => t.id === threadId)).toMatchObject({ hidden: true });
    expect((await w.a.instructor.api('GET', `/api/v1/threads/${threadId}`)).statusCode).toBe(200);
  });

  it('pinned threads come first, then the most recent activity', async () => {
    const older = await startThread(w.a.learner.api, w.a.id, 'Older');
    w.t.clock.advance({ minutes: 5 });
    const newer = await startThread(w.a.learner.api, w.a.id, 'Newer');
    let list = await threadsOf(w.a.learner.api, w.a.id);
    expect(list.slice(0, 2).map((t) => t.id)).toEqual([newer, older]);
    await w.a.instructor.api('PATCH', `/api/v1/threads/${older}`, { pinned: true });
    list = await threadsOf(w.a.learner.api, w.a.id);
    expect(list[0]).toMatchObject({ id: older, pinned: true });
  });
});

describe('unread markers', () => {
  it('posts by others are unread until the learner reads the thread; their own never are', async () => {
    const threadId = await startThread(w.a.learner.api, w.a.id);
    await post(w.a.learner.api, threadId, 'two');
    const unread = async () => (await threadsOf(w.a.learner2.api, w.a.id)).find((t) => t.id === threadId)!.unread;
    expect(await unread()).toBe(2);
    await w.a.learner2.api('GET', `/api/v1/threads/${threadId}`);
    expect(await unread()).toBe(0);
    // Each reader's own marker: the instructor has read nothing yet.
    expect((await threadsOf(w.a.instructor.api, w.a.id)).find((t) => t.id === threadId)!.unread).toBe(2);
    await post(w.a.learner.api, threadId, 'three');
    await post(w.a.learner2.api, threadId, 'my own');
    expect(await unread()).toBe(1);
  });

  it('reading page 1 of a long thread leaves the later pages unread', async () => {
    const threadId = await startThread(w.a.learner.api, w.a.id, 'Long', 'p0');
    const scope = await w.t.ctx.discussions.threadById(await w.t.ctx.people.get(w.a.learner.user.id), threadId);
    for (let i = 1; i < 70; i++) await w.t.ctx.discussions.createPost(scope, { body: `p${i}` });
    await w.a.learner2.api('GET', `/api/v1/threads/${threadId}`);
    expect((await threadsOf(w.a.learner2.api, w.a.id)).find((t) => t.id === threadId)!.unread).toBe(20);
    await w.a.learner2.api('GET', `/api/v1/threads/${threadId}?page=2`);
    expect((await threadsOf(w.a.learner2.api, w.a.id)).find((t) => t.id === threadId)!.unread).toBe(0);
  });
});

describe('long threads', () => {
  it('pages of 50 posts; a page past the end is empty', async () => {
    const threadId = await startThread(w.a.learner.api, w.a.id, 'Long', 'p0');
    const scope = await w.t.ctx.discussions.threadById(await w.t.ctx.people.get(w.a.learner.user.id), threadId);
    for (let i = 1; i < 120; i++) await w.t.ctx.discussions.createPost(scope, { body: `p${i}` });
    const p3 = (await w.a.learner.api('GET', `/api/v1/threads/${threadId}?page=3`)).json();
    expect(p3).toMatchObject({ page: 3, pages: 3, perPage: 50, total: 120 });
    expect(p3.posts).toHaveLength(20);
    expect(p3.posts[0].html).toBe('<p>p100</p>\n');
    expect((await w.a.learner.api('GET', `/api/v1/threads/${threadId}?page=4`)).json().posts).toEqual([]);
    expect((await w.a.learner.api('GET', `/api/v1/threads/${threadId}?page=0`)).statusCode).toBe(400);
  });

  // Counts statements at SQLite's prepare; the queries are the same on PostgreSQL.
  it.skipIf(onPostgres)('a page of a 200-post thread takes the same few queries as a short one (authors joined, no N+1)', async () => {
    // Every statement on either connection: reads go to the reader, the read marker to the writer.
    const { reader, writer } = sqliteOf(w.t.ctx.database).connections;
    const count = async (url: string) => {
      const originals = [reader, writer].map((c) => c.prepare.bind(c));
      let n = 0;
      [reader, writer].forEach((c, i) => {
        c.prepare = ((source: string) => {
          n++;
          return originals[i](source);
        }) as typeof c.prepare;
      });
      try {
        const started = performance.now();
        const res = await w.a.learner2.api('GET', url);
        expect(res.statusCode).toBe(200);
        return { n, ms: performance.now() - started };
      } finally {
        [reader, writer].forEach((c, i) => (c.prepare = originals[i]));
      }
    };
    const short = await startThread(w.a.learner.api, w.a.id, 'Short', 'p0');
    const long = await startThread(w.a.learner.api, w.a.id, 'Long', 'p0');
    const scopes = [];
    for (const p of [w.a.learner, w.a.learner2, w.a.instructor]) scopes.push(await w.t.ctx.discussions.threadById(await w.t.ctx.people.get(p.user.id), long));
    for (let i = 1; i < 200; i++) await w.t.ctx.discussions.createPost(scopes[i % 3], { body: `post **${i}**` });
    const a = await count(`/api/v1/threads/${short}`);
    const b = await count(`/api/v1/threads/${long}?page=2`);
    expect(b.n).toBe(a.n);
    expect(b.n).toBeLessThanOrEqual(12);
    expect(b.ms).toBeLessThan(500);
  });
});

describe('when the cohort ends', () => {
  it('learners can post until graceEndsAt, then read until accessEndsAt, then nothing', async () => {
    const threadId = await startThread(w.a.learner.api, w.a.id);
    const cohort = await w.t.ctx.cohorts.get(w.a.id);
    w.t.clock.set(new Date(cohort.timeline.graceEndsAt.getTime() - 1000));
    expect((await w.a.learner.api('POST', `/api/v1/threads/${threadId}/posts`, { body: 'just in time' })).statusCode).toBe(201);
    w.t.clock.set(cohort.timeline.graceEndsAt);
    expect((await w.a.learner.api('POST', `/api/v1/threads/${threadId}/posts`, { body: 'too late' })).statusCode).toBe(409);
    expect((await w.a.learner.api('POST', `/api/v1/cohorts/${w.a.id}/threads`, { title: 'T', body: 'too late' })).statusCode).toBe(409);
    expect((await w.a.learner.api('GET', `/api/v1/threads/${threadId}`)).statusCode).toBe(200);
    expect((await w.a.instructor.api('POST', `/api/v1/threads/${threadId}/posts`, { body: 'closing note' })).statusCode).toBe(201);
    w.t.clock.set(cohort.timeline.accessEndsAt);
    expect((await w.a.learner.api('GET', `/api/v1/threads/${threadId}`)).statusCode).toBe(403);
    expect((await w.a.learner.api('GET', `/api/v1/cohorts/${w.a.id}/threads`)).statusCode).toBe(403);
  });
});

describe('OpenAPI', () => {
  it('documents every discussion route', async () => {
    const doc = (await w.anon('GET', '/api/v1/openapi.json')).json();
    expect(Object.keys(doc.paths['/api/v1/cohorts/{id}/threads'])).toEqual(expect.arrayContaining(['get', 'post']));
    expect(Object.keys(doc.paths['/api/v1/threads/{id}'])).toEqual(expect.arrayContaining(['get', 'patch']));
    expect(Object.keys(doc.paths['/api/v1/threads/{id}/posts'])).toEqual(['post']);
    expect(Object.keys(doc.paths['/api/v1/posts/{id}'])).toEqual(expect.arrayContaining(['patch', 'delete']));
    expect(doc.paths['/api/v1/threads/{id}/posts'].post.responses['409']).toBeDefined();
  });
});
