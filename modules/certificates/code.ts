// Certificate codes: 130 bits from the CSPRNG in RFC 4648 base32 (26 characters, no padding), easy to read aloud.
import { randomBytes } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
export const CODE_LENGTH = 26;

/** A new unguessable certificate code: 26 base32 characters carrying 130 random bits. */
export function base32Code(): string {
  const bytes = randomBytes(17);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5 && out.length < CODE_LENGTH) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return out;
}

/** True when text has the shape of a certificate code (any case). */
export function looksLikeCode(text: string): boolean {
  return new RegExp(`^[A-Za-z2-7]{${CODE_LENGTH}}$`).test(text);
}
