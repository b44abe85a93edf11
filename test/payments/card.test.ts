// Card checkout end to end against the Stripe stand-in: hold, Checkout, the signed webhook, enrolment and emails;
// events applied once; tampered and foreign events refused; a hold running out; refunds; Stripe down.
import Stripe from 'stripe';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { insertUser } from '../helpers/factories.js';
import { apiAs } from '../helpers/http.js';
import { startStripeServer, type StripeEvent, type StripeServer } from '../helpers/stripe-server.js';
import { addr, networkOf, NOW, setup } from '../bookings/setup.js';

const WEBHOOK_SECRET = 'whsec_test_checkout';
let t: TestApp;
let stripe: StripeServer;
let s: Awaited<ReturnType<typeof setup>>;

beforeEach(async () => {
  let clockRef: TestApp['clock'] | undefined;
  stripe = await startStripeServer({ webhookSecret: WEBHOOK_SECRET, now: () => (clockRef ? clockRef.now() : new Date(NOW)) });
  t = await createTestApp({ now: NOW, payments: { stripe: stripe.settings, holdMinutes: 30 } });
  clockRef = t.clock;
  s = await setup(t, { capacity: 4 });
});
afterEach(async () => {
  await t.close();
  await stripe.close();
});

async function cardOrder(quantity: number, seats: Array<{ email: string; name: string }> = []) {
  const buyer = await insertUser(t, 'learner', 'Tess Lead');
  const res = await t.app.inject({
    method: 'POST',
    url: `/api/v1/cohorts/${s.cohort.id}/orders`,
    payload: { buyer: { email: buyer.email, name: 'Tess Lead', organisation: 'County Libraries' }, quantity, payment: 'card', seats },
    remoteAddress: networkOf(buyer.email),
  });
  return { res, buyer, api: apiAs(t.app, buyer.token) };
}

/** Deliver an event to the webhook as Stripe would (signed over the exact body). */
function deliver(event: StripeEvent, tamper?: (payload: string) => string) {
  const { payload, headers } = stripe.signed(event);
  return t.app.inject({ method: 'POST', url: '/api/v1/payments/stripe/webhook', payload: tamper ? tamper(payload) : payload, headers });
}

const sessionOf = (url: string) => /cs_test_[A-Za-z0-9]+/.exec(url)![0];

describe('card checkout', () => {
  it('holds the places, sends the buyer to Checkout, and on the webhook confirms, books the seats and emails', async () => {
    const colleague = addr('col');
    const { res, buyer, api } = await cardOrder(3, [{ email: colleague, name: 'Col League' }]);
    expect(res.statusCode).toBe(201);
    const o = res.json();
    expect(o).toMatchObject({ status: 'pending_payment', payment: 'card', total: { amountMinor: 3 * 19500, currency: 'GBP' }, invoiceUrl: null });
    expect(o.checkoutUrl).toMatch(new RegExp(`^${stripe.url}/pay/cs_test_`));
    expect(new Date(o.holdExpiresAt).getTime() - t.clock.now().getTime()).toBe(30 * 60_000);
    expect((await t.ctx.bookings.counts(s.cohort)).placesLeft).toBe(1);
    // What Stripe was asked for.
    const [made] = stripe.sessions();
    expect(made.session).toMatchObject({ amount_total: 58500, currency: 'gbp', client_reference_id: String(o.id), customer_email: buyer.email });

    const paid = stripe.pay(sessionOf(o.checkoutUrl));
    const hook = await deliver(paid);
    expect(hook.statusCode).toBe(200);
    expect(hook.json()).toEqual({ received: true, outcome: 'paid: confirmed' });
    const after = (await api('GET', `/api/v1/orders/${o.id}`)).json();
    expect(after).toMatchObject({ status: 'confirmed', holdExpiresAt: null });
    expect(after.paymentReference).toMatch(/^pi_test_/);
    expect(after.seats.map((x: { status: string }) => x.status)).toEqual(['booked', 'open', 'open']);
    expect((await t.mailsTo(colleague)).map((m) => m.subject)).toEqual([`Your place is confirmed: ${s.cohort.course.title}`]);
    expect((await t.mailsTo(buyer.email)).map((m) => m.subject)).toContain(`Payment received, your places are confirmed: ${s.cohort.course.title}`);
    const kinds = (await api('GET', `/api/v1/orders/${o.id}/documents`)).json().map((d: { kind: string }) => d.kind);
    expect(kinds).toEqual(['invoice', 'receipt']);
    expect((await api('GET', `/api/v1/orders/${o.id}/receipt.pdf`)).statusCode).toBe(200);

    // The same event again, and Stripe's retry of it, change nothing more.
    const mailsBefore = (await t.mails()).length;
    expect((await deliver(paid)).json().outcome).toBe('already applied');
    expect((await t.mails()).length).toBe(mailsBefore);
    expect((await api('GET', `/api/v1/orders/${o.id}/documents`)).json()).toHaveLength(2);
  });

  it('refuses a tampered payload, a bad signature and a session that is not ours, changing nothing', async () => {
    const { res, api } = await cardOrder(2);
    const o = res.json();
    const paid = stripe.pay(sessionOf(o.checkoutUrl));
    const tampered = await deliver(paid, (p) => {
      const changed = p.replace(/("amount_total":\s*)39000/, '$11');
      expect(changed).not.toBe(p);
      return changed;
    });
    expect(tampered.statusCode).toBe(400);
    const unsigned = await t.app.inject({ method: 'POST', url: '/api/v1/payments/stripe/webhook', payload: stripe.signed(paid).payload, headers: { 'content-type': 'application/json' } });
    expect(unsigned.statusCode).toBe(400);
    const wrongSecret = stripe.signed(paid, { secret: 'whsec_someone_else' });
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/payments/stripe/webhook', payload: wrongSecret.payload, headers: wrongSecret.headers })).statusCode).toBe(400);
    expect((await api('GET', `/api/v1/orders/${o.id}`)).json().status).toBe('pending_payment');

    // A session made on the same Stripe account but not by us (another app, or someone replaying one of theirs).
    const sdk = new Stripe(stripe.settings.secretKey, { host: stripe.settings.host, port: stripe.settings.port, protocol: stripe.settings.protocol });
    const foreign = await sdk.checkout.sessions.create({
      mode: 'payment',
      line_items: [{ price_data: { currency: 'gbp', unit_amount: 19500, product_data: { name: 'Something else' } }, quantity: 1 }],
      success_url: 'https://elsewhere.test/ok',
      client_reference_id: String(o.id),
    });
    const foreignPaid = await deliver(stripe.pay(foreign.id));
    expect(foreignPaid.statusCode).toBe(400);
    expect((await api('GET', `/api/v1/orders/${o.id}`)).json().status).toBe('pending_payment');
    // The real payment still goes through afterwards.
    expect((await deliver(paid)).json().outcome).toBe('paid: confirmed');
  });
});

describe('a hold that runs out', () => {
  it('releases the places after 30 minutes, expires the Checkout Session, and moves the waitlist up', async () => {
    const { res, buyer, api } = await cardOrder(4);
    const o = res.json();
    const waiting = await s.book(addr('wait'));
    expect(waiting.json().status).toBe('waitlisted');
    t.clock.advance({ minutes: 29 });
    await t.ctx.scheduler.runDue();
    expect((await api('GET', `/api/v1/orders/${o.id}`)).json().status).toBe('pending_payment');
    t.clock.advance({ minutes: 2 });
    await t.ctx.scheduler.runDue();
    expect((await api('GET', `/api/v1/orders/${o.id}`)).json()).toMatchObject({ status: 'cancelled', cancelReason: 'expired', holdExpiresAt: null });
    expect(stripe.session(sessionOf(o.checkoutUrl)).status).toBe('expired');
    expect((await s.asAdmin('GET', `/api/v1/bookings/${waiting.json().id}`)).json().status).toBe('pending_payment');
    expect((await t.mailsTo(buyer.email)).map((m) => m.subject)).toContain(`Your held places were released: ${s.cohort.course.title}`);
    // Stripe's own expiry event afterwards: nothing more to do.
    expect((await deliver(stripe.lastEvent('checkout.session.expired') ?? stripe.expireEvent(sessionOf(o.checkoutUrl)))).json().outcome).toMatch(/nothing to release|already applied/);
  });
});

describe('a payment that arrives after the hold ran out', () => {
  it('gets the order its places back when they are still free, else puts it, paid, at the end of the waitlist', async () => {
    const { res, api } = await cardOrder(2);
    const o = res.json();
    // Stripe is unreachable when the job tries to expire the session, so the buyer can still pay it.
    stripe.setDown(3);
    t.clock.advance({ minutes: 31 });
    await t.ctx.scheduler.runDue();
    expect((await api('GET', `/api/v1/orders/${o.id}`)).json().cancelReason).toBe('expired');
    expect(stripe.session(sessionOf(o.checkoutUrl)).status).toBe('open');
    expect((await deliver(stripe.pay(sessionOf(o.checkoutUrl)))).json().outcome).toBe('paid: confirmed');
    expect((await api('GET', `/api/v1/orders/${o.id}`)).json()).toMatchObject({ status: 'confirmed', cancelReason: null });

    // The same again while the places were taken meanwhile: paid, waiting.
    const second = await cardOrder(2);
    const o2 = second.res.json();
    stripe.setDown(3);
    t.clock.advance({ minutes: 31 });
    await t.ctx.scheduler.runDue();
    await s.book(addr('took'));
    await s.book(addr('took'));
    expect((await deliver(stripe.pay(sessionOf(o2.checkoutUrl)))).json().outcome).toBe('paid: waitlisted');
    const after = (await second.api('GET', `/api/v1/orders/${o2.id}`)).json();
    expect(after).toMatchObject({ status: 'waitlisted', waitlistPosition: 1 });
    expect(after.paymentReference).toMatch(/^pi_test_/);
  });
});

describe('refunds', () => {
  it('refunds a cancelled card order through Stripe, issues a credit note, and the refund webhook changes nothing more', async () => {
    const colleague = addr('refund');
    const { res, api } = await cardOrder(2, [{ email: colleague, name: 'Ray Fund' }]);
    const o = res.json();
    await deliver(stripe.pay(sessionOf(o.checkoutUrl)));
    const cancelled = await api('POST', `/api/v1/orders/${o.id}/cancel`, { note: 'Team changed plans' });
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json()).toMatchObject({ status: 'cancelled', refund: 'refunded', refundedMinor: 39000 });
    expect(stripe.refunds().map((r) => r.amount)).toEqual([39000]);
    const docs = (await api('GET', `/api/v1/orders/${o.id}/documents`)).json();
    expect(docs.map((d: { kind: string }) => d.kind)).toEqual(['invoice', 'receipt', 'credit_note']);
    expect(docs[2].total).toEqual({ amountMinor: 39000, currency: 'GBP' });
    // The colleague's booking ended with the order.
    const booking = (await t.ctx.bookings.listForCohort(s.cohort.id)).find((b) => b.email === colleague);
    expect(booking?.status).toBe('cancelled');
    const refunded = stripe.lastEvent('charge.refunded');
    expect(refunded).toBeDefined();
    expect((await deliver(refunded!)).json().outcome).toBe('nothing new');
    expect((await api('GET', `/api/v1/orders/${o.id}/documents`)).json()).toHaveLength(3);
  });
});

describe('events delivered at once, and refunds made in Stripe', () => {
  it('the same completed event delivered twice at once confirms once; partial refunds from the dashboard each get a credit note', async () => {
    const { res, api } = await cardOrder(2);
    const o = res.json();
    const paid = stripe.pay(sessionOf(o.checkoutUrl));
    const [a, b] = await Promise.all([deliver(paid), deliver(paid)]);
    expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
    const outcomes = [a.json().outcome, b.json().outcome];
    expect(outcomes.filter((x) => x === 'paid: confirmed')).toHaveLength(1);
    expect(outcomes.filter((x) => x !== 'paid: confirmed')[0]).toMatch(/^already (applied|paid)$/);
    expect((await api('GET', `/api/v1/orders/${o.id}/documents`)).json().map((d: { kind: string }) => d.kind)).toEqual(['invoice', 'receipt']);

    // Someone refunds part of it in Stripe's dashboard, twice: each refund event records only what is new.
    const sdk = new Stripe(stripe.settings.secretKey, { host: stripe.settings.host, port: stripe.settings.port, protocol: stripe.settings.protocol });
    const intent = (await api('GET', `/api/v1/orders/${o.id}`)).json().paymentReference;
    await sdk.refunds.create({ payment_intent: intent, amount: 10_000 });
    expect((await deliver(stripe.lastEvent('charge.refunded')!)).json().outcome).toBe('refunded 10000');
    await sdk.refunds.create({ payment_intent: intent, amount: 5_000 });
    const second = stripe.lastEvent('charge.refunded')!;
    expect((await deliver(second)).json().outcome).toBe('refunded 5000');
    const after = (await api('GET', `/api/v1/orders/${o.id}`)).json();
    expect(after).toMatchObject({ refundedMinor: 15_000, refund: 'none' });
    const credits = (await api('GET', `/api/v1/orders/${o.id}/documents`)).json().filter((d: { kind: string }) => d.kind === 'credit_note');
    expect(credits.map((d: { total: { amountMinor: number } }) => d.total.amountMinor)).toEqual([10_000, 5_000]);
  });
});

describe('Stripe unreachable', () => {
  it('answers 503 and leaves no places held and no seats booked', async () => {
    stripe.setDown(true);
    const seat = addr('down');
    const { res } = await cardOrder(3, [{ email: seat, name: 'Dee Own' }]);
    expect(res.statusCode).toBe(503);
    expect(res.json().code).toBe('CC_PAYMENT_PROVIDER_UNAVAILABLE');
    expect((await t.ctx.bookings.counts(s.cohort)).placesLeft).toBe(4);
    const [o] = await t.ctx.bookings.ordersForCohort(s.cohort.id);
    expect(o).toMatchObject({ status: 'cancelled', cancelReason: 'payment_failed' });
    expect(await t.mailsTo(seat)).toHaveLength(0);
    // The same address can be named again once Stripe is back.
    stripe.setDown(false);
    expect((await cardOrder(3, [{ email: seat, name: 'Dee Own' }])).res.statusCode).toBe(201);
  });
});
