// One error handler: problem+json for the API, a friendly page for people; never a 500 for bad input.
import fp from 'fastify-plugin';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { FieldErrors, STATUS_TITLES } from '../errors.js';
import { isApiRequest } from './auth.js';
import { isTransactionConflict, isUnavailable } from '../db.js';

/** Map any thrown error to a status and a message a person can act on. */
export function describeError(error: FastifyError & { validation?: unknown[] }): { status: number; detail: string } {
  if (error.validation) {
    return { status: 400, detail: humaniseValidation(error) };
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
    case 'FST_FILES_LIMIT':
    case 'FST_PARTS_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return { status: 413, detail: 'The request is too large.' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, detail: 'Send JSON (Content-Type: application/json) or a form.' };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, detail: 'The request body is empty; send a JSON object.' };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, detail: 'The request body is not valid JSON.' };
    case 'FST_CSRF_INVALID_TOKEN':
    case 'FST_CSRF_MISSING_SECRET':
      return { status: 403, detail: 'This form has expired. Go back, reload the page and try again.' };
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return { status: 400, detail: 'Expected a multipart form.' };
  }
  if (error instanceof SyntaxError) return { status: 400, detail: 'The request body is not valid JSON.' };
  if (isUnavailable(error)) return { status: 503, detail: 'The database cannot be reached just now. Nothing was changed; try again in a minute.' };
  // Retried many times and still colliding with other writes: a moment of overload, not a fault.
  if (isTransactionConflict(error)) return { status: 503, detail: 'Too many changes are being saved at this moment. Nothing was changed; try again in a few seconds.' };
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) return { status, detail: error.message };
  // A service we depend on is down (the catalogue's own 503s, e.g. the payment provider): say so, not "our side".
  if (status === 503 && error.code?.startsWith('CC_')) return { status, detail: error.message };
  return { status: 500, detail: 'Something went wrong on our side. It has been logged; please try again.' };
}

function humaniseValidation(error: FastifyError & { validation?: unknown[]; validationContext?: string }): string {
  const first = (error.validation as Array<{ instancePath?: string; message?: string; params?: Record<string, unknown> }>)[0];
  if (!first) return error.message;
  const field =
    (first.instancePath ? first.instancePath.replace(/^\//, '').replace(/\//g, '.') : '') ||
    (first.params?.missingProperty as string | undefined) ||
    (first.params?.additionalProperty as string | undefined) ||
    '';
  if (!field) return `The request ${error.validationContext ?? 'body'} ${first.message ?? 'is invalid'}.`;
  const extra = first.params?.additionalProperty ? ` (unexpected field "${String(first.params.additionalProperty)}")` : '';
  return `${error.validationContext ?? 'body'} ${field}: ${first.message ?? 'is invalid'}${extra}`;
}

/**
 * Errors Fastify raises before routing (a path segment over maxParamLength, broken percent-encoding), for
 * buildApp's `frameworkErrors`: problem+json for the API and a small page otherwise, instead of Fastify's own JSON.
 */
export function frameworkErrors(prefix: string) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 400;
    const title = status === 414 ? 'Address too long' : (STATUS_TITLES[status] ?? 'Invalid request');
    const detail = status === 414 ? 'A part of this address is too long.' : 'This address is not valid.';
    reply.header('x-content-type-options', 'nosniff').header('content-security-policy', "default-src 'none'; frame-ancestors 'self'");
    if (request.url.startsWith(`${prefix}/api/`)) {
      return reply.code(status).type('application/problem+json').send({ type: 'about:blank', title, status, detail, code: error.code });
    }
    return reply
      .code(status)
      .type('text/html; charset=utf-8')
      .send(`<!doctype html>\n<html lang="en-GB"><head><meta charset="utf-8"><title>${title} · Cohort Course</title></head><body><main><h1>${title}</h1><p>${detail}</p><p><a href="${prefix}/">Go to the courses</a></p></main></body></html>\n`);
  };
}

export default fp(
  async (fastify, opts: { prefix: string }) => {
    const send = (request: FastifyRequest, reply: FastifyReply, status: number, detail: string, extra?: object) => {
      const title = STATUS_TITLES[status] ?? 'Error';
      if (isApiRequest(request, opts.prefix) || !reply.page) {
        return reply
          .code(status)
          .type('application/problem+json')
          .send({ type: 'about:blank', title, status, detail, ...extra });
      }
      if (status === 401) {
        return reply.redirect(`${opts.prefix}/sign-in?next=${encodeURIComponent(request.url)}`, 303);
      }
      return reply.page('errors/error', { title, status, detail }, status);
    };

    fastify.setErrorHandler((error: FastifyError, request, reply) => {
      const { status, detail } = describeError(error);
      if (status >= 500) request.log.error({ err: error }, 'request failed');
      else request.log.info({ code: error.code, status }, detail);
      if (status === 503) {
        reply.header('retry-after', '30');
        return send(request, reply, status, detail, { code: error.code?.startsWith('CC_') ? error.code : 'CC_DATABASE_UNAVAILABLE' });
      }
      const extra = error.code?.startsWith('CC_') || error.code?.startsWith('FST_') ? { code: error.code } : undefined;
      // A listed-field 400 (a course document) names every field in `errors` besides the one-line detail.
      if (error instanceof FieldErrors) return send(request, reply, status, detail, { ...extra, errors: error.errors });
      return send(request, reply, status, detail, extra);
    });

    fastify.setNotFoundHandler((request, reply) => send(request, reply, 404, 'There is nothing at this address.'));
  },
  { name: 'errors', dependencies: ['views'] },
);
