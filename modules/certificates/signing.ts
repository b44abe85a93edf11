// Signed certificates: one Ed25519 key pair kept in the database, and W3C Data Integrity proofs with the
// eddsa-jcs-2022 cryptosuite (Ed25519 over SHA-256 of RFC 8785 canonical JSON) that anyone can check offline.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Clock } from '../../server/clock.js';
import type { AppDatabase, Db } from '../../server/db.js';
import { base58btc, canonicalize, fromBase58btc } from './canonical.js';
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
}

export interface DataIntegrityProof {
  type: 'DataIntegrityProof';
  cryptosuite: 'eddsa-jcs-2022';
  created: string;
  verificationMethod: string;
  proofPurpose: 'assertionMethod';
  proofValue: string;
}

export const KEYS_PATH = '/.well-known/cohort-course/keys.json';

/** RFC 7638 thumbprint of an Ed25519 public key: the key id. */
export function thumbprint(x: string): string {
  return createHash('sha256').update(canonicalize({ crv: 'Ed25519', kty: 'OKP', x })).digest('base64url');
}

function toKey(row: typeof signingKeys.$inferSelect): SigningKey {
  return { kid: row.kid, publicJwk: JSON.parse(row.publicJwk) as PublicJwk, privateKey: createPrivateKey(row.privatePem) };
}

/**
 * The signing key: created once (the first process to ask wins, others read it) and kept in the database. Runs
 * inside the caller's transaction, through its `tx`.
 */
export async function ensureSigningKey(tx: Db, now: Date): Promise<SigningKey> {
  const [existing] = await tx.select().from(signingKeys).where(eq(signingKeys.active, 1)).limit(1);
  if (existing) return toKey(existing);
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const x = (publicKey.export({ format: 'jwk' }) as { x: string }).x;
  const kid = thumbprint(x);
  const publicJwk: PublicJwk = { kty: 'OKP', crv: 'Ed25519', x, kid, alg: 'EdDSA', use: 'sig' };
  // UNIQUE(active): when two processes race, one insert is ignored and both then read the winner.
  await tx
    .insert(signingKeys)
    .values({ kid, publicJwk: JSON.stringify(publicJwk), privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), active: 1, createdAt: now })
    .onConflictDoNothing();
  const [winner] = await tx.select().from(signingKeys).where(eq(signingKeys.active, 1)).limit(1);
  return toKey(winner!);
}

/**
 * The active signing key, read (or created) through the caller's transaction and then kept in memory: it never
 * changes while the process runs, and every process reads the same one.
 */
export function createKeyRing(database: AppDatabase, clock: Clock) {
  let key: SigningKey | null = null;
  async function inside(tx: Db): Promise<SigningKey> {
    if (key) return key;
    const found = await ensureSigningKey(tx, clock.now());
    // Kept once committed: a key made in a transaction that rolls back was never stored.
    database.afterCommit(() => {
      key ??= found;
    });
    return found;
  }
  return {
    /** The key, through `tx` (the transaction that signs with it). */
    inside,
    /** The key, creating it in its own transaction if this database has none yet. */
    async ensure(): Promise<SigningKey> {
      return key ?? database.transaction((tx) => inside(tx));
    },
  };
}

export type KeyRing = ReturnType<typeof createKeyRing>;

/** Every public key (the active one and any retired ones), for the published key set. */
export async function publicKeys(db: Db): Promise<PublicJwk[]> {
  const rows = await db.select({ publicJwk: signingKeys.publicJwk }).from(signingKeys);
  return rows.map((r) => JSON.parse(r.publicJwk) as PublicJwk);
}

/** The bytes eddsa-jcs-2022 signs: SHA-256(canonical proof options) ‖ SHA-256(canonical document). */
export function hashData(canonicalProofConfig: Uint8Array | string, canonicalDocument: Uint8Array | string): Buffer {
  return Buffer.concat([createHash('sha256').update(canonicalProofConfig).digest(), createHash('sha256').update(canonicalDocument).digest()]);
}

/** The proof options with the document's @context, as the cryptosuite canonicalises them. */
function proofConfig(doc: Record<string, unknown>, options: Omit<DataIntegrityProof, 'proofValue'>): Record<string, unknown> {
  return doc['@context'] === undefined ? { ...options } : { ...options, '@context': doc['@context'] };
}

/** Add a Data Integrity proof (eddsa-jcs-2022) to a credential. */
export function signCredential<T extends Record<string, unknown>>(doc: T, key: SigningKey, created: Date, verificationMethod: string): T & { proof: DataIntegrityProof } {
  const { proof: _drop, ...unsecured } = doc as Record<string, unknown>;
  const options = {
    type: 'DataIntegrityProof' as const,
    cryptosuite: 'eddsa-jcs-2022' as const,
    created: created.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    verificationMethod,
    proofPurpose: 'assertionMethod' as const,
  };
  const data = hashData(canonicalize(proofConfig(unsecured, options)), canonicalize(unsecured));
  const signature = sign(null, data, key.privateKey);
  return { ...(unsecured as T), proof: { ...options, proofValue: `z${base58btc(signature)}` } };
}

/** The public key object of a JWK. */
export function publicKeyOf(jwk: Pick<PublicJwk, 'x'>): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' });
}

/** Check signature bytes over already-canonical proof options and document (tests flip bytes of the payload here). */
export function verifyCanonical(canonicalProofConfig: Uint8Array | string, canonicalDocument: Uint8Array | string, signature: Uint8Array, jwk: Pick<PublicJwk, 'x'>): boolean {
  try {
    return verify(null, hashData(canonicalProofConfig, canonicalDocument), publicKeyOf(jwk), signature);
  } catch {
    return false;
  }
}

/** Verify a signed credential against a key set: the proof's key id must be in it and the signature must hold. */
export function verifyCredential(signed: Record<string, unknown>, keys: Array<Pick<PublicJwk, 'x' | 'kid'>>): boolean {
  const proof = signed.proof as DataIntegrityProof | undefined;
  if (!proof || proof.type !== 'DataIntegrityProof' || proof.cryptosuite !== 'eddsa-jcs-2022' || typeof proof.proofValue !== 'string') return false;
  const kid = proof.verificationMethod?.split('#')[1];
  const key = keys.find((k) => k.kid === kid);
  if (!key || !proof.proofValue.startsWith('z')) return false;
  let signature: Uint8Array;
  try {
    signature = fromBase58btc(proof.proofValue.slice(1));
  } catch {
    return false;
  }
  const { proof: _p, ...unsecured } = signed;
  const { proofValue: _v, ...options } = proof;
  return verifyCanonical(canonicalize(proofConfig(unsecured, options)), canonicalize(unsecured), signature, key);
}
