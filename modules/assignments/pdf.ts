// The learner's workbook as a PDF (pdf-lib): every worksheet answer, in an embedded font that covers their script.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PDFDocument, rgb, type PDFFont, type PDFPage } from 'pdf-lib';
import fontkit from '@pdf-lib/fontkit';
import { packageRoot } from '../../server/paths.js';

export const fontsDir = resolve(packageRoot, 'assets/fonts');

interface FontFile {
  name: string;
  bytes: Uint8Array;
  has(codePoint: number): boolean;
  /** Advance width of a character at size 1 (cached: asking pdf-lib for widths lays out text, ~1 ms a call). */
  advance(ch: string): number;
}

let fontFiles: { regular: FontFile; bold: FontFile; fallbacks: FontFile[] } | null = null;

/** DejaVu Sans (regular, bold) and any other font in assets/fonts as fallbacks for characters DejaVu lacks (e.g. CJK). */
function loadFonts() {
  if (fontFiles) return fontFiles;
  const open = (name: string): FontFile => {
    const bytes = readFileSync(join(fontsDir, name));
    const font = fontkit.create(bytes) as unknown as {
      unitsPerEm: number;
      hasGlyphForCodePoint(cp: number): boolean;
      glyphForCodePoint(cp: number): { advanceWidth: number };
    };
    const widths = new Map<string, number>();
    return {
      name,
      bytes,
      has: (cp) => font.hasGlyphForCodePoint(cp),
      advance(ch) {
        let w = widths.get(ch);
        if (w === undefined) {
          w = font.glyphForCodePoint(ch.codePointAt(0)!).advanceWidth / font.unitsPerEm;
          widths.set(ch, w);
        }
        return w;
      },
    };
  };
  const others = readdirSync(fontsDir)
    .filter((f) => /\.(ttf|otf)$/i.test(f) && !/^DejaVuSans(-Bold)?\.ttf$/.test(f))
    .sort();
  const fallbacks: FontFile[] = [];
  for (const f of others) {
    try {
      fallbacks.push(open(f));
    } catch {
      /* a collection or broken file: skip it rather than fail every workbook */
    }
  }
  fontFiles = { regular: open('DejaVuSans.ttf'), bold: open('DejaVuSans-Bold.ttf'), fallbacks };
  return fontFiles;
}

export interface WorkbookModel {
  course: string;
  learner: string;
  dates: string;
  generated: string;
  weeks: Array<{
    number: number;
    title: string;
    assignment: string;
    opened: boolean;
    status: string;
    due: string;
    options: string[];
    prompts: Array<{ label: string; answer: string; feedback: string }>;
    files: string[];
    feedback: string;
  }>;
}

const NO_FEATURES = { kern: false, liga: false, clig: false, calt: false, ccmp: false, locl: false, mark: false, mkmk: false };
const PAGE = { width: 595.28, height: 841.89 }; // A4
const MARGIN = 56;
const INK = rgb(0.1, 0.1, 0.1);
const MUTED = rgb(0.3, 0.3, 0.3);

/** Render the workbook; text is real text (selectable, searchable, extractable). */
export async function renderWorkbook(model: WorkbookModel): Promise<Uint8Array> {
  const files = loadFonts();
  const doc = await PDFDocument.create();
  doc.registerFontkit(fontkit);
  doc.setTitle(`Workbook: ${model.course}`);
  doc.setAuthor(model.learner);
  doc.setSubject('Worksheet answers');
  doc.setProducer('cohort-course');
  doc.setCreator('cohort-course');

  // Fonts are embedded (subset) only when a character needs them.
  const embedded = new Map<FontFile, PDFFont>();
  const pdfFont = async (f: FontFile) => {
    let font = embedded.get(f);
    if (!font) {
      // No shaping features: text stays one glyph per character (clean extraction, no "ﬁ"), and layout is 2-3× faster.
      font = await doc.embedFont(f.bytes, { subset: true, features: NO_FEATURES } as Parameters<typeof doc.embedFont>[1]);
      embedded.set(f, font);
    }
    return font;
  };

  /** The font for each character: the primary one, else the first fallback that has it, else a replacement mark. */
  function pick(ch: string, bold: boolean): { font: FontFile; ch: string } {
    const primary = bold ? files.bold : files.regular;
    const cp = ch.codePointAt(0)!;
    if (primary.has(cp)) return { font: primary, ch };
    const fb = files.fallbacks.find((x) => x.has(cp));
    if (fb) return { font: fb, ch };
    return { font: primary, ch: primary.has(0xfffd) ? '\ufffd' : '?' };
  }

  /** Split text into runs, each in one font. */
  async function runs(text: string, bold: boolean): Promise<Array<{ text: string; font: PDFFont }>> {
    const out: Array<{ text: string; font: PDFFont }> = [];
    let current: FontFile | null = null;
    let buf = '';
    for (const raw of text) {
      const { font, ch } = pick(raw, bold);
      if (font !== current && buf) {
        out.push({ text: buf, font: await pdfFont(current!) });
        buf = '';
      }
      current = font;
      buf += ch;
    }
    if (buf && current) out.push({ text: buf, font: await pdfFont(current) });
    return out;
  }

  let page: PDFPage = doc.addPage([PAGE.width, PAGE.height]);
  let y = PAGE.height - MARGIN;
  const maxWidth = PAGE.width - 2 * MARGIN;

  const newPage = () => {
    page = doc.addPage([PAGE.width, PAGE.height]);
    y = PAGE.height - MARGIN;
  };

  const widthOf = (text: string, size: number, bold: boolean) => {
    let w = 0;
    for (const raw of text) {
      const { font, ch } = pick(raw, bold);
      w += font.advance(ch);
    }
    return w * size;
  };

  /** Break one paragraph into lines that fit, breaking long words (URLs, text without spaces) by characters. */
  function wrap(paragraph: string, size: number, bold: boolean, width: number): string[] {
    const words = paragraph.split(/(\s+)/).filter((w) => w.length > 0);
    const lines: string[] = [];
    let line = '';
    let lineWidth = 0;
    for (const word of words) {
      const w = widthOf(word, size, bold);
      if (lineWidth + w <= width) {
        line += word;
        lineWidth += w;
        continue;
      }
      if (line.trim()) lines.push(line.trimEnd());
      if (/^\s+$/.test(word)) {
        line = '';
        lineWidth = 0;
        continue;
      }
      line = '';
      lineWidth = 0;
      for (const ch of word) {
        const cw = widthOf(ch, size, bold);
        if (lineWidth + cw > width && line) {
          lines.push(line);
          line = '';
          lineWidth = 0;
        }
        line += ch;
        lineWidth += cw;
      }
    }
    if (line.trim() || lines.length === 0) lines.push(line.trimEnd());
    return lines;
  }

  async function text(value: string, opts: { size?: number; bold?: boolean; color?: ReturnType<typeof rgb>; indent?: number; gap?: number } = {}) {
    const size = opts.size ?? 10.5;
    const bold = opts.bold ?? false;
    const indent = opts.indent ?? 0;
    const lineHeight = size * 1.4;
    for (const paragraph of value.split('\n')) {
      for (const line of wrap(paragraph, size, bold, maxWidth - indent)) {
        if (y - lineHeight < MARGIN) newPage();
        y -= lineHeight;
        let x = MARGIN + indent;
        for (const r of await runs(line, bold)) {
          page.drawText(r.text, { x, y, size, font: r.font, color: opts.color ?? INK });
          x += widthOf(r.text, size, bold);
        }
      }
    }
    y -= opts.gap ?? 4;
  }

  await text(model.course, { size: 20, bold: true, gap: 6 });
  await text(`Workbook of ${model.learner}`, { size: 13, gap: 2 });
  await text(model.dates, { size: 10, color: MUTED, gap: 2 });
  await text(`Made ${model.generated}`, { size: 10, color: MUTED, gap: 16 });

  for (const w of model.weeks) {
    if (y < MARGIN + 120) newPage();
    // Course week titles usually start "Week 1 — …" already.
    await text(/^week\s*\d+/i.test(w.title) ? w.title : `Week ${w.number}: ${w.title}`, { size: 15, bold: true, gap: 2 });
    await text(w.assignment, { size: 12, bold: true, gap: 2 });
    if (!w.opened) {
      await text('This week has not opened yet.', { color: MUTED, gap: 14 });
      continue;
    }
    await text(`Status: ${w.status} · Due ${w.due}`, { size: 10, color: MUTED, gap: 8 });
    if (w.options.length) await text(`Chosen: ${w.options.join('; ')}`, { gap: 8 });
    for (const p of w.prompts) {
      await text(p.label, { bold: true, gap: 2 });
      await text(p.answer || '(no answer yet)', { color: p.answer ? INK : MUTED, indent: 12, gap: p.feedback ? 2 : 8 });
      if (p.feedback) await text(`Feedback: ${p.feedback}`, { color: MUTED, indent: 12, gap: 8 });
    }
    if (w.files.length) await text(`Files: ${w.files.join(', ')}`, { gap: 6 });
    if (w.feedback) await text(`Instructor feedback: ${w.feedback}`, { color: MUTED, gap: 6 });
    y -= 12;
  }

  const pages = doc.getPages();
  const footerFont = await pdfFont(files.regular);
  pages.forEach((p, i) => {
    const label = `${i + 1} / ${pages.length}`;
    p.drawText(label, { x: PAGE.width - MARGIN - footerFont.widthOfTextAtSize(label, 9), y: MARGIN / 2, size: 9, font: footerFont, color: MUTED });
  });
  return doc.save();
}
