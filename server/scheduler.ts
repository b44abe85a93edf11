// Time-driven work (week openings, reminders, digests): jobs run against the injected clock.
//
// Several app instances may share one database, each with its own timer. Before a job runs, this instance takes the
// job's lease (a row in job_leases): free when it has lapsed or is already this instance's. Held for one interval, it
// makes each tick's work run on one instance; an instance that stops lets its leases lapse, and another takes over.
import { randomBytes } from 'node:crypto';
import { eq, lt, or } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from './clock.js';
import type { AppDatabase } from './db.js';
import { jobLeases } from './outbox-schema.js';

export type Job = (now: Date) => void | Promise<void>;

export interface Scheduler {
  /** Add a job; jobs must be idempotent (they run again after restarts and on every tick). */
  register(name: string, job: Job): void;
  /** Run every job once for the clock's current instant; errors are logged, not thrown. */
  runDue(): Promise<void>;
  start(intervalMs?: number): void;
  stop(): void;
}

const DEFAULT_INTERVAL_MS = 30_000;

/** Create the scheduler; production starts a timer, tests call runDue() after moving the clock. */
export function createScheduler({ clock, log, database }: { clock: Clock; log: FastifyBaseLogger; database: AppDatabase }): Scheduler {
  const jobs = new Map<string, Job>();
  const owner = randomBytes(6).toString('hex');
  let interval = DEFAULT_INTERVAL_MS;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;

  /** Take or renew the job's lease until one interval from now; false while another instance holds it. */
  async function lease(job: string, now: Date): Promise<boolean> {
    const until = new Date(now.getTime() + interval);
    const taken = await database.transaction((tx) =>
      tx
        .insert(jobLeases)
        .values({ job, owner, leaseUntil: until })
        .onConflictDoUpdate({
          target: jobLeases.job,
          set: { owner, leaseUntil: until },
          setWhere: or(eq(jobLeases.owner, owner), lt(jobLeases.leaseUntil, now)),
        })
        .returning({ job: jobLeases.job }),
    );
    return taken.length > 0;
  }

  async function runAll(): Promise<void> {
    const now = clock.now();
    for (const [name, job] of jobs) {
      try {
        if (!(await lease(name, now))) continue;
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
    start(intervalMs = DEFAULT_INTERVAL_MS) {
      if (timer) return;
      interval = intervalMs;
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
