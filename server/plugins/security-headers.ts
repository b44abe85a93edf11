// Security headers (CSP, HSTS, frame and referrer policies and the rest) from helmet, worked out once at start.
//
// @fastify/helmet calls helmet(options) on every request, which parses the CSP directives and builds every
// middleware again: about a tenth of the time of a cached page. Nothing in our headers depends on the request (no
// nonces: scripts and styles come from our own files), so helmet runs once against a recording response and each
// request gets the recorded headers in one call.
import fp from 'fastify-plugin';
import helmet, { type HelmetOptions } from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The headers helmet sets with these options, as a plain object. */
export function helmetHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  let failed: unknown;
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => {
    failed = err;
  });
  if (failed) throw failed;
  return headers;
}

export default fp(
  async (fastify, opts: HelmetOptions) => {
    const headers = helmetHeaders(opts);
    fastify.addHook('onRequest', (_request, reply, done) => {
      reply.headers(headers);
      done();
    });
  },
  { name: 'security-headers' },
);
