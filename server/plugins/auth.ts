// Who is asking: the session cookie or a Bearer token becomes request.user; CSRF and origin checks on writes.
import fp from 'fastify-plugin';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { User } from '../../modules/people/service.js';
import type { Role } from '../../modules/people/schema.js';
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

    // Forms carry a CSRF token; cookie-authenticated API writes must be same-origin JSON.
    fastify.addHook('preValidation', async (request: FastifyRequest, reply: FastifyReply) => {
      if (!WRITE.has(request.method)) return;
      if (isApiRequest(request, opts.prefix)) {
        if (request.authVia !== 'session') return;
        const origin = request.headers.origin;
        if (origin && origin !== baseOrigin && origin !== 'null' && originHost(origin) !== request.headers.host) {
          throw new Forbidden('Cross-site requests are not allowed.');
        }
        // A cross-site HTML form can send url-encoded bodies without a preflight; the API takes JSON (and uploads).
        if ((request.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')) {
          throw new UnsupportedMediaType('With a browser session the API takes JSON (Content-Type: application/json).');
        }
        return;
      }
      await new Promise<void>((resolve, reject) => {
        fastify.csrfProtection(request, reply, (err?: Error) => (err ? reject(err) : resolve()));
      });
    });
  },
  { name: 'auth', dependencies: ['@fastify/cookie', '@fastify/csrf-protection'] },
);

/** The host of an Origin header, or null when it is not a URL (a malformed Origin is refused, not a 500). */
function originHost(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}

/** Cookie options for the session cookie. */
export function sessionCookieOptions(prefix: string, secure: boolean, maxAgeSeconds: number) {
  return { path: prefix || '/', httpOnly: true, sameSite: 'lax' as const, secure, maxAge: maxAgeSeconds };
}
