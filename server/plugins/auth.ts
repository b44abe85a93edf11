// Who is asking: the session cookie or a Bearer token becomes request.user; CSRF and origin checks on writes.
import fp from 'fastify-plugin';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { User } from '../../modules/people/service.js';
import type { Role } from '../../modules/people/schema.js';
import { hashToken } from '../crypto.js';
import { Forbidden, NotSignedIn, UnsupportedMediaType } from '../errors.js';

export const SESSION_COOKIE = 'cc_session';

declare module 'fastify' {
  interface FastifyRequest {
    user: User | null;
    authVia: 'session' | 'token' | null;
    sessionToken: string | null;
  }
}

/** True for JSON API routes (problem+json errors, no CSRF token: JSON only and same-origin checked). */
export function isApiRequest(request: FastifyRequest, prefix: string): boolean {
  return request.url.startsWith(`${prefix}/api/`);
}

/** The signed-in user, or a 401. */
export function requireUser(request: FastifyRequest): User {
  if (!request.user) throw new NotSignedIn();
  return request.user;
}

/** The signed-in user holding one of the roles, else 401/403. */
export function requireRole(request: FastifyRequest, ...roles: Role[]): User {
  const user = requireUser(request);
  if (!roles.includes(user.role)) throw new Forbidden('Your account does not have access to this.');
  return user;
}

const WRITE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * What a form's CSRF token is bound to (the `userInfo` of @fastify/csrf-protection, mixed into the token with a key
 * derived from the session secret): the browser session, or "anonymous" before sign-in. The secret half lives in the
 * `cc_csrf` cookie, and any page on another port of the same host can plant that cookie (cookies ignore ports), so a
 * token and cookie fetched by someone else must not be enough: bound to the session, they do not fit the victim's.
 *
 * Before sign-in there is no session to bind to. A pre-session cookie would not help, for the same reason: another
 * origin on the host can plant that one too. What protects the anonymous forms (sign-in, its confirmation, booking)
 * is that every page write must come from this app's own origin (`sameOrigin` below), which a page elsewhere cannot
 * make a browser claim; the anonymous token still stops a form posted without one.
 */
export function csrfBinding(request: FastifyRequest): string {
  return request.sessionToken ? `session:${hashToken(request.sessionToken)}` : 'anonymous';
}

export default fp(
  async (fastify, opts: { prefix: string; baseUrl: string; secureCookies: boolean }) => {
    // Looked up per request: this plugin is registered before the people module sets the service.
    const people = () => fastify.cc.people;
    const baseOrigin = new URL(opts.baseUrl).origin;
    fastify.decorateRequest('user', null);
    fastify.decorateRequest('authVia', null);
    fastify.decorateRequest('sessionToken', null);

    fastify.addHook('onRequest', async (request) => {
      const header = request.headers.authorization;
      if (header?.startsWith('Bearer ')) {
        const user = await people().userForApiToken(header.slice(7).trim());
        if (!user) throw new NotSignedIn();
        request.user = user;
        request.authVia = 'token';
        return;
      }
      const cookie = request.cookies[SESSION_COOKIE];
      if (cookie) {
        const user = await people().userForSession(cookie);
        if (user) {
          request.user = user;
          request.authVia = 'session';
          request.sessionToken = cookie;
        }
      }
    });

    /**
     * A write a browser sent from one of this app's own pages: its Origin is exactly the app's (from BASE_URL), or it
     * names no other origin (absent, or `null`) and Sec-Fetch-Site says same-origin. Browsers set both headers and
     * pages cannot. `null` alone is not enough: it is what a form bounced here by a 307 from another server on the
     * host carries (its Sec-Fetch-Site is then same-site), as do sandboxed frames. A page of ours under
     * `Referrer-Policy: no-referrer` also made Chromium send `null` for its own forms, so the policy is `same-origin`
     * (app.ts); Sec-Fetch-Site covers any page that still sends `null`. Another port or host, and a write with
     * neither header (not a browser, or one too old to say), are refused.
     */
    function sameOrigin(request: FastifyRequest): boolean {
      const origin = request.headers.origin;
      if (origin === baseOrigin) return true;
      return (origin === undefined || origin === 'null') && request.headers['sec-fetch-site'] === 'same-origin';
    }

    // Page writes must come from this app's own pages and carry a CSRF token bound to the session; cookie-authenticated
    // API writes must come from this app's own pages and be JSON. Bearer-token and anonymous API calls carry no
    // ambient authority, so neither check applies to them.
    fastify.addHook('preValidation', async (request: FastifyRequest, reply: FastifyReply) => {
      if (!WRITE.has(request.method)) return;
      // Routes another site's server-made form posts to by design (LTI's login and launch, from the platform): they
      // carry no ambient authority of ours and check their own signed proof (a platform-signed id_token, state).
      if ((request.routeOptions.config as { crossSiteForm?: boolean } | undefined)?.crossSiteForm === true) return;
      if (isApiRequest(request, opts.prefix)) {
        if (request.authVia !== 'session') return;
        if (!sameOrigin(request)) {
          throw new Forbidden(
            `With a browser session the API accepts writes only from this site's own pages (Origin: ${baseOrigin}). Scripts use an API token (Authorization: Bearer).`,
          );
        }
        // A cross-site HTML form can send url-encoded bodies without a preflight; the API takes JSON (and uploads).
        if ((request.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')) {
          throw new UnsupportedMediaType('With a browser session the API takes JSON (Content-Type: application/json).');
        }
        return;
      }
      if (!sameOrigin(request)) {
        const from = describeOrigin(request);
        throw new Forbidden(`This form was sent from ${from}, not from this site, so nothing was changed. Open the page at ${opts.baseUrl} and try again.`);
      }
      await new Promise<void>((resolve, reject) => {
        fastify.csrfProtection(request, reply, (err?: Error) => (err ? reject(err) : resolve()));
      });
    });
  },
  { name: 'auth', dependencies: ['@fastify/cookie', '@fastify/csrf-protection'] },
);

/** Where a refused form came from, in words for the error page (the header is shown only when it is a plain origin). */
function describeOrigin(request: FastifyRequest): string {
  const origin = request.headers.origin;
  if (origin === undefined) return 'a page that did not say where it was';
  if (origin === 'null') return 'a page that hid where it was';
  return /^https?:\/\/[a-z0-9.:[\]-]{1,300}$/i.test(origin) ? origin : 'another site';
}

/** Cookie options for the session cookie. */
export function sessionCookieOptions(prefix: string, secure: boolean, maxAgeSeconds: number) {
  return { path: prefix || '/', httpOnly: true, sameSite: 'lax' as const, secure, maxAge: maxAgeSeconds };
}
