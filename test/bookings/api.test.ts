// The bookings API: every transition of a booking and who may make it, members, duplicates, closing, bad input.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { and, eq } from 'drizzle-orm';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { insertUser } from '../helpers/factories.js';
import { apiAs } from '../helpers/http.js';
import { enrolments } from '../../modules/cohorts/schema.js';
import { bookingAttempts, bookings, members } from '../../modules/bookings/schema.js';
import { users } from '../../modules/people/schema.js';
import { addr, NOW, setup, slowTransactions } from './setup.js';
import { BOOKING_ADDRESS_KEPT_HOURS, BOOKING_ATTEMPTS_PER_ADDRESS_PER_HOUR, BOOKINGS_PER_IP_PER_HOUR } from '../../modules/bookings/service.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp({ now: NOW });
});
afterEach(async () => t.close());

/** The API as the learner behind an address (a token for their account, made when the call is). */
function asLearner(email: string) {
  return async (...call: Parameters<ReturnType<typeof apiAs>>) => apiAs(t.app, (await t.ctx.people.createApiToken(email)).token)(...call);
}

async function enrolment(cohortId: number, email: string) {
  const user = (await t.ctx.people.findByEmail(email))!;
  const [row] = await t.ctx.db.select().from(enrolments).where(and(eq(enrolments.cohortId, cohortId), eq(enrolments.userId, user.id))).limit(1);
  return row;
}

describe('members', () => {
  it('an admin adds an address and a domain, lists them and removes one', async () => {
    const s = await setup(t);
    const a = await s.asAdmin('POST', '/api/v1/members', { email: 'Reader@Town.Example' });
    expect(a.statusCode).toBe(201);
    expect(a.json()).toMatchObject({ email: 'reader@town.example', domain: null, addedBy: s.admin.email });
    const d = await s.asAdmin('POST', '/api/v1/members', { domain: '@County-Library.example' });
    expect(d.statusCode).toBe(201);
    expect(d.json()).toMatchObject({ email: null, domain: 'county-library.example' });
    const list = await s.asAdmin('GET', '/api/v1/members');
    expect(list.json().map((m: { domain: string | null; email: string | null }) => m.domain ?? m.email)).toEqual(['county-library.example', 'reader@town.example']);
    expect((await s.asAdmin('DELETE', `/api/v1/members/${a.json().id}`)).statusCode).toBe(204);
    expect((await s.asAdmin('DELETE', `/api/v1/members/${a.json().id}`)).statusCode).toBe(404);
    expect((await s.asAdmin('GET', '/api/v1/members')).json()).toHaveLength(1);
  });

  it('refuses a duplicate entry with 409, and bad or ambiguous input with 400 naming the problem', async () => {
    const s = await setup(t);
    expect((await s.asAdmin('POST', '/api/v1/members', { domain: 'library.example' })).statusCode).toBe(201);
    const dup = await s.asAdmin('POST', '/api/v1/members', { domain: 'LIBRARY.example' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().detail).toContain('already on the member list');
    const both = await s.asAdmin('POST', '/api/v1/members', { email: 'a@b.example', domain: 'b.example' });
    expect(both.statusCode).toBe(400);
    expect(both.json().detail).toContain('either email or domain');
    expect((await s.asAdmin('POST', '/api/v1/members', {})).statusCode).toBe(400);
    const gmail = await s.asAdmin('POST', '/api/v1/members', { domain: 'gmail.com' });
    expect(gmail.statusCode).toBe(400);
    expect(gmail.json().detail).toContain('public mail provider');
    const bad = await s.asAdmin('POST', '/api/v1/members', { email: 'not an address' });
    expect(bad.statusCode).toBe(400);
    const extra = await s.asAdmin('POST', '/api/v1/members', { email: 'a@b.example', role: 'x' });
    expect(extra.statusCode).toBe(400);
    expect(extra.json().detail).toContain('role');
    expect(extra.headers['content-type']).toContain('application/problem+json');
  });

  it('refuses a public suffix as a member domain (co.uk, org.uk, github.io …) with a message naming it', async () => {
    const s = await setup(t);
    for (const domain of ['co.uk', 'org.uk', 'github.io', '@CO.UK', 'ac.uk', 'blogspot.com', 'kent.sch.uk']) {
      const res = await s.asAdmin('POST', '/api/v1/members', { domain });
      expect(res.statusCode, domain).toBe(400);
      const named = domain.replace(/^@/, '').toLowerCase();
      expect(res.json().detail, domain).toBe(
        `${named} is a public suffix: anyone can register a name under it, so it cannot be a member domain. Add your organisation's own domain instead, such as library.${named}.`,
      );
    }
    // A registrable domain under a suffix is fine, and so are its subdomains.
    for (const domain of ['library.co.uk', 'branch.library.org.uk', 'ourlibrary.github.io']) expect((await s.asAdmin('POST', '/api/v1/members', { domain })).statusCode, domain).toBe(201);
    const report = (await s.asAdmin('POST', '/api/v1/members/import', { csv: 'domain\nco.uk\ncounty.example\n' })).json();
    expect(report.refused).toEqual([{ row: 2, value: 'co.uk', reason: expect.stringContaining('co.uk is a public suffix') }]);
    expect((await t.ctx.bookings.listMembers()).map((m) => m.domain)).not.toContain('co.uk');
  });

  it('a public suffix already on the member list (from before they were refused) makes nobody a member', async () => {
    const s = await setup(t);
    await t.ctx.database.transaction((tx) => tx.insert(members).values({ domain: 'co.uk', createdAt: new Date(NOW) }));
    await s.asAdmin('POST', '/api/v1/members', { domain: 'library.co.uk' });
    expect((await s.book(addr('anyone', 'somecompany.co.uk'), 'member')).statusCode).toBe(422);
    expect((await s.book(addr('staff', 'branch.library.co.uk'), 'member')).statusCode).toBe(201);
    // An address at the suffix itself matches nothing either.
    expect((await s.book(addr('bare', 'co.uk'), 'member')).statusCode).toBe(422);
  });

  it('only admins manage the member list', async () => {
    const s = await setup(t);
    const learner = await insertUser(t, 'learner');
    const asL = apiAs(t.app, learner.token);
    expect((await asL('POST', '/api/v1/members', { domain: 'x.example' })).statusCode).toBe(403);
    expect((await asL('GET', '/api/v1/members')).statusCode).toBe(403);
    expect((await apiAs(t.app, s.instructor.token)('GET', '/api/v1/members')).statusCode).toBe(403);
    expect((await s.anon('GET', '/api/v1/members')).statusCode).toBe(401);
    expect((await s.anon('POST', '/api/v1/members', { domain: 'x.example' })).statusCode).toBe(401);
    expect((await s.anon('DELETE', '/api/v1/members/1')).statusCode).toBe(401);
  });
});

describe('booking a place', () => {
  it('a member on the list by address books free and is confirmed and enrolled at once; the account is created', async () => {
    const s = await setup(t);
    const email = addr('member');
    await s.asAdmin('POST', '/api/v1/members', { email });
    expect(await t.ctx.people.findByEmail(email)).toBeUndefined();
    const res = await s.book(email, 'member');
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ status: 'confirmed', kind: 'member', price: { amountMinor: 0, currency: 'GBP' }, certificate: true });
    expect(await t.ctx.people.findByEmail(email)).toMatchObject({ role: 'learner', name: `Name of ${email.split('@')[0]}` });
    expect(await enrolment(s.cohort.id, email)).toMatchObject({ status: 'active', certificateWanted: true });
  });

  it('a member qualifies by domain, including subdomains; anyone else gets 422 saying how to book standalone', async () => {
    const s = await setup(t);
    await s.asAdmin('POST', '/api/v1/members', { domain: 'county.example' });
    expect((await s.book(addr('a', 'county.example'), 'member')).json().status).toBe('confirmed');
    expect((await s.book(addr('b', 'branch.county.example'), 'member')).json().status).toBe('confirmed');
    const outsider = addr('c', 'notcounty.example');
    const refused = await s.book(outsider, 'member');
    expect(refused.statusCode).toBe(422);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.json().detail).toContain('not on the member list');
    expect(refused.json().detail).toContain('Book as standalone instead (£195.00');
    // A refused booking creates no account.
    expect(await t.ctx.people.findByEmail(outsider)).toBeUndefined();
    expect((await s.book(outsider, 'standalone')).statusCode).toBe(201);
  });

  it('a standalone booking waits for payment at the course price, holding a place but not enrolling', async () => {
    const s = await setup(t);
    const email = addr();
    const res = await s.book(email, 'standalone', { certificate: false });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ status: 'pending_payment', kind: 'standalone', price: { amountMinor: 19500, currency: 'GBP' }, paymentReference: null, certificate: false });
    expect(await enrolment(s.cohort.id, email)).toBeUndefined();
    expect(await t.ctx.bookings.placesLeft(s.cohort)).toBe(4);
  });

  it('tells an admin, and the person booking themself, of a second active booking with 409; booking again after cancelling is fine', async () => {
    const s = await setup(t);
    const email = addr();
    const first = await s.book(email);
    const byAdmin = await s.asAdmin('POST', `/api/v1/cohorts/${s.cohort.id}/bookings`, { email: email.toUpperCase(), name: 'X', kind: 'standalone' });
    expect(byAdmin.statusCode).toBe(409);
    expect(byAdmin.json().detail).toContain('already has a booking for this cohort (awaiting payment)');
    const bySelf = await asLearner(email)('POST', `/api/v1/cohorts/${s.cohort.id}/bookings`, { email, name: 'X', kind: 'standalone' });
    expect(bySelf.statusCode).toBe(409);
    expect(bySelf.json().detail).toContain('already has a booking');
    await s.asAdmin('POST', `/api/v1/bookings/${first.json().id}/cancel`);
    const rebook = await s.book(email);
    expect(rebook.statusCode).toBe(201);
    expect(rebook.json().id).not.toBe(first.json().id);
    expect((await t.ctx.bookings.listForCohort(s.cohort.id)).map((b) => b.status)).toEqual(['cancelled', 'pending_payment']);
  });

  it('tells an admin, and the person themself, that someone enrolled without a booking is already enrolled (409)', async () => {
    const s = await setup(t);
    const learner = await insertUser(t, 'learner');
    await t.ctx.database.transaction((tx) => t.ctx.cohorts.enrol(tx, s.cohort.id, learner.user.id));
    const bySelf = await apiAs(t.app, learner.token)('POST', `/api/v1/cohorts/${s.cohort.id}/bookings`, { email: learner.email, name: 'L', kind: 'standalone' });
    expect(bySelf.statusCode).toBe(409);
    expect(bySelf.json().detail).toContain('already enrolled');
    const byAdmin = await s.asAdmin('POST', `/api/v1/cohorts/${s.cohort.id}/bookings`, { email: learner.email, name: 'L', kind: 'standalone' });
    expect(byAdmin.statusCode).toBe(409);
  });

  it('to anyone else the answer is made of what was sent: the same for an unknown, a known and an already-booked address, and nothing changes', async () => {
    const s = await setup(t, { capacity: 10 });
    const known = (await insertUser(t, 'learner', 'Stored Name')).email;
    const booked = (await insertUser(t, 'learner', 'Booked Person')).email;
    expect((await asLearner(booked)('POST', `/api/v1/cohorts/${s.cohort.id}/bookings`, { email: booked, name: 'Booked Person', kind: 'standalone' })).statusCode).toBe(201);
    const enrolled = await insertUser(t, 'learner', 'Enrolled Person');
    await t.ctx.database.transaction((tx) => t.ctx.cohorts.enrol(tx, s.cohort.id, enrolled.user.id));
    const unknown = addr('unknown');
    // One prober, one network, one moment; a signed-in learner booking someone else's address is no different.
    const stranger = await insertUser(t, 'learner', 'Some Stranger');
    const probe = (email: string, as: string | null = null) =>
      t.app.inject({
        method: 'POST',
        url: `/api/v1/cohorts/${s.cohort.id}/bookings`,
        payload: { email, name: 'Probe Name', kind: 'standalone' },
        headers: as ? { authorization: `Bearer ${as}` } : {},
        remoteAddress: '203.0.113.50',
      });
    const before = await t.ctx.bookings.listForCohort(s.cohort.id);
    const bookedBefore = await t.ctx.people.findByEmail(booked);
    const sent = [unknown, known, booked, enrolled.email, booked];
    const answers = [await probe(unknown), await probe(known), await probe(booked), await probe(enrolled.email), await probe(booked, stranger.token)];
    // Apart from the id (the next booking's number) and the address (the one sent), every answer is the same.
    const shape = (r: (typeof answers)[number], i: number) => {
      const { id, email, ...rest } = r.json();
      expect(typeof id).toBe('number');
      expect(email).toBe(sent[i]);
      return { code: r.statusCode, ...rest };
    };
    expect(answers.map((r) => r.statusCode)).toEqual([201, 201, 201, 201, 201]);
    answers.forEach((r, i) => expect(shape(r, i)).toEqual(shape(answers[0], 0)));
    expect(shape(answers[0], 0)).toMatchObject({ code: 201, status: 'pending_payment', name: 'Probe Name', kind: 'standalone', price: { amountMinor: 19500, currency: 'GBP' }, paymentReference: null, refund: 'none' });
    // The already-booked and enrolled addresses: no booking made, their account and booking untouched, the owner told.
    const after = await t.ctx.bookings.listForCohort(s.cohort.id);
    expect(after.length).toBe(before.length + 2);
    expect(after.filter((b) => b.email === booked)).toEqual(before.filter((b) => b.email === booked));
    expect(await t.ctx.people.findByEmail(booked)).toEqual(bookedBefore);
    expect(after.some((b) => b.email === enrolled.email)).toBe(false);
    const told = await t.mailsTo(booked);
    expect(told.map((m) => m.subject)).toEqual(['Booking received: Strategic Planning with Purpose', 'You already have a place: Strategic Planning with Purpose']);
    expect(told[1].text).toContain('You already have a place on it (awaiting payment), so nothing has changed');
    expect((await t.mailsTo(enrolled.email)).map((m) => m.subject)).toEqual(['You already have a place: Strategic Planning with Purpose']);
    // The known account got its booking under its own name, as it was.
    expect((await t.ctx.people.findByEmail(known))!.name).toBe('Stored Name');
  });

  it('a booking never changes an existing account: not even a name it does not have', async () => {
    const s = await setup(t);
    const nameless = await t.ctx.people.upsert({ email: addr('nameless'), role: 'learner' });
    expect(nameless.name).toBe('');
    const res = await s.book(nameless.email);
    expect(res.statusCode).toBe(201);
    expect(res.json().name).toBe(`Name of ${nameless.email.split('@')[0]}`);
    expect(await t.ctx.people.findByEmail(nameless.email)).toEqual(nameless);
    const named = await insertUser(t, 'learner', 'Real Name');
    expect((await s.book(named.email)).statusCode).toBe(201);
    expect(await t.ctx.people.findByEmail(named.email)).toEqual(named.user);
  });

  it(`counts every attempt from one client, refused or not: the ${BOOKINGS_PER_IP_PER_HOUR + 1}st is 429`, async () => {
    const s = await setup(t, { capacity: 100 });
    // Five addresses that hold a place, tried once each (one address's own limit is not what this is about).
    const booked = [...Array(5).keys()].map(() => addr('booked'));
    for (const email of booked) expect((await s.book(email)).statusCode).toBe(201);
    const from = (email: string, kind = 'standalone', cohortId = s.cohort.id) =>
      t.app.inject({ method: 'POST', url: `/api/v1/cohorts/${cohortId}/bookings`, payload: { email, name: 'Prober', kind }, remoteAddress: '192.0.2.99' });
    const codes: number[] = [];
    // Duplicates, non-members, unknown cohorts and bad addresses: none makes a booking, each counts.
    for (let i = 0; i < BOOKINGS_PER_IP_PER_HOUR; i++) {
      const r = [() => from(booked[i / 4]), () => from(addr('outsider'), 'member'), () => from(addr(), 'standalone', 99_999), () => from('not-an-address')][i % 4];
      codes.push((await r()).statusCode);
    }
    expect(new Set(codes)).toEqual(new Set([201, 422, 404, 400]));
    const last = await from(addr('fresh'));
    expect(last.statusCode).toBe(429);
    expect(last.json().detail).toContain('Too many bookings from your network');
    expect(await t.ctx.bookings.listForCohort(s.cohort.id)).toHaveLength(booked.length);
  });

  it(`counts attempts for one address from anywhere: the ${BOOKING_ATTEMPTS_PER_ADDRESS_PER_HOUR + 1}th in an hour is 429`, async () => {
    const s = await setup(t, { capacity: 100 });
    const victim = addr('victim');
    expect((await s.book(victim)).statusCode).toBe(201);
    const from = (ip: string) =>
      t.app.inject({ method: 'POST', url: `/api/v1/cohorts/${s.cohort.id}/bookings`, payload: { email: victim, name: 'Prober', kind: 'standalone' }, remoteAddress: ip });
    for (let i = 1; i < BOOKING_ATTEMPTS_PER_ADDRESS_PER_HOUR; i++) expect((await from(`198.51.100.${i}`)).statusCode).toBe(201);
    const refused = await from('198.51.100.200');
    expect(refused.statusCode).toBe(429);
    expect(refused.json().detail).toContain('Too many bookings for this email address');
    // The owner heard once that someone tried (one message a day per cohort), not once per attempt.
    expect((await t.mailsTo(victim)).map((m) => m.subject)).toEqual(['Booking received: Strategic Planning with Purpose', 'You already have a place: Strategic Planning with Purpose']);
    t.clock.advance({ minutes: 61 });
    expect((await from('198.51.100.201')).statusCode).toBe(201);
  });

  it('closes public bookings at endsAt with 409; an admin can still book anyone', async () => {
    const s = await setup(t);
    t.clock.set(s.cohort.timeline.endsAt);
    const late = await s.book(addr());
    expect(late.statusCode).toBe(409);
    expect(late.json().detail).toContain('closed');
    // A signed-in learner is no different from the public.
    const learner = await insertUser(t, 'learner');
    expect((await apiAs(t.app, learner.token)('POST', `/api/v1/cohorts/${s.cohort.id}/bookings`, { email: learner.email, name: 'L', kind: 'standalone' })).statusCode).toBe(409);
    const byAdmin = await s.asAdmin('POST', `/api/v1/cohorts/${s.cohort.id}/bookings`, { email: addr('late'), name: 'Late Comer', kind: 'standalone' });
    expect(byAdmin.statusCode).toBe(201);
    expect(byAdmin.json().status).toBe('pending_payment');
    // One millisecond before the end, the public may still book.
    t.clock.set(new Date(s.cohort.timeline.endsAt.getTime() - 1));
    expect((await s.book(addr())).statusCode).toBe(201);
  });

  it(`limits bookings from one client address to ${BOOKINGS_PER_IP_PER_HOUR} an hour (429, nothing written); admins and other addresses are not held back`, async () => {
    const s = await setup(t, { capacity: 100 });
    const from = (ip: string, email: string) =>
      t.app.inject({ method: 'POST', url: `/api/v1/cohorts/${s.cohort.id}/bookings`, payload: { email, name: 'Office Booker', kind: 'standalone' }, remoteAddress: ip });
    for (let i = 0; i < BOOKINGS_PER_IP_PER_HOUR; i++) expect((await from('192.0.2.7', addr('office'))).statusCode).toBe(201);
    const mailsBefore = (await t.mails()).length;
    const refused = await from('192.0.2.7', 'one-too-many@elsewhere.test');
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.json().detail).toContain('Too many bookings from your network');
    // Nothing was kept of the refused booking: no account, no booking, no email.
    expect(await t.ctx.people.findByEmail('one-too-many@elsewhere.test')).toBeUndefined();
    expect(await t.ctx.bookings.listForCohort(s.cohort.id)).toHaveLength(BOOKINGS_PER_IP_PER_HOUR);
    expect((await t.mails()).length).toBe(mailsBefore);
    // Another network books at once; so does an admin, wherever they are.
    expect((await from('198.51.100.9', addr())).statusCode).toBe(201);
    const byAdmin = await t.app.inject({
      method: 'POST',
      url: `/api/v1/cohorts/${s.cohort.id}/bookings`,
      payload: { email: addr('group'), name: 'Group Member', kind: 'standalone' },
      headers: { authorization: `Bearer ${s.admin.token}` },
      remoteAddress: '192.0.2.7',
    });
    expect(byAdmin.statusCode).toBe(201);
    // An hour after the first of them, the office may book again.
    t.clock.advance({ minutes: 61 });
    expect((await from('192.0.2.7', 'one-too-many@elsewhere.test')).statusCode).toBe(201);
  });

  it(`counts the limit in the booking's own transaction: 30 bookings at once from one address, exactly ${BOOKINGS_PER_IP_PER_HOUR} made`, async () => {
    const s = await setup(t, { capacity: 100 });
    const emails = [...Array(30).keys()].map(() => addr('rush'));
    // With overlapping requests, a count read before the transaction would let all thirty through.
    const undo = slowTransactions(t);
    const results = await Promise.all(
      emails.map((email) =>
        t.app.inject({ method: 'POST', url: `/api/v1/cohorts/${s.cohort.id}/bookings`, payload: { email, name: 'Office Booker', kind: 'standalone' }, remoteAddress: '192.0.2.50' }),
      ),
    ).finally(undo);
    const codes = results.map((r) => r.statusCode);
    expect(codes.filter((c) => c === 201)).toHaveLength(BOOKINGS_PER_IP_PER_HOUR);
    expect(codes.filter((c) => c === 429)).toHaveLength(30 - BOOKINGS_PER_IP_PER_HOUR);
    expect(await t.ctx.bookings.listForCohort(s.cohort.id)).toHaveLength(BOOKINGS_PER_IP_PER_HOUR);
    // Those refused left no account behind.
    for (const email of emails.filter((_, i) => codes[i] === 429)) expect(await t.ctx.people.findByEmail(email)).toBeUndefined();
  });

  it('a booking that fails part-way keeps nothing, not even the account it made for the address', async () => {
    const s = await setup(t);
    const email = addr('halfway');
    const enqueue = t.ctx.mailer.enqueue;
    // The booking's email is the last thing it writes: failing there rolls back the account made first.
    t.ctx.mailer.enqueue = async () => {
      throw new Error('the outbox refused the message');
    };
    try {
      expect((await s.book(email)).statusCode).toBe(500);
    } finally {
      t.ctx.mailer.enqueue = enqueue;
    }
    expect(await t.ctx.people.findByEmail(email)).toBeUndefined();
    expect(await t.ctx.bookings.listForCohort(s.cohort.id)).toEqual([]);
    expect((await s.book(email)).statusCode).toBe(201);
  });

  it(`clears a booking's client address, and deletes booking attempts, ${BOOKING_ADDRESS_KEPT_HOURS} hours after they were made, keeping the booking`, async () => {
    const s = await setup(t, { capacity: 100 });
    const from = (ip: string, email: string) =>
      t.app.inject({ method: 'POST', url: `/api/v1/cohorts/${s.cohort.id}/bookings`, payload: { email, name: 'Office Booker', kind: 'standalone' }, remoteAddress: ip });
    const addresses = () => t.ctx.db.select({ email: users.email, ip: bookings.bookedFromIp }).from(bookings).innerJoin(users, eq(users.id, bookings.userId)).orderBy(bookings.id);
    expect((await from('192.0.2.7', 'early@elsewhere.test')).statusCode).toBe(201);
    t.clock.advance({ hours: BOOKING_ADDRESS_KEPT_HOURS - 1 });
    expect((await from('192.0.2.8', 'later@elsewhere.test')).statusCode).toBe(201);
    await t.ctx.scheduler.runDue();
    expect(await addresses()).toEqual([
      { email: 'early@elsewhere.test', ip: '192.0.2.7' },
      { email: 'later@elsewhere.test', ip: '192.0.2.8' },
    ]);
    t.clock.advance({ hours: 1, seconds: 1 });
    await t.ctx.scheduler.runDue();
    expect(await addresses()).toEqual([
      { email: 'early@elsewhere.test', ip: null },
      { email: 'later@elsewhere.test', ip: '192.0.2.8' },
    ]);
    // The attempts the limits count go the same way.
    expect(await t.ctx.db.select({ ip: bookingAttempts.ip }).from(bookingAttempts)).toEqual([{ ip: '192.0.2.8' }]);
    // The bookings themselves are untouched.
    expect((await t.ctx.bookings.listForCohort(s.cohort.id)).map((b) => b.status)).toEqual(['pending_payment', 'pending_payment']);
  });

  it('answers bad input with 400 naming the field, and an unknown cohort with 404', async () => {
    const s = await setup(t);
    const url = `/api/v1/cohorts/${s.cohort.id}/bookings`;
    const noKind = await s.anon('POST', url, { email: addr(), name: 'X' });
    expect(noKind.statusCode).toBe(400);
    expect(noKind.json().detail).toContain('kind');
    const badKind = await s.anon('POST', url, { email: addr(), name: 'X', kind: 'vip' });
    expect(badKind.statusCode).toBe(400);
    expect(badKind.json().detail).toContain('kind');
    const badEmail = await s.anon('POST', url, { email: 'nobody', name: 'X', kind: 'standalone' });
    expect(badEmail.statusCode).toBe(400);
    expect(badEmail.json().detail).toContain('not an email address');
    const badCert = await s.anon('POST', url, { email: addr(), name: 'X', kind: 'standalone', certificate: 'yes' });
    expect(badCert.statusCode).toBe(400);
    expect(badCert.json().detail).toContain('certificate');
    expect((await s.anon('POST', url, { email: addr(), name: 'X', kind: 'standalone', price: 0 })).statusCode).toBe(400);
    expect((await s.anon('POST', '/api/v1/cohorts/999/bookings', { email: addr(), name: 'X', kind: 'standalone' })).statusCode).toBe(404);
    expect((await s.anon('POST', '/api/v1/cohorts/abc/bookings', { email: addr(), name: 'X', kind: 'standalone' })).statusCode).toBe(400);
  });
});

describe('payments', () => {
  it('an admin records an invoice payment: awaiting payment → confirmed and enrolled, with the reference', async () => {
    const s = await setup(t);
    const email = addr();
    const b = (await s.book(email, 'standalone', { certificate: false })).json();
    const paid = await s.asAdmin('POST', `/api/v1/bookings/${b.id}/payments`, { reference: 'PO-4471' });
    expect(paid.statusCode).toBe(200);
    expect(paid.json()).toMatchObject({ status: 'confirmed', paymentReference: 'PO-4471', paidAt: NOW });
    expect(await enrolment(s.cohort.id, email)).toMatchObject({ status: 'active', certificateWanted: false });
  });

  it('only an admin may record a payment', async () => {
    const s = await setup(t);
    const email = addr();
    const b = (await s.book(email)).json();
    expect((await asLearner(email)('POST', `/api/v1/bookings/${b.id}/payments`, { reference: 'X' })).statusCode).toBe(403);
    expect((await s.anon('POST', `/api/v1/bookings/${b.id}/payments`, { reference: 'X' })).statusCode).toBe(401);
    expect((await s.asAdmin('POST', `/api/v1/bookings/999/payments`, { reference: 'X' })).statusCode).toBe(404);
  });

  it('refuses a payment for a member booking, a second payment, a cancelled booking, and a blank reference', async () => {
    const s = await setup(t);
    await s.asAdmin('POST', '/api/v1/members', { domain: 'members.example' });
    const m = (await s.book(addr('m', 'members.example'), 'member')).json();
    const member = await s.asAdmin('POST', `/api/v1/bookings/${m.id}/payments`, { reference: 'INV-1' });
    expect(member.statusCode).toBe(409);
    expect(member.json().detail).toContain('free');
    const b = (await s.book(addr())).json();
    expect((await s.asAdmin('POST', `/api/v1/bookings/${b.id}/payments`, { reference: 'INV-2' })).statusCode).toBe(200);
    const twice = await s.asAdmin('POST', `/api/v1/bookings/${b.id}/payments`, { reference: 'INV-3' });
    expect(twice.statusCode).toBe(409);
    expect(twice.json().detail).toContain('INV-2');
    const c = (await s.book(addr())).json();
    await s.asAdmin('POST', `/api/v1/bookings/${c.id}/cancel`);
    expect((await s.asAdmin('POST', `/api/v1/bookings/${c.id}/payments`, { reference: 'INV-4' })).statusCode).toBe(409);
    const blank = await s.asAdmin('POST', `/api/v1/bookings/${b.id}/payments`, { reference: '' });
    expect(blank.statusCode).toBe(400);
    expect(blank.json().detail).toContain('reference');
    const spaces = await s.asAdmin('POST', `/api/v1/bookings/${(await s.book(addr())).json().id}/payments`, { reference: '   ' });
    expect(spaces.statusCode).toBe(400);
  });

  it('a payment for a waitlisted standalone booking keeps it waitlisted; it is confirmed straight away when it moves up', async () => {
    const s = await setup(t, { capacity: 1 });
    const first = (await s.book(addr())).json();
    const email = addr();
    const waiting = (await s.book(email)).json();
    expect(waiting.status).toBe('waitlisted');
    const paid = await s.asAdmin('POST', `/api/v1/bookings/${waiting.id}/payments`, { reference: 'PO-9' });
    expect(paid.json()).toMatchObject({ status: 'waitlisted', paymentReference: 'PO-9', waitlistPosition: 1 });
    await s.asAdmin('POST', `/api/v1/bookings/${first.id}/release`);
    const moved = (await s.asAdmin('GET', `/api/v1/bookings/${waiting.id}`)).json();
    expect(moved.status).toBe('confirmed');
    expect((await enrolment(s.cohort.id, email))?.status).toBe('active');
  });

  it('a payment arriving after an unpaid booking was released reinstates it: confirmed if a place is free, else waitlisted at the end', async () => {
    const s = await setup(t, { capacity: 1 });
    const a = (await s.book(addr())).json();
    await s.asAdmin('POST', `/api/v1/bookings/${a.id}/release`);
    const back = await s.asAdmin('POST', `/api/v1/bookings/${a.id}/payments`, { reference: 'LATE-1' });
    expect(back.json()).toMatchObject({ status: 'confirmed', cancelReason: null, paymentReference: 'LATE-1' });

    const b = (await s.book(addr())).json();
    expect(b.status).toBe('waitlisted');
    // a is cancelled by an admin, b moves up; then b is released and c fills the place
    await s.asAdmin('POST', `/api/v1/bookings/${a.id}/cancel`);
    expect((await s.asAdmin('GET', `/api/v1/bookings/${b.id}`)).json().status).toBe('pending_payment');
    await s.asAdmin('POST', `/api/v1/bookings/${b.id}/release`);
    const c = (await s.book(addr())).json();
    expect(c.status).toBe('pending_payment');
    const d = (await s.book(addr())).json();
    expect(d.status).toBe('waitlisted');
    const late = await s.asAdmin('POST', `/api/v1/bookings/${b.id}/payments`, { reference: 'LATE-2' });
    expect(late.statusCode).toBe(200);
    expect(late.json()).toMatchObject({ status: 'waitlisted', waitlistPosition: 2 });
  });
});

describe('cancelling, releasing and refunds', () => {
  it('the learner cancels their own booking before the start; the enrolment is withdrawn', async () => {
    const s = await setup(t);
    await s.asAdmin('POST', '/api/v1/members', { domain: 'members.example' });
    const email = addr('m', 'members.example');
    const b = (await s.book(email, 'member')).json();
    const res = await asLearner(email)('POST', `/api/v1/bookings/${b.id}/cancel`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'cancelled', refund: 'none', cancelReason: 'cancelled' });
    expect((await enrolment(s.cohort.id, email))?.status).toBe('withdrawn');
    const twice = await asLearner(email)('POST', `/api/v1/bookings/${b.id}/cancel`);
    expect(twice.statusCode).toBe(409);
  });

  it('the learner cannot cancel once the cohort has started (409), someone else never can (403), signed out 401', async () => {
    const s = await setup(t);
    const email = addr();
    const b = (await s.book(email)).json();
    const other = await insertUser(t, 'learner');
    expect((await apiAs(t.app, other.token)('POST', `/api/v1/bookings/${b.id}/cancel`)).statusCode).toBe(403);
    expect((await apiAs(t.app, s.instructor.token)('POST', `/api/v1/bookings/${b.id}/cancel`)).statusCode).toBe(403);
    expect((await s.anon('POST', `/api/v1/bookings/${b.id}/cancel`)).statusCode).toBe(401);
    t.clock.set(s.cohort.timeline.startsAt);
    const late = await asLearner(email)('POST', `/api/v1/bookings/${b.id}/cancel`);
    expect(late.statusCode).toBe(409);
    expect(late.json().detail).toContain('started');
    expect((await s.asAdmin('POST', `/api/v1/bookings/${b.id}/cancel`, { note: 'Asked by phone' })).json().status).toBe('cancelled');
  });

  it('cancelling a paid booking records a refund due, which an admin then marks refunded (once)', async () => {
    const s = await setup(t);
    const email = addr();
    const b = (await s.book(email)).json();
    await s.asAdmin('POST', `/api/v1/bookings/${b.id}/payments`, { reference: 'INV-77' });
    t.clock.set(s.cohort.timeline.weeks[1].opensAt);
    const cancelled = await s.asAdmin('POST', `/api/v1/bookings/${b.id}/cancel`);
    expect(cancelled.json()).toMatchObject({ status: 'cancelled', refund: 'due' });
    expect((await enrolment(s.cohort.id, email))?.status).toBe('withdrawn');
    expect((await asLearner(email)('POST', `/api/v1/bookings/${b.id}/refund`)).statusCode).toBe(403);
    const refunded = await s.asAdmin('POST', `/api/v1/bookings/${b.id}/refund`, { note: 'BACS 12 Mar' });
    expect(refunded.statusCode).toBe(200);
    expect(refunded.json()).toMatchObject({ status: 'cancelled', refund: 'refunded' });
    expect((await s.asAdmin('POST', `/api/v1/bookings/${b.id}/refund`)).statusCode).toBe(409);
  });

  it('refuses a refund where none is due (unpaid or active bookings)', async () => {
    const s = await setup(t);
    const b = (await s.book(addr())).json();
    expect((await s.asAdmin('POST', `/api/v1/bookings/${b.id}/refund`)).statusCode).toBe(409);
    const cancelled = (await s.asAdmin('POST', `/api/v1/bookings/${b.id}/cancel`)).json();
    expect(cancelled.refund).toBe('none');
    expect((await s.asAdmin('POST', `/api/v1/bookings/${b.id}/refund`)).statusCode).toBe(409);
  });

  it('an admin releases an unpaid booking; only awaiting-payment bookings can be released, and only by an admin', async () => {
    const s = await setup(t);
    const email = addr();
    const b = (await s.book(email)).json();
    expect((await asLearner(email)('POST', `/api/v1/bookings/${b.id}/release`)).statusCode).toBe(403);
    expect((await s.anon('POST', `/api/v1/bookings/${b.id}/release`)).statusCode).toBe(401);
    const released = await s.asAdmin('POST', `/api/v1/bookings/${b.id}/release`);
    expect(released.json()).toMatchObject({ status: 'cancelled', cancelReason: 'released', refund: 'none' });
    expect((await s.asAdmin('POST', `/api/v1/bookings/${b.id}/release`)).statusCode).toBe(409);
    const paid = (await s.book(addr())).json();
    await s.asAdmin('POST', `/api/v1/bookings/${paid.id}/payments`, { reference: 'R' });
    const refused = await s.asAdmin('POST', `/api/v1/bookings/${paid.id}/release`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().detail).toContain('awaiting payment');
  });

  it('cancelling a waitlisted booking moves nobody up', async () => {
    const s = await setup(t, { capacity: 1 });
    await s.book(addr());
    const w1 = (await s.book(addr())).json();
    const w2 = (await s.book(addr())).json();
    await s.asAdmin('POST', `/api/v1/bookings/${w1.id}/cancel`);
    expect((await s.asAdmin('GET', `/api/v1/bookings/${w2.id}`)).json()).toMatchObject({ status: 'waitlisted', waitlistPosition: 1 });
  });
});

describe('reading bookings', () => {
  it('a booking shows its history: who did what, when, from which status to which', async () => {
    const s = await setup(t);
    const email = addr();
    const b = (await s.book(email)).json();
    t.clock.advance({ hours: 2 });
    await s.asAdmin('POST', `/api/v1/bookings/${b.id}/payments`, { reference: 'PO-1' });
    t.clock.advance({ hours: 1 });
    await s.asAdmin('POST', `/api/v1/bookings/${b.id}/cancel`, { note: 'Changed plans' });
    const res = await s.asAdmin('GET', `/api/v1/bookings/${b.id}`);
    expect(res.statusCode).toBe(200);
    expect(res.json().history).toEqual([
      { at: NOW, action: 'booked', by: null, from: null, to: 'pending_payment', note: null },
      { at: '2026-02-01T11:00:00.000Z', action: 'payment_recorded', by: s.admin.email, from: 'pending_payment', to: 'confirmed', note: 'Reference PO-1.' },
      { at: '2026-02-01T12:00:00.000Z', action: 'cancelled', by: s.admin.email, from: 'confirmed', to: 'cancelled', note: 'Changed plans. Refund due.' },
    ]);
    // The learner reads the same history without the admin's address.
    const own = await asLearner(email)('GET', `/api/v1/bookings/${b.id}`);
    expect(own.json().history.map((e: { by: string | null }) => e.by)).toEqual([null, 'staff', 'staff']);
  });

  it('an admin booking on someone’s behalf is recorded as such', async () => {
    const s = await setup(t);
    const b = (await s.asAdmin('POST', `/api/v1/cohorts/${s.cohort.id}/bookings`, { email: addr(), name: 'N', kind: 'standalone' })).json();
    const h = (await s.asAdmin('GET', `/api/v1/bookings/${b.id}`)).json().history;
    expect(h[0]).toMatchObject({ action: 'booked', by: s.admin.email, note: `Booked by ${s.admin.email}.` });
  });

  it('only an admin or the person booked can read a booking', async () => {
    const s = await setup(t);
    const b = (await s.book(addr())).json();
    const other = await insertUser(t, 'learner');
    expect((await apiAs(t.app, other.token)('GET', `/api/v1/bookings/${b.id}`)).statusCode).toBe(403);
    expect((await s.anon('GET', `/api/v1/bookings/${b.id}`)).statusCode).toBe(401);
    expect((await s.asAdmin('GET', '/api/v1/bookings/424242')).statusCode).toBe(404);
  });

  it('an admin lists a cohort’s bookings, filtered by status and kind', async () => {
    const s = await setup(t, { capacity: 2 });
    await s.asAdmin('POST', '/api/v1/members', { domain: 'members.example' });
    const m = (await s.book(addr('m', 'members.example'), 'member')).json();
    const p = (await s.book(addr())).json();
    const w = (await s.book(addr())).json();
    const all = await s.asAdmin('GET', `/api/v1/cohorts/${s.cohort.id}/bookings`);
    expect(all.statusCode).toBe(200);
    expect(all.json().map((b: { id: number }) => b.id)).toEqual([m.id, p.id, w.id]);
    expect(all.json()[0]).toMatchObject({ email: m.email, name: m.name, kind: 'member', status: 'confirmed', price: { amountMinor: 0, currency: 'GBP' }, paymentReference: null });
    const waiting = await s.asAdmin('GET', `/api/v1/cohorts/${s.cohort.id}/bookings?status=waitlisted`);
    expect(waiting.json().map((b: { id: number }) => b.id)).toEqual([w.id]);
    const standalone = await s.asAdmin('GET', `/api/v1/cohorts/${s.cohort.id}/bookings?kind=standalone`);
    expect(standalone.json().map((b: { id: number }) => b.id)).toEqual([p.id, w.id]);
    expect((await s.asAdmin('GET', `/api/v1/cohorts/${s.cohort.id}/bookings?status=lost`)).statusCode).toBe(400);
    expect((await s.asAdmin('GET', '/api/v1/cohorts/999/bookings')).statusCode).toBe(404);
    expect((await apiAs(t.app, (await insertUser(t, 'instructor')).token)('GET', `/api/v1/cohorts/${s.cohort.id}/bookings`)).statusCode).toBe(403);
    expect((await s.anon('GET', `/api/v1/cohorts/${s.cohort.id}/bookings`)).statusCode).toBe(401);
  });

  it('documents every bookings route in the OpenAPI document', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    for (const [path, method] of [
      ['/api/v1/members', 'post'], ['/api/v1/members', 'get'], ['/api/v1/members/{id}', 'delete'], ['/api/v1/members/import', 'post'],
      ['/api/v1/cohorts/{id}/bookings', 'post'], ['/api/v1/cohorts/{id}/bookings', 'get'], ['/api/v1/cohorts/{id}/bookings.csv', 'get'],
      ['/api/v1/bookings/{id}', 'get'], ['/api/v1/bookings/{id}/payments', 'post'], ['/api/v1/bookings/{id}/cancel', 'post'],
      ['/api/v1/bookings/{id}/release', 'post'], ['/api/v1/bookings/{id}/refund', 'post'],
    ]) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method} ${path}`).toBeTruthy();
      expect(op.summary).toBeTruthy();
      expect(op.tags).toEqual(['bookings']);
    }
    expect(Object.keys(doc.paths['/api/v1/cohorts/{id}/bookings'].post.responses)).toEqual(expect.arrayContaining(['201', '400', '404', '409', '422', '429']));
  });
});
