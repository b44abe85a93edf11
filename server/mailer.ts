// Mail through an outbox: enqueue inside the caller's transaction, a worker delivers with retries.
import { mkdirSync, readdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import Handlebars from 'handlebars';
import nodemailer, { type Transporter } from 'nodemailer';
import { and, asc, eq, inArray, isNull, lte, or, lt } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from './clock.js';
import { skipLocked, type AppDatabase, type Db } from './db.js';
import { outbox } from './outbox-schema.js';
import { viewsDir } from './paths.js';

export interface MailMessage {
  to: string;
  subject: string;
  /** Template name under views/emails/: NAME.txt.hbs and NAME.html.hbs. */
  template: string;
  data: Record<string, unknown>;
  /** When set, a second message with the same key is silently dropped: "once only", across restarts. */
  dedupeKey?: string;
}

export interface Mailer {
  /** Queue a message through the transaction that causes it. Resolves false when the dedupe key was used. */
  enqueue(tx: Db, message: MailMessage): Promise<boolean>;
  /** Deliver every due message once (claiming rows with a lease); returns counts. */
  deliverDue(): Promise<{ sent: number; failed: number }>;
  /** Ask the worker to deliver soon (no-op when the worker is not started). */
  kick(): void;
  start(intervalMs?: number): void;
  stop(): Promise<void>;
}

const MAX_ATTEMPTS = 12;
const LEASE_MS = 60_000;
const BATCH = 25;

// Random message ids come from a pool refilled 4 KiB at a time: a 12-byte randomBytes call per message cost more than
// rendering it when a job queues thousands.
let pool = Buffer.alloc(0);
let poolAt = 0;
function messageIdBytes(): string {
  if (poolAt + 12 > pool.length) {
    pool = randomBytes(4096);
    poolAt = 0;
  }
  poolAt += 12;
  return pool.toString('hex', poolAt - 12, poolAt);
}

/** Backoff after the n-th failed attempt: 30 s, 1 min, 2 min … capped at 1 h. */
export function retryDelayMs(attempts: number): number {
  return Math.min(30_000 * 2 ** Math.max(0, attempts - 1), 3_600_000);
}

/** A nodemailer transport that writes each message as an .eml file (used when SMTP_URL is unset). */
export function createEmlTransport(dir: string): Transporter {
  mkdirSync(dir, { recursive: true });
  return nodemailer.createTransport({
    name: 'eml-folder',
    version: '1',
    send(mail, callback) {
      const chunks: Buffer[] = [];
      const stream = mail.message.createReadStream();
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', (err: Error) => callback(err, undefined as never));
      stream.on('end', () => {
        try {
          const id = mail.message.messageId().replace(/[^a-zA-Z0-9.@-]/g, '');
          const file = join(dir, `${Date.now()}-${id}.eml`);
          // Write then rename so a reader never sees half a message.
          writeFileSync(file + '.tmp', Buffer.concat(chunks));
          renameSync(file + '.tmp', file);
          callback(null, { envelope: mail.message.getEnvelope(), messageId: mail.message.messageId() } as never);
        } catch (err) {
          callback(err as Error, undefined as never);
        }
      });
    },
  });
}

/** Compile every views/emails template once at start. */
function loadTemplates(): { render(name: string, kind: 'txt' | 'html', data: object): string } {
  const hbs = Handlebars.create();
  const dir = resolve(viewsDir, 'emails');
  const compiled = new Map<string, Handlebars.TemplateDelegate>();
  for (const file of readdirSync(dir)) {
    const m = /^(.+)\.(txt|html)\.hbs$/.exec(file);
    if (!m) continue;
    const source = readFileSync(join(dir, file), 'utf8');
    // Plain-text parts must not be HTML-escaped.
    compiled.set(`${m[1]}.${m[2]}`, hbs.compile(source, { noEscape: m[2] === 'txt', strict: false }));
  }
  const layout = compiled.get('layout.html');
  return {
    render(name, kind, data) {
      const t = compiled.get(`${name}.${kind}`);
      if (!t) throw new Error(`missing email template views/emails/${name}.${kind}.hbs`);
      const body = t(data);
      return kind === 'html' && layout ? layout({ ...data, body }) : body;
    },
  };
}

export function createMailer(opts: {
  database: AppDatabase;
  clock: Clock;
  transport: Transporter;
  from: string;
  baseUrl: string;
  log: FastifyBaseLogger;
}): Mailer {
  const { database, clock, transport, from, log } = opts;
  const templates = loadTemplates();
  const host = new URL(opts.baseUrl).hostname || 'localhost';
  let timer: NodeJS.Timeout | null = null;
  let inFlight: Promise<unknown> | null = null;
  let kicked = false;
  const owner = randomBytes(6).toString('hex');

  /** Claim a batch: pending, due, and not leased by a live worker (another instance or a crashed one). */
  function claim(now: Date) {
    const leaseUntil = new Date(now.getTime() + LEASE_MS);
    const free = and(eq(outbox.status, 'pending'), or(isNull(outbox.leaseUntil), lt(outbox.leaseUntil, now)));
    // Read committed with SKIP LOCKED on PostgreSQL: workers of several instances claim different rows side by side,
    // rather than queueing on (or, serializable, failing over) the same ones. The UPDATE checks the rows are free again.
    return database.transaction(
      async (tx) => {
        const due = await skipLocked(
          database,
          tx
            .select({ id: outbox.id })
            .from(outbox)
            .where(and(free, lte(outbox.nextAttemptAt, now)))
            .orderBy(asc(outbox.id))
            .limit(BATCH),
        );
        if (due.length === 0) return [];
      return tx
        .update(outbox)
        .set({ leaseUntil, leaseOwner: owner })
        .where(and(inArray(outbox.id, due.map((d) => d.id)), free))
        .returning();
      },
      { isolation: 'read committed' },
    );
  }

  /** Record how a send went, only while this worker still holds the row's lease (a slower send lost it: no change). */
  function settle(row: typeof outbox.$inferSelect, patch: Partial<typeof outbox.$inferInsert>): Promise<boolean> {
    return database.transaction(async (tx) => {
      const held = await tx
        .update(outbox)
        .set({ ...patch, leaseUntil: null, leaseOwner: null })
        .where(and(eq(outbox.id, row.id), eq(outbox.leaseOwner, owner), eq(outbox.leaseUntil, row.leaseUntil!), eq(outbox.status, 'pending')))
        .returning({ id: outbox.id });
      return held.length > 0;
    });
  }

  async function deliverDue(): Promise<{ sent: number; failed: number }> {
    let sent = 0;
    let failed = 0;
    for (;;) {
      const claimed = await claim(clock.now());
      if (claimed.length === 0) break;
      for (const row of claimed) {
        try {
          await transport.sendMail({
            from,
            to: row.to,
            subject: row.subject,
            text: row.text,
            html: row.html,
            messageId: row.messageId,
            headers: { 'X-Cohort-Outbox-Id': String(row.id) },
          });
          if (!(await settle(row, { status: 'sent', sentAt: clock.now(), attempts: row.attempts + 1, lastError: null }))) {
            log.warn({ outboxId: row.id }, 'mail sent after its lease ran out; another worker may send it again');
          }
          sent++;
        } catch (err) {
          const attempts = row.attempts + 1;
          await settle(row, {
            attempts,
            lastError: String((err as Error).message ?? err).slice(0, 500),
            status: attempts >= MAX_ATTEMPTS ? 'failed' : 'pending',
            nextAttemptAt: new Date(clock.now().getTime() + retryDelayMs(attempts)),
          });
          failed++;
          log.warn({ err, outboxId: row.id, attempts }, 'mail delivery failed; will retry');
        }
      }
      // A failing batch would otherwise be re-claimed at once only if due; failed rows moved to the future.
      if (failed > 0 && sent === 0) break;
    }
    return { sent, failed };
  }

  function runSoon(): void {
    if (!timer) return;
    if (inFlight) {
      kicked = true;
      return;
    }
    inFlight = deliverDue()
      .catch((err) => log.error({ err }, 'outbox worker failed'))
      .finally(() => {
        inFlight = null;
        if (kicked) {
          kicked = false;
          setImmediate(runSoon);
        }
      });
  }

  return {
    async enqueue(tx, message) {
      const now = clock.now();
      const data = { ...message.data, baseUrl: opts.baseUrl };
      const queued = await tx
        .insert(outbox)
        .values({
          dedupeKey: message.dedupeKey ?? null,
          to: message.to,
          subject: message.subject,
          text: templates.render(message.template, 'txt', data),
          html: templates.render(message.template, 'html', { ...data, subject: message.subject }),
          nextAttemptAt: now,
          createdAt: now,
          messageId: `<${messageIdBytes()}@${host}>`,
        })
        .onConflictDoNothing({ target: outbox.dedupeKey })
        .returning({ id: outbox.id });
      // The worker looks once the message has committed; a message of a transaction that rolls back is not there.
      if (queued.length > 0) database.afterCommit(runSoon);
      return queued.length > 0;
    },
    deliverDue,
    kick: runSoon,
    start(intervalMs = 2_000) {
      if (timer) return;
      timer = setInterval(runSoon, intervalMs);
      timer.unref();
      runSoon();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      if (inFlight) await inFlight;
    },
  };
}

/** Count of messages waiting (for /healthz and admin pages). */
export async function pendingMailCount(db: Db): Promise<number> {
  return db.$count(outbox, eq(outbox.status, 'pending'));
}
