// Crash durability: the real server under concurrent write load is SIGKILLed at random moments;
// after each restart every write it acknowledged (2xx) is still there and the database is intact.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../server/app.js';
import { createEmlTransport } from '../../server/mailer.js';
import { startChild, type ChildServer } from './helpers/child.js';
import { httpApi, type HttpApi } from './helpers/http-client.js';
import { runSeed, seeded } from './helpers/random.js';

const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 5);
const WRITERS = 8;
const seed = runSeed();
const rand = seeded(seed);

/** A write the server acknowledged, and how to prove after a restart that it is still there. */
type Verify = (admin: HttpApi, baseUrl: string) => Promise<void>;

/** A value one writer overwrites again and again: after a crash it holds the last acknowledged value, or the unanswered one after it. */
interface Register {
  lastAcked: string;
  /** A write sent after lastAcked whose answer never came: it may or may not have committed. */
  unknown: string | null;
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

let dir: string;
let adminToken: string;
const lanes: Lane[] = [];
const acked: Array<{ kind: string; verify: Verify }> = [];
const stats = { rounds: 0, acked: 0, lostInFlight: 0, byKind: {} as Record<string, number> };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cc-crash-'));
  // Seed through the services, as `npm run cli -- user add / token create` would.
  const app = await buildApp({ databasePath: join(dir, 'cohort.db'), mailTransport: createEmlTransport(join(dir, 'mail')), workers: false });
  const ctx = app.cc;
  await ctx.people.upsert({ email: 'crash-admin@example.org', role: 'admin', name: 'Crash Admin' });
  adminToken = (await ctx.people.createApiToken('crash-admin@example.org')).token;
  // Cohorts in their second week of the real calendar (the child runs on the wall clock).
  const lastWeek = new Date(Date.now() - 7 * 86_400_000).toISOString().slice(0, 10);
  for (let w = 0; w < WRITERS; w++) {
    const cohort = await ctx.cohorts.create({ course: 'strategic-planning', startDate: lastWeek, timezone: 'UTC', capacity: 30, instructors: [] });
    const learner = await ctx.people.upsert({ email: `crash-learner-${w}@example.org`, role: 'learner' });
    await ctx.database.transaction((tx) => ctx.cohorts.enrol(tx, cohort.id, learner.id));
    const { thread } = await ctx.discussions.createThread(await ctx.cohorts.access(learner, cohort.id), { title: `Lane ${w}`, body: 'Posts under load.' });
    const week1 = await ctx.cohorts.week(cohort, 1);
    const promptId = week1.source.assignment!.prompts[0].id;
    lanes.push({
      cohortId: cohort.id,
      learnerToken: (await ctx.people.createApiToken(learner.email)).token,
      threadId: thread.id,
      promptId,
      week: { lastAcked: week1.title, unknown: null },
      draft: { lastAcked: '', unknown: null },
    });
  }
  await app.close();
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Rows present by id, read straight from the file (as an operator would after a crash). */
function presentIds(table: string, ids: number[]): Set<number> {
  const db = new Database(join(dir, 'cohort.db'), { fileMustExist: true, readonly: true });
  try {
    const rows = db.prepare(`select id from ${table} where id in (${ids.map(() => '?').join(',')})`).all(...ids) as Array<{ id: number }>;
    return new Set(rows.map((r) => r.id));
  } finally {
    db.close();
  }
}

function integrityCheck(): string {
  const db = new Database(join(dir, 'cohort.db'), { fileMustExist: true });
  try {
    return (db.pragma('integrity_check', { simple: true }) as string) ?? 'no answer';
  } finally {
    db.close();
  }
}

/** One writer: a loop of mixed writes until the server dies under it. */
async function writer(api: HttpApi, w: number, round: number): Promise<void> {
  let n = 0;
  const lane = lanes[w];
  const learner = httpApi(api.baseUrl, lane.learnerToken);
  for (;;) {
    n += 1;
    const pick = rand();
    const tag = `r${round}w${w}n${n}`;
    try {
      if (pick < 0.2) {
        const email = `crash-${tag}@example.org`;
        const res = await api('POST', '/api/v1/tokens', { email });
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        const token = res.body.token as string;
        record('token', async (_admin, baseUrl) => {
          const me = await httpApi(baseUrl, token)('GET', '/api/v1/me');
          expect(me.status, `token for ${email}`).toBe(200);
          expect(me.body.email).toBe(email);
        });
      } else if (pick < 0.35) {
        const capacity = 1 + Math.floor(rand() * 9_999);
        const res = await api('POST', '/api/v1/cohorts', { course: 'community-led-planning', startDate: '2026-05-04', timezone: 'Europe/Dublin', capacity, instructors: [] });
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        const id = res.body.id as number;
        record('cohort', async (admin) => {
          const got = await admin('GET', `/api/v1/cohorts/${id}`);
          expect(got.status, `cohort ${id}`).toBe(200);
          expect(got.body.capacity).toBe(capacity);
        });
      } else if (pick < 0.5) {
        const title = `Week one, edit ${tag}`;
        lane.week.unknown = title;
        const res = await api('PUT', `/api/v1/cohorts/${lane.cohortId}/weeks/1`, { title, markdown: `Edited in ${tag}.` });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        lane.week.lastAcked = title;
        lane.week.unknown = null;
        count('weekEdit');
      } else if (pick < 0.7) {
        const email = `booker-${tag}@example.org`;
        const res = await api('POST', `/api/v1/cohorts/${lane.cohortId}/bookings`, { email, name: `Booker ${tag}`, kind: 'standalone' });
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        const id = res.body.id as number;
        record('booking', async (admin) => {
          const got = await admin('GET', `/api/v1/bookings/${id}`);
          expect(got.status, `booking ${id}`).toBe(200);
          expect(got.body.email).toBe(email);
        }, { table: 'bookings', id });
      } else if (pick < 0.85) {
        const res = await learner('POST', `/api/v1/threads/${lane.threadId}/posts`, { body: `Post ${tag}, with **Markdown**.` });
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        record('post', null, { table: 'posts', id: res.body.id as number });
      } else {
        const answer = `Draft answer ${tag}`;
        lane.draft.unknown = answer;
        const res = await learner('PUT', `/api/v1/cohorts/${lane.cohortId}/weeks/1/submission`, { answers: { [lane.promptId]: answer }, submit: false });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        lane.draft.lastAcked = answer;
        lane.draft.unknown = null;
        count('submissionDraft');
      }
    } catch (err) {
      if (err instanceof Error && err.name === 'AssertionError') throw err;
      // The connection died with the server: this write was never acknowledged.
      stats.lostInFlight += 1;
      return;
    }
  }
}

function count(kind: string): void {
  stats.acked += 1;
  stats.byKind[kind] = (stats.byKind[kind] ?? 0) + 1;
}

/** An acknowledged write: checked through the API (verify) and/or as a row in the file. */
function record(kind: string, verify: Verify | null, row?: { table: string; id: number }): void {
  if (verify) acked.push({ kind, verify });
  if (row) (rowsAcked[row.table] ??= []).push(row.id);
  count(kind);
}
const rowsAcked: Record<string, number[]> = {};

/** Every acknowledged write is present; each edited week holds its last acknowledged (or a later, unanswered) title. */
async function verifyAll(server: ChildServer): Promise<void> {
  const api = httpApi(server.baseUrl, adminToken);
  for (let i = 0; i < acked.length; i += 16) {
    await Promise.all(acked.slice(i, i + 16).map((a) => a.verify(api, server.baseUrl)));
  }
  for (const [table, ids] of Object.entries(rowsAcked)) {
    const present = presentIds(table, ids);
    expect(ids.filter((id) => !present.has(id)), `acknowledged ${table} rows missing`).toEqual([]);
  }
  for (const lane of lanes) {
    const week = await api('GET', `/api/v1/cohorts/${lane.cohortId}/weeks/1`);
    expect(week.status).toBe(200);
    expect([lane.week.lastAcked, lane.week.unknown], `cohort ${lane.cohortId} week 1`).toContain(week.body.title);
    lane.week = { lastAcked: week.body.title as string, unknown: null };
    const draft = await httpApi(server.baseUrl, lane.learnerToken)('GET', `/api/v1/cohorts/${lane.cohortId}/weeks/1/submission`);
    const answer = draft.status === 200 ? ((draft.body.draft?.answers?.[lane.promptId] as string | undefined) ?? '') : '';
    expect([200, 404], JSON.stringify(draft.body)).toContain(draft.status);
    expect([lane.draft.lastAcked, lane.draft.unknown], `cohort ${lane.cohortId} draft`).toContain(answer);
    lane.draft = { lastAcked: answer, unknown: null };
  }
  expect(integrityCheck()).toBe('ok');
}

describe(`crash durability (seed ${seed})`, () => {
  it(`keeps every acknowledged write through ${ROUNDS} SIGKILLs under concurrent load`, async () => {
    const paths = { mailDir: join(dir, 'mail'), databasePath: join(dir, 'cohort.db') };
    for (let round = 1; round <= ROUNDS; round++) {
      const server = await startChild(paths);
      try {
        await verifyAll(server);
        const api = httpApi(server.baseUrl, adminToken);
        const ackedBefore = stats.acked;
        const writers = Array.from({ length: WRITERS }, (_, w) => writer(api, w, round));
        // Kill at a random moment once the load is running: 0 .. 2.5 s after the round's first acknowledgement
        // (waiting for it keeps a slow, busy machine from killing the server before any write was answered).
        const deadline = Date.now() + 60_000;
        while (stats.acked === ackedBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        await new Promise((r) => setTimeout(r, Math.floor(rand() * 2500)));
        await server.kill();
        await Promise.all(writers);
        stats.rounds += 1;
        expect(stats.acked, `round ${round} acknowledged writes before the kill`).toBeGreaterThan(ackedBefore);
        expect(server.stderr()).not.toMatch(/"level":(50|60)/);
      } finally {
        await server.kill();
      }
    }
    // The last restart: everything acknowledged in every round is there, then a clean shutdown.
    const server = await startChild(paths);
    try {
      await verifyAll(server);
      expect(await server.stop()).toBe(0);
    } finally {
      await server.kill();
    }
    expect(integrityCheck()).toBe('ok');
    console.log(`[crash] seed ${seed}: ${stats.rounds} SIGKILLs survived, ${stats.acked} acknowledged writes all present (${JSON.stringify(stats.byKind)}), ${stats.lostInFlight} unanswered requests at kill time`);
  });
});
