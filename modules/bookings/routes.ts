// Bookings API: the member list and its CSV import, booking a cohort, payments, cancel, release, refund, CSV export.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requireRole, requireUser } from '../../server/plugins/auth.js';
import { IdParam, Instant, Money, problemResponses } from '../../server/schemas.js';
import { BOOKING_KINDS, BOOKING_STATUSES, REFUND_STATES, type BookingKind, type BookingStatus } from './schema.js';
import { BOOKING_ATTEMPTS_PER_ADDRESS_PER_HOUR, BOOKINGS_PER_IP_PER_HOUR, type BookingEventView, type BookingView, type MemberView } from './service.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const BookingDoc = Type.Object({
  id: Type.Integer(),
  cohortId: Type.Integer(),
  email: Type.String(),
  name: Type.String(),
  kind: Type.Enum([...BOOKING_KINDS]),
  status: Type.Enum([...BOOKING_STATUSES]),
  price: Money,
  paymentReference: Nullable(Type.String()),
  paidAt: Nullable(Instant),
  certificate: Type.Boolean(),
  waitlistPosition: Nullable(Type.Integer()),
  refund: Type.Enum([...REFUND_STATES], { description: 'for cancelled paid bookings: due until an admin marks it refunded' }),
  cancelReason: Nullable(Type.Enum(['cancelled', 'released'])),
  createdAt: Instant,
  updatedAt: Instant,
});

const EventDoc = Type.Object({
  at: Instant,
  action: Type.String({ description: 'booked, payment_recorded, moved_up, cancelled, released, refunded' }),
  by: Nullable(Type.String({ description: "who did it: an address for admins and the learner's own actions, 'staff' when a learner reads an admin's action, null for the system" })),
  from: Nullable(Type.String()),
  to: Type.String(),
  note: Nullable(Type.String()),
});

const MemberDoc = Type.Object({
  id: Type.Integer(),
  email: Nullable(Type.String()),
  domain: Nullable(Type.String()),
  addedBy: Nullable(Type.String()),
  createdAt: Instant,
});

const ImportReportDoc = Type.Object({
  accepted: Type.Array(Type.Object({ row: Type.Integer(), value: Type.String(), type: Type.Enum(['email', 'domain']) })),
  refused: Type.Array(Type.Object({ row: Type.Integer(), value: Type.String(), reason: Type.String() })),
});

/** The JSON of a booking. */
export function bookingDoc(b: BookingView) {
  return {
    id: b.id,
    cohortId: b.cohortId,
    email: b.email,
    name: b.name,
    kind: b.kind,
    status: b.status,
    price: b.price,
    paymentReference: b.paymentReference,
    paidAt: b.paidAt?.toISOString() ?? null,
    certificate: b.certificate,
    waitlistPosition: b.waitlistPosition,
    refund: b.refund,
    cancelReason: b.cancelReason,
    createdAt: b.createdAt.toISOString(),
    updatedAt: b.updatedAt.toISOString(),
  };
}

const eventDoc = (e: BookingEventView) => ({ ...e, at: e.at.toISOString() });
const memberDoc = (m: MemberView) => ({ ...m, createdAt: m.createdAt.toISOString() });

const CSV_LIMIT = 1024 * 1024;

const routes: FastifyPluginAsync = async (app) => {
  const fastify = app.withTypeProvider<TypeBoxTypeProvider>();
  const bookings = fastify.cc.bookings;
  const cohorts = fastify.cc.cohorts;

  // The member import accepts a CSV body (scoped to this plugin; the app refuses text/plain on purpose).
  fastify.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: CSV_LIMIT }, (_req, body, done) => done(null, body));

  // ---- members ----

  fastify.post(
    '/api/v1/members',
    {
      schema: {
        summary: 'Add an address or a whole domain (and its subdomains) to the member list',
        description: 'Send exactly one of `email` or `domain`. Public mail providers (gmail.com …) and public suffixes (co.uk, org.uk, github.io …, by the Public Suffix List) are refused as domains (400 naming the domain).',
        tags: ['bookings'],
        body: Type.Object(
          { email: Type.Optional(Type.String({ minLength: 1, maxLength: 254 })), domain: Type.Optional(Type.String({ minLength: 1, maxLength: 254 })) },
          { additionalProperties: false },
        ),
        response: { 201: MemberDoc, ...problemResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const admin = requireRole(request, 'admin');
      return reply.code(201).send(memberDoc(await bookings.addMember(request.body, admin)));
    },
  );

  fastify.get(
    '/api/v1/members',
    { schema: { summary: 'The member list', tags: ['bookings'], response: { 200: Type.Array(MemberDoc), ...problemResponses(401, 403) } } },
    async (request) => {
      requireRole(request, 'admin');
      return (await bookings.listMembers()).map(memberDoc);
    },
  );

  fastify.delete(
    '/api/v1/members/:id',
    { schema: { summary: 'Remove an entry from the member list (bookings already made stay)', tags: ['bookings'], params: IdParam, response: { 204: Type.Null(), ...problemResponses(400, 401, 403, 404) } } },
    async (request, reply) => {
      requireRole(request, 'admin');
      await bookings.removeMember(request.params.id);
      return reply.code(204).send(null);
    },
  );

  fastify.post(
    '/api/v1/members/import',
    {
      bodyLimit: CSV_LIMIT,
      schema: {
        summary: 'Import members from CSV: a report of the rows accepted and refused, with reasons',
        description:
          'Send `text/csv`, or JSON `{ "csv": "..." }`. One address or domain per row; an optional header row may name `email` and/or `domain` columns. Rows already on the list, duplicates and invalid values are refused with a reason; the rest are added.',
        tags: ['bookings'],
        consumes: ['text/csv', 'application/json'],
        body: Type.Union([Type.String({ maxLength: CSV_LIMIT }), Type.Object({ csv: Type.String({ maxLength: CSV_LIMIT }) }, { additionalProperties: false })]),
        response: { 200: ImportReportDoc, ...problemResponses(400, 401, 403, 413, 415) },
      },
    },
    async (request) => {
      const admin = requireRole(request, 'admin');
      const csv = typeof request.body === 'string' ? request.body : request.body.csv;
      return await bookings.importMembers(csv, admin);
    },
  );

  // ---- bookings ----

  fastify.post(
    '/api/v1/cohorts/:id/bookings',
    {
      schema: {
        summary: 'Book a place (anyone until the cohort ends; an admin at any time)',
        description:
          `Creates the learner account if the address is new; an existing account is never changed. Members (free) must be on the member list (422). A place held: \`confirmed\` (member) or \`pending_payment\` (standalone, until an admin records the invoice payment). Full: \`waitlisted\`. 409 after \`endsAt\` for non-admins, and, for an admin or a signed-in person booking their own address, when the address already has an active booking or is enrolled. To anyone else the answer is made only of what was sent (the name sent, never a stored one): a duplicate answers 201 exactly like a fresh booking (its \`id\` is the number the next booking will take), changes nothing and emails the address's owner that they already hold a place. 429 after ${BOOKINGS_PER_IP_PER_HOUR} attempts from one client address, or ${BOOKING_ATTEMPTS_PER_ADDRESS_PER_HOUR} for one email address, within an hour, whatever their answers (admins are not limited).`,
        tags: ['bookings'],
        security: [{}, { bearer: [] }, { session: [] }],
        params: IdParam,
        body: Type.Object(
          {
            email: Type.String({ minLength: 3, maxLength: 254 }),
            name: Type.String({ maxLength: 200 }),
            kind: Type.Enum([...BOOKING_KINDS]),
            certificate: Type.Optional(Type.Boolean({ description: 'wants a certificate (default true)' })),
          },
          { additionalProperties: false },
        ),
        response: { 201: BookingDoc, ...problemResponses(400, 404, 409, 422, 429) },
      },
    },
    async (request, reply) => {
      const b = await bookings.book({
        cohortId: request.params.id,
        email: request.body.email,
        name: request.body.name,
        kind: request.body.kind as BookingKind,
        certificate: request.body.certificate,
        actor: request.user,
        ip: request.ip,
      });
      return reply.code(201).send(bookingDoc(b));
    },
  );

  const ListQuery = Type.Object({ status: Type.Optional(Type.Enum([...BOOKING_STATUSES])), kind: Type.Optional(Type.Enum([...BOOKING_KINDS])) });

  fastify.get(
    '/api/v1/cohorts/:id/bookings',
    {
      schema: {
        summary: "A cohort's bookings (filter with ?status= and ?kind=)",
        tags: ['bookings'],
        params: IdParam,
        querystring: ListQuery,
        response: { 200: Type.Array(BookingDoc), ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const admin = requireRole(request, 'admin');
      const { cohort } = await cohorts.access(admin, request.params.id, ['admin']);
      const list = await bookings.listForCohort(cohort.id, { status: request.query.status as BookingStatus | undefined, kind: request.query.kind as BookingKind | undefined });
      return list.map(bookingDoc);
    },
  );

  fastify.get(
    '/api/v1/cohorts/:id/bookings.csv',
    {
      schema: {
        summary: "A cohort's bookings as CSV (kind, status, price, payment reference …)",
        tags: ['bookings'],
        params: IdParam,
        produces: ['text/csv'],
        response: { 200: Type.String({ description: 'text/csv' }), ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const admin = requireRole(request, 'admin');
      const { cohort } = await cohorts.access(admin, request.params.id, ['admin']);
      const csv = await bookings.csv(cohort);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="bookings-cohort-${cohort.id}-${cohort.courseSlug}.csv"`)
        .header('cache-control', 'no-store')
        .send(csv);
    },
  );

  fastify.get(
    '/api/v1/bookings/:id',
    {
      schema: {
        summary: 'A booking with its history (admin, or the person booked)',
        tags: ['bookings'],
        params: IdParam,
        response: { 200: Type.Intersect([BookingDoc, Type.Object({ history: Type.Array(EventDoc) })]), ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const user = requireUser(request);
      const b = await bookings.getFor(user, request.params.id);
      // Learners see that staff acted, not which admin's address did.
      const history = (await bookings.history(b.id)).map((e) => (user.role === 'admin' || e.by === null || e.by === user.email ? e : { ...e, by: 'staff' }));
      return { ...bookingDoc(b), history: history.map(eventDoc) };
    },
  );

  fastify.post(
    '/api/v1/bookings/:id/payments',
    {
      schema: {
        summary: 'Record an invoice or purchase-order payment (admin)',
        description:
          'Awaiting payment → `confirmed` (the learner is enrolled). A paid waitlisted booking stays `waitlisted` and is confirmed when it moves up; a released booking comes back `confirmed`, or `waitlisted` when the cohort is full. 409 for member bookings, or when already paid or cancelled.',
        tags: ['bookings'],
        params: IdParam,
        body: Type.Object({ reference: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false }),
        response: { 200: BookingDoc, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const admin = requireRole(request, 'admin');
      return bookingDoc(await bookings.recordPayment(request.params.id, request.body.reference, admin));
    },
  );

  // Optional body: no body at all is fine (hence no `type: object`), else only a note for the history.
  const NoteBody = Type.Unsafe<{ note?: string } | undefined>({
    properties: { note: { type: 'string', maxLength: 500 } },
    additionalProperties: false,
    description: 'optional: `{ note }` kept in the booking history',
  });

  fastify.post(
    '/api/v1/bookings/:id/cancel',
    {
      schema: {
        summary: 'Cancel a booking (admin at any time; the person booked until the cohort starts)',
        description: 'The first waitlisted booking moves up and is emailed. A paid booking gets `refund: "due"`.',
        tags: ['bookings'],
        params: IdParam,
        body: NoteBody,
        response: { 200: BookingDoc, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const user = requireUser(request);
      return bookingDoc(await bookings.cancel(request.params.id, user, request.body?.note));
    },
  );

  fastify.post(
    '/api/v1/bookings/:id/release',
    {
      schema: {
        summary: "Release an unpaid booking's place (admin); the first waitlisted booking moves up",
        tags: ['bookings'],
        params: IdParam,
        response: { 200: BookingDoc, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const admin = requireRole(request, 'admin');
      return bookingDoc(await bookings.release(request.params.id, admin));
    },
  );

  fastify.post(
    '/api/v1/bookings/:id/refund',
    {
      schema: {
        summary: 'Mark the refund of a cancelled paid booking as made (admin)',
        tags: ['bookings'],
        params: IdParam,
        body: NoteBody,
        response: { 200: BookingDoc, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const admin = requireRole(request, 'admin');
      return bookingDoc(await bookings.refund(request.params.id, admin, request.body?.note));
    },
  );
};
export default routes;
