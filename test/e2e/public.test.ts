// Browser journeys through the public pages: catalogue, course page, sign-in by emailed link, profile; desktop, keyboard and phone.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { afterJourney, keyboardType, launchBrowser, linkIn, Person, startServer, tabTo, type E2EServer } from './harness.js';

let server: E2EServer;
let browser: Browser;

beforeAll(async () => {
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});
afterEach(async (ctx) => afterJourney(ctx.task));

describe('a visitor in a real browser', () => {
  it('browses the catalogue and opens a course page, with every page passing axe', async () => {
    const visitor = await Person.open(browser, server, 'visitor');
    const page = visitor.page;
    await visitor.goto('/');
    await expect(page.getByRole('heading', { level: 1, name: 'Courses' }).isVisible()).resolves.toBe(true);
    const courseLinks = page.getByRole('main').getByRole('heading', { level: 2 }).getByRole('link');
    expect(await courseLinks.count()).toBeGreaterThanOrEqual(4);
    await visitor.clickAndLoad(page.getByRole('link', { name: /strategic planning/i }).first(), 200);
    expect(new URL(page.url()).pathname).toBe('/courses/strategic-planning');
    await page.getByRole('heading', { level: 2, name: 'Week by week' }).waitFor();
    await page.getByRole('heading', { level: 2, name: 'Dates' }).waitFor();
    // Back to the catalogue through the navigation.
    await visitor.clickAndLoad(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Courses' }));
    expect(new URL(page.url()).pathname).toBe('/');
  });

  it('sees a friendly, accessible page for a course that does not exist', async () => {
    const visitor = await Person.open(browser, server, 'visitor');
    await visitor.goto('/courses/no-such-course', 404);
    await visitor.page.getByRole('heading', { level: 1 }).waitFor();
  });

  it('the skip link takes a keyboard user straight to the main content', async () => {
    const visitor = await Person.open(browser, server, 'visitor');
    const page = visitor.page;
    await visitor.goto('/');
    const skip = page.getByRole('link', { name: 'Skip to main content' });
    await tabTo(page, skip, 1);
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
  });
});

describe('signing in by emailed link in a real browser', () => {
  it('a learner asks for a link, opens it from the .eml, presses "Sign in", and edits their profile', async () => {
    const learner = await server.ctx.people.upsert({ email: 'ada.reader@example.org', name: 'Ada Reader', role: 'learner' });
    const ada = await Person.open(browser, server, 'learner');
    const page = ada.page;
    await ada.signIn(learner.email);
    expect(new URL(page.url()).pathname).toBe('/my');
    await page.getByText(`Signed in as ${learner.email}`).waitFor();

    await ada.clickAndLoad(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Profile' }), 200);
    await page.getByLabel('Your name').fill('Ada L. Reader');
    await page.getByLabel('Show dates and times in').selectOption('America/New_York');
    await ada.clickAndLoad(page.getByRole('button', { name: 'Save' }), 200);
    await page.getByRole('status').filter({ hasText: 'Your profile is saved.' }).waitFor();
    expect(await page.getByLabel('Your name').inputValue()).toBe('Ada L. Reader');
    expect((await server.ctx.people.get(learner.id)).timezone).toBe('America/New_York');

    await ada.clickAndLoad(page.getByRole('button', { name: 'Sign out' }), 200);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sign in' }).waitFor();
  });

  it('a used link is refused with a page that offers a new one', async () => {
    const email = 'once.only@example.org';
    await server.ctx.people.upsert({ email, name: 'Once Only', role: 'learner' });
    const first = await Person.open(browser, server, 'first device');
    await first.signIn(email);
    const mail = (await server.mails()).filter((m) => m.subject === 'Your sign-in link' && JSON.stringify(m.to).includes(email)).at(-1)!;
    const link = linkIn(mail, /\/sign-in\/[A-Za-z0-9_-]+$/);
    const second = await Person.open(browser, server, 'second device');
    await second.goto(link, 400);
    await second.page.getByText('expired or has already been used').waitFor();
  });

  it('keyboard only: a sign-in link can be asked for and used without a mouse', async () => {
    const email = 'keys.only@example.org';
    await server.ctx.people.upsert({ email, name: 'Keys Only', role: 'learner' });
    const kb = await Person.open(browser, server, 'keyboard user');
    const page = kb.page;
    await kb.goto('/');
    await tabTo(page, page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sign in' }));
    await kb.pressAndLoad('Enter');
    await keyboardType(page, page.getByLabel('Email address'), email);
    await kb.pressAndLoad('Enter');
    await page.getByRole('heading', { level: 1, name: 'Check your email' }).waitFor();
    const mail = await server.waitForMail(email, 'Your sign-in link');
    await kb.goto(linkIn(mail, /\/sign-in\/[A-Za-z0-9_-]+$/));
    await tabTo(page, page.getByRole('button', { name: 'Sign in' }));
    await kb.pressAndLoad('Enter');
    expect(new URL(page.url()).pathname).toBe('/my');
    await page.getByText(`Signed in as ${email}`).waitFor();
    await tabTo(page, page.getByRole('button', { name: 'Sign out' }));
    await kb.pressAndLoad('Enter');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sign in' }).waitFor();
  });
});

describe('on a 390 px phone', () => {
  it('the catalogue, a course page, sign-in and the profile fit the screen and pass axe', async () => {
    const email = 'phone.reader@example.org';
    await server.ctx.people.upsert({ email, name: 'Phone Reader', role: 'learner' });
    const phone = await Person.open(browser, server, 'phone', { phone: true });
    await phone.goto('/');
    await phone.goto('/courses/library-partnerships');
    await phone.signIn(email);
    await phone.goto('/profile');
    expect(await phone.page.evaluate(() => window.innerWidth)).toBe(390);
  });
});
