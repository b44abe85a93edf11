// The outbox: mail queued with the change that causes it, delivered by a real SMTP server, nothing lost in an outage.
import nodemailer from 'nodemailer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { TestSmtp } from '../helpers/smtp.js';
import { insertUser } from '../helpers/factories.js';
import { outbox } from '../../server/outbox-schema.js';
import { retryDelayMs } from '../../server/mailer.js';

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
  return t.ctx.db.transaction((tx) =>
    t.ctx.mailer.enqueue(tx, { to, subject: `Message ${n}`, template: 'sign-in-link', data: { name: 'Reader', url: `http://x/${n}`, minutes: 15 }, dedupeKey }),
  );
}

describe('mail through the outbox', () => {
  it('delivers text and HTML parts through SMTP and marks the row sent', async () => {
    queue('reader@example.org', 1);
    const result = await t.ctx.mailer.deliverDue();
    expect(result).toEqual({ sent: 1, failed: 0 });
    expect(smtp.received).toHaveLength(1);
    const m = smtp.received[0];
    expect(m.subject).toBe('Message 1');
    expect(m.text).toContain('http://x/1');
    expect(m.html).toContain('<a href="http://x/1">');
    expect(t.ctx.db.select().from(outbox).get()?.status).toBe('sent');
  });

  it('a message with a used dedupe key is not queued twice', async () => {
    expect(queue('a@example.org', 1, 'week-open:1:1:1')).toBe(true);
    expect(queue('a@example.org', 1, 'week-open:1:1:1')).toBe(false);
    await t.ctx.mailer.deliverDue();
    expect(smtp.received).toHaveLength(1);
  });

  it('a rolled-back change sends nothing', async () => {
    expect(() =>
      t.ctx.db.transaction((tx) => {
        t.ctx.mailer.enqueue(tx, { to: 'b@example.org', subject: 'x', template: 'sign-in-link', data: {} });
        throw new Error('the change failed');
      }),
    ).toThrow('the change failed');
    await t.ctx.mailer.deliverDue();
    expect(smtp.received).toHaveLength(0);
  });

  it('keeps every message through an SMTP outage and delivers each exactly once when it returns', async () => {
    await smtp.stop();
    const { email } = insertUser(t);
    for (let i = 0; i < 5; i++) queue(`learner${i}@example.org`, i);
    t.ctx.people.requestSignIn({ email, ip: '10.0.0.1' });
    const down = await t.ctx.mailer.deliverDue();
    expect(down.sent).toBe(0);
    expect(down.failed).toBeGreaterThan(0);
    const rows = t.ctx.db.select().from(outbox).all();
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
    queue('c@example.org', 1);
    let attempts = 0;
    for (let i = 0; i < 12; i++) {
      await t.ctx.mailer.deliverDue();
      attempts++;
      t.clock.advance({ ms: retryDelayMs(attempts) });
    }
    const row = t.ctx.db.select().from(outbox).where(eq(outbox.to, 'c@example.org')).get()!;
    expect(row.status).toBe('failed');
    expect(row.attempts).toBe(12);
    expect(retryDelayMs(1)).toBe(30_000);
    expect(retryDelayMs(3)).toBe(120_000);
    expect(retryDelayMs(50)).toBe(3_600_000);
  });

  it('a row leased by another worker is left alone until its lease runs out', async () => {
    queue('d@example.org', 1);
    t.ctx.db.update(outbox).set({ leaseUntil: new Date(t.clock.now().getTime() + 60_000) }).run();
    expect((await t.ctx.mailer.deliverDue()).sent).toBe(0);
    t.clock.advance({ seconds: 61 });
    expect((await t.ctx.mailer.deliverDue()).sent).toBe(1);
  });
});
