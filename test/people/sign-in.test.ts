// Passwordless sign-in: the emailed link, its single use and expiry, rate limits, CSRF and sessions.
import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { Browser, csrfFrom } from '../helpers/http.js';
import { insertUser, signInBrowser } from '../helpers/factories.js';
import { signInLinks } from '../../modules/people/schema.js';
import { SIGN_IN_LIMIT_PER_EMAIL, SIGN_IN_LIMIT_PER_IP, SIGN_IN_LINKS_KEPT_HOURS } from '../../modules/people/service.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => t.close());

async function requestLink(browser: Browser, email: string, next?: string) {
  return browser.post('/sign-in', next ? { email, next } : { email }, { fromPage: '/sign-in' });
}

async function linkPathFor(email: string): Promise<string> {
  const mails = await t.mailsTo(email);
  const url = /http:\/\/cohort\.test\/sign-in\/[A-Za-z0-9_-]+/.exec(mails.at(-1)?.text ?? '')?.[0];
  expect(url).toBeTruthy();
  return new URL(url!).pathname;
}

async function confirm(browser: Browser, path: string) {
  const page = await browser.get(path);
  const token = /name="token" value="([^"]+)"/.exec(page.body)?.[1] ?? path.split('/').pop()!;
  return browser.post('/sign-in/confirm', { token }, { fromPage: '/sign-in' });
}

describe('sign-in by emailed link', () => {
  it('a learner receives a link, confirms it, and is signed in with a secure session cookie', async () => {
    const { email } = await insertUser(t, 'learner', 'Nia Reader');
    const browser = new Browser(t.app);
    const sent = await requestLink(browser, email, '/courses/strategic-planning');
    expect(sent.statusCode).toBe(200);
    expect(sent.body).toContain('Check your email');
    const mails = await t.mailsTo(email);
    expect(mails).toHaveLength(1);
    expect(mails[0].subject).toBe('Your sign-in link');
    expect(mails[0].html).toContain('Sign in to Cohort Course');
    const path = await linkPathFor(email);
    // Opening the link alone (a mail scanner) does not sign in or spend it.
    const page = await browser.get(path);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(email);
    const done = await confirm(browser, path);
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe('/courses/strategic-planning');
    const cookie = done.cookies.find((c) => c.name === 'cc_session')!;
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.sameSite).toBe('Lax');
    const me = await browser.api('GET', '/api/v1/me');
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ email, name: 'Nia Reader', role: 'learner' });
  });

  it('stores only a hash of the link token', async () => {
    const { email } = await insertUser(t);
    await requestLink(new Browser(t.app), email);
    const token = (await linkPathFor(email)).split('/').pop()!;
    const rows = await t.ctx.db.select().from(signInLinks);
    expect(rows).toHaveLength(1);
    expect(rows[0].tokenHash).not.toContain(token);
    expect(rows[0].tokenHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a link works once: the second use is refused', async () => {
    const { email } = await insertUser(t);
    const browser = new Browser(t.app);
    await requestLink(browser, email);
    const path = await linkPathFor(email);
    expect((await confirm(browser, path)).statusCode).toBe(303);
    const other = new Browser(t.app);
    const again = await confirm(other, path);
    expect(again.statusCode).toBe(400);
    expect(again.body).toContain('expired or has already been used');
    expect((await other.api('GET', '/api/v1/me')).statusCode).toBe(401);
  });

  it('a link expires after 15 minutes', async () => {
    const { email } = await insertUser(t);
    const browser = new Browser(t.app);
    await requestLink(browser, email);
    const path = await linkPathFor(email);
    t.clock.advance({ minutes: 14, seconds: 59 });
    expect((await browser.get(path)).statusCode).toBe(200);
    t.clock.advance({ seconds: 2 });
    expect((await browser.get(path)).statusCode).toBe(400);
    expect((await confirm(browser, path)).statusCode).toBe(400);
    expect((await browser.api('GET', '/api/v1/me')).statusCode).toBe(401);
  });

  it('an unknown address gets the same answer and no mail', async () => {
    const res = await requestLink(new Browser(t.app), 'nobody@example.org');
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('Check your email');
    expect(await t.mailsTo('nobody@example.org')).toHaveLength(0);
  });

  it('is rate-limited per address: the sixth request in 15 minutes gets 429', async () => {
    const { email } = await insertUser(t);
    const browser = new Browser(t.app);
    for (let i = 0; i < 5; i++) expect((await requestLink(browser, email)).statusCode).toBe(200);
    const limited = await requestLink(browser, email);
    expect(limited.statusCode).toBe(429);
    expect(limited.body).toContain('Too many sign-in requests');
    expect(await t.mailsTo(email)).toHaveLength(5);
    t.clock.advance({ minutes: 16 });
    expect((await requestLink(browser, email)).statusCode).toBe(200);
  });

  it('counts the per-address limit also when requests arrive at once: of 12 concurrent requests, 5 get a link and 7 get 429', async () => {
    const { email } = await insertUser(t);
    // Each browser holds its form first, so the 12 posts themselves go in together.
    const forms = await Promise.all(
      Array.from({ length: 12 }, async () => {
        const browser = new Browser(t.app);
        const csrf = csrfFrom((await browser.get('/sign-in')).body);
        expect(csrf).toBeTruthy();
        return { browser, csrf: csrf! };
      }),
    );
    const answers = await Promise.all(forms.map(({ browser, csrf }) => browser.post('/sign-in', { email }, { csrf })));
    const statuses = answers.map((r) => r.statusCode).sort();
    expect(statuses).toEqual([...Array(SIGN_IN_LIMIT_PER_EMAIL).fill(200), ...Array(12 - SIGN_IN_LIMIT_PER_EMAIL).fill(429)]);
    const links = await t.ctx.db.select().from(signInLinks).where(eq(signInLinks.email, email));
    expect(links).toHaveLength(SIGN_IN_LIMIT_PER_EMAIL);
    expect(await t.mailsTo(email)).toHaveLength(SIGN_IN_LIMIT_PER_EMAIL);
  });

  it('is rate-limited per IP across many addresses', async () => {
    const browser = new Browser(t.app);
    for (let i = 0; i < SIGN_IN_LIMIT_PER_IP; i++) expect((await requestLink(browser, `probe${i}@example.org`)).statusCode).toBe(200);
    expect((await requestLink(browser, 'probe-last@example.org')).statusCode).toBe(429);
  });

  it(`keeps a link's row (address and client address) until ${SIGN_IN_LINKS_KEPT_HOURS} hours after it expired, then the scheduler deletes it`, async () => {
    const { email } = await insertUser(t);
    const browser = new Browser(t.app);
    const rows = () => t.ctx.db.select({ email: signInLinks.email, ip: signInLinks.ip }).from(signInLinks);
    expect((await requestLink(browser, email)).statusCode).toBe(200);
    // A used link is kept as long as an unused one.
    expect((await confirm(browser, await linkPathFor(email))).statusCode).toBe(303);
    t.clock.advance({ hours: SIGN_IN_LINKS_KEPT_HOURS });
    expect((await requestLink(new Browser(t.app), 'someone-else@example.org')).statusCode).toBe(200);
    await t.ctx.scheduler.runDue();
    // The first expired 15 minutes after it was asked for: 23 h 45 min ago, not yet the full day.
    expect((await rows()).map((r) => r.email)).toEqual([email, 'someone-else@example.org']);
    t.clock.advance({ minutes: 15, seconds: 1 });
    await t.ctx.scheduler.runDue();
    expect(await rows()).toEqual([{ email: 'someone-else@example.org', ip: expect.any(String) }]);
  });

  it('refuses a sign-in form without its CSRF token', async () => {
    const { email } = await insertUser(t);
    const res = await new Browser(t.app).post('/sign-in', { email }, { csrf: null });
    expect(res.statusCode).toBe(403);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).toContain('This form has expired');
    expect(await t.mailsTo(email)).toHaveLength(0);
  });

  it('shows a friendly message for an invalid address', async () => {
    const res = await requestLink(new Browser(t.app), 'not an address');
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('Enter an email address like');
    expect(res.body).toContain('aria-invalid="true"');
  });

  it('never redirects off-site after sign-in', async () => {
    const { email } = await insertUser(t);
    const browser = new Browser(t.app);
    await requestLink(browser, email, '//evil.example/steal');
    const done = await confirm(browser, await linkPathFor(email));
    expect(done.headers.location).toBe('/my');
  });

  it('issues a new session id at each sign-in and ends it at sign-out', async () => {
    const { email } = await insertUser(t);
    const browser = await signInBrowser(t, email);
    const first = browser.cookies.get('cc_session');
    const again = await signInBrowser(t, email);
    expect(again.cookies.get('cc_session')).not.toBe(first);
    const out = await browser.post('/sign-out', {}, { fromPage: '/profile' });
    expect(out.statusCode).toBe(303);
    expect((await browser.api('GET', '/api/v1/me')).statusCode).toBe(401);
    // The stolen old cookie is dead on the server too.
    const replay = await t.app.inject({ url: '/api/v1/me', headers: { cookie: `cc_session=${first}` } });
    expect(replay.statusCode).toBe(401);
  });

  it('a session lasts 30 days', async () => {
    const { email } = await insertUser(t);
    const browser = await signInBrowser(t, email);
    t.clock.advance({ days: 29, hours: 23 });
    expect((await browser.api('GET', '/api/v1/me')).statusCode).toBe(200);
    t.clock.advance({ hours: 2 });
    expect((await browser.api('GET', '/api/v1/me')).statusCode).toBe(401);
  });

  it('the profile saves a name, time zone and digest choice', async () => {
    const { email, user } = await insertUser(t);
    const browser = await signInBrowser(t, email);
    const saved = await browser.post('/profile', { name: 'Łucja Ó Súilleabháin', timezone: 'America/New_York' });
    expect(saved.statusCode).toBe(303);
    const after = await t.ctx.people.get(user.id);
    expect(after).toMatchObject({ name: 'Łucja Ó Súilleabháin', timezone: 'America/New_York', digestOptOut: true });
    const bad = await browser.post('/profile', { name: 'X', timezone: 'Mars/Olympus' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('choose a time zone');
    expect((await t.ctx.people.get(user.id)).timezone).toBe('America/New_York');
  });
});
