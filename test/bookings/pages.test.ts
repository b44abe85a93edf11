// Booking pages: the public form and its friendly errors, confirmation, the learner's panel and cancel step, admin pages.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { Browser } from '../helpers/http.js';
import { insertUser, signInBrowser } from '../helpers/factories.js';
import { addr, NOW, setup } from './setup.js';
import { BOOKINGS_PER_IP_PER_HOUR } from '../../modules/bookings/service.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp({ now: NOW });
});
afterEach(async () => t.close());

/** What keyboard and screen-reader users need from a page's forms: labelled controls, one h1, natural tab order. */
function expectUsableForms(html: string) {
  const main = html.slice(html.indexOf('<main'), html.indexOf('</main>'));
  expect(main.match(/<h1[\s>]/g) ?? []).toHaveLength(1);
  expect(html).not.toMatch(/tabindex="[1-9]/);
  const controls = [...main.matchAll(/<(input|select|textarea)\b([^>]*)>/g)].filter(([, , attrs]) => !/type="(hidden|submit)"/.test(attrs));
  for (const [tag, , attrs] of controls) {
    const id = /\bid="([^"]+)"/.exec(attrs)?.[1];
    expect(id, `${tag} has an id`).toBeTruthy();
    expect(main, `a label for #${id}`).toContain(`for="${id}"`);
  }
  for (const [button] of main.matchAll(/<button\b[^>]*>/g)) expect(button).toContain('type="submit"');
  for (const [th] of main.matchAll(/<th\b[^>]*>/g)) expect(th).toMatch(/scope="(col|row)"/);
}

const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/&#x27;/g, "'").replace(/\s+/g, ' ');

describe('the public booking page', () => {
  it('shows the course, its dates in the cohort’s zone with a note, places left and both ways to book', async () => {
    const s = await setup(t, { capacity: 3 });
    await s.book(addr());
    const res = await new Browser(t.app).get(`/cohorts/${s.cohort.id}/book`);
    expect(res.statusCode).toBe(200);
    const page = text(res.body);
    expect(page).toContain('Book a place: Strategic Planning with Purpose');
    expect(page).toContain('Starts Mon, 2 Mar 2026, 08:00 GMT');
    expect(page).toContain("shown in the cohort's time zone, Europe/London");
    expect(page).toContain('Places left 2 places');
    expect(page).toContain('As a member (free)');
    expect(page).toContain('Standalone (£195.00)');
    expect(res.body).toMatch(/id="certificate" name="certificate" type="checkbox" value="1" checked/);
    expect(res.body).toMatch(/id="kind-member" name="kind" type="radio" value="member" checked/);
    expectUsableForms(res.body);
  });

  it('shows a signed-in learner the dates in their own zone and fills in their name and address', async () => {
    const s = await setup(t);
    const learner = await insertUser(t, 'learner', 'Tui Kahu');
    await t.ctx.people.updateProfile(learner.user.id, { timezone: 'Pacific/Auckland' });
    const browser = await signInBrowser(t, learner.email);
    const res = await browser.get(`/cohorts/${s.cohort.id}/book`);
    const page = text(res.body);
    expect(page).toContain('Starts Mon, 2 Mar 2026, 21:00 GMT+13');
    expect(page).toContain('your time zone, Pacific/Auckland');
    expect(res.body).toContain('value="Tui Kahu"');
    expect(res.body).toContain(`value="${learner.email}"`);
  });

  it('books a member place and shows the confirmation', async () => {
    const s = await setup(t);
    await s.asAdmin('POST', '/api/v1/members', { domain: 'members.example' });
    const email = addr('m', 'members.example');
    const browser = new Browser(t.app);
    const res = await browser.post(`/cohorts/${s.cohort.id}/book`, { kind: 'member', name: 'Mo Member', email, certificate: '1' });
    expect(res.statusCode).toBe(200);
    const page = text(res.body);
    expect(page).toContain('Your place is confirmed');
    expect(page).toContain('is confirmed and you are enrolled');
    expect(page).toContain(`emailed the details to ${email}`);
    expect(page).toContain('Sign in with that address');
    expect((await t.ctx.bookings.listForCohort(s.cohort.id))[0]).toMatchObject({ email, status: 'confirmed', certificate: true });
  });

  it('books a standalone place without a certificate and says how to pay', async () => {
    const s = await setup(t);
    const email = addr();
    const res = await new Browser(t.app).post(`/cohorts/${s.cohort.id}/book`, { kind: 'standalone', name: 'Sam Standalone', email });
    expect(res.statusCode).toBe(200);
    const page = text(res.body);
    expect(page).toContain('Booking received');
    expect(page).toContain('held while we wait for payment of £195.00');
    expect(page).toContain('How to pay');
    expect(page).toContain('Certificate Not wanted');
  });

  it('when the cohort is full, offers the waitlist and tells the booker their number', async () => {
    const s = await setup(t, { capacity: 1 });
    await s.book(addr());
    const browser = new Browser(t.app);
    const form = await browser.get(`/cohorts/${s.cohort.id}/book`);
    expect(text(form.body)).toContain('None: new bookings join the waitlist');
    expect(form.body).toContain('Join the waitlist</button>');
    const res = await browser.post(`/cohorts/${s.cohort.id}/book`, { kind: 'standalone', name: 'W', email: addr() });
    expect(text(res.body)).toContain('you are number 1 on the waitlist');
  });

  it('tells someone not on the member list to book as standalone instead (422), keeping what they typed', async () => {
    const s = await setup(t);
    const email = addr('outsider');
    const res = await new Browser(t.app).post(`/cohorts/${s.cohort.id}/book`, { kind: 'member', name: 'Olu Outsider', email, certificate: '1' });
    expect(res.statusCode).toBe(422);
    expect(res.body).toContain('role="alert"');
    expect(text(res.body)).toContain(`${email} is not on the member list — book as standalone instead (£195.00`);
    expect(res.body).toContain('value="Olu Outsider"');
    expect(res.body).toContain(`value="${email}"`);
    expectUsableForms(res.body);
  });

  it('answers missing or bad fields and duplicates with a friendly message, never a server error', async () => {
    const s = await setup(t);
    const browser = new Browser(t.app);
    const url = `/cohorts/${s.cohort.id}/book`;
    const noName = await browser.post(url, { kind: 'standalone', name: '', email: addr() });
    expect(noName.statusCode).toBe(400);
    expect(text(noName.body)).toContain('Enter your name');
    expect(noName.body).toMatch(/id="name"[^>]*aria-invalid="true"/);
    const badEmail = await browser.post(url, { kind: 'standalone', name: 'X', email: 'nobody' });
    expect(badEmail.statusCode).toBe(400);
    expect(text(badEmail.body)).toContain('Enter an email address like name@library.org');
    const noKind = await browser.post(url, { name: 'X', email: addr() });
    expect(noKind.statusCode).toBe(400);
    expect(text(noKind.body)).toContain('Choose a member or a standalone booking');
    const tooLong = await browser.post(url, { kind: 'standalone', name: 'x'.repeat(300), email: addr() });
    expect(tooLong.statusCode).toBe(400);
    // A visitor's duplicate gets the same page as a first booking (nothing is changed; the owner is emailed).
    const email = addr();
    const first = await browser.post(url, { kind: 'standalone', name: 'D', email });
    const dup = await browser.post(url, { kind: 'standalone', name: 'D', email });
    expect(dup.statusCode).toBe(200);
    expect(text(dup.body).replace(/\d+/g, '#')).toBe(text(first.body).replace(/\d+/g, '#'));
    expect((await t.ctx.bookings.listForCohort(s.cohort.id)).filter((b) => b.email === email.toLowerCase())).toHaveLength(1);
    // Signed in as that address, the person is told.
    const own = await signInBrowser(t, email);
    const mine = await own.post(url, { kind: 'standalone', name: 'D', email });
    expect(mine.statusCode).toBe(409);
    expect(text(mine.body)).toContain('already has a booking for this cohort');
    const noCsrf = await browser.post(url, { kind: 'standalone', name: 'X', email: addr() }, { csrf: null });
    expect(noCsrf.statusCode).toBe(403);
    expect((await browser.get('/cohorts/999/book')).statusCode).toBe(404);
  });

  it('tells a network that has booked too often in the last hour to wait, keeping what was typed', async () => {
    const s = await setup(t, { capacity: 100 });
    // The browser below books from 127.0.0.1, as colleagues behind one office address have already done.
    for (let i = 0; i < BOOKINGS_PER_IP_PER_HOUR; i++) {
      await t.ctx.bookings.book({ cohortId: s.cohort.id, email: addr('office'), name: 'Colleague', kind: 'standalone', actor: null, ip: '127.0.0.1' });
    }
    const res = await new Browser(t.app).post(`/cohorts/${s.cohort.id}/book`, { kind: 'standalone', name: 'Late Colleague', email: 'late@elsewhere.test' });
    expect(res.statusCode).toBe(429);
    expect(text(res.body)).toContain('Too many bookings from your network in the last hour');
    expect(res.body).toContain('value="Late Colleague"');
    expect(res.body).toContain('value="late@elsewhere.test"');
    expect(await t.ctx.people.findByEmail('late@elsewhere.test')).toBeUndefined();
  });

  it('closes at the end of the cohort for the public, with a way to other dates; admins still see the form', async () => {
    const s = await setup(t);
    t.clock.set(s.cohort.timeline.endsAt);
    const browser = new Browser(t.app);
    const page = await browser.get(`/cohorts/${s.cohort.id}/book`);
    expect(text(page.body)).toContain('Bookings have closed');
    expect(page.body).not.toContain(`action="/cohorts/${s.cohort.id}/book"`);
    const post = await browser.post(`/cohorts/${s.cohort.id}/book`, { kind: 'standalone', name: 'L', email: addr() }, { fromPage: '/sign-in' });
    expect(post.statusCode).toBe(409);
    expect(text(post.body)).toContain('Bookings for this cohort closed');
    const admin = await signInBrowser(t, s.admin.email);
    expect((await admin.get(`/cohorts/${s.cohort.id}/book`)).body).toContain(`action="/cohorts/${s.cohort.id}/book"`);
  });
});

describe('the learner’s bookings', () => {
  it('appear on “my courses” with their status in words, and can be cancelled there before the start', async () => {
    const s = await setup(t);
    const learner = await insertUser(t, 'learner', 'Kim Learner');
    const b = (await s.book(learner.email)).json();
    const browser = await signInBrowser(t, learner.email);
    const my = await browser.get('/my');
    expect(my.statusCode).toBe(200);
    const page = text(my.body);
    expect(page).toContain('Your bookings');
    expect(page).toContain('Strategic Planning with Purpose , starts Mon, 2 Mar 2026');
    expect(page).toContain('Awaiting payment · £195.00');
    expect(my.body).toContain(`href="/bookings/${b.id}/cancel"`);

    const confirm = await browser.get(`/bookings/${b.id}/cancel`);
    expect(text(confirm.body)).toContain('your place goes to the next person on the waitlist');
    expectUsableForms(confirm.body);
    const done = await browser.post(`/bookings/${b.id}/cancel`, {}, { fromPage: `/bookings/${b.id}/cancel` });
    expect(done.statusCode).toBe(200);
    expect(text(done.body)).toContain('is cancelled');
    expect((await t.ctx.bookings.get(b.id)).status).toBe('cancelled');
    const again = await browser.post(`/bookings/${b.id}/cancel`, {}, { fromPage: `/bookings/${b.id}/cancel` });
    expect(again.statusCode).toBe(409);
    expect(text(again.body)).toContain('already cancelled');
  });

  it('offer no cancel button once the cohort has started, and explain why', async () => {
    const s = await setup(t);
    const learner = await insertUser(t, 'learner');
    const b = (await s.book(learner.email)).json();
    t.clock.set(s.cohort.timeline.startsAt);
    const browser = await signInBrowser(t, learner.email);
    expect((await browser.get('/my')).body).not.toContain(`/bookings/${b.id}/cancel`);
    const page = await browser.get(`/bookings/${b.id}/cancel`);
    expect(text(page.body)).toContain('can no longer be cancelled online');
    expect(page.body).not.toContain('Cancel my booking</button>');
    const post = await browser.post(`/bookings/${b.id}/cancel`, {}, { fromPage: '/my' });
    expect(post.statusCode).toBe(409);
  });

  it('cannot be seen or cancelled by another learner', async () => {
    const s = await setup(t);
    const b = (await s.book(addr())).json();
    const other = await insertUser(t, 'learner');
    const browser = await signInBrowser(t, other.email);
    expect((await browser.get(`/bookings/${b.id}/cancel`)).statusCode).toBe(403);
    expect((await browser.post(`/bookings/${b.id}/cancel`, {}, { fromPage: '/my' })).statusCode).toBe(403);
    expect((await t.ctx.bookings.get(b.id)).status).toBe('pending_payment');
    expect((await new Browser(t.app).get(`/bookings/${b.id}/cancel`)).statusCode).toBe(303);
  });
});

describe('admin pages', () => {
  it('the member list: add an address or a domain, friendly errors, CSV import with its report, remove', async () => {
    const s = await setup(t);
    const admin = await signInBrowser(t, s.admin.email);
    const page = await admin.get('/admin/members');
    expect(page.statusCode).toBe(200);
    expectUsableForms(page.body);
    const added = await admin.post('/admin/members', { value: 'library.example' }, { fromPage: '/admin/members' });
    expect(added.statusCode).toBe(303);
    expect(added.headers.location).toBe('/admin/members?done=added');
    expect(text((await admin.get('/admin/members?done=added')).body)).toContain('Everyone @library.example');
    const dup = await admin.post('/admin/members', { value: 'LIBRARY.example' }, { fromPage: '/admin/members' });
    expect(dup.statusCode).toBe(409);
    expect(text(dup.body)).toContain('already on the member list');
    const bad = await admin.post('/admin/members', { value: 'gmail.com' }, { fromPage: '/admin/members' });
    expect(bad.statusCode).toBe(400);
    expect(text(bad.body)).toContain('public mail provider');
    const suffix = await admin.post('/admin/members', { value: 'co.uk' }, { fromPage: '/admin/members' });
    expect(suffix.statusCode).toBe(400);
    expect(text(suffix.body)).toContain('co.uk is a public suffix: anyone can register a name under it, so it cannot be a member domain.');
    expect(suffix.body).toMatch(/value="co\.uk"/);
    expect((await admin.post('/admin/members', { value: '' }, { fromPage: '/admin/members' })).statusCode).toBe(400);

    const report = await admin.post('/admin/members/import', { csv: 'email\nann@town.example\nbroken\nann@town.example\n' }, { fromPage: '/admin/members' });
    expect(report.statusCode).toBe(200);
    const r = text(report.body);
    expect(r).toContain('Import report: 1 accepted, 2 refused');
    expect(r).toContain('3 broken &quot;broken&quot; is not a domain like library.org');
    expect(r).toContain('4 ann@town.example duplicate of row 2');
    expectUsableForms(report.body);
    expect((await admin.post('/admin/members/import', { csv: ' ' }, { fromPage: '/admin/members' })).statusCode).toBe(400);

    const id = (await t.ctx.bookings.listMembers()).find((m) => m.email === 'ann@town.example')!.id;
    const removed = await admin.post(`/admin/members/${id}/remove`, {}, { fromPage: '/admin/members' });
    expect(removed.headers.location).toBe('/admin/members?done=removed');
    expect((await t.ctx.bookings.listMembers()).map((m) => m.email ?? m.domain)).toEqual(['library.example']);
  });

  it('are for admins only', async () => {
    const s = await setup(t);
    const learner = await signInBrowser(t, (await insertUser(t, 'learner')).email);
    const instructor = await signInBrowser(t, s.instructor.email);
    for (const url of ['/admin/members', `/admin/cohorts/${s.cohort.id}/bookings`]) {
      expect((await learner.get(url)).statusCode).toBe(403);
      expect((await instructor.get(url)).statusCode).toBe(403);
      const anon = await new Browser(t.app).get(url);
      expect(anon.statusCode).toBe(303);
      expect(anon.headers.location).toContain('/sign-in?next=');
    }
  });

  it('a cohort’s bookings: counts, filters, record a payment, release, cancel, refund and the CSV link', async () => {
    const s = await setup(t, { capacity: 2 });
    const a = (await s.book(addr('a'))).json();
    const b = (await s.book(addr('b'))).json();
    const w = (await s.book(addr('w'))).json();
    const admin = await signInBrowser(t, s.admin.email);
    const url = `/admin/cohorts/${s.cohort.id}/bookings`;
    const page = await admin.get(url);
    expect(page.statusCode).toBe(200);
    expectUsableForms(page.body);
    const p = text(page.body);
    expect(p).toContain('Capacity 2 places: 2 held, 0 left');
    expect(p).toContain('On the waitlist (no. 1)');
    expect(page.body).toContain(`href="/api/v1/cohorts/${s.cohort.id}/bookings.csv"`);

    const filtered = await admin.get(`${url}?status=waitlisted`);
    expect(filtered.body).toContain(`/admin/bookings/${w.id}"`);
    expect(filtered.body).not.toContain(`/admin/bookings/${a.id}"`);
    expect(filtered.body).toMatch(/<option value="waitlisted" selected>/);
    expect((await admin.get(`${url}?kind=member`)).body).toContain('No bookings match these filters.');

    const blank = await admin.post(`/admin/bookings/${a.id}/payments`, { reference: '', from: 'list' }, { fromPage: url });
    expect(blank.statusCode).toBe(400);
    expect(text(blank.body)).toContain('enter the invoice or purchase-order reference');
    const paid = await admin.post(`/admin/bookings/${a.id}/payments`, { reference: 'PO-77', from: 'list' }, { fromPage: url });
    expect(paid.statusCode).toBe(303);
    expect(paid.headers.location).toBe(`${url}?done=paid`);
    expect(await t.ctx.bookings.get(a.id)).toMatchObject({ status: 'confirmed', paymentReference: 'PO-77' });
    expect(text((await admin.get(`${url}?done=paid`)).body)).toContain('Payment recorded.');

    const releaseConfirmed = await admin.post(`/admin/bookings/${a.id}/release`, { from: 'list' }, { fromPage: url });
    expect(releaseConfirmed.statusCode).toBe(409);
    expect(text(releaseConfirmed.body)).toContain('Only a booking awaiting payment can be released');

    expect((await admin.post(`/admin/bookings/${b.id}/release`, { from: 'list' }, { fromPage: url })).headers.location).toBe(`${url}?done=released`);
    expect((await t.ctx.bookings.get(w.id)).status).toBe('pending_payment');

    await admin.post(`/admin/bookings/${a.id}/cancel`, { from: 'list' }, { fromPage: url });
    expect(await t.ctx.bookings.get(a.id)).toMatchObject({ status: 'cancelled', refund: 'due' });
    expect(text((await admin.get(url)).body)).toContain('Refund due');
    const refunded = await admin.post(`/admin/bookings/${a.id}/refund`, {}, { fromPage: url });
    expect(refunded.headers.location).toBe(`/admin/bookings/${a.id}?done=refunded`);
    expect((await t.ctx.bookings.get(a.id)).refund).toBe('refunded');
  });

  it('a booking’s history page lists who did what', async () => {
    const s = await setup(t);
    const b = (await s.book(addr())).json();
    await s.asAdmin('POST', `/api/v1/bookings/${b.id}/payments`, { reference: 'PO-1' });
    const admin = await signInBrowser(t, s.admin.email);
    const page = await admin.get(`/admin/bookings/${b.id}`);
    expect(page.statusCode).toBe(200);
    expectUsableForms(page.body);
    const p = text(page.body);
    expect(p).toContain('Booked System — Awaiting payment');
    expect(p).toContain(`Payment recorded ${s.admin.email} Awaiting payment Confirmed Reference PO-1.`);
    expect((await admin.get('/admin/bookings/9999')).statusCode).toBe(404);
  });

  it('an admin books someone from the cohort’s page, even after public bookings have closed', async () => {
    const s = await setup(t);
    t.clock.set(s.cohort.timeline.endsAt);
    const admin = await signInBrowser(t, s.admin.email);
    const url = `/admin/cohorts/${s.cohort.id}/bookings`;
    const email = addr('late');
    const res = await admin.post(url, { email, name: 'Late Learner', kind: 'standalone', certificate: '1' }, { fromPage: url });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe(`${url}?done=booked`);
    expect((await t.ctx.bookings.listForCohort(s.cohort.id))[0]).toMatchObject({ email, status: 'pending_payment' });
    const member = await admin.post(url, { email: addr(), name: 'N', kind: 'member' }, { fromPage: url });
    expect(member.statusCode).toBe(422);
    expect(text(member.body)).toContain('not on the member list');
    const dup = await admin.post(url, { email, name: 'Late Learner', kind: 'standalone' }, { fromPage: url });
    expect(dup.statusCode).toBe(409);
    expect((await admin.post(url, { email: '', kind: 'standalone' }, { fromPage: url })).statusCode).toBe(400);
  });

  it('the admin dashboard and the cohort staff page show booking panels to admins', async () => {
    const s = await setup(t, { capacity: 2 });
    await s.book(addr());
    await s.book(addr());
    await s.book(addr());
    const admin = await signInBrowser(t, s.admin.email);
    const dash = text((await admin.get('/admin')).body);
    expect(dash).toContain('2 awaiting payment');
    expect(dash).toContain('Member list');
    const staff = await admin.get(`/teach/cohorts/${s.cohort.id}`);
    expect(text(staff.body)).toContain('2 of 2 places held (0 confirmed, 2 awaiting payment) · 0 left · 1 on the waitlist');
    const instructor = await signInBrowser(t, s.instructor.email);
    expect(text((await instructor.get(`/teach/cohorts/${s.cohort.id}`)).body)).not.toContain('places held');
  });
});
