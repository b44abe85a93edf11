// An invoice, receipt or credit note as an A4 PDF, drawn from the body frozen when it was issued; text set by
// server/pdf-text.ts so any buyer's name renders, long text wraps and many lines flow onto further pages.
import { DateTime } from 'luxon';
import { PDFDocument, rgb, type PDFPage } from 'pdf-lib';
import { TextSetter, type Weight } from '../../server/pdf-text.js';
import { formatMoney } from '../courses/service.js';
import { vatRateText } from './documents.js';
import { DOCUMENT_TITLES, type DocumentRow } from './model.js';

const PAGE: [number, number] = [595.28, 841.89];
const LEFT = 50;
const RIGHT = PAGE[0] - 50;
const TOP = PAGE[1] - 50;
// Room kept at the foot of every page for its footer.
const BOTTOM = 64;
const INK = rgb(0.1, 0.1, 0.1);
const MUTED = rgb(0.38, 0.38, 0.38);
const ACCENT = rgb(0.07, 0.15, 0.25);
// The lines table: the description wraps in its column; quantity and amounts are right-aligned at these edges.
const COLUMNS = { description: LEFT, descriptionWidth: 270, quantity: 380, unit: 465, amount: RIGHT };

const longDate = (isoDate: string) => DateTime.fromISO(isoDate, { zone: 'utc' }).setLocale('en-GB').toFormat('d MMMM yyyy');

/** Render an issued document as an A4 PDF (the same bytes for the same row: its dates come from the row). */
export async function renderDocumentPdf(row: DocumentRow): Promise<Uint8Array> {
  const b = row.body;
  const title = DOCUMENT_TITLES[b.kind];
  const credit = b.kind === 'credit_note';
  const money = (amountMinor: number) => formatMoney({ amountMinor, currency: b.currency });

  const doc = await PDFDocument.create();
  doc.setTitle(`${title} ${b.number}`);
  doc.setSubject(`${title} ${b.number} for ${b.buyer.name}`);
  doc.setAuthor(b.seller.name);
  doc.setCreator('cohort-course');
  doc.setProducer('cohort-course (pdf-lib)');
  doc.setKeywords([b.kind, b.number]);
  doc.setCreationDate(row.issuedAt);
  doc.setModificationDate(row.issuedAt);
  const text = new TextSetter(doc);

  let page: PDFPage = doc.addPage(PAGE);
  let y = TOP;
  const newPage = () => {
    page = doc.addPage(PAGE);
    y = TOP;
  };
  /** Start a new page unless `height` more fits on this one. */
  const room = (height: number) => {
    if (y - height < BOTTOM) newPage();
  };
  /** A wrapped paragraph at x, lines flowing onto the next page. */
  const paragraph = async (value: string, x: number, width: number, opts: { size?: number; weight?: Weight; color?: typeof INK } = {}) => {
    const size = opts.size ?? 10;
    for (const line of text.wrap(value, size, width, opts.weight)) {
      room(size * 1.45);
      y -= size * 1.45;
      await text.draw(page, line, x, y, { size, weight: opts.weight, color: opts.color ?? INK });
    }
  };

  // Title and number, then the dates, right-aligned.
  y -= 22;
  await text.draw(page, title, LEFT, y, { size: 24, weight: 'bold', color: ACCENT });
  await text.draw(page, b.number, RIGHT, y, { size: 14, weight: 'bold', color: ACCENT, align: 'right' });
  const dates = [`Issued ${longDate(b.issueDate)}`];
  if (b.dueDate) dates.push(`Due ${longDate(b.dueDate)}`);
  if (b.paidDate) dates.push(`Paid ${longDate(b.paidDate)}`);
  for (const d of dates) {
    y -= 15;
    await text.draw(page, d, RIGHT, y, { size: 10, align: 'right' });
  }

  // Seller on the left, the buyer ("Bill to") on the right, side by side; the taller decides where the page goes on.
  y -= 24;
  const top = y;
  const half = (RIGHT - LEFT) / 2 - 15;
  const sellerLines = [b.seller.address, b.seller.email, b.seller.vatNumber ? `VAT number: ${b.seller.vatNumber}` : ''].filter(Boolean);
  await paragraph('From', LEFT, half, { size: 9, weight: 'bold', color: MUTED });
  await paragraph(b.seller.name, LEFT, half, { weight: 'bold' });
  for (const l of sellerLines) await paragraph(l, LEFT, half);
  const afterSeller = y;
  y = top;
  const buyerX = LEFT + half + 30;
  await paragraph('Bill to', buyerX, half, { size: 9, weight: 'bold', color: MUTED });
  await paragraph(b.buyer.name, buyerX, half, { weight: 'bold' });
  for (const l of [b.buyer.organisation, b.buyer.address, b.buyer.email]) if (l) await paragraph(l, buyerX, half);
  y = Math.min(y, afterSeller);

  y -= 10;
  if (b.poNumber) await paragraph(`Purchase order: ${b.poNumber}`, LEFT, RIGHT - LEFT, { weight: 'bold' });
  if (credit && b.relatesTo) await paragraph(`Credit for invoice ${b.relatesTo}`, LEFT, RIGHT - LEFT, { weight: 'bold' });
  if (b.kind === 'receipt') {
    if (b.relatesTo) await paragraph(`Receipt for invoice ${b.relatesTo}`, LEFT, RIGHT - LEFT, { weight: 'bold' });
    const how = b.payment === 'card' ? 'Paid by card' : 'Paid';
    await paragraph(b.paymentReference ? `${how}, reference ${b.paymentReference}` : how, LEFT, RIGHT - LEFT, { weight: 'bold' });
  }
  if (b.reason) await paragraph(`Reason: ${b.reason}`, LEFT, RIGHT - LEFT);

  // The lines, their header repeated on each page they flow onto.
  const header = async () => {
    y -= 18;
    const o = { size: 9, weight: 'bold' as const, color: MUTED };
    await text.draw(page, 'Description', COLUMNS.description, y, o);
    await text.draw(page, 'Qty', COLUMNS.quantity, y, { ...o, align: 'right' });
    await text.draw(page, 'Unit price', COLUMNS.unit, y, { ...o, align: 'right' });
    await text.draw(page, credit ? 'Credit' : 'Amount', COLUMNS.amount, y, { ...o, align: 'right' });
    y -= 6;
    page.drawLine({ start: { x: LEFT, y }, end: { x: RIGHT, y }, thickness: 0.6, color: MUTED });
  };
  room(60);
  await header();
  for (const line of b.lines) {
    const wrapped = text.wrap(line.description, 10, COLUMNS.descriptionWidth);
    const height = wrapped.length * 14 + 6;
    if (y - height < BOTTOM) {
      newPage();
      await header();
    }
    y -= 14;
    await text.draw(page, String(line.quantity), COLUMNS.quantity, y, { size: 10, align: 'right' });
    await text.draw(page, money(line.unitMinor), COLUMNS.unit, y, { size: 10, align: 'right' });
    await text.draw(page, money(line.totalMinor), COLUMNS.amount, y, { size: 10, align: 'right' });
    for (const [i, l] of wrapped.entries()) {
      if (i > 0) y -= 14;
      await text.draw(page, l, COLUMNS.description, y, { size: 10 });
    }
    y -= 6;
    page.drawLine({ start: { x: LEFT, y }, end: { x: RIGHT, y }, thickness: 0.3, color: rgb(0.8, 0.8, 0.8) });
  }

  // Net, VAT and total, kept together.
  room(70);
  const totals: Array<[string, number, Weight]> = [
    ['Net', b.netMinor, 'regular'],
    [b.vatRateBp === null ? 'VAT' : `VAT (${vatRateText(b.vatRateBp)})`, b.vatMinor, 'regular'],
    [credit ? 'Total credited' : 'Total', b.totalMinor, 'bold'],
  ];
  y -= 6;
  for (const [label, amount, weight] of totals) {
    y -= 16;
    await text.draw(page, label, COLUMNS.unit, y, { size: 11, weight, align: 'right' });
    await text.draw(page, money(amount), COLUMNS.amount, y, { size: 11, weight, align: 'right' });
  }
  y -= 10;
  await paragraph(b.vatWording, LEFT, RIGHT - LEFT, { size: 9.5, color: MUTED });

  if (b.kind === 'invoice') {
    y -= 10;
    if (b.dueDate) await paragraph(`Payment due by ${longDate(b.dueDate)}`, LEFT, RIGHT - LEFT, { weight: 'bold' });
    if (b.howToPay) {
      if (b.payment === 'invoice') await paragraph('How to pay', LEFT, RIGHT - LEFT, { weight: 'bold' });
      await paragraph(b.howToPay, LEFT, RIGHT - LEFT);
    }
  }

  // Every page says whose document it is and where it stands in it.
  const pages = doc.getPages();
  for (const [i, p] of pages.entries()) {
    await text.draw(p, `${b.seller.name} · ${title} ${b.number} · Page ${i + 1} of ${pages.length}`, PAGE[0] / 2, 32, { size: 8, color: MUTED, align: 'centre' });
  }
  return doc.save();
}
