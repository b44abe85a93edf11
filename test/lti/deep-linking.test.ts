// Deep Linking 2.0 and Dynamic Registration against the stand-in platform: an instructor places a cohort's week in the
// platform's course and a launch of that link lands on it; an admin registers a platform from its registration page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { insertCohort, insertUser, signInBrowser } from '../helpers/factories.js';
import { Browser } from '../helpers/http.js';
import { LTI, formOf } from '../helpers/lti-platform.js';
import { launch, ltiWorld, type LtiWorld } from './setup.js';

describe('deep linking', () => {
  let w: LtiWorld;
  beforeAll(async () => {
    w = await ltiWorld();
  });
  afterAll(async () => w?.close());

  const pick = async (spec: Parameters<typeof launch>[1] = { sub: 'teacher-1', roles: [LTI.instructor], email: w.instructor.email, messageType: 'LtiDeepLinkingRequest' }) => {
    const r = await launch(w, spec);
    expect(r.res.status, r.html.slice(0, 300)).toBe(200);
    return r;
  };

  it("an instructor picks a week of their cohort; the tool posts a signed LtiDeepLinkingResponse back, and the placed link opens that week", async () => {
    const r = await pick();
    expect(r.html).toContain('Place a cohort in your course');
    expect(r.html).toContain(`value="${w.cohort.id}:2"`);
    const form = formOf(r.html, '/lti/deep-link');
    const sent = await r.browser.post(`${w.appUrl}${form.action}`, { ...form.fields, choice: `${w.cohort.id}:2` }, w.appUrl);
    const page = await sent.text();
    expect(sent.status, page.replace(/[\s\S]*<main[^>]*>/, "").slice(0, 600)).toBe(200);
    // Form action allowed for the platform's origin on this page only; an auto-submit script and a button without it.
    expect(sent.headers.get('content-security-policy')).toMatch(new RegExp(`form-action 'self' ${w.platform.url}`));
    expect(page).toContain('data-auto-submit');
    expect(page).toContain('<button type="submit"');
    const back = formOf(page, '/deep-link-return');
    expect(back.action).toBe(`${w.platform.url}/deep-link-return`);
    const claims = decodeJwt(back.fields.JWT);
    expect(claims).toMatchObject({ iss: w.platform.clientId, aud: w.platform.issuer, [LTI.messageType]: 'LtiDeepLinkingResponse', [LTI.version]: '1.3.0', [LTI.deploymentId]: w.platform.deploymentId, [LTI.dlData]: 'opaque-platform-data' });
    expect(claims[LTI.contentItems]).toEqual([expect.objectContaining({ type: 'ltiResourceLink', url: `${w.appUrl}/lti/launch`, custom: { cohort_id: String(w.cohort.id), week: '2' } })]);
    // The platform verifies it against the tool's published key set.
    const placed = await fetch(back.action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(back.fields).toString() });
    expect(await placed.text()).toBe('placed');
    expect(w.platform.deepLinkResponses).toHaveLength(1);
    // A learner opening the placed link (its custom claims as the platform sends them) lands on that week.
    const item = (claims[LTI.contentItems] as Array<{ custom: Record<string, string> }>)[0];
    const opened = await launch(w, { sub: 'teacher-1', roles: [LTI.instructor], resourceLinkId: 'placed-link', custom: item.custom });
    expect(opened.res.headers.get('location')).toBe(`/cohorts/${w.cohort.id}/weeks/2`);
  });

  it("a learner's deep-linking launch is refused; a cohort they do not teach is refused; an old page has expired", async () => {
    const learnerTry = await launch(w, { sub: 'learner-1', roles: [LTI.learner], messageType: 'LtiDeepLinkingRequest' });
    expect(learnerTry.res.status).toBe(400);
    expect(learnerTry.html).toContain('Only the platform');
    const { cohort: other } = await insertCohort(w.t);
    const r = await pick();
    const form = formOf(r.html, '/lti/deep-link');
    const notTheirs = await r.browser.post(`${w.appUrl}${form.action}`, { ...form.fields, choice: String(other.id) }, w.appUrl);
    expect(notTheirs.status).toBe(403);
    w.t.clock.advance({ minutes: 31 });
    const late = await r.browser.post(`${w.appUrl}${form.action}`, { ...form.fields, choice: String(w.cohort.id) }, w.appUrl);
    expect(late.status).toBe(400);
    expect(await late.text()).toContain('expired');
    // The picking form is an ordinary page write: without its CSRF token it is refused.
    const forged = await r.browser.post(`${w.appUrl}${form.action}`, { token: form.fields.token, choice: String(w.cohort.id) }, w.appUrl);
    expect(forged.status).toBe(403);
  });

  it('an instructor teaching no cohort is told so', async () => {
    const r = await pick({ sub: 'teacher-2', roles: [LTI.instructor], email: 'new-teacher@county-libraries.example.org', messageType: 'LtiDeepLinkingRequest' });
    expect(r.html).toContain('You do not teach any cohort');
  });
});

describe('dynamic registration', () => {
  let w: LtiWorld;
  beforeAll(async () => {
    w = await ltiWorld({ register: false });
  });
  afterAll(async () => w?.close());

  it("a signed-in admin confirms the platform; the tool posts its registration and stores the platform; the page closes itself", async () => {
    const config = `${w.platform.url}/.well-known/openid-configuration`;
    const url = `/lti/register?${new URLSearchParams({ openid_configuration: config, registration_token: 'reg-token-1' })}`;
    const anonymous = await w.t.app.inject({ method: 'GET', url });
    expect(anonymous.statusCode).toBe(303);
    expect(anonymous.headers.location).toMatch(/^\/sign-in\?next=/);
    const learner = await insertUser(w.t, 'learner');
    expect((await (await signInBrowser(w.t, learner.email)).get(url)).statusCode).toBe(403);
    const admin = await signInBrowser(w.t, w.admin.email);
    const page = await admin.get(url);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(w.platform.issuer);
    expect(w.platform.registrations).toHaveLength(0);
    const done = await admin.post('/lti/register', { openid_configuration: config, registration_token: 'reg-token-1' }, { fromPage: url });
    expect(done.statusCode, done.body.slice(0, 300)).toBe(201);
    expect(done.body).toContain('/lti/close.js');
    const [reg] = w.platform.registrations;
    expect(reg).toMatchObject({ initiate_login_uri: `${w.appUrl}/lti/login`, redirect_uris: [`${w.appUrl}/lti/launch`], jwks_uri: `${w.appUrl}/lti/jwks.json`, token_endpoint_auth_method: 'private_key_jwt' });
    expect(String(reg.scope)).toContain('https://purl.imsglobal.org/spec/lti-ags/scope/score');
    const [stored] = await w.t.ctx.lti.list();
    expect(stored).toMatchObject({ issuer: w.platform.issuer, clientId: w.platform.clientId, deploymentIds: [w.platform.deploymentId], registeredVia: 'dynamic', tokenUrl: `${w.platform.url}/token` });
    // The platform now launches the tool.
    const r = await launch(w, { sub: 'u-1', roles: [LTI.learner], resourceLinkId: 'l' });
    expect(r.res.status).toBe(200);
    const close = await w.t.app.inject({ method: 'GET', url: '/lti/close.js' });
    expect(close.body).toContain('org.imsglobal.lti.close');
  });

  it('a wrong registration token, a configuration from another host, or none at all is a 400 page', async () => {
    const admin = await signInBrowser(w.t, w.admin.email);
    const config = `${w.platform.url}/.well-known/openid-configuration`;
    const page = `/lti/register?${new URLSearchParams({ openid_configuration: config })}`;
    const bad = await admin.post('/lti/register', { openid_configuration: config, registration_token: 'wrong' }, { fromPage: page });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('401');
    const elsewhere = await admin.get(`/lti/register?${new URLSearchParams({ openid_configuration: `${w.appUrl}/lti/jwks.json` })}`);
    expect(elsewhere.statusCode).toBe(400);
    expect((await admin.get('/lti/register')).statusCode).toBe(400);
    void Browser;
  });
});
