// Text in PDFs made with pdf-lib: embedded, subset fonts from assets/fonts (DejaVu Sans for Latin, Greek and Cyrillic;
// Droid Sans Fallback for Han, kana and Hangul), a font chosen per character so any name renders, measuring, wrapping.
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { rgb, type PDFDocument, type PDFFont, type PDFPage, type RGB } from 'pdf-lib';
import fontkit from '@pdf-lib/fontkit';
import { packageRoot } from './paths.js';

export const fontsDir = resolve(packageRoot, 'assets/fonts');

export type Weight = 'regular' | 'bold';

interface FontFile {
  file: string;
  bytes: Uint8Array;
  has(codePoint: number): boolean;
  /** Advance width of a character at size 1, cached (asking pdf-lib lays the text out, ~1 ms a call). */
  advance(ch: string): number;
}

const parsed = new Map<string, FontFile>();

/** One font file, read and parsed once per process. */
function loadFont(file: string): FontFile {
  const known = parsed.get(file);
  if (known) return known;
  const made = parseFont(file);
  parsed.set(file, made);
  return made;
}

function parseFont(file: string): FontFile {
  const bytes = readFileSync(resolve(fontsDir, file));
  const font = fontkit.create(bytes);
  const widths = new Map<string, number>();
  return {
    file,
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
}

let loaded: { regular: FontFile; bold: FontFile; fallbacks: FontFile[] } | null = null;

/** The fonts, read and parsed once (they are files of the package, not state). */
function fonts() {
  loaded ??= { regular: loadFont('DejaVuSans.ttf'), bold: loadFont('DejaVuSans-Bold.ttf'), fallbacks: [loadFont('DroidSansFallback.ttf')] };
  return loaded;
}

let everyFallback: FontFile[] | null = null;

/** Every other font in assets/fonts (by file name), for text in scripts the fixed fallback lacks; unreadable files are skipped. */
function allFallbacks(): FontFile[] {
  if (everyFallback) return everyFallback;
  const list: FontFile[] = [];
  const names = readdirSync(fontsDir)
    .filter((f) => /\.(ttf|otf)$/i.test(f) && !/^DejaVuSans(-Bold)?\.ttf$/.test(f))
    .sort();
  for (const name of names) {
    try {
      list.push(loadFont(name));
    } catch {
      /* a collection or broken file: skip it rather than fail every document */
    }
  }
  everyFallback = list;
  return list;
}

export interface SetterOptions {
  /** Fall back to every font in assets/fonts rather than Droid Sans Fallback alone (default: Droid alone). */
  everyFont?: boolean;
  /**
   * Draw a character no font has as U+FFFD (or "?" where the primary font lacks that) rather than as the font's
   * .notdef glyph (default: not replaced).
   */
  replaceMissing?: boolean;
}

// No shaping: one glyph per character, so the text extracts as written (no "ﬁ") and the widths measured here from the
// font's advances are the widths pdf-lib draws (it ignores kerning positions anyway).
const NO_FEATURES = { kern: false, liga: false, clig: false, calt: false, ccmp: false, locl: false, mark: false, mkmk: false };

export interface DrawOptions {
  size: number;
  weight?: Weight;
  color?: RGB;
  /** Where x is: the text's left edge (default), its right edge, or its centre. */
  align?: 'left' | 'right' | 'centre';
}

function runWidth(run: { text: string; file: FontFile }, size: number): number {
  let w = 0;
  for (const ch of run.text) w += run.file.advance(ch);
  return w * size;
}

/** Sets text on a document's pages in runs of one font each; embeds a font only when a character needs it. */
export class TextSetter {
  private embedded = new Map<FontFile, PDFFont>();

  constructor(
    private doc: PDFDocument,
    private options: SetterOptions = {},
  ) {
    doc.registerFontkit(fontkit);
  }

  private async font(file: FontFile): Promise<PDFFont> {
    let f = this.embedded.get(file);
    if (!f) {
      f = await this.doc.embedFont(file.bytes, { subset: true, features: NO_FEATURES });
      this.embedded.set(file, f);
    }
    return f;
  }

  /** Split text into runs, each in the first font that has its characters (spaces and marks join the run before). */
  private layout(text: string, weight: Weight): Array<{ text: string; file: FontFile }> {
    const set = fonts();
    const primary = weight === 'bold' ? set.bold : set.regular;
    const chain = [primary, ...(this.options.everyFont ? allFallbacks() : set.fallbacks)];
    const out: Array<{ text: string; file: FontFile }> = [];
    // Composed, so a decomposed "ọ" is one glyph of the font rather than a letter and a loose mark.
    for (let ch of text.normalize('NFC')) {
      const cp = ch.codePointAt(0)!;
      const joins = /[\s\p{M}]/u.test(ch) && out.length > 0;
      let file = joins ? out[out.length - 1].file : chain.find((f) => f.has(cp));
      if (this.options.replaceMissing && !file?.has(cp) && !/\s/u.test(ch)) {
        file = chain.find((f) => f.has(cp));
        if (!file) ch = primary.has(0xfffd) ? '\ufffd' : '?';
      }
      file ??= primary;
      const last = out[out.length - 1];
      if (last && last.file === file) last.text += ch;
      else out.push({ text: ch, file });
    }
    return out;
  }

  /** The width of one line of text at a size. */
  width(text: string, size: number, weight: Weight = 'regular'): number {
    return this.layout(text, weight).reduce((w, run) => w + runWidth(run, size), 0);
  }

  /**
   * Break text into lines no wider than `maxWidth`: at its newlines, then between words, and inside a word too long for
   * a line (a URL, a reference, Chinese written without spaces).
   */
  wrap(text: string, size: number, maxWidth: number, weight: Weight = 'regular'): string[] {
    const lines: string[] = [];
    for (const paragraph of text.split(/\r?\n/)) {
      let line = '';
      for (const word of paragraph.split(/\s+/).filter(Boolean)) {
        const joined = line ? `${line} ${word}` : word;
        if (this.width(joined, size, weight) <= maxWidth) {
          line = joined;
          continue;
        }
        if (line) lines.push(line);
        line = '';
        for (const ch of word) {
          if (line && this.width(line + ch, size, weight) > maxWidth) {
            lines.push(line);
            line = '';
          }
          line += ch;
        }
      }
      lines.push(line);
    }
    return lines;
  }

  /** Draw one line of text with its baseline at y. */
  async draw(page: PDFPage, text: string, x: number, y: number, options: DrawOptions): Promise<void> {
    const { size, weight = 'regular', color = rgb(0.1, 0.1, 0.1), align = 'left' } = options;
    const runs = this.layout(text, weight);
    const total = runs.reduce((w, run) => w + runWidth(run, size), 0);
    let at = align === 'right' ? x - total : align === 'centre' ? x - total / 2 : x;
    for (const run of runs) {
      page.drawText(run.text, { x: at, y, size, font: await this.font(run.file), color });
      at += runWidth(run, size);
    }
  }

  /** Draw a line centred on the page, shrinking the size (down to 6 pt) until it fits `maxWidth`. */
  async centred(page: PDFPage, text: string, y: number, size: number, weight: Weight, maxWidth: number, color = rgb(0.1, 0.1, 0.1)): Promise<void> {
    const unit = this.width(text, 1, weight);
    const s = unit > 0 ? Math.max(6, Math.min(size, maxWidth / unit)) : size;
    await this.draw(page, text, page.getWidth() / 2, y, { size: s, weight, color, align: 'centre' });
  }
}
