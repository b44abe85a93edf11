// Course authoring in a real browser: an admin creates an empty course and names its author; the instructor writes a
// one-week course from nothing with the editor's forms (details, the week with a worksheet, a live session), previews
// it, publishes it, and it is in the catalogue; a running cohort of it takes version 2 only once its instructor has
// seen what changes and applied it. axe on every page; the week editor once more on a 390 px phone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { chapterHooks, closeEveryone, launchBrowser, Person, startServer, type E2EServer } from './harness.js';

let server: E2EServer;
let browser: Browser;
let author: Person;

const people = {
  admin: { email: 'ola.admin@cohort-course.example', name: 'Ola Admin' },
  author: { email: 'zia.author@cohort-course.example', name: 'Zia Author' },
};
const SLUG = 'cataloguing-zines';

beforeAll(async () => {
  [server, browser] = await Promise.all([startServer({ now: '2026-02-16T10:00:00.000Z' }), launchBrowser()]);
  await server.ctx.people.upsert({ ...people.admin, role: 'admin' });
  await server.ctx.people.upsert({ ...people.author, role: 'instructor' });
});
afterAll(async () => {
  await closeEveryone();
  await browser?.close();
  await server?.close();
});
// Chapters share people and data (see chapterHooks).
chapterHooks();

const pathOf = (p: Person) => new URL(p.page.url()).pathname;

describe('authoring a course in the browser', () => {
  it('an admin creates the course and names its author', async () => {
    const admin = await Person.open(browser, server, 'admin');
    await admin.signIn(people.admin.email, { from: `/sign-in?next=${encodeURIComponent('/teach/courses')}` });
    const page = admin.page;
    expect(pathOf(admin)).toBe('/teach/courses');
    await page.locator('#f-title').fill('Cataloguing Zines');
    await page.locator('#f-slug').fill(SLUG);
    await admin.clickAndLoad(page.getByRole('button', { name: 'Create the course' }), 200);
    expect(pathOf(admin)).toBe(`/teach/courses/${SLUG}`);
    await page.getByText('The course is created').waitFor();
    await page.getByLabel('Add an author by email address').fill(people.author.email);
    await admin.clickAndLoad(page.getByRole('button', { name: 'Add the author' }), 200);
    await page.getByRole('listitem').filter({ hasText: people.author.email }).waitFor();
  });

  it('the author writes the details and a week with a worksheet, previewing the Markdown', async () => {
    author = await Person.open(browser, server, 'author');
    await author.signIn(people.author.email, { from: `/sign-in?next=${encodeURIComponent('/teach')}` });
    const page = author.page;
    await author.clickAndLoad(page.getByRole('link', { name: /Courses you author/ }), 200);
    await author.clickAndLoad(page.getByRole('link', { name: 'Cataloguing Zines' }), 200);
    await page.getByText('Before the draft can be published').waitFor();

    await page.locator('#f-summary').fill('One week on describing small-press publications.');
    await page.locator('#f-description').fill('Zines resist **standard** records. We try three ways in.');
    await page.locator('#f-hoursPerWeek').fill('two');
    await author.clickAndLoad(page.getByRole('button', { name: 'Save the details' }), 400);
    // The problem is named beside its field and the rest of what was typed is kept.
    await page.locator('#f-hoursPerWeek-error').waitFor();
    expect(await page.locator('#f-summary').inputValue()).toBe('One week on describing small-press publications.');
    await page.locator('#f-hoursPerWeek').fill('2');
    await author.clickAndLoad(page.getByRole('button', { name: 'Preview the description' }), 200);
    expect(await page.locator('.markdown-preview strong').textContent()).toBe('standard');
    await author.clickAndLoad(page.getByRole('button', { name: 'Save the details' }), 200);
    await page.getByText('The details are saved in the draft.').waitFor();

    await author.clickAndLoad(page.getByRole('button', { name: 'Add a week' }), 200);
    expect(pathOf(author)).toBe(`/teach/courses/${SLUG}/weeks/1`);
    await page.locator('#f-title').fill('What is a zine?');
    await page.locator('#f-summary').fill('Small press, big variety.');
    await page.locator('#f-markdown').fill('## Start here\n\nBring a zine you *love*.');
    await page.locator('#f-readings-0-title').fill('A zine librarians’ code of ethics');
    await page.locator('#f-readings-0-url').fill('https://example.org/zine-ethics');
    await page.getByLabel('This week has a worksheet').check();
    await page.locator('#f-assignment-title').fill('Describe one zine');
    await page.locator('#f-assignment-instructions').fill('Pick a zine from your collection.');
    await page.locator('#f-assignment-prompts-0-id').fill('title');
    await page.locator('#f-assignment-prompts-0-label').fill('What is its title?');
    await page.locator('#f-assignment-prompts-1-id').fill('maker');
    await page.locator('#f-assignment-prompts-1-label').fill('Who made it?');
    await page.locator('#f-discussion-prompt').fill('Which zine changed your mind?');
    await author.clickAndLoad(page.getByRole('button', { name: 'Preview the Markdown' }), 200);
    expect(await page.locator('.markdown-preview h2').first().textContent()).toBe('Start here');
    await author.clickAndLoad(page.getByRole('button', { name: 'Save week 1' }), 200);
    await page.getByText('Week 1 is saved in the draft.').waitFor();
  });

  it('adds a live session, previews the course as a learner and publishes it; the catalogue lists it', async () => {
    const page = author.page;
    await author.clickAndLoad(page.getByRole('link', { name: 'Live sessions' }).first(), 200);
    await page.locator('#f-sessions-0-title').fill('Show and tell');
    await page.locator('#f-sessions-0-week').fill('1');
    await page.locator('#f-sessions-0-weekday').selectOption('wed');
    await page.locator('#f-sessions-0-time').fill('18:00');
    await page.locator('#f-sessions-0-durationMinutes').fill('60');
    await author.clickAndLoad(page.getByRole('button', { name: 'Save the live sessions' }), 200);
    await page.getByText('The live sessions are saved').waitFor();

    await author.clickAndLoad(page.getByRole('link', { name: 'Preview as a learner' }), 200);
    await page.getByRole('heading', { name: 'Week 1: What is a zine?' }).waitFor();
    await page.getByText('What is its title?').waitFor();
    await page.getByText('Live session: Show and tell').waitFor();

    await author.clickAndLoad(page.getByRole('link', { name: 'Details and weeks' }), 200);
    await page.getByLabel('What changed (optional)').fill('First run');
    await author.clickAndLoad(page.getByRole('button', { name: 'Publish the draft' }), 200);
    expect(pathOf(author)).toBe(`/teach/courses/${SLUG}/versions`);
    await page.getByText('Version 1 is published').waitFor();
    await page.getByRole('cell', { name: 'First run' }).waitFor();

    await author.goto('/');
    await author.clickAndLoad(page.getByRole('link', { name: 'Cataloguing Zines' }), 200);
    await page.getByRole('heading', { level: 1, name: 'Cataloguing Zines' }).waitFor();
    await page.getByText('One week on describing small-press publications.').waitFor();
  });

  it('a running cohort keeps version 1 until its instructor previews version 2 and applies it', async () => {
    const cohort = await server.ctx.cohorts.create({ course: SLUG, startDate: '2026-02-16', timezone: 'Europe/London', capacity: 12, instructors: [people.author.email] });
    const page = author.page;
    await author.goto(`/teach/courses/${SLUG}/weeks/1`);
    await page.locator('#f-title').fill('What is a zine, really?');
    await author.clickAndLoad(page.getByRole('button', { name: 'Save week 1' }), 200);
    await author.goto(`/teach/courses/${SLUG}`);
    await page.getByLabel('What changed (optional)').fill('Sharper week title');
    await author.clickAndLoad(page.getByRole('button', { name: 'Publish the draft' }), 200);
    await page.getByText('Version 2 is published').waitFor();

    await author.goto(`/teach/cohorts/${cohort.id}`);
    await author.clickAndLoad(page.getByRole('link', { name: /version 2 is published/ }), 200);
    await page.getByLabel('See what a version would change').selectOption('2');
    await author.clickAndLoad(page.getByRole('button', { name: 'Show the changes' }), 200);
    await page.getByText('Renamed from “What is a zine?” to “What is a zine, really?”').waitFor();
    expect((await server.ctx.cohorts.get(cohort.id)).courseVersion).toBe(1);
    await author.clickAndLoad(page.getByRole('button', { name: 'Apply version 2 to this cohort' }), 200);
    await page.getByText('This cohort now follows version 2').waitFor();
    expect((await server.ctx.cohorts.get(cohort.id)).courseVersion).toBe(2);
  });

  it('the week editor fits a 390 px phone', async () => {
    const phone = await Person.open(browser, server, 'author (phone)', { phone: true });
    await phone.signIn(people.author.email, { from: `/sign-in?next=${encodeURIComponent(`/teach/courses/${SLUG}/weeks/1`)}` });
    expect(pathOf(phone)).toBe(`/teach/courses/${SLUG}/weeks/1`);
    expect(await phone.page.evaluate(() => window.innerWidth)).toBe(390);
    await phone.goto(`/teach/courses/${SLUG}`);
  });
});
