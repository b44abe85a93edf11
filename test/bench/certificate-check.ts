// How the whole-cohort certificate check grows with cohort size (100 and 1,000 learners), in process.
import { join } from 'node:path';
import { existsSync, rmSync, mkdirSync } from 'node:fs';
import { buildApp } from '../../server/app.js';
import { ManualClock } from '../../server/clock.js';
import { createEmlTransport } from '../../server/mailer.js';

export interface CurvePoint {
  learners: number;
  ms: number;
  perLearnerUs: number;
}

/** Time ctx.certificates.cohortProgress over a cohort of each size, with four weeks of submissions and posts. */
export async function certificateCheckCurve(dir: string, sizes: number[]): Promise<CurvePoint[]> {
  const out: CurvePoint[] = [];
  mkdirSync(dir, { recursive: true });
  for (const size of sizes) {
    const path = join(dir, `cohort-${size}.db`);
    for (const suffix of ['', '-wal', '-shm']) if (existsSync(path + suffix)) rmSync(path + suffix);
    const clock = new ManualClock('2026-03-20T12:00:00Z');
    const app = await buildApp({ databasePath: path, clock, mailTransport: createEmlTransport(join(dir, 'mail')), workers: false });
    const ctx = app.cc;
    ctx.database.sqlite.pragma('synchronous = OFF');
    const instructor = ctx.people.upsert({ email: 'i@bench.test', role: 'instructor' });
    const cohort = ctx.cohorts.create({ course: 'strategic-planning', startDate: '2026-03-02', timezone: 'Europe/London', capacity: size, instructors: [instructor.email] });
    const sqlite = ctx.database.sqlite;
    const now = clock.now().getTime();
    sqlite.exec('BEGIN');
    sqlite.prepare(`WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ${size}) INSERT INTO users (email, name, role, created_at) SELECT 'c' || n || '@bench.test', 'Learner ' || n, 'learner', ? FROM seq`).run(now);
    sqlite.prepare(`INSERT INTO enrolments (cohort_id, user_id, status, certificate_wanted, created_at) SELECT ?, id, 'active', 1, ? FROM users WHERE role = 'learner'`).run(cohort.id, now);
    sqlite.prepare(
      `INSERT INTO submissions (cohort_id, user_id, week, status, late, version, draft_answers, chosen_options, created_at, updated_at)
       SELECT ?, e.user_id, w.n, CASE WHEN w.n < 3 THEN 'complete' ELSE 'submitted' END, 0, 1, '{}', '[]', ?, ? FROM enrolments e
       JOIN (SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4) w WHERE e.cohort_id = ?`,
    ).run(cohort.id, now, now, cohort.id);
    sqlite.exec('COMMIT');
    const full = ctx.cohorts.get(cohort.id);
    ctx.certificates.cohortProgress(full); // warm
    const rounds = size >= 1000 ? 5 : 20;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) ctx.certificates.cohortProgress(full);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6 / rounds;
    out.push({ learners: size, ms, perLearnerUs: (ms * 1000) / size });
    await app.close();
  }
  return out;
}
