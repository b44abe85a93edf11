// The certificate PDF: names in any script come back out as text, fonts are embedded and subset, revoked says so.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PDFDict, PDFDocument, PDFName } from 'pdf-lib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { fontsDir } from '../../modules/certificates/pdf.js';
import { certCohort, LATE_IN_COHORT } from './helpers.js';
import { pdfText } from '../helpers/pdf.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp({ now: LATE_IN_COHORT });
});
afterEach(async () => t.close());


/** The fonts a PDF describes, and whether each has its font file embedded. */
async function embeddedFonts(bytes: Buffer): Promise<Array<{ name: string; embedded: boolean }>> {
  const doc = await PDFDocument.load(bytes);
  const out: Array<{ name: string; embedded: boolean }> = [];
  for (const [, obj] of doc.context.enumerateIndirectObjects()) {
    if (!(obj instanceof PDFDict) || obj.get(PDFName.of('Type')) !== PDFName.of('FontDescriptor')) continue;
    const name = (obj.get(PDFName.of('FontName')) as PDFName).decodeText();
    out.push({ name, embedded: Boolean(obj.get(PDFName.of('FontFile2')) ?? obj.get(PDFName.of('FontFile3')) ?? obj.get(PDFName.of('FontFile'))) });
  }
  return out;
}

async function issuedTo(name: string) {
  const c = await certCohort(t, { learnerName: name });
  const res = await c.asAdmin('POST', `/api/v1/cohorts/${c.cohort.id}/certificates`, { email: c.learner.email });
  expect(res.statusCode).toBe(201);
  return { ...c, code: res.json().code as string };
}

describe('the certificate PDF', () => {
  it('shows the learner (Latin Extended), the course, dates, hours, code and verification URL', async () => {
    const c = await issuedTo('Łucja Ó Súilleabháin');
    const res = await c.anonymous('GET', `/certificates/${c.code}.pdf`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    const text = (await pdfText(res.rawPayload)).normalize('NFC');
    expect(text).toContain('Łucja Ó Súilleabháin');
    expect(text).toContain('Strategic Planning with Purpose');
    expect(text).toContain('2 March 2026 – 30 March 2026');
    expect(text).toContain('10 hours');
    expect(text).toContain(c.code);
    expect(text).toContain(`http://cohort.test/certificates/${c.code}`);
    expect(text).toContain('Completed on time');
  });

  it('shows a Chinese name with the embedded CJK font, subset so the file stays small', async () => {
    const c = await issuedTo('李小龙');
    const res = await c.anonymous('GET', `/certificates/${c.code}.pdf`);
    const text = await pdfText(res.rawPayload);
    expect(text).toContain('李小龙');
    expect(text).toContain('Strategic Planning with Purpose');
    const fonts = await embeddedFonts(res.rawPayload);
    expect(fonts.some((f) => f.name.includes('DroidSansFallback') && f.embedded)).toBe(true);
    expect(fonts.some((f) => f.name.includes('DejaVuSans') && f.embedded)).toBe(true);
    expect(fonts.every((f) => f.embedded)).toBe(true);
    // Subset: the whole CJK font is 3.5 MB.
    expect(res.rawPayload.length).toBeLessThan(150_000);
  });

  it('a name mixing scripts keeps each character', async () => {
    const c = await issuedTo('Mai 李 Ngọc Ånström');
    const text = (await pdfText((await c.anonymous('GET', `/certificates/${c.code}.pdf`)).rawPayload)).normalize('NFC');
    expect(text.replace(/\s+/g, ' ')).toContain('Mai 李 Ngọc Ånström');
  });

  it('a revoked certificate’s PDF says it is revoked, in words', async () => {
    const c = await issuedTo('Nia Reader');
    await c.asAdmin('POST', `/api/v1/certificates/${c.code}/revoke`, { reason: 'Issued in error' });
    const text = await pdfText((await c.anonymous('GET', `/certificates/${c.code}.pdf`)).rawPayload);
    expect(text).toContain('REVOKED on 26 March 2026');
    expect(text).toContain('Issued in error');
  });

  it('an unknown code has no PDF', async () => {
    const c = await certCohort(t);
    const res = await c.anonymous('GET', '/certificates/AAAAAAAAAAAAAAAAAAAAAAAAAA.pdf');
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toContain('text/html');
  });

  it('every bundled font has even-length glyph records, so pdf-lib’s subsets render', () => {
    const fonts = readdirSync(fontsDir).filter((f) => /\.ttf$/i.test(f));
    expect(fonts).toEqual(expect.arrayContaining(['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf', 'DroidSansFallback.ttf']));
    for (const f of fonts) {
      const b = readFileSync(join(fontsDir, f));
      const tables = new Map<string, { offset: number; length: number }>();
      const numTables = b.readUInt16BE(4);
      for (let i = 0; i < numTables; i++) {
        const rec = 12 + i * 16;
        tables.set(b.toString('latin1', rec, rec + 4), { offset: b.readUInt32BE(rec + 8), length: b.readUInt32BE(rec + 12) });
      }
      const longLoca = b.readInt16BE(tables.get('head')!.offset + 50) === 1;
      const loca = tables.get('loca')!;
      const offsets: number[] = [];
      for (let p = loca.offset; p < loca.offset + loca.length; p += longLoca ? 4 : 2) offsets.push(longLoca ? b.readUInt32BE(p) : b.readUInt16BE(p) * 2);
      const odd = offsets.slice(1).filter((o, i) => (o - offsets[i]) % 2 !== 0).length;
      expect(odd, `${f} has ${odd} odd-length glyph records`).toBe(0);
    }
  });
});
