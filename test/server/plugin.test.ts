// The plugin mounted in a host app under a prefix, and the HTTP basics every route shares.
import Fastify from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cohortCourse } from '../../server/app.js';
import { openDatabase } from '../../server/db.js';
import { createEmlTransport } from '../../server/mailer.js';
import { ManualClock } from '../../server/clock.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { insertUser, signInBrowser } from '../helpers/factories.js';

describe('mounted in a host app under /learning', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cc-host-'));
  const host = Fastify();
  beforeAll(async () => {
    host.get('/', async () => ({ host: 'home' }));
    await host.register(cohortCourse, {
      prefix: '/learning',
      // Where to open it (a SQLite file here; a postgres:// URL works the same): the plugin opens and closes it.
      database: join(dir, 'host.db'),
      mailTransport: createEmlTransport(join(dir, 'mail')),
      clock: new ManualClock(),
      baseUrl: 'https://library.example/learning',
      sessionSecret: 'host-secret-host-secret-host-secret-0000',
      workers: false,
    } as never);
    await host.ready();
  });
  afterAll(async () => {
    await host.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the catalogue, the API and assets under the prefix and leaves host routes alone', async () => {
    expect((await host.inject('/')).json()).toEqual({ host: 'home' });
    const page = await host.inject('/learning/');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('href="/learning/courses/strategic-planning"');
    expect(page.body).toContain('href="/learning/assets/app.css"');
    expect((await host.inject('/learning/assets/app.css')).statusCode).toBe(200);
    const api = await host.inject('/learning/api/v1/courses');
    expect(api.json().map((c: { slug: string }) => c.slug)).toContain('strategic-planning');
    const missing = await host.inject('/learning/api/v1/nothing');
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toContain('application/problem+json');
    // Our hooks (security headers, auth) stay inside the plugin.
    expect((await host.inject('/')).headers['content-security-policy']).toBeUndefined();
  });

  it('the OpenAPI document lists paths without the mount prefix, with the prefixed server URL', async () => {
    const doc = (await host.inject('/learning/api/v1/openapi.json')).json();
    expect(doc.servers[0].url).toBe('https://library.example/learning');
    expect(Object.keys(doc.paths)).toContain('/api/v1/courses');
  });

  it('sets a Secure session cookie scoped to the prefix when served over https', async () => {
    const sign = await host.inject('/learning/sign-in');
    const csrfCookie = sign.cookies.find((c) => c.name === 'cc_csrf')!;
    expect(csrfCookie.path).toBe('/learning');
    expect(csrfCookie.secure).toBe(true);
    expect(sign.headers['strict-transport-security']).toBeDefined();
  });
});

describe('HTTP basics', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  it('answers /healthz', async () => {
    const res = await t.app.inject('/healthz');
    expect(res.json()).toMatchObject({ status: 'ok', pendingMail: 0 });
  });

  it('sends security headers on pages', async () => {
    const res = await t.app.inject('/');
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).toMatch(/style-src 'self'(;|$)/);
    expect(res.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(res.headers['referrer-policy']).toBe('same-origin');
  });

  it('refuses malformed JSON, wrong media types and oversized bodies with problem+json', async () => {
    const admin = await insertUser(t, 'admin');
    const auth = { authorization: `Bearer ${admin.token}` };
    const bad = await t.app.inject({ method: 'POST', url: '/api/v1/tokens', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"email": ' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ status: 400, title: 'Invalid request', detail: 'The request body is not valid JSON.' });
    const text = await t.app.inject({ method: 'POST', url: '/api/v1/tokens', headers: { ...auth, 'content-type': 'text/plain' }, payload: 'x' });
    expect(text.statusCode).toBe(415);
    const huge = await t.app.inject({ method: 'POST', url: '/api/v1/tokens', headers: { ...auth, 'content-type': 'application/json' }, payload: JSON.stringify({ email: 'a'.repeat(2_000_000) }) });
    expect(huge.statusCode).toBe(413);
    expect(huge.headers['content-type']).toContain('application/problem+json');
  });

  it('shows people a friendly 404 page, and the API a problem', async () => {
    const page = await t.app.inject('/no/such/page');
    expect(page.statusCode).toBe(404);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('There is nothing at this address.');
    const course = await t.app.inject('/courses/nope');
    expect(course.statusCode).toBe(404);
    expect(course.body).toContain('Course &quot;nope&quot; not found.');
  });

  it('sends signed-out people to sign in, returning afterwards', async () => {
    const res = await t.app.inject('/profile');
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/sign-in?next=%2Fprofile');
  });

  it('refuses cross-site API writes made with a session cookie', async () => {
    const admin = await insertUser(t, 'admin');
    const browser = await signInBrowser(t, admin.email);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: { cookie: `cc_session=${browser.cookies.get('cc_session')}`, origin: 'https://evil.example' },
      payload: { email: 'victim@example.org' },
    });
    expect(res.statusCode).toBe(403);
    const same = await t.app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: { cookie: `cc_session=${browser.cookies.get('cc_session')}`, origin: 'http://cohort.test' },
      payload: { email: 'friend@example.org' },
    });
    expect(same.statusCode).toBe(201);
    const form = await t.app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: { cookie: `cc_session=${browser.cookies.get('cc_session')}`, origin: 'http://cohort.test', 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'email=form%40example.org',
    });
    expect(form.statusCode).toBe(415);
    expect(form.headers['content-type']).toContain('application/problem+json');
    expect(await t.ctx.people.findByEmail('form@example.org')).toBeUndefined();
  });

  it('documents the API in OpenAPI 3.1 and leaves pages out', async () => {
    const doc = (await t.app.inject('/api/v1/openapi.json')).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.paths['/api/v1/courses'].get).toBeDefined();
    expect(doc.paths['/api/v1/cohorts'].post.requestBody).toBeDefined();
    expect(doc.paths['/sign-in']).toBeUndefined();
  });
});
