// The bookings module: member list, bookings with capacity and waitlist, payments by invoice; API, pages and panels.
import type { FastifyPluginAsync } from 'fastify';
import { formatDay } from '../../server/time.js';
import { formatMoney } from '../courses/service.js';
import { createBookingService, STATUS_LABELS, type BookingService } from './service.js';
import routes from './routes.js';
import pages from './pages.js';

declare module '../../server/context.js' {
  interface AppContext {
    bookings: BookingService;
  }
}

const STATUS_CLASS = { confirmed: 'status-ok', pending_payment: 'status-warn', waitlisted: 'status-info', cancelled: 'status-bad' } as const;

const bookingsModule: FastifyPluginAsync = async (fastify) => {
  const ctx = fastify.cc;
  const service = createBookingService(ctx);
  ctx.bookings = service;
  // A cohort given more places (or moved) lets its waitlist move up at once, in the same transaction.
  ctx.cohorts.onChange((tx, cohort) => service.fillPlaces(tx, cohort));
  // Client addresses are kept no longer than the booking limit needs them.
  ctx.scheduler.register('bookings:forget-addresses', (now) => void service.forgetAddresses(now));

  // "My courses": the learner's bookings, with a cancel link until the cohort starts.
  ctx.panels.register('my', {
    order: 20,
    render: ({ user, now }) => {
      const items = service
        .listForUser(user.id)
        .map((b) => ({ b, cohort: ctx.cohorts.get(b.cohortId) }))
        // Cancelled bookings stay listed until their cohort would have ended, then drop off.
        .filter(({ b, cohort }) => b.status !== 'cancelled' || now.getTime() < cohort.timeline.endsAt.getTime())
        .map(({ b, cohort }) => {
          const zone = user.timezone ?? cohort.timezone;
          return {
            id: b.id,
            courseTitle: cohort.course.title,
            starts: formatDay(cohort.timeline.startsAt, zone),
            statusLabel: STATUS_LABELS[b.status] + (b.waitlistPosition ? ` (number ${b.waitlistPosition})` : ''),
            statusClass: STATUS_CLASS[b.status],
            price: b.price.amountMinor === 0 ? 'Free (member)' : formatMoney(b.price),
            pending: b.status === 'pending_payment',
            refundDue: b.refund === 'due',
            canCancel: b.status !== 'cancelled' && now.getTime() < cohort.timeline.startsAt.getTime(),
          };
        });
      return items.length ? { partial: 'bookings/my', model: { bookings: items } } : null;
    },
  });

  // The admin dashboard: bookings waiting for payment and refunds due, per cohort.
  ctx.panels.register('admin', {
    order: 30,
    render: ({ user }) => {
      if (user.role !== 'admin') return null;
      const items = service.needingAttention().map((r) => {
        const cohort = ctx.cohorts.get(r.cohortId);
        return { cohortId: r.cohortId, courseTitle: cohort.course.title, startDate: cohort.startDate, pending: r.pending, refundsDue: r.refundsDue };
      });
      return {
        partial: 'bookings/admin',
        model: { items, pendingTotal: items.reduce((n, i) => n + i.pending, 0), refundsTotal: items.reduce((n, i) => n + i.refundsDue, 0) },
      };
    },
  });

  // The cohort's staff page: booking counts, for admins only.
  ctx.panels.register('cohort-staff', {
    order: 40,
    render: ({ access }) => {
      if (access.role !== 'admin') return null;
      return { partial: 'bookings/cohort-staff', model: { cohortId: access.cohort.id, counts: service.counts(access.cohort) } };
    },
  });

  await fastify.register(routes);
  await fastify.register(pages);
};
export default bookingsModule;
