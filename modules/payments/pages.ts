// Checkout pages: booking places for a team (card or invoice), the buyer's order page with its seats, documents,
// claim link, card payment and cancellation; the claim link page; and the admin's list of a cohort's orders.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { NotSignedIn } from '../../server/errors.js';
import { readerLocale } from '../../server/locale.js';
import { requireRole, requireUser } from '../../server/plugins/auth.js';
import { formatDay, formatInstant } from '../../server/time.js';
import { formatMoney } from '../courses/service.js';
import { normaliseEmail, type User } from '../people/service.js';
import type { Cohort } from '../cohorts/service.js';
import { ORDER_MAX_QUANTITY, type OrderView, type SeatView } from '../bookings/service.js';
import type { DocumentKind } from './schema.js';

/** How many people the order form lets the buyer name at once; the rest are given from the order page. */
const SEAT_ROWS = 3;
const PAGE_ID = Type.Integer({ minimum: 1, maximum: 2_147_483_647 });
const IdParams = Type.Object({ id: PAGE_ID });
const Text = (maxLength: number) => Type.Optional(Type.String({ maxLength }));

const DOCUMENT_LABELS: Record<DocumentKind, string> = { invoice: 'Invoice', receipt: 'Receipt', credit_note: 'Credit note' };

const SEAT_LABELS: Record<SeatView['status'], string> = {
  open: 'Open: nobody yet',
  assigned: 'Named: booked as soon as the order is paid',
  booked: 'Booked and enrolled',
};

/** Notices after an action on the order page (by ?done=). */
const NOTICES: Record<string, string> = {
  booked: 'The seat is given. They are booked and enrolled, and we have emailed them.',
  named: 'The seat is given. They will be booked, and emailed, as soon as the order is paid.',
  cancelled: 'The order is cancelled. Everyone in its seats has been told.',
};

/** Errors a person can act on (4xx but 401, and a payment provider that is down) become a message; anything else propagates. */
function friendly(err: unknown): { status: number; message: string; field: string | null; reason: string } {
  const e = err as { statusCode?: number; code?: string; message?: string; field?: string | null; reason?: string };
  const status = e.statusCode ?? 500;
  if ((status >= 400 && status < 500 && status !== 401) || (status === 503 && e.code?.startsWith('CC_'))) {
    return { status, message: String(e.message), field: e.field ?? null, reason: e.reason ?? String(e.message) };
  }
  throw err;
}

const sentence = (s: string) => (s ? s[0].toUpperCase() + s.slice(1) : s);
export const placesWord = (n: number) => (n === 1 ? '1 place' : `${n} places`);
const isEmail = (s: string) => {
  try {
    normaliseEmail(s);
    return true;
  } catch {
    return false;
  }
};

/** An order's status in words (never told by colour alone), with the class that colours it. */
export function orderStatus(o: OrderView): { label: string; cls: string } {
  switch (o.status) {
    case 'pending_payment':
      return { label: o.payment === 'card' ? 'Places held: awaiting card payment' : 'Places held: awaiting payment', cls: 'status-warn' };
    case 'confirmed':
      return { label: o.total.amountMinor === 0 ? 'Confirmed' : 'Paid and confirmed', cls: 'status-ok' };
    case 'waitlisted':
      return { label: `On the waitlist${o.waitlistPosition ? ` (number ${o.waitlistPosition})` : ''}${o.paymentReference ? ', paid' : ''}`, cls: 'status-info' };
    case 'cancelled':
      return {
        label:
          o.cancelReason === 'expired'
            ? 'Cancelled: the hold on its places ran out before payment'
            : o.cancelReason === 'payment_failed'
              ? 'Cancelled: the card payment could not be started'
              : o.cancelReason === 'released'
                ? 'Cancelled: released unpaid'
                : 'Cancelled',
        cls: 'status-bad',
      };
  }
}

interface OrderForm {
  name: string;
  email: string;
  organisation: string;
  address: string;
  poNumber: string;
  quantity: string;
  payment: 'card' | 'invoice';
  certificate: boolean;
  seats: Array<{ name: string; email: string }>;
}

const OrderBody = Type.Object({
  name: Text(200),
  email: Text(254),
  organisation: Text(200),
  address: Text(1000),
  poNumber: Text(100),
  quantity: Text(10),
  payment: Text(20),
  certificate: Text(10),
  ...Object.fromEntries(Array.from({ length: SEAT_ROWS }, (_, i) => [[`seat${i + 1}Name`, Text(200)], [`seat${i + 1}Email`, Text(254)]]).flat()),
  _csrf: Text(200),
});

const SeatBody = Type.Object({ name: Text(200), email: Text(254), _csrf: Text(200) });

const pages: FastifyPluginAsync = async (app) => {
  const fastify = app.withTypeProvider<TypeBoxTypeProvider>();
  const { prefix, clock, baseUrl } = fastify.cc;
  const { bookings, cohorts, payments } = fastify.cc;
  const seller = fastify.cc.paymentSettings.seller;

  const zoneOf = (cohort: Cohort, user: User | null) => user?.timezone ?? cohort.timezone;
  const zoneNote = (zone: string, user: User | null) =>
    user?.timezone
      ? `Dates and times are shown in your time zone, ${zone.replace(/_/g, ' ')} (from your profile).`
      : `Dates and times are shown in the cohort's time zone, ${zone.replace(/_/g, ' ')}.`;

  function cohortFacts(cohort: Cohort, user: User | null) {
    const zone = zoneOf(cohort, user);
    return {
      id: cohort.id,
      courseSlug: cohort.courseSlug,
      courseTitle: cohort.course.title,
      starts: formatInstant(cohort.timeline.startsAt, zone),
      ends: formatDay(cohort.timeline.endsAt, zone),
      weekCount: cohort.course.weekCount,
      zoneNote: zoneNote(zone, user),
    };
  }

  // ---- booking places for a team ----

  async function orderFormPage(
    reply: FastifyReply,
    request: FastifyRequest,
    cohort: Cohort,
    extra: { form?: OrderForm; errors?: Record<string, string>; error?: string } = {},
    status = 200,
  ) {
    const locale = readerLocale(request);
    const user = request.user;
    const closed = clock.now().getTime() >= cohort.timeline.endsAt.getTime() && user?.role !== 'admin';
    const placesLeft = await bookings.placesLeft(cohort);
    const form: OrderForm = extra.form ?? {
      name: user?.name ?? '',
      email: user?.email ?? '',
      organisation: '',
      address: '',
      poNumber: '',
      quantity: '',
      payment: payments.cardEnabled ? 'card' : 'invoice',
      certificate: true,
      seats: [],
    };
    const errors = extra.errors ?? {};
    const quantity = /^\d{1,3}$/.test(form.quantity) ? Number(form.quantity) : NaN;
    const price = cohort.course.price;
    const seatRows = Array.from({ length: SEAT_ROWS }, (_, i) => {
      const n = i + 1;
      return {
        n,
        name: form.seats[i]?.name ?? '',
        email: form.seats[i]?.email ?? '',
        nameError: errors[`seat${n}Name`],
        emailError: errors[`seat${n}Email`],
      };
    });
    const order = ['name', 'email', 'organisation', 'address', 'poNumber', 'quantity', 'payment', ...seatRows.flatMap((r) => [`seat${r.n}Name`, `seat${r.n}Email`])];
    return reply.page(
      'payments/order-form',
      {
        title: `Book places for your team: ${cohort.course.title}`,
        cohort: cohortFacts(cohort, user),
        closed,
        placesLeft,
        full: placesLeft === 0,
        placesLeftText: placesWord(placesLeft),
        capacity: cohort.capacity,
        max: Math.min(ORDER_MAX_QUANTITY, cohort.capacity),
        price: formatMoney(price, locale),
        free: price.amountMinor === 0,
        total: quantity >= 1 && quantity <= ORDER_MAX_QUANTITY ? { places: placesWord(quantity), amount: formatMoney({ amountMinor: price.amountMinor * quantity, currency: price.currency }, locale) } : null,
        cardEnabled: payments.cardEnabled,
        form: { ...form, card: form.payment === 'card', invoice: form.payment === 'invoice' },
        seatRows,
        errors,
        errorList: order.filter((f) => errors[f]).map((f) => ({ field: f === 'payment' ? (payments.cardEnabled ? 'payment-card' : 'payment-note') : f, message: errors[f] })),
        error: extra.error,
        seatRowCount: SEAT_ROWS,
      },
      status,
    );
  }

  fastify.get(
    '/cohorts/:id/order',
    { schema: { hide: true, params: IdParams, querystring: Type.Object({ quantity: Text(10) }) } },
    async (request, reply) => {
      const cohort = await cohorts.get(request.params.id);
      const q = request.query.quantity;
      if (q && /^\d{1,3}$/.test(q)) {
        const user = request.user;
        const form: OrderForm = { name: user?.name ?? '', email: user?.email ?? '', organisation: '', address: '', poNumber: '', quantity: q, payment: payments.cardEnabled ? 'card' : 'invoice', certificate: true, seats: [] };
        return orderFormPage(reply, request, cohort, { form });
      }
      return orderFormPage(reply, request, cohort);
    },
  );

  fastify.post('/cohorts/:id/order', { schema: { hide: true, params: IdParams, body: OrderBody }, attachValidation: true }, async (request, reply) => {
    const cohort = await cohorts.get(request.params.id);
    const body = (request.body ?? {}) as Record<string, unknown>;
    const str = (k: string) => (typeof body[k] === 'string' ? (body[k] as string).trim() : '');
    const form: OrderForm = {
      name: str('name'),
      email: str('email'),
      organisation: str('organisation'),
      address: str('address'),
      poNumber: str('poNumber'),
      quantity: str('quantity'),
      payment: str('payment') === 'card' ? 'card' : 'invoice',
      certificate: str('certificate') === '1' || str('certificate') === 'on',
      seats: Array.from({ length: SEAT_ROWS }, (_, i) => ({ name: str(`seat${i + 1}Name`), email: str(`seat${i + 1}Email`) })),
    };
    const fail = (errors: Record<string, string>, status: number, error?: string) => orderFormPage(reply, request, cohort, { form, errors, error }, status);
    if (request.validationError) return fail({}, 400, 'Check the form: one of the fields is too long.');

    // Everything a person can put right is said at once, beside its field.
    const errors: Record<string, string> = {};
    if (!form.name) errors.name = 'Enter your name.';
    if (!form.email) errors.email = 'Enter your email address.';
    else if (!isEmail(form.email)) errors.email = 'Enter an email address like name@library.org.';
    const quantity = /^\d{1,3}$/.test(form.quantity) ? Number(form.quantity) : NaN;
    if (!(quantity >= 1 && quantity <= ORDER_MAX_QUANTITY)) errors.quantity = `Enter a number of places from 1 to ${ORDER_MAX_QUANTITY}.`;
    if (str('payment') !== 'card' && str('payment') !== 'invoice') errors.payment = 'Choose how you will pay.';
    else if (form.payment === 'card' && !payments.cardEnabled) errors.payment = 'Card payments are not available here; choose to pay by invoice.';
    const named: Array<{ name: string; email: string }> = [];
    form.seats.forEach((s, i) => {
      const n = i + 1;
      if (!s.name && !s.email) return;
      if (!s.email) errors[`seat${n}Email`] = `Enter the email address of the person in seat ${n}, or leave both of its fields empty.`;
      else if (!isEmail(s.email)) errors[`seat${n}Email`] = `Enter an email address like name@library.org for seat ${n}.`;
      if (!s.name) errors[`seat${n}Name`] = `Enter the name of the person in seat ${n}, as it should appear on their certificate.`;
      named.push(s);
    });
    if (!errors.quantity && named.length > quantity) errors.quantity = `You have named ${named.length} people, so order at least ${named.length} places (or name fewer now).`;
    if (Object.keys(errors).length) return fail(errors, 400);

    try {
      const placed = await payments.checkout({
        cohortId: cohort.id,
        buyer: { name: form.name, email: form.email, organisation: form.organisation || null, address: form.address || null, poNumber: form.poNumber || null },
        quantity,
        payment: form.payment,
        seats: named,
        certificate: form.certificate,
        actor: request.user,
        ip: request.ip,
      });
      if (placed.checkoutUrl) return reply.redirect(placed.checkoutUrl, 303);
      const user = request.user;
      if (user && user.role !== 'admin' && user.id !== placed.order.buyer.id) {
        // Bought in another person's name: the order is theirs to manage, so this browser is not shown it.
        return reply.page('payments/thanks', { title: 'Thank you: your order is placed', placed: true, email: placed.order.buyer.email, signInNext: encodeURIComponent(`/orders/${placed.order.id}`), otherBuyer: true });
      }
      return reply.redirect(`${prefix}/orders/${placed.order.id}?placed=1`, 303);
    } catch (err) {
      const { status, field, reason, message } = friendly(err);
      if (field === 'quantity' || field === 'seats') return fail({ quantity: `Enter a number of places from 1 to ${ORDER_MAX_QUANTITY}.` }, status);
      const seatField = /^seats\[(\d+)\]\.email$/.exec(field ?? '');
      if (seatField) {
        const row = form.seats.findIndex((s) => s === named[Number(seatField[1])]) + 1;
        return fail({ [`seat${row || 1}Email`]: sentence(reason) }, status);
      }
      if (field === 'payment') return fail({ payment: sentence(reason) }, status);
      if (status === 422) return fail({ quantity: message }, status);
      if (status === 409) {
        // A seat's person already has a place (or is named twice): say it beside that seat.
        const row = form.seats.findIndex((s) => s.email && message.toLowerCase().includes(s.email.toLowerCase())) + 1;
        if (row) return fail({ [`seat${row}Email`]: message }, status);
      }
      if (status === 503) return fail({}, status, `${message} Nothing was charged and no places are held. Try again in a minute, or choose to pay by invoice.`);
      return fail({}, status, message);
    }
  });

  // ---- the order page ----

  async function orderPage(
    reply: FastifyReply,
    request: FastifyRequest,
    user: User,
    id: number,
    extra: { done?: string; paid?: boolean; placed?: boolean; error?: string; claimUrl?: string; seatError?: { seatId: number; field: 'name' | 'email'; message: string; name: string; email: string } } = {},
    status = 200,
  ) {
    const o = await bookings.orderFor(user, id);
    const cohort = await cohorts.get(o.cohortId);
    const locale = readerLocale(request);
    const zone = zoneOf(cohort, user);
    const now = clock.now().getTime();
    const started = now >= cohort.timeline.startsAt.getTime();
    const ended = now >= cohort.timeline.endsAt.getTime();
    const isAdmin = user.role === 'admin';
    const cancelled = o.status === 'cancelled';
    const money = (amountMinor: number) => formatMoney({ amountMinor, currency: o.total.currency }, locale);
    const documents = (await payments.documents(o.id)).map((d) => ({
      label: `${DOCUMENT_LABELS[d.kind]} ${d.number}`,
      issued: formatDay(d.issuedAt, zone),
      total: money(d.totalMinor),
      url: `${prefix}/api/v1/orders/${o.id}/documents/${d.id}.pdf`,
    }));
    const seats = o.seats.map((s) => {
      const err = extra.seatError?.seatId === s.id ? extra.seatError : null;
      const open = s.status === 'open';
      return {
        id: s.id,
        seatNo: s.seatNo,
        open,
        person: s.name || s.email,
        email: s.name ? s.email : null,
        statusLabel: s.status === 'assigned' && o.status === 'waitlisted' ? 'Named: booked once the order has its places and is paid' : SEAT_LABELS[s.status],
        statusClass: s.status === 'booked' ? 'status-ok' : s.status === 'assigned' ? 'status-info' : 'status-warn',
        canGive: !cancelled && (open ? isAdmin || !ended : isAdmin || !started),
        giveLabel: open ? 'Give this seat' : 'Give to someone else',
        form: { name: err?.name ?? '', email: err?.email ?? '' },
        nameError: err?.field === 'name' ? err.message : null,
        emailError: err?.field === 'email' ? err.message : null,
      };
    });
    const openSeats = o.seats.filter((s) => s.status === 'open').length;
    const st = orderStatus(o);
    const paidNotice = extra.paid ? (o.paymentReference ? 'Thank you: your payment is received.' : 'Thank you. Stripe is confirming your payment; this page shows it as paid within a minute or so (reload it).') : null;
    const placedNotice = extra.placed
      ? o.status === 'waitlisted'
        ? `Thank you: your order is on the waitlist as number ${o.waitlistPosition}. We have emailed you the details.`
        : o.payment === 'invoice' && o.total.amountMinor > 0
          ? 'Thank you: your places are held and we have emailed you the invoice.'
          : 'Thank you: your order is placed and we have emailed you the details.'
      : null;
    return reply.page(
      'payments/order',
      {
        title: `Order ${o.id}: ${cohort.course.title}`,
        cohort: cohortFacts(cohort, user),
        order: {
          id: o.id,
          statusLabel: st.label,
          statusClass: st.cls,
          places: placesWord(o.quantity),
          unit: money(o.unit.amountMinor),
          total: money(o.total.amountMinor),
          free: o.total.amountMinor === 0,
          paymentLabel: o.payment === 'card' ? 'By card' : 'By invoice or purchase order',
          buyer: o.buyer.name || o.buyer.email,
          buyerEmail: o.buyer.email,
          organisation: o.buyer.organisation,
          address: o.buyer.address,
          poNumber: o.buyer.poNumber,
          waitlistPosition: o.waitlistPosition,
          holdExpires: o.holdExpiresAt && o.status === 'pending_payment' ? formatInstant(o.holdExpiresAt, zone) : null,
          paidOn: o.paidAt && o.paymentReference ? formatDay(o.paidAt, zone) : null,
          reference: o.payment === 'invoice' ? o.paymentReference : null,
          refundDue: o.refund === 'due' ? money(o.total.amountMinor - o.refundedMinor) : null,
          refunded: o.refundedMinor > 0 ? money(o.refundedMinor) : null,
          cancelled,
          awaitingInvoice: o.payment === 'invoice' && !o.paymentReference && !cancelled && o.total.amountMinor > 0,
        },
        howToPay: seller.howToPay,
        documents,
        seats,
        openSeats,
        openSeatsText: openSeats === 1 ? '1 seat is open' : `${openSeats} seats are open`,
        canClaimLink: !cancelled && openSeats > 0,
        claimUrl: extra.claimUrl ?? null,
        canPay: payments.cardEnabled && o.payment === 'card' && o.status === 'pending_payment' && Boolean(o.holdExpiresAt) && !o.paymentReference,
        canCancel: !cancelled && (isAdmin || !started),
        isAdmin,
        notice: extra.done ? (NOTICES[extra.done] ?? null) : null,
        paidNotice,
        placedNotice,
        error: extra.error,
      },
      status,
    );
  }

  const OrderQuery = Type.Object({ paid: Text(5), placed: Text(5), done: Text(20) });

  fastify.get('/orders/:id', { schema: { hide: true, params: IdParams, querystring: OrderQuery } }, async (request, reply) => {
    const { paid, placed, done } = request.query;
    if (!request.user) {
      // Stripe sends the buyer back here, signed in or not: thank them without showing the order to whoever holds the URL.
      if (paid === '1' || placed === '1') {
        return reply.page('payments/thanks', {
          title: paid === '1' ? 'Thank you: payment received' : 'Thank you: your order is placed',
          paid: paid === '1',
          placed: placed === '1',
          signInNext: encodeURIComponent(`/orders/${request.params.id}`),
        });
      }
      throw new NotSignedIn();
    }
    return orderPage(reply, request, request.user, request.params.id, { done, paid: paid === '1', placed: placed === '1' });
  });

  const SeatParams = Type.Object({ id: PAGE_ID, seatId: PAGE_ID });

  fastify.post('/orders/:id/seats/:seatId', { schema: { hide: true, params: SeatParams, body: SeatBody }, attachValidation: true }, async (request, reply) => {
    const user = requireUser(request);
    const { id, seatId } = request.params;
    const name = String(request.body?.name ?? '').trim();
    const email = String(request.body?.email ?? '').trim();
    const seatError = (field: 'name' | 'email', message: string, status: number) => orderPage(reply, request, user, id, { seatError: { seatId, field, message, name, email } }, status);
    if (request.validationError) return seatError('email', 'Check the form: the name is up to 200 characters and the address up to 254.', 400);
    if (!name) return seatError('name', 'Enter their name, as it should appear on their certificate.', 400);
    if (!email || !isEmail(email)) return seatError('email', 'Enter an email address like name@library.org.', 400);
    try {
      const seat = await bookings.assignSeat(id, seatId, { name, email }, user);
      return reply.redirect(`${prefix}/orders/${id}?done=${seat.status === 'booked' ? 'booked' : 'named'}#seat-${seatId}`, 303);
    } catch (err) {
      const { status, message } = friendly(err);
      if (status === 404) throw err;
      return seatError('email', message, status);
    }
  });

  fastify.post('/orders/:id/claim-link', { schema: { hide: true, params: IdParams, body: Type.Object({ _csrf: Text(200) }) } }, async (request, reply) => {
    const user = requireUser(request);
    try {
      const token = await bookings.newClaimLink(request.params.id, user);
      // The secret is kept only as a hash, so the link is shown now, on this page, and never again.
      return await orderPage(reply, request, user, request.params.id, { claimUrl: `${baseUrl}/claim/${token}` });
    } catch (err) {
      const { status, message } = friendly(err);
      if (status === 404) throw err;
      return orderPage(reply, request, user, request.params.id, { error: message }, status);
    }
  });

  fastify.post('/orders/:id/pay', { schema: { hide: true, params: IdParams, body: Type.Object({ _csrf: Text(200) }) } }, async (request, reply) => {
    const user = requireUser(request);
    try {
      return reply.redirect(await payments.payByCard(request.params.id, user), 303);
    } catch (err) {
      const { status, message } = friendly(err);
      if (status === 404) throw err;
      return orderPage(reply, request, user, request.params.id, { error: message }, status);
    }
  });

  async function cancelPage(reply: FastifyReply, request: FastifyRequest, user: User, id: number, error?: string, status = 200) {
    const o = await bookings.orderFor(user, id);
    const cohort = await cohorts.get(o.cohortId);
    const locale = readerLocale(request);
    const started = clock.now().getTime() >= cohort.timeline.startsAt.getTime();
    const paid = Boolean(o.paymentReference) && o.total.amountMinor > 0;
    return reply.page(
      'payments/cancel',
      {
        title: `Cancel order ${o.id}`,
        cohort: cohortFacts(cohort, user),
        order: { id: o.id, places: placesWord(o.quantity), total: formatMoney(o.total, locale), statusLabel: orderStatus(o).label, statusClass: orderStatus(o).cls },
        booked: o.seats.filter((s) => s.status === 'booked').length,
        cancelled: o.status === 'cancelled',
        tooLate: started && user.role !== 'admin',
        paidByCard: paid && o.payment === 'card',
        paidByInvoice: paid && o.payment === 'invoice',
        error,
      },
      status,
    );
  }

  fastify.get('/orders/:id/cancel', { schema: { hide: true, params: IdParams } }, async (request, reply) => cancelPage(reply, request, requireUser(request), request.params.id));

  fastify.post('/orders/:id/cancel', { schema: { hide: true, params: IdParams, body: Type.Object({ _csrf: Text(200) }) } }, async (request, reply) => {
    const user = requireUser(request);
    try {
      await payments.cancel(request.params.id, user);
    } catch (err) {
      const { status, message } = friendly(err);
      if (status === 404) throw err;
      return cancelPage(reply, request, user, request.params.id, message, status);
    }
    return reply.redirect(`${prefix}/orders/${request.params.id}?done=cancelled`, 303);
  });

  // ---- the claim link ----

  const TokenParams = Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }) });
  const ClaimBody = Type.Object({ name: Text(200), email: Text(254), _csrf: Text(200) });

  async function claimPage(reply: FastifyReply, request: FastifyRequest, token: string, extra: { form?: { name: string; email: string }; errors?: Record<string, string>; error?: string } = {}, status = 200) {
    const row = await bookings.orderForClaim(token);
    const o = await bookings.orderView(row.id);
    const cohort = await cohorts.get(o.cohortId);
    const user = request.user;
    const errors = extra.errors ?? {};
    const open = o.seats.filter((s) => s.status === 'open').length;
    const ended = clock.now().getTime() >= cohort.timeline.endsAt.getTime();
    return reply.page(
      'payments/claim',
      {
        title: `Take a seat: ${cohort.course.title}`,
        cohort: cohortFacts(cohort, user),
        bookedBy: o.buyer.organisation ? `${o.buyer.name || o.buyer.email} (${o.buyer.organisation})` : o.buyer.name || o.buyer.email,
        full: open === 0,
        ended,
        token,
        form: extra.form ?? { name: user?.name ?? '', email: user?.email ?? '' },
        errors,
        errorList: ['name', 'email'].filter((f) => errors[f]).map((f) => ({ field: f, message: errors[f] })),
        error: extra.error,
      },
      status,
    );
  }

  fastify.get('/claim/:token', { schema: { hide: true, params: TokenParams } }, async (request, reply) => claimPage(reply, request, request.params.token));

  fastify.post('/claim/:token', { schema: { hide: true, params: TokenParams, body: ClaimBody }, attachValidation: true }, async (request, reply) => {
    const token = request.params.token;
    const form = { name: String(request.body?.name ?? '').trim(), email: String(request.body?.email ?? '').trim() };
    const fail = (errors: Record<string, string>, status: number, error?: string) => claimPage(reply, request, token, { form, errors, error }, status);
    if (request.validationError) return fail({}, 400, 'Check the form: the name is up to 200 characters and the address up to 254.');
    const errors: Record<string, string> = {};
    if (!form.name) errors.name = 'Enter your name, as it should appear on your certificate.';
    if (!form.email) errors.email = 'Enter your email address.';
    else if (!isEmail(form.email)) errors.email = 'Enter an email address like name@library.org.';
    if (Object.keys(errors).length) return fail(errors, 400);
    let claimed: Awaited<ReturnType<typeof bookings.claimSeat>>;
    try {
      claimed = await bookings.claimSeat(token, form);
    } catch (err) {
      const { status, message } = friendly(err);
      if (status === 404) throw err;
      if (status === 409 && message.toLowerCase().includes(form.email.toLowerCase())) return fail({ email: message }, status);
      return fail({}, status, message);
    }
    const cohort = await cohorts.get(claimed.order.cohortId);
    return reply.page('payments/claimed', {
      title: claimed.seat.status === 'booked' ? 'Your place is confirmed' : 'Your seat is saved',
      cohort: cohortFacts(cohort, request.user),
      booked: claimed.seat.status === 'booked',
      email: claimed.seat.email,
      signedIn: Boolean(request.user),
    });
  });

  // ---- admin: a cohort's orders ----

  async function cohortOrdersPage(reply: FastifyReply, request: FastifyRequest, cohort: Cohort, extra: { done?: string; error?: string } = {}, status = 200) {
    const locale = readerLocale(request);
    const orders = (await bookings.ordersForCohort(cohort.id)).map((o) => {
      const st = orderStatus(o);
      return {
        id: o.id,
        buyer: o.buyer.name || o.buyer.email,
        buyerEmail: o.buyer.email,
        organisation: o.buyer.organisation,
        poNumber: o.buyer.poNumber,
        paymentLabel: o.payment === 'card' ? 'Card' : 'Invoice',
        statusLabel: st.label,
        statusClass: st.cls,
        quantity: o.quantity,
        total: formatMoney(o.total, locale),
        reference: o.paymentReference,
        refundDue: o.refund === 'due',
        seats: o.seats.map((s) => ({ seatNo: s.seatNo, person: s.name ? `${s.name} (${s.email})` : s.email, statusLabel: SEAT_LABELS[s.status] })),
        canRecord: o.payment === 'invoice' && !o.paymentReference && o.total.amountMinor > 0 && (o.status === 'pending_payment' || o.status === 'waitlisted'),
      };
    });
    return reply.page(
      'payments/cohort-orders',
      {
        title: `Orders: ${cohort.course.title}, starting ${cohort.startDate}`,
        cohort: { id: cohort.id, courseTitle: cohort.course.title, startDate: cohort.startDate },
        orders,
        places: orders.filter((o) => !o.statusLabel.startsWith('Cancelled')).reduce((n, o) => n + o.quantity, 0),
        notice: extra.done === 'paid' ? 'Payment recorded.' : null,
        error: extra.error,
      },
      status,
    );
  }

  fastify.get('/cohorts/:id/orders', { schema: { hide: true, params: IdParams, querystring: Type.Object({ done: Text(20) }) } }, async (request, reply) => {
    const admin = requireRole(request, 'admin');
    const { cohort } = await cohorts.access(admin, request.params.id, ['admin']);
    return cohortOrdersPage(reply, request, cohort, { done: request.query.done });
  });

  fastify.post(
    '/orders/:id/payment',
    { schema: { hide: true, params: IdParams, body: Type.Object({ reference: Text(200), _csrf: Text(200) }) }, attachValidation: true },
    async (request, reply) => {
      const admin = requireRole(request, 'admin');
      const o = await bookings.orderRow(request.params.id);
      const cohort = await cohorts.get(o.cohortId);
      const reference = String(request.body?.reference ?? '').trim();
      const fail = (message: string, status: number) => cohortOrdersPage(reply, request, cohort, { error: `Order ${o.id} (${o.buyerEmail}): ${message}` }, status);
      if (request.validationError || !reference) return fail('Enter the invoice or purchase-order reference (up to 200 characters).', 400);
      try {
        await bookings.payOrder(o.id, { reference, actor: admin });
      } catch (err) {
        const { status, message } = friendly(err);
        return fail(message, status);
      }
      return reply.redirect(`${prefix}/cohorts/${cohort.id}/orders?done=paid`, 303);
    },
  );
};

export default pages;
