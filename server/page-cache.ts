// Rendered pages of a cohort kept in memory per person, served again until anything they show could have changed.
//
// A cohort home, week or thread page reads from six modules (a few dozen queries and a template) and is the same
// until one of three things happens: a row of that cohort changes, one of the reader's own marks changes (posts they
// have read), or people's names or the signing key change. Triggers bump a counter per scope inside the writing
// transaction (migrations/0009_cache-version-triggers.sql), so every write path counts: a module, the CLI, another
// process. A page is also tied to the clock's minute, because weeks open, deadlines pass and sessions go live on whole
// minutes. Only what the page would have been is served: the user, their CSRF cookie (the page's form tokens are bound
// to it) and the full URL (query strings carry the flash notices) are in the key, access is decided by the request's
// session before the cache is asked, and a response that sets a cookie or is not a 200 is never kept.
//
// Public pages are kept the same way for visitors who are not signed in (user 0): the certificate verification page
// under the certificate's cohort (a revocation is a write in that cohort, a renamed learner a change of names), and the
// catalogue, which shows only the course content loaded at start, under no cohort.
//
// A large page (a thread of 200 posts is about 46 KB) is kept gzipped: it takes a sixth of the memory or less, and a
// browser (every browser accepts gzip) gets it as it is kept, a sixth of the bytes on the wire. A client that does not
// accept gzip gets it unzipped on each hit (about 70 µs for 46 KB). Keeping an unzipped copy beside it for such clients
// was tried and dropped: the copies (18 MB for the bench's 400 thread pages) stayed in the process's memory after they
// were freed, and with npm start's 1 MB semi-space each unzipped page is freed by the next scavenge, so these hits were
// as fast without them (6,300-6,900 req/s, p99 15-17 ms, in the quick harness at 1x).
import { gunzipSync, gzipSync } from 'node:zlib';
import { negotiate } from '@fastify/accept-negotiator';
import { sql } from 'drizzle-orm';
import type { FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify';
import type { Clock } from './clock.js';
import type { Db } from './db.js';
import { cacheVersions } from './cache-schema.js';

declare module 'fastify' {
  interface FastifyRequest {
    pageCacheSlot?: { key: string; version: number; minute: number } | null;
  }
}

interface Entry {
  version: number;
  minute: number;
  /** UTF-8, as sent (gzipped when `gzip`): its length is the memory it holds, and a hit sends it without encoding it again. */
  body: Buffer;
  gzip: boolean;
}

export interface PageCacheStats {
  hits: number;
  misses: number;
  entries: number;
  bytes: number;
}

type CacheHooks = Pick<RouteShorthandOptions, 'preHandler' | 'onSend'>;

export interface PageCache {
  /** Route options (preHandler + onSend) that cache a signed-in member's GET page of the cohort named by the `:id` path parameter. */
  cohortPage(): CacheHooks;
  /**
   * Route options that cache a public GET page for visitors who are not signed in (the certificate verification page
   * opened from a CV or an email, the catalogue). `cohortOf` names the cohort whose rows the page shows: 0 when it shows
   * none (course content only), null when the page is not to be kept (e.g. an unknown code). It must be a fact that
   * never changes for the URL, as a certificate's cohort does not.
   */
  publicPage(cohortOf: (request: FastifyRequest) => number | null): CacheHooks;
  stats(): PageCacheStats;
  clear(): void;
}

const CSRF_COOKIE = 'cc_csrf';

/** Memory for rendered pages unless configured (PAGE_CACHE_MB, or the pageCacheBytes plugin option). */
export const DEFAULT_PAGE_CACHE_MB = 32;

/**
 * Pages from this size up are kept gzipped. Smaller pages (a cohort home or a week page, about 10 KB) are kept as they
 * are: they are most of the hits, and unzipping for a client that does not accept gzip would cost a third of a hit.
 */
export const GZIP_FROM_BYTES = 24 * 1024;

export function createPageCache(db: Db, clock: Clock, opts: { maxBytes: number }): PageCache {
  const entries = new Map<string, Entry>();
  let bytes = 0;
  let hits = 0;
  let misses = 0;
  const versionStmt = db
    .select({ v: sql<number>`coalesce(sum(${cacheVersions.version}), 0)` })
    .from(cacheVersions)
    .where(sql`${cacheVersions.scope} in ('g', ${sql.placeholder('cohort')}, ${sql.placeholder('user')})`)
    .prepare();

  const cost = (key: string, e: Entry) => e.body.length + key.length * 2 + 64;
  const drop = (key: string, e: Entry) => {
    entries.delete(key);
    bytes -= cost(key, e);
  };

  function store(key: string, version: number, minute: number, html: string) {
    const plain = Buffer.from(html);
    // Level 4: within a few per cent of the default's size, in about four fifths of its time (a 46 KB page: ~0.2 ms).
    const gzip = plain.length >= GZIP_FROM_BYTES;
    const entry = { version, minute, body: gzip ? gzipSync(plain, { level: 4 }) : plain, gzip };
    const size = cost(key, entry);
    if (size > opts.maxBytes / 8) return;
    const old = entries.get(key);
    if (old) drop(key, old);
    entries.set(key, entry);
    bytes += size;
    evict();
  }

  /**
   * Drop every page kept in an earlier minute: none can be served again. Done on the first lookup of each minute, so
   * the memory of pages nobody asked for again is freed within a minute instead of when the cache is full.
   */
  let sweptMinute = -1;
  function sweep(minute: number) {
    sweptMinute = minute;
    for (const [k, e] of entries) if (e.minute < minute) drop(k, e);
  }

  /** Drop the least recently used entries until the cache is within its memory. */
  function evict() {
    // A Map iterates in insertion order, and a hit re-inserts its entry: the first entries are the least recently used.
    for (const [k, e] of entries) {
      if (bytes <= opts.maxBytes) break;
      drop(k, e);
    }
  }

  /** Serve the page kept under `key` if nothing it shows has changed since; else mark the request to keep what it renders. */
  function lookup(request: FastifyRequest, reply: FastifyReply, key: string, cohortId: number, userId: number) {
    const version = versionStmt.get({ cohort: `c:${cohortId}`, user: `u:${userId}` })?.v ?? 0;
    const minute = Math.floor(clock.now().getTime() / 60_000);
    if (minute !== sweptMinute) sweep(minute);
    const hit = entries.get(key);
    if (hit && hit.version === version && hit.minute === minute) {
      hits++;
      entries.delete(key);
      entries.set(key, hit);
      reply.code(200).header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').header('x-page-cache', 'hit');
      if (!hit.gzip) return reply.send(hit.body);
      reply.header('vary', 'accept-encoding');
      if (acceptsGzip(request)) return reply.header('content-encoding', 'gzip').send(hit.body);
      return reply.send(gunzipSync(hit.body));
    }
    if (hit) drop(key, hit);
    misses++;
    request.pageCacheSlot = { key, version, minute };
  }

  async function memberLookup(request: FastifyRequest, reply: FastifyReply) {
    request.pageCacheSlot = null;
    const user = request.user;
    const csrf = request.cookies?.[CSRF_COOKIE];
    const cohortId = Number((request.params as { id?: string }).id);
    // Without a CSRF cookie the page would set one; without a user there is nothing personal to keep.
    if (opts.maxBytes <= 0 || request.method !== 'GET' || !user || !csrf || !Number.isSafeInteger(cohortId) || cohortId <= 0) return;
    return lookup(request, reply, `${user.id}\u0000${csrf}\u0000${request.url}`, cohortId, user.id);
  }

  function publicLookup(cohortOf: (request: FastifyRequest) => number | null) {
    return async (request: FastifyRequest, reply: FastifyReply) => {
      request.pageCacheSlot = null;
      // A signed-in visitor sees their own header and menu: that page is theirs, not the public one.
      if (opts.maxBytes <= 0 || request.method !== 'GET' || request.user) return;
      const cohortId = cohortOf(request);
      if (cohortId === null) return;
      // User 0 is no one: its scope never changes. A CSRF cookie, if the visitor has one, is in the key as for members.
      return lookup(request, reply, `0\u0000${request.cookies?.[CSRF_COOKIE] ?? ''}\u0000${request.url}`, cohortId, 0);
    };
  }

  async function keep(request: FastifyRequest, reply: FastifyReply, payload: unknown) {
    const slot = request.pageCacheSlot;
    if (!slot) return payload;
    reply.header('x-page-cache', 'miss');
    if (reply.statusCode === 200 && typeof payload === 'string' && !reply.hasHeader('set-cookie')) store(slot.key, slot.version, slot.minute, payload);
    return payload;
  }

  return {
    cohortPage: () => ({ preHandler: memberLookup, onSend: keep }),
    publicPage: (cohortOf) => ({ preHandler: publicLookup(cohortOf), onSend: keep }),
    stats: () => ({ hits, misses, entries: entries.size, bytes }),
    clear() {
      entries.clear();
      bytes = 0;
    },
  };
}

/** Whether the request's Accept-Encoding takes gzip (a q of 0 refuses it; no header: only identity). */
function acceptsGzip(request: FastifyRequest): boolean {
  const header = request.headers['accept-encoding'];
  return typeof header === 'string' && negotiate(header, ['gzip']) === 'gzip';
}
