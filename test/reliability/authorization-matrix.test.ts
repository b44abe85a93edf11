// The authorization matrix: ONE table below lists every route the app serves (API and pages), how to build a
// valid request, and which roles it allows. Every row runs as six roles relative to "this cohort" (A):
// anonymous, a learner of another cohort, an instructor of another cohort, a learner of this cohort, an
// instructor of this cohort, and an admin. A route that exists but is missing from the table fails the test,
// so a new route cannot slip past: add its row here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { apiAs, Browser, csrfFrom } from '../helpers/http.js';
import { enrolLearner } from '../helpers/factories.js';
import { seedObjects, type Objects } from './helpers/objects.js';
import { WriteGuard } from './helpers/guard.js';
import { fillPath, isApi, listRoutes, openApiToFastify, routeKey } from './helpers/routes.js';
import { createWorld, ROLES, type MatrixRole, type Person, type World } from './helpers/world.js';

// ---- who may ----
const ANYONE = ROLES;
const SIGNED_IN = ['learnerOther', 'instructorOther', 'learner', 'instructor', 'admin'] as const;
const ADMIN = ['admin'] as const;
/** This cohort's instructors and admins. */
const STAFF = ['instructor', 'admin'] as const;
/** Anyone who belongs to this cohort. */
const MEMBERS = ['learner', 'instructor', 'admin'] as const;
/** The enrolled learner, for their own things. */
const LEARNER = ['learner'] as const;
/** Any instructor (of any cohort) and admins: the teaching dashboard. */
const TEACHERS = ['instructorOther', 'instructor', 'admin'] as const;
/** Nobody signed in (the object is not reachable this way). */
const NOBODY = [] as const;
/** The caller's own object (see the row): every signed-in person for their own. */
const OWNER = SIGNED_IN;

/** What a cell builds: the URL (defaults to the route with this cohort's ids) and a body. */
interface Req {
  url?: string;
  /** JSON body (API). */
  json?: unknown;
  /** Form fields (pages); the CSRF token is added. */
  form?: Record<string, string>;
  /** A multipart file upload (field `file`). */
  file?: { name: string; type: string; content: string };
}

interface Cell {
  w: World;
  o: Objects;
  role: MatrixRole;
  /** The caller (null when anonymous). */
  me: Person | null;
  fresh: Fresh;
}

interface Row {
  route: string;
  /** When one route has several rows: whose object it is. */
  variant?: string;
  allow: readonly MatrixRole[];
  /** Cells that differ from allow/deny for a stated reason (e.g. 'invalid': a 400 for a request that role must shape differently). */
  expect?: Partial<Record<MatrixRole, Outcome>>;
  req?: (c: Cell) => Req | Promise<Req>;
  /** Run in a browser of its own: the request changes who the browser is signed in as. */
  throwaway?: boolean;
}

let seq = 0;
const unique = (tag: string) => `${tag}-${++seq}-${process.pid}@example.org`;
/** A valid one-week course document, as an author sends it. */
const oneWeekCourse = (title: string) => ({
  title,
  summary: 'One week.',
  description: 'A short course.',
  hoursPerWeek: 1,
  price: { amountMinor: 0, currency: 'GBP' },
  weeks: [{ title: 'Week 1', summary: 'The first week.', markdown: 'Read this.', assignment: { title: 'Worksheet', instructions: 'Answer.', prompts: [{ id: 'answer', label: 'Your answer' }] } }],
});
const PDF = '%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF';

// ---- THE TABLE ----
const MATRIX: Row[] = [
  // infrastructure
  { route: 'GET /*', allow: ANYONE, req: () => ({ url: '/assets/app.css' }) },
  { route: 'GET /healthz', allow: ANYONE },
  { route: 'GET /api/v1/openapi.json', allow: ANYONE },
  { route: 'GET /.well-known/cohort-course/keys.json', allow: ANYONE },

  // people
  { route: 'GET /api/v1/me', allow: SIGNED_IN },
  { route: 'POST /api/v1/tokens', allow: ADMIN, req: () => ({ json: { email: unique('token') } }) },
  { route: 'GET /sign-in', allow: ANYONE },
  { route: 'POST /sign-in', allow: ANYONE, req: () => ({ form: { email: unique('signin') } }) },
  { route: 'GET /sign-in/:token', allow: ANYONE, req: async (c) => ({ url: `/sign-in/${await c.fresh.linkToken()}` }) },
  { route: 'POST /sign-in/confirm', allow: ANYONE, throwaway: true, req: async (c) => ({ form: { token: await c.fresh.linkToken() } }) },
  { route: 'POST /sign-out', allow: ANYONE, throwaway: true },
  { route: 'GET /profile', allow: SIGNED_IN },
  { route: 'POST /profile', allow: SIGNED_IN, req: (c) => ({ form: { name: `Name of ${c.role}`, timezone: 'Europe/London', digest: '1' } }) },

  // courses
  { route: 'GET /api/v1/courses', allow: ANYONE },
  { route: 'GET /', allow: ANYONE },
  { route: 'GET /courses/:slug', allow: ANYONE },
  // Authoring: each cell on a course of its own, which this cohort's instructor authors (the other instructor does not).
  { route: 'POST /api/v1/courses', allow: ADMIN, req: () => ({ json: { slug: `matrix-course-${++seq}-${process.pid}`, title: 'Matrix Course' } }) },
  { route: 'GET /api/v1/courses/:slug/draft', allow: STAFF, req: async (c) => ({ url: `/api/v1/courses/${await c.fresh.authoredCourse()}/draft` }) },
  { route: 'PUT /api/v1/courses/:slug/draft', allow: STAFF, req: async (c) => ({ url: `/api/v1/courses/${await c.fresh.authoredCourse()}/draft`, json: oneWeekCourse(`Saved by ${c.role}`) }) },
  { route: 'POST /api/v1/courses/:slug/publish', allow: STAFF, req: async (c) => ({ url: `/api/v1/courses/${await c.fresh.authoredCourse()}/publish`, json: { note: `Published by ${c.role}` } }) },
  { route: 'GET /api/v1/courses/:slug/versions', allow: STAFF, req: async (c) => ({ url: `/api/v1/courses/${await c.fresh.authoredCourse()}/versions` }) },
  { route: 'POST /api/v1/courses/:slug/authors', allow: ADMIN, req: async (c) => ({ url: `/api/v1/courses/${await c.fresh.authoredCourse()}/authors`, json: { email: c.w.people.instructorOther.email } }) },
  // The course editor's pages: the same rule (its authors and admins) on a course of each cell's own.
  { route: 'GET /teach/courses', allow: TEACHERS },
  { route: 'POST /teach/courses', allow: ADMIN, req: () => ({ form: { slug: `page-course-${++seq}-${process.pid}`, title: 'From the page' } }) },
  { route: 'GET /teach/courses/:slug', allow: STAFF, req: async (c) => ({ url: `/teach/courses/${await c.fresh.authoredCourse()}` }) },
  {
    route: 'POST /teach/courses/:slug',
    allow: STAFF,
    req: async (c) => ({ url: `/teach/courses/${await c.fresh.authoredCourse()}`, form: { title: `Edited by ${c.role}`, summary: 'A summary.', description: 'A description.', hoursPerWeek: '2', review: 'instructor', 'price.amount': '45.00', 'price.currency': 'EUR', certificate: 'none' } }),
  },
  { route: 'POST /teach/courses/:slug/weeks', allow: STAFF, req: async (c) => ({ url: `/teach/courses/${await c.fresh.authoredCourse()}/weeks` }) },
  { route: 'GET /teach/courses/:slug/weeks/:n', allow: STAFF, req: async (c) => ({ url: `/teach/courses/${await c.fresh.authoredCourse()}/weeks/1` }) },
  {
    route: 'POST /teach/courses/:slug/weeks/:n',
    allow: STAFF,
    req: async (c) => ({ url: `/teach/courses/${await c.fresh.authoredCourse()}/weeks/1`, form: { title: `Week by ${c.role}`, summary: 'A week.', markdown: 'The text.' } }),
  },
  { route: 'POST /teach/courses/:slug/weeks/:n/move', allow: STAFF, req: async (c) => ({ url: `/teach/courses/${await c.fresh.authoredCourse()}/weeks/1/move`, form: { direction: 'down' } }) },
  { route: 'POST /teach/courses/:slug/weeks/:n/remove', allow: STAFF, req: async (c) => ({ url: `/teach/courses/${await c.fresh.authoredCourse()}/weeks/1/remove` }) },
  { route: 'GET /teach/courses/:slug/sessions', allow: STAFF, req: async (c) => ({ url: `/teach/courses/${await c.fresh.authoredCourse()}/sessions` }) },
  { route: 'POST /teach/courses/:slug/sessions', allow: STAFF, req: async (c) => ({ url: `/teach/courses/${await c.fresh.authoredCourse()}/sessions`, form: { 'sessions[0].title': 'Live', 'sessions[0].week': '1', 'sessions[0].weekday': 'wed', 'sessions[0].time': '10:00', 'sessions[0].durationMinutes': '45' } }) },
  { route: 'GET /teach/courses/:slug/preview', allow: STAFF, req: async (c) => ({ url: `/teach/courses/${await c.fresh.authoredCourse()}/preview` }) },
  { route: 'POST /teach/courses/:slug/publish', allow: STAFF, req: async (c) => ({ url: `/teach/courses/${await c.fresh.authoredCourse()}/publish`, form: { note: `Published by ${c.role}` } }) },
  { route: 'GET /teach/courses/:slug/versions', allow: STAFF, req: async (c) => ({ url: `/teach/courses/${await c.fresh.authoredCourse()}/versions` }) },
  { route: 'POST /teach/courses/:slug/authors', allow: ADMIN, req: async (c) => ({ url: `/teach/courses/${await c.fresh.authoredCourse()}/authors`, form: { email: c.w.people.instructorOther.email } }) },

  // cohorts
  { route: 'POST /api/v1/cohorts', allow: ADMIN, req: () => ({ json: { course: 'leading-change', startDate: '2026-06-01', timezone: 'Europe/London', capacity: 10, instructors: [] } }) },
  { route: 'GET /api/v1/cohorts', allow: SIGNED_IN },
  { route: 'GET /api/v1/cohorts/:id', allow: MEMBERS },
  { route: 'PATCH /api/v1/cohorts/:id', allow: ADMIN, req: () => ({ json: { capacity: 10_000 } }) },
  // The version this cohort is on: applying it again changes nothing.
  { route: 'POST /api/v1/cohorts/:id/course-version', allow: STAFF, req: () => ({ json: { version: 1 } }) },
  { route: 'GET /teach/cohorts/:id/course-version', allow: STAFF },
  { route: 'POST /teach/cohorts/:id/course-version', allow: STAFF, req: () => ({ form: { version: '1' } }) },
  { route: 'GET /api/v1/cohorts/:id/weeks/:n', allow: MEMBERS },
  { route: 'PUT /api/v1/cohorts/:id/weeks/:n', allow: STAFF, req: (c) => ({ json: { title: `Week one, as edited by ${c.role}` } }) },
  { route: 'GET /my', allow: SIGNED_IN },
  { route: 'GET /cohorts/:id', allow: MEMBERS },
  { route: 'GET /cohorts/:id/weeks/:n', allow: MEMBERS },
  { route: 'GET /teach', allow: TEACHERS },
  { route: 'GET /teach/cohorts/:id', allow: STAFF },
  { route: 'GET /teach/cohorts/:id/weeks/:n/edit', allow: STAFF },
  { route: 'POST /teach/cohorts/:id/weeks/:n/edit', allow: STAFF, req: (c) => ({ form: { title: 'Week one', markdown: `Edited by ${c.role}.` } }) },
  { route: 'GET /admin', allow: ADMIN },
  { route: 'GET /admin/cohorts', allow: ADMIN },
  { route: 'GET /admin/cohorts/new', allow: ADMIN },
  { route: 'POST /admin/cohorts', allow: ADMIN, req: () => ({ form: { course: 'leading-change', startDate: '2026-06-01', timezone: 'Europe/London', capacity: '12', instructors: '' } }) },
  { route: 'GET /admin/cohorts/:id', allow: ADMIN },
  { route: 'POST /admin/cohorts/:id', allow: ADMIN, req: (c) => ({ form: { capacity: '10000', instructors: c.w.people.instructor.email } }) },
  { route: 'POST /admin/cohorts/:id/move', allow: ADMIN, req: () => ({ form: { startDate: '2026-03-02', timezone: 'Europe/London' } }) },

  // bookings
  { route: 'POST /api/v1/members', allow: ADMIN, req: () => ({ json: { email: unique('member') } }) },
  { route: 'GET /api/v1/members', allow: ADMIN },
  { route: 'DELETE /api/v1/members/:id', allow: ADMIN, req: async (c) => ({ url: `/api/v1/members/${await c.fresh.member()}` }) },
  { route: 'POST /api/v1/members/import', allow: ADMIN, req: () => ({ json: { csv: `email\n${unique('imported')}\n` } }) },
  { route: 'POST /api/v1/cohorts/:id/bookings', allow: ANYONE, req: () => ({ json: { email: unique('book'), name: 'Bo Oker', kind: 'standalone' } }) },
  { route: 'GET /api/v1/cohorts/:id/bookings', allow: ADMIN },
  { route: 'GET /api/v1/cohorts/:id/bookings.csv', allow: ADMIN },
  { route: 'GET /api/v1/bookings/:id', variant: "a stranger's booking", allow: ADMIN, req: async (c) => ({ url: `/api/v1/bookings/${await c.fresh.booking()}` }) },
  { route: 'GET /api/v1/bookings/:id', variant: 'own booking', allow: OWNER, req: async (c) => ({ url: `/api/v1/bookings/${await c.fresh.ownBooking(c)}` }) },
  { route: 'POST /api/v1/bookings/:id/payments', allow: ADMIN, req: async (c) => ({ url: `/api/v1/bookings/${await c.fresh.booking()}/payments`, json: { reference: 'PO-1234' } }) },
  { route: 'POST /api/v1/bookings/:id/cancel', variant: "a stranger's booking", allow: ADMIN, req: async (c) => ({ url: `/api/v1/bookings/${await c.fresh.booking()}/cancel`, json: {} }) },
  { route: 'POST /api/v1/bookings/:id/cancel', variant: 'own booking', allow: OWNER, req: async (c) => ({ url: `/api/v1/bookings/${await c.fresh.ownBooking(c)}/cancel`, json: {} }) },
  { route: 'POST /api/v1/bookings/:id/release', allow: ADMIN, req: async (c) => ({ url: `/api/v1/bookings/${await c.fresh.booking()}/release` }) },
  { route: 'POST /api/v1/bookings/:id/refund', allow: ADMIN, req: async (c) => ({ url: `/api/v1/bookings/${await c.fresh.refundDue()}/refund`, json: {} }) },
  { route: 'GET /cohorts/:id/book', allow: ANYONE },
  { route: 'POST /cohorts/:id/book', allow: ANYONE, req: () => ({ form: { name: 'Bo Oker', email: unique('pagebook'), kind: 'standalone', certificate: 'yes' } }) },
  { route: 'GET /bookings/:id/cancel', variant: "a stranger's booking", allow: ADMIN, req: async (c) => ({ url: `/bookings/${await c.fresh.booking()}/cancel` }) },
  { route: 'GET /bookings/:id/cancel', variant: 'own booking', allow: OWNER, req: async (c) => ({ url: `/bookings/${await c.fresh.ownBooking(c)}/cancel` }) },
  { route: 'POST /bookings/:id/cancel', variant: "a stranger's booking", allow: ADMIN, req: async (c) => ({ url: `/bookings/${await c.fresh.booking()}/cancel`, form: {} }) },
  { route: 'POST /bookings/:id/cancel', variant: 'own booking', allow: OWNER, req: async (c) => ({ url: `/bookings/${await c.fresh.ownBooking(c)}/cancel`, form: {} }) },
  { route: 'GET /admin/members', allow: ADMIN },
  { route: 'POST /admin/members', allow: ADMIN, req: () => ({ form: { value: unique('pagemember') } }) },
  { route: 'POST /admin/members/:id/remove', allow: ADMIN, req: async (c) => ({ url: `/admin/members/${await c.fresh.member()}/remove`, form: {} }) },
  { route: 'POST /admin/members/import', allow: ADMIN, req: () => ({ form: { csv: `email\n${unique('pageimport')}\n` } }) },
  { route: 'GET /admin/cohorts/:id/bookings', allow: ADMIN },
  { route: 'POST /admin/cohorts/:id/bookings', allow: ADMIN, req: () => ({ form: { name: 'Ad Min', email: unique('adminbook'), kind: 'standalone' } }) },
  { route: 'GET /admin/bookings/:id', allow: ADMIN },
  { route: 'POST /admin/bookings/:id/payments', allow: ADMIN, req: async (c) => ({ url: `/admin/bookings/${await c.fresh.booking()}/payments`, form: { reference: 'INV-42' } }) },
  { route: 'POST /admin/bookings/:id/release', allow: ADMIN, req: async (c) => ({ url: `/admin/bookings/${await c.fresh.booking()}/release`, form: {} }) },
  { route: 'POST /admin/bookings/:id/cancel', allow: ADMIN, req: async (c) => ({ url: `/admin/bookings/${await c.fresh.booking()}/cancel`, form: {} }) },
  { route: 'POST /admin/bookings/:id/refund', allow: ADMIN, req: async (c) => ({ url: `/admin/bookings/${await c.fresh.refundDue()}/refund`, form: {} }) },

  // checkout (orders of places, seats, documents); a stranger's order is nobody else's business (404), an own order is its buyer's
  { route: 'POST /api/v1/cohorts/:id/orders', allow: ANYONE, req: () => ({ json: { buyer: { email: unique('buyer'), name: 'Bea Buyer' }, quantity: 1, payment: 'invoice' } }) },
  { route: 'GET /api/v1/cohorts/:id/orders', allow: ADMIN },
  { route: 'GET /api/v1/orders/:id', variant: "a stranger's order", allow: ADMIN, req: async (c) => ({ url: `/api/v1/orders/${(await c.fresh.order()).id}` }) },
  { route: 'GET /api/v1/orders/:id', variant: 'own order', allow: OWNER, req: async (c) => ({ url: `/api/v1/orders/${(await c.fresh.order(c)).id}` }) },
  { route: 'POST /api/v1/orders/:id/seats/:seatId', variant: "a stranger's order", allow: ADMIN, req: async (c) => {
    const o = await c.fresh.order();
    return { url: `/api/v1/orders/${o.id}/seats/${o.seatId}`, json: { email: unique('seat'), name: 'Sam Seat' } };
  } },
  { route: 'POST /api/v1/orders/:id/seats/:seatId', variant: 'own order', allow: OWNER, req: async (c) => {
    const o = await c.fresh.order(c);
    return { url: `/api/v1/orders/${o.id}/seats/${o.seatId}`, json: { email: unique('seat'), name: 'Sam Seat' } };
  } },
  { route: 'POST /api/v1/orders/:id/claim-link', variant: "a stranger's order", allow: ADMIN, req: async (c) => ({ url: `/api/v1/orders/${(await c.fresh.order()).id}/claim-link` }) },
  { route: 'POST /api/v1/orders/:id/claim-link', variant: 'own order', allow: OWNER, req: async (c) => ({ url: `/api/v1/orders/${(await c.fresh.order(c)).id}/claim-link` }) },
  // Card payments are off in this app: its buyer is told so (409, reached), anyone else learns nothing (404).
  { route: 'POST /api/v1/orders/:id/checkout', variant: "a stranger's order", allow: ADMIN, req: async (c) => ({ url: `/api/v1/orders/${(await c.fresh.order()).id}/checkout` }) },
  { route: 'POST /api/v1/orders/:id/checkout', variant: 'own order', allow: OWNER, req: async (c) => ({ url: `/api/v1/orders/${(await c.fresh.order(c)).id}/checkout` }) },
  { route: 'POST /api/v1/orders/:id/cancel', variant: "a stranger's order", allow: ADMIN, req: async (c) => ({ url: `/api/v1/orders/${(await c.fresh.order()).id}/cancel`, json: {} }) },
  { route: 'POST /api/v1/orders/:id/cancel', variant: 'own order', allow: OWNER, req: async (c) => ({ url: `/api/v1/orders/${(await c.fresh.order(c)).id}/cancel`, json: {} }) },
  { route: 'POST /api/v1/orders/:id/payment', allow: ADMIN, req: async (c) => ({ url: `/api/v1/orders/${(await c.fresh.order()).id}/payment`, json: { reference: 'PO-55' } }) },
  { route: 'POST /api/v1/orders/:id/refund', allow: ADMIN, req: async (c) => ({ url: `/api/v1/orders/${(await c.fresh.order(null, true)).id}/refund`, json: { amountMinor: 100 } }) },
  { route: 'GET /api/v1/orders/:id/documents', variant: "a stranger's order", allow: ADMIN, req: async (c) => ({ url: `/api/v1/orders/${(await c.fresh.order()).id}/documents` }) },
  { route: 'GET /api/v1/orders/:id/documents', variant: 'own order', allow: OWNER, req: async (c) => ({ url: `/api/v1/orders/${(await c.fresh.order(c)).id}/documents` }) },
  { route: 'GET /api/v1/orders/:id/invoice.pdf', variant: "a stranger's order", allow: ADMIN, req: async (c) => ({ url: `/api/v1/orders/${(await c.fresh.order()).id}/invoice.pdf` }) },
  { route: 'GET /api/v1/orders/:id/invoice.pdf', variant: 'own order', allow: OWNER, req: async (c) => ({ url: `/api/v1/orders/${(await c.fresh.order(c)).id}/invoice.pdf` }) },
  { route: 'GET /api/v1/orders/:id/receipt.pdf', variant: "a stranger's paid order", allow: ADMIN, req: async (c) => ({ url: `/api/v1/orders/${(await c.fresh.order(null, true)).id}/receipt.pdf` }) },
  { route: 'GET /api/v1/orders/:id/receipt.pdf', variant: 'own paid order', allow: OWNER, req: async (c) => ({ url: `/api/v1/orders/${(await c.fresh.order(c, true)).id}/receipt.pdf` }) },
  { route: 'GET /api/v1/orders/:id/documents/:documentId.pdf', variant: "a stranger's order", allow: ADMIN, req: async (c) => {
    const o = await c.fresh.order();
    return { url: `/api/v1/orders/${o.id}/documents/${o.invoiceId}.pdf` };
  } },
  { route: 'GET /api/v1/orders/:id/documents/:documentId.pdf', variant: 'own order', allow: OWNER, req: async (c) => {
    const o = await c.fresh.order(c);
    return { url: `/api/v1/orders/${o.id}/documents/${o.invoiceId}.pdf` };
  } },
  { route: 'GET /api/v1/documents.csv', allow: ADMIN },
  { route: 'GET /cohorts/:id/order', allow: ANYONE },
  { route: 'POST /cohorts/:id/order', allow: ANYONE, req: () => ({ form: { name: 'Bea Buyer', email: unique('pageorder'), quantity: '2', payment: 'invoice', certificate: 'yes' } }) },
  { route: 'GET /cohorts/:id/orders', allow: ADMIN },
  { route: 'GET /orders/:id', variant: "a stranger's order", allow: ADMIN, req: async (c) => ({ url: `/orders/${(await c.fresh.order()).id}` }) },
  { route: 'GET /orders/:id', variant: 'own order', allow: OWNER, req: async (c) => ({ url: `/orders/${(await c.fresh.order(c)).id}` }) },
  { route: 'POST /orders/:id/seats/:seatId', variant: "a stranger's order", allow: ADMIN, req: async (c) => {
    const o = await c.fresh.order();
    return { url: `/orders/${o.id}/seats/${o.seatId}`, form: { name: 'Sam Seat', email: unique('pageseat') } };
  } },
  { route: 'POST /orders/:id/seats/:seatId', variant: 'own order', allow: OWNER, req: async (c) => {
    const o = await c.fresh.order(c);
    return { url: `/orders/${o.id}/seats/${o.seatId}`, form: { name: 'Sam Seat', email: unique('pageseat') } };
  } },
  { route: 'POST /orders/:id/claim-link', variant: "a stranger's order", allow: ADMIN, req: async (c) => ({ url: `/orders/${(await c.fresh.order()).id}/claim-link`, form: {} }) },
  { route: 'POST /orders/:id/claim-link', variant: 'own order', allow: OWNER, req: async (c) => ({ url: `/orders/${(await c.fresh.order(c)).id}/claim-link`, form: {} }) },
  { route: 'POST /orders/:id/pay', variant: "a stranger's order", allow: ADMIN, req: async (c) => ({ url: `/orders/${(await c.fresh.order()).id}/pay`, form: {} }) },
  { route: 'POST /orders/:id/pay', variant: 'own order', allow: OWNER, req: async (c) => ({ url: `/orders/${(await c.fresh.order(c)).id}/pay`, form: {} }) },
  { route: 'GET /orders/:id/cancel', variant: "a stranger's order", allow: ADMIN, req: async (c) => ({ url: `/orders/${(await c.fresh.order()).id}/cancel` }) },
  { route: 'GET /orders/:id/cancel', variant: 'own order', allow: OWNER, req: async (c) => ({ url: `/orders/${(await c.fresh.order(c)).id}/cancel` }) },
  { route: 'POST /orders/:id/cancel', variant: "a stranger's order", allow: ADMIN, req: async (c) => ({ url: `/orders/${(await c.fresh.order()).id}/cancel`, form: {} }) },
  { route: 'POST /orders/:id/cancel', variant: 'own order', allow: OWNER, req: async (c) => ({ url: `/orders/${(await c.fresh.order(c)).id}/cancel`, form: {} }) },
  { route: 'POST /orders/:id/payment', allow: ADMIN, req: async (c) => ({ url: `/orders/${(await c.fresh.order()).id}/payment`, form: { reference: 'BACS-7' } }) },
  // A claim link is the secret: whoever holds it may take an open seat, signed in or not.
  { route: 'GET /claim/:token', allow: ANYONE, req: async (c) => ({ url: `/claim/${await c.fresh.claimToken()}` }) },
  { route: 'POST /claim/:token', allow: ANYONE, req: async (c) => ({ url: `/claim/${await c.fresh.claimToken()}`, form: { name: 'Cla Imer', email: unique('claimer') } }) },
  // Stripe's webhook is not set up in this app (no Stripe keys): 400 to everyone, whoever they are.
  { route: 'POST /api/v1/payments/stripe/webhook', allow: NOBODY, expect: { anonymous: 'invalid', learnerOther: 'invalid', instructorOther: 'invalid', learner: 'invalid', instructor: 'invalid', admin: 'invalid' }, req: () => ({ json: { id: 'evt_1', type: 'checkout.session.completed' } }) },

  // LTI 1.3 (#24). The endpoints a platform and its users' browsers call are public by nature: what they accept is
  // proven by the platform's signed id_token and the login's state, not by who is signed in here (a request without
  // them is a 400 page, an "allowed" cell).
  { route: 'GET /lti/jwks.json', allow: ANYONE },
  { route: 'GET /lti/login', allow: ANYONE },
  { route: 'POST /lti/login', allow: ANYONE, req: () => ({ form: { iss: 'https://unknown-platform.example.org', login_hint: 'x', target_link_uri: 'http://cohort.test/lti/launch' } }) },
  { route: 'POST /lti/launch', allow: ANYONE, req: () => ({ form: { id_token: 'not.a.jwt', state: 'x' } }) },
  // The deep-linking choice: any signed-in person may send one; a token that is not this tool's is a 400 page.
  { route: 'POST /lti/deep-link', allow: SIGNED_IN, req: () => ({ form: { token: 'not-a-token', choice: '1' } }) },
  { route: 'GET /lti/close.js', allow: ANYONE },
  { route: 'GET /lti/auto-submit.js', allow: ANYONE },
  // Dynamic Registration and the platforms page: admins only (without an openid_configuration, a 400 page).
  { route: 'GET /lti/register', allow: ADMIN },
  { route: 'POST /lti/register', allow: ADMIN, req: () => ({ form: {} }) },
  { route: 'GET /admin/lti', allow: ADMIN },
  { route: 'POST /admin/lti', allow: ADMIN, req: () => ({ form: { issuer: 'not a url' } }) },
  // The roster sync: this cohort's instructors and admins (no platform course is linked to it here: a 422, allowed).
  { route: 'POST /api/v1/cohorts/:id/lti/roster-sync', allow: STAFF },
  { route: 'POST /cohorts/:id/lti/roster-sync', allow: STAFF, req: () => ({ form: {} }) },
  { route: 'GET /api/v1/lti/platforms', allow: ADMIN },
  { route: 'POST /api/v1/lti/platforms', allow: ADMIN, req: () => ({ json: { issuer: `https://lms-${++seq}.example.org`, clientId: 'matrix', deploymentIds: ['1'], authLoginUrl: 'https://lms.example.org/auth', tokenUrl: 'https://lms.example.org/token', jwksUrl: 'https://lms.example.org/jwks' } }) },

  // sessions
  { route: 'GET /api/v1/cohorts/:id/sessions', allow: MEMBERS },
  { route: 'GET /api/v1/sessions/:id', allow: MEMBERS },
  { route: 'PATCH /api/v1/sessions/:id', allow: STAFF, req: () => ({ json: { recordingUrl: 'https://video.example.org/recording-1' } }) },
  { route: 'GET /api/v1/sessions/:id/attendance', allow: STAFF },
  { route: 'POST /api/v1/sessions/:id/attendance', allow: STAFF, req: (c) => ({ json: { learner: c.w.people.learner.email, attended: true } }) },
  { route: 'POST /api/v1/sessions/:id/watched', allow: LEARNER },
  { route: 'GET /api/v1/cohorts/:id/calendar.ics', allow: MEMBERS },
  { route: 'GET /api/v1/sessions/:id/calendar.ics', allow: MEMBERS },
  { route: 'POST /api/v1/calendar-feed', allow: SIGNED_IN },
  { route: 'GET /api/v1/calendar-feed', allow: SIGNED_IN },
  { route: 'DELETE /api/v1/calendar-feed', allow: SIGNED_IN },
  { route: 'GET /calendar', allow: SIGNED_IN },
  { route: 'POST /calendar/feed', allow: SIGNED_IN, req: () => ({ form: {} }) },
  { route: 'POST /calendar/revoke', allow: SIGNED_IN, req: () => ({ form: {} }) },
  { route: 'GET /calendar/:token.ics', variant: "with the learner's feed token", allow: ANYONE, req: async (c) => ({ url: `/calendar/${await c.fresh.feedToken()}.ics` }) },
  { route: 'POST /sessions/:id/watched', allow: LEARNER, req: () => ({ form: {} }) },
  { route: 'GET /teach/sessions/:id', allow: STAFF },
  { route: 'POST /teach/sessions/:id', allow: STAFF, req: () => ({ form: { joinUrl: 'https://meet.example.org/room', recordingUrl: '' } }) },
  { route: 'GET /teach/sessions/:id/attendance', allow: STAFF },
  { route: 'POST /teach/sessions/:id/attendance', allow: STAFF, req: (c) => ({ form: { attended: String(c.w.people.learner.id) } }) },

  // assignments
  { route: 'GET /api/v1/cohorts/:id/weeks/:n/submission', allow: LEARNER, req: (c) => ({ url: `/api/v1/cohorts/${c.w.cohortA}/weeks/1/submission` }) },
  { route: 'PUT /api/v1/cohorts/:id/weeks/:n/submission', allow: LEARNER, req: (c) => ({ url: `/api/v1/cohorts/${c.w.cohortA}/weeks/2/submission`, json: { answers: {}, submit: false } }) },
  { route: 'POST /api/v1/cohorts/:id/weeks/:n/submission/files', allow: LEARNER, req: async (c) => {
    await c.fresh.clearFiles();
    return { url: `/api/v1/cohorts/${c.w.cohortA}/weeks/4/submission/files`, file: { name: 'plan.pdf', type: 'application/pdf', content: PDF } };
  } },
  { route: 'GET /api/v1/files/:id', variant: "the learner's own file", allow: MEMBERS, req: async (c) => ({ url: `/api/v1/files/${await c.fresh.file()}` }) },
  { route: 'GET /api/v1/files/:id', variant: "another learner's file in this cohort", allow: STAFF, req: async (c) => ({ url: `/api/v1/files/${await c.fresh.file('learner2')}` }) },
  { route: 'DELETE /api/v1/files/:id', variant: "another learner's file in this cohort", allow: NOBODY, req: async (c) => ({ url: `/api/v1/files/${await c.fresh.file('learner2')}` }) },
  { route: 'DELETE /api/v1/files/:id', variant: "the learner's own file", allow: LEARNER, req: async (c) => ({ url: `/api/v1/files/${await c.fresh.file()}` }) },
  { route: 'GET /api/v1/cohorts/:id/submissions', allow: STAFF },
  { route: 'GET /api/v1/cohorts/:id/submissions.csv', allow: STAFF },
  { route: 'GET /api/v1/submissions/:id', variant: "the learner's own submission", allow: MEMBERS },
  { route: 'GET /api/v1/submissions/:id', variant: "another learner's submission in this cohort", allow: STAFF, req: async (c) => ({ url: `/api/v1/submissions/${await c.fresh.submission()}` }) },
  { route: 'POST /api/v1/submissions/:id/review', allow: STAFF, req: async (c) => ({ url: `/api/v1/submissions/${await c.fresh.submission()}/review`, json: { outcome: 'needs_revision', feedback: 'Say more about your users.' } }) },
  { route: 'POST /api/v1/cohorts/:id/extensions', allow: STAFF, req: (c) => ({ json: { learner: c.w.people.learner.email, week: 3, dueAt: '2026-04-20T10:00:00.000Z', reason: 'Illness' } }) },
  { route: 'GET /api/v1/cohorts/:id/extensions', allow: STAFF },
  { route: 'GET /api/v1/cohorts/:id/workbook.pdf', allow: MEMBERS },
  // Instructors and admins see a blank preview of the worksheet (as of the workbook PDF); only the learner saves.
  { route: 'GET /cohorts/:id/weeks/:n/worksheet', allow: MEMBERS },
  { route: 'POST /cohorts/:id/weeks/:n/worksheet', allow: LEARNER, req: (c) => ({ url: `/cohorts/${c.w.cohortA}/weeks/2/worksheet`, form: { action: 'save' } }) },
  { route: 'POST /cohorts/:id/weeks/:n/worksheet/files/:fileId/remove', variant: "the learner's own file", allow: LEARNER, req: async (c) => ({ url: `/cohorts/${c.w.cohortA}/weeks/4/worksheet/files/${await c.fresh.file()}/remove`, form: {} }) },
  { route: 'POST /cohorts/:id/weeks/:n/worksheet/files/:fileId/remove', variant: "another learner's file in this cohort", allow: NOBODY, req: async (c) => ({ url: `/cohorts/${c.w.cohortA}/weeks/4/worksheet/files/${await c.fresh.file('learner2')}/remove`, form: {} }) },
  { route: 'GET /teach/cohorts/:id/reviews', allow: STAFF },
  { route: 'GET /teach/submissions/:id', allow: STAFF },
  { route: 'POST /teach/submissions/:id/review', allow: STAFF, req: async (c) => ({ url: `/teach/submissions/${await c.fresh.submission()}/review`, form: { outcome: 'complete', feedback: 'Good.' } }) },
  { route: 'GET /teach/cohorts/:id/extensions', allow: STAFF },
  { route: 'POST /teach/cohorts/:id/extensions', allow: STAFF, req: (c) => ({ form: { learner: c.w.people.learner.email, week: '3', dueAt: '2026-04-20T10:00', reason: 'Illness' } }) },

  // discussions
  { route: 'GET /api/v1/cohorts/:id/threads', allow: MEMBERS },
  { route: 'POST /api/v1/cohorts/:id/threads', allow: MEMBERS, req: (c) => ({ json: { title: `Started by ${c.role}`, body: 'Hello.' } }) },
  { route: 'GET /api/v1/threads/:id', allow: MEMBERS },
  { route: 'PATCH /api/v1/threads/:id', allow: STAFF, req: () => ({ json: { pinned: true } }) },
  { route: 'POST /api/v1/threads/:id/posts', allow: MEMBERS, req: (c) => ({ json: { body: `A reply by ${c.role}.` } }) },
  { route: 'PATCH /api/v1/posts/:id', variant: 'hide a learner’s post', allow: STAFF, req: async (c) => ({ url: `/api/v1/posts/${await c.fresh.post()}`, json: { hidden: true } }) },
  { route: 'PATCH /api/v1/posts/:id', variant: 'edit the learner’s own post', allow: LEARNER, req: async (c) => ({ url: `/api/v1/posts/${await c.fresh.post()}`, json: { body: 'Edited.' } }) },
  { route: 'DELETE /api/v1/posts/:id', variant: 'a learner’s post', allow: [...LEARNER, ...STAFF], req: async (c) => ({ url: `/api/v1/posts/${await c.fresh.post()}` }) },
  { route: 'GET /cohorts/:id/discussions', allow: MEMBERS },
  { route: 'POST /cohorts/:id/discussions', allow: MEMBERS, req: (c) => ({ form: { title: `Page thread by ${c.role}`, body: 'Hello.' } }) },
  { route: 'GET /cohorts/:id/discussions/:threadId', allow: MEMBERS },
  // Ids that belong elsewhere, under this cohort's path: nobody, not even an admin, reaches them this way.
  { route: 'GET /cohorts/:id/discussions/:threadId', variant: "the other cohort's thread under this cohort's path", allow: NOBODY, req: (c) => ({ url: `/cohorts/${c.w.cohortA}/discussions/${c.o.threadOtherId}` }) },
  { route: 'POST /cohorts/:id/discussions/:threadId/posts', variant: "the other cohort's thread under this cohort's path", allow: NOBODY, req: (c) => ({ url: `/cohorts/${c.w.cohortA}/discussions/${c.o.threadOtherId}/posts`, form: { body: 'Sneaking in.' } }) },
  { route: 'GET /cohorts/:id/discussions/:threadId/posts/:postId/reply', variant: "the other cohort's post under this cohort's thread", allow: NOBODY, req: (c) => ({ url: `/cohorts/${c.w.cohortA}/discussions/${c.o.threadId}/posts/${c.o.postOtherId}/reply` }) },
  { route: 'POST /cohorts/:id/discussions/:threadId/posts/:postId/hide', variant: "the other cohort's post under this cohort's thread", allow: NOBODY, req: (c) => ({ url: `/cohorts/${c.w.cohortA}/discussions/${c.o.threadId}/posts/${c.o.postOtherId}/hide`, form: { hidden: 'true' } }) },
  { route: 'POST /cohorts/:id/discussions/:threadId/moderate', variant: "the other cohort's thread under this cohort's path", allow: NOBODY, req: (c) => ({ url: `/cohorts/${c.w.cohortA}/discussions/${c.o.threadOtherId}/moderate`, form: { locked: 'true' } }) },
  { route: 'POST /cohorts/:id/discussions/:threadId/posts', allow: MEMBERS, req: (c) => ({ form: { body: `A page reply by ${c.role}.` } }) },
  { route: 'GET /cohorts/:id/discussions/:threadId/posts/:postId/reply', allow: MEMBERS },
  // Only the author edits a post (staff hide or delete it instead).
  { route: 'GET /cohorts/:id/discussions/:threadId/posts/:postId/edit', variant: 'the learner’s own post', allow: LEARNER, req: async (c) => ({ url: `/cohorts/${c.w.cohortA}/discussions/${c.o.threadId}/posts/${await c.fresh.post()}/edit` }) },
  { route: 'POST /cohorts/:id/discussions/:threadId/posts/:postId/edit', variant: 'the learner’s own post', allow: LEARNER, req: async (c) => ({ url: `/cohorts/${c.w.cohortA}/discussions/${c.o.threadId}/posts/${await c.fresh.post()}/edit`, form: { body: 'Edited on the page.' } }) },
  { route: 'POST /cohorts/:id/discussions/:threadId/posts/:postId/delete', variant: 'the learner’s own post', allow: [...LEARNER, ...STAFF], req: async (c) => ({ url: `/cohorts/${c.w.cohortA}/discussions/${c.o.threadId}/posts/${await c.fresh.post()}/delete`, form: {} }) },
  { route: 'POST /cohorts/:id/discussions/:threadId/posts/:postId/hide', allow: STAFF, req: async (c) => ({ url: `/cohorts/${c.w.cohortA}/discussions/${c.o.threadId}/posts/${await c.fresh.post()}/hide`, form: { hidden: 'true' } }) },
  { route: 'POST /cohorts/:id/discussions/:threadId/moderate', allow: STAFF, req: () => ({ form: { pinned: 'true' } }) },

  // certificates
  // Staff must name the learner (400 without one).
  { route: 'GET /api/v1/cohorts/:id/progress', variant: 'own progress', allow: LEARNER, expect: { instructor: 'invalid', admin: 'invalid' } },
  { route: 'GET /api/v1/cohorts/:id/progress', variant: 'another learner of this cohort, by name', allow: STAFF, req: (c) => ({ url: `/api/v1/cohorts/${c.w.cohortA}/progress?learner=${encodeURIComponent(c.w.people.learner2.email)}` }) },
  { route: 'PUT /api/v1/cohorts/:id/certificate-preference', allow: LEARNER, req: () => ({ json: { wanted: true } }) },
  { route: 'POST /api/v1/cohorts/:id/certificates', allow: ADMIN, req: async (c) => ({ json: { email: await c.fresh.learnerEmail() } }) },
  { route: 'GET /api/v1/certificates', allow: ADMIN },
  { route: 'GET /api/v1/certificates.csv', allow: ADMIN },
  { route: 'GET /api/v1/me/certificates', allow: SIGNED_IN },
  { route: 'GET /api/v1/certificates/:code', allow: ANYONE },
  { route: 'GET /api/v1/certificates/:code/credential.json', allow: ANYONE },
  { route: 'GET /api/v1/certificates/status/revocation/:key', allow: ANYONE, req: async (c) => ({ url: `/api/v1/certificates/status/revocation/${(await c.w.t.ctx.certificates.ensureKey()).kid}` }) },
  { route: 'POST /api/v1/certificates/:code/revoke', allow: ADMIN, req: async (c) => ({ url: `/api/v1/certificates/${await c.fresh.certificate()}/revoke`, json: { reason: 'Issued in error' } }) },
  { route: 'GET /certificates', allow: ANYONE, req: (c) => ({ url: `/certificates?code=${c.o.certificateCode}` }) },
  { route: 'GET /certificates/:file', allow: ANYONE, req: (c) => ({ url: `/certificates/${c.o.certificateCode}.pdf` }) },
  { route: 'POST /cohorts/:id/certificate-preference', allow: LEARNER, req: () => ({ form: { wanted: 'yes' } }) },
  { route: 'GET /teach/cohorts/:id/progress', allow: STAFF },
  { route: 'GET /teach/cohorts/:id/behind', allow: STAFF },
  { route: 'POST /teach/cohorts/:id/behind/nudge', allow: STAFF, req: (c) => ({ form: { learner: String(c.w.people.learner.id) } }) },
  { route: 'GET /admin/certificates', allow: ADMIN },
  { route: 'POST /admin/certificates/issue', allow: ADMIN, req: async (c) => ({ form: { cohort: String(c.w.cohortA), email: await c.fresh.learnerEmail() } }) },
  { route: 'POST /admin/certificates/:code/revoke', allow: ADMIN, req: async (c) => ({ url: `/admin/certificates/${await c.fresh.certificate()}/revoke`, form: { reason: 'Issued in error' } }) },
];

// ---- fresh objects for writes, so each cell acts on its own ----
interface Fresh {
  booking(): Promise<number>;
  /** An invoice order of two places in a new cohort, bought by the caller (c) or a stranger; paid when asked. */
  order(c?: Cell | null, paid?: boolean): Promise<{ id: number; seatId: number; invoiceId: number }>;
  /** The secret of a claim link to a stranger's order. */
  claimToken(): Promise<string>;
  /** A paid booking, then cancelled: a refund is due. */
  refundDue(): Promise<number>;
  ownBooking(c: Cell): Promise<number>;
  member(): Promise<number>;
  submission(): Promise<number>;
  post(): Promise<number>;
  /** A file in the week-4 work of `learner` (default) or `learner2`. */
  file(who?: 'learner' | 'learner2'): Promise<string>;
  clearFiles(who?: 'learner' | 'learner2'): Promise<void>;
  certificate(): Promise<string>;
  learnerEmail(): Promise<string>;
  linkToken(email?: string): Promise<string>;
  feedToken(): Promise<string>;
  /** A new course with a valid draft, authored by this cohort's instructor; its slug. */
  authoredCourse(): Promise<string>;
}

function freshHelpers(w: World, o: Objects): Fresh {
  const app = w.t.app;
  const admin = apiAs(app, w.people.admin.token);
  const learner = apiAs(app, w.people.learner.token);
  const must = (res: LightMyRequestResponse, what: string) => {
    if (res.statusCode >= 300) throw new Error(`setup ${what}: ${res.statusCode} ${res.body.slice(0, 300)}`);
    return res.statusCode === 204 ? null : res.json();
  };
  const learnerInA = () => enrolLearner(w.t, w.cohortA, 'Fresh Learner');
  const fresh: Fresh = {
    async booking() {
      return must(await admin('POST', `/api/v1/cohorts/${w.cohortA}/bookings`, { email: unique('stranger'), name: 'Stan Ger', kind: 'standalone' }), 'booking').id;
    },
    async order(c, paid) {
      const email = c ? (c.me?.email ?? unique('anon-buyer')) : unique('stranger-buyer');
      const cohort = must(await admin('POST', '/api/v1/cohorts', { course: 'strategic-planning', startDate: '2026-05-04', timezone: 'Europe/London', capacity: 5, instructors: [] }), 'cohort').id;
      const o = must(await admin('POST', `/api/v1/cohorts/${cohort}/orders`, { buyer: { email, name: 'Bea Buyer' }, quantity: 2, payment: 'invoice' }), 'order');
      if (paid) must(await admin('POST', `/api/v1/orders/${o.id}/payment`, { reference: 'BACS-1' }), 'order payment');
      const docs = must(await admin('GET', `/api/v1/orders/${o.id}/documents`), 'documents');
      return { id: o.id, seatId: o.seats[0].id, invoiceId: docs[0].id };
    },
    async claimToken() {
      const o = await fresh.order();
      return must(await admin('POST', `/api/v1/orders/${o.id}/claim-link`), 'claim link').url.split('/claim/')[1];
    },
    async refundDue() {
      const id = await fresh.booking();
      must(await admin('POST', `/api/v1/bookings/${id}/payments`, { reference: 'INV-9' }), 'payment');
      must(await admin('POST', `/api/v1/bookings/${id}/cancel`, {}), 'cancel');
      return id;
    },
    async ownBooking(c) {
      // A booking under the caller's own address, in a new cohort nobody belongs to.
      const email = c.me?.email ?? unique('anon');
      const cohort = must(await admin('POST', '/api/v1/cohorts', { course: 'strategic-planning', startDate: '2026-05-04', timezone: 'Europe/London', capacity: 5, instructors: [] }), 'cohort').id;
      return must(await admin('POST', `/api/v1/cohorts/${cohort}/bookings`, { email, name: 'Own Booker', kind: 'standalone' }), 'own booking').id;
    },
    async member() {
      return must(await admin('POST', '/api/v1/members', { email: unique('fresh-member') }), 'member').id;
    },
    async submission() {
      const l = await learnerInA();
      const api = apiAs(app, l.token);
      const week = must(await api('GET', `/api/v1/cohorts/${w.cohortA}/weeks/1`), 'week');
      const answers = Object.fromEntries((week.assignment?.prompts ?? []).map((p: { id: string }) => [p.id, 'An answer.']));
      return must(await api('PUT', `/api/v1/cohorts/${w.cohortA}/weeks/1/submission`, { answers, submit: true }), 'submission').id;
    },
    async post() {
      return must(await learner('POST', `/api/v1/threads/${o.threadId}/posts`, { body: 'A post by Lena, to act on.' }), 'post').id;
    },
    async clearFiles(who: 'learner' | 'learner2' = 'learner') {
      const owner = apiAs(app, w.people[who].token);
      const work = await owner('GET', `/api/v1/cohorts/${w.cohortA}/weeks/4/submission`);
      if (work.statusCode === 200) for (const f of work.json().files ?? []) await owner('DELETE', `/api/v1/files/${f.id}`);
    },
    async file(who = 'learner') {
      await fresh.clearFiles(who);
      const res = await app.inject({
        method: 'POST',
        url: `/api/v1/cohorts/${w.cohortA}/weeks/4/submission/files`,
        headers: { authorization: `Bearer ${w.people[who].token}`, 'content-type': 'multipart/form-data; boundary=mx' },
        payload: `--mx\r\nContent-Disposition: form-data; name="file"; filename="plan.pdf"\r\nContent-Type: application/pdf\r\n\r\n${PDF}\r\n--mx--\r\n`,
      });
      return must(res, 'file').id;
    },
    async certificate() {
      const email = await fresh.learnerEmail();
      return must(await admin('POST', `/api/v1/cohorts/${w.cohortA}/certificates`, { email }), 'certificate').code;
    },
    async learnerEmail() {
      return (await learnerInA()).email;
    },
    async linkToken(given?: string) {
      const email = given ?? (await learnerInA()).email;
      // Through the service with its own address, so the pages' per-IP sign-in limit is not spent.
      await w.t.ctx.people.requestSignIn({ email, ip: `198.51.100.${++seq % 250}` });
      const mail = (await w.t.mailsTo(email)).at(-1);
      return /\/sign-in\/([A-Za-z0-9_-]+)/.exec(mail?.text ?? '')![1];
    },
    async feedToken() {
      const url = must(await learner('POST', '/api/v1/calendar-feed'), 'feed').url as string;
      return /\/calendar\/([A-Za-z0-9_-]+)\.ics/.exec(url)![1];
    },
    async authoredCourse() {
      const slug = `authored-${++seq}-${process.pid}`;
      must(await admin('POST', '/api/v1/courses', { slug, title: 'Authored' }), 'course');
      must(await admin('PUT', `/api/v1/courses/${slug}/draft`, oneWeekCourse('Authored')), 'draft');
      must(await admin('POST', `/api/v1/courses/${slug}/authors`, { email: w.people.instructor.email }), 'author');
      return slug;
    },
  };
  return fresh;
}

// ---- running it ----
type Outcome = 'allow' | 'sign in' | 'deny' | string;

/** The class of an answer: allowed (it reached the rules), asked to sign in, or denied (403/404). */
function classify(res: LightMyRequestResponse, api: boolean): Outcome {
  const s = res.statusCode;
  if (s === 401) return 'sign in';
  if (s >= 300 && s < 400 && /\/sign-in(\?|$)/.test(String(res.headers.location ?? ''))) return 'sign in';
  if (s === 403 || s === 404) return 'deny';
  if (s < 400 || s === 409 || s === 422) return 'allow';
  // A page re-rendered with a friendly error was reached by an allowed person.
  if (!api && s === 400) return 'allow';
  if (api && s === 400) return 'invalid';
  return `status ${s}: ${res.body.slice(0, 160)}`;
}

function expected(row: Row, role: MatrixRole): Outcome {
  if (row.expect?.[role]) return row.expect[role]!;
  if (row.allow.includes(role)) return 'allow';
  return role === 'anonymous' ? 'sign in' : 'deny';
}

let w: World;
let o: Objects;
let fresh: Fresh;
const browsers = new Map<MatrixRole, Browser>();

beforeAll(async () => {
  // Week 4 of both cohorts: every week is open, uploads allowed.
  w = await createWorld({ now: '2026-03-25T10:00:00.000Z' });
  o = await seedObjects(w);
  // Room for every booking the cells make, so each stays "awaiting payment" rather than waitlisted.
  await w.t.ctx.cohorts.setCapacity(w.cohortA, 10_000);
  fresh = freshHelpers(w, o);
}, 120_000);

afterAll(async () => w?.close());

/** A browser for a role; sign-out gets a throwaway session so it does not end the shared one. */
async function browserFor(role: MatrixRole, throwaway = false): Promise<Browser> {
  if (role === 'anonymous') {
    const b = new Browser(w.t.app);
    await b.get('/sign-in');
    return b;
  }
  if (throwaway) {
    const b = new Browser(w.t.app);
    await b.get('/sign-in');
    const token = await fresh.linkToken(w.people[role].email);
    b.cookies.set('cc_session', (await w.t.ctx.people.consumeSignIn(token)).sessionToken);
    return b;
  }
  let b = browsers.get(role);
  if (!b) {
    b = await w.browser(role);
    browsers.set(role, b);
  }
  return b;
}

async function send(row: Row, role: MatrixRole, ready: () => void | Promise<void> = () => {}): Promise<LightMyRequestResponse> {
  const [method, template] = row.route.split(' ');
  const me = role === 'anonymous' ? null : w.people[role];
  const built = row.req ? await row.req({ w, o, role, me, fresh }) : {};
  const url = built.url ?? fillPath(template, defaultParams(template));
  if (isApi(template) || template === '/.well-known/cohort-course/keys.json') {
    const headers: Record<string, string> = me ? { authorization: `Bearer ${me.token}` } : {};
    await ready();
    if (built.file) {
      headers['content-type'] = 'multipart/form-data; boundary=mx';
      const payload = `--mx\r\nContent-Disposition: form-data; name="file"; filename="${built.file.name}"\r\nContent-Type: ${built.file.type}\r\n\r\n${built.file.content}\r\n--mx--\r\n`;
      return w.t.app.inject({ method: method as 'POST', url, headers, payload });
    }
    return w.t.app.inject({ method: method as 'POST', url, headers, payload: built.json as never });
  }
  const browser = await browserFor(role, row.throwaway);
  if (method === 'GET') {
    await ready();
    return browser.get(url);
  }
  const token = csrfFrom((await browser.get('/sign-in')).body) ?? csrfFrom((await browser.get('/profile')).body);
  await ready();
  return browser.post(url, built.form ?? {}, { csrf: token });
}

/** This cohort's objects for a template's parameters. */
function defaultParams(template: string): Record<string, string | number> {
  return {
    id: idFor(template),
    n: 1,
    threadId: o.threadId,
    postId: o.postId,
    fileId: o.fileId ?? 'none',
    code: o.certificateCode,
    slug: 'strategic-planning',
    token: o.feedToken ?? 'none',
    file: `${o.certificateCode}.pdf`,
  };
}

function idFor(template: string): number | string {
  const resource = /\/([a-z-]+)\/:id/.exec(template)?.[1];
  switch (resource) {
    case 'bookings':
      return o.bookingId;
    case 'sessions':
      return o.sessionId;
    case 'submissions':
      return o.submissionId;
    case 'threads':
      return o.threadId;
    case 'posts':
      return o.postId;
    case 'members':
      return o.memberId;
    case 'files':
      return o.fileId ?? 'none';
    default:
      return w.cohortA;
  }
}

describe('authorization matrix', () => {
  it('has a row for every route the app serves (and none for routes that are gone)', async () => {
    const served = listRoutes(w.t.app).map((r) => `${r.method} ${r.path.replace(/(:[A-Za-z0-9_]+)\([^)]*\)/g, '$1')}`);
    const inTable = new Set(MATRIX.map((r) => r.route));
    const missing = served.filter((k) => !inTable.has(k));
    expect(missing, `routes with no row in the authorization matrix (add them to MATRIX in ${import.meta.url.split('/').pop()})`).toEqual([]);
    const servedSet = new Set(served);
    expect(MATRIX.map((r) => r.route).filter((k) => !servedSet.has(k)), 'rows for routes the app no longer serves').toEqual([]);
    // The OpenAPI document is the integrators' list: every operation in it must be in the table too.
    const doc = (await w.t.app.inject('/api/v1/openapi.json')).json();
    const documented = Object.entries<Record<string, unknown>>(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops)
        .filter((m) => ['get', 'post', 'put', 'patch', 'delete'].includes(m))
        .map((m) => `${m.toUpperCase()} ${openApiToFastify(path)}`),
    );
    expect(documented.filter((k) => !inTable.has(k)), 'OpenAPI operations missing from the matrix').toEqual([]);
  });

  it('every route × every role gets exactly the expected allow / sign-in / deny', async () => {
    const mismatches: string[] = [];
    const unsafeGets = new Set<string>();
    const guard = await WriteGuard.install(w.t.ctx.database);
    let cells = 0;
    for (const row of MATRIX) {
      for (const role of ROLES) {
        const want = expected(row, role);
        let got: Outcome;
        try {
          const [method, template] = row.route.split(' ');
          // Setup writes happen in req(); build first, then watch only the request itself.
          const res = await send(row, role, () => guard.before());
          if (method === 'GET') for (const table of await guard.changed()) unsafeGets.add(`${method} ${template} wrote ${table}`);
          got = classify(res, isApi(row.route.split(' ')[1]));
          if (process.env.RELIABILITY_PROFILE && got === 'allow' && res.statusCode >= 400) console.log(`[allow-with-${res.statusCode}] ${row.route} ${row.variant ?? ''} as ${role}: ${res.body.replace(/\s+/g, ' ').slice(0, 200)}`);
        } catch (err) {
          got = `error: ${(err as Error).message}`;
        }
        cells += 1;
        if (got !== want) mismatches.push(`${row.route}${row.variant ? ` (${row.variant})` : ''} as ${role}: expected ${want}, got ${got}`);
      }
    }
    console.log(`[matrix] ${MATRIX.length} rows (${new Set(MATRIX.map((r) => r.route)).size} routes) × ${ROLES.length} roles = ${cells} cells checked`);
    expect(mismatches, `${mismatches.length} of ${cells} cells differ from the table`).toEqual([]);
    // Safe methods stay safe: a link followed (or prefetched, or forged cross-site) changes nothing.
    expect([...unsafeGets].sort(), 'GET requests that wrote to the database').toEqual([]);
  });
});
