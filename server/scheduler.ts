// Time-driven work (week openings, reminders, digests): jobs run against the injected clock.
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from './clock.js';

export type Job = (now: Date) => void | Promise<void>;

export interface Scheduler {
  /** Add a job; jobs must be idempotent (they run again after restarts and on every tick). */
  register(name: string, job: Job): void;
  /** Run every job once for the clock's current instant; errors are logged, not thrown. */
  runDue(): Promise<void>;
  start(intervalMs?: number): void;
  stop(): void;
}

/** Create the scheduler; production starts a timer, tests call runDue() after moving the clock. */
export function createScheduler(clock: Clock, log: FastifyBaseLogger): Scheduler {
  const jobs = new Map<string, Job>();
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;

  async function runAll(): Promise<void> {
    const now = clock.now();
    for (const [name, job] of jobs) {
      try {
        await job(now);
      } catch (err) {
        log.error({ err, job: name }, 'scheduled job failed');
      }
    }
  }

  return {
    register(name, job) {
      jobs.set(name, job);
    },
    async runDue() {
      // One run at a time: a tick that arrives mid-run waits for it rather than doubling up.
      while (running) await running;
      running = runAll().finally(() => {
        running = null;
      });
      return running;
    },
    start(intervalMs = 30_000) {
      if (timer) return;
      timer = setInterval(() => void this.runDue(), intervalMs);
      timer.unref();
      // The first run waits a moment so the server is listening (and healthy) before catch-up work.
      setTimeout(() => void this.runDue(), 1_000).unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}
