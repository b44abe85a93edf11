// Random tokens and their hashes: what we hand out is never what we store.
import { createHash, randomBytes } from 'node:crypto';

/** A URL-safe token with `bytes` of randomness (default 32 = 256 bits). */
export function newToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** SHA-256 hex of a token, for storage and lookup. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
