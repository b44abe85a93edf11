// Orders of several places paid by invoice: held as a whole or waitlisted as a whole, seats given in parts, payment,
// cancellation, documents, and every refusal the contract names.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { insertUser } from '../helpers/factories.js';
import { apiAs } from '../helpers/http.js';
import { addr, networkOf, NOW, setup } from '../bookings/setup.js';
import { pdfPages } from '../helpers/pdf.js';
import { formatMoney } from '../../modules/courses/service.js';

let t: TestApp;
let s: Awaited<ReturnType<typeof setup>>;

beforeAll(async () => {
  t = await createTestApp({ now: NOW });
  s = await setup(t, { capacity: 6 });
});
afterAll(async () => t.close());

/** A buyer (an account with an API token) and an order placed through the public API from their own network. */
async function order(body: Record<string, unknown>, cohortId = s.cohort.id) {
  const buyer = await insertUser(t, 'learner', 'Bea Buyer');
  const res = await t.app.inject({
    method: 'POST',
    url: `/api/v1/cohorts/${cohortId}/orders`,
    payload: { buyer: { email: buyer.email, name: 'Bea Buyer', organisation: 'Lakeside Libraries', address: '1 Quay Street\nLakeside', poNumber: 'PO-77' }, payment: 'invoice', ...body },
    remoteAddress: networkOf(buyer.email),
  });
  return { res, buyer, api: apiAs(t.app, buyer.token) };
}

describe('an order of five places paid by invoice', () => {
  it('holds all five at once, issues an invoice, books named seats when paid, and the rest as they are given', async () => {
    const a = addr('ann');
    const b = addr('ben');
    const { res, buyer, api } = await order({ quantity: 5, seats: [{ email: a, name: 'Ann' }, { email: b, name: 'Ben' }] });
    expect(res.statusCode).toBe(201);
    const o = res.json();
    expect(o).toMatchObject({ status: 'pending_payment', quantity: 5, total: { amountMinor: 5 * 19500, currency: 'GBP' }, checkoutUrl: null });
    expect(o.invoiceUrl).toMatch(new RegExp(`/api/v1/orders/${o.id}/invoice.pdf$`));
    expect(o.seats.map((x: { status: string }) => x.status)).toEqual(['assigned', 'assigned', 'open', 'open', 'open']);
    // Five of six places held by the one order.
    expect((await t.ctx.bookings.counts(s.cohort)).placesLeft).toBe(1);
    expect((await t.mailsTo(buyer.email)).map((m) => m.subject)).toContain(`Order received: ${s.cohort.course.title}`);
    // Nobody is booked before payment.
    expect(await t.mailsTo(a)).toHaveLength(0);

    const pdf = await api('GET', `/api/v1/orders/${o.id}/invoice.pdf`);
    expect(pdf.statusCode).toBe(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect(pdf.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');

    const paid = await s.asAdmin('POST', `/api/v1/orders/${o.id}/payment`, { reference: 'BACS 4411' });
    expect(paid.statusCode).toBe(200);
    expect(paid.json().status).toBe('confirmed');
    expect(paid.json().seats.map((x: { status: string }) => x.status)).toEqual(['booked', 'booked', 'open', 'open', 'open']);
    const annMail = await t.mailsTo(a);
    expect(annMail.map((m) => m.subject)).toEqual([`Your place is confirmed: ${s.cohort.course.title}`]);
    expect(annMail[0].text).toContain('Bea Buyer (Lakeside Libraries) has booked you a place');
    const ann = await t.ctx.people.findByEmail(a);
    expect(await t.ctx.cohorts.roleIn(ann!, s.cohort.id)).toBe('learner');

    // The other three, given later from the order, one at a time.
    for (const [i, who] of [addr('cat'), addr('dan'), addr('eve')].entries()) {
      const seat = o.seats[2 + i];
      const given = await api('POST', `/api/v1/orders/${o.id}/seats/${seat.id}`, { email: who, name: `Person ${i}` });
      expect(given.statusCode).toBe(200);
      expect(given.json()).toMatchObject({ email: who, status: 'booked' });
    }
    const docs = (await api('GET', `/api/v1/orders/${o.id}/documents`)).json();
    expect(docs.map((d: { kind: string }) => d.kind)).toEqual(['invoice', 'receipt']);
    // Still five places held, not five plus five seat bookings.
    expect((await t.ctx.bookings.counts(s.cohort)).placesLeft).toBe(1);
    expect((await t.ctx.bookings.listForCohort(s.cohort.id, { status: 'confirmed' })).filter((x) => x.orderId === o.id)).toHaveLength(5);

    // Another buyer, and anyone signed out, cannot read it or its invoice.
    const other = apiAs(t.app, (await insertUser(t)).token);
    expect((await other('GET', `/api/v1/orders/${o.id}`)).statusCode).toBe(404);
    expect((await other('GET', `/api/v1/orders/${o.id}/invoice.pdf`)).statusCode).toBe(404);
    expect((await s.anon('GET', `/api/v1/orders/${o.id}`)).statusCode).toBe(401);
    // A seat given twice, or to someone already booked, is refused.
    const cat = o.seats[2];
    const again = await api('POST', `/api/v1/orders/${o.id}/seats/${cat.id}`, { email: (await api('GET', `/api/v1/orders/${o.id}`)).json().seats[2].email, name: 'Cat' });
    expect(again.statusCode).toBe(409);
    expect((await api('POST', `/api/v1/orders/${o.id}/seats/${cat.id}`, { email: a, name: 'Ann again' })).statusCode).toBe(409);

    // Cancelled after payment by invoice: a refund is due until an admin records it, in parts; each part a credit note.
    const cancelled = await api('POST', `/api/v1/orders/${o.id}/cancel`, {});
    expect(cancelled.json()).toMatchObject({ status: 'cancelled', refund: 'due' });
    expect((await t.mailsTo(a)).map((m) => m.subject)).toContain(`Booking cancelled: ${s.cohort.course.title}`);
    expect((await api('POST', `/api/v1/orders/${o.id}/refund`, {})).statusCode).toBe(403);
    expect((await s.asAdmin('POST', `/api/v1/orders/${o.id}/refund`, { amountMinor: 50000 })).json()).toMatchObject({ refund: 'due', refundedMinor: 50000 });
    expect((await s.asAdmin('POST', `/api/v1/orders/${o.id}/refund`, { amountMinor: 50000 })).statusCode).toBe(409);
    expect((await s.asAdmin('POST', `/api/v1/orders/${o.id}/refund`, {})).json()).toMatchObject({ refund: 'refunded', refundedMinor: 97500 });
    const credits = (await api('GET', `/api/v1/orders/${o.id}/documents`)).json().filter((d: { kind: string }) => d.kind === 'credit_note');
    expect(credits.map((d: { total: { amountMinor: number } }) => d.total.amountMinor)).toEqual([50000, 47500]);
    // The five places went back to the cohort.
    expect((await t.ctx.bookings.counts(s.cohort)).placesLeft).toBe(6);
    void buyer;
  });
});

describe('refusals', () => {
  it('answers 400 for a quantity of 0, -1, 1.5, 101 or a string', async () => {
    for (const quantity of [0, -1, 1.5, 101, '3']) {
      const { res } = await order({ quantity });
      expect(res.statusCode, String(quantity)).toBe(400);
    }
  });

  it('answers 422 for more places than the cohort could ever hold, and 409 for an address named twice', async () => {
    expect((await order({ quantity: 7 })).res.statusCode).toBe(422);
    const x = addr('twice');
    const { res } = await order({ quantity: 2, seats: [{ email: x, name: 'X' }, { email: x.toUpperCase(), name: 'X' }] });
    expect(res.statusCode).toBe(409);
    expect(res.json().detail).toContain('named for two seats');
  });

  it('leaves nothing behind when refused', async () => {
    const before = await t.ctx.bookings.ordersForCohort(s.cohort.id);
    await order({ quantity: 7 });
    expect(await t.ctx.bookings.ordersForCohort(s.cohort.id)).toHaveLength(before.length);
  });
});

describe('an order waits on the waitlist as a whole', () => {
  it('is not overtaken by a single booking behind it, and moves up when enough places free', async () => {
    const t2 = await createTestApp({ now: NOW });
    try {
      const s2 = await setup(t2, { capacity: 4 });
      const first = await s2.book(addr('one'));
      const second = await s2.book(addr('two'));
      await s2.book(addr('two-b'));
      expect(first.statusCode).toBe(201);
      const buyer = await insertUser(t2, 'learner', 'Team Lead');
      const placed = await t2.app.inject({
        method: 'POST',
        url: `/api/v1/cohorts/${s2.cohort.id}/orders`,
        payload: { buyer: { email: buyer.email, name: 'Team Lead' }, quantity: 3, payment: 'invoice' },
        remoteAddress: networkOf(buyer.email),
      });
      expect(placed.json()).toMatchObject({ status: 'waitlisted', waitlistPosition: 1, invoiceUrl: null });
      // One place is free, but the order waits first: a single booking joins behind it.
      const behind = await s2.book(addr('three'));
      expect(behind.json()).toMatchObject({ status: 'waitlisted', waitlistPosition: 2 });
      // One cancellation frees two places: still not three, so nobody moves.
      await s2.asAdmin('POST', `/api/v1/bookings/${first.json().id}/cancel`, {});
      expect((await apiAs(t2.app, buyer.token)('GET', `/api/v1/orders/${placed.json().id}`)).json().status).toBe('waitlisted');
      // A second frees three: the whole order moves up and is invoiced; the single booking still waits.
      await s2.asAdmin('POST', `/api/v1/bookings/${second.json().id}/cancel`, {});
      const now = (await apiAs(t2.app, buyer.token)('GET', `/api/v1/orders/${placed.json().id}`)).json();
      expect(now).toMatchObject({ status: 'pending_payment', waitlistPosition: null });
      expect(now.invoiceUrl).not.toBeNull();
      expect((await s2.asAdmin('GET', `/api/v1/bookings/${behind.json().id}`)).json()).toMatchObject({ status: 'waitlisted', waitlistPosition: 1 });
      expect((await t2.mailsTo(buyer.email)).map((m) => m.subject)).toContain(`Places are yours: ${s2.cohort.course.title}`);
    } finally {
      await t2.close();
    }
  });
});

describe('invoice numbers under concurrent orders', () => {
  it('twelve orders placed at once across three cohorts get twelve consecutive invoice numbers, no gaps, no duplicates', async () => {
    const t3 = await createTestApp({ now: NOW });
    try {
      const s3 = await setup(t3, { capacity: 40 });
      const others = [s3.cohort.id];
      for (let i = 0; i < 2; i++) others.push((await t3.ctx.cohorts.create({ course: 'leading-change', startDate: '2026-04-06', timezone: 'Europe/London', capacity: 40, instructors: [] })).id);
      const placed = await Promise.all(
        Array.from({ length: 12 }, async (_, i) => {
          const buyer = await insertUser(t3, 'learner', `Buyer ${i}`);
          const res = await t3.app.inject({
            method: 'POST',
            url: `/api/v1/cohorts/${others[i % 3]}/orders`,
            payload: { buyer: { email: buyer.email, name: `Buyer ${i}`, poNumber: `PO-${i}` }, quantity: 1 + (i % 3), payment: 'invoice' },
            remoteAddress: networkOf(buyer.email),
          });
          expect(res.statusCode, res.body).toBe(201);
          return { order: res.json(), api: apiAs(t3.app, buyer.token), i };
        }),
      );
      const numbers: string[] = [];
      for (const { order: o, api } of placed) {
        const [invoice] = (await api('GET', `/api/v1/orders/${o.id}/documents`)).json();
        numbers.push(invoice.number);
      }
      expect([...numbers].sort()).toEqual(Array.from({ length: 12 }, (_, k) => `INV-${String(k + 1).padStart(6, '0')}`));

      // One of them, parsed back: its number, PO and total as the buyer reads them.
      const { order: o, api, i } = placed[4];
      const text = (await pdfPages((await api('GET', `/api/v1/orders/${o.id}/invoice.pdf`)).rawPayload, { spaced: true })).join(' ');
      expect(text).toContain(numbers[4]);
      expect(text).toContain(`PO-${i}`);
      expect(text).toContain(formatMoney(o.total));
    } finally {
      await t3.close();
    }
  });
});
