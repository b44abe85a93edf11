// The Stripe gateway through the real SDK against the local stand-in: Checkout, expiry, refunds, webhook checks, outages.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../server/clock.js';
import { BadInput } from '../../server/errors.js';
import type { CheckoutRequest, StripeGateway } from '../../modules/payments/model.js';
import { checkoutExpiresAt, createStripeGateway } from '../../modules/payments/stripe.js';
import { startStripeServer, type StripeServer } from '../helpers/stripe-server.js';
import { freePort } from '../helpers/ports.js';

const WEBHOOK_SECRET = 'whsec_test_gateway';
const MIN = 60_000;

let clock: ManualClock;
let stripe: StripeServer;
let gateway: StripeGateway;

beforeEach(async () => {
  clock = new ManualClock('2026-03-02T10:00:00.000Z');
  stripe = await startStripeServer({ webhookSecret: WEBHOOK_SECRET, now: () => clock.now() });
  gateway = createStripeGateway(stripe.settings, clock);
});
afterEach(async () => stripe.close());

/** An order of three places at £450 each, held for 30 minutes. */
function checkout(over: Partial<CheckoutRequest> = {}): CheckoutRequest {
  return {
    orderId: 7,
    description: 'Strategic planning, cohort starting 2 March 2026',
    quantity: 3,
    unitMinor: 45_000,
    currency: 'GBP',
    customerEmail: 'buyer@example.org',
    successUrl: 'http://cohort.test/orders/7/paid?session={CHECKOUT_SESSION_ID}',
    cancelUrl: 'http://cohort.test/orders/7',
    holdExpiresAt: new Date(clock.now().getTime() + 30 * MIN),
    idempotencyKey: 'order-7-checkout-1',
    ...over,
  };
}

const seconds = (d: Date) => Math.ceil(d.getTime() / 1000);

/** What a thrown promise rejected with. */
async function failure(p: Promise<unknown>): Promise<Error & { code?: string; statusCode?: number }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string; statusCode?: number };
  }
  throw new Error('expected the call to fail');
}

function thrown(fn: () => unknown): Error & { code?: string; statusCode?: number } {
  try {
    fn();
  } catch (err) {
    return err as Error & { code?: string; statusCode?: number };
  }
  throw new Error('expected the call to throw');
}

describe('a Checkout Session for an order', () => {
  it('is made in payment mode with one priced line, the buyer, the order on it and where to go back', async () => {
    const made = await gateway.createCheckout(checkout());
    expect(made.sessionId).toMatch(/^cs_test_/);
    expect(made.url).toBe(`${stripe.url}/pay/${made.sessionId}`);
    const [{ session, params, idempotencyKey }] = stripe.sessions();
    expect(idempotencyKey).toBe('order-7-checkout-1');
    expect(params).toMatchObject({
      mode: 'payment',
      line_items: [{ price_data: { currency: 'gbp', unit_amount: '45000', product_data: { name: 'Strategic planning, cohort starting 2 March 2026' } }, quantity: '3' }],
      customer_email: 'buyer@example.org',
      client_reference_id: '7',
      metadata: { orderId: '7' },
      payment_intent_data: { metadata: { orderId: '7' } },
      success_url: 'http://cohort.test/orders/7/paid?session={CHECKOUT_SESSION_ID}',
      cancel_url: 'http://cohort.test/orders/7',
    });
    expect(session).toMatchObject({ id: made.sessionId, status: 'open', payment_status: 'unpaid', amount_total: 135_000, currency: 'gbp', client_reference_id: '7' });
  });

  it('expires no sooner than Stripe allows: a 30-minute hold gets a session of 32 minutes, which the app expires itself', async () => {
    await gateway.createCheckout(checkout());
    expect(stripe.sessions()[0].session.expires_at).toBe(seconds(new Date(clock.now().getTime() + 32 * MIN)));
  });

  it('expires when the hold ends when that is inside Stripe’s window, and within 24 hours when the hold is longer', async () => {
    const now = clock.now();
    const at = (ms: number) => new Date(now.getTime() + ms);
    expect(checkoutExpiresAt(at(5 * MIN), now)).toEqual(at(32 * MIN));
    expect(checkoutExpiresAt(at(180 * MIN), now)).toEqual(at(180 * MIN));
    expect(checkoutExpiresAt(at(3 * 24 * 60 * MIN), now)).toEqual(at(24 * 60 * MIN - 2 * MIN));
    // And the stand-in, measuring from the same clock, accepts both ends.
    await gateway.createCheckout(checkout({ holdExpiresAt: at(3 * 24 * 60 * MIN) }));
    await gateway.createCheckout(checkout({ holdExpiresAt: at(1 * MIN), idempotencyKey: 'order-7-checkout-2' }));
    expect(stripe.sessions().map((s) => s.session.expires_at)).toEqual([seconds(at(24 * 60 * MIN - 2 * MIN)), seconds(at(32 * MIN))]);
  });

  it('is made once when the same create is retried with the same idempotency key', async () => {
    const first = await gateway.createCheckout(checkout());
    const again = await gateway.createCheckout(checkout());
    expect(again).toEqual(first);
    expect(stripe.sessions()).toHaveLength(1);
    const other = await gateway.createCheckout(checkout({ idempotencyKey: 'order-7-checkout-2' }));
    expect(other.sessionId).not.toBe(first.sessionId);
    expect(stripe.sessions()).toHaveLength(2);
  });

  it('can be expired when our hold ends, and expiring it again, or once it is paid, is no error', async () => {
    const open = await gateway.createCheckout(checkout());
    await gateway.expireCheckout(open.sessionId);
    expect(stripe.session(open.sessionId).status).toBe('expired');
    await gateway.expireCheckout(open.sessionId);
    expect(stripe.lastEvent()?.type).toBe('checkout.session.expired');

    const paid = await gateway.createCheckout(checkout({ idempotencyKey: 'order-7-checkout-2' }));
    stripe.pay(paid.sessionId);
    await gateway.expireCheckout(paid.sessionId);
    expect(stripe.session(paid.sessionId)).toMatchObject({ status: 'complete', payment_status: 'paid' });
  });
});

describe('refunds', () => {
  async function paidOrder(): Promise<string> {
    const { sessionId } = await gateway.createCheckout(checkout());
    const completed = stripe.pay(sessionId);
    return completed.data.object.payment_intent as string;
  }

  it('refund part of a payment, then the rest, each once however often it is retried', async () => {
    const pi = await paidOrder();
    const first = await gateway.refund(pi, 45_000, 'order-7-refund-1');
    expect(first.refundId).toMatch(/^re_test_/);
    expect(await gateway.refund(pi, 45_000, 'order-7-refund-1')).toEqual(first);
    const rest = await gateway.refund(pi, 90_000, 'order-7-refund-2');
    expect(rest.refundId).not.toBe(first.refundId);
    expect(stripe.refunds().map((r) => r.amount)).toEqual([45_000, 90_000]);
    const refunded = stripe.events().filter((e) => e.type === 'charge.refunded');
    expect(refunded.map((e) => e.data.object.amount_refunded)).toEqual([45_000, 135_000]);
    expect(refunded[1].data.object).toMatchObject({ payment_intent: pi, refunded: true });
  });

  it('refuse more than is left to refund, as Stripe does, with Stripe’s reason', async () => {
    const pi = await paidOrder();
    const over = await failure(gateway.refund(pi, 135_001, 'order-7-refund-1'));
    expect(over).toMatchObject({ code: 'CC_DOMAIN_RULE', statusCode: 422 });
    expect(over.message).toBe('Stripe refused the refund: Refund amount (GBP 1350.01) is greater than unrefunded amount on charge (GBP 1350.00)');
    await gateway.refund(pi, 135_000, 'order-7-refund-2');
    const again = await failure(gateway.refund(pi, 100, 'order-7-refund-3'));
    expect(again).toMatchObject({ code: 'CC_DOMAIN_RULE' });
    expect(again.message).toContain('has already been refunded');
    expect(stripe.refunds()).toHaveLength(1);
  });
});

describe('webhook events', () => {
  async function completedEvent() {
    const { sessionId } = await gateway.createCheckout(checkout());
    return stripe.pay(sessionId);
  }

  it('a signed checkout.session.completed is read as the order paid, with its payment intent and amount', async () => {
    const event = await completedEvent();
    const { payload, headers } = stripe.signed(event);
    expect(gateway.parseEvent(Buffer.from(payload), headers['stripe-signature'])).toEqual({
      id: event.id,
      type: 'checkout.session.completed',
      created: event.created,
      sessionId: event.data.object.id,
      orderId: 7,
      paymentIntent: event.data.object.payment_intent,
      amountTotal: 135_000,
      currency: 'GBP',
      paymentStatus: 'paid',
    });
  });

  it('an expired session, a refund and an event we do not act on are read too', async () => {
    const { sessionId } = await gateway.createCheckout(checkout());
    const expired = stripe.expireEvent(sessionId);
    const read = (e: typeof expired) => {
      const { payload, headers } = stripe.signed(e);
      return gateway.parseEvent(Buffer.from(payload), headers['stripe-signature']);
    };
    expect(read(expired)).toMatchObject({ type: 'checkout.session.expired', sessionId, orderId: 7, paymentIntent: null, paymentStatus: 'unpaid' });

    const paid = await gateway.createCheckout(checkout({ idempotencyKey: 'order-7-checkout-2' }));
    const pi = stripe.pay(paid.sessionId).data.object.payment_intent;
    await gateway.refund(pi as string, 10_000, 'order-7-refund-1');
    expect(read(stripe.lastEvent('charge.refunded')!)).toMatchObject({ type: 'charge.refunded', paymentIntent: pi, amountRefunded: 10_000, currency: 'GBP' });

    const other = { ...expired, id: 'evt_other', type: 'customer.created', data: { object: { id: 'cus_1', object: 'customer' } } };
    expect(read(other)).toEqual({ id: 'evt_other', type: 'other', created: expired.created, stripeType: 'customer.created' });
  });

  it('an order id that is not a number is read as no order', async () => {
    const event = await completedEvent();
    const forged = { ...event, data: { object: { ...event.data.object, client_reference_id: 'seven', metadata: { orderId: '7; drop' } } } };
    const { payload, headers } = stripe.signed(forged);
    expect(gateway.parseEvent(Buffer.from(payload), headers['stripe-signature'])).toMatchObject({ orderId: null });
  });

  it('a payload changed by one character after signing is refused, without quoting it back', async () => {
    const { payload, headers } = stripe.signed(await completedEvent());
    const tampered = payload.replace('"amount_total": 135000', '"amount_total": 135001');
    expect(tampered).not.toBe(payload);
    const err = thrown(() => gateway.parseEvent(Buffer.from(tampered), headers['stripe-signature']));
    expect(err).toBeInstanceOf(BadInput);
    expect(err.statusCode).toBe(400);
    expect(err.message).toBe('The webhook signature does not verify.');
    expect(err.message).not.toContain('135001');
  });

  it('an event signed with another secret, or with no signature, is refused', async () => {
    const event = await completedEvent();
    const { payload, headers } = stripe.signed(event, { secret: 'whsec_someone_else' });
    expect(thrown(() => gateway.parseEvent(Buffer.from(payload), headers['stripe-signature']))).toBeInstanceOf(BadInput);
    expect(thrown(() => gateway.parseEvent(Buffer.from(payload), undefined))).toMatchObject({ statusCode: 400, message: 'The Stripe-Signature header is missing.' });
    expect(thrown(() => gateway.parseEvent(Buffer.from(payload), 'nonsense'))).toBeInstanceOf(BadInput);
  });

  it('a signature older than five minutes is refused, as a replay might be; a fresh one four minutes old is not', async () => {
    const event = await completedEvent();
    const { payload, headers } = stripe.signed(event);
    clock.advance({ minutes: 4 });
    expect(gateway.parseEvent(Buffer.from(payload), headers['stripe-signature'])).toMatchObject({ type: 'checkout.session.completed' });
    clock.advance({ minutes: 2 });
    const err = thrown(() => gateway.parseEvent(Buffer.from(payload), headers['stripe-signature']));
    expect(err).toBeInstanceOf(BadInput);
    expect(err.message).toContain('too old');
  });

  it('a correctly signed body that is not a Stripe event is refused', () => {
    for (const payload of ['{"hello":"world"}', 'not json at all', '{"object":"event","id":"evt_1","type":"checkout.session.completed","created":1,"data":{"object":{}}}']) {
      const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET, timestamp: seconds(clock.now()) });
      const err = thrown(() => gateway.parseEvent(Buffer.from(payload), signature));
      expect(err).toBeInstanceOf(BadInput);
      expect(err.message).toBe('The webhook body is not a Stripe event.');
    }
  });
});

describe('when Stripe is down', () => {
  it('making a session, expiring it and refunding answer the one coded unavailable error, after the SDK’s retries', async () => {
    const { sessionId } = await gateway.createCheckout(checkout());
    const pi = stripe.pay(sessionId).data.object.payment_intent as string;
    stripe.setDown(true);
    const before = stripe.requests().length;
    const calls = [() => gateway.createCheckout(checkout({ idempotencyKey: 'order-7-checkout-2' })), () => gateway.expireCheckout(sessionId), () => gateway.refund(pi, 100, 'order-7-refund-1')];
    for (const call of calls) {
      const err = await failure(call());
      expect(err).toMatchObject({ code: 'CC_PAYMENT_PROVIDER_UNAVAILABLE', statusCode: 503 });
      expect(err).not.toBeInstanceOf(Stripe.errors.StripeError);
    }
    // One try and two retries each.
    expect(stripe.requests().length - before).toBe(9);
    expect(stripe.sessions()).toHaveLength(1);
    expect(stripe.refunds()).toHaveLength(0);
  });

  it('a failure the retry gets past makes one session', async () => {
    stripe.setDown(1);
    const made = await gateway.createCheckout(checkout());
    expect(stripe.sessions().map((s) => s.session.id)).toEqual([made.sessionId]);
    expect(stripe.requests().map((r) => [r.status, r.idempotencyKey])).toEqual([
      [503, 'order-7-checkout-1'],
      [200, 'order-7-checkout-1'],
    ]);
  });

  it('nothing listening where Stripe should be is the same coded error', async () => {
    const nowhere = createStripeGateway({ ...stripe.settings, port: await freePort() }, clock);
    expect(await failure(nowhere.createCheckout(checkout()))).toMatchObject({ code: 'CC_PAYMENT_PROVIDER_UNAVAILABLE', statusCode: 503 });
  });

  it('a wrong secret key is our fault, not the buyer’s: a plain error naming Stripe’s refusal, without a 4xx status', async () => {
    const wrong = createStripeGateway({ ...stripe.settings, secretKey: 'sk_test_wrong_key' }, clock);
    const err = await failure(wrong.createCheckout(checkout()));
    expect(err.message).toMatch(/^Stripe refused to create a Checkout Session: Invalid API Key provided/);
    expect(err.statusCode).toBeUndefined();
    expect(err).not.toBeInstanceOf(Stripe.errors.StripeError);
  });
});

describe('the stand-in’s hosted checkout page', () => {
  let hook: Server;
  let received: Array<{ status: number; body: string }>;
  beforeEach(async () => {
    received = [];
    // A webhook endpoint that checks each delivery with the gateway, as the app's will.
    hook = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let status = 200;
        try {
          gateway.parseEvent(Buffer.concat(chunks), req.headers['stripe-signature'] as string | undefined);
        } catch {
          status = 400;
        }
        received.push({ status, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', () => resolve()));
    stripe.webhookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/webhooks/stripe`;
  });
  afterEach(async () => new Promise<void>((resolve) => hook.close(() => resolve())));

  it('shows the order with a Pay button; paying delivers the signed event and sends the buyer to the success page', async () => {
    const { sessionId, url } = await gateway.createCheckout(checkout());
    const pageRes = await fetch(url);
    const html = await pageRes.text();
    expect(pageRes.status).toBe(200);
    expect(html).toContain('Strategic planning, cohort starting 2 March 2026 × 3');
    expect(html).toContain('GBP 1350.00');
    expect(html).toMatch(/<form method="post"[^>]*><button type="submit">Pay<\/button>/);

    const paid = await fetch(url, { method: 'POST', redirect: 'manual' });
    expect(paid.status).toBe(303);
    expect(paid.headers.get('location')).toBe(`http://cohort.test/orders/7/paid?session=${sessionId}`);
    expect(received).toHaveLength(1);
    expect(received[0].status).toBe(200);
    expect(JSON.parse(received[0].body)).toMatchObject({ type: 'checkout.session.completed', data: { object: { id: sessionId, payment_status: 'paid' } } });
    expect(stripe.deliveries()).toEqual([{ eventId: stripe.lastEvent()!.id, type: 'checkout.session.completed', status: 200 }]);

    // Once paid, the page is gone, as Stripe's is.
    expect((await fetch(url)).status).toBe(410);
  });

  it('a session past its expiry lapses with an expired event and its page says so', async () => {
    const { sessionId, url } = await gateway.createCheckout(checkout());
    clock.advance({ minutes: 33 });
    expect((await fetch(url)).status).toBe(410);
    expect(stripe.lastEvent()).toMatchObject({ type: 'checkout.session.expired', data: { object: { id: sessionId, status: 'expired' } } });
    expect(await stripe.deliver(stripe.lastEvent()!)).toBe(200);
  });
});

describe('the stand-in refuses what Stripe refuses', () => {
  const sdk = () => new Stripe(stripe.settings.secretKey, { host: stripe.settings.host, port: stripe.settings.port, protocol: 'http', maxNetworkRetries: 0 });
  const base = () => ({
    mode: 'payment' as const,
    success_url: 'http://cohort.test/ok',
    line_items: [{ price_data: { currency: 'gbp', unit_amount: 1000, product_data: { name: 'A place' } }, quantity: 1 }],
  });
  const nowSeconds = () => seconds(clock.now());

  it('an expiry outside 30 minutes to 24 hours, an unknown parameter, an upper-case currency, a missing success url', async () => {
    const cases: Array<[object, string]> = [
      [{ ...base(), expires_at: nowSeconds() + 29 * 60 }, 'expires_at'],
      [{ ...base(), expires_at: nowSeconds() + 24 * 3600 + 60 }, 'expires_at'],
      [{ ...base(), colour: 'blue' }, 'colour'],
      [{ ...base(), line_items: [{ price_data: { currency: 'GBP', unit_amount: 1000, product_data: { name: 'A place' } }, quantity: 1 }] }, 'line_items[0][price_data][currency]'],
      [{ ...base(), success_url: undefined }, 'success_url'],
      [{ ...base(), line_items: [{ price_data: { currency: 'gbp', unit_amount: 10, product_data: { name: 'A place' } }, quantity: 1 }] }, 'line_items'],
    ];
    for (const [params, param] of cases) {
      const err = await failure(sdk().checkout.sessions.create(params as Stripe.Checkout.SessionCreateParams));
      expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
      expect((err as unknown as { param: string }).param).toBe(param);
    }
    expect(stripe.sessions()).toHaveLength(0);
  });

  it('the same idempotency key with other parameters', async () => {
    await sdk().checkout.sessions.create(base(), { idempotencyKey: 'k1' });
    const err = await failure(sdk().checkout.sessions.create({ ...base(), customer_email: 'other@example.org' }, { idempotencyKey: 'k1' }));
    expect(err).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(stripe.sessions()).toHaveLength(1);
  });
});
