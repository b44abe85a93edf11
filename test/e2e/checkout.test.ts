// Checkout in a real browser: a team lead books places by card through the Stripe stand-in, gives seats and a claim link; axe on every page, one pass on a phone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { chapterHooks, closeEveryone, launchBrowser, Person, startServer, type E2EServer } from './harness.js';
import { startStripeServer, type StripeServer } from '../helpers/stripe-server.js';
import type { Cohort } from '../../modules/cohorts/service.js';

let server: E2EServer;
let stripe: StripeServer;
let browser: Browser;
let cohort: Cohort;
let lead: Person;
let orderId = 0;
let claimUrl = '';

const people = {
  admin: { email: 'ola.admin@cohort-course.example', name: 'Ola Admin' },
  instructor: { email: 'ike.instructor@cohort-course.example', name: 'Ike Instructor' },
  lead: { email: 'tess.lead@lakeside-libraries.example', name: 'Tess Team-Lead' },
  ann: { email: 'ann.colleague@lakeside-libraries.example', name: 'Ann Colleague' },
  ben: { email: 'ben.colleague@lakeside-libraries.example', name: 'Ben Colleague' },
  cy: { email: 'cy.colleague@lakeside-libraries.example', name: 'Cy Colleague' },
  solo: { email: 'sol.solo@example.net', name: 'Sol Solo' },
};

beforeAll(async () => {
  // The stand-in reads the app's clock (its Checkout expiry window and event signatures are checked against it).
  stripe = await startStripeServer({ webhookSecret: 'whsec_e2e_checkout', now: () => server.clock.now() });
  [server, browser] = await Promise.all([startServer({ now: '2026-02-16T10:00:00.000Z', payments: { stripe: stripe.settings } }), launchBrowser()]);
  // The hosted Pay page delivers checkout.session.completed to the running app before sending the browser back.
  stripe.webhookUrl = `${server.baseUrl}/api/v1/payments/stripe/webhook`;
  await server.ctx.people.upsert({ ...people.admin, role: 'admin' });
  await server.ctx.people.upsert({ ...people.instructor, role: 'instructor' });
  cohort = await server.ctx.cohorts.create({ course: 'strategic-planning', startDate: '2026-03-02', timezone: 'Europe/London', capacity: 10, instructors: [people.instructor.email] });
});
afterAll(async () => {
  await closeEveryone();
  await browser?.close();
  await server?.close();
  await stripe?.close();
});
// Chapters share people and data (see chapterHooks).
chapterHooks();

const pathOf = (p: Person) => new URL(p.page.url()).pathname;

describe('booking places for a team, in a real browser', () => {
  it('a team lead books 3 places by card, pays on the Pay page and is back on the order page as paid', async () => {
    lead = await Person.open(browser, server, 'team lead');
    const page = lead.page;
    await lead.goto('/courses/strategic-planning');
    await lead.clickAndLoad(page.getByRole('link', { name: /Book a place/ }).first(), 200);
    await lead.clickAndLoad(page.getByRole('link', { name: 'Book places for your team' }), 200);
    expect(pathOf(lead)).toBe(`/cohorts/${cohort.id}/order`);
    await page.getByRole('heading', { level: 1, name: /Book places for your team/ }).waitFor();
    await page.getByText('Price per place').waitFor();

    await page.getByLabel('Number of places').fill('3');
    await page.getByLabel('By card now').check();
    await page.getByLabel('Your name').fill(people.lead.name);
    await page.getByLabel('Your email address').fill(people.lead.email);
    await page.getByLabel(/^Organisation/).fill('Lakeside Libraries');
    await page.getByLabel(/^Billing address/).fill('1 Quay Street\nLakeside LK1 2AB');
    await page.getByLabel(/^Purchase-order number/).fill('PO-3141');
    await page.getByLabel('Name of the person in seat 1').fill(people.ann.name);
    await page.getByLabel('Email address of the person in seat 1').fill(people.ann.email);
    // The form's 303 goes to another origin (Stripe Checkout): the CSP's form-action must let Chromium follow it.
    await lead.clickAndLoad(page.getByRole('button', { name: 'Book and continue' }), 200);
    expect(page.url()).toMatch(new RegExp(`^${stripe.url}/pay/cs_test_`));
    await page.getByText('GBP 585.00', { exact: true }).waitFor();

    await lead.clickAndLoad(page.getByRole('button', { name: 'Pay' }), 200);
    expect(pathOf(lead)).toMatch(/^\/orders\/\d+$/);
    orderId = Number(/\/orders\/(\d+)/.exec(page.url())![1]);
    // Signed out: thanked, and nothing of the order shown to whoever has the URL.
    await page.getByRole('heading', { level: 1, name: 'Thank you: payment received' }).waitFor();
    expect(await page.getByText('Lakeside').count()).toBe(0);
    await lead.clickAndLoad(page.getByRole('link', { name: 'Sign in to give your seats' }), 200);
    await lead.signIn(people.lead.email, { from: page.url() });
    expect(pathOf(lead)).toBe(`/orders/${orderId}`);
    await page.getByRole('heading', { level: 1, name: `Order ${orderId}: Strategic Planning with Purpose` }).waitFor();
    await page.getByText('Paid and confirmed').waitFor();
    await page.getByRole('link', { name: /^Receipt .* \(PDF\)$/ }).waitFor();
    await page.getByRole('link', { name: /^Invoice .* \(PDF\)$/ }).waitFor();
    // Ann, named on the form, is booked and told.
    await server.waitForMail(people.ann.email, 'Your place is confirmed: Strategic Planning with Purpose');
    expect(await server.ctx.cohorts.learners(cohort.id)).toHaveLength(1);
  });

  it('the team lead gives a seat to a colleague and makes a claim link for the last one', async () => {
    const page = lead.page;
    const seat2 = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Seat 2' }) });
    await seat2.getByLabel('Name for seat 2').fill(people.ben.name);
    await seat2.getByLabel('Email address for seat 2').fill(people.ben.email);
    await lead.clickAndLoad(seat2.getByRole('button', { name: /Give this seat/ }), 200);
    await page.getByRole('status').filter({ hasText: 'They are booked and enrolled' }).waitFor();
    await page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Seat 2' }) }).getByText('Booked and enrolled').waitFor();
    await server.waitForMail(people.ben.email, 'Your place is confirmed: Strategic Planning with Purpose');

    await lead.clickAndLoad(page.getByRole('button', { name: 'Make a claim link' }), 200);
    claimUrl = await page.getByRole('textbox', { name: 'Claim link' }).inputValue();
    expect(claimUrl).toMatch(new RegExp(`^${server.baseUrl}/claim/[A-Za-z0-9_-]+$`));
  });

  it('on a 390 px phone a colleague takes the last seat from the claim link, and the order form fits too', async () => {
    const cy = await Person.open(browser, server, 'colleague (phone)', { phone: true });
    const page = cy.page;
    await cy.goto(claimUrl);
    await page.getByRole('heading', { level: 1, name: 'Take a seat: Strategic Planning with Purpose' }).waitFor();
    await page.getByText('Tess Team-Lead (Lakeside Libraries) has booked places').waitFor();
    await page.getByLabel('Your name').fill(people.cy.name);
    await page.getByLabel('Email address').fill(people.cy.email);
    await cy.clickAndLoad(page.getByRole('button', { name: 'Take my seat' }), 200);
    await page.getByRole('heading', { level: 1, name: 'Your place is confirmed' }).waitFor();
    await server.waitForMail(people.cy.email, 'Your place is confirmed: Strategic Planning with Purpose');
    // The link now says every seat is taken.
    await cy.goto(claimUrl);
    await page.getByRole('heading', { name: 'Every seat is taken' }).waitFor();
    await cy.goto(`/cohorts/${cohort.id}/order`);
    expect(await page.evaluate(() => window.innerWidth)).toBe(390);
  });

  it('on a phone the team lead’s order page shows every seat taken and fits the screen', async () => {
    const phone = await Person.open(browser, server, 'team lead (phone)', { phone: true });
    await phone.signIn(people.lead.email, { from: `/sign-in?next=${encodeURIComponent(`/orders/${orderId}`)}` });
    expect(pathOf(phone)).toBe(`/orders/${orderId}`);
    expect(await phone.page.getByText('Booked and enrolled').count()).toBe(3);
    await phone.goto('/my');
    await phone.page.getByRole('link', { name: new RegExp(`Order ${orderId}: Strategic Planning with Purpose`) }).waitFor();
  });

  it('booking a single place for yourself still works from the same page', async () => {
    const solo = await Person.open(browser, server, 'solo booker');
    const page = solo.page;
    await solo.goto(`/cohorts/${cohort.id}/book`);
    await page.getByLabel(/^Standalone/).check();
    await page.getByLabel('Your name').fill(people.solo.name);
    await page.getByLabel('Email address').fill(people.solo.email);
    await solo.clickAndLoad(page.getByRole('button', { name: 'Book my place' }), 200);
    await page.getByRole('heading', { level: 1, name: 'Booking received' }).waitFor();
    await server.waitForMail(people.solo.email, /./);
  });

  it('the admin sees the order with its buyer, PO and who holds each seat', async () => {
    const admin = await Person.open(browser, server, 'admin');
    await admin.signIn(people.admin.email);
    await admin.goto(`/cohorts/${cohort.id}/orders`);
    const row = admin.page.getByRole('row').filter({ hasText: people.lead.email });
    await row.getByText('PO PO-3141').waitFor();
    await row.getByText('Paid and confirmed').waitFor();
    for (const p of [people.ann, people.ben, people.cy]) await row.getByText(`${p.name} (${p.email})`).waitFor();
  });
});
