// The certificate PDF: pdf-lib with embedded, subset fonts from assets/fonts (DejaVu Sans for Latin, Greek and
// Cyrillic; Droid Sans Fallback for Han, kana and Hangul), choosing a font per character so any name renders.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PDFDocument, rgb, type PDFFont, type PDFPage } from 'pdf-lib';
import fontkit from '@pdf-lib/fontkit';
import { packageRoot } from '../../server/paths.js';

export const fontsDir = resolve(packageRoot, 'assets/fonts');

interface FontFile {
  file: string;
  bytes: Uint8Array;
  has(codePoint: number): boolean;
}

let loaded: { regular: FontFile; bold: FontFile; fallbacks: FontFile[] } | null = null;

function loadFont(file: string): FontFile {
  const bytes = readFileSync(resolve(fontsDir, file));
  const parsed = fontkit.create(bytes) as unknown as { hasGlyphForCodePoint(cp: number): boolean };
  return { file, bytes, has: (cp) => parsed.hasGlyphForCodePoint(cp) };
}

/** The fonts, read and parsed once (they are files of the package, not state). */
function fonts() {
  loaded ??= { regular: loadFont('DejaVuSans.ttf'), bold: loadFont('DejaVuSans-Bold.ttf'), fallbacks: [loadFont('DroidSansFallback.ttf')] };
  return loaded;
}

export interface CertificatePdfInput {
  code: string;
  learnerName: string;
  courseTitle: string;
  /** "2 March 2026 – 30 March 2026". */
  dates: string;
  hours: number;
  issuedOn: string;
  earned: 'on_time' | 'grace';
  verifyUrl: string;
  issuedAt: Date;
  revoked: { on: string; reason: string } | null;
}

type Weight = 'regular' | 'bold';

/** Draws text in runs of one font each; embeds a font only when a character needs it. */
class TextSetter {
  private embedded = new Map<string, PDFFont>();
  constructor(private doc: PDFDocument) {}

  private async font(file: FontFile): Promise<PDFFont> {
    let f = this.embedded.get(file.file);
    if (!f) {
      f = await this.doc.embedFont(file.bytes, { subset: true });
      this.embedded.set(file.file, f);
    }
    return f;
  }

  /** Split text into runs, each in the first font that has its characters (spaces and marks join the run before). */
  async runs(text: string, weight: Weight): Promise<Array<{ text: string; font: PDFFont }>> {
    const set = fonts();
    const primary = weight === 'bold' ? set.bold : set.regular;
    const chain = [primary, ...set.fallbacks];
    const out: Array<{ text: string; file: FontFile }> = [];
    for (const ch of text) {
      const cp = ch.codePointAt(0)!;
      const joins = /[\s\p{M}]/u.test(ch) && out.length > 0;
      const file = joins ? out[out.length - 1].file : (chain.find((f) => f.has(cp)) ?? primary);
      const last = out[out.length - 1];
      if (last && last.file === file) last.text += ch;
      else out.push({ text: ch, file });
    }
    return Promise.all(out.map(async (r) => ({ text: r.text, font: await this.font(r.file) })));
  }

  /** Draw a line centred on the page, shrinking the size until it fits `maxWidth`. */
  async centred(page: PDFPage, text: string, y: number, size: number, weight: Weight, maxWidth: number, color = rgb(0.1, 0.1, 0.1)): Promise<void> {
    const runs = await this.runs(text, weight);
    // Widths scale linearly with size: measure once (pdf-lib lays the text out to measure it).
    const unit = runs.map((r) => r.font.widthOfTextAtSize(r.text, 1));
    const total = unit.reduce((a, b) => a + b, 0);
    const s = total > 0 ? Math.max(6, Math.min(size, maxWidth / total)) : size;
    let x = (page.getWidth() - total * s) / 2;
    runs.forEach((r, i) => {
      page.drawText(r.text, { x, y, size: s, font: r.font, color });
      x += unit[i] * s;
    });
  }
}

/** Render a certificate as an A4 landscape PDF. */
export async function renderCertificatePdf(input: CertificatePdfInput): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.registerFontkit(fontkit);
  const title = `Certificate of completion: ${input.courseTitle}`;
  doc.setTitle(`${title} (${input.learnerName})`);
  doc.setSubject(`Certificate ${input.code}`);
  doc.setAuthor('Cohort Course');
  doc.setCreator('cohort-course');
  doc.setProducer('cohort-course (pdf-lib)');
  doc.setKeywords(['certificate', input.code]);
  doc.setCreationDate(input.issuedAt);
  doc.setModificationDate(input.issuedAt);

  const page = doc.addPage([841.89, 595.28]);
  const { width, height } = page.getSize();
  const ink = rgb(0.07, 0.15, 0.25);
  page.drawRectangle({ x: 24, y: 24, width: width - 48, height: height - 48, borderColor: ink, borderWidth: 2 });
  page.drawRectangle({ x: 32, y: 32, width: width - 64, height: height - 64, borderColor: ink, borderWidth: 0.5 });
  const text = new TextSetter(doc);
  const max = width - 140;

  if (input.revoked) {
    const red = rgb(0.69, 0, 0.13);
    await text.centred(page, `REVOKED on ${input.revoked.on}: this certificate is no longer valid.`, height - 55, 16, 'bold', max, red);
    await text.centred(page, `Reason: ${input.revoked.reason}`, height - 73, 11, 'regular', max, red);
  }
  await text.centred(page, 'Certificate of completion', 470, 32, 'bold', max, ink);
  await text.centred(page, 'This certifies that', 425, 14, 'regular', max);
  await text.centred(page, input.learnerName, 378, 34, 'bold', max, ink);
  await text.centred(page, 'has completed the live cohort course', 338, 14, 'regular', max);
  await text.centred(page, input.courseTitle, 300, 22, 'bold', max, ink);
  const hours = `${Number.isInteger(input.hours) ? input.hours : input.hours.toFixed(1)} hour${input.hours === 1 ? '' : 's'}`;
  await text.centred(page, `${input.dates} · ${hours} of study`, 266, 13, 'regular', max);
  await text.centred(page, input.earned === 'on_time' ? 'Completed on time' : 'Completed during the two-week grace period', 244, 12, 'regular', max);
  await text.centred(page, `Issued ${input.issuedOn}`, 150, 11, 'regular', max);
  await text.centred(page, `Certificate code: ${input.code}`, 130, 11, 'regular', max);
  await text.centred(page, `Verify at ${input.verifyUrl}`, 110, 11, 'regular', max, ink);
  return doc.save();
}
