// LTI 1.3 core: registering a platform (API, admin page), the tool's key set, login initiation and launch against a
// stand-in platform on real HTTP, and the IMS certification suite's refusals (each a clear 400, never a 500).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { enrolLearner, insertUser, signInBrowser } from '../helpers/factories.js';
import { apiAs } from '../helpers/http.js';
import { HttpBrowser, LTI, formOf } from '../helpers/lti-platform.js';
import { ltiAccounts } from '../../modules/lti/schema.js';
import { launch, ltiWorld, type LtiWorld } from './setup.js';

let w: LtiWorld;
beforeAll(async () => {
  w = await ltiWorld();
});
afterAll(async () => w?.close());

const refusedWith = async (r: { res: Response; html: string }, text: RegExp) => {
  expect(r.res.status, r.html.slice(0, 400)).toBe(400);
  expect(r.res.headers.get('content-type')).toContain('text/html');
  expect(r.html).toMatch(text);
  // Nobody was signed in by a refused launch.
  expect(r.res.headers.getSetCookie().some((c) => c.startsWith('cc_session='))).toBe(false);
};

describe('registering a platform', () => {
  it('an admin registers by API (201), gets 409 for the same issuer and client id, 400 for bad input; others are refused', async () => {
    const api = apiAs(w.t.app, w.admin.token);
    const reg = { ...w.platform.registration, clientId: 'second-client' };
    const made = await api('POST', '/api/v1/lti/platforms', reg);
    expect(made.statusCode).toBe(201);
    expect(made.json()).toMatchObject({ issuer: w.platform.issuer, clientId: 'second-client', deploymentIds: ['deployment-1'], registeredVia: 'api' });
    const again = await api('POST', '/api/v1/lti/platforms', reg);
    expect(again.statusCode).toBe(409);
    expect(again.headers['content-type']).toContain('application/problem+json');
    for (const bad of [
      { ...reg, clientId: 'x3', jwksUrl: 'http://platform.example.org/jwks' },
      { ...reg, clientId: 'x4', issuer: 'not a url' },
      { ...reg, clientId: 'x5', deploymentIds: [] },
      { ...reg, clientId: 'x6', tokenUrl: undefined },
    ]) {
      const res = await api('POST', '/api/v1/lti/platforms', bad);
      expect(res.statusCode, JSON.stringify(bad)).toBe(400);
      expect(res.json().detail).toBeTruthy();
    }
    const list = await api('GET', '/api/v1/lti/platforms');
    expect(list.json().map((p: { clientId: string }) => p.clientId)).toEqual([w.platform.clientId, 'second-client']);
    expect((await apiAs(w.t.app, null)('GET', '/api/v1/lti/platforms')).statusCode).toBe(401);
    const learner = await insertUser(w.t, 'learner');
    expect((await apiAs(w.t.app, learner.token)('POST', '/api/v1/lti/platforms', { ...reg, clientId: 'x7' })).statusCode).toBe(403);
  });

  it('an admin registers one with the form on the LTI admin page (no JavaScript, CSRF token), and a bad field is shown beside it', async () => {
    const browser = await signInBrowser(w.t, w.admin.email);
    const page = await browser.get('/admin/lti');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(`${w.appUrl}/lti/login`);
    expect(page.body).toContain(`${w.appUrl}/lti/jwks.json`);
    const fields = { ...w.platform.registration, clientId: 'form-client', deploymentIds: 'dep-a, dep-b' };
    const bad = await browser.post('/admin/lti', { ...fields, tokenUrl: 'ftp://x' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('id="tokenUrl-error"');
    const ok = await browser.post('/admin/lti', fields);
    expect(ok.statusCode).toBe(303);
    const list = (await w.t.ctx.lti.list()).find((p) => p.clientId === 'form-client');
    expect(list).toMatchObject({ deploymentIds: ['dep-a', 'dep-b'], registeredVia: 'page' });
  });
});

describe("the tool's key set", () => {
  it('publishes one RS256 public key with a kid, made once and kept in the database', async () => {
    const first = (await (await fetch(`${w.appUrl}/lti/jwks.json`)).json()) as { keys: Array<Record<string, string>> };
    expect(first.keys).toHaveLength(1);
    expect(first.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    expect(first.keys[0].kid).toBeTruthy();
    expect(first.keys[0].d).toBeUndefined();
    const again = (await (await fetch(`${w.appUrl}/lti/jwks.json`)).json()) as { keys: Array<Record<string, string>> };
    expect(again.keys[0].kid).toBe(first.keys[0].kid);
  });
});

describe('a launch', () => {
  it('a learner of the cohort launches from the platform, is signed in and lands on the cohort home, which the platform may frame', async () => {
    const learner = await enrolLearner(w.t, w.cohort.id, 'Lea Learner');
    const r = await launch(w, { sub: 'moodle-user-1', roles: [LTI.learner], email: learner.email, name: 'Lea Learner', custom: { cohort_id: String(w.cohort.id) } });
    expect(r.res.status, r.html.slice(0, 300)).toBe(303);
    expect(r.res.headers.get('location')).toBe(`/cohorts/${w.cohort.id}`);
    // The login sent the browser to the platform with a state and nonce, over form_post.
    const auth = w.platform.authRequests.at(-1)!;
    expect(auth.get('response_mode')).toBe('form_post');
    expect(auth.get('redirect_uri')).toBe(`${w.appUrl}/lti/launch`);
    expect(auth.get('nonce')).toBeTruthy();
    const home = await r.browser.get(`${w.appUrl}/cohorts/${w.cohort.id}`);
    expect(home.status).toBe(200);
    expect(await home.text()).toContain(w.cohort.course.title);
    expect(home.headers.get('x-frame-options')).toBeNull();
    expect(home.headers.get('content-security-policy')).toContain(`frame-ancestors 'self' ${w.platform.url}`);
    const [linked] = await w.t.ctx.db.select().from(ltiAccounts).where(eq(ltiAccounts.sub, 'moodle-user-1'));
    expect(linked.userId).toBe(learner.user.id);
    // A page outside an LTI session keeps the usual frame protection.
    const plain = await w.t.app.inject({ method: 'GET', url: '/' });
    expect(plain.headers['content-security-policy']).toContain("frame-ancestors 'self'");
    expect(plain.headers['content-security-policy']).not.toContain(w.platform.url);
  });

  it('the same platform user is the same person next time, even without an email claim; a stored link needs no custom claim', async () => {
    const r = await launch(w, { sub: 'moodle-user-1', roles: [LTI.learner] });
    expect(r.res.status).toBe(303);
    expect(r.res.headers.get('location')).toBe(`/cohorts/${w.cohort.id}`);
  });

  it('a learner without a place gets a page saying so (not enrolled by the launch); a new account is made for them', async () => {
    const r = await launch(w, { sub: 'moodle-user-2', roles: [LTI.learner], email: 'newcomer@county-libraries.example.org', name: 'New Comer', custom: { cohort_id: String(w.cohort.id) } });
    expect(r.res.status).toBe(200);
    expect(r.html).toContain('You do not have a place');
    const user = await w.t.ctx.people.findByEmail('newcomer@county-libraries.example.org');
    expect(user?.role).toBe('learner');
    expect(await w.t.ctx.cohorts.roleIn(user!, w.cohort.id)).toBeNull();
  });

  it("the cohort's instructor lands on the cohort; the week in the link is kept; an admin account is never taken over by an email claim", async () => {
    const r = await launch(w, { sub: 'moodle-teacher', roles: [LTI.instructor], email: w.instructor.email, resourceLinkId: 'link-week-2', custom: { cohort_id: String(w.cohort.id), week: '2' } });
    expect(r.res.headers.get('location')).toBe(`/cohorts/${w.cohort.id}/weeks/2`);
    const admin = await launch(w, { sub: 'moodle-admin', roles: [LTI.administrator], email: w.admin.email, custom: { cohort_id: String(w.cohort.id) } });
    expect(admin.res.status).toBe(200);
    const [linked] = await w.t.ctx.db.select().from(ltiAccounts).where(eq(ltiAccounts.sub, 'moodle-admin'));
    expect(linked.userId).not.toBe(w.admin.user.id);
    const made = await w.t.ctx.people.get(linked.userId);
    expect(made.role).toBe('instructor');
    expect(made.email).toMatch(/\.lti\.invalid$/);
  });

  it('a link that names no cohort, and one naming a cohort that does not exist, say so', async () => {
    const r = await launch(w, { sub: 'moodle-user-3', roles: [LTI.learner], resourceLinkId: 'never-placed' });
    expect(r.res.status).toBe(200);
    expect(r.html).toContain('not set up yet');
    await refusedWith(await launch(w, { sub: 'moodle-user-3', roles: [LTI.learner], resourceLinkId: 'gone', custom: { cohort_id: '999999' } }), /cohort 999999/);
  });
});

describe('refused launches (IMS certification negatives)', () => {
  const spec = () => ({ sub: 'neg-user', roles: [LTI.learner], custom: { cohort_id: String(w.cohort.id) } });

  it('a bad signature', async () => {
    await refusedWith(await launch(w, { ...spec(), forgeSignature: true }), /signature/);
  });

  it('a wrong audience, and several audiences without this tool as the authorised party', async () => {
    await refusedWith(await launch(w, spec(), { beforePost: async (f) => void (f.id_token = await w.platform.idToken(spec(), nonceOf(f), { audience: 'someone-else' })) }), /audience/);
    await refusedWith(await launch(w, spec(), { beforePost: async (f) => void (f.id_token = await w.platform.idToken(spec(), nonceOf(f), { audience: [w.platform.clientId, 'other'] })) }), /azp/);
    // With azp naming us, several audiences are fine.
    const ok = await launch(w, spec(), { beforePost: async (f) => void (f.id_token = await w.platform.idToken(spec(), nonceOf(f), { audience: [w.platform.clientId, 'other'], azp: w.platform.clientId })) });
    expect(ok.res.status).not.toBe(400);
  });

  it('an expired token: issued long ago, or the clock walked past its exp while the browser waited', async () => {
    await refusedWith(await launch(w, { ...spec(), shiftSeconds: -1000 }), /expired|iat/);
    await refusedWith(await launch(w, spec(), { beforePost: () => w.t.clock.advance({ minutes: 7 }) }), /expired/);
  });

  it('a replayed nonce: the same token and state twice, and the same token with a fresh state', async () => {
    const first = await launch(w, spec());
    expect(first.res.status).toBe(200);
    // The launch cleared the state cookie; a replaying attacker who kept it too finds the state used up on the server.
    first.browser.cookies.set('cc_lti_state', first.fields.state);
    const replay = await first.browser.post(`${w.appUrl}/lti/launch`, first.fields, w.platform.url);
    await refusedWith({ res: replay, html: await replay.text() }, /already used/);
    const second = await launch(w, spec(), { beforePost: (f) => void (f.id_token = first.fields.id_token) });
    await refusedWith(second, /nonce/);
  });

  it('an unknown deployment, at login and at launch', async () => {
    const q = new URLSearchParams({ iss: w.platform.issuer, login_hint: 'x', target_link_uri: `${w.appUrl}/lti/launch`, lti_deployment_id: 'not-ours' });
    const login = await fetch(`${w.appUrl}/lti/login?${q}`, { redirect: 'manual' });
    expect(login.status).toBe(400);
    await refusedWith(await launch(w, { ...spec(), tamper: (c) => void (c[LTI.deploymentId] = 'not-ours') }), /deployment not-ours/);
  });

  it('missing claims: message type, version, roles, resource link, subject', async () => {
    await refusedWith(await launch(w, { ...spec(), tamper: (c) => void delete c[LTI.messageType] }), /message_type/);
    await refusedWith(await launch(w, { ...spec(), tamper: (c) => void (c[LTI.version] = '1.1') }), /version/);
    await refusedWith(await launch(w, { ...spec(), tamper: (c) => void delete c[LTI.roles] }), /roles/);
    await refusedWith(await launch(w, { ...spec(), tamper: (c) => void delete c[LTI.resourceLink] }), /resource_link/);
    await refusedWith(await launch(w, { ...spec(), sub: '' }), /sub/);
    await refusedWith(await launch(w, { ...spec(), tamper: (c) => void delete c.nonce }), /nonce/);
  });

  it('a state that does not match the browser, an unknown issuer, a foreign target, a post without a token', async () => {
    await refusedWith(await launch(w, spec(), { beforePost: (f) => void (f.state = 'x'.repeat(43)) }), /browser that started it/);
    // The platform's form posted from another browser than the one that started the login (no state cookie).
    const elsewhere = await launch(w, spec(), { beforePost: () => void 0 });
    const other = await new HttpBrowser(w.appUrl).post(`${w.appUrl}/lti/launch`, elsewhere.fields, w.platform.url);
    await refusedWith({ res: other, html: await other.text() }, /already used|browser that started it/);
    const unknown = await fetch(`${w.appUrl}/lti/login?${new URLSearchParams({ iss: 'https://unknown.example.org', login_hint: 'x', target_link_uri: `${w.appUrl}/lti/launch` })}`, { redirect: 'manual' });
    expect(unknown.status).toBe(400);
    // Shown inside the platform's frame: a refusal page (no form, no action) may be framed by anyone.
    expect(unknown.headers.get('content-security-policy')).toContain('frame-ancestors *');
    expect(await unknown.text()).toContain('No platform with the issuer https://unknown.example.org');
    await refusedWith(await launch(w, { ...spec(), tamper: (c) => void (c[LTI.targetLinkUri] = 'https://evil.example.org/launch') }), /target_link_uri/);
    const foreign = await fetch(`${w.appUrl}/lti/login?${new URLSearchParams({ iss: w.platform.issuer, login_hint: 'x', client_id: w.platform.clientId, target_link_uri: 'https://evil.example.org/' })}`, { redirect: 'manual' });
    expect(foreign.status).toBe(400);
    const empty = await new HttpBrowser(w.appUrl).post(`${w.appUrl}/lti/launch`, {}, w.platform.url);
    expect(empty.status).toBe(400);
    const junk = await new HttpBrowser(w.appUrl).post(`${w.appUrl}/lti/launch`, { id_token: 'not.a.jwt', state: 's' }, w.platform.url);
    expect(junk.status).toBe(400);
  });
});

function nonceOf(fields: Record<string, string>): string {
  return JSON.parse(Buffer.from(fields.id_token.split('.')[1], 'base64url').toString()).nonce as string;
}

void formOf;

describe('framing over https', () => {
  it("only the login's state cookie, the launched session and its pages' CSRF cookie are SameSite=None; Secure; Partitioned; pages are framed by the platform only", async () => {
    const { createTestApp } = await import('../helpers/app.js');
    const { startLtiPlatform } = await import('../helpers/lti-platform.js');
    const { enrolLearner: enrol, insertCohort } = await import('../helpers/factories.js');
    const t = await createTestApp({ baseUrl: 'https://cohort.test' });
    const platform = await startLtiPlatform({ now: () => t.clock.now(), toolUrl: 'https://cohort.test' });
    try {
      await t.ctx.lti.register(platform.registration, null, 'api');
      const { cohort } = await insertCohort(t);
      const learner = await enrol(t, cohort.id);
      platform.prepare('h', { sub: 's-1', roles: [LTI.learner], email: learner.email, custom: { cohort_id: String(cohort.id) } });
      const q = new URLSearchParams({ iss: platform.issuer, login_hint: 'h', target_link_uri: 'https://cohort.test/lti/launch', client_id: platform.clientId });
      const login = await t.app.inject({ method: 'GET', url: `/lti/login?${q}` });
      expect(login.statusCode).toBe(302);
      const stateCookie = String(([] as string[]).concat(login.headers['set-cookie'] ?? []).find((c) => c.startsWith('cc_lti_state=')));
      expect(stateCookie).toMatch(/SameSite=None/);
      expect(stateCookie).toMatch(/Secure/);
      expect(stateCookie).toMatch(/Partitioned/);
      const form = formOf(await (await fetch(String(login.headers.location))).text());
      const res = await t.app.inject({ method: 'POST', url: '/lti/launch', payload: new URLSearchParams(form.fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', origin: platform.url, cookie: `cc_lti_state=${form.fields.state}` } });
      expect(res.statusCode, res.body.slice(0, 300)).toBe(303);
      const set = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
      const session = set.find((c) => c.startsWith('cc_session='))!;
      expect(session).toMatch(/SameSite=None/);
      expect(session).toMatch(/Secure/);
      expect(session).toMatch(/Partitioned/);
      const cookie = set.filter((c) => !c.includes('Max-Age=0')).map((c) => c.split(';')[0]).join('; ');
      const profile = await t.app.inject({ method: 'GET', url: '/profile', headers: { cookie } });
      expect(profile.statusCode).toBe(200);
      expect(String(profile.headers['content-security-policy'])).toContain(`frame-ancestors 'self' ${platform.url}`);
      const csrf = ([] as string[]).concat(profile.headers['set-cookie'] ?? []).find((c) => c.startsWith('cc_csrf='))!;
      expect(csrf).toMatch(/SameSite=None; Partitioned/);
      expect(csrf).not.toMatch(/SameSite=Lax/);
      // A deep-linking launch answers with its form at once: that page's CSRF cookie is the frame's too.
      const { cohort: taught, instructor } = await insertCohort(t);
      void taught;
      platform.prepare('dl', { sub: 's-2', roles: [LTI.instructor], email: instructor.email, messageType: 'LtiDeepLinkingRequest' });
      const dlLogin = await t.app.inject({ method: 'GET', url: `/lti/login?${new URLSearchParams({ iss: platform.issuer, login_hint: 'dl', target_link_uri: 'https://cohort.test/lti/launch', client_id: platform.clientId })}` });
      const dlForm = formOf(await (await fetch(String(dlLogin.headers.location))).text());
      const dl = await t.app.inject({ method: 'POST', url: '/lti/launch', payload: new URLSearchParams(dlForm.fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', origin: platform.url, cookie: `cc_lti_state=${dlForm.fields.state}` } });
      expect(dl.statusCode, dl.body.slice(0, 300)).toBe(200);
      expect(dl.body).toContain('Place a cohort');
      expect(String(([] as string[]).concat(dl.headers['set-cookie'] ?? []).find((c) => c.startsWith('cc_csrf=')))).toMatch(/SameSite=None; Partitioned/);
      expect(String(dl.headers['content-security-policy'])).toContain(`frame-ancestors 'self' ${platform.url}`);
      // Someone else's page, without a launched session, keeps SameSite=Lax and frame-ancestors 'self'.
      const plain = await t.app.inject({ method: 'GET', url: '/sign-in' });
      expect(String(([] as string[]).concat(plain.headers['set-cookie'] ?? []).find((c) => c.startsWith('cc_csrf=')))).toMatch(/SameSite=Lax/);
      expect(String(plain.headers['content-security-policy'])).toContain("frame-ancestors 'self'");
      expect(plain.headers['x-frame-options']).toBe('SAMEORIGIN');
    } finally {
      await platform.close();
      await t.close();
    }
  });
});
