// A PostgreSQL server of a test's own (Debian's postgresql programs: initdb, pg_ctl), for tests that stop and start the
// database server itself and so must not share the suite's server with other test files.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { freePort } from '../../helpers/ports.js';
import { chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The newest installed server's bin folder, or null when the postgresql package is not installed. */
export function postgresBin(): string | null {
  try {
    const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(a) - Number(b));
    return versions.length ? join('/usr/lib/postgresql', versions.at(-1)!, 'bin') : null;
  } catch {
    return null;
  }
}

export interface Cluster {
  /** postgres://… of its `postgres` database. */
  url: string;
  /** Stop the server: `fast` (a clean shutdown, connections told to end) or `immediate` (as if it crashed). */
  stop(mode: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * initdb and start a server on a free port. The server is as durable as production's for a process crash
 * (synchronous_commit on: a commit is acknowledged once its WAL is written) but skips fsync, which only matters when the
 * machine itself loses power.
 */
export async function startCluster(bin: string): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'cc-pgown-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
  // Asynchronous, so the test's own clients keep sending while the server stops and starts.
  const run = async (program: string, args: string[]): Promise<void> => {
    const cmd = [join(bin, program), ...args.map((a) => `'${a.replace(/'/g, "'\\''")}'`)].join(' ');
    await promisify(execFile)(asRoot ? 'su' : 'sh', asRoot ? ['postgres', '-s', '/bin/sh', '-c', cmd] : ['-c', cmd]);
  };
  const port = await freePort();
  const data = join(dir, 'data');
  await run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=on -c max_connections=100`;
  const start = () => run('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), 'start', '-w']);
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: (mode) => run('pg_ctl', ['-D', data, 'stop', '-m', mode, '-w']),
    start,
    async destroy() {
      await run('pg_ctl', ['-D', data, 'stop', '-m', 'immediate']).catch(() => {
        // already stopped
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
