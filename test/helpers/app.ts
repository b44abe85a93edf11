// A real app for tests: a temp SQLite file (or, on PostgreSQL, a database of its own) migrated like production, a
// manual clock, mail as .eml files.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Transporter } from 'nodemailer';
import { simpleParser, type ParsedMail } from 'mailparser';
import { buildApp, type BuildAppOptions } from '../../server/app.js';
import { ManualClock } from '../../server/clock.js';
import type { AppContext } from '../../server/context.js';
import { createEmlTransport } from '../../server/mailer.js';
import { createTestDatabase, databaseUrl, dropTestDatabase, onPostgres } from './engine.js';

export interface TestApp {
  app: FastifyInstance;
  ctx: AppContext;
  clock: ManualClock;
  dir: string;
  /** Where the database is: the SQLite file, or the PostgreSQL URL (for a second process on the same data). */
  location: string;
  mailDir: string;
  /** Deliver the outbox, then return every message written so far (oldest first). */
  mails(): Promise<ParsedMail[]>;
  /** Messages to one address. */
  mailsTo(email: string): Promise<ParsedMail[]>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  now?: string;
  mailTransport?: Transporter;
  prefix?: string;
  baseUrl?: string;
  contentDir?: string;
  /** Reuse a database file (restart tests, a second instance); on PostgreSQL, the database named in the folder. */
  dir?: string;
  /** Share another app's clock (a second instance of the same deployment). */
  clock?: ManualClock;
  /** Seller, Stripe (e.g. the stand-in's settings) and hold time. */
  payments?: BuildAppOptions['payments'];
}

/** Build the real app on a fresh database file. */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'cc-test-'));
  const mailDir = join(dir, 'mail');
  const clock = options.clock ?? new ManualClock(options.now ?? '2026-03-02T09:00:00.000Z');
  const pgDatabase = onPostgres ? await postgresFor(dir) : null;
  const location = pgDatabase?.url ?? join(dir, 'test.db');
  const app = await buildApp({
    databaseUrl: location,
    clock,
    mailTransport: options.mailTransport ?? createEmlTransport(mailDir),
    baseUrl: options.baseUrl ?? 'http://cohort.test',
    contentDir: options.contentDir,
    prefix: options.prefix,
    payments: options.payments,
    workers: false,
  });
  const ctx = app.cc;
  const readAll = async () => {
    await ctx.mailer.deliverDue();
    let files: string[] = [];
    try {
      files = readdirSync(mailDir).filter((f) => f.endsWith('.eml')).sort();
    } catch {
      return [];
    }
    return Promise.all(files.map((f) => simpleParser(readFileSync(join(mailDir, f)))));
  };
  return {
    app,
    ctx,
    clock,
    dir,
    location,
    mailDir,
    mails: readAll,
    async mailsTo(email) {
      return (await readAll()).filter((m) => JSON.stringify(m.to).toLowerCase().includes(email.toLowerCase()));
    },
    async close() {
      await app.close();
      if (!options.dir) {
        if (pgDatabase) await dropTestDatabase(pgDatabase.name);
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** The test folder's PostgreSQL database: made on first use and named in the folder, so a restart finds it again. */
async function postgresFor(dir: string): Promise<{ name: string; url: string }> {
  const file = join(dir, 'postgres-database');
  if (existsSync(file)) {
    const name = readFileSync(file, 'utf8').trim();
    return { name, url: databaseUrl(name) };
  }
  const made = await createTestDatabase();
  writeFileSync(file, made.name);
  return made;
}
