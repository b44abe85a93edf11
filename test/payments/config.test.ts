// Payment settings from the environment: both Stripe keys or neither, VAT and terms parsed, clear errors naming the variable.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.js';

const cwd = mkdtempSync(join(tmpdir(), 'cc-config-'));
const env = (extra: Record<string, string>) => ({ SESSION_SECRET: 's'.repeat(32), ...extra });

describe('payment settings', () => {
  it('are invoice-only with a default seller when nothing is set', () => {
    const { payments } = loadConfig(env({}), cwd);
    expect(payments.stripe).toBeNull();
    expect(payments.holdMinutes).toBe(30);
    expect(payments.seller).toMatchObject({ vatRateBp: null, paymentTermsDays: 30 });
  });

  it('turn card payments on only with both Stripe keys, and refuse one alone', () => {
    expect(loadConfig(env({ STRIPE_SECRET_KEY: 'sk_test_1', STRIPE_WEBHOOK_SECRET: 'whsec_1' }), cwd).payments.stripe).toEqual({ secretKey: 'sk_test_1', webhookSecret: 'whsec_1' });
    expect(() => loadConfig(env({ STRIPE_SECRET_KEY: 'sk_test_1' }), cwd)).toThrow(/both STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET/);
    expect(() => loadConfig(env({ STRIPE_WEBHOOK_SECRET: 'whsec_1' }), cwd)).toThrow(/both STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET/);
  });

  it('read the seller, VAT in percent, terms and the hold, refusing nonsense by name', () => {
    const { payments } = loadConfig(
      env({ SELLER_NAME: 'Library Learning Ltd', SELLER_ADDRESS: '1 Quay St\\nBristol', VAT_RATE: '20', SELLER_VAT_NUMBER: 'GB123456789', INVOICE_PAYMENT_TERMS_DAYS: '14', CHECKOUT_HOLD_MINUTES: '45' }),
      cwd,
    );
    expect(payments.seller).toMatchObject({ name: 'Library Learning Ltd', address: '1 Quay St\nBristol', vatRateBp: 2000, vatNumber: 'GB123456789', paymentTermsDays: 14 });
    expect(payments.holdMinutes).toBe(45);
    expect(loadConfig(env({ VAT_RATE: '12.5' }), cwd).payments.seller.vatRateBp).toBe(1250);
    expect(() => loadConfig(env({ VAT_RATE: 'twenty' }), cwd)).toThrow(/VAT_RATE/);
    expect(() => loadConfig(env({ CHECKOUT_HOLD_MINUTES: '2' }), cwd)).toThrow(/CHECKOUT_HOLD_MINUTES/);
    expect(() => loadConfig(env({ INVOICE_PAYMENT_TERMS_DAYS: '-1' }), cwd)).toThrow(/INVOICE_PAYMENT_TERMS_DAYS/);
  });
});
