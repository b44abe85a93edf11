// Mail outage: SMTP is down while people sign in (and book); the outbox keeps every message, and once
// SMTP is back and the backoff has passed, every message arrives exactly once, even with two workers.
import nodemailer from 'nodemailer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import type { ParsedMail } from 'mailparser';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { TestSmtp } from '../helpers/smtp.js';
import { apiAs, Browser } from '../helpers/http.js';
import { insertCohort, insertUser } from '../helpers/factories.js';
import { outbox } from '../../server/outbox-schema.js';
import { buildApp } from '../../server/app.js';
import { retryDelayMs } from '../../server/mailer.js';

let t: TestApp;
let smtp: TestSmtp;

function smtpTransport() {
  return nodemailer.createTransport({ url: smtp.url, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 } as never);
}

beforeEach(async () => {
  smtp = new TestSmtp();
  await smtp.start();
  t = await createTestApp({ mailTransport: smtpTransport() });
});
afterEach(async () => {
  await t.close();
  await smtp.stop();
});

/** Run the worker until nothing is due (it stops after a batch that failed entirely, so an outage takes several ticks). */
async function drain(app = t.ctx) {
  const total = { sent: 0, failed: 0 };
  for (;;) {
    const r = await app.mailer.deliverDue();
    if (r.sent === 0 && r.failed === 0) return total;
    total.sent += r.sent;
    total.failed += r.failed;
  }
}

function countBy<T>(items: T[], key: (item: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const item of items) m.set(key(item), (m.get(key(item)) ?? 0) + 1);
  return m;
}

function recipient(m: ParsedMail): string {
  const to = Array.isArray(m.to) ? m.to[0] : m.to;
  return (to?.value[0]?.address ?? '').toLowerCase();
}

async function outboxStatus() {
  const rows = await t.ctx.db
    .select({ status: outbox.status, n: sql<number>`count(*)` })
    .from(outbox)
    .groupBy(outbox.status);
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

describe('mail during an SMTP outage', () => {
  it('every sign-in link asked for during the outage arrives exactly once after SMTP returns, and still works', async () => {
    const people = await Promise.all(Array.from({ length: 30 }, () => insertUser(t, 'learner')));
    await smtp.stop();

    // People sign in over 30 minutes while SMTP is down (one a minute, within the per-IP limit): the page answers as usual.
    for (const p of people) {
      const res = await new Browser(t.app).post('/sign-in', { email: p.email }, { fromPage: '/sign-in' });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('Check your email');
      expect(await drain()).toMatchObject({ sent: 0 });
      t.clock.advance({ minutes: 1 });
    }
    expect(await outboxStatus()).toEqual({ pending: 30 });
    // Each message was tried as the worker ticked; the early ones several times, by their backoff.
    const attempts = (await t.ctx.db.select({ attempts: outbox.attempts }).from(outbox)).map((r) => r.attempts);
    expect(Math.min(...attempts)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...attempts)).toBeLessThanOrEqual(6);

    // Ticks inside the backoff do not retry; each message is tried again once its backoff has passed.
    expect((await drain()).sent).toBe(0);
    const rows = (await t.ctx.db.select().from(outbox));
    expect(rows.every((r) => r.status === 'pending' && r.lastError && r.nextAttemptAt.getTime() > t.clock.now().getTime())).toBe(true);
    expect(await drain()).toEqual({ sent: 0, failed: 0 });
    expect(smtp.received).toHaveLength(0);

    await smtp.start();
    // Nothing goes before a message's backoff has passed; the last one is due within the longest backoff so far.
    const lastDue = Math.max(...rows.map((r) => r.nextAttemptAt.getTime()));
    t.clock.set(new Date(lastDue - 1));
    const early = await drain();
    expect(early.failed).toBe(0);
    expect(early.sent).toBeLessThan(30);
    t.clock.set(new Date(lastDue));
    expect((await drain()).sent + early.sent).toBe(30);
    // Later ticks, hours later, send nothing again.
    for (let i = 0; i < 3; i++) {
      t.clock.advance({ hours: 2 });
      expect(await drain()).toEqual({ sent: 0, failed: 0 });
    }

    expect(smtp.received).toHaveLength(30);
    expect([...countBy(smtp.received, (m) => m.messageId ?? '').values()].every((n) => n === 1)).toBe(true);
    const byRecipient = countBy(smtp.received, (m) => `${recipient(m)}|${m.subject}`);
    expect(byRecipient.size).toBe(30);
    for (const p of people) expect(byRecipient.get(`${p.email}|Your sign-in link`), p.email).toBe(1);
    expect(await outboxStatus()).toEqual({ sent: 30 });

    // The newest delayed link still signs its person in (it is younger than the 15-minute lifetime).
    const last = people[people.length - 1];
    t.clock.set(new Date(Math.max(...rows.map((r) => r.createdAt.getTime())) + 10 * 60_000));
    const first = smtp.received.find((m) => recipient(m) === last.email)!;
    const path = new URL(/https?:\/\/\S+\/sign-in\/[A-Za-z0-9_-]+/.exec(first.text ?? '')![0]).pathname;
    const browser = new Browser(t.app);
    const confirm = await browser.get(path);
    expect(confirm.statusCode).toBe(200);
    const token = /name="token" value="([^"]+)"/.exec(confirm.body)![1];
    expect((await browser.post('/sign-in/confirm', { token }, { fromPage: path })).statusCode).toBe(303);
    expect((await browser.api('GET', '/api/v1/me')).json().email).toBe(last.email);
  });

  it('bookings and sign-ins during the outage: every confirmation and link arrives exactly once afterwards', async () => {
    const { cohort } = await insertCohort(t, { capacity: 10 });
    const admin = await insertUser(t, 'admin');
    await smtp.stop();
    const booked: string[] = [];
    for (let i = 0; i < 14; i++) {
      const email = `outage-booker-${i}@example.org`;
      // Anonymous bookings (12 fit, 2 wait) and two by an admin on someone's behalf.
      const res = await apiAs(t.app, i < 12 ? null : admin.token)('POST', `/api/v1/cohorts/${cohort.id}/bookings`, { email, name: `Booker ${i}`, kind: 'standalone' });
      expect(res.statusCode, res.body).toBe(201);
      booked.push(email);
    }
    const learners = await Promise.all(Array.from({ length: 5 }, () => insertUser(t)));
    for (const l of learners) expect((await new Browser(t.app).post('/sign-in', { email: l.email }, { fromPage: '/sign-in' })).statusCode).toBe(200);
    const queued = (await t.ctx.db.select().from(outbox));
    expect(queued.length).toBeGreaterThanOrEqual(booked.length + learners.length);
    expect(await drain()).toMatchObject({ sent: 0 });

    await smtp.start();
    t.clock.advance({ hours: 1 });
    expect((await drain()).sent).toBe(queued.length);
    t.clock.advance({ hours: 3 });
    expect(await drain()).toEqual({ sent: 0, failed: 0 });

    expect(smtp.received).toHaveLength(queued.length);
    expect(new Set(smtp.received.map((m) => m.messageId)).size).toBe(queued.length);
    const byRecipientSubject = countBy(smtp.received, (m) => `${recipient(m)}|${m.subject}`);
    expect([...byRecipientSubject.values()].every((n) => n === 1), JSON.stringify([...byRecipientSubject])).toBe(true);
    for (const email of booked) expect(smtp.received.filter((m) => recipient(m) === email).length, email).toBeGreaterThanOrEqual(1);
    for (const l of learners) expect(byRecipientSubject.get(`${l.email}|Your sign-in link`), l.email).toBe(1);
    console.log(`[mail] ${queued.length} messages queued during the outage (bookings and sign-ins), each delivered exactly once`);
  });

  it('two workers sharing the database after the outage deliver each message exactly once', async () => {
    const people = await Promise.all(Array.from({ length: 40 }, () => insertUser(t, 'learner')));
    await smtp.stop();
    for (const p of people) await t.ctx.people.requestSignIn({ email: p.email, ip: `10.0.${Math.floor(Math.random() * 250)}.1` });
    expect(await drain()).toEqual({ sent: 0, failed: 40 });
    await smtp.start();
    t.clock.advance({ ms: retryDelayMs(1) });

    // A second instance (another machine) on the same database and clock.
    const second = await buildApp({
      databaseUrl: t.location,
      clock: t.clock,
      mailTransport: smtpTransport(),
      baseUrl: 'http://cohort.test',
      workers: false,
    });
    try {
      const results = await Promise.all([drain(), drain(second.cc), drain(), drain(second.cc)]);
      expect(results.reduce((n, r) => n + r.sent, 0)).toBe(40);
      expect(results.reduce((n, r) => n + r.failed, 0)).toBe(0);
    } finally {
      await second.close();
    }
    expect(smtp.received).toHaveLength(40);
    expect(new Set(smtp.received.map((m) => m.messageId)).size).toBe(40);
    expect(new Set(smtp.received.map((m) => `${recipient(m)}|${m.subject}`)).size).toBe(40);
    expect(await t.ctx.db.select().from(outbox).where(eq(outbox.status, 'sent'))).toHaveLength(40);
  });
});
