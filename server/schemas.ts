// Shared TypeBox schemas: problem+json responses, ids, money.
import { Type } from 'typebox';
import { CURRENCIES, type Currency } from '../modules/courses/content.js';

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.Optional(Type.String()),
    errors: Type.Optional(
      Type.Array(Type.Object({ field: Type.String(), detail: Type.String() }), {
        description: 'On a 400 for a document with several mistakes (a course draft): every field error, each at its path (`weeks[0].title`, 0-based)',
      }),
    ),
  },
  { $id: undefined, description: 'application/problem+json (RFC 9457)' },
);

/** Response entries for the given error statuses, for route schemas. */
export function problemResponses(...statuses: number[]): Record<number, typeof Problem> {
  return Object.fromEntries(statuses.map((s) => [s, Problem]));
}

/** An amount in the currency's ISO 4217 minor units (19500 GBP = £195.00). */
export const Money = Type.Object({
  amountMinor: Type.Integer({ description: "in the currency's minor units (pence, cents)" }),
  // Unsafe for `type: string` next to the enum: OpenAPI readers and fast-json-stringify both want it.
  currency: Type.Unsafe<Currency>({ type: 'string', enum: [...CURRENCIES], description: 'ISO 4217 code' }),
});
export const IdParam = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) });
export const Instant = Type.String({ format: 'date-time' });
