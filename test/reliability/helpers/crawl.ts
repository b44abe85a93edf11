// Follow every same-site link a person can see and collect every form on the way (fields, action, method).
import type { LightMyRequestResponse } from 'fastify';
import type { Browser } from '../../helpers/http.js';
import { plainTemplate, type RouteInfo } from './routes.js';

export interface FormField {
  name: string;
  /** input type, or select / textarea */
  type: string;
  value: string;
  options: string[];
}

export interface FormInfo {
  /** The page the form was found on. */
  page: string;
  method: string;
  action: string;
  enctype: string;
  fields: FormField[];
}

export interface CrawlResult {
  pages: Array<{ url: string; status: number; type: string }>;
  forms: FormInfo[];
}

const ENTITIES: Record<string, string> = { amp: '&', quot: '"', apos: "'", lt: '<', gt: '>', nbsp: '\u00a0' };

/** Decode the entities Handlebars writes into attributes. */
export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1].toLowerCase() === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

function attributes(raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of raw.matchAll(/([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g)) {
    out[m[1].toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return out;
}

/** Every form in a page, with its named fields (select options and textarea included). */
export function formsIn(html: string, page: string): FormInfo[] {
  const forms: FormInfo[] = [];
  for (const f of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const a = attributes(f[1]);
    const body = f[2];
    const fields: FormField[] = [];
    for (const m of body.matchAll(/<(input|select|textarea|button)\b([^>]*)>([\s\S]*?<\/select>)?/gi)) {
      const tag = m[1].toLowerCase();
      const at = attributes(m[2]);
      if (!at.name) continue;
      const options = tag === 'select' ? [...(m[3] ?? '').matchAll(/<option\b([^>]*)>([^<]*)/gi)].map((o) => attributes(o[1]).value ?? decodeEntities(o[2]).trim()) : [];
      fields.push({ name: at.name, type: tag === 'input' ? (at.type ?? 'text').toLowerCase() : tag, value: at.value ?? '', options });
    }
    forms.push({
      page,
      method: (a.method ?? 'get').toUpperCase(),
      action: a.action || page,
      enctype: a.enctype ?? 'application/x-www-form-urlencoded',
      fields,
    });
  }
  return forms;
}

/** Same-site links in a page (paths only, no fragments). */
export function linksIn(html: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const m of html.matchAll(/<a\b[^>]*\bhref\s*=\s*"([^"]*)"/gi)) {
    const href = decodeEntities(m[1]).split('#')[0];
    if (!href.startsWith(prefix + '/') || href.startsWith('//')) continue;
    out.push(href);
  }
  return out;
}

/**
 * Breadth-first from `starts`, at most `limit` pages; `onPage` sees each answer (for per-request checks).
 * Assets and downloads are fetched but not parsed.
 */
export async function crawl(
  browser: Browser,
  starts: string[],
  opts: { limit?: number; prefix?: string; onPage?: (url: string, res: LightMyRequestResponse) => void | Promise<void>; before?: () => void } = {},
): Promise<CrawlResult> {
  const seen = new Set<string>();
  const queue = [...starts];
  const result: CrawlResult = { pages: [], forms: [] };
  const limit = opts.limit ?? 200;
  while (queue.length && result.pages.length < limit) {
    const url = queue.shift()!;
    if (seen.has(url)) continue;
    seen.add(url);
    if (url.startsWith(`${opts.prefix ?? ''}/assets/`)) continue;
    opts.before?.();
    const res = await browser.get(url);
    const type = String(res.headers['content-type'] ?? '');
    result.pages.push({ url, status: res.statusCode, type });
    await opts.onPage?.(url, res);
    if (!type.includes('text/html')) continue;
    result.forms.push(...formsIn(res.body, url));
    for (const link of linksIn(res.body, opts.prefix ?? '')) if (!seen.has(link)) queue.push(link);
  }
  return result;
}

/** The route a URL belongs to (templates compiled to regexes; the most specific static match wins). */
export function matchRoute(routes: RouteInfo[], method: string, url: string): RouteInfo | undefined {
  const path = url.split('?')[0];
  const candidates = routes.filter((r) => r.method === method && templateRegex(r.path).test(path));
  return candidates.sort((a, b) => staticLength(b.path) - staticLength(a.path))[0];
}

const regexCache = new Map<string, RegExp>();
function templateRegex(template: string): RegExp {
  let re = regexCache.get(template);
  if (!re) {
    const plain = plainTemplate(template);
    const source = plain
      .split(/(:[A-Za-z0-9_]+|\*)/)
      .map((part) => (part === '*' ? '.*' : part.startsWith(':') ? '[^/]+?' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('');
    re = new RegExp(`^${source}$`);
    regexCache.set(template, re);
  }
  return re;
}

function staticLength(template: string): number {
  return plainTemplate(template).replace(/:[A-Za-z0-9_]+|\*/g, '').length;
}
