// Concurrent write load on the real server with a record of every write it acknowledged (2xx) and how to prove later,
// after a crash or a database restart, that each one is still there: the crash and PostgreSQL-restart tests share it.
import { expect } from 'vitest';
import type { AppContext } from '../../../server/context.js';
import { httpApi, type Answer, type HttpApi } from './http-client.js';
import type { Store } from './store.js';

/** A value one writer overwrites again and again: later it holds the last acknowledged value, or one sent after it. */
interface Register {
  lastAcked: string;
  /** Values sent after lastAcked whose answer never came or was a 503: each may or may not have committed. */
  unknown: string[];
}

/** Each writer's own cohort, learner (with token), thread, and the two registers it overwrites. */
interface Lane {
  cohortId: number;
  learnerToken: string;
  threadId: number;
  promptId: string;
  week: Register;
  draft: Register;
}

/** An acknowledged write checked through the API. */
type Verify = (admin: HttpApi, baseUrl: string) => Promise<void>;

/** One request of the load: when it was sent (performance.now()), how long it took, and its status (0: no answer). */
export interface Sent {
  at: number;
  ms: number;
  status: number;
}

export class WriteLoad {
  readonly stats = { acked: 0, unanswered: 0, unavailable: 0, byKind: {} as Record<string, number> };
  /** Every request, for latency while the database is down. */
  readonly sent: Sent[] = [];
  private pending: Verify[] = [];
  private verified: Verify[] = [];
  private rows: Record<string, number[]> = {};

  private constructor(
    private rand: () => number,
    readonly adminToken: string,
    private lanes: Lane[],
  ) {}

  /**
   * Seed an admin and `writers` lanes through the services (as `npm run cli -- user add / token create` would): cohorts
   * in their second week of the real calendar, as the child runs on the wall clock.
   */
  static async seed(ctx: AppContext, writers: number, rand: () => number): Promise<WriteLoad> {
    await ctx.people.upsert({ email: 'load-admin@example.org', role: 'admin', name: 'Load Admin' });
    const adminToken = (await ctx.people.createApiToken('load-admin@example.org')).token;
    const lastWeek = new Date(Date.now() - 7 * 86_400_000).toISOString().slice(0, 10);
    const lanes: Lane[] = [];
    for (let w = 0; w < writers; w++) {
      const cohort = await ctx.cohorts.create({ course: 'strategic-planning', startDate: lastWeek, timezone: 'UTC', capacity: 30, instructors: [] });
      const learner = await ctx.people.upsert({ email: `load-learner-${w}@example.org`, role: 'learner' });
      await ctx.database.transaction((tx) => ctx.cohorts.enrol(tx, cohort.id, learner.id));
      const { thread } = await ctx.discussions.createThread(await ctx.cohorts.access(learner, cohort.id), { title: `Lane ${w}`, body: 'Posts under load.' });
      const week1 = await ctx.cohorts.week(cohort, 1);
      lanes.push({
        cohortId: cohort.id,
        learnerToken: (await ctx.people.createApiToken(learner.email)).token,
        threadId: thread.id,
        promptId: week1.source.assignment!.prompts[0].id,
        week: { lastAcked: week1.title, unknown: [] },
        draft: { lastAcked: '', unknown: [] },
      });
    }
    return new WriteLoad(rand, adminToken, lanes);
  }

  get writers(): number {
    return this.lanes.length;
  }

  /**
   * Writer `w`: mixed writes against `baseUrl` until `done()`, or until its connection dies with the server (the write
   * in flight was never acknowledged). A 503 (the database unreachable) is counted and the writer carries on.
   */
  async write(baseUrl: string, w: number, label: string, done: () => boolean = () => false): Promise<void> {
    const admin = httpApi(baseUrl, this.adminToken);
    const lane = this.lanes[w];
    const learner = httpApi(baseUrl, lane.learnerToken);
    for (let n = 1; !done(); n++) {
      const pick = this.rand();
      const tag = `${label}w${w}n${n}`;
      try {
        if (pick < 0.2) {
          const email = `load-${tag}@example.org`;
          const res = await this.send(() => admin('POST', '/api/v1/tokens', { email }), 201);
          if (!res) continue;
          const token = res.body.token as string;
          this.record('token', async (_admin, url) => {
            const me = await httpApi(url, token)('GET', '/api/v1/me');
            expect(me.status, `token for ${email}`).toBe(200);
            expect(me.body.email).toBe(email);
          });
        } else if (pick < 0.35) {
          const capacity = 1 + Math.floor(this.rand() * 9_999);
          const res = await this.send(() => admin('POST', '/api/v1/cohorts', { course: 'community-led-planning', startDate: '2026-05-04', timezone: 'Europe/Dublin', capacity, instructors: [] }), 201);
          if (!res) continue;
          const id = res.body.id as number;
          this.record('cohort', async (api) => {
            const got = await api('GET', `/api/v1/cohorts/${id}`);
            expect(got.status, `cohort ${id}`).toBe(200);
            expect(got.body.capacity).toBe(capacity);
          }, { table: 'cohorts', id });
        } else if (pick < 0.5) {
          const title = `Week one, edit ${tag}`;
          lane.week.unknown.push(title);
          if (!(await this.send(() => admin('PUT', `/api/v1/cohorts/${lane.cohortId}/weeks/1`, { title, markdown: `Edited in ${tag}.` }), 200))) continue;
          lane.week = { lastAcked: title, unknown: [] };
          this.record('weekEdit', null);
        } else if (pick < 0.7) {
          const email = `booker-${tag}@example.org`;
          const res = await this.send(() => admin('POST', `/api/v1/cohorts/${lane.cohortId}/bookings`, { email, name: `Booker ${tag}`, kind: 'standalone' }), 201);
          if (!res) continue;
          const id = res.body.id as number;
          this.record('booking', async (api) => {
            const got = await api('GET', `/api/v1/bookings/${id}`);
            expect(got.status, `booking ${id}`).toBe(200);
            expect(got.body.email).toBe(email);
          }, { table: 'bookings', id });
        } else if (pick < 0.85) {
          const res = await this.send(() => learner('POST', `/api/v1/threads/${lane.threadId}/posts`, { body: `Post ${tag}, with **Markdown**.` }), 201);
          if (res) this.record('post', null, { table: 'posts', id: res.body.id as number });
        } else {
          const answer = `Draft answer ${tag}`;
          lane.draft.unknown.push(answer);
          if (!(await this.send(() => learner('PUT', `/api/v1/cohorts/${lane.cohortId}/weeks/1/submission`, { answers: { [lane.promptId]: answer }, submit: false }), 200))) continue;
          lane.draft = { lastAcked: answer, unknown: [] };
          this.record('submissionDraft', null);
        }
      } catch (err) {
        if (err instanceof Error && err.name === 'AssertionError') throw err;
        // No answer: the server died under the request (or it hung past the client's timeout).
        this.stats.unanswered += 1;
        return;
      }
    }
  }

  /** The answer when it has the expected status; null for a 503 while the database is unreachable; anything else fails. */
  private async send(call: () => Promise<Answer>, expected: number): Promise<Answer | null> {
    const at = performance.now();
    let res: Answer;
    try {
      res = await call();
    } catch (err) {
      this.sent.push({ at, ms: performance.now() - at, status: 0 });
      throw err;
    }
    this.sent.push({ at, ms: performance.now() - at, status: res.status });
    if (res.status === 503) {
      expect(res.body, 'a 503 names the unreachable database').toMatchObject({ status: 503, code: 'CC_DATABASE_UNAVAILABLE' });
      this.stats.unavailable += 1;
      // A client backing off (the answer says Retry-After) rather than spinning while the database is down.
      await new Promise((r) => setTimeout(r, 50));
      return null;
    }
    expect(res.status, JSON.stringify(res.body)).toBe(expected);
    return res;
  }

  /** An acknowledged write: checked through the API (verify) and/or as a row read straight from the store. */
  private record(kind: string, verify: Verify | null, row?: { table: string; id: number }): void {
    if (verify) this.pending.push(verify);
    if (row) (this.rows[row.table] ??= []).push(row.id);
    this.stats.acked += 1;
    this.stats.byKind[kind] = (this.stats.byKind[kind] ?? 0) + 1;
  }

  /**
   * Every acknowledged row is in the store, each lane's week and draft hold their last acknowledged value (or one sent
   * after it), and the writes acknowledged since the last call answer through the API as written; `everything` checks
   * every acknowledged write through the API again (the API checks grow with the run, the row reads stay one query a
   * table).
   */
  async verify(baseUrl: string, store: Store, opts: { everything?: boolean } = {}): Promise<void> {
    const api = httpApi(baseUrl, this.adminToken);
    const checks = opts.everything ? [...this.verified, ...this.pending] : this.pending;
    for (let i = 0; i < checks.length; i += 16) {
      await Promise.all(checks.slice(i, i + 16).map((check) => check(api, baseUrl)));
    }
    this.verified.push(...this.pending);
    this.pending = [];
    for (const [table, ids] of Object.entries(this.rows)) {
      const present = await store.presentIds(table, ids);
      expect(ids.filter((id) => !present.has(id)), `acknowledged ${table} rows missing`).toEqual([]);
    }
    for (const lane of this.lanes) {
      const week = await api('GET', `/api/v1/cohorts/${lane.cohortId}/weeks/1`);
      expect(week.status).toBe(200);
      expect([lane.week.lastAcked, ...lane.week.unknown], `cohort ${lane.cohortId} week 1`).toContain(week.body.title);
      lane.week = { lastAcked: week.body.title as string, unknown: [] };
      const draft = await httpApi(baseUrl, lane.learnerToken)('GET', `/api/v1/cohorts/${lane.cohortId}/weeks/1/submission`);
      expect([200, 404], JSON.stringify(draft.body)).toContain(draft.status);
      const answer = draft.status === 200 ? ((draft.body.draft?.answers?.[lane.promptId] as string | undefined) ?? '') : '';
      expect([lane.draft.lastAcked, ...lane.draft.unknown], `cohort ${lane.cohortId} draft`).toContain(answer);
      lane.draft = { lastAcked: answer, unknown: [] };
    }
  }
}
