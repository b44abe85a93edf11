// Uploads: size and type limits, storage in the database (never the web root), safe names, and who may download a file.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { apiAs, csrfFrom } from '../helpers/http.js';
import { insertCohort, insertUser, signInBrowser } from '../helpers/factories.js';
import { eq } from 'drizzle-orm';
import { contentDisposition, sanitiseFilename } from '../../modules/assignments/files.js';
import { fileContents } from '../../modules/assignments/schema.js';
import { DOCX_BYTES, multipartBody, PDF_BYTES, PNG_BYTES, setupCohort, uploadAs } from './helpers.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => t.close());

/** How many files' bytes the database holds. */
const storedCount = async () => t.ctx.db.$count(fileContents);

/** A strategic-planning cohort in week 4, whose worksheet takes PDF or Word files up to 10 MB. */
async function week4() {
  const s = await setupCohort(t);
  t.clock.set(s.cohort.timeline.weeks[3].opensAt);
  return s;
}

describe('uploading a file', () => {
  it('is documented in the OpenAPI document as a multipart body with one binary part named file', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    const body = doc.paths['/api/v1/cohorts/{id}/weeks/{n}/submission/files'].post.requestBody;
    expect(Object.keys(body.content)).toEqual(['multipart/form-data']);
    expect(body.content['multipart/form-data'].schema).toMatchObject({ type: 'object', required: ['file'], properties: { file: { type: 'string', format: 'binary' } } });
  });

  it('a learner uploads a PDF: stored under a random id beside the database, not in the web root, with its hash', async () => {
    const s = await week4();
    const res = await uploadAs(t, s.learner.token, s.cohort.id, 4, { name: 'My plan.pdf', content: PDF_BYTES });
    expect(res.statusCode).toBe(201);
    const file = res.json();
    expect(file).toMatchObject({ name: 'My plan.pdf', type: 'application/pdf', size: PDF_BYTES.length, url: `/api/v1/files/${file.id}` });
    expect(file.id).toMatch(/^[0-9a-f]{32}$/);
    expect(file.sha256).toMatch(/^[0-9a-f]{64}$/);
    const [stored] = await t.ctx.db.select().from(fileContents).where(eq(fileContents.fileId, file.id));
    expect(Buffer.from(stored.content)).toEqual(PDF_BYTES);
    expect(existsSync(join(process.cwd(), 'public', file.id))).toBe(false);
    const own = (await s.asLearner('GET', `/api/v1/cohorts/${s.cohort.id}/weeks/4/submission`)).json();
    expect(own.status).toBe('draft');
    expect(own.files.map((f: { id: string }) => f.id)).toEqual([file.id]);
  });

  it('a submitted version keeps its files, even after the learner removes one from the working copy', async () => {
    const s = await week4();
    const a = (await uploadAs(t, s.learner.token, s.cohort.id, 4, { name: 'a.pdf', content: PDF_BYTES })).json();
    const b = (await uploadAs(t, s.learner.token, s.cohort.id, 4, { name: 'b.docx', content: DOCX_BYTES })).json();
    const { id } = (await s.asLearner('PUT', `/api/v1/cohorts/${s.cohort.id}/weeks/4/submission`, { answers: { 'one-page': 'see file' }, submit: true })).json();
    await s.asInstructor('POST', `/api/v1/submissions/${id}/review`, { outcome: 'needs_revision', feedback: 'Shorter please' });
    expect((await s.asLearner('DELETE', `/api/v1/files/${a.id}`)).statusCode).toBe(204);
    await s.asLearner('PUT', `/api/v1/cohorts/${s.cohort.id}/weeks/4/submission`, { answers: { 'one-page': 'see file' }, submit: true });
    const doc = (await s.asInstructor('GET', `/api/v1/submissions/${id}`)).json();
    expect(doc.versions[0].files.map((f: { name: string }) => f.name)).toEqual(['a.pdf', 'b.docx']);
    expect(doc.versions[1].files.map((f: { name: string }) => f.name)).toEqual(['b.docx']);
    expect(doc.files.map((f: { name: string }) => f.name)).toEqual(['b.docx']);
    // The removed file is still there for the history.
    expect((await s.asInstructor('GET', `/api/v1/files/${a.id}`)).statusCode).toBe(200);
  });

  it('a file larger than the assignment allows is refused with 413 and nothing is kept', async () => {
    const s = await week4();
    const big = Buffer.concat([PDF_BYTES, Buffer.alloc(10 * 1024 * 1024, 0x20)]);
    const res = await uploadAs(t, s.learner.token, s.cohort.id, 4, { name: 'big.pdf', content: big });
    expect(res.statusCode).toBe(413);
    expect(res.json().detail).toContain('10 MB');
    expect(await storedCount()).toBe(0);
  });

  it('a type the assignment does not take is refused with 400, by extension and by content', async () => {
    const s = await week4();
    const exe = await uploadAs(t, s.learner.token, s.cohort.id, 4, { name: 'plan.exe', content: PDF_BYTES });
    expect(exe.statusCode).toBe(400);
    expect(exe.json().detail).toContain('not an accepted type');
    const png = await uploadAs(t, s.learner.token, s.cohort.id, 4, { name: 'plan.png', content: PNG_BYTES });
    expect(png.statusCode).toBe(400);
    const disguised = await uploadAs(t, s.learner.token, s.cohort.id, 4, { name: 'plan.pdf', content: PNG_BYTES });
    expect(disguised.statusCode).toBe(400);
    expect(disguised.json().detail).toContain('not a PDF file');
    const html = await uploadAs(t, s.learner.token, s.cohort.id, 4, { name: 'plan.docx', content: '<html><script>alert(1)</script></html>' });
    expect(html.statusCode).toBe(400);
    const empty = await uploadAs(t, s.learner.token, s.cohort.id, 4, { name: 'plan.pdf', content: '' });
    expect(empty.statusCode).toBe(400);
  });

  it('a week without uploads, a request that is not multipart, or no file at all is 400', async () => {
    const s = await setupCohort(t);
    expect((await uploadAs(t, s.learner.token, s.cohort.id, 1, { name: 'a.pdf', content: PDF_BYTES })).statusCode).toBe(400);
    t.clock.set(s.cohort.timeline.weeks[3].opensAt);
    const json = await s.asLearner('POST', `/api/v1/cohorts/${s.cohort.id}/weeks/4/submission/files`, { file: 'x' });
    expect(json.statusCode).toBe(400);
  });

  it('at most five files at once (409), none after the grace end (409), none from instructors (403) or strangers (401)', async () => {
    const s = await week4();
    for (let i = 0; i < 5; i++) expect((await uploadAs(t, s.learner.token, s.cohort.id, 4, { name: `p${i}.pdf`, content: PDF_BYTES })).statusCode).toBe(201);
    expect((await uploadAs(t, s.learner.token, s.cohort.id, 4, { name: 'p6.pdf', content: PDF_BYTES })).statusCode).toBe(409);
    expect((await uploadAs(t, s.instructor.token, s.cohort.id, 4, { name: 'i.pdf', content: PDF_BYTES })).statusCode).toBe(403);
    expect((await uploadAs(t, null, s.cohort.id, 4, { name: 'i.pdf', content: PDF_BYTES })).statusCode).toBe(401);
    t.clock.set(s.cohort.timeline.graceEndsAt);
    expect((await uploadAs(t, s.other.token, s.cohort.id, 4, { name: 'late.pdf', content: PDF_BYTES })).statusCode).toBe(409);
  });

  it('with the session cookie, only from this app’s own pages: Origin: null or no Origin is 403 and attaches nothing', async () => {
    const s = await week4();
    const browser = await signInBrowser(t, s.learner.email);
    const cookie = [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const upload = (headers: Record<string, string>) => {
      const body = multipartBody({ file: { name: 'planted.pdf', content: PDF_BYTES } });
      return t.app.inject({ method: 'POST', url: `/api/v1/cohorts/${s.cohort.id}/weeks/4/submission/files`, payload: body.payload, headers: { 'content-type': body.contentType, cookie, ...headers } });
    };
    // Origin: null is what a browser sends for a form another same-site server bounced here with a 307.
    const refused: Array<Record<string, string>> = [{ origin: 'null' }, {}, { 'sec-fetch-site': 'same-site' }, { origin: 'null', 'sec-fetch-site': 'same-site' }, { origin: 'http://cohort.test:8080' }, { origin: 'http://cohort.test:8080', 'sec-fetch-site': 'same-origin' }];
    for (const headers of refused) {
      const res = await upload(headers);
      expect(res.statusCode, JSON.stringify(headers)).toBe(403);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json().detail).toContain('only from this site');
    }
    expect(await storedCount()).toBe(0);
    // From the app's own page (its Origin, or Sec-Fetch-Site: same-origin), and with a token (no Origin at all), it is taken.
    expect((await upload({ origin: 'http://cohort.test' })).statusCode).toBe(201);
    expect((await upload({ 'sec-fetch-site': 'same-origin' })).statusCode).toBe(201);
    expect((await uploadAs(t, s.learner.token, s.cohort.id, 4, { name: 'by-token.pdf', content: PDF_BYTES })).statusCode).toBe(201);
  });
});

describe('malformed uploads', () => {
  const broken: Array<[string, string]> = [
    ['multipart/form-data', 'no boundary at all'],
    ['multipart/form-data; boundary=xyz', 'garbage without parts'],
    ['multipart/form-data; boundary=xyz', '--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n%PDF-1.4 cut short'],
    ['multipart/form-data; boundary=xyz', '--xyz\r\nContent-Disposition: form-data; name="__proto__"; filename="a.pdf"\r\n\r\n%PDF-1.4\r\n--xyz--\r\n'],
  ];

  it('a broken multipart body is a 400 (API) and a friendly page (form), never a 500, and leaves no file behind', async () => {
    const s = await week4();
    for (const [contentType, payload] of broken) {
      const res = await t.app.inject({
        method: 'POST',
        url: `/api/v1/cohorts/${s.cohort.id}/weeks/4/submission/files`,
        payload,
        headers: { 'content-type': contentType, authorization: `Bearer ${s.learner.token}` },
      });
      expect(res.statusCode, payload).toBe(400);
    }
    const twoFiles =
      '--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n%PDF-1.4\r\n' +
      '--xyz\r\nContent-Disposition: form-data; name="file"; filename="b.pdf"\r\n\r\n%PDF-1.4\r\n--xyz--\r\n';
    const browser = await signInBrowser(t, s.learner.email);
    const url = `/cohorts/${s.cohort.id}/weeks/4/worksheet`;
    const token = csrfFrom((await browser.get(url)).body)!;
    const cookie = [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    for (const [contentType, payload] of [...broken, ['multipart/form-data; boundary=xyz', twoFiles] as [string, string]]) {
      const res = await t.app.inject({ method: 'POST', url: `${url}?_csrf=${token}`, payload, headers: { 'content-type': contentType, cookie, origin: browser.origin } });
      expect([400, 413], payload).toContain(res.statusCode);
      expect(res.body).toContain('role="alert"');
    }
    expect(await storedCount()).toBe(0);
  });
});

describe('downloading a file', () => {
  it('its learner and the cohort’s instructors and admins get it as an attachment that browsers will not sniff', async () => {
    const s = await week4();
    const file = (await uploadAs(t, s.learner.token, s.cohort.id, 4, { name: 'Łucja’s plan: v2?.pdf', content: PDF_BYTES })).json();
    expect(file.name).toBe('Łucja’s plan_ v2_.pdf');
    const admin = apiAs(t.app, (await insertUser(t, 'admin')).token);
    for (const caller of [s.asLearner, s.asInstructor, admin]) {
      const res = await caller('GET', `/api/v1/files/${file.id}`);
      expect(res.statusCode).toBe(200);
      expect(res.rawPayload).toEqual(PDF_BYTES);
      expect(res.headers['content-type']).toBe('application/pdf');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-disposition']).toBe(`attachment; filename="Lucja's plan_ v2_.pdf"; filename*=UTF-8''%C5%81ucja%E2%80%99s%20plan_%20v2_.pdf`);
      expect(res.headers['cache-control']).toBe('private, no-store');
    }
  });

  it('no other learner, no other cohort’s instructor and nobody signed out can fetch it; unknown ids are 404', async () => {
    const s = await week4();
    const file = (await uploadAs(t, s.learner.token, s.cohort.id, 4, { name: 'mine.pdf', content: PDF_BYTES })).json();
    const otherInstructor = await insertUser(t, 'instructor');
    const { cohort: elsewhere } = await insertCohort(t, { instructor: otherInstructor.email });
    expect(elsewhere.id).not.toBe(s.cohort.id);
    expect((await s.asOther('GET', `/api/v1/files/${file.id}`)).statusCode).toBe(403);
    expect((await apiAs(t.app, otherInstructor.token)('GET', `/api/v1/files/${file.id}`)).statusCode).toBe(403);
    expect((await s.asAnon('GET', `/api/v1/files/${file.id}`)).statusCode).toBe(401);
    expect((await s.asLearner('GET', `/api/v1/files/${'0'.repeat(32)}`)).statusCode).toBe(404);
    expect((await s.asLearner('GET', `/api/v1/files/..%2F..%2Ftest.db`)).statusCode).toBe(404);
    // Nor remove it.
    expect((await s.asOther('DELETE', `/api/v1/files/${file.id}`)).statusCode).toBe(403);
    expect((await s.asInstructor('DELETE', `/api/v1/files/${file.id}`)).statusCode).toBe(403);
  });
});

describe('file names', () => {
  it('drops folders, control and bidi characters and reserved punctuation, and keeps the accepted extension', () => {
    expect(sanitiseFilename('../../etc/passwd.pdf', 'pdf')).toBe('passwd.pdf');
    expect(sanitiseFilename('C:\\Users\\me\\Plan v2.DOCX', 'docx')).toBe('Plan v2.docx');
    expect(sanitiseFilename('evil\u202Efdp.exe.pdf', 'pdf')).toBe('evilfdp.exe.pdf');
    expect(sanitiseFilename('a\r\nContent-Type: text/html.pdf', 'pdf')).toBe('html.pdf');
    expect(sanitiseFilename('a\r\nX-Evil: 1; <b>.pdf', 'pdf')).toBe('aX-Evil_ 1_ _b_.pdf');
    expect(sanitiseFilename('....pdf', 'pdf')).toBe('upload.pdf');
    expect(sanitiseFilename(`${'ż'.repeat(300)}.pdf`, 'pdf')).toBe(`${'ż'.repeat(110)}.pdf`);
    expect(contentDisposition('李小龙.pdf')).toBe(`attachment; filename="download.pdf"; filename*=UTF-8''%E6%9D%8E%E5%B0%8F%E9%BE%99.pdf`);
  });
});
