// Signed certificates: Ed25519 key pairs kept in the database (one active, retired ones kept), each named by its did:key
// (an Ed25519 Multikey any verifier resolves offline), and W3C Data Integrity proofs with the eddsa-jcs-2022
// cryptosuite (Ed25519 over SHA-256 of RFC 8785 canonical JSON).
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import bs58 from 'bs58';
import { eq } from 'drizzle-orm';
import type { Clock } from '../../server/clock.js';
import type { AppDatabase, Db } from '../../server/db.js';
import { signingKeys } from './schema.js';

export interface PublicJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid: string;
  alg: 'EdDSA';
  use: 'sig';
}

export interface SigningKey {
  kid: string;
  publicJwk: PublicJwk;
  privateKey: KeyObject;
  /** did:key:z6Mk… — the issuer of what this key signs. */
  did: string;
  /** did:key:z6Mk…#z6Mk… — the proof's verificationMethod. */
  verificationMethod: string;
}

export interface DataIntegrityProof {
  /** The document's @context, which eddsa-jcs-2022 signs with the proof options and keeps in the proof. */
  '@context'?: string[];
  type: 'DataIntegrityProof';
  cryptosuite: 'eddsa-jcs-2022';
  created: string;
  verificationMethod: string;
  proofPurpose: 'assertionMethod';
  proofValue: string;
}

/** The published key set (JWKS), kept beside did:key for integrations that read it. */
export const KEYS_PATH = '/.well-known/cohort-course/keys.json';

/** The multicodec prefix of an Ed25519 public key (0xed, as an unsigned varint). */
const ED25519_PUB = Uint8Array.from([0xed, 0x01]);

// canonicalize is CommonJS (module.exports = the function) while its types declare an ES default export, which
// TypeScript's NodeNext resolution then reads as `.default`: required as what it is, typed from its declaration.
const canonicalizeJson: typeof import('canonicalize').default = createRequire(import.meta.url)('canonicalize');

/** RFC 8785 canonical JSON (the canonicalize package: its author co-wrote the RFC). */
export function canonicalize(value: unknown): string {
  const text = canonicalizeJson(value);
  if (text === undefined) throw new TypeError('canonical JSON cannot hold this value');
  return text;
}

/** RFC 7638 thumbprint of an Ed25519 public key: the key id. */
export function thumbprint(x: string): string {
  return createHash('sha256').update(canonicalize({ crv: 'Ed25519', kty: 'OKP', x })).digest('base64url');
}

/** The Multikey form of an Ed25519 public key: 'z' + base58btc(0xed 0x01 ‖ 32 key bytes). */
export function publicKeyMultibase(jwk: Pick<PublicJwk, 'x'>): string {
  const raw = Buffer.from(jwk.x, 'base64url');
  return `z${bs58.encode(Buffer.concat([ED25519_PUB, raw]))}`;
}

/** The did:key of an Ed25519 public key. */
export function didKeyOf(jwk: Pick<PublicJwk, 'x'>): string {
  return `did:key:${publicKeyMultibase(jwk)}`;
}

/** did:key:z…#z…: the verification method a proof names (the did:key method's one key). */
export function verificationMethodOf(jwk: Pick<PublicJwk, 'x'>): string {
  const mb = publicKeyMultibase(jwk);
  return `did:key:${mb}#${mb}`;
}

/** The raw 32-byte Ed25519 key a did:key verification method encodes, or null when it is not one. */
export function publicKeyFromVerificationMethod(vm: string): Uint8Array | null {
  const m = /^did:key:(z[1-9A-HJ-NP-Za-km-z]+)#(z[1-9A-HJ-NP-Za-km-z]+)$/.exec(vm);
  if (!m || m[1] !== m[2]) return null;
  let bytes: Uint8Array;
  try {
    bytes = bs58.decode(m[1].slice(1));
  } catch {
    return null;
  }
  if (bytes.length !== 34 || bytes[0] !== ED25519_PUB[0] || bytes[1] !== ED25519_PUB[1]) return null;
  return bytes.subarray(2);
}

const parsed = new Map<string, SigningKey>();

function toKey(row: typeof signingKeys.$inferSelect): SigningKey {
  // Parsing a PEM costs tens of microseconds; a key row never changes, so each is parsed once per process.
  let key = parsed.get(row.kid);
  if (!key) {
    const publicJwk = JSON.parse(row.publicJwk) as PublicJwk;
    key = { kid: row.kid, publicJwk, privateKey: createPrivateKey(row.privatePem), did: didKeyOf(publicJwk), verificationMethod: verificationMethodOf(publicJwk) };
    parsed.set(row.kid, key);
  }
  return key;
}

function newKeyRow(now: Date): typeof signingKeys.$inferInsert {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const x = (publicKey.export({ format: 'jwk' }) as { x: string }).x;
  const kid = thumbprint(x);
  const publicJwk: PublicJwk = { kty: 'OKP', crv: 'Ed25519', x, kid, alg: 'EdDSA', use: 'sig' };
  return { kid, publicJwk: JSON.stringify(publicJwk), privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), active: 1, createdAt: now };
}

async function activeKey(tx: Db): Promise<SigningKey | null> {
  const [row] = await tx.select().from(signingKeys).where(eq(signingKeys.active, 1)).limit(1);
  return row ? toKey(row) : null;
}

/**
 * The active signing key: created once (the first process to ask wins, others read it) and kept in the database. Runs
 * inside the caller's transaction, through its `tx`.
 */
export async function ensureSigningKey(tx: Db, now: Date): Promise<SigningKey> {
  const existing = await activeKey(tx);
  if (existing) return existing;
  // UNIQUE(active): when two processes race, one insert is ignored and both then read the winner.
  await tx.insert(signingKeys).values(newKeyRow(now)).onConflictDoNothing();
  return (await activeKey(tx))!;
}

/**
 * Retire the active key and make a new one that signs from now on, through `tx`. The retired key stays in the table (and
 * in the published key set): every credential names the key that signed it, so what the old key signed still verifies.
 */
export async function rotateSigningKey(tx: Db, now: Date): Promise<{ retired: SigningKey | null; active: SigningKey }> {
  const retired = await activeKey(tx);
  if (retired) await tx.update(signingKeys).set({ active: null }).where(eq(signingKeys.kid, retired.kid));
  await tx.insert(signingKeys).values(newKeyRow(now));
  return { retired, active: (await activeKey(tx))! };
}

/** The key with this id (active or retired), through `tx`. */
export async function keyById(tx: Db, kid: string): Promise<SigningKey | null> {
  const [row] = await tx.select().from(signingKeys).where(eq(signingKeys.kid, kid)).limit(1);
  return row ? toKey(row) : null;
}

/**
 * The signing keys, read through the transaction that signs: the active one is looked up each time (one indexed row,
 * rare: certificates are issued a few at a time), so a rotation by any process or the CLI applies everywhere at once.
 */
export function createKeyRing(database: AppDatabase, clock: Clock) {
  return {
    /** The active key, through `tx` (the transaction that signs with it); created if there is none. */
    inside(tx: Db): Promise<SigningKey> {
      return ensureSigningKey(tx, clock.now());
    },
    /** The active key, creating it in its own transaction if this database has none yet. */
    ensure(): Promise<SigningKey> {
      return database.transaction((tx) => ensureSigningKey(tx, clock.now()));
    },
    /** Retire the active key and sign with a new one from now on. */
    rotate(): Promise<{ retired: SigningKey | null; active: SigningKey }> {
      return database.transaction((tx) => rotateSigningKey(tx, clock.now()));
    },
    /** A key by id, active or retired. */
    byId(kid: string, tx: Db = database.db): Promise<SigningKey | null> {
      return keyById(tx, kid);
    },
  };
}

export type KeyRing = ReturnType<typeof createKeyRing>;

/** Every public key (the active one and any retired ones), for the published key set. */
export async function publicKeys(db: Db): Promise<PublicJwk[]> {
  const rows = await db.select({ publicJwk: signingKeys.publicJwk }).from(signingKeys).orderBy(signingKeys.createdAt);
  return rows.map((r) => JSON.parse(r.publicJwk) as PublicJwk);
}

/** The bytes eddsa-jcs-2022 signs: SHA-256(canonical proof options) ‖ SHA-256(canonical document). */
export function hashData(canonicalProofConfig: Uint8Array | string, canonicalDocument: Uint8Array | string): Buffer {
  return Buffer.concat([createHash('sha256').update(canonicalProofConfig).digest(), createHash('sha256').update(canonicalDocument).digest()]);
}


/** A proof's `created`: an XML Schema dateTime without milliseconds. */
export function xsdDateTime(instant: Date): string {
  return instant.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Add a Data Integrity proof (eddsa-jcs-2022) by `key` (named by its did:key verification method) to a credential. */
export function signCredential<T extends Record<string, unknown>>(doc: T, key: SigningKey, created: Date): T & { proof: DataIntegrityProof } {
  const { proof: _drop, ...unsecured } = doc as Record<string, unknown>;
  const options: Omit<DataIntegrityProof, 'proofValue'> = {
    type: 'DataIntegrityProof',
    cryptosuite: 'eddsa-jcs-2022',
    created: xsdDateTime(created),
    verificationMethod: key.verificationMethod,
    proofPurpose: 'assertionMethod',
  };
  // The proof configuration takes the document's @context and the proof keeps it (eddsa-jcs-2022, Proof Configuration).
  if (unsecured['@context'] !== undefined) options['@context'] = unsecured['@context'] as string[];
  const data = hashData(canonicalize(options), canonicalize(unsecured));
  const signature = sign(null, data, key.privateKey);
  return { ...(unsecured as T), proof: { ...options, proofValue: `z${bs58.encode(signature)}` } };
}

/** The public key object of raw Ed25519 key bytes or a JWK. */
export function publicKeyOf(key: Uint8Array | Pick<PublicJwk, 'x'>): KeyObject {
  const x = key instanceof Uint8Array ? Buffer.from(key).toString('base64url') : key.x;
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
}

/** Check signature bytes over already-canonical proof options and document (tests flip bytes of the payload here). */
export function verifyCanonical(canonicalProofConfig: Uint8Array | string, canonicalDocument: Uint8Array | string, signature: Uint8Array, key: Uint8Array | Pick<PublicJwk, 'x'>): boolean {
  try {
    return verify(null, hashData(canonicalProofConfig, canonicalDocument), publicKeyOf(key), signature);
  } catch {
    return false;
  }
}

/**
 * Verify a signed credential as this app issues them: an eddsa-jcs-2022 proof whose did:key verification method is one
 * of `keys` (ours, active or retired), made by the issuer that key is, and a signature that holds.
 */
export function verifyCredential(signed: Record<string, unknown>, keys: Array<Pick<PublicJwk, 'x'>>): boolean {
  const proof = signed.proof as DataIntegrityProof | undefined;
  if (!proof || proof.type !== 'DataIntegrityProof' || proof.cryptosuite !== 'eddsa-jcs-2022' || proof.proofPurpose !== 'assertionMethod') return false;
  if (typeof proof.proofValue !== 'string' || !proof.proofValue.startsWith('z') || typeof proof.verificationMethod !== 'string') return false;
  const raw = publicKeyFromVerificationMethod(proof.verificationMethod);
  if (!raw) return false;
  const key = keys.find((k) => Buffer.from(k.x, 'base64url').equals(raw));
  if (!key) return false;
  const issuer = signed.issuer as string | { id?: unknown } | undefined;
  const issuerId = typeof issuer === 'string' ? issuer : issuer?.id;
  if (issuerId !== didKeyOf(key)) return false;
  let signature: Uint8Array;
  try {
    signature = bs58.decode(proof.proofValue.slice(1));
  } catch {
    return false;
  }
  const { proof: _p, ...unsecured } = signed;
  const { proofValue: _v, ...options } = proof;
  // The proof's @context must be the document's (the suite checks it starts the document's; ours are always equal).
  if (canonicalize(options['@context'] ?? null) !== canonicalize(unsecured['@context'] ?? null)) return false;
  return verifyCanonical(canonicalize(options), canonicalize(unsecured), signature, key);
}
