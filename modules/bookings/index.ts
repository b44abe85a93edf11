// The bookings module: member list, bookings with capacity and waitlist, payments by invoice; API, pages and panels.
import { infrastructure } from '../../server/infrastructure.js';
import fp from 'fastify-plugin';
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

export default fp(
  async (fastify) => {
    const ctx = fastify.cc;
    const service = createBookingService({
      ...infrastructure(ctx),
      people: ctx.people,
      courses: ctx.courses,
      cohorts: ctx.cohorts,
    });
    ctx.bookings = service;
    // A cohort given more places (or moved) lets its waitlist move up at once, in the same transaction.
    ctx.events.on('cohort.changed', async (tx, { cohort }) => service.fillPlaces(tx, cohort));
    // Client addresses are kept no longer than the booking limit needs them.
    ctx.scheduler.register('bookings:forget-addresses', async (now) => {
      await service.forgetAddresses(now);
    });

    // "My courses": the learner's bookings, with a cancel link until the cohort starts.
    ctx.panels.register('my', {
      order: 20,
      render: async ({ user, now }) => {
        const items = [];
        for (const b of await service.listForUser(user.id)) {
          const cohort = await ctx.cohorts.get(b.cohortId);
          // Cancelled bookings stay listed until their cohort would have ended, then drop off.
          if (b.status === 'cancelled' && now.getTime() >= cohort.timeline.endsAt.getTime()) continue;
          const zone = user.timezone ?? cohort.timezone;
          items.push({
            id: b.id,
            courseTitle: cohort.course.title,
            starts: formatDay(cohort.timeline.startsAt, zone),
            statusLabel: STATUS_LABELS[b.status] + (b.waitlistPosition ? ` (number ${b.waitlistPosition})` : ''),
            statusClass: STATUS_CLASS[b.status],
            price: b.price.amountMinor === 0 ? 'Free (member)' : formatMoney(b.price),
            pending: b.status === 'pending_payment',
            refundDue: b.refund === 'due',
            canCancel: b.status !== 'cancelled' && now.getTime() < cohort.timeline.startsAt.getTime(),
          });
        }
        return items.length ? { partial: 'bookings/my', model: { bookings: items } } : null;
      },
    });

    // The admin dashboard: bookings waiting for payment and refunds due, per cohort.
    ctx.panels.register('admin', {
      order: 30,
      render: async ({ user }) => {
        if (user.role !== 'admin') return null;
        const items = [];
        for (const r of await service.needingAttention()) {
          const cohort = await ctx.cohorts.get(r.cohortId);
          items.push({ cohortId: r.cohortId, courseTitle: cohort.course.title, startDate: cohort.startDate, pending: r.pending, refundsDue: r.refundsDue });
        }
        return {
          partial: 'bookings/admin',
          model: { items, pendingTotal: items.reduce((n, i) => n + i.pending, 0), refundsTotal: items.reduce((n, i) => n + i.refundsDue, 0) },
        };
      },
    });

    // The cohort's staff page: booking counts, for admins only.
    ctx.panels.register('cohort-staff', {
      order: 40,
      render: async ({ access }) => {
        if (access.role !== 'admin') return null;
        return { partial: 'bookings/cohort-staff', model: { cohortId: access.cohort.id, counts: await service.counts(access.cohort) } };
      },
    });

    await fastify.register(routes);
    await fastify.register(pages);
  },
  { name: 'bookings', dependencies: ['people', 'courses', 'cohorts', 'sessions'] },
);
