// LTI endpoints a platform and its users' browsers call (login initiation, launch, the key set, Dynamic
// Registration), the admin's platforms page, and the framing rules for pages opened from a platform.
//
// Framing: a platform shows the tool in an iframe, where the browser treats our cookies as third-party. We use
// cookies, not a launch token in URLs: over https the login's state cookie, and the session a launch opens, are
// `SameSite=None; Secure; Partitioned` (CHIPS: kept per platform site, so they work where third-party cookies are
// blocked but partitioned ones are allowed) and only those two are. Everything else keeps SameSite=Lax. CSRF
// protection is unchanged: page writes still need our own Origin and a session-bound token, which a framing
// platform cannot forge. Pages may be framed only by the platform the session was launched from (frame-ancestors
// names its origins; X-Frame-Options is dropped for them), and only for sessions a launch opened.
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { BadInput } from '../../server/errors.js';
import { hashToken } from '../../server/crypto.js';
import { requireRole, requireUser, SESSION_COOKIE, sessionCookieOptions } from '../../server/plugins/auth.js';
import type { Cohort } from '../cohorts/service.js';
import { SESSION_DAYS } from '../people/service.js';
import { LOGIN_STATE_MINUTES, type PlatformRow } from './model.js';
import type { LaunchOutcome, LoginParams } from './launch.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A route another site's server-made form posts to by design: auth.ts skips the origin and CSRF checks for it. */
    crossSiteForm?: boolean;
  }
}

export const STATE_COOKIE = 'cc_lti_state';
export const FRAME_COOKIE = 'cc_lti_frame';

const Text = (maxLength: number) => Type.Optional(Type.String({ maxLength }));
const LoginFields = Type.Object({
  iss: Text(2000),
  login_hint: Text(2000),
  target_link_uri: Text(2000),
  lti_message_hint: Text(4000),
  client_id: Text(200),
  lti_deployment_id: Text(200),
});
const PlatformForm = Type.Object({
  issuer: Text(2000),
  clientId: Text(2000),
  name: Text(2000),
  deploymentIds: Text(4000),
  authLoginUrl: Text(2000),
  tokenUrl: Text(2000),
  jwksUrl: Text(2000),
  _csrf: Text(200),
});

/** The origins a platform's pages are served from (its issuer and its authorisation endpoint). */
export function platformOrigins(p: Pick<PlatformRow, 'issuer' | 'authLoginUrl'>): string[] {
  const out = new Set<string>();
  for (const u of [p.issuer, p.authLoginUrl]) {
    try {
      out.add(new URL(u).origin);
    } catch {
      // not a URL: nothing to allow
    }
  }
  return [...out];
}

/** This reply may be framed by these origins (besides our own), and no others. */
export function allowFraming(reply: FastifyReply, origins: string[] | '*'): void {
  const csp = String(reply.getHeader('content-security-policy') ?? '');
  const ancestors = origins === '*' ? '*' : ["'self'", ...origins].join(' ');
  reply.header('content-security-policy', /frame-ancestors [^;]*/.test(csp) ? csp.replace(/frame-ancestors [^;]*/, `frame-ancestors ${ancestors}`) : `${csp};frame-ancestors ${ancestors}`);
  reply.removeHeader('x-frame-options');
}

/** Let a form on this reply post to `origin` as well (the deep-linking return to the platform). */
export function allowFormAction(reply: FastifyReply, origin: string): void {
  const csp = String(reply.getHeader('content-security-policy') ?? '');
  reply.header('content-security-policy', csp.replace(/form-action [^;]*/, (d) => `${d} ${origin}`));
}

/** Requests that are a launch signing someone in (their answer is framed and its cookies set for the frame). */
const launchedNow = new WeakSet<FastifyRequest>();

/**
 * Forms inside the frame need their CSRF cookie back, which a framed (third-party) page gets only when it is
 * SameSite=None: for a launched session's pages only, over https, partitioned like the session itself. The token
 * stays bound to the session and page writes still need our Origin (auth.ts), so nothing is weakened.
 */
function partitionCsrfCookie(reply: FastifyReply): void {
  const set = reply.getHeader('set-cookie');
  const list = Array.isArray(set) ? set : typeof set === 'string' ? [set] : [];
  if (!list.some((c) => c.startsWith('cc_csrf='))) return;
  // Fastify appends to set-cookie: take the old list away first.
  reply.removeHeader('set-cookie');
  reply.header('set-cookie', list.map((c) => (c.startsWith('cc_csrf=') ? `${c.replace(/;\s*SameSite=\w+/i, '')}; SameSite=None; Partitioned` : c)));
}

/**
 * Pages a launched session opens may be framed by its platform only: an onSend hook for every route of the app (added
 * by the module's plugin), checking the signed marker cookie the launch set belongs to this very session.
 */
export function frameLaunchedSessions(fastify: FastifyInstance): void {
  const { lti, baseUrl } = fastify.cc;
  const secure = baseUrl.startsWith('https://');
  fastify.addHook('onSend', async (request, reply, payload) => {
    // The launch's own answer (its page may hold a form already): framed by signIn; its CSRF cookie is set here.
    if (launchedNow.has(request)) {
      if (secure) partitionCsrfCookie(reply);
      return payload;
    }
    const marker = request.cookies[FRAME_COOKIE];
    if (!marker || !request.sessionToken) return payload;
    const unsigned = request.unsignCookie(marker);
    if (!unsigned.valid || !unsigned.value) return payload;
    const [platformId, sessionHash] = unsigned.value.split('.');
    if (sessionHash !== hashToken(request.sessionToken).slice(0, 32)) return payload;
    const platform = await lti.platform(Number(platformId));
    if (!platform) return payload;
    allowFraming(reply, platformOrigins(platform));
    if (secure) partitionCsrfCookie(reply);
    return payload;
  });
}

const CLOSE_SCRIPT = `// Dynamic Registration is done: tell the platform's window, which closes this frame or window.
(window.opener || window.parent).postMessage({ subject: 'org.imsglobal.lti.close' }, '*');
`;
const AUTO_SUBMIT_SCRIPT = `// Send the form marked for it at once (the page keeps its button for browsers without JavaScript).
var f = document.querySelector('form[data-auto-submit]');
if (f) f.submit();
`;

const pages: FastifyPluginAsync = async (app) => {
  const fastify = app.withTypeProvider<TypeBoxTypeProvider>();
  const { lti, prefix, baseUrl } = fastify.cc;
  const secure = baseUrl.startsWith('https://');
  // The two cookies that must reach us inside a platform's frame: cross-site only over https (see the top).
  const frameCookie = (path: string, maxAge: number) =>
    secure
      ? { path, httpOnly: true, secure: true, sameSite: 'none' as const, partitioned: true, maxAge }
      : { path, httpOnly: true, secure: false, sameSite: 'lax' as const, maxAge };

  const urls = () => ({
    login: `${baseUrl}/lti/login`,
    launch: `${baseUrl}/lti/launch`,
    jwks: `${baseUrl}/lti/jwks.json`,
    register: `${baseUrl}/lti/register`,
  });

  // ---- the endpoints platforms call ----

  fastify.get('/lti/jwks.json', { schema: { hide: true } }, async (_request, reply) => {
    return reply.header('cache-control', 'public, max-age=300').send(await lti.jwks());
  });

  const refused = (reply: FastifyReply, err: unknown) => {
    if (!(err instanceof BadInput)) throw err;
    // A refusal page holds no form and no action: any frame may show it, so the person inside the platform reads why.
    allowFraming(reply, '*');
    return reply.page('lti/refused', { title: 'This launch was refused', detail: err.message }, 400);
  };

  const login = async (params: LoginParams, reply: FastifyReply) => {
    let started: { redirectUrl: string; state: string };
    try {
      started = await lti.startLogin(params);
    } catch (err) {
      return refused(reply, err);
    }
    const { redirectUrl, state } = started;
    reply.setCookie(STATE_COOKIE, state, frameCookie(`${prefix}/lti`, LOGIN_STATE_MINUTES * 60));
    return reply.redirect(redirectUrl, 302);
  };
  // A platform starts a launch with a GET or a form post from its own site: no CSRF token, by design (crossSiteForm).
  fastify.get('/lti/login', { schema: { hide: true, querystring: LoginFields } }, async (request, reply) => login(request.query, reply));
  fastify.post('/lti/login', { config: { crossSiteForm: true }, schema: { hide: true, body: LoginFields } }, async (request, reply) => login(request.body ?? {}, reply));

  /** Sign the launched person in, in this browser (inside the platform's frame). */
  const signIn = (request: FastifyRequest, reply: FastifyReply, outcome: LaunchOutcome) => {
    launchedNow.add(request);
    const path = prefix || '/';
    const maxAge = SESSION_DAYS * 86400;
    reply.setCookie(SESSION_COOKIE, outcome.sessionToken, secure ? frameCookie(path, maxAge) : sessionCookieOptions(prefix, secure, maxAge));
    reply.setCookie(FRAME_COOKIE, `${outcome.platform.id}.${hashToken(outcome.sessionToken).slice(0, 32)}`, { ...frameCookie(path, maxAge), signed: true });
    reply.clearCookie(STATE_COOKIE, { path: `${prefix}/lti` });
    allowFraming(reply, platformOrigins(outcome.platform));
  };

  fastify.post(
    '/lti/launch',
    { config: { crossSiteForm: true }, schema: { hide: true, body: Type.Object({ id_token: Text(20_000), state: Text(200) }) } },
    async (request: FastifyRequest<{ Body: { id_token?: string; state?: string } }>, reply) => {
      let outcome: LaunchOutcome;
      try {
        outcome = await lti.launch({ idToken: request.body?.id_token, state: request.body?.state, stateCookie: request.cookies[STATE_COOKIE] ?? null });
      } catch (err) {
        return refused(reply, err);
      }
      signIn(request, reply, outcome);
      // This response's page is already the new session's: its form's CSRF token is bound to that session.
      request.user = outcome.user;
      request.sessionToken = outcome.sessionToken;
      if (outcome.kind === 'unmapped') {
        return reply.page('lti/unmapped', { title: 'This link is not set up yet', instructor: outcome.platformRole !== 'learner' && outcome.platformRole !== null });
      }
      if (outcome.kind === 'deep-linking') {
        const { token, cohorts } = await lti.startDeepLinking({ platformId: outcome.platform.id, deploymentId: outcome.deploymentId, returnUrl: outcome.returnUrl, data: outcome.data, userId: outcome.user.id });
        return reply.page('lti/deep-link', pickModel(token, cohorts));
      }
      const { cohort, week, roleInCohort } = outcome;
      if (roleInCohort) return reply.redirect(`${prefix}/cohorts/${cohort.id}${week ? `/weeks/${week}` : ''}`, 303);
      return reply.page('lti/no-place', {
        title: `You do not have a place in ${cohort.course.title} yet`,
        courseTitle: cohort.course.title,
        startDate: cohort.startDate,
        teaching: outcome.platformRole === 'instructor' || outcome.platformRole === 'admin',
        bookUrl: `${prefix}/courses/${cohort.courseSlug}`,
      });
    },
  );

  // ---- Deep Linking: the instructor's choice, sent back to the platform as a signed response ----

  function pickModel(token: string, cohorts: Cohort[], error?: string) {
    return {
      title: 'Place a cohort in your course',
      token,
      action: `${prefix}/lti/deep-link`,
      error,
      cohorts: cohorts.map((c) => ({
        id: c.id,
        label: `${c.course.title}, starting ${c.startDate}`,
        weeks: c.course.weeks.map((wk, i) => ({ value: `${c.id}:${i + 1}`, label: `Week ${i + 1}: ${wk.title}` })),
      })),
    };
  }

  fastify.post(
    '/lti/deep-link',
    { schema: { hide: true, body: Type.Object({ token: Text(8000), choice: Text(40), _csrf: Text(200) }) } },
    async (request, reply) => {
      const user = requireUser(request);
      try {
        const { returnUrl, jwt } = await lti.respond(user, request.body?.token ?? '', request.body?.choice ?? '');
        // The one form on this page posts to the platform: allowed for its origin only.
        allowFormAction(reply, new URL(returnUrl).origin);
        return reply.page('lti/deep-link-return', { title: 'Placing the link', returnUrl, jwt, script: `${prefix}/lti/auto-submit.js` });
      } catch (err) {
        const e = err as { statusCode?: number; message?: string };
        if (e.statusCode === 400 && request.body?.token && !/expired/.test(String(e.message))) {
          return reply.page('lti/deep-link', pickModel(request.body.token, await lti.placeable(user), String(e.message)), 400);
        }
        throw err;
      }
    },
  );

  fastify.get('/lti/close.js', { schema: { hide: true } }, async (_request, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(CLOSE_SCRIPT));
  fastify.get('/lti/auto-submit.js', { schema: { hide: true } }, async (_request, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(AUTO_SUBMIT_SCRIPT));

  // ---- Dynamic Registration: an admin, signed in, confirms; the tool then registers itself with the platform ----

  const RegisterQuery = Type.Object({ openid_configuration: Text(2000), registration_token: Text(4000) });

  fastify.get('/lti/register', { schema: { hide: true, querystring: RegisterQuery } }, async (request, reply) => {
    requireRole(request, 'admin');
    const { openid_configuration: configUrl, registration_token: token } = request.query;
    if (!configUrl) throw new BadInput('Dynamic Registration needs the openid_configuration the platform gives.');
    const conf = await lti.readOpenIdConfiguration(configUrl);
    return reply.page('lti/register', { title: 'Register this platform', conf, configUrl, token: token ?? '', action: `${prefix}/lti/register` });
  });

  fastify.post(
    '/lti/register',
    { schema: { hide: true, body: Type.Object({ openid_configuration: Text(2000), registration_token: Text(4000), _csrf: Text(200) }) } },
    async (request, reply) => {
      const admin = requireRole(request, 'admin');
      const configUrl = request.body?.openid_configuration;
      if (!configUrl) throw new BadInput('Dynamic Registration needs the openid_configuration the platform gives.');
      const platform = await lti.completeDynamicRegistration(configUrl, request.body?.registration_token || undefined, admin);
      return reply.page('lti/registered', { title: 'Platform registered', platform, closeScript: `${prefix}/lti/close.js` }, 201);
    },
  );

  // ---- the roster sync button on the cohort's staff page ----

  fastify.post('/cohorts/:id/lti/roster-sync', { schema: { hide: true, params: Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) }), body: Type.Object({ _csrf: Text(200) }) } }, async (request, reply) => {
    const report = await lti.syncRoster(requireUser(request), request.params.id);
    return reply.page('lti/roster-synced', { title: 'Class list synced', report, backUrl: `${prefix}/teach/cohorts/${request.params.id}` });
  });

  // ---- the admin's page: platforms, the URLs to give a platform, and a form to register one ----

  async function adminPage(reply: FastifyReply, extra: { form?: Record<string, string>; errors?: Record<string, string>; error?: string; created?: boolean } = {}, status = 200) {
    const platforms = (await lti.list()).map((p) => ({ ...p, deployments: p.deploymentIds.join(', '), created: p.createdAt.toISOString().slice(0, 10) }));
    return reply.page('lti/admin', { title: 'LTI platforms', platforms, urls: urls(), form: extra.form ?? {}, errors: extra.errors ?? {}, error: extra.error, created: extra.created, action: `${prefix}/admin/lti` }, status);
  }

  fastify.get('/admin/lti', { schema: { hide: true, querystring: Type.Object({ created: Text(5) }) } }, async (request, reply) => {
    requireRole(request, 'admin');
    return adminPage(reply, { created: request.query.created === '1' });
  });

  fastify.post('/admin/lti', { schema: { hide: true, body: PlatformForm }, attachValidation: true }, async (request, reply) => {
    const admin = requireRole(request, 'admin');
    const form = Object.fromEntries(Object.entries((request.body ?? {}) as Record<string, string | undefined>).filter(([k]) => k !== '_csrf').map(([k, v]) => [k, String(v ?? '')]));
    if (request.validationError) return adminPage(reply, { form, error: 'Some of the fields are far too long. Check them and try again.' }, 400);
    try {
      await lti.register(
        { ...form, deploymentIds: (form.deploymentIds ?? '').split(/[\s,]+/).filter(Boolean) },
        admin,
        'page',
      );
    } catch (err) {
      const e = err as { statusCode?: number; field?: string | null; reason?: string; message?: string };
      if (e.statusCode === 400 || e.statusCode === 409) {
        return adminPage(reply, { form, errors: e.field ? { [e.field]: e.reason ?? String(e.message) } : {}, error: String(e.message) }, e.statusCode);
      }
      throw err;
    }
    return reply.redirect(`${prefix}/admin/lti?created=1`, 303);
  });
};

export default pages;
