// Bookings: the member list, and booking rules (capacity, waitlist, payment by invoice, cancellation, refunds) with their emails.
import { and, asc, desc, eq, gt, inArray, isNotNull, lt, max, sql } from 'drizzle-orm';
import type { AppContext } from '../../server/context.js';
import type { Db } from '../../server/db.js';
import { BadInput, Conflict, DomainRule, Forbidden, NotFound, TooLarge, TooManyRequests } from '../../server/errors.js';
import { formatDay } from '../../server/time.js';
import { normaliseEmail, type User } from '../people/service.js';
import { users } from '../people/schema.js';
import type { Cohort } from '../cohorts/service.js';
import { formatMoney } from '../courses/service.js';
import type { Money } from '../courses/content.js';
import { parseCsv, toCsv } from './csv.js';
import { bookingEvents, bookings, members, type BookingKind, type BookingStatus, type RefundState } from './schema.js';

export type BookingRow = typeof bookings.$inferSelect;
export type MemberRow = typeof members.$inferSelect;


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
/** Rows a member import may hold. */
export const IMPORT_MAX_ROWS = 10_000;
/**
 * Bookings one client address may make in an hour, admins apart. Each booking creates an account and sends an email,
 * so an open form without a limit could fill a cohort with strangers or mail any address. An office behind one
 * address still books a team of twenty; an admin books larger groups.
 */
export const BOOKINGS_PER_IP_PER_HOUR = 20;
/** A booking's client address is cleared this long after it was made: the limit above needs an hour of them. */
export const BOOKING_ADDRESS_KEPT_HOURS = 24;

/** Public mail providers: a whole-domain membership for these would make everyone a member. */
const PUBLIC_MAIL_DOMAINS = new Set([
  'gmail.com', 'googlemail.com', 'outlook.com', 'hotmail.com', 'hotmail.co.uk', 'live.com', 'live.co.uk', 'msn.com',
  'yahoo.com', 'yahoo.co.uk', 'icloud.com', 'me.com', 'aol.com', 'proton.me', 'protonmail.com', 'gmx.com', 'mail.com',
]);
const DOMAIN = /^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** Lower-case a domain (a leading "@" is allowed) and refuse what is not one, or is a public mail provider. */
export function normaliseDomain(domain: string): string {
  const d = domain.trim().toLowerCase().replace(/^@/, '');
  if (!DOMAIN.test(d)) throw new BadInput(`"${domain.slice(0, 80)}" is not a domain like library.org.`);
  if (PUBLIC_MAIL_DOMAINS.has(d)) throw new BadInput(`${d} is a public mail provider; add its members' single addresses instead.`);
  return d;
}

/** Friendly words for a status, shown beside its code (status is never told by colour alone). */
export const STATUS_LABELS: Record<BookingStatus, string> = {
  pending_payment: 'Awaiting payment',
  confirmed: 'Confirmed',
  waitlisted: 'On the waitlist',
  cancelled: 'Cancelled',
};

const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE';

export function createBookingService(ctx: AppContext) {
  const { clock } = ctx;
  const db = () => ctx.db;
  /** Capacity check and insert must be one write transaction taken up front: BEGIN IMMEDIATE, so two racers queue. */
  const writeTx = <T>(fn: (tx: Db) => T): T => ctx.db.transaction((tx) => fn(tx as unknown as Db), { behavior: 'immediate' });

  // ---- queries ----------------------------------------------------------------------------------------------

  function row(tx: Db, id: number): BookingRow {
    const b = tx.select().from(bookings).where(eq(bookings.id, id)).get();
    if (!b) throw new NotFound('Booking');
    return b;
  }

  function heldCount(tx: Db, cohortId: number): number {
    return (
      tx
        .select({ n: sql<number>`count(*)` })
        .from(bookings)
        .where(and(eq(bookings.cohortId, cohortId), inArray(bookings.status, HOLDS_PLACE)))
        .get()?.n ?? 0
    );
  }

  function waitlist(tx: Db, cohortId: number): BookingRow[] {
    return tx
      .select()
      .from(bookings)
      .where(and(eq(bookings.cohortId, cohortId), eq(bookings.status, 'waitlisted')))
      .orderBy(asc(bookings.queueSeq), asc(bookings.id))
      .all();
  }

  function nextQueueSeq(tx: Db, cohortId: number): number {
    const r = tx.select({ m: max(bookings.queueSeq) }).from(bookings).where(eq(bookings.cohortId, cohortId)).get();
    return (r?.m ?? 0) + 1;
  }

  function positions(tx: Db, cohortId: number): Map<number, number> {
    return new Map(waitlist(tx, cohortId).map((b, i) => [b.id, i + 1]));
  }

  function toView(b: BookingRow, user: { email: string; name: string }, pos: Map<number, number> | null): BookingView {
    return {
      id: b.id,
      cohortId: b.cohortId,
      userId: b.userId,
      email: user.email,
      name: user.name,
      kind: b.kind,
      status: b.status,
      price: { amountMinor: b.priceMinor, currency: 'GBP' },
      paymentReference: b.paymentReference,
      paidAt: b.paidAt,
      certificate: b.certificateWanted,
      waitlistPosition: b.status === 'waitlisted' ? ((pos ?? positions(db(), b.cohortId)).get(b.id) ?? null) : null,
      refund: b.refundState,
      cancelReason: b.cancelReason ?? null,
      createdAt: b.createdAt,
      updatedAt: b.updatedAt,
    };
  }

  function view(tx: Db, id: number): BookingView {
    const r = tx
      .select({ b: bookings, email: users.email, name: users.name })
      .from(bookings)
      .innerJoin(users, eq(users.id, bookings.userId))
      .where(eq(bookings.id, id))
      .get();
    if (!r) throw new NotFound('Booking');
    return toView(r.b, r, null);
  }

  // ---- writes (always inside a transaction) ------------------------------------------------------------------

  function logEvent(tx: Db, b: { id: number }, actorId: number | null, action: string, from: BookingStatus | null, to: BookingStatus, note?: string | null) {
    tx.insert(bookingEvents).values({ bookingId: b.id, actorId, action, fromStatus: from, toStatus: to, note: note ?? null, at: clock.now() }).run();
  }

  function update(tx: Db, id: number, patch: Partial<BookingRow>): BookingRow {
    return tx.update(bookings).set({ ...patch, updatedAt: clock.now() }).where(eq(bookings.id, id)).returning().get();
  }

  /** The facts every booking email shows, in the learner's zone. */
  function mailData(tx: Db, b: BookingRow, cohort: Cohort) {
    const user = tx.select().from(users).where(eq(users.id, b.userId)).get()!;
    const zone = user.timezone ?? cohort.timezone;
    return {
      user,
      data: {
        name: user.name || user.email,
        bookingId: b.id,
        courseTitle: cohort.course.title,
        starts: formatDay(cohort.timeline.startsAt, zone),
        ends: formatDay(cohort.timeline.endsAt, zone),
        zone,
        price: formatMoney({ amountMinor: b.priceMinor, currency: b.currency }),
        free: b.priceMinor === 0,
        member: b.kind === 'member',
        reference: b.paymentReference,
        certificate: b.certificateWanted,
        myUrl: `${ctx.baseUrl}/my`,
        bookUrl: `${ctx.baseUrl}/cohorts/${cohort.id}/book`,
      },
    };
  }

  function mail(tx: Db, b: BookingRow, cohort: Cohort, template: string, subject: string, extra: Record<string, unknown> = {}) {
    const { user, data } = mailData(tx, b, cohort);
    ctx.mailer.enqueue(tx, { to: user.email, subject: `${subject}: ${cohort.course.title}`, template: `bookings-${template}`, data: { ...data, ...extra } });
  }

  /** Where a booking lands now: a place if one is free and nobody queues ahead, else the waitlist. */
  function placeFor(tx: Db, cohort: Cohort, kind: BookingKind, paid: boolean): BookingStatus {
    const free = heldCount(tx, cohort.id) < cohort.capacity && waitlist(tx, cohort.id).length === 0;
    if (!free) return 'waitlisted';
    return kind === 'member' || paid ? 'confirmed' : 'pending_payment';
  }

  /** Move waitlisted bookings up, in order, while places are free (not after the cohort has ended). */
  function fillPlaces(tx: Db, cohort: Cohort): void {
    if (clock.now().getTime() >= cohort.timeline.endsAt.getTime()) return;
    let held = heldCount(tx, cohort.id);
    for (const b of waitlist(tx, cohort.id)) {
      if (held >= cohort.capacity) break;
      const to: BookingStatus = b.kind === 'member' || b.paymentReference ? 'confirmed' : 'pending_payment';
      const moved = update(tx, b.id, { status: to });
      if (to === 'confirmed') ctx.cohorts.enrol(tx, cohort.id, b.userId, b.certificateWanted);
      logEvent(tx, b, null, 'moved_up', 'waitlisted', to, 'A place became free.');
      mail(tx, moved, cohort, 'moved-up', 'A place is yours', { confirmed: to === 'confirmed', pending: to === 'pending_payment' });
      held++;
    }
  }

  // ---- members -----------------------------------------------------------------------------------------------

  function memberView(m: MemberRow, addedBy: string | null): MemberView {
    return { id: m.id, email: m.email, domain: m.domain, addedBy, createdAt: m.createdAt };
  }

  function memberExists(tx: Db, value: { email?: string; domain?: string }): boolean {
    const where = value.email ? eq(members.email, value.email) : eq(members.domain, value.domain!);
    return Boolean(tx.select({ id: members.id }).from(members).where(where).get());
  }

  /** Candidate member domains of an address: its domain and each parent (staff.lib.org → staff.lib.org, lib.org). */
  function domainsOf(email: string): string[] {
    const labels = email.split('@')[1].split('.');
    const out: string[] = [];
    for (let i = 0; i < labels.length - 1; i++) out.push(labels.slice(i).join('.'));
    return out;
  }

  const service = {
    // ---- member list ----

    /** Add one address or one whole domain to the member list (admin); 409 when it is already there. */
    addMember(input: { email?: string; domain?: string }, actor: User): MemberView {
      if (Boolean(input.email) === Boolean(input.domain)) throw new BadInput('Send either email or domain (one of them).');
      const value = input.email ? { email: normaliseEmail(input.email) } : { domain: normaliseDomain(input.domain!) };
      try {
        const m = db()
          .insert(members)
          .values({ email: value.email ?? null, domain: value.domain ?? null, addedBy: actor.id, createdAt: clock.now() })
          .returning()
          .get();
        return memberView(m, actor.email);
      } catch (err) {
        if (isUniqueViolation(err)) throw new Conflict(`${value.email ?? value.domain} is already on the member list.`);
        throw err;
      }
    },

    /** The member list: domains first, then addresses, alphabetically. */
    listMembers(): MemberView[] {
      return db()
        .select({ m: members, addedBy: users.email })
        .from(members)
        .leftJoin(users, eq(users.id, members.addedBy))
        .orderBy(sql`${members.domain} is null`, asc(members.domain), asc(members.email))
        .all()
        .map((r) => memberView(r.m, r.addedBy));
    },

    /** Remove an entry from the member list; existing bookings are not touched. */
    removeMember(id: number): void {
      const r = db().delete(members).where(eq(members.id, id)).run();
      if (r.changes === 0) throw new NotFound('Member entry');
    },

    /** How an address qualifies as a member (its own entry or its domain), or null. */
    memberMatch(email: string): { by: 'email' | 'domain'; value: string } | null {
      const e = normaliseEmail(email);
      if (memberExists(db(), { email: e })) return { by: 'email', value: e };
      const d = db().select({ domain: members.domain }).from(members).where(inArray(members.domain, domainsOf(e))).get();
      return d?.domain ? { by: 'domain', value: d.domain } : null;
    },

    /**
     * Import addresses and domains from CSV (one per row; a header row naming an `email` or `domain` column is
     * optional). Every row is accepted or refused with a reason; accepted rows are added in one transaction.
     */
    importMembers(csv: string, actor: User): ImportReport {
      const rows = parseCsv(csv);
      if (rows.length > IMPORT_MAX_ROWS + 1) throw new TooLarge(`The file has ${rows.length} rows; import at most ${IMPORT_MAX_ROWS} at a time.`);
      const report: ImportReport = { accepted: [], refused: [] };
      let emailCol = 0;
      let domainCol = -1;
      let start = 0;
      const head = (rows[0] ?? []).map((c) => c.trim().toLowerCase());
      if (head.some((c) => /^(e-?mail( address)?|address|domain|member)$/.test(c)) && !head.some((c) => c.includes('@') || c.includes('.'))) {
        emailCol = head.findIndex((c) => /^(e-?mail( address)?|address|member)$/.test(c));
        domainCol = head.indexOf('domain');
        start = 1;
      }
      const seen = new Map<string, number>();
      const now = clock.now();
      db().transaction((tx) => {
        for (let i = start; i < rows.length; i++) {
          const line = i + 1;
          const cells = rows[i];
          const raw = ((emailCol >= 0 ? cells[emailCol] : '') || (domainCol >= 0 ? cells[domainCol] : '') || '').trim();
          if (!raw) {
            if (cells.some((c) => c.trim())) report.refused.push({ row: line, value: cells.join(',').slice(0, 200), reason: 'no address or domain in the expected column' });
            continue;
          }
          const value = raw.slice(0, 300);
          const isEmail = /^[^@]+@/.test(raw);
          let norm: { email?: string; domain?: string };
          try {
            norm = isEmail ? { email: normaliseEmail(raw) } : { domain: normaliseDomain(raw) };
          } catch (err) {
            report.refused.push({ row: line, value, reason: isEmail ? 'not a valid email address' : (err as Error).message });
            continue;
          }
          const key = norm.email ?? `@${norm.domain}`;
          if (seen.has(key)) {
            report.refused.push({ row: line, value, reason: `duplicate of row ${seen.get(key)}` });
            continue;
          }
          seen.set(key, line);
          if (memberExists(tx, norm)) {
            report.refused.push({ row: line, value, reason: 'already on the member list' });
            continue;
          }
          tx.insert(members).values({ email: norm.email ?? null, domain: norm.domain ?? null, addedBy: actor.id, createdAt: now }).run();
          report.accepted.push({ row: line, value: norm.email ?? norm.domain!, type: norm.email ? 'email' : 'domain' });
        }
      });
      return report;
    },

    // ---- bookings ----

    /** Move waitlisted bookings up while the cohort has free places (inside the caller's transaction, e.g. a capacity change). */
    fillPlaces(tx: Db, cohort: Cohort): void {
      fillPlaces(tx, cohort);
    },

    /** Clear the client address of bookings made more than BOOKING_ADDRESS_KEPT_HOURS ago (a scheduled job); returns how many. */
    forgetAddresses(now: Date): number {
      const cutoff = new Date(now.getTime() - BOOKING_ADDRESS_KEPT_HOURS * 3_600_000);
      return db()
        .update(bookings)
        .set({ bookedFromIp: null })
        .where(and(isNotNull(bookings.bookedFromIp), lt(bookings.createdAt, cutoff)))
        .run().changes;
    },

    /**
     * Book a place. Anyone until the cohort's endsAt (then 409); an admin at any time. Members must be on the list
     * (422). The learner's account is created if new. Capacity is checked and the row written in one IMMEDIATE
     * transaction, so concurrent bookings for the last place queue and exactly one wins. `ip` is the client's address:
     * bookings by anyone but an admin count toward BOOKINGS_PER_IP_PER_HOUR (429).
     */
    book(input: { cohortId: number; email: string; name: string; kind: BookingKind; certificate?: boolean; actor: User | null; ip?: string }): BookingView {
      const cohort = ctx.cohorts.get(input.cohortId);
      const isAdmin = input.actor?.role === 'admin';
      const now = clock.now();
      if (!isAdmin && now.getTime() >= cohort.timeline.endsAt.getTime()) {
        throw new Conflict(`Bookings for this cohort closed when it ended on ${formatDay(cohort.timeline.endsAt, cohort.timezone)}.`);
      }
      const email = normaliseEmail(input.email);
      const name = input.name.trim().slice(0, 200);
      const standalonePrice = cohort.course.price;
      if (input.kind === 'member' && !service.memberMatch(email)) {
        throw new DomainRule(
          `${email} is not on the member list, so it cannot be booked as a free member place. Book as standalone instead (${formatMoney(standalonePrice)}, paid by invoice or purchase order), or ask your organisation to have its domain added to the member list.`,
        );
      }
      const certificate = input.certificate ?? true;
      const ip = isAdmin ? null : (input.ip ?? null);
      if (ip !== null) {
        const since = new Date(now.getTime() - 3_600_000);
        const recent = db().select({ n: sql<number>`count(*)` }).from(bookings).where(and(eq(bookings.bookedFromIp, ip), gt(bookings.createdAt, since))).get()?.n ?? 0;
        if (recent >= BOOKINGS_PER_IP_PER_HOUR) {
          throw new TooManyRequests(`Too many bookings from your network in the last hour (${BOOKINGS_PER_IP_PER_HOUR}). Try again later, or ask us to book a group for you.`);
        }
      }
      const priceMinor = input.kind === 'member' ? 0 : standalonePrice.amountMinor;
      try {
        const id = writeTx((tx) => {
          const user = ctx.people.ensure(email, name || undefined);
          const active = tx
            .select({ id: bookings.id, status: bookings.status })
            .from(bookings)
            .where(and(eq(bookings.cohortId, cohort.id), eq(bookings.userId, user.id), inArray(bookings.status, ACTIVE)))
            .get();
          if (active) throw new Conflict(`${email} already has a booking for this cohort (${STATUS_LABELS[active.status].toLowerCase()}).`);
          if (ctx.cohorts.roleIn(user, cohort.id) === 'learner') throw new Conflict(`${email} is already enrolled in this cohort.`);
          fillPlaces(tx, cohort);
          const status = placeFor(tx, cohort, input.kind, false);
          const b = tx
            .insert(bookings)
            .values({
              cohortId: cohort.id,
              userId: user.id,
              kind: input.kind,
              status,
              priceMinor,
              currency: 'GBP',
              certificateWanted: certificate,
              queueSeq: nextQueueSeq(tx, cohort.id),
              bookedBy: input.actor?.id ?? null,
              bookedFromIp: ip,
              createdAt: now,
              updatedAt: now,
            })
            .returning()
            .get();
          if (status === 'confirmed') ctx.cohorts.enrol(tx, cohort.id, user.id, certificate);
          const by = input.actor && input.actor.id !== user.id ? `Booked by ${input.actor.email}.` : null;
          logEvent(tx, b, input.actor?.id ?? null, 'booked', null, status, by);
          if (status === 'confirmed') mail(tx, b, cohort, 'member-confirmed', 'Your place is confirmed');
          else if (status === 'pending_payment') mail(tx, b, cohort, 'received', 'Booking received');
          else mail(tx, b, cohort, 'waitlisted', 'You are on the waitlist', { position: positions(tx, cohort.id).get(b.id) });
          return b.id;
        });
        return view(db(), id);
      } catch (err) {
        if (isUniqueViolation(err)) throw new Conflict(`${email} already has a booking for this cohort.`);
        throw err;
      }
    },

    /** One booking (404 when unknown). */
    get(id: number): BookingView {
      return view(db(), id);
    },

    /** A booking for someone allowed to see it: an admin, or the learner it belongs to (403 otherwise). */
    getFor(user: User, id: number): BookingView {
      const b = view(db(), id);
      if (user.role !== 'admin' && b.userId !== user.id) throw new Forbidden('This booking is not yours.');
      return b;
    },

    /** Who did what to a booking, oldest first. */
    history(id: number): BookingEventView[] {
      return db()
        .select({ e: bookingEvents, by: users.email })
        .from(bookingEvents)
        .leftJoin(users, eq(users.id, bookingEvents.actorId))
        .where(eq(bookingEvents.bookingId, id))
        .orderBy(asc(bookingEvents.id))
        .all()
        .map(({ e, by }) => ({ at: e.at, action: e.action, by, from: e.fromStatus, to: e.toStatus as string, note: e.note }));
    },

    /** A cohort's bookings in booking order, optionally filtered by status and kind. */
    listForCohort(cohortId: number, filter: { status?: BookingStatus; kind?: BookingKind } = {}): BookingView[] {
      const conds = [eq(bookings.cohortId, cohortId)];
      if (filter.status) conds.push(eq(bookings.status, filter.status));
      if (filter.kind) conds.push(eq(bookings.kind, filter.kind));
      const pos = positions(db(), cohortId);
      return db()
        .select({ b: bookings, email: users.email, name: users.name })
        .from(bookings)
        .innerJoin(users, eq(users.id, bookings.userId))
        .where(and(...conds))
        .orderBy(asc(bookings.queueSeq), asc(bookings.id))
        .all()
        .map((r) => toView(r.b, r, pos));
    },

    /** A learner's own bookings, newest first. */
    listForUser(userId: number): BookingView[] {
      return db()
        .select({ b: bookings, email: users.email, name: users.name })
        .from(bookings)
        .innerJoin(users, eq(users.id, bookings.userId))
        .where(eq(bookings.userId, userId))
        .orderBy(desc(bookings.createdAt), desc(bookings.id))
        .all()
        .map((r) => toView(r.b, r, null));
    },

    /** Counts by status, places held and places left. */
    counts(cohort: Cohort): Record<BookingStatus, number> & { held: number; placesLeft: number; capacity: number } {
      const rows = db()
        .select({ status: bookings.status, n: sql<number>`count(*)` })
        .from(bookings)
        .where(eq(bookings.cohortId, cohort.id))
        .groupBy(bookings.status)
        .all();
      const by = { pending_payment: 0, confirmed: 0, waitlisted: 0, cancelled: 0 } as Record<BookingStatus, number>;
      for (const r of rows) by[r.status] = r.n;
      const held = by.pending_payment + by.confirmed;
      return { ...by, held, capacity: cohort.capacity, placesLeft: Math.max(0, cohort.capacity - held) };
    },

    /** Places still free in a cohort (0 when full). */
    placesLeft(cohort: Cohort): number {
      return Math.max(0, cohort.capacity - heldCount(db(), cohort.id));
    },

    /** Bookings awaiting payment and refunds due, per cohort (the admin dashboard). */
    needingAttention(): Array<{ cohortId: number; pending: number; refundsDue: number }> {
      const rows = db()
        .select({
          cohortId: bookings.cohortId,
          pending: sql<number>`sum(case when ${bookings.status} = 'pending_payment' then 1 else 0 end)`,
          refundsDue: sql<number>`sum(case when ${bookings.refundState} = 'due' then 1 else 0 end)`,
        })
        .from(bookings)
        .where(sql`${bookings.status} = 'pending_payment' or ${bookings.refundState} = 'due'`)
        .groupBy(bookings.cohortId)
        .orderBy(asc(bookings.cohortId))
        .all();
      return rows.map((r) => ({ cohortId: r.cohortId, pending: Number(r.pending), refundsDue: Number(r.refundsDue) }));
    },

    /**
     * Record an invoice or purchase-order payment (admin). Awaiting payment → confirmed and enrolled; waitlisted →
     * stays waitlisted, paid, and is confirmed when it moves up; released unpaid → back as confirmed when a place
     * is free, else at the end of the waitlist. 409 for member bookings and anything already paid or cancelled.
     */
    recordPayment(id: number, reference: string, actor: User): BookingView {
      const ref = reference.trim();
      if (!ref) throw new BadInput('reference: enter the invoice or purchase-order reference.');
      writeTx((tx) => {
        const b = row(tx, id);
        const cohort = ctx.cohorts.get(b.cohortId);
        if (b.kind === 'member') throw new Conflict('Member bookings are free; there is no payment to record.');
        if (b.paymentReference) throw new Conflict(`Payment is already recorded for this booking (reference ${b.paymentReference}).`);
        const now = clock.now();
        if (b.status === 'pending_payment') {
          const paid = update(tx, id, { status: 'confirmed', paymentReference: ref, paidAt: now });
          ctx.cohorts.enrol(tx, b.cohortId, b.userId, b.certificateWanted);
          logEvent(tx, b, actor.id, 'payment_recorded', b.status, 'confirmed', `Reference ${ref}.`);
          mail(tx, paid, cohort, 'payment-confirmed', 'Payment received, you are enrolled', { enrolled: true });
        } else if (b.status === 'waitlisted') {
          const paid = update(tx, id, { paymentReference: ref, paidAt: now });
          logEvent(tx, b, actor.id, 'payment_recorded', b.status, 'waitlisted', `Reference ${ref}; confirmed when a place frees.`);
          mail(tx, paid, cohort, 'payment-confirmed', 'Payment received', { enrolled: false, position: positions(tx, b.cohortId).get(b.id) });
        } else if (b.status === 'cancelled' && b.cancelReason === 'released') {
          const clash = tx
            .select({ id: bookings.id })
            .from(bookings)
            .where(and(eq(bookings.cohortId, b.cohortId), eq(bookings.userId, b.userId), inArray(bookings.status, ACTIVE)))
            .get();
          if (clash) throw new Conflict(`This person has booked again since (booking ${clash.id}); record the payment there.`);
          fillPlaces(tx, cohort);
          const to = placeFor(tx, cohort, b.kind, true);
          const back = update(tx, id, { status: to, paymentReference: ref, paidAt: now, cancelReason: null, queueSeq: nextQueueSeq(tx, b.cohortId) });
          logEvent(tx, b, actor.id, 'payment_recorded', b.status, to, `Reference ${ref}; the released booking is reinstated.`);
          if (to === 'confirmed') {
            ctx.cohorts.enrol(tx, b.cohortId, b.userId, b.certificateWanted);
            mail(tx, back, cohort, 'payment-confirmed', 'Payment received, you are enrolled', { enrolled: true });
          } else {
            mail(tx, back, cohort, 'payment-confirmed', 'Payment received', { enrolled: false, position: positions(tx, b.cohortId).get(b.id) });
          }
        } else {
          throw new Conflict(b.status === 'cancelled' ? 'This booking is cancelled; book again to take a place.' : 'This booking is already confirmed.');
        }
      });
      return view(db(), id);
    },

    /**
     * Cancel a booking: an admin at any time; the learner themself until the cohort starts (403 for anyone else,
     * 409 after the start). A paid booking gets a refund due. A freed place goes to the first on the waitlist.
     */
    cancel(id: number, actor: User, note?: string): BookingView {
      writeTx((tx) => {
        const b = row(tx, id);
        const cohort = ctx.cohorts.get(b.cohortId);
        const isAdmin = actor.role === 'admin';
        if (!isAdmin && b.userId !== actor.id) throw new Forbidden('Only an admin or the person booked can cancel this booking.');
        if (b.status === 'cancelled') throw new Conflict('This booking is already cancelled.');
        if (!isAdmin && clock.now().getTime() >= cohort.timeline.startsAt.getTime()) {
          throw new Conflict('The course has started, so this booking can no longer be cancelled online. Please contact us.');
        }
        const refund: RefundState = b.paymentReference && b.priceMinor > 0 ? 'due' : 'none';
        const done = update(tx, id, { status: 'cancelled', cancelReason: 'cancelled', refundState: refund });
        if (b.status === 'confirmed') ctx.cohorts.withdraw(tx, b.cohortId, b.userId);
        logEvent(tx, b, actor.id, 'cancelled', b.status, 'cancelled', [note?.trim().replace(/([^.!?])$/, '$1.'), refund === 'due' ? 'Refund due.' : null].filter(Boolean).join(' ') || null);
        mail(tx, done, cohort, 'cancelled', 'Booking cancelled', { refundDue: refund === 'due', released: false, byAdmin: isAdmin && actor.id !== b.userId });
        if (HOLDS_PLACE.includes(b.status)) fillPlaces(tx, cohort);
      });
      return view(db(), id);
    },

    /** Release an unpaid booking's place (admin): it is cancelled and the first on the waitlist moves up. */
    release(id: number, actor: User): BookingView {
      writeTx((tx) => {
        const b = row(tx, id);
        if (b.status !== 'pending_payment') throw new Conflict('Only a booking awaiting payment can be released.');
        const cohort = ctx.cohorts.get(b.cohortId);
        const done = update(tx, id, { status: 'cancelled', cancelReason: 'released' });
        logEvent(tx, b, actor.id, 'released', b.status, 'cancelled', 'Released unpaid.');
        mail(tx, done, cohort, 'cancelled', 'Booking released', { refundDue: false, released: true });
        fillPlaces(tx, cohort);
      });
      return view(db(), id);
    },

    /** Mark a cancelled paid booking's refund as made (admin); 409 unless a refund is due. */
    refund(id: number, actor: User, note?: string): BookingView {
      writeTx((tx) => {
        const b = row(tx, id);
        if (b.refundState !== 'due') throw new Conflict(b.refundState === 'refunded' ? 'This booking is already refunded.' : 'No refund is due on this booking.');
        update(tx, id, { refundState: 'refunded' });
        logEvent(tx, b, actor.id, 'refunded', b.status, b.status, note?.trim() || null);
      });
      return view(db(), id);
    },

    /** The cohort's bookings as CSV (kind, status, price, payment reference and more). */
    csv(cohort: Cohort): string {
      const rows = service.listForCohort(cohort.id);
      return toCsv([
        ['booking_id', 'booked_at', 'name', 'email', 'kind', 'status', 'price', 'currency', 'payment_reference', 'paid_at', 'certificate', 'waitlist_position', 'refund'],
        ...rows.map((b) => [
          b.id,
          b.createdAt.toISOString(),
          b.name,
          b.email,
          b.kind,
          b.status,
          (b.price.amountMinor / 100).toFixed(2),
          b.price.currency,
          b.paymentReference,
          b.paidAt?.toISOString() ?? '',
          b.certificate ? 'yes' : 'no',
          b.waitlistPosition,
          b.refund,
        ]),
      ]);
    },
  };
  return service;
}

export type BookingService = ReturnType<typeof createBookingService>;
