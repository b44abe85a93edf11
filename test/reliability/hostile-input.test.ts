// Hostile input, generated with fast-check for EVERY API operation in the OpenAPI document and every form the
// pages render: wrong types, huge and strange strings, missing and extra fields, malformed JSON and multipart,
// absurd ids. Zero 5xx; every refusal a 4xx that explains itself; a refused write leaves every table untouched.
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csrfFrom, type Browser } from '../helpers/http.js';
import { crawl, matchRoute, type FormInfo } from './helpers/crawl.js';
import { WriteGuard, pctEncode } from './helpers/guard.js';
import { ABSURD_IDS, MALFORMED_BODIES, fromSchema, hostileBody, hostileString } from './helpers/hostile.js';
import { seedObjects, type Objects } from './helpers/objects.js';
import { realValues } from './helpers/params.js';
import { INFRASTRUCTURE, isApi, listRoutes, openApiToFastify, routeKey, type RouteInfo } from './helpers/routes.js';
import { createWorld, type MatrixRole, type World } from './helpers/world.js';
import { fuzzSeed } from './helpers/random.js';

const seed = fuzzSeed();
fc.configureGlobal({ seed });

const RUNS = Number(process.env.RELIABILITY_RUNS ?? 40);
const FORM_RUNS = Math.max(10, Math.round(RUNS / 2));

interface Operation {
  method: string;
  /** OpenAPI path, e.g. /api/v1/cohorts/{id} */
  path: string;
  params: Array<{ in: string; name: string; schema: any; required?: boolean }>;
  bodySchema: any | null;
  bodyTypes: string[];
}

let w: World;
let o: Objects;
let ops: Operation[];
let guard: WriteGuard;
const counts = { api: 0, apiRefused: 0, forms: 0, formsRefused: 0, pages: 0 };

beforeAll(async () => {
  w = await createWorld({ now: '2026-03-25T10:00:00.000Z' });
  o = await seedObjects(w);
  // Sign everyone in now: form fuzzing later asks for sign-in links and fills the per-IP limit.
  for (const who of ['admin', 'instructor', 'instructorOther', 'learner', 'learnerOther'] as const) await w.browser(who);
  const doc = (await w.t.app.inject('/api/v1/openapi.json')).json();
  ops = [];
  for (const [path, item] of Object.entries<any>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const content = op.requestBody?.content ?? {};
      ops.push({
        method: method.toUpperCase(),
        path,
        params: op.parameters ?? [],
        bodySchema: content['application/json']?.schema ?? null,
        bodyTypes: Object.keys(content),
      });
    }
  }
  // Besides what the guard ignores anyway: every booking attempt is counted toward the booking limits, refused or not
  // (issue #25), so a refused booking writes its attempt and nothing else.
  guard = await WriteGuard.install(w.t.ctx.database, ['thread_reads', 'booking_attempts']);
}, 120_000);

afterAll(async () => {
  console.log(
    `[hostile] seed ${seed}: ${counts.api} API requests over ${ops?.length} operations (${counts.apiRefused} refused), ${counts.forms} form posts (${counts.formsRefused} refused), ${counts.pages} page requests: no 5xx, every refusal explained, nothing half-written`,
  );
  await w?.close();
});

function authHeader(who: MatrixRole): Record<string, string> {
  const token = w.token(who);
  return token ? { authorization: `Bearer ${token}` } : {};
}

function describeRequest(method: string, url: string, who: string, body: unknown): string {
  const b = typeof body === 'string' ? body : Buffer.isBuffer(body) ? `<${body.length} bytes>` : JSON.stringify(body);
  return `${who} ${method} ${url.slice(0, 200)}${b ? ` body=${String(b).slice(0, 200)}${String(b).length > 200 ? '…' : ''}` : ''}`;
}

/** The API's promises for any answer to any input. */
async function checkApiAnswer(res: LightMyRequestResponse, label: string): Promise<void> {
  counts.api += 1;
  expect(res.statusCode, `${label} → ${res.statusCode} ${res.body.slice(0, 300)}`).toBeLessThan(500);
  if (res.statusCode >= 400) {
    counts.apiRefused += 1;
    expect(String(res.headers['content-type']), label).toContain('application/problem+json');
    const problem = JSON.parse(res.body);
    expect(problem.status, label).toBe(res.statusCode);
    expect(typeof problem.detail === 'string' && problem.detail.trim().length > 0, `${label}: detail`).toBe(true);
    expect(typeof problem.title, label).toBe('string');
    expect(await guard.changed(), `${label} was refused (${res.statusCode}) but wrote`).toEqual([]);
  }
}

/** A URL for an operation from chosen parameter values (raw strings are already percent-encoded). */
function urlFor(op: Operation, params: Record<string, string>, query: Array<[string, string]>): string {
  const path = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => params[name] ?? '1');
  const qs = query.map(([k, v]) => `${pctEncode(k)}=${pctEncode(v)}`).join('&');
  return qs ? `${path}?${qs}` : path;
}

function paramArb(op: Operation): fc.Arbitrary<Record<string, string>> {
  const real = realValues(openApiToFastify(op.path), w, o);
  const pathParams = op.params.filter((p) => p.in === 'path');
  return fc.record(
    Object.fromEntries(
      pathParams.map((p) => [
        p.name,
        fc.oneof(
          { weight: 4, arbitrary: fc.constantFrom(...(real[p.name] ?? [1]).map((v) => pctEncode(String(v)))) },
          { weight: 1, arbitrary: fc.constantFrom(...ABSURD_IDS) },
          { weight: 1, arbitrary: shortString.filter((s) => s.length > 0).map(pctEncode) },
        ),
      ]),
    ),
  );
}

/** Hostile strings short enough for a URL (the long ones are tried in bodies). */
const shortString = hostileString.map((s) => s.slice(0, 2000));

/** Any value as query-string text (objects as JSON; some have no prototype to call toString on). */
const text = (v: unknown): string => (v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v));

function queryArb(op: Operation): fc.Arbitrary<Array<[string, string]>> {
  const queryParams = op.params.filter((p) => p.in === 'query');
  const known = queryParams.map((p) =>
    fc.option(
      fc.oneof(fromSchema(p.schema), shortString).map((v) => (Array.isArray(v) ? v.map((x) => [p.name, text(x)] as [string, string]) : [[p.name, text(v)] as [string, string]])),
      { nil: [] as Array<[string, string]> },
    ),
  );
  const extra = fc.array(fc.tuple(fc.oneof(fc.constantFrom('__proto__', 'constructor', 'page', 'token', 'id'), shortString), shortString), { maxLength: 2 });
  return fc.tuple(fc.tuple(...known), extra).map(([k, e]) => [...k.flat(), ...e]);
}

describe('hostile input to the JSON API', () => {
  it('the OpenAPI document lists every API route the app serves', () => {
    const documented = new Set(ops.map((op) => `${op.method} ${openApiToFastify(op.path)}`));
    const served = listRoutes(w.t.app)
      .filter((r) => isApi(r.path) && !INFRASTRUCTURE.has(routeKey(r)))
      .map(routeKey);
    expect(served.filter((k) => !documented.has(k)), 'API routes missing from OpenAPI (add a schema so they are documented and attacked)').toEqual([]);
    expect(ops.length).toBeGreaterThan(10);
  });

  it('generated requests for every operation: no 5xx, refusals are problem+json with a detail, refused writes write nothing', async () => {
    for (const op of ops) {
      const started = Date.now();
      const body = op.method === 'GET' || op.method === 'DELETE' ? fc.constant(undefined) : op.bodySchema ? hostileBody(op.bodySchema) : fc.option(hostileBody(undefined), { nil: undefined });
      await fc.assert(
        fc.asyncProperty(paramArb(op), queryArb(op), body, fc.constantFrom<MatrixRole>('admin', 'admin', 'instructor', 'learner', 'learnerOther', 'anonymous'), async (params, query, payload, who) => {
          const url = urlFor(op, params, query);
          await guard.before();
          const res = await w.t.app.inject({
            method: op.method as 'GET',
            url,
            payload,
            headers: { ...authHeader(who), ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) },
          });
          await checkApiAnswer(res, `${op.method} ${op.path}: ${describeRequest(op.method, url, who, payload)}`);
        }),
        { numRuns: RUNS, endOnFailure: true },
      );
      if (process.env.RELIABILITY_PROFILE) console.log(`[profile] ${op.method} ${op.path} ${Date.now() - started} ms`);
    }
  });

  it('malformed bodies to every write operation: JSON that is not, wrong media types, broken multipart, too large', async () => {
    for (const op of ops.filter((x) => x.method !== 'GET')) {
      const real = realValues(openApiToFastify(op.path), w, o);
      const params = Object.fromEntries(Object.entries(real).map(([k, v]) => [k, pctEncode(String(v[0]))]));
      for (const bad of MALFORMED_BODIES) {
        for (const who of ['admin', 'learner'] as const) {
          const url = urlFor(op, params, []);
          await guard.before();
          const res = await w.t.app.inject({
            method: op.method as 'POST',
            url,
            payload: bad.body,
            headers: { ...authHeader(who), ...(bad.type ? { 'content-type': bad.type } : {}), ...bad.headers },
          });
          await checkApiAnswer(res, `${op.method} ${op.path} with ${bad.name} as ${who}`);
        }
      }
    }
  });

  it('absurd ids in every path parameter', async () => {
    for (const op of ops.filter((x) => x.params.some((p) => p.in === 'path'))) {
      const real = realValues(openApiToFastify(op.path), w, o);
      for (const p of op.params.filter((x) => x.in === 'path')) {
        for (const absurd of ABSURD_IDS) {
          const params = Object.fromEntries(Object.entries(real).map(([k, v]) => [k, k === p.name ? absurd : pctEncode(String(v[0]))]));
          const url = urlFor(op, params, []);
          await guard.before();
          const res = await w.t.app.inject({ method: op.method as 'GET', url, headers: authHeader('admin'), payload: op.method === 'GET' || op.method === 'DELETE' ? undefined : {} });
          await checkApiAnswer(res, `${op.method} ${url}`);
        }
      }
    }
  });
});

describe('hostile input to every form', () => {
  let forms: Array<FormInfo & { who: MatrixRole; route: RouteInfo | undefined }>;
  let routes: RouteInfo[];
  const browsers = new Map<MatrixRole, Browser>();

  beforeAll(async () => {
    routes = listRoutes(w.t.app);
    forms = [];
    const pageGets = routes.filter((r) => r.method === 'GET' && !isApi(r.path) && !INFRASTRUCTURE.has(routeKey(r)));
    for (const who of ['admin', 'instructor', 'learner', 'learnerOther', 'instructorOther'] as const) {
      const browser = await w.browser(who);
      browsers.set(who, browser);
      // Every page route with real ids, then whatever they link to.
      const starts = pageGets.flatMap((r) => {
        const real = realValues(r.path, w, o);
        const names = Object.keys(real);
        if (names.length === 0) return [r.path];
        return [0, 1].map((i) => r.path.replace(/:([A-Za-z0-9_]+)(\([^)]*\))?/g, (_, n: string) => encodeURIComponent(String(real[n][i] ?? real[n][0]))));
      });
      const found = await crawl(browser, ['/', ...starts], { limit: 250 });
      for (const f of found.forms) forms.push({ ...f, who, route: matchRoute(routes, f.method, f.action.split('?')[0]) });
    }
    const anonymous = new (await import('../helpers/http.js')).Browser(w.t.app);
    browsers.set('anonymous', anonymous);
    for (const f of (await crawl(anonymous, ['/', '/sign-in', '/courses/strategic-planning'], { limit: 30 })).forms) forms.push({ ...f, who: 'anonymous', route: matchRoute(routes, f.method, f.action.split('?')[0]) });
  }, 240_000);

  it('finds forms on the pages, and every POST form carries a CSRF token', () => {
    const posts = forms.filter((f) => f.method === 'POST');
    expect(posts.length).toBeGreaterThan(10);
    for (const f of posts) {
      const inBody = f.fields.some((x) => x.name === '_csrf' && x.value.length > 10);
      const inQuery = /[?&]_csrf=[^&]{10,}/.test(f.action);
      expect(inBody || (f.enctype.startsWith('multipart/') && inQuery), `form to ${f.action} on ${f.page} (${f.who}) has no CSRF token`).toBe(true);
      expect(f.route, `form to ${f.action} on ${f.page} posts to no route`).toBeDefined();
    }
    const covered = new Set(posts.map((f) => routeKey(f.route!)));
    const uncovered = routes.filter((r) => !isApi(r.path) && r.method === 'POST' && !covered.has(routeKey(r))).map(routeKey);
    console.log(`[forms] ${posts.length} POST forms found for ${covered.size} routes; page write routes with no form seen: ${uncovered.join(', ') || 'none'}`);
  });

  it('generated form posts: no 5xx, refusals are HTML pages, refused posts write nothing', async () => {
    // One form per route and role; sign-out would end the session the others need.
    const seen = new Set<string>();
    const targets = forms.filter((f) => {
      if (f.method !== 'POST' || !f.route || f.route.path === '/sign-out') return false;
      const key = `${f.who} ${routeKey(f.route)} ${f.fields.map((x) => x.name).sort().join(',')}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    // Page write routes no crawled page showed a form for (state-dependent buttons): a made-up form with real ids.
    const covered = new Set(targets.map((f) => routeKey(f.route!)));
    for (const r of routes.filter((x) => !isApi(x.path) && x.method === 'POST' && x.path !== '/sign-out' && !covered.has(routeKey(x)))) {
      const real = realValues(r.path, w, o);
      const action = r.path.replace(/:([A-Za-z0-9_]+)(\([^)]*\))?/g, (_, n: string) => encodeURIComponent(String(real[n]?.[0] ?? 1)));
      const fields = ['reference', 'note', 'reason', 'token', 'email', 'back'].map((name) => ({ name, type: 'text', value: 'x', options: [] }));
      for (const who of ['admin', 'learner'] as const) targets.push({ page: '(none)', method: 'POST', action, enctype: 'application/x-www-form-urlencoded', fields, who, route: r });
    }
    for (const form of targets) {
      const browser = browsers.get(form.who)!;
      const fieldArb = fc.array(
        fc.oneof(
          ...form.fields
            .filter((x) => x.name !== '_csrf')
            .map((x) =>
              fc.tuple(
                fc.constant(x.name),
                fc.oneof({ weight: 3, arbitrary: x.options.length ? fc.constantFrom(...x.options) : fc.constant(x.value) }, { weight: 3, arbitrary: hostileString.map((s) => s.slice(0, 200_000)) }),
              ),
            ),
          fc.tuple(hostileString.map((s) => s.slice(0, 50) || 'extra'), hostileString.map((s) => s.slice(0, 1000))),
        ),
        { maxLength: form.fields.length + 3 },
      );
      await fc.assert(
        fc.asyncProperty(fieldArb, fc.boolean(), async (fields, keepDefaults) => {
          const token = csrfFrom((await browser.get('/profile')).body) ?? csrfFrom((await browser.get('/sign-in')).body);
          const all: Array<[string, string]> = keepDefaults ? form.fields.filter((x) => x.name !== '_csrf' && x.type !== 'submit').map((x) => [x.name, x.options[0] ?? x.value]) : [];
          all.push(...fields);
          const multipart = form.enctype.startsWith('multipart/');
          const action = multipart ? form.action.replace(/_csrf=[^&]*/, `_csrf=${encodeURIComponent(token ?? '')}`) : form.action;
          let payload: string;
          let type: string;
          if (multipart) {
            const b = 'fuzzboundary';
            payload =
              all.map(([k, v]) => `--${b}\r\nContent-Disposition: form-data; name="${k.replace(/["\r\n]/g, '')}"\r\n\r\n${v}\r\n`).join('') +
              `--${b}\r\nContent-Disposition: form-data; name="file"; filename="${fields[0]?.[1]?.slice(0, 80).replace(/["\r\n]/g, '') ?? 'x'}.pdf"\r\nContent-Type: application/pdf\r\n\r\n${fields[0]?.[1]?.slice(0, 2000) ?? ''}\r\n--${b}--\r\n`;
            type = `multipart/form-data; boundary=${b}`;
          } else {
            payload = [['_csrf', token ?? ''], ...all].map(([k, v]) => `${pctEncode(k)}=${pctEncode(v)}`).join('&');
            type = 'application/x-www-form-urlencoded';
          }
          const label = `${form.who} POST ${action} (form on ${form.page}) ${payload.slice(0, 300)}`;
          await guard.before();
          const res = await w.t.app.inject({ method: 'POST', url: action, payload, headers: { cookie: [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'content-type': type, origin: browser.origin } });
          counts.forms += 1;
          expect(res.statusCode, `${label} → ${res.statusCode} ${res.body.slice(0, 500)}`).toBeLessThan(500);
          if (res.statusCode >= 400) {
            counts.formsRefused += 1;
            expect(String(res.headers['content-type']), label).toContain('text/html');
            expect(res.body, label).toMatch(/<h1[\s>]/);
            expect(await guard.changed(), `${label} was refused (${res.statusCode}) but wrote`).toEqual([]);
          }
        }),
        { numRuns: FORM_RUNS, endOnFailure: true },
      );
    }
  });

  it('page routes with absurd ids and hostile query strings answer with a page, never a 5xx', async () => {
    const pageRoutes = routes.filter((r) => !isApi(r.path) && !INFRASTRUCTURE.has(routeKey(r)));
    for (const r of pageRoutes) {
      const names = [...r.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]);
      const real = realValues(r.path, w, o);
      const variants: string[] = [];
      for (const name of names) {
        for (const absurd of ABSURD_IDS) {
          variants.push(r.path.replace(/:([A-Za-z0-9_]+)(\([^)]*\))?/g, (_, n: string) => (n === name ? absurd : encodeURIComponent(String(real[n]?.[0] ?? 1)))));
        }
      }
      const base = r.path.replace(/:([A-Za-z0-9_]+)(\([^)]*\))?/g, (_, n: string) => encodeURIComponent(String(real[n]?.[0] ?? 1)));
      for (const q of ['?page=-1', '?page=99999999999999999999', '?week=abc&status=%00', '?next=%F0%9F%98%80&done=%uD800', `?${'a='.repeat(3000)}`, '?__proto__[x]=1', '?saved=1&saved=2']) variants.push(base + q);
      for (const url of variants) {
        for (const who of ['admin', 'learner', 'anonymous'] as const) {
          const browser = browsers.get(who)!;
          await guard.before();
          const res =
            r.method === 'GET'
              ? await browser.get(url)
              : await w.t.app.inject({ method: r.method as 'POST', url, payload: '', headers: { cookie: [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'content-type': 'application/x-www-form-urlencoded', origin: browser.origin } });
          counts.pages += 1;
          const label = `${who} ${r.method} ${url.slice(0, 200)}`;
          expect(res.statusCode, `${label} → ${res.body.slice(0, 300)}`).toBeLessThan(500);
          if (res.statusCode >= 400) {
            expect(String(res.headers['content-type']), label).toMatch(/text\/html|application\/problem\+json/);
            expect(await guard.changed(), `${label} was refused but wrote`).toEqual([]);
          }
        }
      }
    }
  });
});
