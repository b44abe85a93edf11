// Page forms: a CSRF token works only for the session it was made for, and a page write only from this app's origin.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { insertUser, signInBrowser } from '../helpers/factories.js';
import { Browser, csrfFrom } from '../helpers/http.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => t.close());

/** A profile form post with exactly these cookies and headers (no help from the Browser helper). */
function postProfile(cookie: string, token: string, headers: Record<string, string>, name = 'Changed Name') {
  return t.app.inject({
    method: 'POST',
    url: '/profile',
    payload: new URLSearchParams({ _csrf: token, name }).toString(),
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers },
  });
}

const sessionOf = (b: Browser) => `cc_session=${b.cookies.get('cc_session')}`;
const csrfCookieOf = (b: Browser) => `cc_csrf=${b.cookies.get('cc_csrf')}`;

describe('CSRF tokens are bound to the session', () => {
  it('a token and cc_csrf cookie fetched anonymously by someone else do not work in a signed-in browser, even from this origin', async () => {
    const ada = await insertUser(t, 'learner', 'Ada Reader');
    const victim = await signInBrowser(t, ada.email);
    // What an attacker gets from the sign-in page, and could plant from another port of the same host.
    const attacker = new Browser(t.app);
    const planted = csrfFrom((await attacker.get('/sign-in')).body)!;
    const res = await postProfile(`${sessionOf(victim)}; ${csrfCookieOf(attacker)}`, planted, { origin: 'http://cohort.test' }, 'Mallory');
    expect(res.statusCode).toBe(403);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).toContain('This form has expired');
    expect((await t.ctx.people.get(ada.user.id)).name).toBe('Ada Reader');
  });

  it('nor does a token another signed-in person got for their own session', async () => {
    const ada = await insertUser(t, 'learner', 'Ada Reader');
    const mallory = await insertUser(t, 'learner', 'Mallory');
    const victim = await signInBrowser(t, ada.email);
    const attacker = await signInBrowser(t, mallory.email);
    const theirs = csrfFrom((await attacker.get('/profile')).body)!;
    const res = await postProfile(`${sessionOf(victim)}; ${csrfCookieOf(attacker)}`, theirs, { origin: 'http://cohort.test' }, 'Mallory');
    expect(res.statusCode).toBe(403);
    expect((await t.ctx.people.get(ada.user.id)).name).toBe('Ada Reader');
  });

  it('a token from before sign-in stops working at sign-in; the person’s own token from their page works', async () => {
    const ada = await insertUser(t, 'learner', 'Ada Reader');
    const browser = new Browser(t.app);
    const before = csrfFrom((await browser.get('/sign-in')).body)!;
    const signedIn = await signInBrowser(t, ada.email);
    signedIn.cookies.set('cc_csrf', browser.cookies.get('cc_csrf')!);
    const cookie = `${sessionOf(signedIn)}; ${csrfCookieOf(signedIn)}`;
    expect((await postProfile(cookie, before, { origin: 'http://cohort.test' })).statusCode).toBe(403);
    const own = csrfFrom((await signedIn.get('/profile')).body)!;
    expect((await postProfile(cookie, own, { origin: 'http://cohort.test' })).statusCode).toBe(303);
    expect((await t.ctx.people.get(ada.user.id)).name).toBe('Changed Name');
  });
});

describe('page writes come only from this app’s own origin', () => {
  it('another origin or port, Origin: null from anywhere but this origin, or neither header is refused with the error page, even with a valid token', async () => {
    const ada = await insertUser(t, 'learner', 'Ada Reader');
    const browser = await signInBrowser(t, ada.email);
    const token = csrfFrom((await browser.get('/profile')).body)!;
    const cookie = `${sessionOf(browser)}; ${csrfCookieOf(browser)}`;
    const refused: Array<Record<string, string>> = [
      { origin: 'https://evil.example' },
      { origin: 'http://cohort.test:8080' },
      { origin: 'https://cohort.test' },
      { origin: 'http://cohort.test.evil.example' },
      { origin: 'null' },
      { origin: 'null', 'sec-fetch-site': 'same-site' },
      { origin: 'http://127.0.0.1:9999', 'sec-fetch-site': 'same-origin' },
      {},
      { 'sec-fetch-site': 'same-site' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'none' },
    ];
    for (const headers of refused) {
      const res = await postProfile(cookie, token, headers);
      expect(res.statusCode, JSON.stringify(headers)).toBe(403);
      expect(res.headers['content-type'], JSON.stringify(headers)).toContain('text/html');
      expect(res.body).toContain('not from this site, so nothing was changed');
    }
    expect((await t.ctx.people.get(ada.user.id)).name).toBe('Ada Reader');
    // The error page names where the form came from (escaped) and where the site is.
    const named = await postProfile(cookie, token, { origin: 'http://127.0.0.1:9999' });
    expect(named.body).toContain('sent from http://127.0.0.1:9999, not from this site');
    expect(named.body).toContain('Open the page at http://cohort.test and try again');

    // From the app's own page: its Origin, or (a browser that sends none, or null) Sec-Fetch-Site: same-origin.
    expect((await postProfile(cookie, token, { origin: 'http://cohort.test' }, 'First Change')).statusCode).toBe(303);
    expect((await postProfile(cookie, token, { 'sec-fetch-site': 'same-origin' }, 'Second Change')).statusCode).toBe(303);
    expect((await postProfile(cookie, token, { origin: 'null', 'sec-fetch-site': 'same-origin' }, 'Third Change')).statusCode).toBe(303);
    expect((await t.ctx.people.get(ada.user.id)).name).toBe('Third Change');
  });

  it('the anonymous forms too: a sign-in request from another origin is refused and sends no mail', async () => {
    const ada = await insertUser(t, 'learner', 'Ada Reader');
    const browser = new Browser(t.app);
    const token = csrfFrom((await browser.get('/sign-in')).body)!;
    const res = await t.app.inject({
      method: 'POST',
      url: '/sign-in',
      payload: new URLSearchParams({ _csrf: token, email: ada.email }).toString(),
      headers: { cookie: csrfCookieOf(browser), 'content-type': 'application/x-www-form-urlencoded', origin: 'http://cohort.test:8080' },
    });
    expect(res.statusCode).toBe(403);
    expect(await t.mailsTo(ada.email)).toEqual([]);
    expect((await browser.post('/sign-in', { email: ada.email }, { csrf: token })).statusCode).toBe(200);
    expect(await t.mailsTo(ada.email)).toHaveLength(1);
  });
});
