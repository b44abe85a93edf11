// A local stand-in for the part of Stripe's API the app uses (Checkout Sessions, refunds, signed webhooks), so tests run offline.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import { systemClock } from '../../server/clock.js';
import type { StripeSettings } from '../../modules/payments/model.js';

export interface StripeServerOptions {
  webhookSecret: string;
  /** Where deliver() and the hosted page's "Pay" post events (settable later: the app's port may come second). */
  webhookUrl?: string;
  /** The key API calls must bear; default `sk_test_stand_in`. */
  secretKey?: string;
  /** The stand-in's "now", for expiry windows, `created` and signature timestamps: pass the test's ManualClock. */
  now?: () => Date;
}

/** A form body parsed the way Stripe reads it: `a[b][0][c]=x` → { a: { b: [{ c: 'x' }] } }. */
export type FormValue = string | FormValue[] | { [key: string]: FormValue };
export type FormObject = { [key: string]: FormValue };

/** The fields of a `checkout.session` object that the stand-in keeps (Stripe sends more). */
export interface CheckoutSessionObject {
  id: string;
  object: 'checkout.session';
  amount_subtotal: number;
  amount_total: number;
  cancel_url: string | null;
  client_reference_id: string | null;
  created: number;
  currency: string;
  customer_email: string | null;
  expires_at: number;
  livemode: false;
  metadata: Record<string, string>;
  mode: 'payment';
  payment_intent: string | null;
  payment_status: 'unpaid' | 'paid';
  status: 'open' | 'complete' | 'expired';
  success_url: string;
  /** Null once the session is no longer open, as Stripe does. */
  url: string | null;
}

export interface RefundObject {
  id: string;
  object: 'refund';
  amount: number;
  charge: string;
  created: number;
  currency: string;
  metadata: Record<string, string>;
  payment_intent: string;
  reason: string | null;
  status: 'succeeded';
}

/** A Stripe Event as webhooks carry it. */
export interface StripeEvent {
  id: string;
  object: 'event';
  api_version: string;
  created: number;
  data: { object: Record<string, unknown> };
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
}

/** A created session, with the request as Stripe received it (for assertions on what the app sent). */
export interface StandInSession {
  session: CheckoutSessionObject;
  params: FormObject;
  idempotencyKey: string | null;
}

export interface StripeServer {
  /** Settings that point the app's gateway at this stand-in. */
  settings: StripeSettings;
  /** http://127.0.0.1:port */
  url: string;
  webhookUrl: string | undefined;
  /** Every session created, oldest first (lapsed ones shown expired). */
  sessions(): StandInSession[];
  session(id: string): CheckoutSessionObject;
  refunds(): RefundObject[];
  /** The buyer pays: the session is complete and paid with a new payment intent; returns checkout.session.completed. */
  pay(sessionId: string): StripeEvent;
  /** The session lapses (as Stripe does at expires_at); returns checkout.session.expired. */
  expireEvent(sessionId: string): StripeEvent;
  /** Every event Stripe would have sent, oldest first. */
  events(): StripeEvent[];
  lastEvent(type?: string): StripeEvent | undefined;
  /** The body and headers of a webhook delivery, signed with the SDK's own test signer (timestamp: seconds, default now). */
  signed(event: StripeEvent, opts?: { timestamp?: number; secret?: string }): { payload: string; headers: Record<string, string> };
  /** POST the event, signed, to webhookUrl over real HTTP; the status the app answered. */
  deliver(event: StripeEvent, opts?: { timestamp?: number; secret?: string }): Promise<number>;
  /** What deliver() (and the hosted page) sent and the app answered. */
  deliveries(): Array<{ eventId: string; type: string; status: number }>;
  /** Every API call received: method, path, Idempotency-Key and the status answered. */
  requests(): Array<{ method: string; path: string; idempotencyKey: string | null; status: number }>;
  /** true: API calls answer 503 until told otherwise; a number: the next that many calls do. */
  setDown(down: boolean | number): void;
  close(): Promise<void>;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: { type: string; message: string; code?: string; param?: string },
  ) {
    super(body.message);
  }
}

const invalid = (message: string, param?: string, code?: string) => new ApiError(400, { type: 'invalid_request_error', message, ...(param ? { param } : {}), ...(code ? { code } : {}) });
const missing = (param: string) => invalid(`Missing required param: ${param}.`, param, 'parameter_missing');

/** Parse a form body with bracketed keys into nested objects and arrays, as Stripe does. */
export function parseStripeForm(body: string): FormObject {
  const root: FormObject = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const path = key.replace(/\]/g, '').split('[');
    let node: { [k: string]: FormValue } = root;
    for (let i = 0; i < path.length - 1; i++) {
      const next = node[path[i]];
      if (next === undefined || typeof next === 'string') node[path[i]] = {};
      node = node[path[i]] as { [k: string]: FormValue };
    }
    node[path[path.length - 1]] = value;
  }
  return arraysFromIndexes(root) as FormObject;
}

/** Objects whose keys are exactly 0..n-1 were arrays (`line_items[0]…`). */
function arraysFromIndexes(value: FormValue): FormValue {
  if (typeof value === 'string' || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  const converted: { [k: string]: FormValue } = {};
  for (const k of keys) converted[k] = arraysFromIndexes(value[k]);
  if (keys.length > 0 && keys.every((k, i) => k === String(i))) return keys.map((k) => converted[k]);
  return converted;
}

const isObject = (v: FormValue | undefined): v is { [key: string]: FormValue } => !!v && typeof v === 'object' && !Array.isArray(v);

function onlyKeys(obj: { [key: string]: FormValue }, allowed: string[], prefix = ''): void {
  for (const k of Object.keys(obj)) if (!allowed.includes(k)) throw invalid(`Received unknown parameter: ${prefix}${k}`, `${prefix}${k}`, 'parameter_unknown');
}

function integer(v: FormValue | undefined, param: string, min: number): number {
  if (typeof v !== 'string' || !/^-?\d+$/.test(v)) throw invalid(`Invalid integer: ${typeof v === 'string' ? v : 'object'}`, param);
  const n = Number(v);
  if (n < min) throw invalid(`This value must be greater than or equal to ${min}.`, param);
  return n;
}

function metadataOf(v: FormValue | undefined, param: string): Record<string, string> {
  if (v === undefined || v === '') return {};
  if (!isObject(v)) throw invalid('Invalid object', param);
  const out: Record<string, string> = {};
  const keys = Object.keys(v);
  if (keys.length > 50) throw invalid('Metadata can have at most 50 keys.', param);
  for (const k of keys) {
    const value = v[k];
    if (typeof value !== 'string') throw invalid(`Invalid value for ${param}[${k}]: metadata values must be strings.`, `${param}[${k}]`);
    if (k.length > 40) throw invalid(`Metadata keys can be at most 40 characters (${k}).`, `${param}[${k}]`);
    if (value.length > 500) throw invalid(`Metadata values can be at most 500 characters (${k}).`, `${param}[${k}]`);
    out[k] = value;
  }
  return out;
}

function urlParam(v: FormValue | undefined, param: string): string {
  if (typeof v !== 'string' || v === '') throw missing(param);
  try {
    const u = new URL(v);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
  } catch {
    throw invalid(`Not a valid URL`, param, 'url_invalid');
  }
  return v;
}

/** Stripe's minimum charge per currency, in minor units (others: 50). */
const MINIMUM_CHARGE: Record<string, number> = { gbp: 30, usd: 50, eur: 50, cad: 50, aud: 50 };

const money = (minor: number, currency: string) => `${currency.toUpperCase()} ${(minor / 100).toFixed(2)}`;
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const newId = (prefix: string) => `${prefix}${randomBytes(12).toString('hex')}`;

interface SessionState extends StandInSession {
  lineItems: Array<{ name: string; quantity: number; unitAmount: number }>;
}
interface PaymentState {
  paymentIntent: string;
  charge: string;
  sessionId: string;
  amount: number;
  currency: string;
  refunded: number;
  created: number;
}

/** Start the stand-in on 127.0.0.1 on a free port. */
export async function startStripeServer(options: StripeServerOptions): Promise<StripeServer> {
  const secretKey = options.secretKey ?? 'sk_test_stand_in';
  const now = options.now ?? (() => systemClock.now());
  const seconds = () => Math.floor(now().getTime() / 1000);
  const sessions = new Map<string, SessionState>();
  const payments = new Map<string, PaymentState>();
  const refunds: RefundObject[] = [];
  const events: StripeEvent[] = [];
  const deliveries: Array<{ eventId: string; type: string; status: number }> = [];
  const requests: Array<{ method: string; path: string; idempotencyKey: string | null; status: number }> = [];
  const idempotent = new Map<string, { method: string; path: string; body: string; status: number; response: string }>();
  let down: boolean | number = false;

  function event(type: string, object: object, request: { idempotencyKey?: string | null } = {}): StripeEvent {
    const e: StripeEvent = {
      id: newId('evt_'),
      object: 'event',
      api_version: Stripe.API_VERSION,
      created: seconds(),
      data: { object: structuredClone(object) as Record<string, unknown> },
      livemode: false,
      pending_webhooks: 1,
      request: { id: request.idempotencyKey ? newId('req_') : null, idempotency_key: request.idempotencyKey ?? null },
      type,
    };
    events.push(e);
    return e;
  }

  /** Sessions lapse when the stand-in's clock passes expires_at, as Stripe's do (checked whenever one is looked at). */
  function settle(state: SessionState): SessionState {
    const s = state.session;
    if (s.status === 'open' && seconds() >= s.expires_at) expire(state);
    return state;
  }
  function expire(state: SessionState): StripeEvent {
    state.session.status = 'expired';
    state.session.url = null;
    return event('checkout.session.expired', state.session);
  }
  function found(id: string): SessionState {
    const state = sessions.get(id);
    if (!state) throw new ApiError(404, { type: 'invalid_request_error', code: 'resource_missing', param: 'session', message: `No such checkout.session: '${id}'` });
    return settle(state);
  }

  function createSession(params: FormObject, idempotencyKey: string | null): CheckoutSessionObject {
    onlyKeys(params, ['mode', 'line_items', 'success_url', 'cancel_url', 'customer_email', 'client_reference_id', 'metadata', 'payment_intent_data', 'expires_at', 'expand']);
    if (params.mode === undefined) throw missing('mode');
    if (params.mode !== 'payment') throw invalid(`The stand-in only makes sessions in payment mode, not ${String(params.mode)}.`, 'mode');
    const successUrl = urlParam(params.success_url, 'success_url');
    const cancelUrl = params.cancel_url === undefined ? null : urlParam(params.cancel_url, 'cancel_url');
    const items = params.line_items;
    if (!Array.isArray(items) || items.length === 0) throw missing('line_items');
    let currency: string | null = null;
    const lineItems = items.map((item, i) => {
      const p = `line_items[${i}]`;
      if (!isObject(item)) throw invalid('Invalid object', p);
      onlyKeys(item, ['price_data', 'quantity'], `${p}[`);
      const quantity = integer(item.quantity, `${p}[quantity]`, 1);
      const pd = item.price_data;
      if (!isObject(pd)) throw invalid(`You must specify either \`price\` or \`price_data\` in ${p}.`, `${p}[price_data]`);
      onlyKeys(pd, ['currency', 'unit_amount', 'product_data'], `${p}[price_data][`);
      // Stripe's own currency codes are lower-case; the stand-in insists, so an upper-case code is caught here.
      if (typeof pd.currency !== 'string' || !/^[a-z]{3}$/.test(pd.currency)) throw invalid(`Invalid currency: ${String(pd.currency)}`, `${p}[price_data][currency]`);
      if (currency && pd.currency !== currency) throw invalid('All line items must use the same currency.', `${p}[price_data][currency]`);
      currency = pd.currency;
      const unitAmount = integer(pd.unit_amount, `${p}[price_data][unit_amount]`, 0);
      const product = pd.product_data;
      if (!isObject(product) || typeof product.name !== 'string' || product.name === '') throw missing(`${p}[price_data][product_data][name]`);
      return { name: product.name, quantity, unitAmount };
    });
    const total = lineItems.reduce((sum, li) => sum + li.unitAmount * li.quantity, 0);
    const minimum = MINIMUM_CHARGE[currency!] ?? 50;
    if (total < minimum) throw invalid(`The Checkout Session's total amount due must add up to at least ${money(minimum, currency!)}.`, 'line_items');
    let customerEmail: string | null = null;
    if (params.customer_email !== undefined) {
      if (typeof params.customer_email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(params.customer_email)) throw invalid(`Invalid email address: ${String(params.customer_email)}`, 'customer_email', 'email_invalid');
      customerEmail = params.customer_email;
    }
    let clientReferenceId: string | null = null;
    if (params.client_reference_id !== undefined) {
      if (typeof params.client_reference_id !== 'string' || params.client_reference_id.length > 200) throw invalid('client_reference_id must be a string of at most 200 characters.', 'client_reference_id');
      clientReferenceId = params.client_reference_id;
    }
    const metadata = metadataOf(params.metadata, 'metadata');
    if (params.payment_intent_data !== undefined) {
      if (!isObject(params.payment_intent_data)) throw invalid('Invalid object', 'payment_intent_data');
      onlyKeys(params.payment_intent_data, ['metadata', 'description'], 'payment_intent_data[');
      metadataOf(params.payment_intent_data.metadata, 'payment_intent_data[metadata]');
    }
    const created = seconds();
    let expiresAt = created + 24 * 3600;
    if (params.expires_at !== undefined) {
      expiresAt = integer(params.expires_at, 'expires_at', 0);
      if (expiresAt < created + 30 * 60) throw invalid('The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.', 'expires_at');
      if (expiresAt > created + 24 * 3600) throw invalid('The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.', 'expires_at');
    }
    const id = newId('cs_test_');
    const session: CheckoutSessionObject = {
      id,
      object: 'checkout.session',
      amount_subtotal: total,
      amount_total: total,
      cancel_url: cancelUrl,
      client_reference_id: clientReferenceId,
      created,
      currency: currency!,
      customer_email: customerEmail,
      expires_at: expiresAt,
      livemode: false,
      metadata,
      mode: 'payment',
      payment_intent: null,
      payment_status: 'unpaid',
      status: 'open',
      success_url: successUrl,
      url: `${base}/pay/${id}`,
    };
    sessions.set(id, { session, params, idempotencyKey, lineItems });
    return session;
  }

  function createRefund(params: FormObject, idempotencyKey: string | null): RefundObject {
    onlyKeys(params, ['payment_intent', 'amount', 'reason', 'metadata', 'expand']);
    if (typeof params.payment_intent !== 'string' || params.payment_intent === '') throw missing('payment_intent');
    const payment = payments.get(params.payment_intent);
    if (!payment) throw invalid(`No such payment_intent: '${params.payment_intent}'`, 'payment_intent', 'resource_missing');
    const left = payment.amount - payment.refunded;
    if (left === 0) throw invalid(`Charge ${payment.charge} has already been refunded.`, undefined, 'charge_already_refunded');
    const amount = params.amount === undefined ? left : integer(params.amount, 'amount', 1);
    if (amount > left) {
      throw invalid(`Refund amount (${money(amount, payment.currency)}) is greater than unrefunded amount on charge (${money(left, payment.currency)})`, 'amount', 'amount_too_large');
    }
    const reason = typeof params.reason === 'string' ? params.reason : null;
    if (reason && !['duplicate', 'fraudulent', 'requested_by_customer'].includes(reason)) throw invalid(`Invalid reason: ${reason}`, 'reason');
    payment.refunded += amount;
    const refund: RefundObject = {
      id: newId('re_test_'),
      object: 'refund',
      amount,
      charge: payment.charge,
      created: seconds(),
      currency: payment.currency,
      metadata: metadataOf(params.metadata, 'metadata'),
      payment_intent: payment.paymentIntent,
      reason,
      status: 'succeeded',
    };
    refunds.push(refund);
    event('charge.refunded', chargeOf(payment), { idempotencyKey });
    return refund;
  }

  function chargeOf(p: PaymentState): Record<string, unknown> {
    return {
      id: p.charge,
      object: 'charge',
      amount: p.amount,
      amount_captured: p.amount,
      amount_refunded: p.refunded,
      captured: true,
      created: p.created,
      currency: p.currency,
      livemode: false,
      paid: true,
      payment_intent: p.paymentIntent,
      refunded: p.refunded === p.amount,
      status: 'succeeded',
    };
  }

  function route(method: string, path: string, params: FormObject, idempotencyKey: string | null): { status: number; body: object } {
    let m: RegExpMatchArray | null;
    if (method === 'POST' && path === '/v1/checkout/sessions') return { status: 200, body: createSession(params, idempotencyKey) };
    if (method === 'GET' && (m = path.match(/^\/v1\/checkout\/sessions\/([^/]+)$/))) return { status: 200, body: found(decodeURIComponent(m[1])).session };
    if (method === 'POST' && (m = path.match(/^\/v1\/checkout\/sessions\/([^/]+)\/expire$/))) {
      const state = found(decodeURIComponent(m[1]));
      if (state.session.status !== 'open') {
        throw invalid(`Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of "${state.session.status}".`);
      }
      expire(state);
      return { status: 200, body: state.session };
    }
    if (method === 'POST' && path === '/v1/refunds') return { status: 200, body: createRefund(params, idempotencyKey) };
    throw new ApiError(404, { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${path}).` });
  }

  function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', 'request-id': newId('req_'), ...headers });
    res.end(body);
  }

  function api(req: IncomingMessage, res: ServerResponse, path: string, body: string): void {
    const method = req.method ?? 'GET';
    const key = typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : null;
    const answer = (status: number, json: string, headers?: Record<string, string>) => {
      requests.push({ method, path, idempotencyKey: key, status });
      send(res, status, json, headers);
    };
    if (down) {
      if (typeof down === 'number') down = down > 1 ? down - 1 : false;
      return answer(503, JSON.stringify({ error: { type: 'api_error', message: 'The stand-in for Stripe was told to be down.' } }));
    }
    const auth = req.headers.authorization ?? '';
    if (auth !== `Bearer ${secretKey}`) {
      const given = auth.replace(/^Bearer /, '');
      const message = given ? `Invalid API Key provided: ${given.slice(0, 8)}****${given.slice(-4)}` : "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').";
      return answer(401, JSON.stringify({ error: { type: 'invalid_request_error', message } }));
    }
    if (method === 'POST' && key) {
      const seen = idempotent.get(key);
      if (seen) {
        if (seen.method !== method || seen.path !== path || seen.body !== body) {
          return answer(400, JSON.stringify({ error: { type: 'idempotency_error', message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.` } }));
        }
        return answer(seen.status, seen.response, { 'idempotent-replayed': 'true', 'idempotency-key': key });
      }
    }
    try {
      const { status, body: out } = route(method, path, parseStripeForm(body), key);
      const json = JSON.stringify(out);
      // Stripe saves the result of a request that ran; one refused at validation is not saved and may be retried.
      if (method === 'POST' && key) idempotent.set(key, { method, path, body, status, response: json });
      answer(status, json, key ? { 'idempotency-key': key } : {});
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      answer(err.status, JSON.stringify({ error: err.body }));
    }
  }

  /** The hosted checkout page a browser test clicks through. */
  async function page(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const state = sessions.get(id);
    const html = (status: number, title: string, inner: string) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title></head><body><main><h1>${esc(title)}</h1>${inner}</main></body></html>\n`);
    };
    if (!state) return html(404, 'Checkout not found', '<p>There is no checkout session at this address.</p>');
    const s = settle(state).session;
    if (s.status !== 'open') return html(410, 'This checkout has ended', `<p>This checkout session is ${esc(s.status)}.</p>`);
    if (req.method === 'POST') {
      const completed = stand.pay(id);
      if (stand.webhookUrl) await stand.deliver(completed);
      res.writeHead(303, { location: s.success_url.replace('{CHECKOUT_SESSION_ID}', id) });
      return void res.end();
    }
    const rows = state.lineItems.map((li) => `<li>${esc(li.name)} × ${li.quantity}: ${esc(money(li.unitAmount * li.quantity, s.currency))}</li>`).join('');
    const cancel = s.cancel_url ? ` <a href="${esc(s.cancel_url)}">Cancel</a>` : '';
    html(
      200,
      'Pay with card (test)',
      `<ul>${rows}</ul><p>Total: <strong>${esc(money(s.amount_total, s.currency))}</strong></p>${s.customer_email ? `<p>${esc(s.customer_email)}</p>` : ''}` +
        `<form method="post" action="/pay/${esc(id)}"><button type="submit">Pay</button></form>${cancel}`,
    );
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = new URL(req.url ?? '/', 'http://stand-in').pathname;
      const paying = path.match(/^\/pay\/([^/]+)$/);
      Promise.resolve()
        .then(() => (paying ? page(req, res, decodeURIComponent(paying[1])) : path.startsWith('/v1/') ? api(req, res, path, body) : send(res, 404, '{"error":{"type":"invalid_request_error","message":"Not found."}}')))
        .catch((err: unknown) => {
          if (!res.headersSent) send(res, 500, JSON.stringify({ error: { type: 'api_error', message: `The stand-in failed: ${String(err)}` } }));
          else res.end();
        });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;

  const stand: StripeServer = {
    settings: { secretKey, webhookSecret: options.webhookSecret, host: '127.0.0.1', port, protocol: 'http' },
    url: base,
    webhookUrl: options.webhookUrl,
    sessions: () => [...sessions.values()].map((s) => settle(s)).map(({ session, params, idempotencyKey }) => ({ session, params, idempotencyKey })),
    session: (id) => found(id).session,
    refunds: () => [...refunds],
    pay(sessionId) {
      const state = found(sessionId);
      const s = state.session;
      if (s.status !== 'open') throw new Error(`Checkout Session ${sessionId} is ${s.status}; only an open one can be paid.`);
      const payment: PaymentState = { paymentIntent: newId('pi_test_'), charge: newId('ch_test_'), sessionId, amount: s.amount_total, currency: s.currency, refunded: 0, created: seconds() };
      payments.set(payment.paymentIntent, payment);
      Object.assign(s, { status: 'complete', payment_status: 'paid', payment_intent: payment.paymentIntent, url: null });
      return event('checkout.session.completed', s);
    },
    expireEvent(sessionId) {
      const state = found(sessionId);
      if (state.session.status === 'expired') {
        const earlier = events.find((e) => e.type === 'checkout.session.expired' && e.data.object.id === sessionId);
        if (earlier) return earlier;
      }
      if (state.session.status !== 'open') throw new Error(`Checkout Session ${sessionId} is ${state.session.status}; only an open one can lapse.`);
      return expire(state);
    },
    events: () => {
      for (const s of sessions.values()) settle(s);
      return [...events];
    },
    lastEvent: (type) => stand.events().filter((e) => !type || e.type === type).at(-1),
    signed(e, opts = {}) {
      const payload = JSON.stringify(e, null, 2);
      const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: opts.secret ?? options.webhookSecret, timestamp: opts.timestamp ?? seconds() });
      return { payload, headers: { 'stripe-signature': header, 'content-type': 'application/json' } };
    },
    async deliver(e, opts) {
      if (!stand.webhookUrl) throw new Error('The Stripe stand-in has no webhookUrl to deliver to.');
      const { payload, headers } = stand.signed(e, opts);
      const res = await fetch(stand.webhookUrl, { method: 'POST', body: payload, headers: { ...headers, 'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)' } });
      await res.arrayBuffer();
      deliveries.push({ eventId: e.id, type: e.type, status: res.status });
      return res.status;
    },
    deliveries: () => [...deliveries],
    requests: () => [...requests],
    setDown(d) {
      down = d === 0 ? false : d;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // The SDK keeps connections alive; close them so close() does not wait for their idle timeout.
        server.closeAllConnections();
      }),
  };
  return stand;
}
