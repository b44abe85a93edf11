// The certificate API: progress (who may read whose), manual issue, verification, revoke, CSV, unguessable codes,
// and the signed credential checked with the published key (the independent verifier is in standard-verifier.test.ts).
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { enrolLearner, insertCohort, insertUser } from '../helpers/factories.js';
import { apiAs } from '../helpers/http.js';
import bs58 from 'bs58';
import { base32Code } from '../../modules/certificates/code.js';
import { canonicalize, verificationMethodOf, verifyCanonical, verifyCredential } from '../../modules/certificates/signing.js';
import { certCohort, LATE_IN_COHORT } from './helpers.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp({ now: LATE_IN_COHORT });
});
afterEach(async () => t.close());

/** A cohort whose learner holds a manually issued certificate. */
async function withCertificate(name = 'Lena Learner') {
  const c = await certCohort(t, { learnerName: name });
  const res = await c.asAdmin('POST', `/api/v1/cohorts/${c.cohort.id}/certificates`, { email: c.learner.email });
  expect(res.statusCode, res.body).toBe(201);
  return { ...c, code: res.json().code as string, doc: res.json() };
}

describe('GET /api/v1/cohorts/:id/progress', () => {
  it('a learner reads their own progress with the plain-language missing list', async () => {
    const c = await certCohort(t);
    const res = await c.asLearner('GET', `/api/v1/cohorts/${c.cohort.id}/progress`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      learner: c.learner.email,
      assignmentsComplete: 0,
      assignmentsRequired: 4,
      sessionsAttended: 0,
      sessionsRequired: 3,
      posts: 0,
      postsRequired: 1,
      eligible: false,
      certificateWanted: true,
      certificate: null,
      graceEndsAt: c.cohort.timeline.graceEndsAt.toISOString(),
    });
    expect(res.json().missing).toEqual([
      'Week 1 worksheet is not submitted yet',
      'Week 2 worksheet is not submitted yet',
      'Week 3 worksheet is not submitted yet',
      'Week 4 worksheet is not submitted yet',
      'Attend or watch three more sessions',
      'Post at least once in the discussion',
    ]);
    expect(res.json().weeks).toHaveLength(4);
  });

  it('shows the certificate code once there is one, and the learner’s own list has it', async () => {
    const c = await withCertificate();
    const p = (await c.asLearner('GET', `/api/v1/cohorts/${c.cohort.id}/progress`)).json();
    expect(p.certificate).toEqual({ code: c.code, status: 'valid', verifyUrl: `http://cohort.test/certificates/${c.code}`, pdfUrl: `http://cohort.test/certificates/${c.code}.pdf` });
    const mine = await c.asLearner('GET', '/api/v1/me/certificates');
    expect(mine.json().map((d: { code: string }) => d.code)).toEqual([c.code]);
    expect((await c.asInstructor('GET', '/api/v1/me/certificates')).json()).toEqual([]);
    expect((await c.anonymous('GET', '/api/v1/me/certificates')).statusCode).toBe(401);
  });

  it('instructors and admins pass ?learner=email; learners cannot read someone else’s', async () => {
    const c = await certCohort(t);
    const other = await enrolLearner(t, c.cohort.id, 'Otto Other');
    const url = `/api/v1/cohorts/${c.cohort.id}/progress?learner=${encodeURIComponent(other.email)}`;
    expect((await c.asInstructor('GET', url)).json().learner).toBe(other.email);
    expect((await c.asAdmin('GET', url)).json().learner).toBe(other.email);
    expect((await c.asLearner('GET', url)).statusCode).toBe(404);
    expect((await c.asLearner('GET', `/api/v1/cohorts/${c.cohort.id}/progress?learner=${encodeURIComponent(c.learner.email)}`)).statusCode).toBe(200);
  });

  it('400 for staff without ?learner, 404 for someone not in the cohort, 401 signed out, 403 outside the cohort, 404 unknown cohort', async () => {
    const c = await certCohort(t);
    const noLearner = await c.asInstructor('GET', `/api/v1/cohorts/${c.cohort.id}/progress`);
    expect(noLearner.statusCode).toBe(400);
    expect(noLearner.headers['content-type']).toContain('application/problem+json');
    expect(noLearner.json().detail).toContain('learner');
    const stranger = await insertUser(t, 'learner');
    expect((await c.asInstructor('GET', `/api/v1/cohorts/${c.cohort.id}/progress?learner=${encodeURIComponent(stranger.email)}`)).statusCode).toBe(404);
    expect((await c.asInstructor('GET', `/api/v1/cohorts/${c.cohort.id}/progress?learner=${encodeURIComponent(c.instructor.email)}`)).statusCode).toBe(404);
    expect((await c.anonymous('GET', `/api/v1/cohorts/${c.cohort.id}/progress`)).statusCode).toBe(401);
    expect((await apiAs(t.app, stranger.token)('GET', `/api/v1/cohorts/${c.cohort.id}/progress`)).statusCode).toBe(403);
    const otherInstructor = await insertUser(t, 'instructor');
    expect((await apiAs(t.app, otherInstructor.token)('GET', `/api/v1/cohorts/${c.cohort.id}/progress?learner=${encodeURIComponent(c.learner.email)}`)).statusCode).toBe(403);
    expect((await c.asLearner('GET', '/api/v1/cohorts/999999/progress')).statusCode).toBe(404);
    expect((await c.asLearner('GET', '/api/v1/cohorts/abc/progress')).statusCode).toBe(400);
  });
});

describe('POST /api/v1/cohorts/:id/certificates (manual issue)', () => {
  it('an admin issues one by hand: 201 with the certificate, the learner is emailed', async () => {
    const c = await withCertificate('Nia Reader');
    expect(c.doc).toMatchObject({
      learner: 'Nia Reader',
      course: 'Strategic Planning with Purpose',
      courseSlug: 'strategic-planning',
      cohort: { id: c.cohort.id, startDate: '2026-03-02', endsAt: c.cohort.timeline.endsAt.toISOString(), timezone: 'Europe/London' },
      hours: 10,
      issuedAt: LATE_IN_COHORT,
      status: 'valid',
      earned: 'on_time',
      issued: 'manual',
      revokedAt: null,
    });
    expect(c.code).toMatch(/^[A-Z2-7]{26}$/);
    const mails = await t.mailsTo(c.learner.email);
    expect(mails.map((m) => m.subject)).toContain('Your certificate: Strategic Planning with Purpose');
  });

  it('also after the grace period', async () => {
    const c = await certCohort(t);
    t.clock.set(new Date(c.cohort.timeline.graceEndsAt.getTime() + 30 * 86_400_000));
    const res = await c.asAdmin('POST', `/api/v1/cohorts/${c.cohort.id}/certificates`, { email: c.learner.email });
    expect(res.statusCode).toBe(201);
    expect(res.json().earned).toBe('grace');
  });

  it('409 when the learner already has a valid one; 422 not enrolled or no certificate in the course; 400 bad input', async () => {
    const c = await withCertificate();
    const again = await c.asAdmin('POST', `/api/v1/cohorts/${c.cohort.id}/certificates`, { email: c.learner.email });
    expect(again.statusCode).toBe(409);
    const stranger = await insertUser(t);
    expect((await c.asAdmin('POST', `/api/v1/cohorts/${c.cohort.id}/certificates`, { email: stranger.email })).statusCode).toBe(422);
    expect((await c.asAdmin('POST', `/api/v1/cohorts/${c.cohort.id}/certificates`, { email: 'nobody@example.org' })).statusCode).toBe(422);
    const plain = (await insertCohort(t, { course: 'community-led-planning' })).cohort;
    const p = await enrolLearner(t, plain.id);
    const noCert = await c.asAdmin('POST', `/api/v1/cohorts/${plain.id}/certificates`, { email: p.email });
    expect(noCert.statusCode).toBe(422);
    expect(noCert.json().detail).toBe('This course does not offer a certificate.');
    const bad = await c.asAdmin('POST', `/api/v1/cohorts/${c.cohort.id}/certificates`, { mail: c.learner.email });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().detail).toContain('email');
    expect((await c.asAdmin('POST', `/api/v1/cohorts/${c.cohort.id}/certificates`, { email: 'not an address' })).statusCode).toBe(400);
    expect((await c.asAdmin('POST', '/api/v1/cohorts/999999/certificates', { email: c.learner.email })).statusCode).toBe(404);
  });

  it('401 signed out, 403 for instructors and learners', async () => {
    const c = await certCohort(t);
    const body = { email: c.learner.email };
    expect((await c.anonymous('POST', `/api/v1/cohorts/${c.cohort.id}/certificates`, body)).statusCode).toBe(401);
    expect((await c.asInstructor('POST', `/api/v1/cohorts/${c.cohort.id}/certificates`, body)).statusCode).toBe(403);
    expect((await c.asLearner('POST', `/api/v1/cohorts/${c.cohort.id}/certificates`, body)).statusCode).toBe(403);
  });
});

describe('verification and revocation', () => {
  it('anyone can verify a code (case-insensitive); unknown codes are a 404 problem', async () => {
    const c = await withCertificate();
    const res = await c.anonymous('GET', `/api/v1/certificates/${c.code}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ code: c.code, learner: 'Lena Learner', status: 'valid', earned: 'on_time' });
    expect(res.json().proof).toMatchObject({ type: 'DataIntegrityProof', cryptosuite: 'eddsa-jcs-2022', proofPurpose: 'assertionMethod' });
    expect((await c.anonymous('GET', `/api/v1/certificates/${c.code.toLowerCase()}`)).json().code).toBe(c.code);
    const missing = await c.anonymous('GET', `/api/v1/certificates/${base32Code()}`);
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toContain('application/problem+json');
    expect(missing.json()).toMatchObject({ status: 404, title: 'Not found', detail: 'Certificate not found.' });
  });

  it('10,000 guessed codes all 404', async () => {
    await withCertificate();
    let found = 0;
    for (let i = 0; i < 10_000; i++) {
      const res = await t.app.inject({ method: 'GET', url: `/api/v1/certificates/${base32Code()}` });
      if (res.statusCode !== 404) found++;
    }
    expect(found).toBe(0);
  }, 180_000);

  it('an admin revokes with a reason: the API then says revoked, with when and why', async () => {
    const c = await withCertificate();
    const res = await c.asAdmin('POST', `/api/v1/certificates/${c.code}/revoke`, { reason: 'Issued in error' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'revoked', revokedAt: LATE_IN_COHORT });
    const doc = (await c.anonymous('GET', `/api/v1/certificates/${c.code}`)).json();
    expect(doc).toMatchObject({ status: 'revoked', revokedAt: LATE_IN_COHORT, revocationReason: 'Issued in error' });
    expect((await c.asAdmin('POST', `/api/v1/certificates/${c.code}/revoke`, { reason: 'Again' })).statusCode).toBe(409);
    expect((await c.asLearner('GET', `/api/v1/cohorts/${c.cohort.id}/progress`)).json().certificate).toBeNull();
  });

  it('revoke: 400 without a reason, 404 unknown code, 401 signed out, 403 not an admin', async () => {
    const c = await withCertificate();
    const empty = await c.asAdmin('POST', `/api/v1/certificates/${c.code}/revoke`, { reason: '   ' });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().detail).toContain('reason');
    expect((await c.asAdmin('POST', `/api/v1/certificates/${c.code}/revoke`, {})).statusCode).toBe(400);
    expect((await c.asAdmin('POST', `/api/v1/certificates/${c.code}/revoke`, { reason: 'x'.repeat(501) })).statusCode).toBe(400);
    expect((await c.asAdmin('POST', `/api/v1/certificates/${base32Code()}/revoke`, { reason: 'x' })).statusCode).toBe(404);
    expect((await c.anonymous('POST', `/api/v1/certificates/${c.code}/revoke`, { reason: 'x' })).statusCode).toBe(401);
    expect((await c.asInstructor('POST', `/api/v1/certificates/${c.code}/revoke`, { reason: 'x' })).statusCode).toBe(403);
    expect((await c.anonymous('GET', `/api/v1/certificates/${c.code}`)).json().status).toBe('valid');
  });
});

describe('list and CSV export', () => {
  it('admins list certificates and export them as CSV with formulas defused', async () => {
    const c = await withCertificate('=HYPERLINK("x")');
    const list = await c.asAdmin('GET', '/api/v1/certificates');
    expect(list.statusCode).toBe(200);
    expect(list.json()).toHaveLength(1);
    expect(list.json()[0]).toMatchObject({ code: c.code, email: c.learner.email });
    const csv = await c.asAdmin('GET', '/api/v1/certificates.csv');
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.headers['content-disposition']).toContain('attachment');
    const lines = csv.body.replace(/^\ufeff/, '').trim().split('\r\n');
    expect(lines[0]).toBe('code,status,learner,email,course,cohort_id,cohort_start_date,cohort_ends_at,hours,issued_at,earned,issued,issued_by,revoked_at,revocation_reason,revoked_by,verify_url');
    expect(lines[1]).toContain(c.code);
    expect(lines[1]).toContain(`"'=HYPERLINK(""x"")"`);
    expect(lines[1]).toContain(c.admin.email);
    expect((await c.asAdmin('GET', `/api/v1/certificates.csv?cohort=${c.cohort.id + 1}`)).body.trim().split('\r\n')).toHaveLength(1);
  });

  it('401 and 403 for the list and CSV', async () => {
    const c = await certCohort(t);
    expect((await c.anonymous('GET', '/api/v1/certificates.csv')).statusCode).toBe(401);
    expect((await c.asInstructor('GET', '/api/v1/certificates.csv')).statusCode).toBe(403);
    expect((await c.asLearner('GET', '/api/v1/certificates')).statusCode).toBe(403);
    expect((await c.asAdmin('GET', '/api/v1/certificates?cohort=zero')).statusCode).toBe(400);
  });
});

describe('the signed machine-readable certificate', () => {
  it('is an Open Badges 3.0 credential signed by a did:key whose key is also published at the well-known URL', async () => {
    const c = await withCertificate('Łucja Ó Súilleabháin');
    const cred = (await c.anonymous('GET', `/api/v1/certificates/${c.code}/credential.json`));
    expect(cred.statusCode).toBe(200);
    const vc = cred.json();
    expect(vc['@context'][0]).toBe('https://www.w3.org/ns/credentials/v2');
    expect(vc.type).toEqual(['VerifiableCredential', 'OpenBadgeCredential']);
    expect(vc.credentialSubject.identifier[0].identityHash).toBe('Łucja Ó Súilleabháin');
    expect(vc.credentialSubject.achievement.name).toBe('Strategic Planning with Purpose');
    expect(vc.id).toBe(`http://cohort.test/certificates/${c.code}`);
    const keysRes = await c.anonymous('GET', '/.well-known/cohort-course/keys.json');
    expect(keysRes.statusCode).toBe(200);
    const { keys } = keysRes.json();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
    expect(keys[0].kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(vc.proof.verificationMethod).toBe(verificationMethodOf(keys[0]));
    expect(vc.proof.verificationMethod).toMatch(/^did:key:z6Mk\w+#z6Mk\w+$/);
    expect(verifyCredential(vc, keys)).toBe(true);
    // The API's proof is the credential's proof.
    expect(c.doc.proof).toEqual(vc.proof);
  });

  it('fails after any byte of the signed payload changes', async () => {
    const c = await withCertificate('李小龙');
    const vc = (await c.anonymous('GET', `/api/v1/certificates/${c.code}/credential.json`)).json();
    const { keys } = (await c.anonymous('GET', '/.well-known/cohort-course/keys.json')).json();
    const { proof, ...unsecured } = vc;
    const { proofValue, ...options } = proof;
    expect(options['@context']).toEqual(unsecured['@context']);
    const config = Buffer.from(canonicalize(options));
    const payload = Buffer.from(canonicalize(unsecured));
    const signature = bs58.decode(proofValue.slice(1));
    expect(verifyCanonical(config, payload, signature, keys[0])).toBe(true);
    for (let i = 0; i < payload.length; i++) {
      const changed = Buffer.from(payload);
      changed[i] ^= 0x01;
      expect(verifyCanonical(config, changed, signature, keys[0]), `byte ${i}`).toBe(false);
    }
    for (let i = 0; i < config.length; i++) {
      const changed = Buffer.from(config);
      changed[i] ^= 0x01;
      expect(verifyCanonical(changed, payload, signature, keys[0]), `proof byte ${i}`).toBe(false);
    }
    // And at the document level: a changed name or date no longer verifies.
    expect(verifyCredential({ ...vc, credentialSubject: { ...vc.credentialSubject, identifier: [{ ...vc.credentialSubject.identifier[0], identityHash: '李小龍' }] } }, keys)).toBe(false);
    expect(verifyCredential({ ...vc, validFrom: '2026-03-26T12:00:01Z' }, keys)).toBe(false);
    // Nor does one claiming another issuer, or checked against someone else's key.
    expect(verifyCredential({ ...vc, issuer: { ...vc.issuer, id: 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK' } }, keys)).toBe(false);
    expect(verifyCredential(vc, [{ x: Buffer.alloc(32, 7).toString('base64url') }])).toBe(false);
  });

  it('the key pair is made once and kept: a restart on the same database signs with the same key', async () => {
    const c = await withCertificate();
    const first = (await c.anonymous('GET', '/.well-known/cohort-course/keys.json')).json();
    const dir = t.dir;
    await t.app.close();
    const again = await createTestApp({ now: LATE_IN_COHORT, dir });
    try {
      const second = (await again.app.inject({ method: 'GET', url: '/.well-known/cohort-course/keys.json' })).json();
      expect(second).toEqual(first);
      const vc = (await again.app.inject({ method: 'GET', url: `/api/v1/certificates/${c.code}/credential.json` })).json();
      expect(verifyCredential(vc, second.keys)).toBe(true);
    } finally {
      await again.app.close();
      rmSync(dir, { recursive: true, force: true });
    }
    t = await createTestApp({ now: LATE_IN_COHORT });
  });

  it('canonical JSON (the canonicalize package) sorts keys by UTF-16 code units and writes numbers the ECMAScript way', () => {
    expect(canonicalize({ b: 1, a: [true, null, 'x'], é: 1e21, '\u20ac': 0.1, '\ud83d\ude00': -0 })).toBe('{"a":[true,null,"x"],"b":1,"é":1e+21,"€":0.1,"😀":0}');
    expect(canonicalize({ z: undefined, y: 'line\nbreak' })).toBe('{"y":"line\\nbreak"}');
  });
});
