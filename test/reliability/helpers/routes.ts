// Every route the running app serves, read from Fastify's own route tree, and the API routes from OpenAPI.
import type { FastifyInstance } from 'fastify';

export interface RouteInfo {
  method: string;
  /** Fastify's path template, e.g. /api/v1/cohorts/:id/weeks/:n */
  path: string;
}

/**
 * Flatten `printRoutes({ commonPrefix: false })`: each line is a tree node whose text is appended to its
 * parent's path (Fastify splits at shared prefixes, so "me" + "mbers" is /api/v1/members). HEAD is implied by GET.
 */
export function listRoutes(app: FastifyInstance, prefix = ''): RouteInfo[] {
  const tree = app.printRoutes({ commonPrefix: false });
  const stack: string[] = [];
  const routes: RouteInfo[] = [];
  for (const line of tree.split('\n')) {
    const m = /^((?:[│ ] {3})*)(?:[└├]── )(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1].length / 4;
    stack.length = depth;
    const parent = depth > 0 ? stack[depth - 1] : '';
    const path = parent + m[2];
    stack[depth] = path;
    if (!m[3]) continue;
    for (const method of m[3].split(',').map((s) => s.trim())) {
      if (method === 'HEAD') continue;
      routes.push({ method, path });
    }
  }
  const seen = new Set<string>();
  return routes
    .filter((r) => (prefix ? r.path.startsWith(prefix) : true))
    .map((r) => ({ method: r.method, path: prefix ? r.path.slice(prefix.length) || '/' : r.path }))
    .filter((r) => {
      const key = `${r.method} ${r.path}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
}

/** A route's key, e.g. "POST /api/v1/cohorts/:id/bookings". */
export const routeKey = (r: RouteInfo) => `${r.method} ${r.path}`;

/** True for the JSON API (problem+json errors, no CSRF token). */
export const isApi = (path: string) => path.startsWith('/api/');

/** The routes that are neither API nor page: static files, health, the OpenAPI document. */
export const INFRASTRUCTURE = new Set(['GET /*', 'GET /healthz', 'GET /api/v1/openapi.json']);

/** OpenAPI paths ({id}) to Fastify templates (:id). */
export function openApiToFastify(path: string): string {
  return path.replace(/\{([^}]+)\}/g, ':$1');
}

/** Strip a Fastify regex constraint for display and filling: /:token(^…).ics → /:token.ics */
export function plainTemplate(path: string): string {
  return path.replace(/(:[A-Za-z0-9_]+)\([^)]*\)/g, '$1');
}

/** Fill a template's params from a map (missing names throw, so a new param is noticed). */
export function fillPath(template: string, params: Record<string, string | number>): string {
  return plainTemplate(template).replace(/:([A-Za-z0-9_]+)/g, (_, name: string) => {
    if (!(name in params)) throw new Error(`no value for :${name} in ${template}`);
    return encodeURIComponent(String(params[name]));
  });
}
