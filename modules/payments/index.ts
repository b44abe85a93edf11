// The payments module: card payments through Stripe Checkout, invoices, receipts and credit notes, and the finance export.
import fp from 'fastify-plugin';
import type { PaymentSettings } from './model.js';

declare module '../../server/context.js' {
  interface AppContext {
    /** Seller, Stripe and checkout-hold settings, from the plugin's `payments` option. */
    paymentSettings: PaymentSettings;
  }
}

export default fp(
  async () => {
    // Routes, pages and reactions are added as the checkout is built (issue #22).
  },
  { name: 'payments', dependencies: ['people', 'courses', 'cohorts', 'bookings'] },
);
