// Shared TypeBox schemas: problem+json responses, ids, money.
import { Type } from 'typebox';

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.Optional(Type.String()),
  },
  { $id: undefined, description: 'application/problem+json (RFC 9457)' },
);

/** Response entries for the given error statuses, for route schemas. */
export function problemResponses(...statuses: number[]): Record<number, typeof Problem> {
  return Object.fromEntries(statuses.map((s) => [s, Problem]));
}

export const Money = Type.Object({ amountMinor: Type.Integer(), currency: Type.Literal('GBP') });
export const IdParam = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) });
export const Instant = Type.String({ format: 'date-time' });
