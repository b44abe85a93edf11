// The post writer: a worker thread with its own connection that renders and writes posts, so posting uses the second
// core and posts arriving together share one commit. The request thread keeps the checks (access, lock, parent,
// body) and answers once the writer reports the post committed. Used by the standalone server (see README
// Performance); anything else writes posts on its own connection through the same createPostWrites.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { durabilityOf } from '../../server/connection.js';
import type { PostJob, PostOutcome } from './post-write.js';

export interface PostWriter {
  /** Resolves once the post is committed (or refused); rejects when the writer has stopped. */
  write(job: PostJob): Promise<PostOutcome>;
  /** False once the thread has stopped or failed: callers then write on their own connection. */
  readonly running: boolean;
  /** Writes what is queued, then stops the thread. */
  close(): Promise<void>;
  /**
   * Stops the thread at once, as a crash would: the posts it has not answered are refused, committed or not (the
   * discussion service then finds or writes each one itself). For tests and for a writer that does not stop.
   */
  terminate(): Promise<void>;
}

// The thread's entry is the compiled .js next to this file; run from the TypeScript sources (tests, tsx), the thread
// first registers tsx's loader so it can import the .ts entry.
const BOOT = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsx) (await import(workerData.tsx)).register();
  await import(workerData.entry);
})().catch((err) => setImmediate(() => { throw err; }));
`;

function entryPoint(): { entry: string; tsx: string | null } {
  const fromSources = import.meta.url.endsWith('.ts');
  const entry = new URL(`./post-writer-worker.${fromSources ? 'ts' : 'js'}`, import.meta.url).href;
  if (!fromSources) return { entry, tsx: null };
  // tsx's ESM register() (the CommonJS build cannot register from an eval'd worker).
  const api = createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs');
  return { entry, tsx: pathToFileURL(api).href };
}

/** Start the writer for the database file behind `sqlite` (same file, same durability). Resolves once it is ready. */
export async function startPostWriter(sqlite: Database.Database, onFailure: (err: Error) => void): Promise<PostWriter> {
  const worker = new Worker(BOOT, {
    eval: true,
    workerData: { ...entryPoint(), path: sqlite.name, durability: durabilityOf(sqlite) },
  });
  const pending = new Map<number, { resolve: (o: PostOutcome) => void; reject: (e: Error) => void }>();
  let next = 0;
  let running = false;
  let stopped: Promise<void> | null = null;
  /** Refuse every unanswered post; report the failure if the thread was running (not stopped by close()). */
  const stop = (err: Error) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    if (!running) return;
    running = false;
    onFailure(err);
  };
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the post writer exited (${code}) before it was ready`)));
  });
  running = true;
  worker.on('message', (answers: Array<{ id: number; outcome: PostOutcome }>) => {
    for (const a of answers) {
      pending.get(a.id)?.resolve(a.outcome);
      pending.delete(a.id);
    }
  });
  worker.on('error', stop);
  // After close() anything still unanswered (only if the thread had to be terminated) is refused, not left waiting.
  worker.on('exit', (code) => stop(new Error(`the post writer stopped (exit ${code})`)));
  return {
    get running() {
      return running;
    },
    write(job) {
      if (!running) return Promise.reject(new Error('the post writer has stopped'));
      const id = ++next;
      return new Promise<PostOutcome>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, job });
      });
    },
    close() {
      stopped ??= new Promise<void>((done) => {
        if (!running) return done();
        worker.once('exit', () => done());
        // Queued posts are written and answered before the thread stops (messages arrive in order).
        worker.postMessage('stop');
        running = false;
        setTimeout(() => void worker.terminate(), 5000).unref();
      });
      return stopped;
    },
    async terminate() {
      // The thread's 'exit' refuses every unanswered post (stop) before the promise resolves.
      await worker.terminate();
    },
  };
}
