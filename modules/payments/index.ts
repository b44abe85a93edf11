// The payments module: checkout of orders (card through Stripe Checkout, or invoice), invoices, receipts and credit
// notes, the finance export; its API, pages and scheduled jobs.
import fp from 'fastify-plugin';
import { infrastructure } from '../../server/infrastructure.js';
import { createPaymentService, type PaymentService } from './service.js';
import { createStripeGateway } from './stripe.js';
import type { PaymentSettings } from './model.js';
import routes from './routes.js';

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
    await fastify.register(routes);
  },
  { name: 'payments', dependencies: ['people', 'courses', 'cohorts', 'bookings'] },
);
