// The one catalogue of coded errors; services throw these and one handler maps them to HTTP.
import createError from '@fastify/error';

const BadInputError = createError<[string]>('CC_BAD_INPUT', '%s', 400);
/**
 * 400: the input is wrong. With `field`, the message names it (`title: give the thread a title.`, as the API answers),
 * and forms show `reason` beside that field.
 */
export class BadInput extends BadInputError {
  readonly field: string | null;
  readonly reason: string;
  constructor(reason: string, field?: string) {
    super(field ? `${field}: ${reason}` : reason);
    this.field = field ?? null;
    this.reason = reason;
  }
}
/** One problem of a listed-field 400: the field as a path (`weeks[2].assignment.prompts[1].id`) and what is wrong. */
export interface FieldError { field: string; detail: string }
/**
 * 400 listing every field error (a course document that does not validate): the problem+json carries them as
 * `errors: [{ field, detail }]`, and the message names each field as well.
 */
export class FieldErrors extends BadInput {
  readonly errors: FieldError[];
  constructor(summary: string, errors: FieldError[]) {
    const shown = errors.slice(0, 20).map((e) => `${e.field}: ${e.detail}`).join('; ');
    super(`${summary} (${errors.length} ${errors.length === 1 ? 'problem' : 'problems'}): ${shown}${errors.length > 20 ? '; …' : ''}`);
    this.errors = errors;
  }
}
export const NotSignedIn = createError('CC_NOT_SIGNED_IN', 'Sign in to continue.', 401);
export const Forbidden = createError<[string]>('CC_FORBIDDEN', '%s', 403);
export const NotFound = createError<[string]>('CC_NOT_FOUND', '%s not found.', 404);
export const Conflict = createError<[string]>('CC_CONFLICT', '%s', 409);
export const TooLarge = createError<[string]>('CC_TOO_LARGE', '%s', 413);
export const UnsupportedMediaType = createError<[string]>('CC_UNSUPPORTED_MEDIA_TYPE', '%s', 415);
export const DomainRule = createError<[string]>('CC_DOMAIN_RULE', '%s', 422);
export const TooManyRequests = createError<[string]>('CC_TOO_MANY', '%s', 429);
/**
 * 503: the payment provider (Stripe) cannot be reached or is failing just now, after the SDK's own retries. The
 * calls are made with idempotency keys, so trying again in a minute cannot charge or refund twice.
 */
export const PaymentProviderUnavailable = createError<[string, { cause: unknown }?]>('CC_PAYMENT_PROVIDER_UNAVAILABLE', '%s', 503);

/** 503: an LTI platform (its token, roster or gradebook service) cannot be reached or is failing just now. */
export const PlatformUnavailable = createError<[string]>('CC_PLATFORM_UNAVAILABLE', '%s', 503);

/** Short titles for problem+json and error pages, by status. */
export const STATUS_TITLES: Record<number, string> = {
  400: 'Invalid request',
  401: 'Not signed in',
  403: 'Not allowed',
  404: 'Not found',
  405: 'Method not allowed',
  406: 'Not acceptable',
  409: 'Conflict',
  413: 'Too large',
  415: 'Unsupported media type',
  422: 'Refused',
  429: 'Too many requests',
  500: 'Something went wrong',
  503: 'Unavailable',
};
