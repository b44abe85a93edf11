// Revocation published as a W3C Bitstring Status List (VC Bitstring Status List v1.0): each certificate holds a bit,
// allocated at random when it is issued, and a signed BitstringStatusListCredential says which bits are set.
import { randomInt } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { count, eq, isNotNull, max } from 'drizzle-orm';
import type { Db } from '../../server/db.js';
import { certificates } from './schema.js';
import { signCredential, xsdDateTime, type DataIntegrityProof, type SigningKey } from './signing.js';

/** The spec's minimum list: 16 KB of bits, so one credential's bit hides among many (herd privacy). */
export const MIN_LIST_BITS = 131_072;

/** Where the revocation list signed by a key is published (one per key: a list's issuer must be its credentials'). */
export const STATUS_LIST_ROUTE = '/api/v1/certificates/status/revocation/:key';

/** The public URL of the revocation status list signed by the key `kid`. */
export function statusListUrl(baseUrl: string, kid: string): string {
  return `${baseUrl}${STATUS_LIST_ROUTE.replace(':key', kid)}`;
}

export interface StatusEntry {
  id: string;
  type: 'BitstringStatusListEntry';
  statusPurpose: 'revocation';
  statusListIndex: string;
  statusListCredential: string;
}

/** A credential's credentialStatus: its bit in the list its key signs. */
export function statusEntry(baseUrl: string, kid: string, index: number): StatusEntry {
  const list = statusListUrl(baseUrl, kid);
  return { id: `${list}#${index}`, type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: String(index), statusListCredential: list };
}

/** The list length that holds `n` indexes: the minimum, doubled while it is less than twice `n` (half stays free). */
function capacityFor(n: number): number {
  let bits = MIN_LIST_BITS;
  while (bits < 2 * n) bits *= 2;
  return bits;
}

/**
 * A free index, through `tx`: random (the spec asks for it: neighbouring bits say nothing about when or to whom a
 * certificate was issued) within a list kept at most half full, so a free one is found in a try or two. The unique
 * index is the backstop when two transactions pick the same bit at the same moment.
 */
export async function allocateStatusIndex(tx: Db): Promise<number> {
  const [row] = await tx.select({ n: count(certificates.statusListIndex) }).from(certificates);
  const capacity = capacityFor(Number(row?.n ?? 0) + 1);
  for (;;) {
    const candidate = randomInt(capacity);
    const [taken] = await tx.select({ id: certificates.id }).from(certificates).where(eq(certificates.statusListIndex, candidate)).limit(1);
    if (!taken) return candidate;
  }
}

/** The bitstring with `set` indexes on, GZIP-compressed, as multibase base64url ('u', no padding). Bit 0 is the left-most bit of byte 0. */
export function encodeList(set: Iterable<number>, length: number): string {
  const bytes = new Uint8Array(length / 8);
  for (const i of set) bytes[i >> 3] |= 0x80 >> (i & 7);
  return `u${gzipSync(bytes).toString('base64url')}`;
}

export interface StatusListCredential {
  '@context': string[];
  id: string;
  type: string[];
  issuer: string;
  validFrom: string;
  credentialSubject: { id: string; type: 'BitstringStatusList'; statusPurpose: 'revocation'; encodedList: string; ttl: number };
  proof: DataIntegrityProof;
}

/**
 * How long a verifier may keep the list: HTTP max-age, and the list's `ttl` (milliseconds). No validUntil: a verifier
 * whose clock is a few minutes off would call a fresh list expired.
 */
export const STATUS_LIST_TTL_SECONDS = 300;

/**
 * The revocation list signed by `key`, built from the database at request time (through `db`): revoking a certificate
 * sets its bit in every list at once, with nothing to re-sign or keep in step. Indexes are global, so every key's list
 * carries every certificate's bit; a credential points at the list of the key that signed it.
 */
export async function revocationList(db: Db, baseUrl: string, key: SigningKey, now: Date): Promise<StatusListCredential> {
  const revoked = await db.select({ i: certificates.statusListIndex }).from(certificates).where(isNotNull(certificates.revokedAt));
  const [top] = await db.select({ m: max(certificates.statusListIndex) }).from(certificates);
  const highest = top?.m === null || top?.m === undefined ? -1 : Number(top.m);
  let length = MIN_LIST_BITS;
  while (length <= highest) length *= 2;
  const id = statusListUrl(baseUrl, key.kid);
  const unsigned = {
    '@context': ['https://www.w3.org/ns/credentials/v2'],
    id,
    type: ['VerifiableCredential', 'BitstringStatusListCredential'],
    issuer: key.did,
    validFrom: xsdDateTime(now),
    credentialSubject: {
      id: `${id}#list`,
      type: 'BitstringStatusList' as const,
      statusPurpose: 'revocation' as const,
      encodedList: encodeList(
        revoked.flatMap((r) => (r.i === null ? [] : [Number(r.i)])),
        length,
      ),
      ttl: STATUS_LIST_TTL_SECONDS * 1000,
    },
  };
  return signCredential(unsigned, key, now);
}
