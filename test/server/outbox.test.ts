// The outbox: mail queued with the change that causes it, delivered by a real SMTP server, nothing lost in an outage.
import nodemailer from 'nodemailer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { TestSmtp } from '../helpers/smtp.js';
import { insertUser } from '../helpers/factories.js';
import { outbox } from '../../server/outbox-schema.js';
import { createMailer, retryDelayMs } from '../../server/mailer.js';

let t: TestApp;
let smtp: TestSmtp;
beforeEach(async () => {
  smtp = new TestSmtp();
  await smtp.start();
  t = await createTestApp({ mailTransport: nodemailer.createTransport({ url: smtp.url, connectionTimeout: 2000, greetingTimeout: 2000 } as never) });
});
afterEach(async () => {
  await t.close();
  await smtp.stop();
});

function queue(to: string, n: number, dedupeKey?: string) {
  return t.ctx.database.transaction((tx) =>
    t.ctx.mailer.enqueue(tx, { to, subject: `Message ${n}`, template: 'sign-in-link', data: { name: 'Reader', url: `http://x/${n}`, minutes: 15 }, dedupeKey }),
  );
}

describe('mail through the outbox', () => {
  it('delivers text and HTML parts through SMTP and marks the row sent', async () => {
    await queue('reader@example.org', 1);
    const result = await t.ctx.mailer.deliverDue();
    expect(result).toEqual({ sent: 1, failed: 0 });
    expect(smtp.received).toHaveLength(1);
    const m = smtp.received[0];
    expect(m.subject).toBe('Message 1');
    expect(m.text).toContain('http://x/1');
    expect(m.html).toContain('<a href="http://x/1">');
    expect((await t.ctx.db.select().from(outbox))[0]?.status).toBe('sent');
  });

  it('a message with a used dedupe key is not queued twice', async () => {
    expect(await queue('a@example.org', 1, 'week-open:1:1:1')).toBe(true);
    expect(await queue('a@example.org', 1, 'week-open:1:1:1')).toBe(false);
    await t.ctx.mailer.deliverDue();
    expect(smtp.received).toHaveLength(1);
  });

  it('a rolled-back change sends nothing', async () => {
    await expect(
      t.ctx.database.transaction(async (tx) => {
        await t.ctx.mailer.enqueue(tx, { to: 'b@example.org', subject: 'x', template: 'sign-in-link', data: {} });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    await t.ctx.mailer.deliverDue();
    expect(smtp.received).toHaveLength(0);
  });

  it('keeps every message through an SMTP outage and delivers each exactly once when it returns', async () => {
    await smtp.stop();
    const { email } = await insertUser(t);
    for (let i = 0; i < 5; i++) await queue(`learner${i}@example.org`, i);
    await t.ctx.people.requestSignIn({ email, ip: '10.0.0.1' });
    const down = await t.ctx.mailer.deliverDue();
    expect(down.sent).toBe(0);
    expect(down.failed).toBeGreaterThan(0);
    const rows = await t.ctx.db.select().from(outbox);
    expect(rows.every((r) => r.status === 'pending' && r.lastError)).toBe(true);
    // Not due yet: a tick during the backoff sends nothing and does not hammer the server.
    expect((await t.ctx.mailer.deliverDue()).failed).toBe(0);
    await smtp.start();
    t.clock.advance({ ms: retryDelayMs(1) });
    const up = await t.ctx.mailer.deliverDue();
    expect(up.sent).toBe(6);
    await t.ctx.mailer.deliverDue();
    expect(smtp.received).toHaveLength(6);
    const ids = smtp.received.map((m) => m.messageId);
    expect(new Set(ids).size).toBe(6);
    expect(smtp.received.filter((m) => m.subject === 'Your sign-in link')).toHaveLength(1);
  });

  it('backs off exponentially and gives up after many failures, keeping the row for an admin', async () => {
    await smtp.stop();
    await queue('c@example.org', 1);
    let attempts = 0;
    for (let i = 0; i < 12; i++) {
      await t.ctx.mailer.deliverDue();
      attempts++;
      t.clock.advance({ ms: retryDelayMs(attempts) });
    }
    const [row] = await t.ctx.db.select().from(outbox).where(eq(outbox.to, 'c@example.org'));
    expect(row.status).toBe('failed');
    expect(row.attempts).toBe(12);
    expect(retryDelayMs(1)).toBe(30_000);
    expect(retryDelayMs(3)).toBe(120_000);
    expect(retryDelayMs(50)).toBe(3_600_000);
  });

  it('a row leased by another worker is left alone until its lease runs out', async () => {
    await queue('d@example.org', 1);
    await t.ctx.database.transaction(async (tx) => {
      await tx.update(outbox).set({ leaseUntil: new Date(t.clock.now().getTime() + 60_000), leaseOwner: 'another-worker' });
    });
    expect((await t.ctx.mailer.deliverDue()).sent).toBe(0);
    t.clock.advance({ seconds: 61 });
    expect((await t.ctx.mailer.deliverDue()).sent).toBe(1);
  });

  it('a worker whose send outlasted its lease changes nothing: the worker that took the row over decides', async () => {
    await queue('e@example.org', 1);
    let inSlowSend = true;
    // Worker B: another instance, with its own lease owner, sending through the real SMTP server.
    const b = createMailer({ database: t.ctx.database, clock: t.clock, transport: nodemailer.createTransport({ url: smtp.url } as never), from: 'x@y.z', baseUrl: 'http://cohort.test', log: t.app.log });
    // Worker A: its send hangs past the lease; meanwhile B takes the row over and sends it; then A's send fails.
    const a = createMailer({
      database: t.ctx.database,
      clock: t.clock,
      from: 'x@y.z',
      baseUrl: 'http://cohort.test',
      log: t.app.log,
      transport: nodemailer.createTransport({
        name: 'slow',
        version: '1',
        send(_mail: unknown, done: (err: Error | null, info: never) => void) {
          t.clock.advance({ seconds: 61 });
          void b.deliverDue().then((r) => {
            expect(r.sent).toBe(1);
            inSlowSend = false;
            done(new Error('connection reset after the lease ran out'), undefined as never);
          });
        },
      } as never),
    });
    expect(await a.deliverDue()).toEqual({ sent: 0, failed: 1 });
    expect(inSlowSend).toBe(false);
    const [row] = await t.ctx.db.select().from(outbox).where(eq(outbox.to, 'e@example.org'));
    // A's failure did not put the sent message back in the queue: it goes once.
    expect(row.status).toBe('sent');
    expect(row.attempts).toBe(1);
    t.clock.advance({ hours: 2 });
    await t.ctx.mailer.deliverDue();
    expect(smtp.received.filter((m) => JSON.stringify(m.to).includes('e@example.org'))).toHaveLength(1);
  });
});
