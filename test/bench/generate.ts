// A large, realistic install for benchmarks, built set-based in SQL (seconds, not minutes).
// Scale 1: 200 cohorts, 10,000 learners, 40,000 submissions, 100,000 posts, 50,000 outbox rows, and one cohort of
// 300 learners for the burst and posting scenarios.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DateTime } from 'luxon';
import { buildApp } from '../../server/app.js';
import { ManualClock } from '../../server/clock.js';
import { createEmlTransport } from '../../server/mailer.js';
import { sqliteOf } from '../helpers/engine.js';

export interface BenchData {
  cohortIds: number[];
  /** Signed-in learners: cookie value, their cohort, and their cohort's week-1 thread. */
  learners: Array<{ cookie: string; cohortId: number; threadId: number; userId: number }>;
  /** One large cohort (BURST_LEARNERS learners, all signed in): the burst and posting scenarios. */
  burst: { cohortId: number; threadId: number; learners: Array<{ cookie: string; userId: number }> };
  certificateCodes: string[];
  /** Prompt ids of week 4's worksheet (the week the save-submission scenario writes). */
  promptIds: string[];
  counts: Record<string, number>;
  /** The London day the data was made for (cohorts are placed relative to it). */
  day: string;
  scale: number;
  /** Seconds spent generating, and in the scheduler catch-up. */
  seconds: { total: number; catchUp: number };
}

/**
 * The data at `path` when it was generated today for this scale (BENCH_REUSE=1 in run.ts), else null. The sidecar
 * `path.json` is written last, so a half-made database is never reused.
 */
export function reuse(path: string, scale: number): BenchData | null {
  if (!existsSync(path) || !existsSync(path + '.json')) return null;
  const data = JSON.parse(readFileSync(path + '.json', 'utf8')) as BenchData;
  const today = DateTime.now().setZone('Europe/London').toISODate();
  return data.scale === scale && data.day === today ? data : null;
}

const COURSE = 'strategic-planning';
/** Learners of the burst cohort: a large cohort arriving at once. */
export const BURST_LEARNERS = 300;

/** Build (or rebuild) a benchmark database at `path` with `scale` × the base sizes. */
export async function generate(path: string, scale: number, signedIn = 400): Promise<BenchData> {
  const started = Date.now();
  mkdirSync(dirname(path), { recursive: true });
  for (const suffix of ['', '-wal', '-shm', '.json']) if (existsSync(path + suffix)) rmSync(path + suffix);
  const cohortsN = 200 * scale;
  const learnersN = 10_000 * scale;
  const postsPerCohort = 500; // 100,000 per 200 cohorts; every week-1 thread holds 200 of them
  const outboxN = 50_000 * scale;

  // The real system clock: the server under load runs on it, so cohorts are running "now".
  const now = new Date();
  const today = DateTime.fromJSDate(now, { zone: 'Europe/London' }).startOf('day');
  // Week 4 opened yesterday (whatever the weekday): every week is readable, week 4's worksheet is still a draft.
  const start = today.minus({ days: 22 }).toISODate()!;
  const app = await buildApp({
    databasePath: path,
    clock: new ManualClock(now),
    mailTransport: createEmlTransport(dirname(path) + '/mail-gen'),
    workers: false,
  });
  const ctx = app.cc;
  const sqlite = sqliteOf(ctx.database).connections.writer;
  // Generation only (the server reopens with its own settings): no fsync, and a cache large enough that building a
  // million posts' indexes does not spill to disk.
  sqlite.pragma('synchronous = OFF');
  sqlite.pragma('cache_size = -1000000');
  const course = (await ctx.courses.latest(COURSE));
  const promptIds = course.weeks[3].assignment!.prompts.map((p) => p.id);
  const answersFor = (week: number) =>
    JSON.stringify(Object.fromEntries(course.weeks[week - 1].assignment!.prompts.map((p) => [p.id, 'A considered answer about our library service and its users. '.repeat(4)])));

  const admin = await ctx.people.upsert({ email: 'bench-admin@bench.test', role: 'admin', name: 'Bench Admin' });
  const instructor = await ctx.people.upsert({ email: 'bench-instructor@bench.test', role: 'instructor', name: 'Bench Instructor' });
  const cohortIds: number[] = [];
  for (let i = 0; i < cohortsN; i++) {
    cohortIds.push((await ctx.cohorts.create({ course: COURSE, startDate: start, timezone: 'Europe/London', capacity: 60, instructors: [instructor.email] })).id);
  }
  const burstCohortId = (await ctx.cohorts.create({ course: COURSE, startDate: start, timezone: 'Europe/London', capacity: BURST_LEARNERS + 20, instructors: [instructor.email] })).id;
  const nowMs = now.getTime();
  const verbose = process.env.BENCH_VERBOSE === '1';
  const run = (sql: string, ...params: unknown[]) => {
    const t = Date.now();
    const r = sqlite.prepare(sql).run(...params);
    if (verbose) console.log(`  ${((Date.now() - t) / 1000).toFixed(1)} s  ${sql.replace(/\s+/g, ' ').slice(0, 90)}`);
    return r;
  };
  const seq = (n: number) => `WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ${n})`;

  sqlite.exec('BEGIN');
  run('CREATE TEMP TABLE bench_cohorts (idx INTEGER PRIMARY KEY, id INTEGER NOT NULL)');
  const putCohort = sqlite.prepare('INSERT INTO bench_cohorts (idx, id) VALUES (?, ?)');
  cohortIds.forEach((id, i) => putCohort.run(i, id));
  const firstLearner = (sqlite.prepare('SELECT coalesce(max(id), 0) + 1 AS id FROM users').get() as { id: number }).id;
  run(`${seq(learnersN)} INSERT INTO users (email, name, role, created_at) SELECT 'learner' || n || '@bench.test', 'Learner ' || n, 'learner', ? FROM seq`, nowMs);
  // Learner k (0-based) belongs to cohort k mod C.
  run(
    `INSERT INTO enrolments (cohort_id, user_id, status, certificate_wanted, created_at)
     SELECT bc.id, u.id, 'active', 1, ? FROM users u JOIN bench_cohorts bc ON bc.idx = (u.id - ?) % ${cohortsN} WHERE u.id >= ?`,
    nowMs, firstLearner, firstLearner,
  );
  // Four weeks each: weeks 1–2 complete, week 3 submitted, week 4 draft.
  run(
    `INSERT INTO submissions (cohort_id, user_id, week, status, late, version, draft_answers, chosen_options, draft_saved_at, first_submitted_at, submitted_at, created_at, updated_at)
     SELECT e.cohort_id, e.user_id, w.n,
            CASE WHEN w.n <= 2 THEN 'complete' WHEN w.n = 3 THEN 'submitted' ELSE 'draft' END,
            0, CASE WHEN w.n <= 3 THEN 1 ELSE 0 END, CASE w.n WHEN 1 THEN ? WHEN 2 THEN ? WHEN 3 THEN ? ELSE ? END, '[]', ?,
            CASE WHEN w.n <= 3 THEN ? END, CASE WHEN w.n <= 3 THEN ? END, ?, ?
     FROM enrolments e JOIN (SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4) w
     WHERE e.user_id >= ?`,
    answersFor(1), answersFor(2), answersFor(3), answersFor(4), nowMs, nowMs, nowMs, nowMs, nowMs, firstLearner,
  );
  run(
    `INSERT INTO submission_versions (submission_id, version, answers, options, file_ids, late, submitted_at)
     SELECT id, 1, draft_answers, '[]', '[]', 0, submitted_at FROM submissions WHERE version = 1 AND user_id >= ?`,
    firstLearner,
  );
  // Week threads (created with each cohort by the discussions module; make sure), then posts spread evenly over the
  // cohort's 22 days so far (about one an hour per cohort): 200 in every week-1 thread, 130 in week 2, 150 in week 3
  // and the latest 20 in week 4, each after its week opened.
  run(
    `INSERT OR IGNORE INTO threads (cohort_id, week, title, created_at, last_post_at)
     SELECT bc.id, w.n, 'Week ' || w.n || ' discussion', ?, ? FROM bench_cohorts bc
     JOIN (SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4) w`,
    nowMs, nowMs,
  );
  const md = 'I tried the **empathy map** with our front-line team this week. [Notes](https://example.org/notes) and three things we learned about evening users.';
  const html = '<p>I tried the <strong>empathy map</strong> with our front-line team this week. <a href="https://example.org/notes" rel="nofollow ugc noopener">Notes</a> and three things we learned about evening users.</p>';
  const startMs = today.minus({ days: 22 }).plus({ hours: 8 }).toMillis();
  const stepMs = Math.floor((nowMs - startMs - 60_000) / postsPerCohort);
  run(
    `${seq(postsPerCohort)}
     INSERT INTO posts (thread_id, cohort_id, author_id, markdown, html, created_at)
     SELECT t.id, bc.id, ? + ((seq.n * 7 + bc.idx) % 50) * ${cohortsN} + bc.idx, ?, ?, ? + seq.n * ${stepMs} + bc.idx
     FROM bench_cohorts bc JOIN seq
     JOIN threads t ON t.cohort_id = bc.id AND t.week = CASE WHEN seq.n <= 200 THEN 1 WHEN seq.n <= 330 THEN 2 WHEN seq.n <= 480 THEN 3 ELSE 4 END`,
    firstLearner, md, html, startMs,
  );
  run(`UPDATE threads SET last_post_at = (SELECT max(created_at) FROM posts WHERE posts.thread_id = threads.id) WHERE cohort_id IN (SELECT id FROM bench_cohorts)`);
  run(
    `${seq(outboxN)} INSERT INTO outbox (dedupe_key, "to", subject, text, html, status, attempts, next_attempt_at, message_id, created_at, sent_at)
     SELECT 'bench:' || n, 'learner' || n || '@bench.test', 'Week 1 is open', 'Week 1 of your course is open.', '<p>Week 1 of your course is open.</p>',
            'sent', 1, ?, '<bench-' || n || '@bench.test>', ?, ? FROM seq`,
    nowMs, nowMs, nowMs,
  );
  // The burst cohort's learners, enrolled, with their week 1-3 worksheets done like everyone else's.
  const firstBurst = (sqlite.prepare('SELECT coalesce(max(id), 0) + 1 AS id FROM users').get() as { id: number }).id;
  run(`${seq(BURST_LEARNERS)} INSERT INTO users (email, name, role, created_at) SELECT 'burst' || n || '@bench.test', 'Burst Learner ' || n, 'learner', ? FROM seq`, nowMs);
  run(`INSERT INTO enrolments (cohort_id, user_id, status, certificate_wanted, created_at) SELECT ?, id, 'active', 1, ? FROM users WHERE id >= ?`, burstCohortId, nowMs, firstBurst);
  sqlite.exec('COMMIT');

  // Signed-in learners: real session rows keyed by the hash of the cookie value.
  const learners: BenchData['learners'] = [];
  const putSession = sqlite.prepare('INSERT INTO auth_sessions (id_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)');
  const threadOf = sqlite.prepare('SELECT id FROM threads WHERE cohort_id = ? AND week = 1');
  sqlite.exec('BEGIN');
  for (let k = 0; k < signedIn; k++) {
    const userId = firstLearner + k;
    const cohortId = cohortIds[k % cohortsN];
    const cookie = `bench-session-${k}-${createHash('sha256').update(path + k).digest('hex').slice(0, 24)}`;
    putSession.run(createHash('sha256').update(cookie).digest('hex'), userId, nowMs, nowMs + 30 * 86_400_000);
    learners.push({ cookie, cohortId, userId, threadId: (threadOf.get(cohortId) as { id: number }).id });
  }
  const burstLearners: BenchData['burst']['learners'] = [];
  for (let k = 0; k < BURST_LEARNERS; k++) {
    const cookie = `bench-burst-${k}-${createHash('sha256').update(path + 'burst' + k).digest('hex').slice(0, 24)}`;
    putSession.run(createHash('sha256').update(cookie).digest('hex'), firstBurst + k, nowMs, nowMs + 30 * 86_400_000);
    burstLearners.push({ cookie, userId: firstBurst + k });
  }
  sqlite.exec('COMMIT');

  // Certificates issued by the real service (codes, signatures), one per cohort for the first 200 cohorts.
  const certificateCodes: string[] = [];
  for (let i = 0; i < Math.min(200, cohortsN); i++) {
    const cert = await ctx.certificates.issueManually(admin, cohortIds[i], `learner${i + 1}@bench.test`);
    certificateCodes.push(cert.code);
  }
  // A live install has already sent its week-opening notices, reminders and digests: catch the
  // scheduler up here and count that mail as sent, so the server under load does today's work only.
  const t0 = Date.now();
  await ctx.scheduler.runDue();
  run(`UPDATE outbox SET status = 'sent', sent_at = ? WHERE status = 'pending'`, nowMs);
  const catchUp = (Date.now() - t0) / 1000;
  sqlite.exec('ANALYZE');
  const counts: Record<string, number> = {};
  for (const table of ['cohorts', 'users', 'enrolments', 'submissions', 'posts', 'outbox', 'certificates']) {
    counts[table] = (sqlite.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  }
  const burstThreadId = (threadOf.get(burstCohortId) as { id: number }).id;
  await app.close();
  const data: BenchData = {
    cohortIds,
    learners,
    burst: { cohortId: burstCohortId, threadId: burstThreadId, learners: burstLearners },
    certificateCodes,
    promptIds,
    counts,
    day: today.toISODate()!,
    scale,
    seconds: { total: (Date.now() - started) / 1000, catchUp },
  };
  writeFileSync(path + '.json', JSON.stringify(data));
  return data;
}
