// The post writer thread: posts answered only once committed, shared commits, one refused post never undoing the others
// in its batch, queued posts written on close, the main connection taking over when the thread stops, and main-thread
// transactions that hold the write lock from their first statement (so the writer's commits cannot invalidate them).
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPostWrites, type PostJob } from '../../modules/discussions/post-write.js';
import { startPostWriter } from '../../modules/discussions/post-writer.js';
import { posts, threads } from '../../modules/discussions/schema.js';
import { createWorld, post, startThread, type World } from './setup.js';

let w: World;
beforeEach(async () => {
  w = await createWorld();
});
afterEach(async () => w.t.close());

/** A second connection to the test database, as another thread or process would have. */
function otherConnection(): Database.Database {
  const other = new Database(join(w.t.dir, 'test.db'));
  other.pragma('busy_timeout = 0');
  return other;
}

describe('the post writer thread', () => {
  it('answers a post only once it is committed: another connection reads it at once', async () => {
    const threadId = await startThread(w.a.learner.api, w.a.id);
    const other = otherConnection();
    try {
      const id = await post(w.a.learner2.api, threadId, 'Committed **before** the answer.');
      const row = other.prepare('select markdown, html, author_id from posts where id = ?').get(id) as { markdown: string; html: string; author_id: number };
      expect(row).toEqual({ markdown: 'Committed **before** the answer.', html: '<p>Committed <strong>before</strong> the answer.</p>\n', author_id: w.a.learner2.user.id });
    } finally {
      other.close();
    }
  });

  it('writes 40 posts sent at once, each once, and moves the thread’s last activity', async () => {
    const threadId = await startThread(w.a.learner.api, w.a.id);
    w.t.clock.advance({ minutes: 5 });
    const results = await Promise.all([...Array(40).keys()].map((i) => w.a.learner2.api('POST', `/api/v1/threads/${threadId}/posts`, { body: `Reply ${i}` })));
    expect(results.map((r) => r.statusCode)).toEqual(Array(40).fill(201));
    const ids = results.map((r) => r.json().id as number);
    expect(new Set(ids).size).toBe(40);
    const rows = w.t.ctx.db.select().from(posts).where(eq(posts.threadId, threadId)).all();
    expect(rows).toHaveLength(41);
    expect(new Set(rows.map((r) => r.markdown))).toEqual(new Set(['Who wants to read *Good Strategy* together?', ...[...Array(40).keys()].map((i) => `Reply ${i}`)]));
    const thread = w.t.ctx.db.select().from(threads).where(eq(threads.id, threadId)).get()!;
    expect(thread.lastPostAt?.getTime()).toBe(w.t.clock.now().getTime());
  });

  it('in one batch, a refused post (locked thread, vanished parent, nothing left after sanitising) leaves the others written', async () => {
    const open = await startThread(w.a.learner.api, w.a.id, 'Open');
    const locked = await startThread(w.a.learner.api, w.a.id, 'Locked');
    w.t.ctx.db.update(threads).set({ locked: true }).where(eq(threads.id, locked)).run();
    const job = (threadId: number, markdown: string, parentId: number | null = null): PostJob => ({
      threadId,
      cohortId: w.a.id,
      parentId,
      authorId: w.a.learner.user.id,
      markdown,
      createdAt: w.t.clock.now().getTime(),
    });
    const outcomes = createPostWrites(w.t.ctx.database.sqlite).write([
      job(open, 'first'),
      job(locked, 'into a locked thread'),
      job(open, 'a reply to nothing', 999_999),
      job(open, '<script>alert(1)</script>'),
      job(open, 'last'),
    ]);
    expect(outcomes.map((o) => (o.ok ? 201 : o.status))).toEqual([201, 409, 409, 400, 201]);
    const bodies = w.t.ctx.db.select({ markdown: posts.markdown }).from(posts).where(eq(posts.threadId, open)).all().map((r) => r.markdown);
    expect(bodies).toEqual(['Who wants to read *Good Strategy* together?', 'first', 'last']);
    expect(w.t.ctx.db.select().from(posts).where(eq(posts.threadId, locked)).all()).toHaveLength(1);
  });

  it('writes and answers what is queued when it closes; after that the main connection writes posts', async () => {
    const threadId = await startThread(w.a.learner.api, w.a.id);
    const scope = w.t.ctx.discussions.threadById(w.t.ctx.people.get(w.a.learner2.user.id), threadId);
    const writer = await startPostWriter(w.t.ctx.database.sqlite, () => {});
    w.t.ctx.discussions.useWriter(writer);
    const queued = [...Array(10).keys()].map((i) => w.t.ctx.discussions.post(scope, { body: `Queued ${i}` }));
    const closed = writer.close();
    const written = await Promise.all(queued);
    await closed;
    expect(writer.running).toBe(false);
    expect(written.map((p) => p.markdown)).toEqual([...Array(10).keys()].map((i) => `Queued ${i}`));
    // The writer has stopped: the next post is written on the main connection, the same way.
    const after = await w.t.ctx.discussions.post(scope, { body: 'After the writer stopped' });
    expect(w.t.ctx.db.select().from(posts).where(eq(posts.id, after.id)).get()?.html).toBe('<p>After the writer stopped</p>\n');
  });

  it('recovers a post the writer may have written: the committed one if it was, else written now, never twice', async () => {
    const threadId = await startThread(w.a.learner.api, w.a.id);
    const writes = createPostWrites(w.t.ctx.database.sqlite);
    const job = (markdown: string): PostJob => ({ threadId, cohortId: w.a.id, parentId: null, authorId: w.a.learner2.user.id, markdown, createdAt: w.t.clock.now().getTime() });
    const count = (markdown: string) => w.t.ctx.db.select().from(posts).where(eq(posts.markdown, markdown)).all().length;

    // Committed by the writer, answer lost: the same post comes back, with the author's earlier posts counted.
    const [committed] = writes.write([job('Committed, then the thread died')]);
    const found = writes.recover(job('Committed, then the thread died'));
    expect(found.ok && committed.ok && found.post.id === committed.post.id).toBe(true);
    expect(found.ok && found.postsBefore).toBe(0);
    expect(count('Committed, then the thread died')).toBe(1);

    // Never committed: written now.
    const written = writes.recover(job('Lost before its commit'));
    expect(written.ok && written.postsBefore).toBe(1);
    expect(count('Lost before its commit')).toBe(1);

    // The same text a minute later is another post, not the lost one.
    w.t.clock.advance({ minutes: 1 });
    expect(writes.recover(job('Lost before its commit')).ok).toBe(true);
    expect(count('Lost before its commit')).toBe(2);
  });

  it('when the thread dies with posts unanswered, each request is still answered and each post is there once', async () => {
    const threadId = await startThread(w.a.learner.api, w.a.id);
    const scope = w.t.ctx.discussions.threadById(w.t.ctx.people.get(w.a.learner2.user.id), threadId);
    const failures: Error[] = [];
    // The thread is killed at different moments: before it reads its first message, mid-batch, after some commits.
    const moments = [() => Promise.resolve(), () => new Promise((r) => setImmediate(r)), () => new Promise((r) => setTimeout(r, 1)), () => new Promise((r) => setTimeout(r, 5))];
    let recovered = 0;
    for (const [round, moment] of moments.entries()) {
      const writer = await startPostWriter(w.t.ctx.database.sqlite, (err) => failures.push(err));
      w.t.ctx.discussions.useWriter(writer);
      const bodies = [...Array(25).keys()].map((i) => `Round ${round}, post ${i}`);
      const answers = bodies.map((body) => w.t.ctx.discussions.post(scope, { body }));
      await moment();
      const before = w.t.ctx.db.select().from(posts).where(eq(posts.threadId, threadId)).all().length;
      await writer.terminate();
      const written = await Promise.all(answers);
      expect(written.map((p) => p.markdown)).toEqual(bodies);
      const rows = w.t.ctx.db.select().from(posts).where(eq(posts.threadId, threadId)).all();
      for (const body of bodies) expect(rows.filter((r) => r.markdown === body), body).toHaveLength(1);
      // The answers are the rows: the ids the requests got are the posts that exist.
      expect(written.map((p) => p.id).sort()).toEqual(rows.filter((r) => bodies.includes(r.markdown)).map((r) => r.id).sort());
      // Posts not yet committed when it was killed: written by the service itself.
      recovered += written.length - (before - 1 - round * 25);
    }
    // Every round the thread was running until killed, so each kill was reported.
    expect(failures).toHaveLength(moments.length);
    expect(recovered).toBeGreaterThan(0);
  });
});

describe('transactions on the main connection', () => {
  it('hold the write lock from their first statement, so another connection cannot commit between a read and a write', () => {
    const other = otherConnection();
    try {
      let otherCommitted: boolean | string = false;
      w.t.ctx.db.transaction((tx) => {
        tx.select().from(threads).all();
        try {
          other.prepare("update threads set title = 'changed elsewhere'").run();
          otherCommitted = true;
        } catch (err) {
          otherCommitted = (err as { code: string }).code;
        }
        tx.update(threads).set({ pinned: true }).run();
      });
      expect(otherCommitted).toBe('SQLITE_BUSY');
      let saved: boolean | string = false;
      w.t.ctx.database.write(() => {
        try {
          other.prepare("update threads set title = 'changed elsewhere'").run();
          saved = true;
        } catch (err) {
          saved = (err as { code: string }).code;
        }
      });
      expect(saved).toBe('SQLITE_BUSY');
    } finally {
      other.close();
    }
  });
});
