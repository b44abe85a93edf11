// The cohort-course plugin a host app mounts under any prefix, and buildApp() for the standalone server and tests.
import { createHmac } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyServerOptions } from 'fastify';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import staticFiles from '@fastify/static';
import swagger from '@fastify/swagger';
import type { Transporter } from 'nodemailer';
import { systemClock, type Clock } from './clock.js';
import type { AppContext } from './context.js';
import { openDatabase, type AppDatabase, type Durability } from './db.js';
import { createMailer, createEmlTransport, pendingMailCount } from './mailer.js';
import { createScheduler } from './scheduler.js';
import { createPanels } from './panels.js';
import { createEvents } from './events.js';
import { defaultContentDir, publicDir } from './paths.js';
import views from './plugins/views.js';
import auth, { csrfBinding } from './plugins/auth.js';
import errors, { frameworkErrors } from './plugins/errors.js';
import validation from './plugins/validation.js';
import securityHeaders from './plugins/security-headers.js';
import people from '../modules/people/index.js';
import courses from '../modules/courses/index.js';
import cohorts from '../modules/cohorts/index.js';
import bookings from '../modules/bookings/index.js';
import sessions from '../modules/sessions/index.js';
import assignments from '../modules/assignments/index.js';
import discussions from '../modules/discussions/index.js';
import certificates from '../modules/certificates/index.js';
import payments from '../modules/payments/index.js';
import lti from '../modules/lti/index.js';
import { DEFAULT_SELLER, type PaymentSettings } from '../modules/payments/model.js';

export interface CohortCourseOptions {
  /**
   * An open, migrated database (see openDatabase), or where to open one: a SQLite file path or a postgres:// URL
   * (opened, migrated and closed with the plugin).
   */
  database: AppDatabase | string;
  /** Nodemailer transport used by the outbox worker (SMTP, or createEmlTransport(dir)). */
  mailTransport: Transporter;
  mailFrom?: string;
  /** The source of "now"; tests pass a ManualClock. */
  clock?: Clock;
  /** The absolute URL where this plugin's root is reachable, prefix included (used in emails, calendars, certificates). */
  baseUrl: string;
  /** Folder of course content (default: the bundled content/). */
  contentDir?: string;
  /** Signs cookies (≥ 32 characters). */
  sessionSecret: string;
  /** Start the outbox worker and scheduler timers (default true). Tests drive them by hand. */
  workers?: boolean;
  /** Cache compiled templates (default true; false re-reads templates on each request, for template work). */
  cacheTemplates?: boolean;
  /** Seller details, Stripe and the checkout hold (default: invoices only, DEFAULT_SELLER, 30 minutes). */
  payments?: Partial<PaymentSettings>;
  /** Receives the application context once the plugin has booted (services, clock, database). */
  expose?: (ctx: AppContext) => void;
}

declare module 'fastify' {
  interface FastifyInstance {
    cc: AppContext;
  }
}

/** The modules in registration order: each may use the services of those before it. */
const MODULES = [people, courses, cohorts, sessions, bookings, payments, assignments, discussions, certificates, lti];

/** The plugin. Not wrapped in fastify-plugin on purpose: a host's `prefix` must apply and our hooks stay inside. */
/**
 * Upload routes read their multipart body as a stream (no body schema, so nothing validates it twice): describe it in
 * the OpenAPI document only, as the one part named `file` that every such route reads.
 */
function documentMultipart<S extends { consumes?: readonly string[]; body?: unknown } | undefined>(schema: S): S {
  if (!schema?.consumes?.includes('multipart/form-data') || schema.body) return schema;
  return {
    ...schema,
    body: {
      type: 'object',
      required: ['file'],
      properties: { file: { type: 'string', format: 'binary', description: 'The file, with its name (the extension is checked with the content).' } },
    },
  };
}

export const cohortCourse: FastifyPluginAsync<CohortCourseOptions> = async (fastify, opts) => {
  const prefix = fastify.prefix;
  const clock = opts.clock ?? systemClock;
  const baseUrl = opts.baseUrl.replace(/\/+$/, '');
  const secure = baseUrl.startsWith('https://');
  const database = typeof opts.database === 'string' ? await openDatabase(opts.database) : opts.database;
  if (typeof opts.database === 'string') fastify.addHook('onClose', async () => database.close());
  const scheduler = createScheduler({ clock, log: fastify.log, database });
  const ctx = {
    database,
    db: database.db,
    clock,
    baseUrl,
    prefix,
    log: fastify.log,
    scheduler,
    panels: createPanels(),
    events: createEvents(),
    mailer: createMailer({
      database,
      clock,
      transport: opts.mailTransport,
      from: opts.mailFrom ?? 'Cohort Course <no-reply@cohort-course.local>',
      baseUrl,
      log: fastify.log,
    }),
    contentDir: opts.contentDir ?? defaultContentDir,
    paymentSettings: { seller: DEFAULT_SELLER, stripe: null, holdMinutes: 30, ...opts.payments },
  } as AppContext;
  fastify.decorate('cc', ctx);

  await fastify.register(validation);
  await fastify.register(cookie, { secret: opts.sessionSecret });
  await fastify.register(csrf, {
    sessionPlugin: '@fastify/cookie',
    cookieKey: 'cc_csrf',
    cookieOpts: { path: prefix || '/', httpOnly: true, sameSite: 'lax', secure, signed: true },
    // Tokens are bound to the browser session (csrfBinding), keyed by the session secret: a token and `cc_csrf`
    // cookie that someone else fetched, planted in a victim's browser, do not fit the victim's session.
    csrfOpts: { userInfo: true, hmacKey: createHmac('sha256', opts.sessionSecret).update('cohort-course csrf tokens').digest() },
    getUserInfo: csrfBinding,
    // Multipart forms (uploads) are read by their route after this check, so their token rides in the query string.
    getToken: (req) =>
      (req.body as Record<string, string> | undefined)?._csrf ??
      (String(req.headers['content-type'] ?? '').startsWith('multipart/form-data') ? (req.query as Record<string, string> | undefined)?._csrf : undefined),
  });
  await fastify.register(formbody, { bodyLimit: 256 * 1024 });
  // JSON and forms only: a text/plain body is how cross-site forms smuggle requests.
  fastify.removeContentTypeParser('text/plain');
  await fastify.register(securityHeaders, {
    // Over plain http (local installs) upgrade-insecure-requests and HSTS would break forms.
    hsts: secure,
    contentSecurityPolicy: {
      useDefaults: true,
      directives: {
        'upgrade-insecure-requests': secure ? [] : null,
        // A card order's form is answered with a 303 to Stripe Checkout, and Chrome applies form-action to where a
        // form's redirect goes as well: the Checkout origin (the stand-in's, when tests point Stripe elsewhere) is allowed.
        'form-action': ["'self'", ...(opts.payments?.stripe ? [opts.payments.stripe.host ? new URL(`${opts.payments.stripe.protocol ?? 'https'}://${opts.payments.stripe.host}${opts.payments.stripe.port ? `:${opts.payments.stripe.port}` : ''}`).origin : 'https://checkout.stripe.com'] : [])],
        'img-src': ["'self'", 'data:'],
        'script-src': ["'self'"],
        // Pages use the one stylesheet only: no inline styles, no other origins.
        'style-src': ["'self'"],
      },
    },
    crossOriginEmbedderPolicy: false,
    // Our pages send their Referer to this origin only, as helmet's `no-referrer` default sent it nowhere. Under
    // `no-referrer` a browser sends `Origin: null` even with a form on our own page, and page writes must show this
    // origin (auth.ts); under `same-origin` our own forms carry our Origin and other sites still learn nothing.
    referrerPolicy: { policy: 'same-origin' },
  });
  await fastify.register(staticFiles, { root: publicDir, prefix: '/assets/', decorateReply: false, maxAge: '1h' });
  await fastify.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'cohort-course API',
        version: '1.0.0',
        description: 'Courses, cohorts, bookings, live sessions, submissions, discussions and certificates. Errors are application/problem+json.',
      },
      servers: [{ url: baseUrl }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An API token from `npm run cli -- token create` or POST /api/v1/tokens' },
          session: { type: 'apiKey', in: 'cookie', name: 'cc_session' },
        },
      },
      security: [{ bearer: [] }, { session: [] }],
    },
    // Only the JSON API belongs in the document; pages are for people.
    transform: ({ schema, url }) => ({
      schema: (url.includes('/api/') ? documentMultipart(schema) : { ...(schema ?? {}), hide: true }) as never,
      url: prefix && url.startsWith(prefix) ? url.slice(prefix.length) || '/' : url,
    }),
  });
  await fastify.register(views, { production: opts.cacheTemplates !== false, prefix });
  await fastify.register(auth, { prefix, baseUrl, secureCookies: secure });
  await fastify.register(errors, { prefix });

  fastify.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => fastify.swagger());
  // For load balancers: 200 while this instance can reach its database, 503 (with the engine) while it cannot.
  fastify.get('/healthz', { schema: { hide: true } }, async (_request, reply) => {
    try {
      await ctx.database.ping();
      return { status: 'ok', engine: ctx.database.engine, time: clock.now().toISOString(), pendingMail: await pendingMailCount(ctx.db) };
    } catch (err) {
      fastify.log.warn({ err }, 'health check: the database cannot be reached');
      return reply.code(503).header('retry-after', '30').send({ status: 'unavailable', engine: ctx.database.engine, time: clock.now().toISOString() });
    }
  });

  for (const mod of MODULES) await fastify.register(mod);

  fastify.addHook('onReady', async () => {
    opts.expose?.(ctx);
    if (opts.workers !== false) {
      ctx.mailer.start();
      scheduler.start();
    }
  });
  fastify.addHook('onClose', async () => {
    scheduler.stop();
    await ctx.mailer.stop();
  });
};

export interface BuildAppOptions extends Partial<Omit<CohortCourseOptions, 'database' | 'mailTransport'>> {
  /** Open this SQLite file (created and migrated) unless `database` or `databaseUrl` is given. */
  databasePath?: string;
  /** Open this PostgreSQL database (postgres://…; migrated) unless `database` is given. */
  databaseUrl?: string;
  /** SQLite synchronous setting for that file (default: DB_SYNCHRONOUS, else normal). */
  durability?: Durability;
  database?: AppDatabase;
  mailTransport?: Transporter;
  /** Where .eml files go when no transport is given. */
  mailDir?: string;
  logger?: FastifyServerOptions['logger'];
  /** Mount the plugin under this prefix (default: root). */
  prefix?: string;
}

/** A standalone Fastify instance around the plugin (the server entry and every test use it). */
export async function buildApp(options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: 1024 * 1024,
    trustProxy: process.env.TRUST_PROXY === '1',
    // Ids in paths and query strings are small; refuse absurd URLs early.
    routerOptions: { maxParamLength: 200 },
    // Over-long or badly encoded paths are refused before routing; answer them like every other refusal.
    frameworkErrors: frameworkErrors(options.prefix ?? ''),
  });
  const ownsDatabase = !options.database;
  const database =
    options.database ?? (await openDatabase(options.databaseUrl ?? options.databasePath ?? 'data/cohort.db', { durability: options.durability }));
  if (ownsDatabase) app.addHook('onClose', async () => database.close());
  const mailTransport = options.mailTransport ?? createEmlTransport(options.mailDir ?? 'data/mail');
  const ctxHolder: { ctx?: AppContext } = {};
  await app.register(cohortCourse, {
    ...options,
    prefix: options.prefix,
    database,
    mailTransport,
    baseUrl: options.baseUrl ?? 'http://127.0.0.1:3000',
    sessionSecret: options.sessionSecret ?? 'test-secret-test-secret-test-secret-0000',
    expose: (ctx) => {
      ctxHolder.ctx = ctx;
      options.expose?.(ctx);
    },
  } as CohortCourseOptions & { prefix?: string });
  // Expose the context on the root instance for the CLI and tests.
  app.decorate('cc', {
    getter() {
      if (!ctxHolder.ctx) throw new Error('app.cc is available after app.ready()');
      return ctxHolder.ctx;
    },
  });
  await app.ready();
  return app;
}
