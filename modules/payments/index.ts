// The payments module: checkout of orders (card through Stripe Checkout, or invoice), invoices, receipts and credit
// notes, the finance export; its API, pages and scheduled jobs.
import fp from 'fastify-plugin';
import { infrastructure } from '../../server/infrastructure.js';
import { createPaymentService, type PaymentService } from './service.js';
import { createStripeGateway } from './stripe.js';
import type { PaymentSettings } from './model.js';
import routes from './routes.js';
import pages, { orderStatus, placesWord } from './pages.js';
import { formatDay } from '../../server/time.js';
import { formatMoney } from '../courses/service.js';

declare module '../../server/context.js' {
  interface AppContext {
    /** Seller, Stripe and checkout-hold settings, from the plugin's `payments` option. */
    paymentSettings: PaymentSettings;
    payments: PaymentService;
  }
}

export default fp(
  async (fastify) => {
    const ctx = fastify.cc;
    const settings = ctx.paymentSettings;
    const service = createPaymentService({
      ...infrastructure(ctx),
      settings,
      bookings: ctx.bookings,
      cohorts: ctx.cohorts,
      gateway: settings.stripe ? createStripeGateway(settings.stripe, ctx.clock) : null,
      log: ctx.log,
    });
    ctx.payments = service;
    // Documents are issued inside the transaction of the order's change, so a number is never used by a change undone.
    ctx.events.on('order.changed', (tx, change) => service.onOrderChanged(tx, change));
    ctx.scheduler.register('payments:release-lapsed-holds', async (now) => {
      await service.releaseLapsedHolds(now);
    });
    ctx.scheduler.register('payments:retry-card-refunds', async () => {
      await service.retryRefunds();
    });

    // "My courses": the orders a person bought for their team, with links to give their seats.
    ctx.panels.register('my', {
      order: 25,
      render: async ({ user, now }) => {
        const orders = [];
        for (const o of await ctx.bookings.ordersForBuyer(user.id)) {
          const cohort = await ctx.cohorts.get(o.cohortId);
          // Cancelled orders stay listed until their cohort would have ended, then drop off.
          if (o.status === 'cancelled' && now.getTime() >= cohort.timeline.endsAt.getTime()) continue;
          const st = orderStatus(o);
          const open = o.status === 'cancelled' ? 0 : o.seats.filter((s) => s.status === 'open').length;
          orders.push({
            id: o.id,
            courseTitle: cohort.course.title,
            starts: formatDay(cohort.timeline.startsAt, user.timezone ?? cohort.timezone),
            statusLabel: st.label,
            statusClass: st.cls,
            places: placesWord(o.quantity),
            total: o.total.amountMinor === 0 ? 'Free' : formatMoney(o.total),
            openSeats: open,
            seatsWord: open === 1 ? 'seat' : 'seats',
          });
        }
        return orders.length ? { partial: 'payments/my', model: { orders } } : null;
      },
    });

    await fastify.register(routes);
    await fastify.register(pages);
  },
  { name: 'payments', dependencies: ['people', 'courses', 'cohorts', 'bookings'] },
);
