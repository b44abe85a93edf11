// Checkout pages through app.inject: the team order form, the buyer's order page and its seats, claim links, the admin's orders, card redirects.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { Browser } from '../helpers/http.js';
import { insertUser, signInBrowser } from '../helpers/factories.js';
import { startStripeServer, type StripeServer } from '../helpers/stripe-server.js';
import { addr, NOW, setup } from '../bookings/setup.js';

const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/&#x27;/g, "'").replace(/&amp;/g, '&').replace(/\s+/g, ' ');

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
  // Every form that writes carries its CSRF token.
  for (const [form] of main.matchAll(/<form method="post"[\s\S]*?<\/form>/g)) expect(form).toMatch(/name="_csrf" value="[^"]+"/);
}

/** The order form's fields for a buyer, with any overrides. */
const orderFields = (buyer: { name: string; email: string }, extra: Record<string, string> = {}) => ({
  name: buyer.name,
  email: buyer.email,
  organisation: 'Lakeside Libraries',
  address: '1 Quay Street\nLakeside',
  poNumber: 'PO-77',
  quantity: '3',
  payment: 'invoice',
  certificate: '1',
  ...extra,
});

const orderIdFrom = (location: string | undefined) => Number(/\/orders\/(\d+)/.exec(String(location))?.[1]);

describe('invoice orders (card payments off)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp({ now: NOW });
  });
  afterEach(async () => t.close());

  it('the single booking page offers "Book places for your team", and the order form shows the price, places and invoice-only payment', async () => {
    const s = await setup(t, { capacity: 6 });
    const book = await new Browser(t.app).get(`/cohorts/${s.cohort.id}/book`);
    expect(book.body).toContain(`href="/cohorts/${s.cohort.id}/order">Book places for your team</a>`);

    const res = await new Browser(t.app).get(`/cohorts/${s.cohort.id}/order?quantity=3`, { 'accept-language': 'en-GB' });
    expect(res.statusCode).toBe(200);
    const page = text(res.body);
    expect(page).toContain('Book places for your team: Strategic Planning with Purpose');
    expect(page).toContain('Price per place £195.00');
    expect(page).toContain('3 places: £585.00 in all');
    expect(page).toContain('Places left 6 places');
    expect(page).toContain('Card payments are not available here, so we invoice you');
    expect(res.body).not.toContain('value="card"');
    expect(res.body).toContain('name="payment" value="invoice"');
    expect(res.body).toContain('id="seat3Email"');
    expectUsableForms(res.body);
  });

  it('shows prices in the reader’s locale', async () => {
    const s = await setup(t);
    const res = await new Browser(t.app).get(`/cohorts/${s.cohort.id}/order?quantity=2`, { 'accept-language': 'de-DE' });
    expect(text(res.body)).toContain('195,00 £');
    expect(text(res.body)).toContain('390,00 £');
  });

  it('a signed-out buyer orders by invoice, is thanked without order data, signs in and sees the order with its invoice', async () => {
    const s = await setup(t, { capacity: 6 });
    const buyer = { name: 'Bea Buyer', email: addr('bea') };
    const colleague = addr('ann');
    const browser = new Browser(t.app);
    const res = await browser.post(`/cohorts/${s.cohort.id}/order`, orderFields(buyer, { seat1Name: 'Ann Colleague', seat1Email: colleague }));
    expect(res.statusCode).toBe(303);
    const id = orderIdFrom(res.headers.location);
    expect(res.headers.location).toBe(`/orders/${id}?placed=1`);
    const thanks = await browser.get(String(res.headers.location));
    expect(thanks.statusCode).toBe(200);
    expect(text(thanks.body)).toContain('Thank you: your order is placed');
    expect(thanks.body).toContain(`href="/sign-in?next=${encodeURIComponent(`/orders/${id}`)}"`);
    expect(thanks.body).not.toContain('Lakeside');
    // Without ?placed or ?paid a signed-out visitor is sent to sign in.
    const plain = await browser.get(`/orders/${id}`);
    expect(plain.statusCode).toBe(303);
    expect(plain.headers.location).toBe(`/sign-in?next=${encodeURIComponent(`/orders/${id}`)}`);

    const own = await signInBrowser(t, buyer.email);
    const order = await own.get(`/orders/${id}`, { 'accept-language': 'en-GB' });
    expect(order.statusCode).toBe(200);
    const page = text(order.body);
    expect(page).toContain(`Order ${id}: Strategic Planning with Purpose`);
    expect(page).toContain('Status Places held: awaiting payment');
    expect(page).toContain('Places 3 places');
    expect(page).toContain('Total £585.00');
    expect(page).toContain('Booked by Bea Buyer');
    expect(page).toContain('Purchase order PO-77');
    expect(page).toContain('How to pay');
    expect(page).toContain('Ann Colleague');
    expect(page).toContain('Named: booked as soon as the order is paid');
    expect(page).toContain('Open: nobody yet');
    const invoice = /href="(\/api\/v1\/orders\/\d+\/documents\/\d+\.pdf)">Invoice (INV-\d+)/.exec(order.body);
    expect(invoice, 'an invoice link').toBeTruthy();
    const pdf = await own.get(invoice![1]);
    expect(pdf.statusCode).toBe(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect(pdf.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
    expectUsableForms(order.body);

    // "My courses" lists what they bought, with a link to the order.
    const my = await own.get('/my');
    expect(text(my.body)).toContain(`Order ${id}: Strategic Planning with Purpose`);
    expect(my.body).toContain(`href="/orders/${id}"`);
    expect(text(my.body)).toContain('2 open seats to give');
  });

  it('another person gets 404 for the order, its forms and its documents; a signed-in buyer goes straight to the order page', async () => {
    const s = await setup(t);
    const buyer = await insertUser(t, 'learner', 'Bea Buyer');
    const own = await signInBrowser(t, buyer.email);
    const res = await own.post(`/cohorts/${s.cohort.id}/order`, orderFields({ name: 'Bea Buyer', email: buyer.email }, { quantity: '2' }));
    expect(res.statusCode).toBe(303);
    const id = orderIdFrom(res.headers.location);
    expect(text((await own.get(String(res.headers.location))).body)).toContain('your places are held and we have emailed you the invoice');
    const seatId = (await t.ctx.bookings.orderView(id)).seats[0].id;

    const other = await signInBrowser(t, (await insertUser(t)).email);
    for (const url of [`/orders/${id}`, `/orders/${id}?paid=1`, `/orders/${id}/cancel`, `/api/v1/orders/${id}/invoice.pdf`]) {
      expect((await other.get(url)).statusCode, url).toBe(404);
    }
    expect((await other.post(`/orders/${id}/seats/${seatId}`, { name: 'X', email: addr() }, { fromPage: '/my' })).statusCode).toBe(404);
    expect((await other.post(`/orders/${id}/claim-link`, {}, { fromPage: '/my' })).statusCode).toBe(404);
    expect((await other.post(`/orders/${id}/cancel`, {}, { fromPage: '/my' })).statusCode).toBe(404);
    expect((await t.ctx.bookings.orderView(id)).status).toBe('pending_payment');
    expect((await other.get('/orders/999999')).statusCode).toBe(404);
  });

  it('gives seats by form: an open seat, then to someone else; refusals show beside the seat with the values kept', async () => {
    const s = await setup(t);
    const buyer = await insertUser(t, 'learner', 'Bea Buyer');
    const own = await signInBrowser(t, buyer.email);
    const id = orderIdFrom((await own.post(`/cohorts/${s.cohort.id}/order`, orderFields({ name: 'Bea', email: buyer.email }, { quantity: '2' }))).headers.location);
    const [first, second] = (await t.ctx.bookings.orderView(id)).seats;
    const cat = addr('cat');
    const given = await own.post(`/orders/${id}/seats/${first.id}`, { name: 'Cat Colleague', email: cat }, { fromPage: `/orders/${id}` });
    expect(given.statusCode).toBe(303);
    expect(given.headers.location).toBe(`/orders/${id}?done=named#seat-${first.id}`);
    const after = text((await own.get(`/orders/${id}?done=named`)).body);
    expect(after).toContain('They will be booked, and emailed, as soon as the order is paid.');
    expect(after).toContain(`Cat Colleague ${cat}`);
    expect(after).toContain('Give to someone else');

    // The same person in the other seat: 409 beside that seat, what was typed kept.
    const twice = await own.post(`/orders/${id}/seats/${second.id}`, { name: 'Cat Again', email: cat }, { fromPage: `/orders/${id}` });
    expect(twice.statusCode).toBe(409);
    expect(twice.body).toMatch(new RegExp(`id="seat-${second.id}-email-error" role="alert">[^<]*already has a seat`));
    expect(twice.body).toContain('value="Cat Again"');
    expect(twice.body).toMatch(new RegExp(`id="seat-${second.id}-email"[^>]*aria-invalid="true"`));
    const noName = await own.post(`/orders/${id}/seats/${second.id}`, { name: '', email: addr() }, { fromPage: `/orders/${id}` });
    expect(noName.statusCode).toBe(400);
    expect(noName.body).toContain(`id="seat-${second.id}-name-error"`);
    const badEmail = await own.post(`/orders/${id}/seats/${second.id}`, { name: 'Dan', email: 'not-an-address' }, { fromPage: `/orders/${id}` });
    expect(badEmail.statusCode).toBe(400);
    expect(text(badEmail.body)).toContain('Enter an email address like name@library.org.');

    // Paid: the named seat is booked; the seat given to someone else cancels the first person's place.
    await t.ctx.bookings.payOrder(id, { reference: 'BACS 1', actor: s.admin.user });
    const dan = addr('dan');
    const again = await own.post(`/orders/${id}/seats/${first.id}`, { name: 'Dan Instead', email: dan }, { fromPage: `/orders/${id}` });
    expect(again.statusCode).toBe(303);
    expect(again.headers.location).toContain('done=booked');
    const page = text((await own.get(`/orders/${id}`)).body);
    expect(page).toContain('Status Paid and confirmed');
    expect(page).toContain(`Dan Instead ${dan} · Booked and enrolled`);
    expect(page).not.toContain('Cat Colleague');
    expect((await t.mailsTo(dan)).map((m) => m.subject)).toContain(`Your place is confirmed: ${s.cohort.course.title}`);
    expect((await t.mailsTo(cat)).map((m) => m.subject)).toContain(`Booking cancelled: ${s.cohort.course.title}`);
  });

  it('claim link: made on the order page and shown once; a colleague takes a seat; unknown links are 404; a full order says so', async () => {
    const s = await setup(t);
    const buyer = await insertUser(t, 'learner', 'Bea Buyer');
    const own = await signInBrowser(t, buyer.email);
    const id = orderIdFrom((await own.post(`/cohorts/${s.cohort.id}/order`, orderFields({ name: 'Bea', email: buyer.email }, { quantity: '2', organisation: 'Lakeside Libraries' }))).headers.location);
    await t.ctx.bookings.payOrder(id, { reference: 'BACS 2', actor: s.admin.user });
    const made = await own.post(`/orders/${id}/claim-link`, {}, { fromPage: `/orders/${id}` });
    expect(made.statusCode).toBe(200);
    const url = /id="claim-url" type="text" readonly value="([^"]+)"/.exec(made.body)?.[1];
    expect(url).toMatch(/^http:\/\/cohort\.test\/claim\/[A-Za-z0-9_-]+$/);
    expect(text(made.body)).toContain('we show it only once');
    expect((await own.get(`/orders/${id}`)).body).not.toContain(url!);
    const path = new URL(url!).pathname;

    const visitor = new Browser(t.app);
    const claim = await visitor.get(path);
    expect(claim.statusCode).toBe(200);
    const page = text(claim.body);
    expect(page).toContain('Take a seat: Strategic Planning with Purpose');
    expect(page).toContain('Bea (Lakeside Libraries) has booked places');
    expect(page).toContain('Starts Mon, 2 Mar 2026, 08:00 GMT');
    expectUsableForms(claim.body);
    const missing = await visitor.post(path, { name: '', email: '' });
    expect(missing.statusCode).toBe(400);
    expect(text(missing.body)).toContain('Enter your name');
    const eve = addr('eve');
    const taken = await visitor.post(path, { name: 'Eve Colleague', email: eve });
    expect(taken.statusCode).toBe(200);
    expect(text(taken.body)).toContain('Your place is confirmed');
    expect(text(taken.body)).toContain(`emailed the details to ${eve}`);
    const eveUser = await t.ctx.people.findByEmail(eve);
    expect(await t.ctx.cohorts.roleIn(eveUser!, s.cohort.id)).toBe('learner');

    // Signed in, the form is filled in with their own name and address.
    const frank = await insertUser(t, 'learner', 'Frank Signed-In');
    const frankBrowser = await signInBrowser(t, frank.email);
    const prefilled = await frankBrowser.get(path);
    expect(prefilled.body).toContain('value="Frank Signed-In"');
    expect(prefilled.body).toContain(`value="${frank.email}"`);
    expect(text((await frankBrowser.post(path, { name: 'Frank', email: frank.email })).body)).toContain('Your place is confirmed');

    // Every seat taken now.
    const full = await new Browser(t.app).get(path);
    expect(full.statusCode).toBe(200);
    expect(text(full.body)).toContain('Every seat is taken');
    expect(full.body).not.toContain('Take my seat');
    const late = await visitor.post(path, { name: 'Gus', email: addr('gus') }, { fromPage: `/cohorts/${s.cohort.id}/book` });
    expect(late.statusCode).toBe(409);
    expect(text(late.body)).toContain('Every seat of this order has been taken');

    expect((await visitor.get('/claim/not-a-real-token')).statusCode).toBe(404);
    // A new link stops the old one.
    await own.post(`/orders/${id}/claim-link`, {}, { fromPage: `/orders/${id}` });
    expect((await visitor.get(path)).statusCode).toBe(404);
  });

  it('bad input re-renders the form with a message beside the field and the values kept, never a server error', async () => {
    const s = await setup(t, { capacity: 4 });
    const browser = new Browser(t.app);
    const url = `/cohorts/${s.cohort.id}/order`;
    const buyer = { name: 'Olu Orderer', email: addr('olu') };
    for (const quantity of ['0', '101', 'lots', '', '1.5', '-2']) {
      const res = await browser.post(url, orderFields(buyer, { quantity }));
      expect(res.statusCode, quantity).toBe(400);
      expect(res.body).toMatch(/id="quantity-error">Enter a number of places from 1 to 100\./);
      expect(res.body).toMatch(/id="quantity"[^>]*aria-invalid="true"/);
      expect(res.body).toContain('value="Olu Orderer"');
      expect(res.body).toContain('value="Lakeside Libraries"');
      expect(res.body).toContain('value="PO-77"');
      expect(res.body).toContain('1 Quay Street\nLakeside</textarea>');
      expect(res.body).toContain('href="#quantity"');
      expectUsableForms(res.body);
    }
    // More than the cohort could ever hold: 422 beside the quantity.
    const tooMany = await browser.post(url, orderFields(buyer, { quantity: '5' }));
    expect(tooMany.statusCode).toBe(422);
    expect(tooMany.body).toMatch(/id="quantity-error">This cohort has 4 places in all/);
    // Missing name, bad email, a seat with a name and no address: all said at once.
    const many = await browser.post(url, orderFields({ name: '', email: 'nope' }, { seat2Name: 'Half Named' }));
    expect(many.statusCode).toBe(400);
    expect(many.body).toContain('id="name-error"');
    expect(many.body).toContain('id="email-error">Enter an email address like name@library.org.');
    expect(many.body).toContain('id="seat2Email-error"');
    expect(many.body).toContain('value="Half Named"');
    // The same person named twice: 409 beside the second seat.
    const x = addr('twice');
    const twice = await browser.post(url, orderFields(buyer, { seat1Name: 'X', seat1Email: x, seat2Name: 'X', seat2Email: x.toUpperCase() }));
    expect(twice.statusCode).toBe(409);
    expect(twice.body).toMatch(/id="seat\d+Email-error">[^<]*named for two seats/);
    // Card asked for when card payments are off.
    const card = await browser.post(url, orderFields(buyer, { payment: 'card' }));
    expect(card.statusCode).toBe(400);
    expect(card.body).toContain('id="payment-error">Card payments are not available here');
    // Too long a field.
    const long = await browser.post(url, orderFields(buyer, { poNumber: 'P'.repeat(101) }));
    expect(long.statusCode).toBe(400);
    expect(text(long.body)).toContain('one of the fields is too long');
    expect(await t.ctx.bookings.ordersForCohort(s.cohort.id)).toHaveLength(0);
    // Unknown cohort: the 404 page.
    expect((await browser.get('/cohorts/999999/order')).statusCode).toBe(404);
  });

  it('past the booking limit the form says so (429) and keeps the values', async () => {
    const s = await setup(t, { capacity: 30 });
    const browser = new Browser(t.app);
    let last = null;
    for (let i = 0; i < 21; i++) {
      last = await browser.post(`/cohorts/${s.cohort.id}/order`, orderFields({ name: 'Rapid', email: addr('rapid') }, { quantity: '1' }));
    }
    expect(last!.statusCode).toBe(429);
    expect(text(last!.body)).toContain('Too many bookings from your network');
    expect(last!.body).toContain('value="Rapid"');
  });

  it('closes at the end of the cohort for the public', async () => {
    const s = await setup(t);
    t.clock.set('2026-04-01T09:00:00.000Z');
    const browser = new Browser(t.app);
    const form = await browser.get(`/cohorts/${s.cohort.id}/order`);
    expect(text(form.body)).toContain('Bookings have closed');
    const post = await browser.post(`/cohorts/${s.cohort.id}/order`, orderFields({ name: 'Late', email: addr('late') }), { fromPage: '/sign-in' });
    expect(post.statusCode).toBe(409);
    expect(text(post.body)).toContain('Bookings for this cohort closed');
  });

  it('cancelling: a confirmation step with a clear warning, then the order is cancelled; not after the start', async () => {
    const s = await setup(t);
    const buyer = await insertUser(t, 'learner', 'Bea Buyer');
    let own = await signInBrowser(t, buyer.email);
    const ann = addr('ann');
    const id = orderIdFrom((await own.post(`/cohorts/${s.cohort.id}/order`, orderFields({ name: 'Bea', email: buyer.email }, { quantity: '2', seat1Name: 'Ann', seat1Email: ann }))).headers.location);
    await t.ctx.bookings.payOrder(id, { reference: 'BACS 3', actor: s.admin.user });
    expect((await own.get(`/orders/${id}`)).body).toContain(`href="/orders/${id}/cancel"`);
    const step = await own.get(`/orders/${id}/cancel`);
    expect(step.statusCode).toBe(200);
    const warn = text(step.body);
    expect(warn).toContain('All 2 places go');
    expect(warn).toContain('The 1 people booked through this order lose their places');
    expect(warn).toContain('a refund of £390.00 will be due to you');
    expectUsableForms(step.body);
    const done = await own.post(`/orders/${id}/cancel`, {}, { fromPage: `/orders/${id}/cancel` });
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe(`/orders/${id}?done=cancelled`);
    const page = text((await own.get(`/orders/${id}?done=cancelled`)).body);
    expect(page).toContain('The order is cancelled.');
    expect(page).toContain('Status Cancelled');
    expect(page).toContain('Refund £390.00 is due to you');
    expect(page).not.toContain('Give this seat');
    expect(page).not.toContain('Make a claim link');
    expect((await t.mailsTo(ann)).map((m) => m.subject)).toContain(`Booking cancelled: ${s.cohort.course.title}`);
    const again = await own.post(`/orders/${id}/cancel`, {}, { fromPage: `/orders/${id}/cancel` });
    expect(again.statusCode).toBe(409);
    expect(text(again.body)).toContain('already cancelled');

    // After the start the buyer is told to contact us.
    const second = orderIdFrom((await own.post(`/cohorts/${s.cohort.id}/order`, orderFields({ name: 'Bea', email: buyer.email }, { quantity: '1' }))).headers.location);
    t.clock.set('2026-03-03T09:00:00.000Z');
    own = await signInBrowser(t, buyer.email);
    expect((await own.get(`/orders/${second}`)).body).not.toContain(`/orders/${second}/cancel`);
    expect(text((await own.get(`/orders/${second}/cancel`)).body)).toContain('can no longer be cancelled online');
    const refused = await own.post(`/orders/${second}/cancel`, {}, { fromPage: `/orders/${second}/cancel` });
    expect(refused.statusCode).toBe(409);
  });

  it('the admin sees every order of a cohort with its seats, and records an invoice payment by form', async () => {
    const s = await setup(t);
    const buyer = { name: 'Bea Buyer', email: addr('bea') };
    const ann = addr('ann');
    const placed = await new Browser(t.app).post(`/cohorts/${s.cohort.id}/order`, orderFields(buyer, { seat1Name: 'Ann Colleague', seat1Email: ann }));
    const id = orderIdFrom(placed.headers.location);
    const admin = await signInBrowser(t, s.admin.email);
    const list = await admin.get(`/cohorts/${s.cohort.id}/orders`);
    expect(list.statusCode).toBe(200);
    const page = text(list.body);
    expect(page).toContain('Orders: Strategic Planning with Purpose, starting 2026-03-02');
    expect(page).toContain(`Bea Buyer ${buyer.email}`);
    expect(page).toContain('Lakeside Libraries PO PO-77');
    expect(page).toContain('Places held: awaiting payment');
    expect(page).toContain('£585.00');
    expect(page).toContain(`Ann Colleague (${ann})`);
    expect(page).toContain('Open (Open: nobody yet)');
    expect(list.body).toContain(`href="/orders/${id}"`);
    expectUsableForms(list.body);

    const empty = await admin.post(`/orders/${id}/payment`, { reference: '' }, { fromPage: `/cohorts/${s.cohort.id}/orders` });
    expect(empty.statusCode).toBe(400);
    expect(text(empty.body)).toContain('Enter the invoice or purchase-order reference');
    const paid = await admin.post(`/orders/${id}/payment`, { reference: 'BACS 4411' }, { fromPage: `/cohorts/${s.cohort.id}/orders` });
    expect(paid.statusCode).toBe(303);
    expect(paid.headers.location).toBe(`/cohorts/${s.cohort.id}/orders?done=paid`);
    const after = text((await admin.get(`/cohorts/${s.cohort.id}/orders?done=paid`)).body);
    expect(after).toContain('Payment recorded.');
    expect(after).toContain('Paid and confirmed');
    expect(after).toContain('BACS 4411');
    expect(after).toContain(`Ann Colleague (${ann}) (Booked and enrolled)`);
    const twice = await admin.post(`/orders/${id}/payment`, { reference: 'again' }, { fromPage: `/cohorts/${s.cohort.id}/orders` });
    expect(twice.statusCode).toBe(409);
    // The admin opens the order page too, and sees the receipt.
    const order = text((await admin.get(`/orders/${id}`)).body);
    expect(order).toMatch(/Receipt RCT-?\d+|Receipt [A-Z]+-\d+/);

    // Nobody else may see the list or record a payment.
    const learner = await signInBrowser(t, (await insertUser(t)).email);
    expect((await learner.get(`/cohorts/${s.cohort.id}/orders`)).statusCode).toBe(403);
    expect((await learner.post(`/orders/${id}/payment`, { reference: 'x' }, { fromPage: '/my' })).statusCode).toBe(403);
    const anon = await new Browser(t.app).get(`/cohorts/${s.cohort.id}/orders`);
    expect(anon.statusCode).toBe(303);
    expect(anon.headers.location).toContain('/sign-in?next=');
  });

  it('every form refuses a post without its CSRF token', async () => {
    const s = await setup(t);
    const res = await new Browser(t.app).post(`/cohorts/${s.cohort.id}/order`, orderFields({ name: 'N', email: addr() }), { csrf: null });
    expect(res.statusCode).toBe(403);
    expect(await t.ctx.bookings.ordersForCohort(s.cohort.id)).toHaveLength(0);
  });
});

describe('card orders with the Stripe stand-in', () => {
  let t: TestApp;
  let stripe: StripeServer;
  let clock: TestApp['clock'] | null = null;
  beforeAll(async () => {
    stripe = await startStripeServer({ webhookSecret: 'whsec_pages', now: () => (clock ? clock.now() : new Date(NOW)) });
    t = await createTestApp({ now: NOW, payments: { stripe: stripe.settings, holdMinutes: 30 } });
    clock = t.clock;
  });
  afterAll(async () => {
    await t.close();
    await stripe.close();
  });

  it('the form offers card; posting it answers 303 to the stand-in’s Pay page, and the CSP lets the browser follow', async () => {
    const s = await setup(t);
    const browser = new Browser(t.app);
    const form = await browser.get(`/cohorts/${s.cohort.id}/order`);
    expect(form.body).toMatch(/id="payment-card" name="payment" type="radio" value="card" checked/);
    expect(text(form.body)).toContain('By card now');
    expect(String(form.headers['content-security-policy'])).toContain(`form-action 'self' ${stripe.url}`);
    const buyer = { name: 'Cara Card', email: addr('cara') };
    const res = await browser.post(`/cohorts/${s.cohort.id}/order`, orderFields(buyer, { payment: 'card' }));
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toMatch(new RegExp(`^${stripe.url}/pay/cs_test_`));
    const [order] = await t.ctx.bookings.ordersForCohort(s.cohort.id);
    expect(order).toMatchObject({ payment: 'card', status: 'pending_payment', quantity: 3 });

    // The buyer comes back without paying: the order page offers to pay by card, which goes to Stripe again.
    const own = await signInBrowser(t, buyer.email);
    const page = await own.get(`/orders/${order.id}`);
    const words = text(page.body);
    expect(words).toContain('Status Places held: awaiting card payment');
    expect(words).toContain('Places held until Sun, 1 Feb 2026, 09:30 GMT');
    expect(page.body).toContain('Pay £585.00 by card</button>');
    const pay = await own.post(`/orders/${order.id}/pay`, {}, { fromPage: `/orders/${order.id}` });
    expect(pay.statusCode).toBe(303);
    expect(pay.headers.location).toBe(res.headers.location);

    // Paid at Stripe: back on the order page with ?paid=1, signed out then signed in.
    const session = stripe.sessions().at(-1)!.session.id;
    const event = stripe.pay(session);
    const { payload, headers } = stripe.signed(event);
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/payments/stripe/webhook', payload, headers })).statusCode).toBe(200);
    const thanks = await new Browser(t.app).get(`/orders/${order.id}?paid=1`);
    expect(thanks.statusCode).toBe(200);
    expect(text(thanks.body)).toContain('Thank you: payment received');
    expect(text(thanks.body)).toContain('Sign in to give your seats');
    expect(thanks.body).not.toContain('Cara');
    const back = text((await own.get(`/orders/${order.id}?paid=1`)).body);
    expect(back).toContain('Thank you: your payment is received.');
    expect(back).toContain('Status Paid and confirmed');
    expect(back).toMatch(/Invoice [A-Z]+-\d+ \(PDF\)/);
    expect(back).toMatch(/Receipt [A-Z]+-\d+ \(PDF\)/);
    expect(back).not.toContain('by card</button>');
    const cancel = text((await own.get(`/orders/${order.id}/cancel`)).body);
    expect(cancel).toContain('You paid by card, so £585.00 is refunded to that card.');
  });

  it('when Stripe is down the form says so and keeps the values; nothing stays held', async () => {
    const s = await setup(t);
    stripe.setDown(true);
    try {
      const res = await new Browser(t.app).post(`/cohorts/${s.cohort.id}/order`, orderFields({ name: 'Dee Down', email: addr('dee') }, { payment: 'card' }));
      expect(res.statusCode).toBe(503);
      expect(text(res.body)).toContain('Nothing was charged and no places are held');
      expect(res.body).toContain('value="Dee Down"');
    } finally {
      stripe.setDown(false);
    }
    expect((await t.ctx.bookings.counts(s.cohort)).placesLeft).toBe(s.cohort.capacity);
  });
});
