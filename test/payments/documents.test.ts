// Invoices, receipts and credit notes: numbers without gaps or duplicates under concurrent issuing, VAT included in
// prices, what the PDFs say when read back, and the finance CSV.
import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { insertCohort, insertUser } from '../helpers/factories.js';
import { infrastructure } from '../../server/infrastructure.js';
import { parseCsv } from '../../modules/bookings/csv.js';
import { orders } from '../../modules/bookings/schema.js';
import { documentCounters } from '../../modules/payments/schema.js';
import { DEFAULT_SELLER, type DocumentRequest, type PaymentDeps, type SellerSettings } from '../../modules/payments/model.js';
import { documentRow, documentsCsv, documentsForOrder, issueDocument } from '../../modules/payments/documents.js';
import { renderDocumentPdf } from '../../modules/payments/document-pdf.js';
import { pdfPages } from '../helpers/pdf.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp({ now: '2026-03-02T09:00:00.000Z' });
});
afterEach(async () => t.close());

const SELLER: SellerSettings = {
  ...DEFAULT_SELLER,
  name: 'Cohort Course Ltd',
  address: '1 Example Street\nLondon EC1A 1AA\nUnited Kingdom',
  vatNumber: 'GB123456789',
  vatRateBp: 2000,
  paymentTermsDays: 30,
  howToPay: 'Bank transfer to Cohort Course Ltd, sort code 00-00-00, account 12345678, quoting the invoice number.',
};

function deps(seller: SellerSettings = SELLER): PaymentDeps {
  return { ...infrastructure(t.ctx), settings: { seller, stripe: null, holdMinutes: 30 } };
}

/** An order of `quantity` places at £195 by a buyer, as the checkout would have stored it. */
async function anOrder(opts: { quantity?: number; buyerName?: string; payment?: 'card' | 'invoice'; poNumber?: string | null } = {}) {
  const { cohort } = await insertCohort(t);
  const buyer = await insertUser(t, 'learner', opts.buyerName ?? 'Wang Xiuying');
  const quantity = opts.quantity ?? 3;
  const now = t.clock.now();
  const [order] = await t.ctx.database.transaction((tx) =>
    tx
      .insert(orders)
      .values({
        cohortId: cohort.id,
        buyerId: buyer.user.id,
        buyerName: opts.buyerName ?? 'Wang Xiuying',
        buyerEmail: buyer.email,
        organisation: 'Acme Widgets plc',
        address: '22 Long Road\nManchester M1 1AA',
        poNumber: opts.poNumber === undefined ? 'PO-77841' : opts.poNumber,
        quantity,
        payment: opts.payment ?? 'invoice',
        status: 'pending_payment',
        unitMinor: 19_500,
        totalMinor: 19_500 * quantity,
        currency: 'GBP',
        queueSeq: 1,
        createdAt: now,
        updatedAt: now,
      })
      .returning(),
  );
  return order;
}

type Order = Awaited<ReturnType<typeof anOrder>>;

function requestFor(order: Order, extra: Partial<DocumentRequest> = {}): DocumentRequest {
  return {
    kind: 'invoice',
    orderId: order.id,
    currency: 'GBP',
    buyer: { name: order.buyerName, email: order.buyerEmail, organisation: order.organisation, address: order.address },
    poNumber: order.poNumber,
    lines: [{ description: 'Strategic Planning with Purpose, cohort starting 2 March 2026', quantity: order.quantity, unitMinor: order.unitMinor, totalMinor: order.totalMinor }],
    payment: order.payment,
    ...extra,
  };
}

const issue = (request: DocumentRequest, d = deps()) => t.ctx.database.transaction((tx) => issueDocument(d, tx, request));

/** Each page's text, items spaced (a table's cells are items of their own). */
const spacedPages = (bytes: Uint8Array) => pdfPages(bytes, { spaced: true });

describe('document numbers', () => {
  it('40 invoices issued at once get INV-000001 to INV-000040: no gaps, no duplicates', async () => {
    const order = await anOrder();
    const issued = await Promise.all(Array.from({ length: 40 }, () => issue(requestFor(order))));
    const numbers = issued.map((d) => d.number).sort();
    expect(numbers).toEqual(Array.from({ length: 40 }, (_, i) => `INV-${String(i + 1).padStart(6, '0')}`));
    const stored = await documentsForOrder(t.ctx.database.db, order.id);
    expect(stored.map((d) => d.number).sort()).toEqual(numbers);
    const [counter] = await t.ctx.database.db.select().from(documentCounters).where(eq(documentCounters.kind, 'invoice'));
    expect(counter.lastSeq).toBe(40);
  });

  it('a transaction that issues an invoice and then fails uses no number', async () => {
    const order = await anOrder();
    expect((await issue(requestFor(order))).number).toBe('INV-000001');
    await expect(
      t.ctx.database.transaction(async (tx) => {
        const doc = await issueDocument(deps(), tx, requestFor(order));
        expect(doc.number).toBe('INV-000002');
        throw new Error('the order could not be confirmed');
      }),
    ).rejects.toThrow('could not be confirmed');
    expect((await issue(requestFor(order))).number).toBe('INV-000002');
    expect((await documentsForOrder(t.ctx.database.db, order.id)).map((d) => d.number)).toEqual(['INV-000001', 'INV-000002']);
  });

  it('invoices, receipts and credit notes are numbered each on their own', async () => {
    const order = await anOrder();
    const inv1 = await issue(requestFor(order));
    const rct1 = await issue(requestFor(order, { kind: 'receipt', relatesTo: inv1.number, paymentReference: 'BACS 0042' }));
    const inv2 = await issue(requestFor(order));
    const crn1 = await issue(requestFor(order, { kind: 'credit_note', relatesTo: inv1.number, reason: 'Cancelled' }));
    const rct2 = await issue(requestFor(order, { kind: 'receipt', relatesTo: inv2.number }));
    expect([inv1, rct1, inv2, crn1, rct2].map((d) => d.number)).toEqual(['INV-000001', 'RCT-000001', 'INV-000002', 'CRN-000001', 'RCT-000002']);
  });

  it('refuses a document with no lines, a negative amount, a currency we do not bill in, or an unknown invoice', async () => {
    const order = await anOrder();
    const refused = async (request: DocumentRequest, field: string) => {
      const err = await issue(request).catch((e: unknown) => e);
      expect(err).toMatchObject({ statusCode: 400, field });
    };
    await refused(requestFor(order, { lines: [] }), 'lines');
    await refused(requestFor(order, { lines: [{ description: 'Discount', quantity: 1, unitMinor: -500, totalMinor: -500 }] }), 'lines[0].unitMinor');
    await refused(requestFor(order, { currency: 'JPY' as DocumentRequest['currency'] }), 'currency');
    await refused(requestFor(order, { kind: 'credit_note', relatesTo: 'INV-000099' }), 'relatesTo');
    // Nothing was numbered by the refusals.
    expect((await issue(requestFor(order))).number).toBe('INV-000001');
  });
});

describe('VAT', () => {
  it('at 20 % inside £195 × 3: total £585.00, VAT £97.50, net £487.50', async () => {
    const order = await anOrder({ quantity: 3 });
    const doc = await issue(requestFor(order));
    expect(doc).toMatchObject({ totalMinor: 58_500, vatMinor: 9_750, netMinor: 48_750, currency: 'GBP' });
    const row = await documentRow(t.ctx.database.db, doc.id);
    expect(row.body).toMatchObject({ vatRateBp: 2000, vatWording: 'Prices include VAT at 20%.', totalMinor: 58_500, vatMinor: 9_750, netMinor: 48_750 });
  });

  it('rounds the VAT of the whole document to the penny', async () => {
    const order = await anOrder({ quantity: 1 });
    // 999 × 2000 / 12000 = 166.5 → 167.
    const doc = await issue(requestFor(order, { lines: [{ description: 'A workbook', quantity: 1, unitMinor: 999, totalMinor: 999 }] }));
    expect(doc).toMatchObject({ totalMinor: 999, vatMinor: 167, netMinor: 832 });
  });

  it('with no rate, charges none and says why', async () => {
    const order = await anOrder();
    const doc = await issue(requestFor(order), deps({ ...SELLER, vatRateBp: null, vatNumber: null, vatExemptReason: 'the seller is not registered for VAT' }));
    expect(doc).toMatchObject({ totalMinor: 58_500, vatMinor: 0, netMinor: 58_500 });
    const row = await documentRow(t.ctx.database.db, doc.id);
    expect(row.body.vatWording).toBe('VAT not applicable: the seller is not registered for VAT');
    const text = (await spacedPages(await renderDocumentPdf(row))).join(' ');
    expect(text).toContain('VAT not applicable: the seller is not registered for VAT');
  });
});

describe('what a document freezes', () => {
  it('an invoice keeps the seller, buyer, PO number, due date and how to pay as issued', async () => {
    const order = await anOrder();
    const doc = await issue(requestFor(order));
    const row = await documentRow(t.ctx.database.db, doc.id);
    expect(row.body).toMatchObject({
      number: 'INV-000001',
      seller: { name: 'Cohort Course Ltd', vatNumber: 'GB123456789', email: SELLER.email },
      buyer: { name: 'Wang Xiuying', organisation: 'Acme Widgets plc', address: '22 Long Road\nManchester M1 1AA' },
      poNumber: 'PO-77841',
      issueDate: '2026-03-02',
      dueDate: '2026-04-01',
      howToPay: SELLER.howToPay,
    });
  });

  it('an invoice for a card order says it is paid by card and has no due date', async () => {
    const order = await anOrder({ payment: 'card' });
    const row = await documentRow(t.ctx.database.db, (await issue(requestFor(order))).id);
    expect(row.body).toMatchObject({ howToPay: 'Paid by card', dueDate: null });
  });

  it('an unknown document is not found', async () => {
    await expect(documentRow(t.ctx.database.db, 999_999)).rejects.toMatchObject({ statusCode: 404 });
  });
});

describe('the PDFs', () => {
  it('an invoice shows its number, the buyer’s name in Chinese, the PO number, the totals and the due date', async () => {
    const order = await anOrder({ buyerName: '王秀英' });
    const doc = await issue(requestFor(order));
    const [text, ...rest] = await spacedPages(await renderDocumentPdf(await documentRow(t.ctx.database.db, doc.id)));
    expect(rest).toEqual([]);
    expect(text).toContain('Invoice');
    expect(text).toContain('INV-000001');
    expect(text).toContain('王秀英');
    expect(text).toContain('Purchase order: PO-77841');
    expect(text).toContain('£195.00');
    expect(text).toContain('Net £487.50');
    expect(text).toContain('VAT (20%) £97.50');
    expect(text).toContain('Total £585.00');
    expect(text).toContain('Due 1 April 2026');
    expect(text).toContain('Payment due by 1 April 2026');
    expect(text).toContain('sort code 00-00-00');
    expect(text).toContain('VAT number: GB123456789');
    expect(text).toContain('Bill to');
  });

  it('a Latin name with diacritics renders as written', async () => {
    const order = await anOrder({ buyerName: 'Łucja Ó Súilleabháin' });
    const doc = await issue(requestFor(order));
    const text = (await spacedPages(await renderDocumentPdf(await documentRow(t.ctx.database.db, doc.id)))).join(' ').normalize('NFC');
    expect(text).toContain('Łucja Ó Súilleabháin');
  });

  it('a receipt says it is paid, with the payment reference and date', async () => {
    const order = await anOrder({ payment: 'card', poNumber: null });
    const doc = await issue(requestFor(order, { kind: 'receipt', paymentReference: 'pi_3QxYz', paidAt: new Date('2026-03-01T16:00:00Z') }));
    const text = (await spacedPages(await renderDocumentPdf(await documentRow(t.ctx.database.db, doc.id)))).join(' ');
    expect(text).toContain('Receipt');
    expect(text).toContain('RCT-000001');
    expect(text).toContain('Paid by card, reference pi_3QxYz');
    expect(text).toContain('Paid 1 March 2026');
    expect(text).not.toContain('Purchase order');
  });

  it('a credit note shows the invoice it credits, why, and the amount credited', async () => {
    const order = await anOrder();
    const invoice = await issue(requestFor(order));
    const credit = await issue(
      requestFor(order, {
        kind: 'credit_note',
        relatesTo: invoice.number,
        reason: 'One place cancelled before the cohort started',
        lines: [{ description: 'Cancelled place', quantity: 1, unitMinor: 19_500, totalMinor: 19_500 }],
      }),
    );
    expect(credit).toMatchObject({ number: 'CRN-000001', totalMinor: 19_500, vatMinor: 3_250, netMinor: 16_250 });
    const text = (await spacedPages(await renderDocumentPdf(await documentRow(t.ctx.database.db, credit.id)))).join(' ');
    expect(text).toContain('Credit note');
    expect(text).toContain('CRN-000001');
    expect(text).toContain('Credit for invoice INV-000001');
    expect(text).toContain('Reason: One place cancelled before the cohort started');
    expect(text).toContain('Total credited £195.00');
    expect(text).not.toContain('-£');
  });

  it('long descriptions and addresses wrap, and many lines flow onto a second page', async () => {
    const order = await anOrder();
    const long = 'Strategic Planning with Purpose, a live cohort of four weeks with weekly sessions, worksheets and feedback from the instructor, for the whole team';
    const lines = Array.from({ length: 30 }, (_, i) => ({ description: `${i + 1}. ${long}`, quantity: 1, unitMinor: 19_500, totalMinor: 19_500 }));
    const address = 'Building 7, The Very Long Named Business Park Off The Old Ring Road\nSome Town Industrial Estate\nManchester M1 1AA';
    const doc = await issue(requestFor(order, { lines, buyer: { name: 'Wang Xiuying', email: order.buyerEmail, organisation: null, address } }));
    const pages = await spacedPages(await renderDocumentPdf(await documentRow(t.ctx.database.db, doc.id)));
    expect(pages.length).toBeGreaterThanOrEqual(2);
    const all = pages.join(' ');
    for (let i = 1; i <= 30; i++) expect(all).toContain(`${i}. Strategic Planning`);
    // Every word of the description and address is there, over however many lines.
    expect(all).toContain('for the whole team');
    expect(all).toContain('Old Ring Road');
    expect(pages[1]).toContain('Description');
    expect(pages.at(-1)).toContain('Total £5,850.00');
    expect(pages[0]).toContain(`Page 1 of ${pages.length}`);
  });
});

describe('the finance CSV', () => {
  it('has one row a document, by kind then number, with decimal amounts', async () => {
    const a = await anOrder();
    const b = await anOrder({ quantity: 1, buyerName: '=HYPERLINK("http://evil")', poNumber: null });
    const inv1 = await issue(requestFor(a));
    t.clock.advance({ days: 1 });
    const inv2 = await issue(requestFor(b));
    await issue(requestFor(a, { kind: 'receipt', relatesTo: inv1.number, paymentReference: 'BACS 1' }));
    t.clock.advance({ days: 1 });
    await issue(requestFor(b, { kind: 'credit_note', relatesTo: inv2.number, reason: 'Cancelled' }));
    await issue(requestFor(a), deps({ ...SELLER, vatRateBp: null }));

    const rows = parseCsv(await documentsCsv(t.ctx.database.db));
    expect(rows[0]).toEqual(['number', 'kind', 'issued', 'order', 'buyer', 'organisation', 'po_number', 'currency', 'net', 'vat', 'total', 'relates_to']);
    expect(rows.slice(1)).toEqual([
      ['INV-000001', 'invoice', '2026-03-02', String(a.id), 'Wang Xiuying', 'Acme Widgets plc', 'PO-77841', 'GBP', '487.50', '97.50', '585.00', ''],
      ['INV-000002', 'invoice', '2026-03-03', String(b.id), `'=HYPERLINK("http://evil")`, 'Acme Widgets plc', '', 'GBP', '162.50', '32.50', '195.00', ''],
      ['INV-000003', 'invoice', '2026-03-04', String(a.id), 'Wang Xiuying', 'Acme Widgets plc', 'PO-77841', 'GBP', '585.00', '0.00', '585.00', ''],
      ['RCT-000001', 'receipt', '2026-03-03', String(a.id), 'Wang Xiuying', 'Acme Widgets plc', 'PO-77841', 'GBP', '487.50', '97.50', '585.00', 'INV-000001'],
      ['CRN-000001', 'credit_note', '2026-03-04', String(b.id), `'=HYPERLINK("http://evil")`, 'Acme Widgets plc', '', 'GBP', '162.50', '32.50', '195.00', 'INV-000002'],
    ]);

    // A range: from its first instant, up to (not including) its end.
    const day = parseCsv(await documentsCsv(t.ctx.database.db, { from: new Date('2026-03-03T00:00:00Z'), to: new Date('2026-03-04T00:00:00Z') }));
    expect(day.slice(1).map((r) => r[0])).toEqual(['INV-000002', 'RCT-000001']);
  });
});
