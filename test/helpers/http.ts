// Browser-like requests through app.inject: cookies kept between calls, CSRF tokens read from forms, Origin on writes.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

/** The origin of the app's BASE_URL: what a browser on the app's own pages sends as `Origin` with a write. */
export function appOrigin(app: FastifyInstance): string {
  return new URL(app.cc.baseUrl).origin;
}

/** A cookie jar for one simulated browser, on the app's own pages (its writes say so with `Origin`, as browsers do). */
export class Browser {
  cookies = new Map<string, string>();
  constructor(private app: FastifyInstance) {}

  /** The Origin a browser sends with a write from one of the app's pages. */
  get origin(): string {
    return appOrigin(this.app);
  }

  private store(res: LightMyRequestResponse): void {
    for (const c of res.cookies) {
      if (c.value === '' || (c.expires && c.expires.getTime() < Date.now()) || c.maxAge === 0) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async get(url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    const res = await this.app.inject({ method: 'GET', url, headers: { ...headers, cookie: this.cookieHeader() } });
    this.store(res);
    return res;
  }

  /** Post a form as a browser would: fields url-encoded, with the CSRF token taken from `fromPage` (or given). */
  async post(url: string, fields: Record<string, string | string[]>, opts: { csrf?: string | null; fromPage?: string } = {}): Promise<LightMyRequestResponse> {
    let csrf = opts.csrf;
    if (csrf === undefined) csrf = csrfFrom((await this.get(opts.fromPage ?? url)).body);
    const body = new URLSearchParams();
    if (csrf) body.append('_csrf', csrf);
    for (const [k, v] of Object.entries(fields)) for (const item of Array.isArray(v) ? v : [v]) body.append(k, item);
    const res = await this.app.inject({
      method: 'POST',
      url,
      payload: body.toString(),
      headers: { cookie: this.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded', origin: this.origin },
    });
    this.store(res);
    return res;
  }

  /** JSON API call with this browser's session cookie (from one of the app's pages: writes carry its Origin). */
  async api(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: unknown): Promise<LightMyRequestResponse> {
    const headers: Record<string, string> = { cookie: this.cookieHeader() };
    if (method !== 'GET') headers.origin = this.origin;
    const res = await this.app.inject({ method, url, payload: payload as never, headers });
    this.store(res);
    return res;
  }
}

/** The CSRF token in a page's first form. */
export function csrfFrom(html: string): string | null {
  return /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? null;
}

/** JSON API call with a Bearer token. */
export function apiAs(app: FastifyInstance, token: string | null) {
  return (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
    app.inject({ method, url, payload: payload as never, headers: token ? { authorization: `Bearer ${token}` } : {} });
}
