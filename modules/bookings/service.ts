// Bookings: the member list, and booking rules (capacity, waitlist, payment by invoice, cancellation, refunds) with their emails.
// Each use case lives in its own file (members, book, payments, cancel, reads; queue holds what they share); this is the
// module's face to routes, pages, panels and other modules.
import type { Db } from '../../server/db.js';
import type { User } from '../people/service.js';
import type { Cohort } from '../cohorts/service.js';
import type { BookingKind, BookingStatus } from './schema.js';
import type { BookingDeps } from './model.js';
import { addMember, importMembers, listMembers, memberMatch, removeMember } from './members.js';
import { book, forgetAddresses, type BookInput } from './book.js';
import { recordPayment } from './payments.js';
import { cancel, refund, release } from './cancel.js';
import { counts, csv, get, getFor, history, listForCohort, listForUser, needingAttention, placesLeft } from './reads.js';
import { fillPlaces } from './places.js';
import { orderRow } from './queue.js';
import { cancelOrder, cardRefundsDue, endHold, lapsedHolds, orderByStripe, orderFor, orderRowFor, ordersForBuyer, ordersForCohort, orderView, payOrder, placeOrder, recordRefund, setCheckoutSession, type OrderInput, type Payment } from './orders.js';
import { assignSeat, claimSeat, newClaimLink, orderForClaim, type SeatInput } from './seats.js';

export {
  ACTIVE,
  BOOKING_ADDRESS_KEPT_HOURS,
  BOOKING_ATTEMPTS_PER_ADDRESS_PER_HOUR,
  BOOKINGS_PER_IP_PER_HOUR,
  HOLDS_PLACE,
  IMPORT_MAX_ROWS,
  MOVED_UP_HOLD_HOURS,
  normaliseDomain,
  ORDER_MAX_QUANTITY,
  STATUS_LABELS,
} from './model.js';
export type { BookingDeps, BookingEventView, BookingRow, BookingView, ImportReport, MemberRow, MemberView, OrderRow, OrderView, SeatView } from './model.js';
export type { OrderInput, Payment } from './orders.js';
export type { SeatInput } from './seats.js';
export type { BookInput } from './book.js';
export type { BookingCounts } from './reads.js';

export function createBookingService(deps: BookingDeps) {
  return {
    // ---- member list ----

    /** Add one address or one whole domain to the member list (admin); 409 when it is already there. */
    addMember: (input: { email?: string; domain?: string }, actor: User) => addMember(deps, input, actor),
    /** The member list: domains first, then addresses, alphabetically. */
    listMembers: () => listMembers(deps),
    /** Remove an entry from the member list; existing bookings are not touched. */
    removeMember: (id: number) => removeMember(deps, id),
    /** How an address qualifies as a member (its own entry or its domain), or null. */
    memberMatch: (email: string) => memberMatch(deps.database.db, email),
    /** Import addresses and domains from CSV: every row accepted or refused with a reason, the accepted added at once. */
    importMembers: (text: string, actor: User) => importMembers(deps, text, actor),

    // ---- bookings ----

    /** Book a place: a place held, confirmed or waitlisted (see book.ts for every rule and status code). */
    book: (input: BookInput) => book(deps, input),
    /** Move waitlisted bookings up while the cohort has free places (inside the caller's transaction, e.g. a capacity change). */
    fillPlaces: (tx: Db, cohort: Cohort) => fillPlaces(deps, tx, cohort),
    /** Clear the client address of bookings, and delete booking attempts, older than BOOKING_ADDRESS_KEPT_HOURS (a scheduled job); returns how many rows. */
    forgetAddresses: (now: Date) => forgetAddresses(deps, now),
    /** Record an invoice or purchase-order payment (admin). */
    recordPayment: (id: number, reference: string, actor: User) => recordPayment(deps, id, reference, actor),
    /** Cancel a booking (an admin at any time, the learner until the start); a freed place goes to the waitlist. */
    cancel: (id: number, actor: User, note?: string) => cancel(deps, id, actor, note),
    /** Release an unpaid booking's place (admin): it is cancelled and the first on the waitlist moves up. */
    release: (id: number, actor: User) => release(deps, id, actor),
    /** Mark a cancelled paid booking's refund as made (admin); 409 unless a refund is due. */
    refund: (id: number, actor: User, note?: string) => refund(deps, id, actor, note),

    // ---- orders of several places, and their seats ----

    /** Place an order: its places held as a whole, or the whole order on the waitlist (orders.ts has every rule). */
    placeOrder: (input: OrderInput) => placeOrder(deps, input),
    /** Record an order's payment (an admin's invoice reference, or Stripe's webhook). */
    payOrder: (id: number, payment: Payment) => payOrder(deps, id, payment),
    /** Cancel an order (its buyer until the start, an admin at any time); its seats' bookings end with it. */
    cancelOrder: (id: number, actor: User, note?: string) => cancelOrder(deps, id, actor, note),
    /** End an unpaid order's hold (it ran out, Checkout expired, or Checkout could not start); null when nothing changed. */
    endHold: (id: number, reason: 'expired' | 'payment_failed') => endHold(deps, id, reason),
    /** Unpaid card orders whose hold has run out by `now`. */
    lapsedHolds: (now: Date) => lapsedHolds(deps, now),
    /** Remember an order's Checkout Session. */
    setCheckoutSession: (id: number, sessionId: string) => setCheckoutSession(deps, id, sessionId),
    /** Record money refunded on an order: an amount now, or `{ total }` refunded so far as the provider counts it. */
    recordRefund: (id: number, amount: number | { total: number }) => recordRefund(deps, id, amount),
    /** Card orders with a refund due. */
    cardRefundsDue: () => cardRefundsDue(deps),
    /** Put a person in a seat (the buyer or an admin); reassigning before the start cancels the first person's booking. */
    assignSeat: (orderId: number, seatId: number, input: SeatInput, actor: User) => assignSeat(deps, orderId, seatId, input, actor),
    /** Make (or replace) an order's claim link; returns its secret. */
    newClaimLink: (orderId: number, actor: User) => newClaimLink(deps, orderId, actor),
    /** The order a claim link belongs to (404 when unknown or cancelled). */
    orderForClaim: (token: string) => orderForClaim(deps.database.db, token),
    /** Take the first open seat of a claim link's order. */
    claimSeat: (token: string, input: SeatInput) => claimSeat(deps, token, input),
    /** An order for its buyer or an admin (404 for anyone else). */
    orderFor: (user: User, id: number) => orderFor(deps, user, id),
    /** The order row for its buyer or an admin (404 for anyone else). */
    orderRowFor: (user: User, id: number) => orderRowFor(deps, user, id),
    /** The order row (404 when unknown), for the payment steps that act for the system rather than a person. */
    orderRow: (id: number) => orderRow(deps.database.db, id),
    /** An order as a view, for whoever has been allowed to see it. */
    orderView: (id: number) => orderView(deps.database.db, id),
    /** A cohort's orders (admins). */
    ordersForCohort: (cohortId: number) => ordersForCohort(deps, cohortId),
    /** The orders a person bought. */
    ordersForBuyer: (userId: number) => ordersForBuyer(deps, userId),
    /** The order of a Checkout Session or payment intent, or null. */
    orderByStripe: (ref: { sessionId?: string; paymentIntent?: string }) => orderByStripe(deps, ref),

    // ---- reading ----

    /** One booking (404 when unknown). */
    get: (id: number) => get(deps, id),
    /** A booking for an admin or the learner it belongs to (403 otherwise). */
    getFor: (user: User, id: number) => getFor(deps, user, id),
    /** Who did what to a booking, oldest first. */
    history: (id: number) => history(deps, id),
    /** A cohort's bookings in booking order, optionally filtered by status and kind. */
    listForCohort: (cohortId: number, filter?: { status?: BookingStatus; kind?: BookingKind }) => listForCohort(deps, cohortId, filter),
    /** A learner's own bookings, newest first. */
    listForUser: (userId: number) => listForUser(deps, userId),
    /** Counts by status, places held and places left. */
    counts: (cohort: Cohort) => counts(deps, cohort),
    /** Places still free in a cohort (0 when full). */
    placesLeft: (cohort: Cohort) => placesLeft(deps, cohort),
    /** Bookings awaiting payment and refunds due, per cohort (the admin dashboard). */
    needingAttention: () => needingAttention(deps),
    /** The cohort's bookings as CSV. */
    csv: (cohort: Cohort) => csv(deps, cohort),
  };
}

export type BookingService = ReturnType<typeof createBookingService>;
