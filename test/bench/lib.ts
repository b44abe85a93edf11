// Benchmark plumbing: child servers, their start-up, and autocannon runs.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Start a child process and wait until GET `readyPath` answers. */
export async function startChild(
  script: string,
  env: Record<string, string>,
  readyPath = '/healthz',
  nodeFlags: string[] = [],
): Promise<{ child: ChildProcess; url: string; rssMb: () => number }> {
  const port = await freePort();
  // TypeScript sources run through tsx; the compiled server (dist/, as `npm start` runs it) needs no loader.
  const loader = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...nodeFlags, ...loader, script], {
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${script} exited with ${child.exitCode}`);
    try {
      const res = await fetch(url + readyPath);
      if (res.status < 500) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`${script} did not start`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const rssMb = () => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
    } catch {
      return 0;
    }
  };
  return { child, url, rssMb };
}

/** CPU seconds a process has used so far (user + system), from /proc. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100 per second)
}

/**
 * Wait until a freshly started server has finished its start-up work (the scheduler's first pass: certificate sweep,
 * week notices, digests over every member), i.e. until it uses under 5 % of a core for two seconds in a row, so
 * scenarios measure the steady state. Returns the seconds waited (at most `maxSeconds`).
 */
export async function settle(pid: number, maxSeconds = 180): Promise<number> {
  const started = Date.now();
  let quiet = 0;
  let last = cpuSeconds(pid);
  while ((Date.now() - started) / 1000 < maxSeconds && quiet < 2) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = cpuSeconds(pid);
    quiet = now - last < 0.05 ? quiet + 1 : 0;
    last = now;
  }
  return (Date.now() - started) / 1000;
}

/** Stop a child and wait for it to exit. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

export interface LoadOptions {
  /** One server, or several: autocannon gives connection i to url i mod n, so each serves an equal share. */
  url: string | string[];
  connections?: number;
  duration?: number;
  /** Requests rotated across connections (autocannon `requests`). */
  requests: autocannon.Request[];
}

/** Run autocannon and return its summary. */
export async function load(opts: LoadOptions): Promise<autocannon.Result> {
  return autocannon({
    // autocannon takes a list of URLs (its README), though its types name a string only.
    url: opts.url as string,
    connections: opts.connections ?? 50,
    duration: opts.duration ?? Number(process.env.BENCH_SECONDS ?? 5),
    requests: opts.requests,
  });
}
