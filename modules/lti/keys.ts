// The tool's own RS256 key pair: made once per database (any instance may be first), its public half published at
// /lti/jwks.json, its private half signing client assertions and deep-linking responses.
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair, importJWK, jwtVerify, type JWK, type JWTPayload } from 'jose';
import type { AppDatabase } from '../../server/db.js';
import type { Clock } from '../../server/clock.js';
import { ltiToolKeys } from './schema.js';

export interface ToolKeys {
  /** The published key set: { keys: [public JWK with kid, alg, use] }. */
  jwks(): Promise<{ keys: JWK[] }>;
  /** Sign claims with the tool key (RS256, kid in the header); iat from the app clock, exp `expiresInSeconds` later. */
  sign(claims: JWTPayload, opts: { expiresInSeconds: number; audience?: string | string[]; issuer?: string; subject?: string; typ?: string }): Promise<string>;
  /** Verify a token this tool signed for itself (issuer and audience given), on the app clock; null when it does not verify. */
  verifyOwn(token: string, opts: { issuer: string; audience: string; typ: string }): Promise<JWTPayload | null>;
}

export function createToolKeys({ database, clock }: { database: AppDatabase; clock: Clock }): ToolKeys {
  let loaded: Promise<{ kid: string; privateKey: CryptoKey | Uint8Array; publicJwk: JWK }> | null = null;

  async function load() {
    let [row] = await database.db.select().from(ltiToolKeys).where(eq(ltiToolKeys.slot, 'tool')).limit(1);
    if (!row) {
      const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
      const kid = randomUUID();
      const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
      const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'RS256' };
      // Two instances starting together: the first insert wins and both read it back.
      await database.transaction((tx) =>
        tx
          .insert(ltiToolKeys)
          .values({ slot: 'tool', kid, privateJwk: JSON.stringify(privateJwk), publicJwk: JSON.stringify(publicJwk), createdAt: clock.now() })
          .onConflictDoNothing(),
      );
      [row] = await database.db.select().from(ltiToolKeys).where(eq(ltiToolKeys.slot, 'tool')).limit(1);
    }
    const privateJwk = JSON.parse(row.privateJwk) as JWK;
    return { kid: row.kid, privateKey: await importJWK(privateJwk, 'RS256'), publicJwk: JSON.parse(row.publicJwk) as JWK };
  }
  const key = () => {
    loaded ??= load().catch((err) => {
      loaded = null;
      throw err;
    });
    return loaded;
  };

  return {
    async jwks() {
      return { keys: [(await key()).publicJwk] };
    },
    async sign(claims, opts) {
      const k = await key();
      const now = Math.floor(clock.now().getTime() / 1000);
      let jwt = new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: k.kid, typ: opts.typ ?? 'JWT' })
        .setIssuedAt(now)
        .setExpirationTime(now + opts.expiresInSeconds)
        .setJti(randomUUID());
      if (opts.audience) jwt = jwt.setAudience(opts.audience);
      if (opts.issuer) jwt = jwt.setIssuer(opts.issuer);
      if (opts.subject) jwt = jwt.setSubject(opts.subject);
      return jwt.sign(k.privateKey);
    },
    async verifyOwn(token, opts) {
      const k = await key();
      try {
        const { payload } = await jwtVerify(token, createLocalJWKSet({ keys: [k.publicJwk] }), { ...opts, algorithms: ['RS256'], currentDate: clock.now() });
        return payload;
      } catch {
        return null;
      }
    },
  };
}
