// Certificates that standard verifiers accept (#24): an independent Data Integrity verifier (@digitalbazaar/vc with
// eddsa-jcs-2022, did:key and Bitstring Status List), offline, verifies what the app issues, sees revocation through
// the published status list, rejects a changed credential, and still verifies credentials signed before a key rotation.
import { rmSync } from 'node:fs';
import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeList } from '@digitalbazaar/vc-bitstring-status-list';
import jsonld from 'jsonld';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { enrolLearner } from '../helpers/factories.js';
import { certificates } from '../../modules/certificates/schema.js';
import { MIN_LIST_BITS, encodeList } from '../../modules/certificates/status-list.js';
import { certCohort, LATE_IN_COHORT } from './helpers.js';
import { documentLoaderFor, revoked, verifyWithLibrary } from './verifier.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp({ now: LATE_IN_COHORT });
});
afterEach(async () => t?.close());

/** A cohort whose learner holds a manually issued certificate, and its signed credential as published. */
async function issued(name = 'Lena Learner') {
  const c = await certCohort(t, { learnerName: name });
  const res = await c.asAdmin('POST', `/api/v1/cohorts/${c.cohort.id}/certificates`, { email: c.learner.email });
  expect(res.statusCode, res.body).toBe(201);
  const code = res.json().code as string;
  return { ...c, code, vc: await credentialOf(code) };
}

async function credentialOf(code: string, app = t.app) {
  const res = await app.inject({ method: 'GET', url: `/api/v1/certificates/${code}/credential.json` });
  expect(res.statusCode).toBe(200);
  return res.json();
}

describe('an independent verifier (Digital Bazaar vc, eddsa-jcs-2022, did:key, Bitstring Status List)', () => {
  it('verifies an issued certificate, its proof and its status list, offline', async () => {
    const c = await issued('Łucja Ó Súilleabháin');
    const result = await verifyWithLibrary(t.app, c.vc);
    expect(result.error, JSON.stringify(result.error ?? null)).toBeUndefined();
    expect(result.verified).toBe(true);
    expect(result.statusResult?.verified).toBe(true);
    expect(revoked(result)).toBe(false);
  });

  it('reports a certificate revoked through the app’s revoke API as revoked, from the status list', async () => {
    const c = await issued();
    const other = await enrolLearner(t, c.cohort.id, 'Otto Other');
    const second = await c.asAdmin('POST', `/api/v1/cohorts/${c.cohort.id}/certificates`, { email: other.email });
    const secondVc = await credentialOf(second.json().code);
    const res = await c.asAdmin('POST', `/api/v1/certificates/${c.code}/revoke`, { reason: 'Issued in error' });
    expect(res.statusCode).toBe(200);
    const result = await verifyWithLibrary(t.app, c.vc);
    // The signature still holds (the credential is what was issued); its status bit now says revoked.
    expect(result.statusResult?.verified).toBe(true);
    expect(revoked(result)).toBe(true);
    // The other learner's certificate is untouched.
    const untouched = await verifyWithLibrary(t.app, secondVc);
    expect(untouched.verified).toBe(true);
    expect(revoked(untouched)).toBe(false);
    // And the app's own check agrees.
    expect(await t.ctx.certificates.check(c.vc)).toBe('revoked');
    expect(await t.ctx.certificates.check(secondVc)).toBe('valid');
  });

  it('rejects a credential whose learner’s name was changed', async () => {
    const c = await issued('李小龙');
    const tampered = structuredClone(c.vc);
    tampered.credentialSubject.identifier[0].identityHash = '李小龍';
    const result = await verifyWithLibrary(t.app, tampered);
    expect(result.verified).toBe(false);
    expect(JSON.stringify(result.error)).toContain('Invalid signature');
    expect(await t.ctx.certificates.check(tampered)).toBe('invalid');
    // A changed date, or a proof moved to another key, fail too.
    expect((await verifyWithLibrary(t.app, { ...c.vc, validFrom: '2026-03-26T12:00:01Z' })).verified).toBe(false);
    expect(await t.ctx.certificates.check(c.vc)).toBe('valid');
  });

  it('still verifies a certificate signed before a key rotation; new ones are signed by the new key', async () => {
    const before = await issued();
    const { retired, active } = await t.ctx.certificates.rotateKey();
    expect(retired?.did).toBe(before.vc.issuer.id);
    expect(active.did).not.toBe(retired?.did);
    const other = await enrolLearner(t, before.cohort.id, 'Nia Newkey');
    const after = await credentialOf((await before.asAdmin('POST', `/api/v1/cohorts/${before.cohort.id}/certificates`, { email: other.email })).json().code);
    expect(after.issuer.id).toBe(active.did);
    expect(after.proof.verificationMethod).toBe(active.verificationMethod);
    for (const credential of [before.vc, after]) {
      const result = await verifyWithLibrary(t.app, credential);
      expect(result.error, JSON.stringify(result.error ?? null)).toBeUndefined();
      expect(result.verified).toBe(true);
      expect(revoked(result)).toBe(false);
      expect(await t.ctx.certificates.check(credential)).toBe('valid');
    }
    // Revoking the old one after the rotation shows in the list its (retired) key signs.
    await before.asAdmin('POST', `/api/v1/certificates/${before.code}/revoke`, { reason: 'Checked again' });
    expect(revoked(await verifyWithLibrary(t.app, before.vc))).toBe(true);
    // Both keys stay in the published key set.
    const keys = (await t.app.inject({ method: 'GET', url: '/.well-known/cohort-course/keys.json' })).json().keys;
    expect(keys.map((k: { kid: string }) => k.kid).sort()).toEqual([retired!.kid, active.kid].sort());
  });
});

describe('the credential’s shape', () => {
  it('is Open Badges 3.0 on VC 2.0: a did:key issuer profile, a did:key verification method, a status list entry', async () => {
    const c = await issued();
    const { vc } = c;
    expect(vc['@context']).toEqual(['https://www.w3.org/ns/credentials/v2', 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json']);
    expect(vc.type).toEqual(['VerifiableCredential', 'OpenBadgeCredential']);
    expect(vc.issuer).toEqual({ id: expect.stringMatching(/^did:key:z6Mk[1-9A-HJ-NP-Za-km-z]+$/), type: ['Profile'], name: 'Cohort Course', url: 'http://cohort.test/' });
    const mb = vc.issuer.id.slice('did:key:'.length);
    expect(vc.proof).toMatchObject({ type: 'DataIntegrityProof', cryptosuite: 'eddsa-jcs-2022', proofPurpose: 'assertionMethod', verificationMethod: `did:key:${mb}#${mb}` });
    expect(vc.credentialSubject.type).toEqual(['AchievementSubject']);
    expect(vc.credentialSubject.achievement.type).toEqual(['Achievement']);
    const [row] = await t.ctx.database.db.select().from(certificates).where(eq(certificates.code, c.code));
    const list = `http://cohort.test/api/v1/certificates/status/revocation/${(await t.ctx.certificates.ensureKey()).kid}`;
    expect(vc.credentialStatus).toEqual({ id: `${list}#${row.statusListIndex}`, type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: String(row.statusListIndex), statusListCredential: list });
    expect(row.statusListIndex).toBeGreaterThanOrEqual(0);
    expect(row.statusListIndex).toBeLessThan(MIN_LIST_BITS);
    // The verification document carries the same entry.
    expect((await c.anonymous('GET', `/api/v1/certificates/${c.code}`)).json().credentialStatus).toEqual(vc.credentialStatus);
  });

  it('defines every term it uses: JSON-LD expansion in safe mode (which refuses undefined terms) accepts it and its status list', async () => {
    const { vc } = await issued();
    const documentLoader = documentLoaderFor(t.app);
    const list = (await documentLoader(vc.credentialStatus.statusListCredential)).document;
    for (const doc of [vc, list]) {
      const expanded = await jsonld.expand(doc, { documentLoader, safe: true });
      expect(expanded).toHaveLength(1);
    }
  });

  it('the did:key is the Multikey of the published Ed25519 key: z + base58btc(0xed 0x01 + 32 bytes)', async () => {
    const { vc } = await issued();
    const [jwk] = (await t.app.inject({ method: 'GET', url: '/.well-known/cohort-course/keys.json' })).json().keys;
    const didDoc = (await documentLoaderFor(t.app)(vc.issuer.id)).document as { verificationMethod: Array<{ publicKeyMultibase: string }> };
    const bs58 = (await import('bs58')).default;
    const bytes = bs58.decode(didDoc.verificationMethod[0].publicKeyMultibase.slice(1));
    expect([...bytes.subarray(0, 2)]).toEqual([0xed, 0x01]);
    expect(Buffer.from(bytes.subarray(2)).toString('base64url')).toBe(jwk.x);
  });
});

describe('the revocation status list', () => {
  it('is a signed BitstringStatusListCredential of 131,072 bits with a short cache, the revoked bit set', async () => {
    const c = await issued();
    const path = c.vc.credentialStatus.statusListCredential.slice('http://cohort.test'.length);
    const res = await c.anonymous('GET', path);
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    expect(res.headers['content-type']).toContain('application/vc');
    const list = res.json();
    expect(list).toMatchObject({
      '@context': ['https://www.w3.org/ns/credentials/v2'],
      id: c.vc.credentialStatus.statusListCredential,
      type: ['VerifiableCredential', 'BitstringStatusListCredential'],
      issuer: c.vc.issuer.id,
      validFrom: LATE_IN_COHORT.replace('.000Z', 'Z'),
      credentialSubject: { type: 'BitstringStatusList', statusPurpose: 'revocation' },
      proof: { type: 'DataIntegrityProof', cryptosuite: 'eddsa-jcs-2022', verificationMethod: c.vc.proof.verificationMethod },
    });
    expect(list.credentialSubject.encodedList).toMatch(/^u[A-Za-z0-9_-]+$/);
    const index = Number(c.vc.credentialStatus.statusListIndex);
    const decoded = await decodeList({ encodedList: list.credentialSubject.encodedList });
    expect(decoded.length).toBe(MIN_LIST_BITS);
    expect(decoded.getStatus(index)).toBe(false);
    await c.asAdmin('POST', `/api/v1/certificates/${c.code}/revoke`, { reason: 'Issued in error' });
    const after = await decodeList({ encodedList: (await c.anonymous('GET', path)).json().credentialSubject.encodedList });
    expect(after.getStatus(index)).toBe(true);
    let set = 0;
    for (let i = 0; i < after.length; i++) if (after.getStatus(i)) set++;
    expect(set).toBe(1);
  });

  it('puts bit 0 in the left-most bit of the first byte, as the specification says', async () => {
    const decoded = await decodeList({ encodedList: encodeList([0, 9, MIN_LIST_BITS - 1], MIN_LIST_BITS) });
    expect([0, 1, 8, 9, 10, MIN_LIST_BITS - 1].map((i) => decoded.getStatus(i))).toEqual([true, false, false, true, false, true]);
    const raw = (await import('node:zlib')).gunzipSync(Buffer.from(encodeList([0, 9], MIN_LIST_BITS).slice(1), 'base64url'));
    expect([raw[0], raw[1], raw.length]).toEqual([0x80, 0x40, MIN_LIST_BITS / 8]);
  });

  it('404 for a key that never signed here; 400 for a nonsense key', async () => {
    await issued();
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/certificates/status/revocation/not-a-key' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect((await t.app.inject({ method: 'GET', url: `/api/v1/certificates/status/revocation/${'x'.repeat(101)}` })).statusCode).toBe(400);
  });

  it('each certificate gets its own bit', async () => {
    const c = await issued();
    for (let i = 0; i < 5; i++) {
      const l = await enrolLearner(t, c.cohort.id, `Learner ${i}`);
      expect((await c.asAdmin('POST', `/api/v1/cohorts/${c.cohort.id}/certificates`, { email: l.email })).statusCode).toBe(201);
    }
    const rows = await t.ctx.database.db.select({ i: certificates.statusListIndex }).from(certificates);
    expect(new Set(rows.map((r) => r.i)).size).toBe(6);
    expect(rows.every((r) => r.i !== null)).toBe(true);
  });
});

describe('upgrading a database from before the status list', () => {
  it('a certificate without a status bit gets one at start and is signed again in today’s form, which verifies', async () => {
    const c = await issued();
    // As a certificate issued before: no status bit, and the earlier form of credential (a JWK Set key, no status).
    const { credentialStatus: _s, proof: _p, ...earlier } = c.vc;
    await t.ctx.database.transaction(async (tx) => {
      await tx
        .update(certificates)
        .set({ statusListIndex: null, credential: JSON.stringify({ ...earlier, issuer: { id: 'http://cohort.test/', type: ['Profile'], name: 'Cohort Course' } }) })
        .where(eq(certificates.code, c.code));
    });
    const dir = t.dir;
    await t.app.close();
    const again = await createTestApp({ now: LATE_IN_COHORT, dir });
    try {
      const [row] = await again.ctx.database.db.select().from(certificates).where(eq(certificates.code, c.code));
      expect(row.statusListIndex).not.toBeNull();
      const vc = await credentialOf(c.code, again.app);
      expect(vc.credentialStatus.statusListIndex).toBe(String(row.statusListIndex));
      expect(vc.validFrom).toBe(c.vc.validFrom);
      expect(vc.credentialSubject).toEqual(c.vc.credentialSubject);
      const result = await verifyWithLibrary(again.app, vc);
      expect(result.verified).toBe(true);
      expect(revoked(result)).toBe(false);
      // A second start leaves it as it is.
      expect(await again.ctx.certificates.upgradeCredentials()).toBe(0);
    } finally {
      await again.app.close();
      rmSync(dir, { recursive: true, force: true });
    }
    t = await createTestApp({ now: LATE_IN_COHORT });
  });
});
