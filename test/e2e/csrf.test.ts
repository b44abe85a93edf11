// Cross-site request forgery from another port of the same host (issue #25), in Chromium: a page there plants the CSRF
// cookie and token it fetched anonymously and posts a form to the app as the signed-in victim. Nothing may change.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { afterJourney, launchBrowser, Person, startServer, type E2EServer } from './harness.js';

/** A second site on 127.0.0.1, another port: the same site for cookies (they ignore ports), another origin. */
interface OtherSite {
  origin: string;
  /** What GET / answers: a page, and the cookies it sets for 127.0.0.1. */
  serve(html: string, setCookies: string[]): void;
  close(): Promise<void>;
}

async function startOtherSite(): Promise<OtherSite> {
  let page = '';
  let cookies: string[] = [];
  const srv: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'set-cookie': cookies });
    res.end(page);
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
    serve(html, setCookies) {
      page = html;
      cookies = setCookies;
    },
    close: () => new Promise<void>((resolve) => srv.close(() => resolve())),
  };
}

/** What an attacker gets by opening the sign-in page anonymously: a form token and the `cc_csrf` cookie it fits. */
async function anonymousToken(server: E2EServer): Promise<{ token: string; cookie: string }> {
  const res = await fetch(`${server.baseUrl}/sign-in`);
  const token = /name="_csrf" value="([^"]+)"/.exec(await res.text())?.[1];
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('cc_csrf='))?.split(';')[0];
  if (!token || !cookie) throw new Error('the sign-in page gave no CSRF token and cookie');
  return { token, cookie };
}

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/** A page that plants the cookie (as a Set-Cookie for 127.0.0.1, path /) and posts a form to the app at once. */
function forgery(action: string, fields: Record<string, string>): string {
  const inputs = Object.entries(fields)
    .map(([k, v]) => `<input type="hidden" name="${escapeAttr(k)}" value="${escapeAttr(v)}">`)
    .join('');
  return `<!doctype html><html lang="en"><head><title>Win a prize</title></head><body><form method="post" action="${escapeAttr(action)}">${inputs}</form><script>document.forms[0].submit()</script></body></html>`;
}

let server: E2EServer;
let browser: Browser;
let other: OtherSite;

beforeAll(async () => {
  [server, browser, other] = await Promise.all([startServer(), launchBrowser(), startOtherSite()]);
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  await other?.close();
});
afterEach(async (ctx) => afterJourney(ctx.task));

/**
 * Open the other site in a new tab of the victim's browser (their cookies) and wait for the forged form's answer. The
 * tab is not the Person's page, so the other site's page needs no accessibility audit; the answer is checked here.
 */
async function sendForgery(victim: Person, action: string, fields: Record<string, string>) {
  const { token, cookie } = await anonymousToken(server);
  other.serve(forgery(`${server.baseUrl}${action}`, { _csrf: token, ...fields }), [`${cookie}; Path=/; HttpOnly; SameSite=Lax`]);
  const tab = await victim.context.newPage();
  const [answer] = await Promise.all([
    tab.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === action),
    tab.goto(`${other.origin}/`),
  ]);
  await tab.waitForLoadState('load');
  // The planted cookie really replaced the app's own: the browser holds the attacker's value for the app's host.
  const held = (await victim.context.cookies(server.baseUrl)).find((c) => c.name === 'cc_csrf');
  expect(`cc_csrf=${held?.value}`).toBe(cookie);
  const heading = await tab.getByRole('heading', { level: 1 }).textContent();
  await tab.close();
  return { status: answer.status(), heading };
}

describe('a form posted from another port of the same host, with a planted CSRF cookie and token', () => {
  it('cannot change a signed-in learner’s profile; their own form still works afterwards', async () => {
    const ada = await server.ctx.people.upsert({ email: 'ada.victim@example.org', name: 'Ada Victim', role: 'learner' });
    const victim = await Person.open(browser, server, 'learner');
    await victim.signIn(ada.email);

    const forged = await sendForgery(victim, '/profile', { name: 'Mallory was here', timezone: 'Pacific/Kiritimati' });
    expect(forged.status).toBe(403);
    expect(forged.heading).toBe('Not allowed');
    expect(await server.ctx.people.get(ada.id)).toMatchObject({ name: 'Ada Victim', timezone: null });

    // The cookie the attacker planted is still in the victim's browser: the victim's own form, from the app's page,
    // is accepted (its token is bound to the victim's session), and the attacker's token is not.
    await victim.goto('/profile');
    await victim.page.getByLabel('Your name').fill('Ada V. Reader');
    await victim.clickAndLoad(victim.page.getByRole('button', { name: 'Save' }), 200);
    await victim.page.getByRole('status').filter({ hasText: 'Your profile is saved.' }).waitFor();
    expect((await server.ctx.people.get(ada.id)).name).toBe('Ada V. Reader');
  });

  it('cannot add a domain to the member list as a signed-in admin', async () => {
    const admin = await server.ctx.people.upsert({ email: 'root.victim@example.org', name: 'Root Victim', role: 'admin' });
    const victim = await Person.open(browser, server, 'admin');
    await victim.signIn(admin.email);

    const forged = await sendForgery(victim, '/admin/members', { value: 'attacker.example' });
    expect(forged.status).toBe(403);
    expect(forged.heading).toBe('Not allowed');
    expect((await server.ctx.bookings.listMembers()).map((m) => m.domain)).not.toContain('attacker.example');
  });
});
