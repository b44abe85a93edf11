// `npm run bench`: the real server, started as `npm start` starts it, on a large generated install, in scenarios that
// resemble how people use it. Prints a table and writes test/bench/results.json.
//
// - first views: each request a page its reader has not just seen (every signed-in learner's own cohort home, week
//   page and thread page, the public catalogue and certificate pages), against a render-only baseline: the same
//   templates rendered with the same data and no database (baseline-server.ts);
// - burst: BURST_LEARNERS learners of one cohort open the week page within BENCH_BURST_SECONDS (a live session starts);
// - posting and saving a draft: the same learners each post in one thread (or save their worksheet) within
//   BENCH_OPEN_SECONDS;
// at 1× and 10× data, with the server's RSS peak and CPU time per request.
//
// Then the same scenarios on PostgreSQL (DATABASE_URL), on a copy of the very same install, with one app instance and
// with two instances on the one database: autocannon gives its connection i to instance i mod 2 (25 connections
// each), and in the burst and posting scenarios request i goes to instance i mod 2. PostgreSQL is the throwaway
// cluster of scripts/with-postgres.sh (started by this script when Debian's server programs are installed, and
// restarted durable: fsync and synchronous_commit on, pg_stat_statements loaded), or BENCH_DATABASE_URL (a server on
// which the benchmark may create and drop databases named bench_*). Each PostgreSQL row also says where the time goes:
// statements a request ran and PostgreSQL's time executing them (pg_stat_statements), the cluster's CPU per request,
// and the round trip of one statement from here.
//
// Environment: BENCH_SCALES (default 1,10), BENCH_SECONDS per first-view measurement (default 5), BENCH_BURST_SECONDS
// (default 10), BENCH_OPEN_SECONDS (default 60), BENCH_REUSE=1 to keep a SQLite database generated earlier today,
// BENCH_ONLY=name,… to run some scenarios, BENCH_CPU_PROF=dir to profile the server; BENCH_ENGINES (default
// sqlite,postgres; PostgreSQL is skipped, with a note, when there is none), BENCH_INSTANCES (PostgreSQL, default 1,2),
// BENCH_PG_SYNCHRONOUS_COMMIT=off (commits not waiting for their WAL flush, as SQLite's synchronous=NORMAL).
import { execSync, spawnSync } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type autocannon from 'autocannon';
import { buildApp } from '../../server/app.js';
import { createEmlTransport } from '../../server/mailer.js';
import { generate, reuse, type BenchData } from './generate.js';
import { cpuSeconds, load, settle, startChild, stopChild } from './lib.js';
import {
  benchServer,
  cloneDatabase,
  clusterCpuSeconds,
  clusterProgramsInstalled,
  copyFromSqlite,
  dropDatabase,
  enableStatements,
  resetStatements,
  restartClusterDurable,
  roundTripMs,
  serverSettings,
  statementTotals,
  topStatements,
  type BenchServer,
} from './postgres.js';
import { startCommand } from '../helpers/start-command.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const dataDir = join(here, '.data');
const scales = (process.env.BENCH_SCALES ?? '1,10').split(',').map(Number);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const burstSeconds = Number(process.env.BENCH_BURST_SECONDS ?? 10);
const openSeconds = Number(process.env.BENCH_OPEN_SECONDS ?? 60);
const engines = new Set((process.env.BENCH_ENGINES ?? 'sqlite,postgres').split(','));
const instanceCounts = (process.env.BENCH_INSTANCES ?? '1,2').split(',').map(Number);
const CONNECTIONS = 50;
const SECRET = 'bench-secret-bench-secret-bench-secret-00';
const only = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : null;

type Engine = 'sqlite' | 'postgres';

interface Learner {
  cohortId: number;
  threadId: number;
  /** The session cookie, and the CSRF cookie from their first page. */
  cookie: string;
}

export interface Result {
  name: string;
  engine: Engine;
  /** App instances serving the scenario (on one database). */
  instances: number;
  data: string;
  /** Throughput (first views), or the arrival rate the scenario offered (burst, posting). */
  reqPerSec: number;
  baselineReqPerSec: number | null;
  ratio: number | null;
  p50: number;
  p99: number;
  /** Peak RSS of one app instance (the largest). */
  rssMB: number;
  /** CPU time of the app instances (together) per request. */
  cpuMsPerRequest: number;
  requests: number;
  failures: number;
  bytes: number;
  baselineBytes: number | null;
  /** PostgreSQL: statements a request ran (BEGIN and COMMIT included), from pg_stat_statements. */
  statementsPerRequest: number | null;
  /** PostgreSQL: milliseconds PostgreSQL spent executing a request's statements. */
  dbExecMsPerRequest: number | null;
  /** PostgreSQL: CPU time of the whole cluster (backends, WAL writer, checkpointer) per request. */
  dbCpuMsPerRequest: number | null;
  /** PostgreSQL: the statements run most often in the scenario, per request. */
  topStatements?: Array<{ perRequest: number; meanMs: number; query: string }>;
}

const at = <T>(list: T[], i: number) => list[i % list.length];

interface FirstView {
  name: string;
  path(d: BenchData, ls: Learner[], i: number): string;
  /** Sent as a visitor (no cookies): the catalogue and certificate pages are read from links. */
  anonymous?: boolean;
}

const firstViews: FirstView[] = [
  { name: 'catalogue', anonymous: true, path: () => '/' },
  { name: 'cohort-home', path: (_d, ls, i) => `/cohorts/${at(ls, i).cohortId}` },
  { name: 'week-page', path: (_d, ls, i) => `/cohorts/${at(ls, i).cohortId}/weeks/${(i % 4) + 1}` },
  { name: 'thread-page', path: (_d, ls, i) => `/cohorts/${at(ls, i).cohortId}/discussions/${at(ls, i).threadId}` },
  { name: 'certificate-verification', anonymous: true, path: (d, _ls, i) => `/certificates/${at(d.certificateCodes, i)}` },
];

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Every learner opens their cohort home once, as a browser would, keeping the CSRF cookie it sets. */
async function signIn(url: string, cookieValue: string, cohortId: number): Promise<string> {
  const session = `cc_session=${cookieValue}`;
  const res = await fetch(`${url}/cohorts/${cohortId}`, { headers: { cookie: session } });
  await res.text();
  if (res.status !== 200) throw new Error(`cohort ${cohortId}: cohort home answered ${res.status}`);
  const csrf = res.headers.getSetCookie().find((c) => c.startsWith('cc_csrf='))?.split(';')[0];
  return csrf ? `${session}; ${csrf}` : session;
}

/**
 * The template and model of one real page of each first-view scenario, captured in process through the views'
 * diagnostics channel, for the render-only baseline. Read on the SQLite file; both engines serve the same install.
 */
async function captureModels(dbPath: string, data: BenchData): Promise<Record<string, { template: string; model: unknown }>> {
  const app = await buildApp({ databasePath: dbPath, mailTransport: createEmlTransport(join(dataDir, 'mail')), workers: false, sessionSecret: SECRET });
  const learners = data.learners.map((l) => ({ cohortId: l.cohortId, threadId: l.threadId, cookie: `cc_session=${l.cookie}` }));
  const out: Record<string, { template: string; model: unknown }> = {};
  let last: { template: string; model: Record<string, unknown> } | null = null;
  const onPage = (m: unknown) => (last = m as typeof last);
  subscribe('cohort-course:page', onPage);
  try {
    for (const s of firstViews) {
      last = null;
      const res = await app.inject({ url: s.path(data, learners, 0), headers: s.anonymous ? {} : { cookie: learners[0].cookie } });
      if (res.statusCode !== 200 || !last) throw new Error(`${s.name}: ${res.statusCode}, no page captured`);
      const { template, model } = last as { template: string; model: Record<string, unknown> };
      out[s.name] = { template, model: JSON.parse(JSON.stringify({ ...model, csrfToken: 'baseline-token-baseline-token-000000' })) };
    }
  } finally {
    unsubscribe('cohort-course:page', onPage);
    await app.close();
  }
  return out;
}

function rotating(paths: (i: number) => { path: string; cookie?: string }): autocannon.Request[] {
  let i = 0;
  return [
    {
      setupRequest: (req: autocannon.Request) => {
        const r = paths(i++);
        return { ...req, method: 'GET', path: r.path, headers: r.cookie ? { cookie: r.cookie } : {} };
      },
    } as autocannon.Request,
  ];
}

/** One request on a connection of its own (a browser that has not connected yet), timed from send to last byte. */
function timedRequest(url: string, r: { method: string; path: string; cookie: string; body?: string }): Promise<{ ms: number; status: number }> {
  const started = performance.now();
  return new Promise((done) => {
    const req = http.request(
      url + r.path,
      {
        method: r.method,
        agent: false,
        headers: { cookie: r.cookie, ...(r.body ? { 'content-type': 'application/json', origin: url } : {}) },
      },
      (res) => {
        res.resume();
        res.on('end', () => done({ ms: performance.now() - started, status: res.statusCode ?? 0 }));
      },
    );
    req.on('error', () => done({ ms: performance.now() - started, status: 0 }));
    req.end(r.body);
  });
}

/**
 * `requests` spread evenly over `spanSeconds` (open loop: each starts on time whatever the others are doing); request
 * i goes to instance i mod n.
 */
async function openLoop(urls: string[], requests: Array<{ method: string; path: string; cookie: string; body?: string }>, spanSeconds: number) {
  const gap = (spanSeconds * 1000) / requests.length;
  const started = performance.now();
  const pending = requests.map(
    (r, i) =>
      new Promise<{ ms: number; status: number }>((done) => {
        setTimeout(() => void timedRequest(at(urls, i), r).then(done), Math.max(0, started + i * gap - performance.now()));
      }),
  );
  return Promise.all(pending);
}

/** Where one setup's scenarios run: SQLite's file, or a PostgreSQL database (copied from the template) and N instances. */
interface Setup {
  engine: Engine;
  instances: number;
  env: Record<string, string>;
  /** PostgreSQL: the server and this run's database, for its statements and CPU. */
  pg?: { server: BenchServer; database: string };
}

interface Scale {
  scale: number;
  data: BenchData;
  baseline: { url: string };
}

/** PostgreSQL's share of a measured stretch: statements, execution time and cluster CPU, per request. */
async function dbMeter(setup: Setup) {
  const pg = setup.pg;
  if (!pg) return async () => ({ statementsPerRequest: null, dbExecMsPerRequest: null, dbCpuMsPerRequest: null });
  await resetStatements(pg.server.url);
  const cpu0 = pg.server.ownCluster ? clusterCpuSeconds(pg.server.ownCluster) : null;
  return async (requests: number) => {
    const n = Math.max(1, requests);
    const cpu = cpu0 === null ? null : clusterCpuSeconds(pg.server.ownCluster!) - cpu0;
    const totals = await statementTotals(pg.server.url, pg.database);
    const top = await topStatements(pg.server.url, pg.database, 8);
    return {
      statementsPerRequest: totals ? totals.calls / n : null,
      dbExecMsPerRequest: totals ? totals.execMs / n : null,
      dbCpuMsPerRequest: cpu === null ? null : (cpu * 1000) / n,
      topStatements: top.map((t) => ({ perRequest: t.calls / n, meanMs: t.meanMs, query: t.query })),
    };
  };
}

/** Run every scenario against one setup (its servers started here, as `npm start` starts them), adding rows to `results`. */
async function runSetup(setup: Setup, s: Scale, results: Result[]): Promise<void> {
  const { data, scale } = s;
  const start = startCommand();
  const env = { ...start.env, MAIL_DIR: join(dataDir, 'mail'), LOG_LEVEL: 'warn', DEMO: '0', SESSION_SECRET: SECRET, ...setup.env };
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${resolve(process.env.BENCH_CPU_PROF)}`] : [];
  const servers: Array<Awaited<ReturnType<typeof startChild>>> = [];
  const label = `${setup.engine}${setup.engine === 'postgres' ? ` ×${setup.instances}` : ''}`;
  try {
    for (let k = 0; k < setup.instances; k++) servers.push(await startChild(start.args.at(-1)!, env, '/healthz', [...start.args.slice(0, -1), ...profile]));
    const urls = servers.map((x) => x.url);
    const pids = servers.map((x) => x.child.pid!);
    const appCpu = () => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
    let peak = Math.max(...servers.map((x) => x.rssMb()));
    const sampler = setInterval(() => (peak = Math.max(peak, ...servers.map((x) => x.rssMb()))), 100);
    try {
      const waited = await Promise.all(pids.map((pid) => settle(pid)));
      console.log(`\n${label}, ${scale}× data: ${setup.instances === 1 ? 'server' : 'servers'} settled after start-up work in ${waited.map((w) => w.toFixed(0)).join(', ')} s`);
      const record = (r: Omit<Result, 'engine' | 'instances' | 'data' | 'rssMB'>) => {
        const row: Result = { engine: setup.engine, instances: setup.instances, data: `${scale}x`, rssMB: Math.round(peak), ...r };
        results.push(row);
        const db =
          row.statementsPerRequest === null
            ? ''
            : `  | ${row.statementsPerRequest.toFixed(1)} stmts/req, PG exec ${row.dbExecMsPerRequest!.toFixed(2)} ms/req` +
              (row.dbCpuMsPerRequest === null ? '' : `, PG CPU ${row.dbCpuMsPerRequest.toFixed(2)} ms/req`);
        console.log(
          `${row.name.padEnd(26)} ${row.data.padEnd(4)} ${row.reqPerSec.toFixed(0).padStart(6)} req/s` +
            (row.ratio === null ? '' : ` ${(row.ratio * 100).toFixed(1).padStart(5)} % of ${row.baselineReqPerSec!.toFixed(0)}`) +
            `  p50 ${row.p50.toFixed(1)} p99 ${row.p99.toFixed(1)} ms  ${row.cpuMsPerRequest.toFixed(2)} ms CPU/req  ${row.failures} failed  RSS ${row.rssMB} MB${db}`,
        );
      };
      // Learner k signs in on instance k mod n (sessions are in the database; every instance accepts them).
      const learners: Learner[] = [];
      for (const [k, l] of data.learners.entries()) learners.push({ cohortId: l.cohortId, threadId: l.threadId, cookie: await signIn(at(urls, k), l.cookie, l.cohortId) });
      const burst: Array<{ cookie: string }> = [];
      for (const [k, l] of data.burst.learners.entries()) burst.push({ cookie: await signIn(at(urls, k), l.cookie, data.burst.cohortId) });

      for (const v of firstViews.filter((x) => !only || only.has(x.name))) {
        const request = (i: number) => ({ path: v.path(data, learners, i), cookie: v.anonymous ? undefined : at(learners, i).cookie });
        const probe = await fetch(urls[0] + request(0).path, { headers: request(0).cookie ? { cookie: request(0).cookie! } : {} });
        const bytes = Buffer.byteLength(await probe.text());
        await load({ url: urls, duration: 1, connections: CONNECTIONS, requests: rotating(request) });
        const meter = await dbMeter(setup);
        const cpu0 = appCpu();
        const r = await load({ url: urls, duration: seconds, connections: CONNECTIONS, requests: rotating(request) });
        const cpu = appCpu() - cpu0;
        const db = await meter(r.requests.total);
        const basePath = `/render/${v.name}`;
        const baseBytes = Buffer.byteLength(await (await fetch(s.baseline.url + basePath)).text());
        const base = await load({ url: s.baseline.url, duration: seconds, connections: CONNECTIONS, requests: [{ method: 'GET', path: basePath }] });
        record({
          name: v.name,
          reqPerSec: r.requests.average,
          baselineReqPerSec: base.requests.average,
          ratio: r.requests.average / base.requests.average,
          p50: r.latency.p50,
          p99: r.latency.p99,
          cpuMsPerRequest: (cpu * 1000) / Math.max(1, r.requests.total),
          requests: r.requests.total,
          failures: r.errors + r.timeouts + r.non2xx,
          bytes,
          baselineBytes: baseBytes,
          ...db,
        });
      }

      const open = async (name: string, span: number, make: (l: { cookie: string }, i: number) => { method: string; path: string; body?: string }) => {
        if (only && !only.has(name)) return;
        const meter = await dbMeter(setup);
        const cpu0 = appCpu();
        const answers = await openLoop(urls, burst.map((l, i) => ({ ...make(l, i), cookie: l.cookie })), span);
        const cpu = appCpu() - cpu0;
        const db = await meter(answers.length);
        const ok = answers.filter((a) => a.status >= 200 && a.status < 300);
        const sorted = answers.map((a) => a.ms).sort((a, b) => a - b);
        record({
          name,
          reqPerSec: answers.length / span,
          baselineReqPerSec: null,
          ratio: null,
          p50: percentile(sorted, 50),
          p99: percentile(sorted, 99),
          cpuMsPerRequest: (cpu * 1000) / answers.length,
          requests: answers.length,
          failures: answers.length - ok.length,
          bytes: 0,
          baselineBytes: null,
          ...db,
        });
      };
      const cohort = data.burst.cohortId;
      await open('burst-week-page', burstSeconds, (_l, i) => ({ method: 'GET', path: `/cohorts/${cohort}/weeks/${(i % 2) + 3}` }));
      await open('posting', openSeconds, (_l, i) => ({
        method: 'POST',
        path: `/api/v1/threads/${data.burst.threadId}/posts`,
        body: JSON.stringify({ body: `Reply ${i}: we tried the empathy map with **our** team too, and evening users said the same.` }),
      }));
      await open('save-draft', openSeconds, (_l, i) => ({
        method: 'PUT',
        path: `/api/v1/cohorts/${cohort}/weeks/4/submission`,
        body: JSON.stringify({ answers: Object.fromEntries(data.promptIds.map((id) => [id, `Draft ${i}: what our users told us about opening hours.`])), submit: false }),
      }));
    } finally {
      clearInterval(sampler);
    }
  } finally {
    await Promise.all(servers.map((x) => stopChild(x.child)));
  }
}

/**
 * The PostgreSQL server to run on. Without one, and with Debian's server programs installed, the whole benchmark is
 * run again under scripts/with-postgres.sh (a throwaway cluster), and this process only waits for it.
 */
function postgresServer(): { server: BenchServer | null; note: string | null; delegated?: number } {
  if (!engines.has('postgres')) return { server: null, note: 'not asked for (BENCH_ENGINES)' };
  const server = benchServer();
  if (server) return { server, note: null };
  if (process.env.BENCH_UNDER_CLUSTER !== '1' && clusterProgramsInstalled()) {
    const script = fileURLToPath(import.meta.url);
    const run = spawnSync('bash', [join(root, 'scripts/with-postgres.sh'), process.execPath, ...process.execArgv, script], {
      stdio: 'inherit',
      env: { ...process.env, BENCH_UNDER_CLUSTER: '1' },
    });
    return { server: null, note: null, delegated: run.status ?? 1 };
  }
  return { server: null, note: 'no PostgreSQL: set BENCH_DATABASE_URL, or install Debian\'s postgresql package for a throwaway cluster' };
}

async function main() {
  const chosen = postgresServer();
  if (chosen.delegated !== undefined) process.exit(chosen.delegated);
  const pgServer = chosen.server;
  execSync('npm run build', { cwd: root, stdio: 'inherit' });
  const results: Result[] = [];
  let postgres: Record<string, unknown> | null = null;
  let roundTrip = 0;
  if (pgServer) {
    if (pgServer.ownCluster) restartClusterDurable();
    const statements = await enableStatements(pgServer.url);
    roundTrip = await roundTripMs(pgServer.url);
    postgres = {
      server: pgServer.ownCluster ? 'throwaway cluster on this machine (scripts/with-postgres.sh), restarted durable' : 'BENCH_DATABASE_URL',
      settings: await serverSettings(pgServer.url),
      poolPerInstance: Number(process.env.DB_POOL_MAX) || 10,
      roundTripMs: roundTrip,
      pgStatStatements: statements,
      copies: [] as Array<{ data: string; seconds: number; rows: number }>,
    };
    console.log(`PostgreSQL:`, postgres.settings, `round trip of select 1: ${roundTrip.toFixed(3)} ms`, statements ? '' : '(no pg_stat_statements)');
  } else if (chosen.note) console.log(`PostgreSQL: ${chosen.note}`);

  for (const scale of scales) {
    const dbPath = join(dataDir, `bench-${scale}x.db`);
    const reused = process.env.BENCH_REUSE === '1' ? reuse(dbPath, scale) : null;
    const data = reused ?? (await generate(dbPath, scale));
    console.log(`\n${scale}× data ${reused ? 'reused' : 'generated'} (${data.seconds.total.toFixed(1)} s):`, data.counts);
    // The install as generated, before any server writes to it, copied into PostgreSQL: a template every PostgreSQL
    // setup gets a fresh copy of.
    const template = `bench_${String(scale).replace('.', '_')}x`;
    if (pgServer) {
      const copy = await copyFromSqlite(dbPath, pgServer.url, template);
      (postgres!.copies as unknown[]).push({ data: `${scale}x`, ...copy });
      console.log(`copied into PostgreSQL database ${template}: ${copy.rows} rows in ${copy.seconds.toFixed(1)} s`);
    }
    const modelsFile = join(dataDir, `models-${scale}x.json`);
    writeFileSync(modelsFile, JSON.stringify(await captureModels(dbPath, data)));
    const baseline = await startChild(join(here, 'baseline-server.ts'), { BASELINE_MODELS: modelsFile, NODE_ENV: 'production' }, '/render/catalogue');
    try {
      const s: Scale = { scale, data, baseline };
      // DATABASE_URL emptied: a variable from the shell must not move the SQLite run onto a server.
      if (engines.has('sqlite')) await runSetup({ engine: 'sqlite', instances: 1, env: { DATABASE_PATH: dbPath, DATABASE_URL: '' } }, s, results);
      if (pgServer) {
        for (const instances of instanceCounts) {
          const database = `${template}_run`;
          const url = await cloneDatabase(pgServer.url, template, database);
          try {
            await runSetup({ engine: 'postgres', instances, env: { DATABASE_URL: url, DATABASE_PATH: join(dataDir, 'unused.db') }, pg: { server: pgServer, database } }, s, results);
          } finally {
            await dropDatabase(pgServer.url, database);
          }
        }
        await dropDatabase(pgServer.url, template);
      }
    } finally {
      await stopChild(baseline.child);
    }
  }

  const find = (engine: Engine, instances: number, name: string, data: string) =>
    results.find((r) => r.engine === engine && r.instances === instances && r.name === name && r.data === data);
  const setups = [...new Map(results.map((r) => [`${r.engine} ${r.instances}`, { engine: r.engine, instances: r.instances }])).values()];
  const scaleCost = setups.flatMap(({ engine, instances }) =>
    [...new Set(results.map((r) => r.name))].map((name) => {
      const one = find(engine, instances, name, '1x');
      const ten = find(engine, instances, name, '10x');
      // First views: throughput lost; open-loop scenarios: p99 gained (their rate is fixed).
      const cost = one && ten ? (one.ratio !== null ? 1 - ten.reqPerSec / one.reqPerSec : ten.p99 / one.p99 - 1) : null;
      return { engine, instances, name, cost };
    }),
  );
  // PostgreSQL against SQLite, the same scenario at the same scale in this run: time per request, i.e. SQLite's
  // throughput over PostgreSQL's for first views (both under the same 50 connections), PostgreSQL's median over
  // SQLite's for the open-loop scenarios (their rate is fixed; p99 beside it).
  const comparisons = results
    .filter((r) => r.engine === 'postgres')
    .map((r) => {
      const lite = find('sqlite', 1, r.name, r.data);
      if (!lite) return null;
      const slowdown = r.ratio !== null ? lite.reqPerSec / r.reqPerSec : r.p50 / lite.p50;
      return { name: r.name, data: r.data, instances: r.instances, slowdown, p99Ratio: r.p99 / lite.p99, basis: r.ratio !== null ? 'throughput' : 'p50' };
    })
    .filter((c) => c !== null);

  const top = scales.includes(10) ? '10x' : `${Math.max(...scales)}x`;
  const check = (what: string, value: number | undefined | null, ok: (v: number) => boolean, shown: (v: number) => string) => ({
    target: what,
    value: value === undefined || value === null ? null : shown(value),
    met: value === undefined || value === null ? null : ok(value),
  });
  const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  const times = (v: number) => `${v.toFixed(2)}×`;
  const sqliteCost = scaleCost.filter((c) => c.engine === 'sqlite');
  const sqliteRows = results.filter((r) => r.engine === 'sqlite');
  const targets = [
    check(`cohort home ≥ 30 % of its render-only baseline (${top})`, find('sqlite', 1, 'cohort-home', top)?.ratio, (v) => v >= 0.3, pct),
    check(`week page ≥ 30 % (${top})`, find('sqlite', 1, 'week-page', top)?.ratio, (v) => v >= 0.3, pct),
    check(`thread page ≥ 15 % (${top})`, find('sqlite', 1, 'thread-page', top)?.ratio, (v) => v >= 0.15, pct),
    check(`burst p99 < 100 ms (${top})`, find('sqlite', 1, 'burst-week-page', top)?.p99, (v) => v < 100, ms),
    check(`posting p99 < 100 ms (${top})`, find('sqlite', 1, 'posting', top)?.p99, (v) => v < 100, ms),
    check('10× data costs < 20 % (worst scenario)', sqliteCost.length ? Math.max(...sqliteCost.map((c) => c.cost ?? 0)) : null, (v) => v < 0.2, pct),
    check('RSS < 250 MB (peak)', sqliteRows.length ? Math.max(...sqliteRows.map((r) => r.rssMB)) : null, (v) => v < 250, (v) => `${v} MB`),
  ];
  for (const instances of pgServer ? instanceCounts : []) {
    const on = `PostgreSQL ×${instances}`;
    const worst = comparisons.filter((c) => c.instances === instances).sort((a, b) => b.slowdown - a.slowdown)[0];
    targets.push(
      check(`${on}: cohort home ≥ 30 % of its render-only baseline (${top})`, find('postgres', instances, 'cohort-home', top)?.ratio, (v) => v >= 0.3, pct),
      check(`${on}: week page ≥ 30 % (${top})`, find('postgres', instances, 'week-page', top)?.ratio, (v) => v >= 0.3, pct),
      check(`${on}: thread page ≥ 15 % (${top})`, find('postgres', instances, 'thread-page', top)?.ratio, (v) => v >= 0.15, pct),
      ...(instances === 2 ? [check(`${on}: burst p99 < 150 ms (${top})`, find('postgres', instances, 'burst-week-page', top)?.p99, (v) => v < 150, ms)] : []),
      check(`${on}: posting p99 < 150 ms (${top})`, find('postgres', instances, 'posting', top)?.p99, (v) => v < 150, ms),
      check(`${on}: no scenario more than 2× slower per request than SQLite (worst: ${worst ? `${worst.name} ${worst.data}` : 'none'})`, worst?.slowdown, (v) => v <= 2, times),
    );
  }

  console.log('\n10× data cost:', scaleCost.map((c) => `${c.engine}${c.engine === 'postgres' ? `×${c.instances}` : ''} ${c.name} ${c.cost === null ? 'n/a' : pct(c.cost)}`).join(', '));
  if (comparisons.length) {
    console.log('\nPostgreSQL against SQLite (time per request; first views by throughput, the others by p50):');
    for (const c of comparisons) console.log(`  ×${c.instances} ${c.data.padEnd(4)} ${c.name.padEnd(26)} ${times(c.slowdown).padStart(7)}  (p99 ${times(c.p99Ratio)})`);
    console.log(`\nWhere PostgreSQL's time goes (a statement's round trip from here: ${roundTrip.toFixed(3)} ms):`);
    for (const r of results.filter((x) => x.engine === 'postgres' && x.statementsPerRequest !== null)) {
      const stmts = r.statementsPerRequest!;
      const cpu = r.cpuMsPerRequest + (r.dbCpuMsPerRequest ?? 0);
      console.log(
        `  ×${r.instances} ${r.data.padEnd(4)} ${r.name.padEnd(26)} ${stmts.toFixed(1).padStart(5)} statements (round trips alone ${(stmts * roundTrip).toFixed(2)} ms), ` +
          `PG executing ${r.dbExecMsPerRequest!.toFixed(2)} ms, CPU app ${r.cpuMsPerRequest.toFixed(2)} + PG ${r.dbCpuMsPerRequest?.toFixed(2) ?? '?'} ms` +
          (r.ratio === null ? '' : ` → ${os.cpus().length} cores allow ${((os.cpus().length * 1000) / cpu).toFixed(0)} req/s`),
      );
    }
  }
  console.log('');
  for (const t of targets) console.log(`${t.met === null ? '·' : t.met ? '✓' : '✗'} ${t.target}: ${t.value ?? 'not measured'}`);
  writeFileSync(
    join(here, 'results.json'),
    JSON.stringify(
      {
        measuredAt: new Date().toISOString(),
        machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memoryGb: Math.round(os.totalmem() / 2 ** 30), node: process.version },
        settings: { connections: CONNECTIONS, seconds, burstSeconds, openSeconds, twoInstances: 'autocannon connection i to instance i mod 2; open-loop request i to instance i mod 2' },
        postgres,
        scenarios: results,
        scaleCost,
        comparisons,
        targets,
      },
      null,
      2,
    ) + '\n',
  );
  console.log('\nwrote test/bench/results.json');
}

await main();
