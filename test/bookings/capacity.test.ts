// Capacity and the waitlist: concurrent bookings for the last places (one process and several), order, moving up.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { and, eq } from 'drizzle-orm';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { apiAs } from '../helpers/http.js';
import { enrolments } from '../../modules/cohorts/schema.js';
import { bookings } from '../../modules/bookings/schema.js';
import { addr, NOW, setup, slowTransactions } from './setup.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp({ now: NOW });
});
afterEach(async () => t.close());

const enrolled = async (cohortId: number, email: string) => {
  const user = (await t.ctx.people.findByEmail(email))!;
  const rows = await t.ctx.db.select().from(enrolments).where(and(eq(enrolments.cohortId, cohortId), eq(enrolments.userId, user.id), eq(enrolments.status, 'active'))).limit(1);
  return rows.length > 0;
};

describe('capacity', () => {
  it('30 people booking 5 places at the same moment: exactly 5 hold a place, the other 25 wait in order', async () => {
    const s = await setup(t, { capacity: 5 });
    await s.asAdmin('POST', '/api/v1/members', { domain: 'members.example' });
    const emails = [...Array(30).keys()].map((i) => (i % 2 ? addr('m', 'members.example') : addr('s')));
    const undo = slowTransactions(t);
    const results = await Promise.all(emails.map((e) => s.book(e, e.endsWith('members.example') ? 'member' : 'standalone'))).finally(undo);
    expect(results.map((r) => r.statusCode), results.filter((r) => r.statusCode !== 201).map((r) => r.body).join('\n')).toEqual(Array(30).fill(201));
    const docs = results.map((r) => r.json()).sort((a, b) => a.id - b.id);
    const holding = docs.filter((d) => d.status === 'confirmed' || d.status === 'pending_payment');
    const waiting = docs.filter((d) => d.status === 'waitlisted');
    expect(holding).toHaveLength(5);
    expect(waiting).toHaveLength(25);
    // The first five to be written hold the places; the waitlist follows booking order with no gaps.
    expect(holding.map((d) => d.id)).toEqual(docs.slice(0, 5).map((d) => d.id));
    expect(waiting.map((d) => d.waitlistPosition)).toEqual([...Array(25).keys()].map((i) => i + 1));
    expect(await t.ctx.bookings.placesLeft(s.cohort)).toBe(0);
    const list = (await s.asAdmin('GET', `/api/v1/cohorts/${s.cohort.id}/bookings?status=waitlisted`)).json();
    expect(list.map((b: { waitlistPosition: number }) => b.waitlistPosition)).toEqual([...Array(25).keys()].map((i) => i + 1));
    // Everyone heard: a confirmation or payment request for the five, a waitlist email with their number for the rest.
    const mails = await t.mails();
    expect(mails.filter((m) => m.subject?.startsWith('You are on the waitlist'))).toHaveLength(25);
    const last = waiting[24];
    expect((await t.mailsTo(last.email))[0].text).toContain('You are number 25.');
  });

  it('many concurrent bookings for the very last place: exactly one wins it', async () => {
    const s = await setup(t, { capacity: 3 });
    await s.book(addr());
    await s.book(addr());
    const undo = slowTransactions(t);
    const results = await Promise.all([...Array(20).keys()].map(() => s.book(addr()))).finally(undo);
    const statuses = results.map((r) => r.json().status);
    expect(statuses.filter((x) => x === 'pending_payment')).toHaveLength(1);
    expect(statuses.filter((x) => x === 'waitlisted')).toHaveLength(19);
  });

  it(
    'two other processes and this one racing on the same database never overfill the cohort',
    async () => {
      const s = await setup(t, { capacity: 5 });
      const child = fileURLToPath(new URL('./race-child.ts', import.meta.url));
            const spawn = (tag: string) => {
        const p = fork(child, [t.location, t.mailDir, String(s.cohort.id), '12', tag, NOW], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        const ready = new Promise<void>((resolve, reject) => {
          p.once('message', () => resolve());
          p.once('exit', (code) => reject(new Error(`race child ${tag} exited ${code}`)));
        });
        const done = ready.then(
          () =>
            new Promise<Array<{ email: string; code: number; status: string | null; detail: string | null }>>((resolve) => {
              p.on('message', (m) => resolve((m as { results: never }).results));
            }),
        );
        return { p, ready, done };
      };
      const a = spawn('a');
      const b = spawn('b');
      await Promise.all([a.ready, b.ready]);
      a.p.send('go');
      b.p.send('go');
      // This process joins in too, on its own connection.
      const mine = await Promise.all([...Array(6).keys()].map(() => s.book(addr())));
      const [ra, rb] = await Promise.all([a.done, b.done]);
      const all = [...ra, ...rb];
      // Nothing failed with a busy/locked error: every booking got an answer the contract allows.
      expect(all.every((r) => r.code === 201 || r.code === 409)).toBe(true);
      expect(mine.every((r) => r.statusCode === 201)).toBe(true);
      // The address both processes booked at once got exactly one booking; to the public a duplicate answers like a
      // fresh booking (201), so both were.
      const both = all.filter((r) => r.email === 'both@race.test');
      expect(both.map((r) => r.code)).toEqual([201, 201]);
      const bothUser = (await t.ctx.people.findByEmail('both@race.test'))!;
      expect(await t.ctx.db.select().from(bookings).where(eq(bookings.userId, bothUser.id))).toHaveLength(1);
      const rows = await t.ctx.db.select().from(bookings).where(eq(bookings.cohortId, s.cohort.id));
      expect(rows).toHaveLength(12 + 12 + 1 + 6);
      expect(rows.filter((r) => r.status === 'pending_payment')).toHaveLength(5);
      expect(rows.filter((r) => r.status === 'waitlisted')).toHaveLength(rows.length - 5);
      // Queue numbers are unique: the waitlist has one well-defined order.
      expect(new Set(rows.map((r) => r.queueSeq)).size).toBe(rows.length);
      const positions = (await s.asAdmin('GET', `/api/v1/cohorts/${s.cohort.id}/bookings?status=waitlisted`)).json().map((r: { waitlistPosition: number }) => r.waitlistPosition);
      expect(positions).toEqual([...Array(rows.length - 5).keys()].map((i) => i + 1));
    },
    90_000,
  );
});

describe('the waitlist', () => {
  it('a cancellation moves the first waitlisted member up to confirmed, enrols them and emails them', async () => {
    const s = await setup(t, { capacity: 2 });
    await s.asAdmin('POST', '/api/v1/members', { domain: 'members.example' });
    const a = (await s.book(addr())).json();
    await s.book(addr());
    const first = addr('first', 'members.example');
    const w1 = (await s.book(first, 'member')).json();
    const w2 = (await s.book(addr())).json();
    expect([w1.waitlistPosition, w2.waitlistPosition]).toEqual([1, 2]);
    expect(await enrolled(s.cohort.id, first)).toBe(false);

    await s.asAdmin('POST', `/api/v1/bookings/${a.id}/cancel`);
    const moved = (await s.asAdmin('GET', `/api/v1/bookings/${w1.id}`)).json();
    expect(moved.status).toBe('confirmed');
    expect(moved.history.at(-1)).toMatchObject({ action: 'moved_up', by: null, from: 'waitlisted', to: 'confirmed' });
    expect(await enrolled(s.cohort.id, first)).toBe(true);
    expect((await s.asAdmin('GET', `/api/v1/bookings/${w2.id}`)).json().waitlistPosition).toBe(1);
    const mail = (await t.mailsTo(first)).find((m) => m.subject?.startsWith('A place is yours'));
    expect(mail?.text).toContain('Your place is confirmed and you are enrolled.');
  });

  it('releasing an unpaid booking moves the first waitlisted standalone booking up to awaiting payment, with how to pay', async () => {
    const s = await setup(t, { capacity: 1 });
    const a = (await s.book(addr())).json();
    const nextEmail = addr('next');
    const w = (await s.book(nextEmail)).json();
    await s.asAdmin('POST', `/api/v1/bookings/${a.id}/release`);
    expect((await s.asAdmin('GET', `/api/v1/bookings/${w.id}`)).json().status).toBe('pending_payment');
    expect(await enrolled(s.cohort.id, nextEmail)).toBe(false);
    const mail = (await t.mailsTo(nextEmail)).find((m) => m.subject?.startsWith('A place is yours'));
    expect(mail?.text).toContain('held while we wait for payment of £195.00');
    expect(mail?.text).toContain('purchase order');
  });

  it('a learner cancelling their own booking frees the place for the next in line', async () => {
    const s = await setup(t, { capacity: 1 });
    const mine = addr('mine');
    const a = (await s.book(mine)).json();
    const w = (await s.book(addr())).json();
    const asMe = apiAs(t.app, (await t.ctx.people.createApiToken(mine)).token);
    expect((await asMe('POST', `/api/v1/bookings/${a.id}/cancel`)).statusCode).toBe(200);
    expect((await s.asAdmin('GET', `/api/v1/bookings/${w.id}`)).json().status).toBe('pending_payment');
  });

  it('moves up strictly in order, one per freed place, and never beyond capacity', async () => {
    const s = await setup(t, { capacity: 2 });
    const held = [(await s.book(addr())).json(), (await s.book(addr())).json()];
    const waiting = [];
    for (let i = 0; i < 4; i++) waiting.push((await s.book(addr())).json());
    await s.asAdmin('POST', `/api/v1/bookings/${held[0].id}/cancel`);
    await s.asAdmin('POST', `/api/v1/bookings/${held[1].id}/release`);
    const now = (await s.asAdmin('GET', `/api/v1/cohorts/${s.cohort.id}/bookings`)).json();
    const statusOf = (id: number) => now.find((b: { id: number }) => b.id === id);
    expect(waiting.map((w) => statusOf(w.id).status)).toEqual(['pending_payment', 'pending_payment', 'waitlisted', 'waitlisted']);
    expect(waiting.slice(2).map((w) => statusOf(w.id).waitlistPosition)).toEqual([1, 2]);
  });

  it('when an admin raises the capacity, the waitlist moves up at once, before any newcomer', async () => {
    const s = await setup(t, { capacity: 1 });
    await s.book(addr());
    const firstWaiting = addr('first');
    const w1 = (await s.book(firstWaiting)).json();
    const w2 = (await s.book(addr())).json();
    await t.ctx.cohorts.setCapacity(s.cohort.id, 2);
    expect((await s.asAdmin('GET', `/api/v1/bookings/${w1.id}`)).json().status).toBe('pending_payment');
    expect((await t.mailsTo(firstWaiting)).map((m) => m.subject)).toContain('A place is yours: Strategic Planning with Purpose');
    const newcomer = (await s.book(addr())).json();
    expect(newcomer).toMatchObject({ status: 'waitlisted', waitlistPosition: 2 });
    expect((await s.asAdmin('GET', `/api/v1/bookings/${w2.id}`)).json().waitlistPosition).toBe(1);
  });

  it('nobody moves up once the cohort has ended', async () => {
    const s = await setup(t, { capacity: 1 });
    const a = (await s.book(addr())).json();
    const w = (await s.book(addr())).json();
    t.clock.set(s.cohort.timeline.endsAt);
    await s.asAdmin('POST', `/api/v1/bookings/${a.id}/cancel`);
    expect((await s.asAdmin('GET', `/api/v1/bookings/${w.id}`)).json().status).toBe('waitlisted');
  });
});
