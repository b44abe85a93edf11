// Session and sign-in under attack: link reuse and races, expiry, session fixation, CSRF on every form,
// cross-site API writes, sign-in rate limits, open redirects, security headers and cookie flags.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { appOrigin, Browser, csrfFrom } from '../helpers/http.js';
import { insertUser, signInBrowser } from '../helpers/factories.js';
import { signInLinks } from '../../modules/people/schema.js';
import { SIGN_IN_LIMIT_PER_IP } from '../../modules/people/service.js';
import { changedTables, digest } from './helpers/db-digest.js';
import { fillPath, isApi, listRoutes, routeKey, type RouteInfo } from './helpers/routes.js';
import { createWorld, type World } from './helpers/world.js';
import { fuzzSeed } from './helpers/random.js';

const seed = fuzzSeed();
fc.configureGlobal({ seed });

const CSRF_REFUSAL = 'This form has expired';

/** Ask for a link through the page and return the confirm path from the mail. */
async function requestLink(t: TestApp, browser: Browser, email: string, next?: string): Promise<string> {
  const res = await browser.post('/sign-in', next === undefined ? { email } : { email, next }, { fromPage: '/sign-in' });
  expect(res.statusCode).toBe(200);
  const mail = (await t.mailsTo(email)).at(-1);
  return new URL(/https?:\/\/\S+\/sign-in\/[A-Za-z0-9_-]+/.exec(mail?.text ?? '')![0]).pathname;
}

async function confirm(browser: Browser, path: string) {
  const page = await browser.get(path);
  const token = /name="token" value="([^"]+)"/.exec(page.body)?.[1] ?? path.split('/').pop()!;
  return browser.post('/sign-in/confirm', { token }, { fromPage: '/sign-in' });
}

async function whoAmI(t: TestApp, cookie: string | undefined): Promise<string | null> {
  const res = await t.app.inject({ url: '/api/v1/me', headers: cookie ? { cookie: `cc_session=${cookie}` } : {} });
  return res.statusCode === 200 ? (res.json().email as string) : null;
}

describe('sign-in links and sessions', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  it('a link confirmed by two browsers at the same moment signs in exactly one of them', async () => {
    for (let round = 0; round < 5; round++) {
      const { email } = await insertUser(t);
      const path = await requestLink(t, new Browser(t.app), email);
      const token = path.split('/').pop()!;
      const browsers = Array.from({ length: 4 }, () => new Browser(t.app));
      const csrf = await Promise.all(browsers.map(async (b) => csrfFrom((await b.get('/sign-in')).body)));
      const answers = await Promise.all(browsers.map((b, i) => b.post('/sign-in/confirm', { token }, { csrf: csrf[i] })));
      expect(answers.map((a) => a.statusCode).sort()).toEqual([303, 400, 400, 400]);
      const signedIn = await Promise.all(browsers.map((b) => whoAmI(t, b.cookies.get('cc_session'))));
      expect(signedIn.filter(Boolean)).toEqual([email]);
    }
  });

  it('a used link stays used, also after the person signs out', async () => {
    const { email } = await insertUser(t);
    const browser = new Browser(t.app);
    const path = await requestLink(t, browser, email);
    expect((await confirm(browser, path)).statusCode).toBe(303);
    expect((await browser.post('/sign-out', {}, { fromPage: '/profile' })).statusCode).toBe(303);
    const again = await confirm(browser, path);
    expect(again.statusCode).toBe(400);
    expect(await whoAmI(t, browser.cookies.get('cc_session'))).toBeNull();
  });

  it('a link is refused from the very instant it expires, on the page and at confirmation', async () => {
    const { email } = await insertUser(t);
    const browser = new Browser(t.app);
    const path = await requestLink(t, browser, email);
    const page = await browser.get(path);
    const token = /name="token" value="([^"]+)"/.exec(page.body)![1];
    t.clock.advance({ minutes: 15 });
    expect((await browser.get(path)).statusCode).toBe(400);
    expect((await browser.post('/sign-in/confirm', { token }, { fromPage: '/sign-in' })).statusCode).toBe(400);
    expect(await whoAmI(t, browser.cookies.get('cc_session'))).toBeNull();
  });

  it('made-up, truncated and hostile link tokens are refused with a page, never a 500', async () => {
    const { email } = await insertUser(t);
    const real = (await requestLink(t, new Browser(t.app), email)).split('/').pop()!;
    const browser = new Browser(t.app);
    const csrf = csrfFrom((await browser.get('/sign-in')).body);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string({ maxLength: 120 }), fc.constant(real.slice(0, -1)), fc.constant(real + 'A'), fc.constant(real.toUpperCase()), fc.string({ unit: 'binary', maxLength: 60 })),
        async (token) => {
          fc.pre(token !== real);
          const page = await browser.get(`/sign-in/${encodeURIComponent(token)}`);
          expect(page.statusCode).toBeGreaterThanOrEqual(400);
          expect(page.statusCode).toBeLessThan(500);
          const done = await browser.post('/sign-in/confirm', { token }, { csrf });
          expect(done.statusCode).toBe(400);
          expect(done.headers['content-type']).toContain('text/html');
        },
      ),
      { numRuns: 150 },
    );
    expect(await whoAmI(t, browser.cookies.get('cc_session'))).toBeNull();
  });

  it('a session ends 30 days after sign-in, and at sign-out even for a copied cookie', async () => {
    const { email } = await insertUser(t);
    const browser = await signInBrowser(t, email);
    const cookie = browser.cookies.get('cc_session');
    t.clock.advance({ days: 29, hours: 23 });
    expect(await whoAmI(t, cookie)).toBe(email);
    t.clock.advance({ hours: 1 });
    expect(await whoAmI(t, cookie)).toBeNull();
    const again = await signInBrowser(t, email);
    const copied = again.cookies.get('cc_session');
    await again.post('/sign-out', {}, { fromPage: '/profile' });
    expect(await whoAmI(t, copied)).toBeNull();
  });

  it('session fixation: a cookie planted before sign-in is not the session after it', async () => {
    const victim = await insertUser(t);
    const attacker = await insertUser(t);
    const attackerBrowser = await signInBrowser(t, attacker.email);
    const planted = [attackerBrowser.cookies.get('cc_session')!, 'attacker-chosen-session-id-0123456789abcdef'];
    for (const value of planted) {
      // The victim's browser has a form from before, then the attacker plants a session cookie in it.
      const browser = new Browser(t.app);
      let csrf = csrfFrom((await browser.get('/sign-in')).body);
      browser.cookies.set('cc_session', value);
      let asked = await browser.post('/sign-in', { email: victim.email }, { csrf });
      if (value === planted[0]) {
        // A live session planted: the form from before no longer fits (tokens are bound to the session), so the
        // victim's browser asks from a page of the session it now has.
        expect(asked.statusCode).toBe(403);
        csrf = csrfFrom((await browser.get('/profile')).body);
        asked = await browser.post('/sign-in', { email: victim.email }, { csrf });
      }
      expect(asked.statusCode).toBe(200);
      const path = new URL(/https?:\/\/\S+\/sign-in\/[A-Za-z0-9_-]+/.exec((await t.mailsTo(victim.email)).at(-1)?.text ?? '')![0]).pathname;
      const token = path.split('/').pop()!;
      const done = await browser.post('/sign-in/confirm', { token }, { csrf });
      expect(done.statusCode).toBe(303);
      const issued = done.cookies.find((c) => c.name === 'cc_session')!.value;
      expect(issued).not.toBe(value);
      expect(await whoAmI(t, issued)).toBe(victim.email);
      // Whoever knows the planted value does not get the victim's account.
      expect(await whoAmI(t, value)).not.toBe(victim.email);
    }
  });

  it('a session cookie is not an API token, and an API token is not a session cookie', async () => {
    const { email, token } = await insertUser(t);
    const browser = await signInBrowser(t, email);
    const session = browser.cookies.get('cc_session')!;
    const asBearer = await t.app.inject({ url: '/api/v1/me', headers: { authorization: `Bearer ${session}` } });
    expect(asBearer.statusCode).toBe(401);
    expect(await whoAmI(t, token)).toBeNull();
    // A bad Bearer token is refused even beside a good cookie (no silent fallback).
    const both = await t.app.inject({ url: '/api/v1/me', headers: { authorization: 'Bearer cc_nope', cookie: `cc_session=${session}` } });
    expect(both.statusCode).toBe(401);
    for (const header of ['Bearer', 'Bearer ', 'bearer x', 'Basic YTpi', 'Bearer \u0000', `Bearer ${'x'.repeat(5000)}`]) {
      const res = await t.app.inject({ url: '/api/v1/me', headers: { authorization: header } });
      expect(res.statusCode, header.slice(0, 20)).toBe(401);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
  });
});

describe('sign-in rate limits', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  const links = () => t.ctx.db.$count(signInLinks);

  it('the sixth request for one address in 15 minutes is refused, sends nothing and records nothing', async () => {
    const { email } = await insertUser(t);
    for (let i = 0; i < 5; i++) await requestLink(t, new Browser(t.app), email);
    const before = await links();
    const sixth = await new Browser(t.app).post('/sign-in', { email: email.toUpperCase() }, { fromPage: '/sign-in' });
    expect(sixth.statusCode).toBe(429);
    expect(sixth.body).toContain('Too many sign-in requests');
    expect(await links()).toBe(before);
    expect(await t.mailsTo(email)).toHaveLength(5);
    t.clock.advance({ minutes: 15, seconds: 1 });
  });

  it('a forged X-Forwarded-For does not reset the per-IP limit (no proxy is trusted by default)', async () => {
    const browser = new Browser(t.app);
    const csrf = csrfFrom((await browser.get('/sign-in')).body)!;
    const post = (email: string, ip: string) =>
      t.app.inject({
        method: 'POST',
        url: '/sign-in',
        payload: new URLSearchParams({ _csrf: csrf, email }).toString(),
        headers: { cookie: [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'content-type': 'application/x-www-form-urlencoded', origin: browser.origin, 'x-forwarded-for': ip },
      });
    for (let i = 0; i < SIGN_IN_LIMIT_PER_IP; i++) expect((await post(`probe${i}@example.org`, `203.0.113.${i % 250}`)).statusCode).toBe(200);
    expect((await post('probe-last@example.org', '198.51.100.7')).statusCode).toBe(429);
  });

  it('the limits hold across instances sharing the database', async () => {
    const other = await createTestApp({ dir: t.dir, clock: t.clock });
    try {
      const browser = new Browser(other.app);
      const res = await browser.post('/sign-in', { email: 'probe-more@example.org' }, { fromPage: '/sign-in' });
      expect(res.statusCode).toBe(429);
    } finally {
      await other.close();
    }
    t.clock.advance({ minutes: 16 });
    expect((await new Browser(t.app).post('/sign-in', { email: 'probe-more@example.org' }, { fromPage: '/sign-in' })).statusCode).toBe(200);
  });
});

describe('after sign-in a person is only ever sent to a page of this site', () => {
  let t: TestApp;
  let browser: Browser;
  beforeAll(async () => {
    t = await createTestApp();
    browser = await signInBrowser(t, (await insertUser(t)).email);
  });
  afterAll(async () => t.close());

  const hostile = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.constantFrom('//evil.example', '/\\evil.example', '/\t/evil.example', '/\n/evil.example', '/\r/evil.example', '\t//evil.example', '/%2F/evil.example', 'https://evil.example', 'javascript:alert(1)', '/\u0000/evil.example', '/ /evil.example', '\\\\evil.example'),
    fc.tuple(fc.constantFrom('/', '//', '/\\', '/\t', '\t/'), fc.constantFrom('/', '\t', '\n', '\\', ''), fc.constantFrom('evil.example', 'evil.example/x', '@evil.example')).map((p) => p.join('')),
  );

  it('whatever `next` says, the redirect resolves to this origin (as a browser parses it)', async () => {
    await fc.assert(
      fc.asyncProperty(hostile, async (next) => {
        const res = await browser.get(`/sign-in?next=${encodeURIComponent(next)}`);
        expect(res.statusCode).toBeLessThan(500);
        if (res.statusCode >= 300 && res.statusCode < 400) {
          const target = new URL(String(res.headers.location), 'http://cohort.test/sign-in');
          expect(target.origin, `next=${JSON.stringify(next)} → ${JSON.stringify(res.headers.location)}`).toBe('http://cohort.test');
        }
      }),
      { numRuns: 300 },
    );
  });
});

/** Page writes another site posts to by design (see their filter below). */
const CROSS_SITE_FORMS = ['POST /lti/login', 'POST /lti/launch'];

describe('CSRF on every form', () => {
  let w: World;
  let writeRoutes: RouteInfo[];
  beforeAll(async () => {
    w = await createWorld();
    // Sign-out last: its control request (with a valid token) ends the session the other checks use.
    writeRoutes = listRoutes(w.t.app)
      .filter((r) => !isApi(r.path) && r.method !== 'GET')
      // LTI's login initiation and launch are posted by a platform's page on another site, by design (config
      // crossSiteForm): no CSRF token or Origin of ours can come with them. They act on no session of ours; what they
      // accept is the platform's signed id_token with a single-use state bound to this browser (test/lti).
      .filter((r) => !CROSS_SITE_FORMS.includes(routeKey(r)))
      .sort((a, b) => Number(a.path === '/sign-out') - Number(b.path === '/sign-out'));
  });
  afterAll(async () => w.close());

  const params = () => ({ id: w.cohortA, n: 1, threadId: 1, postId: 1, fileId: 1, seatId: 1, documentId: 1, token: 'x'.repeat(30), code: 'CODE', slug: 'strategic-planning' });

  it('finds the forms to attack', () => {
    expect(writeRoutes.map(routeKey)).toEqual(expect.arrayContaining(['POST /sign-in', 'POST /sign-in/confirm', 'POST /sign-out', 'POST /profile']));
  });

  it('every page write refuses a missing, wrong, foreign, planted or cookieless CSRF token, and a valid one from another origin, with 403 and changes nothing', async () => {
    const admin = await w.browser('admin');
    const learner = await w.browser('learner');
    const stranger = new Browser(w.t.app);
    const foreignToken = csrfFrom((await stranger.get('/sign-in')).body)!;
    const strangerCookie = `cc_csrf=${stranger.cookies.get('cc_csrf')}`;
    const origin = appOrigin(w.t.app);
    let attempts = 0;
    for (const route of writeRoutes) {
      const url = fillPath(route.path, params());
      for (const browser of [admin, learner]) {
        const validToken = csrfFrom((await browser.get('/profile')).body)!;
        expect(validToken, `still signed in before ${routeKey(route)}`).toBeTruthy();
        const cookies = [...browser.cookies].map(([k, v]) => `${k}=${v}`);
        // Each sent from this app's own origin (as a browser on its pages would), so that the token is what is tested;
        // the last two are the other half: a valid token from elsewhere.
        const variants: Array<{ name: string; body?: string; cookie: string; type?: string; query?: string; headers?: Record<string, string> }> = [
          { name: 'missing', body: 'name=x&email=a%40b.org', cookie: cookies.join('; ') },
          { name: 'wrong', body: '_csrf=not-a-token&name=x', cookie: cookies.join('; ') },
          { name: 'foreign', body: `_csrf=${encodeURIComponent(foreignToken)}&name=x`, cookie: cookies.join('; ') },
          {
            // An anonymous token with its cc_csrf cookie, planted from another port of the host (issue #25).
            name: 'planted anonymous token and cookie',
            body: `_csrf=${encodeURIComponent(foreignToken)}&name=x`,
            cookie: [...cookies.filter((c) => !c.startsWith('cc_csrf=')), strangerCookie].join('; '),
          },
          { name: 'no csrf cookie', body: `_csrf=${encodeURIComponent(validToken)}&name=x`, cookie: cookies.filter((c) => !c.startsWith('cc_csrf=')).join('; ') },
          { name: 'json body', body: JSON.stringify({ name: 'x' }), cookie: cookies.join('; '), type: 'application/json' },
          {
            name: 'multipart, token in a form field only',
            body: `--b\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${validToken}x\r\n--b--\r\n`,
            cookie: cookies.join('; '),
            type: 'multipart/form-data; boundary=b',
          },
          { name: 'multipart, wrong token in the query', body: `--b\r\nContent-Disposition: form-data; name="x"\r\n\r\ny\r\n--b--\r\n`, cookie: cookies.join('; '), type: 'multipart/form-data; boundary=b', query: '?_csrf=nope' },
          { name: 'valid token, another origin', body: `_csrf=${encodeURIComponent(validToken)}&name=x`, cookie: cookies.join('; '), headers: { origin: 'http://127.0.0.1:8080' } },
          { name: 'valid token, Origin: null from a same-site page', body: `_csrf=${encodeURIComponent(validToken)}&name=x`, cookie: cookies.join('; '), headers: { origin: 'null', 'sec-fetch-site': 'same-site' } },
        ];
        for (const v of variants) {
          const before = await digest(w.t.ctx.database);
          const res = await w.t.app.inject({
            method: route.method as 'POST',
            url: url + (v.query ?? ''),
            payload: v.body,
            headers: { cookie: v.cookie, 'content-type': v.type ?? 'application/x-www-form-urlencoded', origin, ...v.headers },
          });
          attempts += 1;
          const label = `${routeKey(route)} (${v.name})`;
          expect([403, 415], label).toContain(res.statusCode);
          if (res.statusCode === 403) expect(res.headers['content-type'], label).toContain('text/html');
          expect(changedTables(before, await digest(w.t.ctx.database)), label).toEqual([]);
        }
        // The control: with the right token the same request gets past the CSRF check.
        const ok = await browser.post(url, {}, { csrf: validToken });
        expect(ok.body, `${routeKey(route)} with a valid token`).not.toContain(CSRF_REFUSAL);
      }
    }
    console.log(`[csrf] ${writeRoutes.length} page write routes × 2 roles × 10 forged variants = ${attempts} refused without a change`);
  });

  it('cookie-authenticated API writes from another origin, with Origin: null or without one are refused and change nothing; a malformed Origin is a 4xx', async () => {
    const admin = await signInBrowser(w.t, w.people.admin.email);
    const cookie = [...admin.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const writes = listRoutes(w.t.app).filter((r) => isApi(r.path) && r.method !== 'GET');
    for (const route of writes) {
      const url = fillPath(route.path, params());
      for (const origin of ['https://evil.example', 'http://cohort.test.evil.example', 'http://cohort.test:8080', 'null', undefined, 'not a url', 'http://[::1', 'file://']) {
        const before = await digest(w.t.ctx.database);
        const res = await w.t.app.inject({ method: route.method as 'POST', url, payload: {}, headers: { cookie, ...(origin === undefined ? {} : { origin }) } });
        const label = `${routeKey(route)} Origin: ${origin ?? '(none)'}`;
        expect(res.statusCode, label).toBeLessThan(500);
        expect(res.statusCode, label).toBe(403);
        expect(changedTables(before, await digest(w.t.ctx.database)), label).toEqual([]);
      }
    }
  });
});

describe('security headers and cookie flags', () => {
  let t: TestApp;
  let admin: Awaited<ReturnType<typeof insertUser>>;
  beforeAll(async () => {
    t = await createTestApp();
    admin = await insertUser(t, 'admin');
  });
  afterAll(async () => t.close());

  const requests = () => [
    { name: 'page', url: '/' },
    { name: 'form page', url: '/sign-in' },
    { name: 'redirect to sign-in', url: '/profile' },
    { name: 'HTML 404', url: '/no/such/page' },
    { name: 'API JSON', url: '/api/v1/courses' },
    { name: 'API problem', url: '/api/v1/cohorts/999999', headers: { authorization: `Bearer ${admin.token}` } },
    { name: 'API 401', url: '/api/v1/me' },
    { name: 'asset', url: '/assets/app.css' },
  ];

  it('every kind of answer carries CSP, nosniff, frame and referrer policies', async () => {
    for (const r of requests()) {
      const res = await t.app.inject({ url: r.url, headers: r.headers });
      const csp = String(res.headers['content-security-policy'] ?? '');
      expect(csp, r.name).toContain("default-src 'self'");
      expect(csp, r.name).toContain("script-src 'self'");
      expect(csp, r.name).toContain("object-src 'none'");
      expect(csp, r.name).toContain("form-action 'self'");
      expect(csp, r.name).toContain("frame-ancestors 'self'");
      expect(csp, r.name).toContain("base-uri 'self'");
      expect(/script-src [^;]*/.exec(csp)?.[0], r.name).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
      expect(res.headers['x-content-type-options'], r.name).toBe('nosniff');
      expect(res.headers['x-frame-options'], r.name).toBe('SAMEORIGIN');
      expect(res.headers['referrer-policy'], r.name).toBe('same-origin');
      expect(res.headers['strict-transport-security'], r.name).toBeUndefined();
      expect(res.headers['x-powered-by'], r.name).toBeUndefined();
    }
  });

  it('pages that show personal data are not cached', async () => {
    const browser = await signInBrowser(t, admin.email);
    const res = await browser.get('/profile');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('over http: session and CSRF cookies are HttpOnly, SameSite=Lax, path /, not Secure; sign-out expires the session cookie on the same path', async () => {
    const browser = new Browser(t.app);
    const page = await t.app.inject('/sign-in');
    const csrf = page.cookies.find((c) => c.name === 'cc_csrf')!;
    expect(csrf).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(csrf.secure).toBeFalsy();
    const path = await requestLink(t, browser, admin.email);
    const done = await confirm(browser, path);
    const session = done.cookies.find((c) => c.name === 'cc_session')!;
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/', maxAge: 30 * 86400 });
    expect(session.secure).toBeFalsy();
    const out = await browser.post('/sign-out', {}, { fromPage: '/profile' });
    const cleared = out.cookies.find((c) => c.name === 'cc_session')!;
    expect(cleared.path).toBe('/');
    expect(cleared.value === '' || (cleared.expires && cleared.expires.getTime() < Date.now())).toBeTruthy();
  });

  it('over https under a prefix: cookies are Secure and scoped to the prefix, HSTS and upgrade-insecure-requests are on', async () => {
    const s = await createTestApp({ baseUrl: 'https://library.example/learning', prefix: '/learning' });
    try {
      const { email } = await insertUser(s);
      const browser = new Browser(s.app);
      const form = await browser.get('/learning/sign-in');
      expect(String(form.headers['strict-transport-security'])).toContain('max-age=');
      expect(String(form.headers['content-security-policy'])).toContain('upgrade-insecure-requests');
      expect(form.cookies.find((c) => c.name === 'cc_csrf')).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Lax', path: '/learning' });
      await browser.post('/learning/sign-in', { email }, { fromPage: '/learning/sign-in' });
      const link = /https:\/\/library\.example\/learning\/sign-in\/[A-Za-z0-9_-]+/.exec((await s.mailsTo(email)).at(-1)?.text ?? '')![0];
      const confirmPath = new URL(link).pathname;
      const page = await browser.get(confirmPath);
      const token = /name="token" value="([^"]+)"/.exec(page.body)![1];
      const done = await browser.post('/learning/sign-in/confirm', { token }, { fromPage: confirmPath });
      expect(done.statusCode).toBe(303);
      expect(done.cookies.find((c) => c.name === 'cc_session')).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Lax', path: '/learning' });
    } finally {
      await s.close();
    }
  });
});
