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
// Environment: BENCH_SCALES (default 1,10), BENCH_SECONDS per first-view measurement (default 5), BENCH_BURST_SECONDS
// (default 10), BENCH_OPEN_SECONDS (default 60), BENCH_REUSE=1 to keep a database generated earlier today,
// BENCH_ONLY=name,… to run some scenarios, BENCH_CPU_PROF=dir to profile the server.
import { execSync } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type autocannon from 'autocannon';
import { buildApp } from '../../server/app.js';
import { createEmlTransport } from '../../server/mailer.js';
import { generate, reuse, type BenchData } from './generate.js';
import { load, settle, startChild, stopChild } from './lib.js';
import { startCommand } from '../helpers/start-command.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const dataDir = join(here, '.data');
const scales = (process.env.BENCH_SCALES ?? '1,10').split(',').map(Number);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const burstSeconds = Number(process.env.BENCH_BURST_SECONDS ?? 10);
const openSeconds = Number(process.env.BENCH_OPEN_SECONDS ?? 60);
const CONNECTIONS = 50;
const SECRET = 'bench-secret-bench-secret-bench-secret-00';
const only = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : null;

interface Learner {
  cohortId: number;
  threadId: number;
  /** The session cookie, and the CSRF cookie from their first page. */
  cookie: string;
}

export interface Result {
  name: string;
  engine: 'sqlite';
  data: string;
  /** Throughput (first views), or the arrival rate the scenario offered (burst, posting). */
  reqPerSec: number;
  baselineReqPerSec: number | null;
  ratio: number | null;
  p50: number;
  p99: number;
  rssMB: number;
  cpuMsPerRequest: number;
  requests: number;
  failures: number;
  bytes: number;
  baselineBytes: number | null;
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

/** CPU seconds a process has used so far (user + system). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

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
 * diagnostics channel, for the render-only baseline. Read on the same database file; nothing is written.
 */
async function captureModels(dbPath: string, data: BenchData, learners: Learner[]): Promise<Record<string, { template: string; model: unknown }>> {
  const app = await buildApp({ databasePath: dbPath, mailTransport: createEmlTransport(join(dataDir, 'mail')), workers: false, sessionSecret: SECRET });
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

/** `requests` spread evenly over `spanSeconds` (open loop: each starts on time whatever the others are doing). */
async function openLoop(url: string, requests: Array<{ method: string; path: string; cookie: string; body?: string }>, spanSeconds: number) {
  const gap = (spanSeconds * 1000) / requests.length;
  const started = performance.now();
  const pending = requests.map(
    (r, i) =>
      new Promise<{ ms: number; status: number }>((done) => {
        setTimeout(() => void timedRequest(url, r).then(done), Math.max(0, started + i * gap - performance.now()));
      }),
  );
  return Promise.all(pending);
}

async function main() {
  execSync('npm run build', { cwd: root, stdio: 'inherit' });
  const results: Result[] = [];
  for (const scale of scales) {
    const dbPath = join(dataDir, `bench-${scale}x.db`);
    const reused = process.env.BENCH_REUSE === '1' ? reuse(dbPath, scale) : null;
    const data = reused ?? (await generate(dbPath, scale));
    console.log(`\n${scale}× data ${reused ? 'reused' : 'generated'} (${data.seconds.total.toFixed(1)} s):`, data.counts);
    const start = startCommand();
    const env = { ...start.env, DATABASE_PATH: dbPath, MAIL_DIR: join(dataDir, 'mail'), LOG_LEVEL: 'warn', DEMO: '0', SESSION_SECRET: SECRET };
    const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${resolve(process.env.BENCH_CPU_PROF)}`] : [];
    const server = await startChild(start.args.at(-1)!, env, '/healthz', [...start.args.slice(0, -1), ...profile]);
    let baseline: Awaited<ReturnType<typeof startChild>> | null = null;
    const pid = server.child.pid!;
    let peak = server.rssMb();
    const sampler = setInterval(() => (peak = Math.max(peak, server.rssMb())), 100);
    const record = (r: Omit<Result, 'engine' | 'data' | 'rssMB'>) => {
      const row: Result = { engine: 'sqlite', data: `${scale}x`, rssMB: Math.round(peak), ...r };
      results.push(row);
      console.log(
        `${row.name.padEnd(26)} ${row.data.padEnd(4)} ${row.reqPerSec.toFixed(0).padStart(6)} req/s` +
          (row.ratio === null ? '' : ` ${(row.ratio * 100).toFixed(1).padStart(5)} % of ${row.baselineReqPerSec!.toFixed(0)}`) +
          `  p50 ${row.p50.toFixed(1)} p99 ${row.p99.toFixed(1)} ms  ${row.cpuMsPerRequest.toFixed(2)} ms CPU/req  ${row.failures} failed  RSS ${row.rssMB} MB`,
      );
    };
    try {
      console.log(`server settled after its start-up work in ${(await settle(pid)).toFixed(0)} s`);
      const learners: Learner[] = [];
      for (const l of data.learners) learners.push({ cohortId: l.cohortId, threadId: l.threadId, cookie: await signIn(server.url, l.cookie, l.cohortId) });
      const burst: Array<{ cookie: string }> = [];
      for (const l of data.burst.learners) burst.push({ cookie: await signIn(server.url, l.cookie, data.burst.cohortId) });
      const models = await captureModels(dbPath, data, learners);
      const modelsFile = join(dataDir, `models-${scale}x.json`);
      writeFileSync(modelsFile, JSON.stringify(models));
      baseline = await startChild(join(here, 'baseline-server.ts'), { BASELINE_MODELS: modelsFile, NODE_ENV: 'production' }, '/render/catalogue');

      for (const s of firstViews.filter((x) => !only || only.has(x.name))) {
        const request = (i: number) => ({ path: s.path(data, learners, i), cookie: s.anonymous ? undefined : at(learners, i).cookie });
        const probe = await fetch(server.url + request(0).path, { headers: request(0).cookie ? { cookie: request(0).cookie! } : {} });
        const bytes = Buffer.byteLength(await probe.text());
        await load({ url: server.url, duration: 1, connections: CONNECTIONS, requests: rotating(request) });
        const cpu0 = cpuSeconds(pid);
        const r = await load({ url: server.url, duration: seconds, connections: CONNECTIONS, requests: rotating(request) });
        const cpu = cpuSeconds(pid) - cpu0;
        const basePath = `/render/${s.name}`;
        const baseBytes = Buffer.byteLength(await (await fetch(baseline.url + basePath)).text());
        const base = await load({ url: baseline.url, duration: seconds, connections: CONNECTIONS, requests: [{ method: 'GET', path: basePath }] });
        record({
          name: s.name,
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
        });
      }

      const open = async (name: string, span: number, make: (l: { cookie: string }, i: number) => { method: string; path: string; body?: string }) => {
        if (only && !only.has(name)) return;
        const cpu0 = cpuSeconds(pid);
        const answers = await openLoop(server.url, burst.map((l, i) => ({ ...make(l, i), cookie: l.cookie })), span);
        const cpu = cpuSeconds(pid) - cpu0;
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
      await stopChild(server.child);
      if (baseline) await stopChild(baseline.child);
    }
  }

  const byName = (name: string, data: string) => results.find((r) => r.name === name && r.data === data);
  const scaleCost = [...new Set(results.map((r) => r.name))].map((name) => {
    const one = byName(name, '1x');
    const ten = byName(name, '10x');
    // First views: throughput lost; open-loop scenarios: p99 gained (their rate is fixed).
    const cost = one && ten ? (one.ratio !== null ? 1 - ten.reqPerSec / one.reqPerSec : ten.p99 / one.p99 - 1) : null;
    return { name, cost };
  });
  const top = scales.includes(10) ? '10x' : `${Math.max(...scales)}x`;
  const check = (what: string, value: number | undefined | null, ok: (v: number) => boolean, shown: (v: number) => string) => ({
    target: what,
    value: value === undefined || value === null ? null : shown(value),
    met: value === undefined || value === null ? null : ok(value),
  });
  const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  const targets = [
    check(`cohort home ≥ 30 % of its render-only baseline (${top})`, byName('cohort-home', top)?.ratio, (v) => v >= 0.3, pct),
    check(`week page ≥ 30 % (${top})`, byName('week-page', top)?.ratio, (v) => v >= 0.3, pct),
    check(`thread page ≥ 15 % (${top})`, byName('thread-page', top)?.ratio, (v) => v >= 0.15, pct),
    check(`burst p99 < 100 ms (${top})`, byName('burst-week-page', top)?.p99, (v) => v < 100, ms),
    check(`posting p99 < 100 ms (${top})`, byName('posting', top)?.p99, (v) => v < 100, ms),
    check('10× data costs < 20 % (worst scenario)', Math.max(...scaleCost.map((c) => c.cost ?? 0)), (v) => v < 0.2, pct),
    check('RSS < 250 MB (peak)', Math.max(...results.map((r) => r.rssMB)), (v) => v < 250, (v) => `${v} MB`),
  ];
  console.log('\n10× data cost:', scaleCost.map((c) => `${c.name} ${c.cost === null ? 'n/a' : pct(c.cost)}`).join(', '));
  for (const t of targets) console.log(`${t.met === null ? '·' : t.met ? '✓' : '✗'} ${t.target}: ${t.value ?? 'not measured'}`);
  writeFileSync(
    join(here, 'results.json'),
    JSON.stringify(
      {
        measuredAt: new Date().toISOString(),
        machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memoryGb: Math.round(os.totalmem() / 2 ** 30), node: process.version },
        settings: { connections: CONNECTIONS, seconds, burstSeconds, openSeconds },
        scenarios: results,
        scaleCost,
        targets,
      },
      null,
      2,
    ) + '\n',
  );
  console.log('\nwrote test/bench/results.json');
}

await main();
