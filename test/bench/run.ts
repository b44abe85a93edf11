// `npm run bench`: the real server on a large generated database, driven by autocannon, against a
// bare-Fastify baseline measured in the same run. Prints a table and writes test/bench/results.json.
//
// Environment: BENCH_SCALES (default 1,10), BENCH_SECONDS per measurement (default 5), BENCH_WARMUP seconds of load
// before each measurement (default 1), BENCH_REUSE=1 to keep a database generated earlier today, BENCH_ONLY to run
// some scenarios, BENCH_CERT=0 to skip the certificate-check curve, BENCH_CPU_PROF=dir to profile the server.
import { execSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import type autocannon from 'autocannon';
import { generate, reuse, type BenchData } from './generate.js';
import { load, printTable, settle, startChild, stopChild, type ScenarioResult } from './lib.js';
import { certificateCheckCurve } from './certificate-check.js';
import { startCommand } from '../helpers/start-command.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const dataDir = join(here, '.data');
const scales = (process.env.BENCH_SCALES ?? '1,10').split(',').map(Number);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const warmup = Number(process.env.BENCH_WARMUP ?? 1);
const CONNECTIONS = 50;
/** BENCH_ONLY=week-page,thread-page runs just those scenarios (profiling rounds). */
const only = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : null;

/** A signed-in learner as a browser holds them: the session cookie and the CSRF cookie from their first page. */
interface Learner {
  cohortId: number;
  threadId: number;
  cookie: string;
}

interface Scenario {
  name: string;
  /** The target: throughput as a share of the same-size baseline (null: reported, no target). */
  target: number | null;
  /** Run against a second server with the page cache off (PAGE_CACHE_MB=0): every request renders. */
  uncached?: boolean;
  /** A page the server keeps in its page cache: measured within one clock minute, after a first view of each (see `firstViewsInAFreshMinute`). */
  cached?: boolean;
  /** Build the request for the i-th call (rotating over signed-in learners). */
  request(data: BenchData, learners: Learner[], i: number): { method: 'GET' | 'POST' | 'PUT'; path: string; cookie?: string; body?: string };
}

const at = <T>(list: T[], i: number) => list[i % list.length];

/** A signed-in learner's GET of their cohort home, week 1 page or week-1 thread. */
function pageRequest(page: 'cohort-home' | 'week-page' | 'thread-page', ls: Learner[], i: number) {
  const l = at(ls, i);
  const path = { 'cohort-home': `/cohorts/${l.cohortId}`, 'week-page': `/cohorts/${l.cohortId}/weeks/1`, 'thread-page': `/cohorts/${l.cohortId}/discussions/${l.threadId}` }[page];
  return { method: 'GET' as const, path, cookie: l.cookie };
}

const scenarios: Scenario[] = [
  { name: 'catalogue', target: 0.25, cached: true, request: () => ({ method: 'GET', path: '/' }) },
  { name: 'cohort-home', target: 0.25, cached: true, request: (_d, ls, i) => pageRequest('cohort-home', ls, i) },
  { name: 'week-page', target: 0.25, cached: true, request: (_d, ls, i) => pageRequest('week-page', ls, i) },
  { name: 'thread-page', target: 0.1, cached: true, request: (_d, ls, i) => pageRequest('thread-page', ls, i) },
  // The same pages with the page cache off: what a first view, or a view after a change in the cohort, costs.
  ...(['cohort-home', 'week-page', 'thread-page'] as const).map((name) => ({ name: `${name}-uncached`, target: null, uncached: true, request: (d: BenchData, ls: Learner[], i: number) => pageRequest(name, ls, i) })),
  {
    // A first visit from a link in an email or on a CV: no cookies.
    name: 'certificate-verification',
    target: 0.25,
    cached: true,
    request: (d, _ls, i) => ({ method: 'GET', path: `/certificates/${at(d.certificateCodes, i)}` }),
  },
  {
    name: 'save-submission',
    target: 0.1,
    request: (d, ls, i) => {
      const l = at(ls, i);
      const answers = Object.fromEntries(d.promptIds.map((id) => [id, `Draft ${i}: what our users told us about opening hours and the study space.`]));
      return { method: 'PUT', path: `/api/v1/cohorts/${l.cohortId}/weeks/4/submission`, cookie: l.cookie, body: JSON.stringify({ answers, submit: false }) };
    },
  },
  {
    name: 'post-to-thread',
    target: 0.1,
    request: (_d, ls, i) => {
      const l = at(ls, i);
      return { method: 'POST', path: `/api/v1/threads/${l.threadId}/posts`, cookie: l.cookie, body: JSON.stringify({ body: `Reply ${i}: we tried this with **our** team too.` }) };
    },
  },
];

function toAutocannon(s: Scenario, data: BenchData, learners: Learner[]): autocannon.Request[] {
  let i = 0;
  return [
    {
      setupRequest: (req: autocannon.Request) => {
        const r = s.request(data, learners, i++);
        const headers: Record<string, string> = {};
        if (r.cookie) headers.cookie = r.cookie;
        if (r.body) headers['content-type'] = 'application/json';
        return { ...req, method: r.method, path: r.path, headers, body: r.body };
      },
    } as autocannon.Request,
  ];
}

/**
 * A cached page is the same for a whole clock minute (pages are tied to their minute: weeks open, deadlines pass and
 * sessions go live on whole minutes), and the next minute renders each page again on its first view. The bench's 50
 * connections ask for each learner's page several times a second, which no reader does; a measurement that straddled a
 * minute boundary would mix the two costs by chance. So a cached page's measurement waits, if need be, for a minute
 * with room for it, then every distinct page is viewed once (the first views: what the -uncached rows measure), then
 * the warm-up and the measurement run within that minute.
 */
async function firstViewsInAFreshMinute(url: string, s: Scenario, data: BenchData, learners: Learner[], seconds: number): Promise<void> {
  const firstViewSeconds = 5;
  const intoMinute = (Date.now() % 60_000) / 1000;
  if (intoMinute + firstViewSeconds + seconds + 1 > 60) await new Promise((r) => setTimeout(r, (60 - intoMinute) * 1000 + 200));
  const distinct = new Map<string, { path: string; cookie?: string }>();
  for (let i = 0; i < Math.max(learners.length, data.certificateCodes.length); i++) {
    const r = s.request(data, learners, i);
    distinct.set(`${r.path}\u0000${r.cookie ?? ''}`, r);
  }
  const queue = [...distinct.values()];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let r = queue.shift(); r; r = queue.shift()) {
        const res = await fetch(url + r.path, { headers: r.cookie ? { cookie: r.cookie } : {} });
        await res.arrayBuffer();
      }
    }),
  );
}

/** Every signed-in learner opens their cohort home once, as a browser would, keeping the CSRF cookie it sets. */
async function signInBrowsers(url: string, data: BenchData): Promise<Learner[]> {
  const out: Learner[] = [];
  for (const l of data.learners) {
    const session = `cc_session=${l.cookie}`;
    const res = await fetch(`${url}/cohorts/${l.cohortId}`, { headers: { cookie: session } });
    await res.text();
    if (res.status !== 200) throw new Error(`learner ${l.userId}: cohort home answered ${res.status}`);
    const csrf = res.headers.getSetCookie().find((c) => c.startsWith('cc_csrf='))?.split(';')[0];
    out.push({ cohortId: l.cohortId, threadId: l.threadId, cookie: csrf ? `${session}; ${csrf}` : session });
  }
  return out;
}

/** Sample a child's RSS while `fn` runs; returns the peak in MB. */
async function peakRss<T>(rssMb: () => number, fn: () => Promise<T>): Promise<{ result: T; peak: number }> {
  let peak = rssMb();
  const timer = setInterval(() => (peak = Math.max(peak, rssMb())), 200);
  try {
    const result = await fn();
    peak = Math.max(peak, rssMb());
    return { result, peak };
  } finally {
    clearInterval(timer);
  }
}

async function main() {
  execSync('npm run build', { cwd: root, stdio: 'inherit' });
  const results: Array<ScenarioResult & { target: number | null; meetsTarget: boolean | null; p99Under25: boolean }> = [];
  const rss: Record<string, { idle: number; peak: number }> = {};
  const generation: Record<string, { total: number; catchUp: number; reused: boolean }> = {};
  /** Seconds each scale's server took to finish its start-up work before measuring. */
  const startup: Record<string, number> = {};
  const baseline = await startChild(join(here, 'baseline-server.ts'), {}, '/static/10');
  try {
    for (const scale of scales) {
      const dbPath = join(dataDir, `bench-${scale}x.db`);
      // BENCH_REUSE=1 keeps a database generated earlier today for this scale (quicker profiling rounds).
      const reused = process.env.BENCH_REUSE === '1' ? reuse(dbPath, scale) : null;
      const data = reused ?? (await generate(dbPath, scale));
      generation[`${scale}x`] = { ...data.seconds, reused: Boolean(reused) };
      console.log(
        `\n${scale}× data ${reused ? 'reused' : 'generated'} (${data.seconds.total.toFixed(1)} s, scheduler catch-up ${data.seconds.catchUp.toFixed(1)} s):`,
        data.counts,
      );
      // The server runs as `npm start` runs it: compiled (built above), with the same node flags and NODE_ENV.
      const start = startCommand();
      const serverEnv = {
        ...start.env,
        DATABASE_PATH: dbPath,
        MAIL_DIR: join(dataDir, 'mail'),
        LOG_LEVEL: 'warn',
        DEMO: '0',
        SESSION_SECRET: 'bench-secret-bench-secret-bench-secret-00',
      };
      const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${resolve(process.env.BENCH_CPU_PROF)}`] : [];
      const entry = start.args.at(-1)!;
      const flags = [...start.args.slice(0, -1), ...profile];
      const selected = scenarios.filter((x) => !only || only.has(x.name));
      const server = await startChild(entry, serverEnv, '/healthz', flags);
      // A second server on the same database with the page cache off, for the -uncached scenarios (same cookie secret).
      const uncached = selected.some((x) => x.uncached) ? await startChild(entry, { ...serverEnv, PAGE_CACHE_MB: '0' }, '/healthz', flags) : null;
      let peak = 0;
      try {
        const settled = await Promise.all([server, uncached].filter((x) => x !== null).map((x) => settle(x.child.pid!)));
        console.log(`servers settled after start-up work in ${settled.map((x) => x.toFixed(0)).join(' and ')} s`);
        startup[`${scale}x`] = Math.max(...settled);
        const learners = await signInBrowsers(server.url, data);
        const idle = server.rssMb();
        for (const s of selected) {
          const target = s.uncached && uncached ? uncached : server;
          // One call to learn the body size (and prove the route answers 2xx), first views and a minute with room for
          // the measurement for cached pages, then a short warm-up.
          const probe = s.request(data, learners, 0);
          const res = await fetch(target.url + probe.path, {
            method: probe.method,
            headers: { ...(probe.cookie ? { cookie: probe.cookie } : {}), ...(probe.body ? { 'content-type': 'application/json' } : {}) },
            body: probe.body,
          });
          const body = await res.text();
          if (res.status >= 300) throw new Error(`${s.name}: ${probe.method} ${probe.path} answered ${res.status}: ${body.slice(0, 300)}`);
          const bytes = Buffer.byteLength(body);
          if (s.cached) await firstViewsInAFreshMinute(target.url, s, data, learners, warmup + seconds);
          if (warmup > 0) await load({ url: target.url, duration: warmup, connections: CONNECTIONS, requests: toAutocannon(s, data, learners) });
          const measured = await peakRss(target.rssMb, () => load({ url: target.url, duration: seconds, connections: CONNECTIONS, requests: toAutocannon(s, data, learners) }));
          const r = measured.result;
          if (target === server) peak = Math.max(peak, measured.peak);
          // The baseline right after, with a body of the same size, so both see the same machine.
          const bucket = Math.max(1000, Math.round(bytes / 1000) * 1000);
          const base = await load({ url: baseline.url, duration: seconds, connections: CONNECTIONS, requests: [{ method: 'GET', path: `/static/${bucket}` }] });
          const ratio = r.requests.average / base.requests.average;
          results.push({
            name: s.name,
            data: `${scale}x`,
            reqPerSec: r.requests.average,
            p50: r.latency.p50,
            p99: r.latency.p99,
            errors: r.errors + r.timeouts,
            non2xx: r.non2xx,
            bytes,
            baselineReqPerSec: base.requests.average,
            ratio,
            target: s.target,
            meetsTarget: s.target === null ? null : ratio >= s.target,
            p99Under25: r.latency.p99 < 25,
            rssPeakMb: Math.round(measured.peak),
          });
          printTable(results.slice(-1));
        }
        rss[`${scale}x`] = { idle: Math.round(idle), peak: Math.round(peak) };
      } finally {
        await stopChild(server.child);
        if (uncached) await stopChild(uncached.child);
      }
    }
  } finally {
    await stopChild(baseline.child);
  }

  const curve = process.env.BENCH_CERT === '0' ? [] : await certificateCheckCurve(join(dataDir, 'cert-check'), [100, 1000]);
  const scaleCost = scenarios.map((s) => {
    const one = results.find((r) => r.name === s.name && r.data === '1x');
    const ten = results.find((r) => r.name === s.name && r.data === '10x');
    // Throughput lost at 10× data, as raw req/s and as the share of the baseline (the machine is shared: the ratio is steadier).
    return {
      name: s.name,
      throughputLoss: one && ten ? 1 - ten.reqPerSec / one.reqPerSec : null,
      ratioLoss: one && ten ? 1 - ten.ratio / one.ratio : null,
    };
  });
  console.log('\nAll scenarios:');
  printTable(results);
  const pct = (v: number | null) => (v === null ? 'n/a' : `${(v * 100).toFixed(1)} %`);
  console.log('\n10× data cost (req/s lost; share of baseline lost):', scaleCost.map((c) => `${c.name} ${pct(c.throughputLoss)}; ${pct(c.ratioLoss)}`).join(', '));
  console.log('Server RSS (MB):', rss);
  console.log('Certificate check for a whole cohort:', curve.map((c) => `${c.learners} learners ${c.ms.toFixed(1)} ms (${c.perLearnerUs.toFixed(0)} µs each)`).join(', '));
  writeFileSync(
    join(here, 'results.json'),
    JSON.stringify(
      {
        measuredAt: new Date().toISOString(),
        machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memoryGb: Math.round(os.totalmem() / 2 ** 30), node: process.version },
        connections: CONNECTIONS,
        seconds,
        warmupSeconds: warmup,
        cachedPages: 'measured within one clock minute, after one view of each distinct page (see firstViewsInAFreshMinute in run.ts)',
        scenarios: results,
        scaleCost,
        rssMb: rss,
        generationSeconds: generation,
        serverStartupSeconds: startup,
        certificateCheck: curve,
      },
      null,
      2,
    ) + '\n',
  );
  console.log('\nwrote test/bench/results.json');
}

await main();
