// Booking pages: the public booking form, the learner's cancel step, and the admin pages (members, a cohort's bookings, one booking).
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requireRole, requireUser } from '../../server/plugins/auth.js';
import { formatDay, formatInstant } from '../../server/time.js';
import { formatMoney } from '../courses/service.js';
import type { Cohort } from '../cohorts/service.js';
import type { User } from '../people/service.js';
import { BOOKING_KINDS, BOOKING_STATUSES, type BookingKind, type BookingStatus } from './schema.js';
import { STATUS_LABELS, type BookingView, type ImportReport } from './service.js';

const STATUS_CLASS: Record<BookingStatus, string> = {
  confirmed: 'status-ok',
  pending_payment: 'status-warn',
  waitlisted: 'status-info',
  cancelled: 'status-bad',
};

const ACTION_LABELS: Record<string, string> = {
  booked: 'Booked',
  payment_recorded: 'Payment recorded',
  moved_up: 'Moved up from the waitlist',
  cancelled: 'Cancelled',
  released: 'Released (unpaid)',
  refunded: 'Refund marked as made',
};

/** Notices shown after an admin action (by ?done=). */
const NOTICES: Record<string, string> = {
  paid: 'Payment recorded.',
  released: 'The booking was released; the next person on the waitlist (if any) has moved up.',
  cancelled: 'The booking was cancelled; the next person on the waitlist (if any) has moved up.',
  refunded: 'The refund is marked as made.',
  booked: 'The booking is made and the learner has been emailed.',
  added: 'Added to the member list.',
  removed: 'Removed from the member list.',
};

const statusOf = (err: unknown) => (err as { statusCode?: number }).statusCode ?? 500;
/** Errors a person can act on (4xx) become a message on the page; anything else propagates. */
function friendly(err: unknown): { status: number; message: string } {
  const status = statusOf(err);
  if (status >= 400 && status < 500 && status !== 401) return { status, message: (err as Error).message };
  throw err;
}

/** The page view of a booking row. */
function bookingRow(b: BookingView, zone: string) {
  return {
    id: b.id,
    name: b.name || b.email,
    email: b.email,
    kind: b.kind,
    kindLabel: b.kind === 'member' ? 'Member' : 'Standalone',
    status: b.status,
    statusLabel: STATUS_LABELS[b.status] + (b.waitlistPosition ? ` (no. ${b.waitlistPosition})` : ''),
    statusClass: STATUS_CLASS[b.status],
    price: b.price.amountMinor === 0 ? 'Free' : formatMoney(b.price),
    reference: b.paymentReference,
    certificate: b.certificate,
    refundDue: b.refund === 'due',
    refunded: b.refund === 'refunded',
    released: b.cancelReason === 'released',
    canPay: b.kind === 'standalone' && !b.paymentReference && (b.status === 'pending_payment' || b.status === 'waitlisted' || (b.status === 'cancelled' && b.cancelReason === 'released')),
    canRelease: b.status === 'pending_payment',
    canCancel: b.status !== 'cancelled',
    bookedOn: formatDay(b.createdAt, zone),
  };
}

const FormBody = Type.Object({
  name: Type.Optional(Type.String({ maxLength: 200 })),
  email: Type.Optional(Type.String({ maxLength: 254 })),
  kind: Type.Optional(Type.String({ maxLength: 20 })),
  certificate: Type.Optional(Type.String({ maxLength: 10 })),
  _csrf: Type.Optional(Type.String()),
});

const pages: FastifyPluginAsync = async (app) => {
  const fastify = app.withTypeProvider<TypeBoxTypeProvider>();
  const { prefix, clock } = fastify.cc;
  const bookings = fastify.cc.bookings;
  const cohorts = fastify.cc.cohorts;

  /** The facts of a cohort for the booking page, in the visitor's zone (their profile's, else the cohort's). */
  async function cohortFacts(cohort: Cohort, user: User | null) {
    const zone = user?.timezone ?? cohort.timezone;
    const t = cohort.timeline;
    return {
      id: cohort.id,
      courseSlug: cohort.courseSlug,
      courseTitle: cohort.course.title,
      summary: cohort.course.summary,
      weekCount: cohort.course.weekCount,
      hoursPerWeek: cohort.course.hoursPerWeek,
      starts: formatInstant(t.startsAt, zone),
      ends: formatDay(t.endsAt, zone),
      zone,
      zoneNote: user?.timezone
        ? `Dates and times are shown in your time zone, ${zone.replace(/_/g, ' ')} (from your profile).`
        : `Dates and times are shown in the cohort's time zone, ${zone.replace(/_/g, ' ')}. Signed-in learners can choose their own zone in their profile.`,
      sessions: (await cohorts.sessions(cohort)).map((s) => ({ week: s.week, when: formatInstant(s.startsAt, zone) })),
      price: formatMoney(cohort.course.price),
      certificateOffered: Boolean(cohort.course.certificate),
    };
  }

  async function bookPage(reply: FastifyReply, request: FastifyRequest, cohort: Cohort, extra: { form?: Record<string, unknown>; error?: string; errorField?: string } = {}, status = 200) {
    const now = clock.now();
    const closed = now.getTime() >= cohort.timeline.endsAt.getTime() && request.user?.role !== 'admin';
    const placesLeft = await bookings.placesLeft(cohort);
    const form = extra.form ?? { name: request.user?.name ?? '', email: request.user?.email ?? '', kind: 'member', certificate: true };
    return reply.page(
      'bookings/book',
      {
        title: `Book a place: ${cohort.course.title}`,
        cohort: await cohortFacts(cohort, request.user),
        closed,
        placesLeft,
        full: placesLeft === 0,
        placesWord: placesLeft === 1 ? 'place' : 'places',
        form: { ...form, member: form.kind !== 'standalone', standalone: form.kind === 'standalone' },
        error: extra.error,
        errorField: extra.errorField,
        emailError: extra.errorField === 'email',
        nameError: extra.errorField === 'name',
        kindError: extra.errorField === 'kind',
      },
      status,
    );
  }

  // ---- public booking ----

  fastify.get('/cohorts/:id/book', { schema: { hide: true, params: Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) }) } }, async (request, reply) => {
    return bookPage(reply, request, await cohorts.get(request.params.id));
  });

  fastify.post(
    '/cohorts/:id/book',
    { schema: { hide: true, params: Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) }), body: FormBody }, attachValidation: true },
    async (request, reply) => {
      const cohort = await cohorts.get(request.params.id);
      const body = request.body ?? {};
      const form = {
        name: String(body.name ?? '').trim(),
        email: String(body.email ?? '').trim(),
        kind: body.kind === 'standalone' ? 'standalone' : 'member',
        certificate: body.certificate === '1' || body.certificate === 'on',
      };
      const fail = (error: string, errorField: string | undefined, status: number) => bookPage(reply, request, cohort, { form, error, errorField }, status);
      if (request.validationError) return fail('Check the form: one of the fields is too long.', undefined, 400);
      if (!form.name) return fail('Enter your name, as it should appear on your certificate.', 'name', 400);
      if (!form.email) return fail('Enter your email address.', 'email', 400);
      if (!BOOKING_KINDS.includes(body.kind as BookingKind)) return fail('Choose a member or a standalone booking.', 'kind', 400);
      try {
        const b = await bookings.book({ cohortId: cohort.id, email: form.email, name: form.name, kind: form.kind as BookingKind, certificate: form.certificate, actor: request.user, ip: request.ip });
        return reply.page('bookings/booked', {
          title: b.status === 'waitlisted' ? 'You are on the waitlist' : b.status === 'confirmed' ? 'Your place is confirmed' : 'Booking received',
          cohort: await cohortFacts(cohort, request.user),
          booking: { ...bookingRow(b, cohort.timezone), position: b.waitlistPosition, confirmed: b.status === 'confirmed', pending: b.status === 'pending_payment', waitlisted: b.status === 'waitlisted', standalone: b.kind === 'standalone' },
          signedIn: Boolean(request.user),
        });
      } catch (err) {
        const { status, message } = friendly(err);
        if (status === 422) {
          return fail(`${form.email.toLowerCase()} is not on the member list — book as standalone instead (${formatMoney(cohort.course.price)}, paid by invoice or purchase order), or ask your organisation to have its domain added.`, 'kind', 422);
        }
        if (status === 400) return fail(`Enter an email address like name@library.org. (${message})`, 'email', 400);
        return fail(message, undefined, status);
      }
    },
  );

  // ---- the learner's cancel step (also used by admins from the "my courses" panel) ----

  const IdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) });

  fastify.get('/bookings/:id/cancel', { schema: { hide: true, params: IdParams } }, async (request, reply) => {
    const user = requireUser(request);
    const b = await bookings.getFor(user, request.params.id);
    const cohort = await cohorts.get(b.cohortId);
    const started = clock.now().getTime() >= cohort.timeline.startsAt.getTime();
    return reply.page('bookings/cancel', {
      title: 'Cancel your booking',
      booking: bookingRow(b, cohort.timezone),
      cohort: await cohortFacts(cohort, user),
      cancelled: b.status === 'cancelled',
      tooLate: started && user.role !== 'admin',
      paid: Boolean(b.paymentReference) && b.price.amountMinor > 0,
    });
  });

  fastify.post('/bookings/:id/cancel', { schema: { hide: true, params: IdParams, body: Type.Object({ _csrf: Type.Optional(Type.String()) }) } }, async (request, reply) => {
    const user = requireUser(request);
    try {
      const b = await bookings.cancel(request.params.id, user);
      const cohort = await cohorts.get(b.cohortId);
      return reply.page('bookings/cancelled', { title: 'Booking cancelled', cohort: await cohortFacts(cohort, user), refundDue: b.refund === 'due', price: formatMoney(b.price) });
    } catch (err) {
      const { status, message } = friendly(err);
      if (status === 403 || status === 404) throw err;
      const b = await bookings.getFor(user, request.params.id);
      const cohort = await cohorts.get(b.cohortId);
      return reply.page('bookings/cancel', { title: 'Cancel your booking', booking: bookingRow(b, cohort.timezone), cohort: await cohortFacts(cohort, user), error: message, cancelled: b.status === 'cancelled' }, status);
    }
  });

  // ---- admin: member list ----

  async function membersPage(reply: FastifyReply, extra: { error?: string; value?: string; report?: ImportReport; csv?: string; done?: string } = {}, status = 200) {
    const list = (await bookings.listMembers()).map((m) => ({ ...m, label: m.domain ? `Everyone @${m.domain}` : m.email, isDomain: Boolean(m.domain), added: formatDay(m.createdAt, 'Europe/London') }));
    return reply.page(
      'bookings/admin-members',
      {
        title: 'Member list',
        members: list,
        domains: list.filter((m) => m.isDomain).length,
        addresses: list.filter((m) => !m.isDomain).length,
        error: extra.error,
        value: extra.value,
        report: extra.report ? { ...extra.report, acceptedCount: extra.report.accepted.length, refusedCount: extra.report.refused.length } : null,
        csv: extra.csv,
        notice: extra.done ? NOTICES[extra.done] : null,
      },
      status,
    );
  }

  fastify.get('/admin/members', { schema: { hide: true, querystring: Type.Object({ done: Type.Optional(Type.String({ maxLength: 20 })) }) } }, async (request, reply) => {
    requireRole(request, 'admin');
    return membersPage(reply, { done: request.query.done });
  });

  fastify.post(
    '/admin/members',
    { schema: { hide: true, body: Type.Object({ value: Type.Optional(Type.String({ maxLength: 300 })), _csrf: Type.Optional(Type.String()) }) }, attachValidation: true },
    async (request, reply) => {
      const admin = requireRole(request, 'admin');
      const value = String(request.body?.value ?? '').trim();
      if (request.validationError || !value) return membersPage(reply, { error: 'Enter an email address (name@library.org) or a domain (library.org).', value }, 400);
      try {
        await bookings.addMember(value.includes('@') && !value.startsWith('@') ? { email: value } : { domain: value }, admin);
      } catch (err) {
        const { status, message } = friendly(err);
        return membersPage(reply, { error: message, value }, status);
      }
      return reply.redirect(`${prefix}/admin/members?done=added`, 303);
    },
  );

  fastify.post('/admin/members/:id/remove', { schema: { hide: true, params: IdParams, body: Type.Object({ _csrf: Type.Optional(Type.String()) }) } }, async (request, reply) => {
    requireRole(request, 'admin');
    await bookings.removeMember(request.params.id);
    return reply.redirect(`${prefix}/admin/members?done=removed`, 303);
  });

  fastify.post(
    '/admin/members/import',
    { bodyLimit: 1024 * 1024, schema: { hide: true, body: Type.Object({ csv: Type.Optional(Type.String({ maxLength: 1024 * 1024 })), _csrf: Type.Optional(Type.String()) }) }, attachValidation: true },
    async (request, reply) => {
      const admin = requireRole(request, 'admin');
      const csv = String(request.body?.csv ?? '');
      if (request.validationError || !csv.trim()) return membersPage(reply, { error: 'Paste the CSV rows to import: one address or domain per row.', csv }, 400);
      let report: ImportReport;
      try {
        report = await bookings.importMembers(csv, admin);
      } catch (err) {
        const { status, message } = friendly(err);
        return membersPage(reply, { error: message, csv }, status);
      }
      return membersPage(reply, { report });
    },
  );

  // ---- admin: a cohort's bookings ----

  const ListQuery = Type.Object({
    status: Type.Optional(Type.String({ maxLength: 20 })),
    kind: Type.Optional(Type.String({ maxLength: 20 })),
    done: Type.Optional(Type.String({ maxLength: 20 })),
  });

  async function cohortBookingsPage(
    reply: FastifyReply,
    cohort: Cohort,
    query: { status?: string; kind?: string; done?: string },
    extra: { error?: string; form?: Record<string, unknown> } = {},
    code = 200,
  ) {
    const status = BOOKING_STATUSES.includes(query.status as BookingStatus) ? (query.status as BookingStatus) : undefined;
    const kind = BOOKING_KINDS.includes(query.kind as BookingKind) ? (query.kind as BookingKind) : undefined;
    const now = clock.now();
    const counts = await bookings.counts(cohort);
    const list = (await bookings.listForCohort(cohort.id, { status, kind })).map((b) => bookingRow(b, cohort.timezone));
    const form = extra.form ?? { kind: 'standalone', certificate: true };
    return reply.page(
      'bookings/admin-cohort-bookings',
      {
        title: `Bookings: ${cohort.course.title}, ${cohort.startDate}`,
        cohort: { id: cohort.id, courseTitle: cohort.course.title, startDate: cohort.startDate, timezone: cohort.timezone, capacity: cohort.capacity, starts: formatInstant(cohort.timeline.startsAt, cohort.timezone), ended: now.getTime() >= cohort.timeline.endsAt.getTime() },
        counts,
        bookings: list,
        filtered: Boolean(status || kind),
        statusOptions: BOOKING_STATUSES.map((s) => ({ value: s, label: STATUS_LABELS[s], selected: s === status })),
        kindOptions: BOOKING_KINDS.map((k) => ({ value: k, label: k === 'member' ? 'Member' : 'Standalone', selected: k === kind })),
        csvUrl: `${prefix}/api/v1/cohorts/${cohort.id}/bookings.csv`,
        price: formatMoney(cohort.course.price),
        form: { ...form, member: form.kind === 'member', standalone: form.kind !== 'member' },
        notice: query.done ? NOTICES[query.done] : null,
        error: extra.error,
      },
      code,
    );
  }

  fastify.get('/admin/cohorts/:id/bookings', { schema: { hide: true, params: IdParams, querystring: ListQuery } }, async (request, reply) => {
    const admin = requireRole(request, 'admin');
    const { cohort } = await cohorts.access(admin, request.params.id, ['admin']);
    return cohortBookingsPage(reply, cohort, request.query);
  });

  fastify.post('/admin/cohorts/:id/bookings', { schema: { hide: true, params: IdParams, body: FormBody }, attachValidation: true }, async (request, reply) => {
    const admin = requireRole(request, 'admin');
    const { cohort } = await cohorts.access(admin, request.params.id, ['admin']);
    const body = request.body ?? {};
    const form = { name: String(body.name ?? '').trim(), email: String(body.email ?? '').trim(), kind: body.kind === 'member' ? 'member' : 'standalone', certificate: body.certificate === '1' || body.certificate === 'on' };
    const fail = (error: string, code: number) => cohortBookingsPage(reply, cohort, {}, { error, form }, code);
    if (request.validationError || !form.email) return fail('Enter the learner’s email address.', 400);
    if (!BOOKING_KINDS.includes(body.kind as BookingKind)) return fail('Choose a member or a standalone booking.', 400);
    try {
      await bookings.book({ cohortId: cohort.id, email: form.email, name: form.name, kind: form.kind as BookingKind, certificate: form.certificate, actor: admin });
    } catch (err) {
      const { status, message } = friendly(err);
      return fail(message, status);
    }
    return reply.redirect(`${prefix}/admin/cohorts/${cohort.id}/bookings?done=booked`, 303);
  });

  // ---- admin: one booking and the actions on it ----

  async function bookingPage(reply: FastifyReply, id: number, extra: { error?: string; done?: string } = {}, code = 200) {
    const b = await bookings.get(id);
    const cohort = await cohorts.get(b.cohortId);
    const events = await bookings.history(b.id);
    const zone = cohort.timezone;
    return reply.page(
      'bookings/admin-booking',
      {
        title: `Booking ${b.id}: ${b.name || b.email}`,
        booking: bookingRow(b, zone),
        cohort: { id: cohort.id, courseTitle: cohort.course.title, startDate: cohort.startDate, timezone: zone },
        paidAt: b.paidAt ? formatInstant(b.paidAt, zone) : null,
        history: events.map((e) => ({
          when: formatInstant(e.at, zone),
          action: ACTION_LABELS[e.action] ?? e.action,
          by: e.by ?? 'System',
          from: e.from ? STATUS_LABELS[e.from as BookingStatus] : '—',
          to: STATUS_LABELS[e.to as BookingStatus] ?? e.to,
          note: e.note,
        })),
        notice: extra.done ? NOTICES[extra.done] : null,
        error: extra.error,
      },
      code,
    );
  }

  fastify.get('/admin/bookings/:id', { schema: { hide: true, params: IdParams, querystring: Type.Object({ done: Type.Optional(Type.String({ maxLength: 20 })) }) } }, async (request, reply) => {
    requireRole(request, 'admin');
    return bookingPage(reply, request.params.id, { done: request.query.done });
  });

  const ActionBody = Type.Object({
    reference: Type.Optional(Type.String({ maxLength: 100 })),
    from: Type.Optional(Type.String({ maxLength: 20 })),
    _csrf: Type.Optional(Type.String()),
  });

  /** One admin action from a form: done → back where the button was; refused → that page again with the reason. */
  function action(name: 'payments' | 'release' | 'cancel' | 'refund', done: string, run: (id: number, admin: User, body: { reference?: string }) => Promise<unknown>) {
    fastify.post(`/admin/bookings/:id/${name}`, { schema: { hide: true, params: IdParams, body: ActionBody }, attachValidation: true }, async (request, reply) => {
      const admin = requireRole(request, 'admin');
      const id = request.params.id;
      const before = await bookings.get(id);
      const fromList = request.body?.from === 'list';
      const back = fromList ? `${prefix}/admin/cohorts/${before.cohortId}/bookings` : `${prefix}/admin/bookings/${id}`;
      try {
        if (request.validationError) throw Object.assign(new Error('Check the form: the reference is up to 100 characters.'), { statusCode: 400 });
        await run(id, admin, request.body ?? {});
      } catch (err) {
        const { status, message } = friendly(err);
        const text = `Booking ${id} (${before.email}): ${message}`;
        if (fromList) return cohortBookingsPage(reply, await cohorts.get(before.cohortId), {}, { error: text }, status);
        return bookingPage(reply, id, { error: text }, status);
      }
      return reply.redirect(`${back}?done=${done}`, 303);
    });
  }
  action('payments', 'paid', (id, admin, body) => bookings.recordPayment(id, String(body.reference ?? ''), admin));
  action('release', 'released', (id, admin) => bookings.release(id, admin));
  action('cancel', 'cancelled', (id, admin) => bookings.cancel(id, admin));
  action('refund', 'refunded', (id, admin) => bookings.refund(id, admin));
};
export default pages;
