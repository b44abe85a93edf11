// Invoices, receipts and credit notes: issuing one (numbered per kind without gaps, in the caller's transaction,
// its contents frozen), reading them back per order and by id, and the finance CSV.
import { and, asc, eq, gte, lt, sql, type SQL } from 'drizzle-orm';
import { DateTime } from 'luxon';
import type { Db } from '../../server/db.js';
import { BadInput, NotFound } from '../../server/errors.js';
import { toCsv } from '../bookings/csv.js';
import { billingDocuments, documentCounters, DOCUMENT_KINDS, type DocumentKind } from './schema.js';
import {
  CURRENCIES,
  DOCUMENT_PREFIXES,
  type Currency,
  type DocumentBody,
  type DocumentRequest,
  type DocumentRow,
  type DocumentView,
  type PaymentDeps,
  type SellerSettings,
} from './model.js';

/** "INV-000042": the kind's prefix and its sequence number, six digits, more once it passes 999999. */
export function documentNumber(kind: DocumentKind, seq: number): string {
  return `${DOCUMENT_PREFIXES[kind]}-${String(seq).padStart(6, '0')}`;
}

/**
 * The VAT inside a VAT-inclusive total: round(total × rate / (10000 + rate)), rounded half up to the minor unit once
 * per document (not per line, so the printed lines add up to the printed total and VAT is at most half a penny off).
 */
export function vatIncluded(totalMinor: number, rateBp: number | null): number {
  if (rateBp === null || rateBp === 0) return 0;
  // Integer arithmetic: floor((2·t·r + d) / 2d) is t·r/d rounded half up, with no floating-point edge at .5.
  const d = 10_000 + rateBp;
  return Math.floor((2 * totalMinor * rateBp + d) / (2 * d));
}

/** "20%", "17.5%". */
export function vatRateText(rateBp: number): string {
  return `${Number((rateBp / 100).toFixed(2))}%`;
}

function vatWording(seller: SellerSettings): string {
  return seller.vatRateBp === null ? `VAT not applicable: ${seller.vatExemptReason}` : `Prices include VAT at ${vatRateText(seller.vatRateBp)}.`;
}

// Documents are dated by UTC calendar day: the seller's settings name no time zone.
const isoDate = (instant: Date) => DateTime.fromJSDate(instant, { zone: 'utc' }).toISODate() as string;

function check(request: DocumentRequest): number {
  if (!DOCUMENT_KINDS.includes(request.kind)) throw new BadInput(`a document is an invoice, a receipt or a credit note, not "${request.kind}".`, 'kind');
  if (!CURRENCIES.includes(request.currency)) throw new BadInput(`${String(request.currency)} is not a currency we bill in (${CURRENCIES.join(', ')}).`, 'currency');
  if (request.lines.length === 0) throw new BadInput('a document needs at least one line.', 'lines');
  let total = 0;
  request.lines.forEach((line, i) => {
    const field = `lines[${i}]`;
    if (!line.description.trim()) throw new BadInput('describe the line.', `${field}.description`);
    if (!Number.isSafeInteger(line.quantity) || line.quantity < 1) throw new BadInput('the quantity must be a whole number of at least 1.', `${field}.quantity`);
    for (const key of ['unitMinor', 'totalMinor'] as const) {
      if (!Number.isSafeInteger(line[key]) || line[key] < 0) throw new BadInput('an amount must be a whole number of minor units, not negative.', `${field}.${key}`);
    }
    // The table must add up as printed.
    if (line.totalMinor !== line.quantity * line.unitMinor) throw new BadInput('the line total must be the quantity times the unit price.', `${field}.totalMinor`);
    total += line.totalMinor;
  });
  if (!Number.isSafeInteger(total)) throw new BadInput('the total is too large.', 'lines');
  return total;
}

/**
 * The turn (AppDatabase.transaction's `turn` option) for a transaction that issues a document and has no turn of its
 * own (a webhook's receipt, a refund's credit note). On PostgreSQL, issuers that overlap all update one counter row:
 * every one but the first to commit is refused and run again, so many at once can run out of retries (40 at once
 * took up to 11 of the runner's 12 attempts); taking turns, each starts after the one before has committed.
 */
export const DOCUMENT_TURN = 'billing-documents';

/** The next number for a kind, taken in `tx`: a rolled-back transaction gives it back, so numbers have no gaps. */
async function nextSeq(tx: Db, kind: DocumentKind): Promise<number> {
  await tx.insert(documentCounters).values({ kind, lastSeq: 0 }).onConflictDoNothing();
  // The update locks the counter's row until `tx` ends (PostgreSQL): a concurrent issuer waits, then is refused and
  // run again by the transaction runner, so it reads the committed count. SQLite runs one write transaction at a time.
  const [row] = await tx
    .update(documentCounters)
    .set({ lastSeq: sql`${documentCounters.lastSeq} + 1` })
    .where(eq(documentCounters.kind, kind))
    .returning({ lastSeq: documentCounters.lastSeq });
  return row.lastSeq;
}

/**
 * Issue an invoice, receipt or credit note for an order, inside the caller's transaction: the next number of its kind,
 * VAT from the seller's rate (prices include it), and everything it prints frozen in its body.
 */
export async function issueDocument(deps: PaymentDeps, tx: Db, request: DocumentRequest): Promise<DocumentView> {
  const totalMinor = check(request);
  const seller = deps.settings.seller;
  const relatesTo = request.relatesTo ?? null;
  if (relatesTo !== null) {
    const [related] = await tx
      .select({ id: billingDocuments.id })
      .from(billingDocuments)
      .where(and(eq(billingDocuments.number, relatesTo), eq(billingDocuments.orderId, request.orderId)));
    if (!related) throw new BadInput(`${relatesTo} is not a document of this order.`, 'relatesTo');
  }
  const vatMinor = vatIncluded(totalMinor, seller.vatRateBp);
  const issuedAt = deps.clock.now();
  const issueDate = isoDate(issuedAt);
  const seq = await nextSeq(tx, request.kind);
  const number = documentNumber(request.kind, seq);
  const toPay = request.kind === 'invoice' && request.payment === 'invoice';
  const body: DocumentBody = {
    kind: request.kind,
    number,
    seller: { name: seller.name, address: seller.address, email: seller.email, vatNumber: seller.vatNumber },
    buyer: { name: request.buyer.name, email: request.buyer.email, organisation: request.buyer.organisation ?? null, address: request.buyer.address ?? null },
    poNumber: request.poNumber ?? null,
    lines: request.lines.map((l) => ({ description: l.description, quantity: l.quantity, unitMinor: l.unitMinor, totalMinor: l.totalMinor })),
    currency: request.currency,
    netMinor: totalMinor - vatMinor,
    vatMinor,
    totalMinor,
    vatRateBp: seller.vatRateBp,
    vatWording: vatWording(seller),
    issueDate,
    dueDate: toPay ? (DateTime.fromISO(issueDate, { zone: 'utc' }).plus({ days: seller.paymentTermsDays }).toISODate() as string) : null,
    payment: request.payment,
    howToPay: request.payment === 'card' ? 'Paid by card' : toPay ? seller.howToPay : null,
    paymentReference: request.kind === 'receipt' ? (request.paymentReference ?? null) : null,
    paidDate: request.kind === 'receipt' ? isoDate(request.paidAt ?? issuedAt) : null,
    relatesTo,
    reason: request.reason ?? null,
  };
  const [row] = await tx
    .insert(billingDocuments)
    .values({
      kind: request.kind,
      seq,
      number,
      orderId: request.orderId,
      currency: request.currency,
      netMinor: body.netMinor,
      vatMinor,
      totalMinor,
      body: JSON.stringify(body),
      issuedAt,
    })
    .returning();
  return view(row);
}

type Stored = typeof billingDocuments.$inferSelect;

function view(row: Stored): DocumentView {
  return {
    id: row.id,
    kind: row.kind,
    number: row.number,
    orderId: row.orderId,
    currency: row.currency as Currency,
    netMinor: row.netMinor,
    vatMinor: row.vatMinor,
    totalMinor: row.totalMinor,
    issuedAt: row.issuedAt,
  };
}

/** An order's documents, in the order they were issued. */
export async function documentsForOrder(q: Db, orderId: number): Promise<DocumentView[]> {
  const rows = await q.select().from(billingDocuments).where(eq(billingDocuments.orderId, orderId)).orderBy(asc(billingDocuments.issuedAt), asc(billingDocuments.id));
  return rows.map(view);
}

/** One document with what it prints (NotFound when there is none). */
export async function documentRow(q: Db, id: number): Promise<DocumentRow> {
  const [row] = await q.select().from(billingDocuments).where(eq(billingDocuments.id, id));
  if (!row) throw new NotFound('Document');
  return { ...view(row), body: JSON.parse(row.body) as DocumentBody };
}

/** Minor units as a decimal amount in major units: 19500 → "195.00" (every currency we bill in has two decimals). */
export function decimalAmount(minor: number): string {
  const sign = minor < 0 ? '-' : '';
  const abs = Math.abs(minor);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

export const DOCUMENTS_CSV_HEADER = ['number', 'kind', 'issued', 'order', 'buyer', 'organisation', 'po_number', 'currency', 'net', 'vat', 'total', 'relates_to'];

/**
 * The finance export: one row per document issued from `from` (inclusive) to `to` (exclusive), by kind (invoices,
 * receipts, credit notes) then number. Amounts are positive; a credit note's are what it credits.
 */
export async function documentsCsv(q: Db, range: { from?: Date; to?: Date } = {}): Promise<string> {
  const where: SQL[] = [];
  if (range.from) where.push(gte(billingDocuments.issuedAt, range.from));
  if (range.to) where.push(lt(billingDocuments.issuedAt, range.to));
  const rows = await q
    .select()
    .from(billingDocuments)
    .where(and(...where))
    .orderBy(asc(billingDocuments.seq));
  rows.sort((a, b) => DOCUMENT_KINDS.indexOf(a.kind) - DOCUMENT_KINDS.indexOf(b.kind) || a.seq - b.seq);
  return toCsv([
    DOCUMENTS_CSV_HEADER,
    ...rows.map((r) => {
      const body = JSON.parse(r.body) as DocumentBody;
      return [
        r.number,
        r.kind,
        isoDate(r.issuedAt),
        r.orderId,
        body.buyer.name,
        body.buyer.organisation,
        body.poNumber,
        r.currency,
        decimalAmount(r.netMinor),
        decimalAmount(r.vatMinor),
        decimalAmount(r.totalMinor),
        body.relatesTo,
      ];
    }),
  ]);
}
