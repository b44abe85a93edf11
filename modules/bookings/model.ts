// Bookings' words: the views the API and pages show, the statuses and limits, and what every use case is given.
import { getDomain } from 'tldts';
import type { Infrastructure } from '../../server/infrastructure.js';
import { BadInput } from '../../server/errors.js';
import type { PeopleService } from '../people/service.js';
import type { CourseService } from '../courses/service.js';
import type { CohortService } from '../cohorts/service.js';
import type { Money } from '../courses/content.js';
import type { bookings, members, orders, orderSeats, BookingKind, BookingStatus, OrderStatus, PaymentMethod, RefundState } from './schema.js';

export type BookingRow = typeof bookings.$inferSelect;
export type MemberRow = typeof members.$inferSelect;
export type OrderRow = typeof orders.$inferSelect;
export type SeatRow = typeof orderSeats.$inferSelect;

/** What the bookings module is built from: infrastructure and the services of the modules it uses. */
export interface BookingDeps extends Infrastructure {
  people: PeopleService;
  courses: CourseService;
  cohorts: CohortService;
}

/** A booking as the API returns it and pages show it. */
export interface BookingView {
  id: number;
  cohortId: number;
  userId: number;
  email: string;
  name: string;
  kind: BookingKind;
  status: BookingStatus;
  price: Money;
  paymentReference: string | null;
  paidAt: Date | null;
  certificate: boolean;
  /** 1-based place in the queue while waitlisted, else null. */
  waitlistPosition: number | null;
  refund: RefundState;
  /** 'released' when an admin released it unpaid; 'cancelled' otherwise; null while active. */
  cancelReason: 'cancelled' | 'released' | null;
  /** The order whose seat this booking fills (its buyer paid for it), or null. */
  orderId: number | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A seat of an order: open, assigned to a person (who gets their booking once the order is paid), or booked. */
export interface SeatView {
  id: number;
  seatNo: number;
  email: string | null;
  name: string | null;
  status: 'open' | 'assigned' | 'booked';
  bookingId: number | null;
}

/** An order as the API returns it and pages show it. */
export interface OrderView {
  id: number;
  cohortId: number;
  status: OrderStatus;
  quantity: number;
  payment: PaymentMethod;
  buyer: { id: number; email: string; name: string; organisation: string | null; address: string | null; poNumber: string | null };
  unit: Money;
  total: Money;
  /** 1-based place in the cohort's queue while the order waits, else null. */
  waitlistPosition: number | null;
  /** A card order's hold on its places ends then, unless paid. */
  holdExpiresAt: Date | null;
  stripeSessionId: string | null;
  paymentReference: string | null;
  paidAt: Date | null;
  refund: RefundState;
  refundedMinor: number;
  cancelReason: OrderRow['cancelReason'];
  seats: SeatView[];
  createdAt: Date;
  updatedAt: Date;
}

export interface BookingEventView {
  at: Date;
  action: string;
  by: string | null;
  from: string | null;
  to: string;
  note: string | null;
}

export interface MemberView {
  id: number;
  email: string | null;
  domain: string | null;
  addedBy: string | null;
  createdAt: Date;
}

export interface ImportReport {
  accepted: Array<{ row: number; value: string; type: 'email' | 'domain' }>;
  refused: Array<{ row: number; value: string; reason: string }>;
}

/** Statuses that hold a place in the cohort. */
export const HOLDS_PLACE: BookingStatus[] = ['pending_payment', 'confirmed'];
/** Statuses of a live booking (one per person and cohort). */
export const ACTIVE: BookingStatus[] = ['pending_payment', 'confirmed', 'waitlisted'];
/** The most places one order may buy (a team, not a whole cohort; an admin books larger groups by hand). */
export const ORDER_MAX_QUANTITY = 100;
/**
 * How long an order that moved up from the waitlist holds its places for payment by card: the buyer learns of it by
 * email, so minutes (as at checkout) would be too short.
 */
export const MOVED_UP_HOLD_HOURS = 48;
/** Rows a member import may hold. */
export const IMPORT_MAX_ROWS = 10_000;
/**
 * Booking attempts one client address may make in an hour, admins apart, whatever their answer. Each booking creates
 * an account and sends an email, so an open form without a limit could fill a cohort with strangers or mail any
 * address; and refusals count too, so that trying addresses and cohort ids costs as much as booking. An office behind
 * one address still books a team of twenty; an admin books larger groups.
 */
export const BOOKINGS_PER_IP_PER_HOUR = 20;
/**
 * Booking attempts for one email address in an hour, from anywhere (admins apart): a person books a few cohorts at
 * most, and someone trying an address from many networks, or mailing its owner "you already hold a place", stops here.
 */
export const BOOKING_ATTEMPTS_PER_ADDRESS_PER_HOUR = 5;
/** A booking's client address, and a booking attempt, are cleared this long after they were made: the limits need an hour. */
export const BOOKING_ADDRESS_KEPT_HOURS = 24;

/** Friendly words for a status, shown beside its code (status is never told by colour alone). */
export const STATUS_LABELS: Record<BookingStatus, string> = {
  pending_payment: 'Awaiting payment',
  confirmed: 'Confirmed',
  waitlisted: 'On the waitlist',
  cancelled: 'Cancelled',
};

/** Public mail providers: a whole-domain membership for these would make everyone a member. */
const PUBLIC_MAIL_DOMAINS = new Set([
  'gmail.com', 'googlemail.com', 'outlook.com', 'hotmail.com', 'hotmail.co.uk', 'live.com', 'live.co.uk', 'msn.com',
  'yahoo.com', 'yahoo.co.uk', 'icloud.com', 'me.com', 'aol.com', 'proton.me', 'protonmail.com', 'gmx.com', 'mail.com',
]);
const DOMAIN = /^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
/** The Public Suffix List with its private section: github.io and blogspot.com are suffixes as much as co.uk is. */
const PSL = { allowPrivateDomains: true } as const;

/**
 * Lower-case a domain (a leading "@" is allowed) and refuse what is not one, a public mail provider, or a public
 * suffix (co.uk, org.uk, github.io: anyone can register a name under one, so a member list entry for it would make
 * every company under it a member).
 */
export function normaliseDomain(domain: string): string {
  const d = domain.trim().toLowerCase().replace(/^@/, '');
  if (!DOMAIN.test(d)) throw new BadInput(`"${domain.slice(0, 80)}" is not a domain like library.org.`);
  if (PUBLIC_MAIL_DOMAINS.has(d)) throw new BadInput(`${d} is a public mail provider; add its members' single addresses instead.`);
  if (getDomain(d, PSL) === null) {
    throw new BadInput(`${d} is a public suffix: anyone can register a name under it, so it cannot be a member domain. Add your organisation's own domain instead, such as library.${d}.`);
  }
  return d;
}

/** The registrable domain of a host (lib.co.uk for staff.lib.co.uk), or null when the host is a public suffix itself. */
export function registrableDomain(host: string): string | null {
  return getDomain(host, PSL);
}

