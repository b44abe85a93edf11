// The Stripe gateway: Checkout Sessions, their expiry, refunds and verified webhook events, through the stripe SDK.
import Stripe from 'stripe';
import type { Clock } from '../../server/clock.js';
import { BadInput, DomainRule, PaymentProviderUnavailable } from '../../server/errors.js';
import type { CheckoutRequest, PaymentEvent, StripeGateway, StripeSettings } from './model.js';

/**
 * The API version the SDK's types describe, pinned so that an account's dashboard setting or an SDK upgrade cannot
 * change the shapes we read without tsc noticing.
 */
export const STRIPE_API_VERSION = '2026-11-18.endive' as const;

type StripeError = InstanceType<typeof Stripe.errors.StripeError>;

const MINUTE = 60_000;
/** Stripe accepts `expires_at` from 30 minutes to 24 hours after a session is created. */
export const CHECKOUT_MIN_EXPIRY_MS = 30 * MINUTE;
export const CHECKOUT_MAX_EXPIRY_MS = 24 * 60 * MINUTE;
/** Kept inside both ends of that window, as Stripe measures it on its own clock a moment after ours. */
const EXPIRY_MARGIN_MS = 2 * MINUTE;

/**
 * When a Checkout Session for a hold ending at `holdExpiresAt` should expire: the hold's end, but never earlier than
 * Stripe allows. A hold shorter than that (CHECKOUT_HOLD_MINUTES may be under 30) outlives Stripe's session, so the
 * app enforces its own hold by calling expireCheckout when the hold lapses; Stripe's expiry is only the backstop.
 */
export function checkoutExpiresAt(holdExpiresAt: Date, now: Date): Date {
  const earliest = now.getTime() + CHECKOUT_MIN_EXPIRY_MS + EXPIRY_MARGIN_MS;
  const latest = now.getTime() + CHECKOUT_MAX_EXPIRY_MS - EXPIRY_MARGIN_MS;
  return new Date(Math.min(Math.max(holdExpiresAt.getTime(), earliest), latest));
}

/** The order a Checkout Session was made for, from client_reference_id or metadata.orderId; null if neither is one. */
function orderIdOf(session: { client_reference_id?: unknown; metadata?: unknown }): number | null {
  const metadata = session.metadata && typeof session.metadata === 'object' ? (session.metadata as Record<string, unknown>) : {};
  for (const candidate of [session.client_reference_id, metadata.orderId]) {
    if (typeof candidate === 'string' && /^[1-9][0-9]{0,15}$/.test(candidate)) {
      const id = Number(candidate);
      if (Number.isSafeInteger(id)) return id;
    }
  }
  return null;
}

/** An id field Stripe sends either as the id or, when expanded, as the object. */
function idOf(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string') return (value as { id: string }).id;
  return null;
}

const numberOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const upperOrNull = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v.toUpperCase() : null);

/** A verified event body, reduced to what the app acts on. */
export function toPaymentEvent(event: { id: string; type: string; created: number; data: { object: object } }): PaymentEvent {
  const object = event.data.object as Record<string, unknown>;
  switch (event.type) {
    case 'checkout.session.completed':
    case 'checkout.session.expired':
      return {
        id: event.id,
        type: event.type,
        created: event.created,
        sessionId: String(object.id),
        orderId: orderIdOf(object),
        paymentIntent: idOf(object.payment_intent),
        amountTotal: numberOrNull(object.amount_total),
        currency: upperOrNull(object.currency),
        paymentStatus: typeof object.payment_status === 'string' ? object.payment_status : 'unknown',
      };
    case 'charge.refunded':
      return {
        id: event.id,
        type: 'charge.refunded',
        created: event.created,
        paymentIntent: idOf(object.payment_intent),
        amountRefunded: numberOrNull(object.amount_refunded) ?? 0,
        currency: upperOrNull(object.currency) ?? '',
      };
    default:
      return { id: event.id, type: 'other', created: event.created, stripeType: event.type };
  }
}

/** Whether a thrown value is Stripe (or the way to it) failing, rather than Stripe refusing what we asked. */
function isProviderFailure(err: unknown): boolean {
  if (err instanceof Stripe.errors.StripeConnectionError) return true;
  if (err instanceof Stripe.errors.StripeAPIError) return true;
  if (err instanceof Stripe.errors.StripeRateLimitError) return true;
  return err instanceof Stripe.errors.StripeError && (err.statusCode ?? 0) >= 500;
}

/**
 * Anything else Stripe answers is a fault on our side (a wrong key, a parameter Stripe refuses): a plain error, so it
 * is logged and answered 500, and Stripe's own 400/401 status never reaches our client as if it were theirs.
 */
function providerRefused(action: string, err: StripeError): Error {
  return new Error(`Stripe refused to ${action}: ${stripeReason(err)}${err.requestId ? ` (request ${err.requestId})` : ''}`, { cause: err });
}

/** Stripe's message without the "[req_…] " the SDK puts before it. */
const stripeReason = (err: StripeError) => err.message.replace(/^\[req_[^\]]*\]\s*/, '');

/** The app's Stripe gateway: Checkout for held places, expiry when our hold ends first, refunds, webhook events. */
export function createStripeGateway(settings: StripeSettings, clock: Clock): StripeGateway {
  const stripe = new Stripe(settings.secretKey, {
    apiVersion: STRIPE_API_VERSION,
    host: settings.host,
    port: settings.port,
    protocol: settings.protocol,
    // Every call is keyed (ours or the SDK's own), so a retry after a dropped connection is one object at Stripe.
    maxNetworkRetries: 2,
    timeout: settings.timeoutMs ?? 20_000,
    appInfo: { name: 'cohort-course' },
  });

  /**
   * Run one API call. Stripe being unreachable or failing becomes the one coded error routes answer 503 with; a
   * refusal goes to `refused` when the caller expects one, and is otherwise our fault (see providerRefused).
   */
  async function call<T>(action: string, fn: () => Promise<T>, refused?: (err: StripeError) => T): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (isProviderFailure(err)) {
        throw new PaymentProviderUnavailable('Card payments cannot be reached just now. Nothing was changed; try again in a minute.', { cause: err });
      }
      if (err instanceof Stripe.errors.StripeError) {
        if (refused) return refused(err);
        throw providerRefused(action, err);
      }
      throw err;
    }
  }

  return {
    async createCheckout(request: CheckoutRequest) {
      const orderId = String(request.orderId);
      const expiresAt = checkoutExpiresAt(request.holdExpiresAt, clock.now());
      const session = await call('create a Checkout Session', () =>
        stripe.checkout.sessions.create(
          {
            mode: 'payment',
            line_items: [
              {
                price_data: { currency: request.currency.toLowerCase(), unit_amount: request.unitMinor, product_data: { name: request.description } },
                quantity: request.quantity,
              },
            ],
            customer_email: request.customerEmail,
            client_reference_id: orderId,
            metadata: { orderId },
            payment_intent_data: { metadata: { orderId } },
            success_url: request.successUrl,
            cancel_url: request.cancelUrl,
            expires_at: Math.ceil(expiresAt.getTime() / 1000),
          },
          { idempotencyKey: request.idempotencyKey },
        ),
      );
      if (!session.url) throw new Error(`Stripe made Checkout Session ${session.id} without a url.`);
      return { sessionId: session.id, url: session.url };
    },

    async expireCheckout(sessionId: string) {
      await call(
        'expire a Checkout Session',
        async () => {
          await stripe.checkout.sessions.expire(sessionId);
        },
        (err) => {
          // Stripe answers 400 for a session that is no longer open (paid, or already expired): nothing left to do.
          if (err instanceof Stripe.errors.StripeInvalidRequestError && err.statusCode === 400) return;
          throw providerRefused('expire a Checkout Session', err);
        },
      );
    },

    async refund(paymentIntent: string, amountMinor: number, idempotencyKey: string) {
      const refund = await call(
        'refund a payment',
        () => stripe.refunds.create({ payment_intent: paymentIntent, amount: amountMinor }, { idempotencyKey }),
        (err) => {
          // More than is left to refund, or a payment refunded in full already: a rule, told to the admin in Stripe's words.
          if (err instanceof Stripe.errors.StripeInvalidRequestError && err.statusCode === 400) throw new DomainRule(`Stripe refused the refund: ${stripeReason(err)}`);
          throw providerRefused('refund a payment', err);
        },
      );
      return { refundId: refund.id };
    },

    parseEvent(rawBody: Buffer, signature: string | undefined) {
      if (!signature) throw new BadInput('The Stripe-Signature header is missing.');
      let event: unknown;
      try {
        // receivedAt from our clock, so the 5-minute tolerance is measured on the app's time like everything else.
        event = stripe.webhooks.constructEvent(rawBody, signature, settings.webhookSecret, undefined, undefined, clock.now().getTime());
      } catch (err) {
        // Never echo the SDK's message: it quotes the payload and the header.
        if (err instanceof Stripe.errors.StripeSignatureVerificationError) {
          const tooOld = /tolerance/i.test(err.message);
          throw new BadInput(tooOld ? 'The webhook signature is too old; Stripe signs each delivery afresh.' : 'The webhook signature does not verify.');
        }
        throw new BadInput('The webhook body is not a Stripe event.');
      }
      if (!isEventShape(event)) throw new BadInput('The webhook body is not a Stripe event.');
      return toPaymentEvent(event);
    },
  };
}

function isEventShape(value: unknown): value is { id: string; type: string; created: number; data: { object: object } } {
  if (!value || typeof value !== 'object') return false;
  const e = value as Record<string, unknown>;
  const data = e.data as Record<string, unknown> | undefined;
  return (
    e.object === 'event' &&
    typeof e.id === 'string' &&
    typeof e.type === 'string' &&
    typeof e.created === 'number' &&
    !!data &&
    typeof data === 'object' &&
    !!data.object &&
    typeof data.object === 'object' &&
    (!e.type.startsWith('checkout.session.') || typeof (data.object as { id?: unknown }).id === 'string')
  );
}
