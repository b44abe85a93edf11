// Environment to one typed config object, with the defaults documented in API.md.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import nodemailer from 'nodemailer';
import type { BuildAppOptions } from './app.js';
import { durabilityFrom, isPostgresUrl, type Durability } from './db.js';
import { createEmlTransport } from './mailer.js';
import { DEFAULT_SELLER, type PaymentSettings } from '../modules/payments/model.js';

export interface Config {
  port: number;
  host: string;
  baseUrl: string;
  /** The SQLite file (DATABASE_PATH), used unless databaseUrl is set. */
  databasePath: string;
  /** PostgreSQL (DATABASE_URL=postgres://…), or null for the SQLite file. */
  databaseUrl: string | null;
  contentDir: string;
  smtpUrl: string | null;
  mailDir: string;
  mailFrom: string;
  sessionSecret: string;
  logLevel: string;
  /** SQLite synchronous setting: normal (default) or full (an fsync per commit). */
  durability: Durability;
  /** Seller details for invoices, Stripe (card payments) when both keys are set, the checkout hold. */
  payments: PaymentSettings;
}

function port(value: string | undefined): number {
  const n = Number(value ?? 3000);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`PORT must be an integer 0..65535, got "${value}"`);
  return n;
}

/**
 * The session secret: from the environment, else (SQLite only) generated once and kept beside the database file. With
 * DATABASE_URL every instance must sign cookies with the same secret, which no one instance can make up: required.
 */
function sessionSecret(env: NodeJS.ProcessEnv, databasePath: string, databaseUrl: string | null): string {
  if (env.SESSION_SECRET) {
    if (env.SESSION_SECRET.length < 32) throw new Error('SESSION_SECRET must be at least 32 characters');
    return env.SESSION_SECRET;
  }
  if (databaseUrl) {
    throw new Error('SESSION_SECRET is required with DATABASE_URL: set the same secret (at least 32 characters) on every instance, e.g. SESSION_SECRET=$(openssl rand -base64 32)');
  }
  const file = resolve(dirname(databasePath), 'session-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dirname(file), { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, secret + '\n', { mode: 0o600 });
  return secret;
}

function intIn(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be a whole number ${min}..${max}, got "${raw}"`);
  return n;
}

/**
 * Payments: the seller printed on invoices (SELLER_NAME, SELLER_ADDRESS with "\n" between lines, SELLER_EMAIL,
 * SELLER_VAT_NUMBER), VAT_RATE in percent (prices include it; unset: VAT not charged, VAT_EXEMPT_REASON says why),
 * INVOICE_PAYMENT_TERMS_DAYS, INVOICE_HOW_TO_PAY; card payments when STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET are
 * both set; CHECKOUT_HOLD_MINUTES.
 */
function paymentSettings(env: NodeJS.ProcessEnv): PaymentSettings {
  const secretKey = env.STRIPE_SECRET_KEY?.trim() || '';
  const webhookSecret = env.STRIPE_WEBHOOK_SECRET?.trim() || '';
  if (Boolean(secretKey) !== Boolean(webhookSecret)) throw new Error('Card payments need both STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET (or neither, for invoices only)');
  let vatRateBp: number | null = null;
  if (env.VAT_RATE) {
    const rate = Number(env.VAT_RATE);
    if (!Number.isFinite(rate) || rate < 0 || rate > 100) throw new Error(`VAT_RATE must be a percentage 0..100, got "${env.VAT_RATE}"`);
    vatRateBp = Math.round(rate * 100);
  }
  return {
    seller: {
      name: env.SELLER_NAME || DEFAULT_SELLER.name,
      address: (env.SELLER_ADDRESS ?? DEFAULT_SELLER.address).replace(/\\n/g, '\n'),
      email: env.SELLER_EMAIL || DEFAULT_SELLER.email,
      vatNumber: env.SELLER_VAT_NUMBER || null,
      vatRateBp,
      vatExemptReason: env.VAT_EXEMPT_REASON || DEFAULT_SELLER.vatExemptReason,
      paymentTermsDays: intIn(env, 'INVOICE_PAYMENT_TERMS_DAYS', DEFAULT_SELLER.paymentTermsDays, 0, 365),
      howToPay: (env.INVOICE_HOW_TO_PAY || DEFAULT_SELLER.howToPay).replace(/\\n/g, '\n'),
    },
    stripe: secretKey ? { secretKey, webhookSecret } : null,
    holdMinutes: intIn(env, 'CHECKOUT_HOLD_MINUTES', 30, 5, 24 * 60),
  };
}

/** Read the configuration from environment variables; every one has a working default. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const host = env.HOST || '127.0.0.1';
  const p = port(env.PORT);
  const databasePath = resolve(cwd, env.DATABASE_PATH || 'data/cohort.db');
  const databaseUrl = env.DATABASE_URL?.trim() || null;
  if (databaseUrl && !isPostgresUrl(databaseUrl)) throw new Error(`DATABASE_URL must be a postgres:// URL, got "${databaseUrl.replace(/:[^:@/]*@/, ':***@')}"`);
  const baseUrl = (env.BASE_URL || `http://${host}:${p}`).replace(/\/+$/, '');
  try {
    new URL(baseUrl);
  } catch {
    throw new Error(`BASE_URL must be an absolute URL, got "${baseUrl}"`);
  }
  return {
    port: p,
    host,
    baseUrl,
    databasePath,
    databaseUrl,
    contentDir: resolve(cwd, env.CONTENT_DIR || 'content'),
    smtpUrl: env.SMTP_URL || null,
    mailDir: resolve(cwd, env.MAIL_DIR || 'data/mail'),
    mailFrom: env.MAIL_FROM || 'Cohort Course <no-reply@cohort-course.local>',
    sessionSecret: sessionSecret(env, databasePath, databaseUrl),
    logLevel: env.LOG_LEVEL || 'info',
    durability: durabilityFrom(env.DB_SYNCHRONOUS),
    payments: paymentSettings(env),
  };
}

/** What buildApp takes from the configuration: the server and the CLI open the same database, content and mail. */
export function appOptions(config: Config): BuildAppOptions {
  return {
    databasePath: config.databasePath,
    databaseUrl: config.databaseUrl ?? undefined,
    durability: config.durability,
    baseUrl: config.baseUrl,
    contentDir: config.contentDir,
    sessionSecret: config.sessionSecret,
    mailFrom: config.mailFrom,
    payments: config.payments,
    mailTransport: config.smtpUrl ? nodemailer.createTransport(config.smtpUrl) : createEmlTransport(config.mailDir),
  };
}
