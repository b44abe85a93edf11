// The real standalone server as a child process, started as `npm start` starts it (the compiled dist/, with the same
// node flags; the reliability project builds it once before its tests), for crash and restart tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { packageRoot } from '../../../server/paths.js';
import { freePort } from '../../helpers/ports.js';
import { startCommand } from '../../helpers/start-command.js';


export interface ChildServer {
  proc: ChildProcess;
  port: number;
  baseUrl: string;
  /** Everything the child wrote to stderr (warnings, errors). */
  stderr(): string;
  /** SIGKILL: no shutdown hooks, no flush, as a power cut would leave it (minus the OS cache). */
  kill(): Promise<void>;
  /** SIGTERM and wait for a clean exit. */
  stop(): Promise<number | null>;
}

export interface ChildOptions {
  /** The SQLite file (DATABASE_PATH), unless databaseUrl (DATABASE_URL, PostgreSQL) is given. */
  databasePath?: string;
  databaseUrl?: string;
  mailDir: string;
  env?: Record<string, string>;
  /** How long to wait for /healthz (default 60 s). */
  readyTimeoutMs?: number;
}

/** Start the server on a free port and wait until /healthz answers. */
export async function startChild(opts: ChildOptions): Promise<ChildServer> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    try {
      return await startOn(port, opts);
    } catch (err) {
      // Another process may have taken the port between our probe and the child's listen.
      if (attempt < 2 && /EADDRINUSE/.test(String((err as Error).message))) continue;
      throw err;
    }
  }
}

async function startOn(port: number, opts: ChildOptions): Promise<ChildServer> {
  const start = startCommand();
  const proc = spawn(process.execPath, start.args, {
    cwd: packageRoot,
    env: {
      ...start.env,
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...(opts.databaseUrl ? { DATABASE_URL: opts.databaseUrl } : { DATABASE_PATH: opts.databasePath ?? '' }),
      MAIL_DIR: opts.mailDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      DEMO: '0',
      LOG_LEVEL: 'warn',
      SESSION_SECRET: 'reliability-secret-reliability-secret-00',
      ...opts.env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  let dead = false;
  void exited.then(() => {
    dead = true;
  });
  for (;;) {
    if (dead) throw new Error(`server exited before it was ready: ${err}`);
    try {
      const res = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`server not ready within the timeout: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    proc,
    port,
    baseUrl,
    stderr: () => err,
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      return exited;
    },
  };
}
