// The learner's workbook as a PDF (pdf-lib): every worksheet answer, in an embedded font that covers their script.
import { PDFDocument, rgb, type PDFPage } from 'pdf-lib';
import { TextSetter } from '../../server/pdf-text.js';

export { fontsDir } from '../../server/pdf-text.js';

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
    /** `note`: the label the answer was written under, or that its prompt is from an earlier version of the worksheet. */
    prompts: Array<{ label: string; note: string | null; answer: string; feedback: string }>;
    files: string[];
    feedback: string;
  }>;
}

const PAGE = { width: 595.28, height: 841.89 }; // A4
const MARGIN = 56;
const INK = rgb(0.1, 0.1, 0.1);
const MUTED = rgb(0.3, 0.3, 0.3);

/** Render the workbook; text is real text (selectable, searchable, extractable), set by server/pdf-text.ts. */
export async function renderWorkbook(model: WorkbookModel): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  // Fallbacks from every font in assets/fonts, so an answer in any script they cover renders; a mark for the rest.
  const setter = new TextSetter(doc, { everyFont: true, replaceMissing: true });
  doc.setTitle(`Workbook: ${model.course}`);
  doc.setAuthor(model.learner);
  doc.setSubject('Worksheet answers');
  doc.setProducer('cohort-course');
  doc.setCreator('cohort-course');

  let page: PDFPage = doc.addPage([PAGE.width, PAGE.height]);
  let y = PAGE.height - MARGIN;
  const maxWidth = PAGE.width - 2 * MARGIN;

  const newPage = () => {
    page = doc.addPage([PAGE.width, PAGE.height]);
    y = PAGE.height - MARGIN;
  };

  async function text(value: string, opts: { size?: number; bold?: boolean; color?: ReturnType<typeof rgb>; indent?: number; gap?: number } = {}) {
    const size = opts.size ?? 10.5;
    const weight = opts.bold ? 'bold' : 'regular';
    const indent = opts.indent ?? 0;
    const lineHeight = size * 1.4;
    for (const line of setter.wrap(value, size, maxWidth - indent, weight)) {
      if (y - lineHeight < MARGIN) newPage();
      y -= lineHeight;
      await setter.draw(page, line, MARGIN + indent, y, { size, weight, color: opts.color ?? INK });
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
      if (p.note) await text(`(${p.note})`, { size: 9.5, color: MUTED, gap: 2 });
      await text(p.answer || '(no answer yet)', { color: p.answer ? INK : MUTED, indent: 12, gap: p.feedback ? 2 : 8 });
      if (p.feedback) await text(`Feedback: ${p.feedback}`, { color: MUTED, indent: 12, gap: 8 });
    }
    if (w.files.length) await text(`Files: ${w.files.join(', ')}`, { gap: 6 });
    if (w.feedback) await text(`Instructor feedback: ${w.feedback}`, { color: MUTED, gap: 6 });
    y -= 12;
  }

  const pages = doc.getPages();
  for (const [i, p] of pages.entries()) {
    await setter.draw(p, `${i + 1} / ${pages.length}`, PAGE.width - MARGIN, MARGIN / 2, { size: 9, color: MUTED, align: 'right' });
  }
  return doc.save();
}
