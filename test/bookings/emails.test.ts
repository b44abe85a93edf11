// Every booking email, read back from the outbox as delivered .eml files.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { outbox } from '../../server/outbox-schema.js';
import { addr, NOW, setup } from './setup.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp({ now: NOW });
});
afterEach(async () => t.close());

const outboxCount = async () => Number((await t.ctx.db.select({ n: sql<number>`count(*)` }).from(outbox))[0].n);

async function only(email: string, subjectStart: string) {
  const mails = (await t.mailsTo(email)).filter((m) => m.subject?.startsWith(subjectStart));
  expect(mails, `one "${subjectStart}" mail to ${email}`).toHaveLength(1);
  return mails[0];
}

describe('booking emails', () => {
  it('booking received: the price and how to pay by invoice or purchase order', async () => {
    const s = await setup(t);
    const email = addr();
    const b = (await s.book(email)).json();
    const m = await only(email, 'Booking received');
    expect(m.subject).toBe('Booking received: Strategic Planning with Purpose');
    expect(m.text).toContain('Price: £195.00');
    expect(m.text).toContain('purchase order');
    expect(m.text).toContain(`quote booking number ${b.id}`);
    expect(m.text).toContain('Mon, 2 Mar 2026 (Europe/London)');
    expect(m.html).toContain('How to pay');
  });

  it('payment confirmed: enrolled, with the reference', async () => {
    const s = await setup(t);
    const email = addr();
    const b = (await s.book(email)).json();
    await s.asAdmin('POST', `/api/v1/bookings/${b.id}/payments`, { reference: 'PO-555' });
    const m = await only(email, 'Payment received, you are enrolled');
    expect(m.text).toContain('reference PO-555');
    expect(m.text).toContain('you are enrolled');
    expect(m.html).toContain('£195.00');
  });

  it('payment recorded while waitlisted: says the payment is kept and the place number', async () => {
    const s = await setup(t, { capacity: 1 });
    await s.book(addr());
    const email = addr();
    const b = (await s.book(email)).json();
    await s.asAdmin('POST', `/api/v1/bookings/${b.id}/payments`, { reference: 'PO-556' });
    const m = await only(email, 'Payment received:');
    expect(m.text).toContain('number 1 on the waitlist');
    expect(m.text).toContain('Your payment is kept');
  });

  it('member booking confirmed: free, enrolled, with the dates', async () => {
    const s = await setup(t);
    await s.asAdmin('POST', '/api/v1/members', { domain: 'members.example' });
    const email = addr('m', 'members.example');
    await s.book(email, 'member');
    const m = await only(email, 'Your place is confirmed');
    expect(m.text).toContain('Member places are free');
    expect(m.text).toContain('starts Mon, 2 Mar 2026 and ends Mon, 30 Mar 2026');
    expect(m.text).toContain('certificate of completion');
  });

  it('waitlisted: the place in the queue, and nothing to pay yet', async () => {
    const s = await setup(t, { capacity: 1 });
    await s.book(addr());
    await s.book(addr());
    const email = addr();
    await s.book(email);
    const m = await only(email, 'You are on the waitlist');
    expect(m.text).toContain('You are number 2.');
    expect(m.text).toContain('Nothing is due now');
  });

  it('moved up: a member is enrolled; a standalone booker is asked to pay', async () => {
    const s = await setup(t, { capacity: 1 });
    await s.asAdmin('POST', '/api/v1/members', { domain: 'members.example' });
    const a = (await s.book(addr())).json();
    const member = addr('m', 'members.example');
    await s.book(member, 'member');
    const standalone = addr();
    await s.book(standalone);
    await s.asAdmin('POST', `/api/v1/bookings/${a.id}/cancel`);
    expect((await only(member, 'A place is yours')).text).toContain('Your place is confirmed and you are enrolled.');
    const mb = (await s.asAdmin('GET', `/api/v1/cohorts/${s.cohort.id}/bookings?kind=member`)).json()[0];
    await s.asAdmin('POST', `/api/v1/bookings/${mb.id}/cancel`);
    const m = await only(standalone, 'A place is yours');
    expect(m.text).toContain('held while we wait for payment of £195.00');
  });

  it('cancelled: with a refund note when paid, without one when not; released says why', async () => {
    const s = await setup(t);
    const paid = addr('paid');
    const p = (await s.book(paid)).json();
    await s.asAdmin('POST', `/api/v1/bookings/${p.id}/payments`, { reference: 'INV-9' });
    await s.asAdmin('POST', `/api/v1/bookings/${p.id}/cancel`);
    const pm = await only(paid, 'Booking cancelled');
    expect(pm.text).toContain('A refund of £195.00 is now due to you');
    expect(pm.text).toContain('reference INV-9');
    expect(pm.html).toContain('Refund:');

    const unpaid = addr('unpaid');
    const u = (await s.book(unpaid)).json();
    await s.asAdmin('POST', `/api/v1/bookings/${u.id}/cancel`);
    expect((await only(unpaid, 'Booking cancelled')).text).not.toContain('refund');

    const released = addr('released');
    const r = (await s.book(released)).json();
    await s.asAdmin('POST', `/api/v1/bookings/${r.id}/release`);
    const rm = await only(released, 'Booking released');
    expect(rm.text).toContain('released because we had not received payment');
  });

  it('shows dates in the learner’s own time zone when they have chosen one', async () => {
    const s = await setup(t);
    const email = addr();
    const user = await t.ctx.database.transaction((tx) => t.ctx.people.ensure(tx, email, 'Zoe Zone'));
    await t.ctx.people.updateProfile(user.id, { timezone: 'Pacific/Auckland' });
    await s.book(email);
    const m = await only(email, 'Booking received');
    expect(m.text).toContain('(Pacific/Auckland)');
    expect(m.text).toContain('Mon, 2 Mar 2026');
  });

  it('writes no email when the booking is refused', async () => {
    const s = await setup(t);
    const email = addr();
    await s.book(email);
    const before = await outboxCount();
    expect((await s.asAdmin('POST', `/api/v1/cohorts/${s.cohort.id}/bookings`, { email, name: 'X', kind: 'standalone' })).statusCode).toBe(409);
    expect((await s.book(addr(), 'member')).statusCode).toBe(422);
    expect(await outboxCount()).toBe(before);
  });
});
