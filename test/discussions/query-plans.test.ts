// Query plans over the posts table, the largest one: every statement the app prepares while posting and reading
// threads is explained on a real database, without statistics, with them, and with a large install's statistics for
// every index but one (as after a migration recreates an index on an analyzed database). None may scan the table, and
// the thread page must read its posts in display order from posts_thread_order_idx. The last case caught the thread
// page reading a whole cohort's posts through the author index and sorting them (the bench's uncached thread page
// fell from 560 to 345 req/s).
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorld, type World } from './setup.js';
import { onPostgres, sqliteOf } from '../helpers/engine.js';

/** Every SQL text prepared on any connection while the app starts and serves. */
const prepared = new Set<string>();
const realPrepare = Database.prototype.prepare;

let w: World | undefined;
afterEach(async () => {
  Database.prototype.prepare = realPrepare;
  await w?.t.close();
});

/** EXPLAIN QUERY PLAN for `sql`, with every parameter bound to 1 (SQLite plans do not depend on the values). */
function plan(db: Database.Database, sql: string): string[] {
  const stmt = db.prepare(`EXPLAIN QUERY PLAN ${sql}`);
  for (let n = 0; n <= 64; n++) {
    try {
      return stmt.all(...Array<number>(n).fill(1)).map((r) => (r as { detail: string }).detail);
    } catch (err) {
      if (!(err instanceof RangeError)) throw err; // too few or too many values: try the next count
    }
  }
  throw new Error(`could not bind the parameters of: ${sql}`);
}

// SQLite's planner (EXPLAIN QUERY PLAN); on PostgreSQL the same indexes exist (migrations/postgres).
describe.skipIf(onPostgres)('query plans over posts', () => {
  it('no statement that reads posts scans the table, and the thread page reads its posts in index order', async () => {
    Database.prototype.prepare = function (this: Database.Database, source: string) {
      prepared.add(source);
      return realPrepare.call(this, source);
    } as typeof realPrepare;
    w = await createWorld();
    const { t, a } = w;
    // Post, list and read a thread the way people do: every statement these requests run is prepared on the way.
    const thread = (await a.learner.api('POST', `/api/v1/cohorts/${a.id}/threads`, { title: 'Opening hours', body: 'What did your users say?' })).json();
    for (let i = 0; i < 3; i++) await a.learner2.api('POST', `/api/v1/threads/${thread.id}/posts`, { body: `Reply ${i}` });
    expect((await a.learner.api('GET', `/api/v1/threads/${thread.id}`)).statusCode).toBe(200);
    expect((await a.learner.api('GET', `/api/v1/cohorts/${a.id}/threads`)).statusCode).toBe(200);
    Database.prototype.prepare = realPrepare;

    const readsPosts = [...prepared].filter((s) => /\bfrom\s+"posts"/i.test(s) && /^\s*(select|with)/i.test(s));
    const threadPage = readsPosts.filter((s) => /case when "posts"\."parent_id" is null/i.test(s) && /limit/i.test(s));
    expect(readsPosts.length).toBeGreaterThan(3);
    expect(threadPage.length).toBeGreaterThan(0);

    const db = sqliteOf(t.ctx.database).connections.writer;
    // No statistics (a fresh install); statistics for every index; and statistics for all but the author index, as
    // after a migration (re)creates an index on a database that was analyzed before.
    for (const stats of ['none', 'analyzed', 'partial']) {
      if (stats === 'analyzed') db.exec('ANALYZE');
      if (stats === 'partial') {
        // The statistics of the bench's 100,000 posts (125 a thread), with none for the author index.
        db.exec(`DELETE FROM sqlite_stat1 WHERE tbl = 'posts';
          INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('posts', 'posts_thread_order_idx', '100000 125 1 1 1 1 1'),
            ('posts', 'posts_parent_idx', '100000 100000');
          ANALYZE sqlite_schema;`);
      }
      for (const sql of readsPosts) {
        const lines = plan(db, sql);
        expect(lines.filter((l) => /^SCAN posts\b/.test(l)), `${stats}: ${sql}\n${lines.join('\n')}`).toEqual([]);
      }
      for (const sql of threadPage) {
        const lines = plan(db, sql);
        expect(lines.join('\n'), `${stats}: ${sql}`).toMatch(/posts_thread_order_idx/);
        expect(lines.join('\n'), `${stats}: ${sql}`).not.toMatch(/TEMP B-TREE/);
      }
      // posts_parent_idx holds replies only (WHERE parent_id is not null): the lookup a parent's removal cascades
      // through must still find it, or removing a post would scan every post.
      const cascade = plan(db, 'SELECT id FROM posts WHERE parent_id = ?').join('\n');
      expect(cascade, stats).toMatch(/posts_parent_idx/);
    }
  });
});
