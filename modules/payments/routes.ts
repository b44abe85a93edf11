// Checkout API: orders of one or more places (card or invoice), their seats and claim links, payment and
// cancellation, invoices / receipts / credit notes as PDFs, the finance CSV, and Stripe's webhook.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Conflict, NotFound } from '../../server/errors.js';
import { requireRole, requireUser } from '../../server/plugins/auth.js';
import { IdParam, Instant, Money, problemResponses } from '../../server/schemas.js';
import { ORDER_STATUSES, PAYMENT_METHODS, REFUND_STATES, type PaymentMethod } from '../bookings/schema.js';
import { ORDER_MAX_QUANTITY, type OrderView, type SeatView } from '../bookings/service.js';
import { DOCUMENT_KINDS } from './schema.js';
import type { DocumentView } from './model.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const SeatDoc = Type.Object({
  id: Type.Integer(),
  seatNo: Type.Integer(),
  email: Nullable(Type.String()),
  name: Nullable(Type.String()),
  status: Type.Enum(['open', 'assigned', 'booked'], { description: 'open: nobody yet; assigned: named, booked once the order is paid; booked: a confirmed booking' }),
  bookingId: Nullable(Type.Integer()),
});

const OrderDoc = Type.Object({
  id: Type.Integer(),
  cohortId: Type.Integer(),
  status: Type.Enum([...ORDER_STATUSES]),
  quantity: Type.Integer(),
  payment: Type.Enum([...PAYMENT_METHODS]),
  buyer: Type.Object({ email: Type.String(), name: Type.String(), organisation: Nullable(Type.String()), address: Nullable(Type.String()), poNumber: Nullable(Type.String()) }),
  unit: Money,
  total: Money,
  checkoutUrl: Nullable(Type.String({ description: 'where to pay by card (Stripe Checkout), right after placing a card order; null otherwise' })),
  invoiceUrl: Nullable(Type.String({ description: "the order's latest invoice (PDF), once issued" })),
  waitlistPosition: Nullable(Type.Integer()),
  holdExpiresAt: Nullable(Instant),
  paymentReference: Nullable(Type.String()),
  paidAt: Nullable(Instant),
  refund: Type.Enum([...REFUND_STATES]),
  refundedMinor: Type.Integer(),
  cancelReason: Nullable(Type.String({ description: 'cancelled, released, expired (the card hold ran out) or payment_failed (Checkout could not start)' })),
  seats: Type.Array(SeatDoc),
  createdAt: Instant,
});

const DocumentDoc = Type.Object({
  id: Type.Integer(),
  kind: Type.Enum([...DOCUMENT_KINDS]),
  number: Type.String(),
  total: Money,
  netMinor: Type.Integer(),
  vatMinor: Type.Integer(),
  issuedAt: Instant,
  url: Type.String({ description: 'the PDF' }),
});

const SeatBody = Type.Object({ email: Type.String({ minLength: 3, maxLength: 254 }), name: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });

const routes: FastifyPluginAsync = async (app) => {
  const fastify = app.withTypeProvider<TypeBoxTypeProvider>();
  const { bookings, payments, cohorts, baseUrl } = fastify.cc;

  const seatDoc = (s: SeatView) => s;
  const orderDoc = async (o: OrderView, checkoutUrl: string | null = null) => {
    const invoice = await payments.latest(o.id, 'invoice');
    return {
      id: o.id,
      cohortId: o.cohortId,
      status: o.status,
      quantity: o.quantity,
      payment: o.payment,
      buyer: { email: o.buyer.email, name: o.buyer.name, organisation: o.buyer.organisation, address: o.buyer.address, poNumber: o.buyer.poNumber },
      unit: o.unit,
      total: o.total,
      checkoutUrl,
      invoiceUrl: invoice ? `${baseUrl}/api/v1/orders/${o.id}/invoice.pdf` : null,
      waitlistPosition: o.waitlistPosition,
      holdExpiresAt: o.holdExpiresAt?.toISOString() ?? null,
      paymentReference: o.paymentReference,
      paidAt: o.paidAt?.toISOString() ?? null,
      refund: o.refund,
      refundedMinor: o.refundedMinor,
      cancelReason: o.cancelReason,
      seats: o.seats.map(seatDoc),
      createdAt: o.createdAt.toISOString(),
    };
  };
  const documentDoc = (d: DocumentView) => ({
    id: d.id,
    kind: d.kind,
    number: d.number,
    total: { amountMinor: d.totalMinor, currency: d.currency },
    netMinor: d.netMinor,
    vatMinor: d.vatMinor,
    issuedAt: d.issuedAt.toISOString(),
    url: `${baseUrl}/api/v1/orders/${d.orderId}/documents/${d.id}.pdf`,
  });
  const sendPdf = async (reply: FastifyReply, documentId: number) => {
    const { number, bytes } = await payments.pdf(documentId);
    return reply.type('application/pdf').header('content-disposition', `attachment; filename="${number}.pdf"`).header('cache-control', 'private, no-store').send(Buffer.from(bytes));
  };

  fastify.post(
    '/api/v1/cohorts/:id/orders',
    {
      schema: {
        summary: 'Order one or more places (anyone until the cohort ends; an admin at any time)',
        description: `A buyer (who need not attend) orders 1..${ORDER_MAX_QUANTITY} places. All of them are held at once when that many are free and nobody is waiting, or the whole order waits on the waitlist and moves up as a whole, without being overtaken. \`payment: "card"\` (when Stripe is set up) answers \`checkoutUrl\`: the places are held while the buyer pays, for the configured hold time. \`payment: "invoice"\` issues an invoice at once (\`invoiceUrl\`). Seats named now (\`seats\`) are booked as soon as the order is paid; the rest are given later from the order. 400 for a bad quantity or card payments not set up; 409 after the cohort has ended, or for a seat address named twice or already booked in the cohort; 422 when the cohort could never hold that many; 429 past the booking limits; 503 when Stripe cannot be reached (then nothing stays held).`,
        tags: ['checkout'],
        security: [{}, { bearer: [] }, { session: [] }],
        params: IdParam,
        body: Type.Object(
          {
            buyer: Type.Object(
              {
                email: Type.String({ minLength: 3, maxLength: 254 }),
                name: Type.String({ minLength: 1, maxLength: 200 }),
                organisation: Type.Optional(Type.String({ maxLength: 200 })),
                address: Type.Optional(Type.String({ maxLength: 1000, description: 'billing address, lines separated by newlines' })),
                poNumber: Type.Optional(Type.String({ maxLength: 100 })),
              },
              { additionalProperties: false },
            ),
            quantity: Type.Integer({ minimum: 1, maximum: ORDER_MAX_QUANTITY }),
            payment: Type.Enum([...PAYMENT_METHODS]),
            seats: Type.Optional(Type.Array(SeatBody, { maxItems: ORDER_MAX_QUANTITY })),
            certificate: Type.Optional(Type.Boolean({ description: 'the seats want certificates (default true)' })),
          },
          { additionalProperties: false },
        ),
        response: { 201: OrderDoc, ...problemResponses(400, 404, 409, 422, 429, 503) },
      },
    },
    async (request, reply) => {
      const placed = await payments.checkout({
        cohortId: request.params.id,
        buyer: request.body.buyer,
        quantity: request.body.quantity,
        payment: request.body.payment as PaymentMethod,
        seats: request.body.seats,
        certificate: request.body.certificate,
        actor: request.user,
        ip: request.ip,
      });
      return reply.code(201).send(await orderDoc(placed.order, placed.checkoutUrl));
    },
  );

  fastify.get(
    '/api/v1/cohorts/:id/orders',
    { schema: { summary: "A cohort's orders, their seats and who holds them (admins)", tags: ['checkout'], params: IdParam, response: { 200: Type.Array(OrderDoc), ...problemResponses(400, 401, 403, 404) } } },
    async (request) => {
      const admin = requireRole(request, 'admin');
      const { cohort } = await cohorts.access(admin, request.params.id, ['admin']);
      return Promise.all((await bookings.ordersForCohort(cohort.id)).map((o) => orderDoc(o)));
    },
  );

  fastify.get(
    '/api/v1/orders/:id',
    { schema: { summary: 'An order (its buyer, admins; 404 for anyone else)', tags: ['checkout'], params: IdParam, response: { 200: OrderDoc, ...problemResponses(400, 401, 404) } } },
    async (request) => orderDoc(await bookings.orderFor(requireUser(request), request.params.id)),
  );

  fastify.post(
    '/api/v1/orders/:id/seats/:seatId',
    {
      schema: {
        summary: 'Give a seat to a person (its buyer, admins)',
        description: 'An open seat may be given until the cohort ends. A seat already given may be given to someone else until the cohort starts (admins at any time): the first person\'s booking is cancelled and they are told. The person is booked and enrolled at once when the order is paid, else when it is. 409 when the seat already holds that person, the person already has a place in the cohort, or the order is cancelled.',
        tags: ['checkout'],
        params: Type.Object({ id: IdParam.properties.id, seatId: IdParam.properties.id }),
        body: SeatBody,
        response: { 200: SeatDoc, ...problemResponses(400, 401, 404, 409) },
      },
    },
    async (request) => bookings.assignSeat(request.params.id, request.params.seatId, request.body, requireUser(request)),
  );

  fastify.post(
    '/api/v1/orders/:id/claim-link',
    {
      schema: {
        summary: 'Make a claim link for the open seats (its buyer, admins); a new link stops the old one',
        tags: ['checkout'],
        params: IdParam,
        response: { 201: Type.Object({ url: Type.String() }), ...problemResponses(400, 401, 404, 409) },
      },
    },
    async (request, reply) => reply.code(201).send({ url: `${baseUrl}/claim/${await bookings.newClaimLink(request.params.id, requireUser(request))}` }),
  );

  fastify.post(
    '/api/v1/orders/:id/checkout',
    {
      schema: {
        summary: "Pay an order's held places by card (its buyer): a Stripe Checkout URL",
        tags: ['checkout'],
        params: IdParam,
        response: { 200: Type.Object({ checkoutUrl: Type.String() }), ...problemResponses(400, 401, 404, 409, 503) },
      },
    },
    async (request) => ({ checkoutUrl: await payments.payByCard(request.params.id, requireUser(request)) }),
  );

  fastify.post(
    '/api/v1/orders/:id/cancel',
    {
      schema: {
        summary: 'Cancel an order (its buyer until the cohort starts; admins at any time)',
        description: "Its seats' bookings are cancelled and their holders told; the places go to the waitlist. A card payment is refunded through Stripe at once (retried later when Stripe is down); an invoice payment gets a refund due.",
        tags: ['checkout'],
        params: IdParam,
        body: Type.Optional(Type.Object({ note: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false })),
        response: { 200: OrderDoc, ...problemResponses(400, 401, 404, 409) },
      },
    },
    async (request) => orderDoc(await payments.cancel(request.params.id, requireUser(request), request.body?.note)),
  );

  fastify.post(
    '/api/v1/orders/:id/payment',
    {
      schema: {
        summary: "Record an invoice or purchase-order payment on an order (admins)",
        tags: ['checkout'],
        params: IdParam,
        body: Type.Object({ reference: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
        response: { 200: OrderDoc, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const admin = requireRole(request, 'admin');
      return orderDoc(await bookings.payOrder(request.params.id, { reference: request.body.reference, actor: admin }));
    },
  );

  fastify.post(
    '/api/v1/orders/:id/refund',
    {
      schema: {
        summary: 'Record a refund made by hand on an order (admins): a credit note is issued for it',
        description: 'For invoice payments returned by bank transfer (card payments are refunded through Stripe when the order is cancelled). Without `amountMinor`, what is left of the total. 409 for more than is left.',
        tags: ['checkout'],
        params: IdParam,
        body: Type.Object({ amountMinor: Type.Optional(Type.Integer({ minimum: 1 })) }, { additionalProperties: false }),
        response: { 200: OrderDoc, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      requireRole(request, 'admin');
      const o = await bookings.orderRow(request.params.id);
      if (!o.paymentReference) throw new Conflict('This order has not been paid, so there is nothing to refund.');
      return orderDoc(await bookings.recordRefund(o.id, request.body.amountMinor ?? o.totalMinor - o.refundedMinor));
    },
  );

  fastify.get(
    '/api/v1/orders/:id/documents',
    { schema: { summary: "An order's invoices, receipts and credit notes (its buyer, admins)", tags: ['checkout'], params: IdParam, response: { 200: Type.Array(DocumentDoc), ...problemResponses(400, 401, 404) } } },
    async (request) => {
      const o = await bookings.orderRowFor(requireUser(request), request.params.id);
      return (await payments.documents(o.id)).map(documentDoc);
    },
  );

  for (const kind of ['invoice', 'receipt'] as const) {
    fastify.get(
      `/api/v1/orders/:id/${kind}.pdf`,
      {
        schema: {
          summary: `The order's latest ${kind} as a PDF (its buyer, admins)`,
          tags: ['checkout'],
          params: IdParam,
          produces: ['application/pdf'],
          response: { 200: Type.String({ description: 'application/pdf' }), ...problemResponses(400, 401, 404) },
        },
      },
      async (request, reply) => {
        const o = await bookings.orderRowFor(requireUser(request), request.params.id);
        const doc = await payments.latest(o.id, kind);
        if (!doc) throw new NotFound(kind === 'invoice' ? 'Invoice' : 'Receipt');
        return sendPdf(reply, doc.id);
      },
    );
  }

  fastify.get(
    '/api/v1/orders/:id/documents/:documentId.pdf',
    {
      schema: {
        summary: 'One of the order\'s documents as a PDF (its buyer, admins)',
        tags: ['checkout'],
        params: Type.Object({ id: IdParam.properties.id, documentId: IdParam.properties.id }),
        produces: ['application/pdf'],
        response: { 200: Type.String({ description: 'application/pdf' }), ...problemResponses(400, 401, 404) },
      },
    },
    async (request, reply) => {
      const o = await bookings.orderRowFor(requireUser(request), request.params.id);
      const doc = (await payments.documents(o.id)).find((d) => d.id === request.params.documentId);
      if (!doc) throw new NotFound('Document');
      return sendPdf(reply, doc.id);
    },
  );

  fastify.get(
    '/api/v1/documents.csv',
    {
      schema: {
        summary: 'Every invoice, receipt and credit note issued in a period, as CSV for finance (admins)',
        tags: ['checkout'],
        querystring: Type.Object({ from: Type.Optional(Type.String({ format: 'date' })), to: Type.Optional(Type.String({ format: 'date', description: 'exclusive' })) }, { additionalProperties: false }),
        produces: ['text/csv'],
        response: { 200: Type.String({ description: 'text/csv' }), ...problemResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      requireRole(request, 'admin');
      const day = (d?: string) => (d ? new Date(`${d}T00:00:00.000Z`) : undefined);
      const csv = await payments.csv({ from: day(request.query.from), to: day(request.query.to) });
      return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="documents.csv"').send(csv);
    },
  );

  // Stripe signs the exact bytes it sent: this route alone reads its JSON body raw.
  await fastify.register(async (raw) => {
    raw.removeContentTypeParser('application/json');
    raw.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: 512 * 1024 }, (_req, body, done) => done(null, body));
    raw.post(
      '/api/v1/payments/stripe/webhook',
      {
        schema: {
          summary: "Stripe's webhook (checkout.session.completed, checkout.session.expired, charge.refunded)",
          description: 'Verified with the Stripe-Signature header on the raw body. Each event is applied once: redelivered or out-of-order events change nothing more. 400 for a bad signature, or a session or payment that is not ours (nothing changes).',
          tags: ['checkout'],
          security: [{}],
          response: { 200: Type.Object({ received: Type.Boolean(), outcome: Type.String() }), ...problemResponses(400) },
        },
      },
      async (request) => {
        const sig = request.headers['stripe-signature'];
        const { outcome } = await payments.webhook(request.body as Buffer, typeof sig === 'string' ? sig : undefined);
        return { received: true, outcome };
      },
    );
  });
};

export default routes;
