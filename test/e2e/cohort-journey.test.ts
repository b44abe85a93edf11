// The whole product in a real browser: booking (member and standalone), payment, the learner's week on a phone,
// keyboard-only forms, the instructor's work, the clock moving on, and the certificate with its verification page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import {
  chapterHooks,
  api,
  closeEveryone,
  keyboardCheck,
  keyboardChooseRadio,
  keyboardType,
  launchBrowser,
  linkIn,
  Person,
  startServer,
  tabTo,
  type E2EServer,
} from './harness.js';
import type { Cohort } from '../../modules/cohorts/service.js';

// A cohort of "Strategic Planning with Purpose" (4 weeks, release 08:00, sessions Wednesdays 12:30 London,
// certificate: every assignment complete, 3 of 4 sessions, 1 post). Week 1 opens Monday 2 March 2026, 08:00 GMT.
const START = '2026-03-02';
const MEMBER_DOMAIN = 'riverside-libraries.org.uk';

let server: E2EServer;
let browser: Browser;
let cohort: Cohort;
let admin: Person;
let instructor: Person;
/** Sam books standalone and does the whole learner journey on a 390 px phone. */
let sam: Person;
/** Maya books as a member and fills her forms with the keyboard only. */
let maya: Person;
const people = {
  admin: { email: 'ayo.admin@cohort-course.example', name: 'Ayo Admin' },
  instructor: { email: 'ines.instructor@cohort-course.example', name: 'Ines Instructor' },
  sam: { email: 'sam.standalone@example.net', name: 'Sam Ó Súilleabháin' },
  maya: { email: `maya.member@${MEMBER_DOMAIN}`, name: 'Maya Member' },
};

beforeAll(async () => {
  [server, browser] = await Promise.all([startServer({ now: '2026-02-16T10:00:00.000Z' }), launchBrowser()]);
  await server.ctx.people.upsert({ ...people.admin, role: 'admin' });
  await server.ctx.people.upsert({ ...people.instructor, role: 'instructor' });
});
afterAll(async () => {
  await closeEveryone();
  await browser?.close();
  await server?.close();
});
// Chapters share people and data (see chapterHooks).
chapterHooks();

/** The path of the page a person is on. */
const pathOf = (p: Person) => new URL(p.page.url()).pathname;

describe('a cohort from booking to certificate, in a real browser', () => {
  it('the admin signs in by emailed link, creates the cohort and adds a member domain', async () => {
    admin = await Person.open(browser, server, 'admin');
    const page = admin.page;
    await admin.signIn(people.admin.email);
    await admin.clickAndLoad(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }), 200);
    await admin.clickAndLoad(page.getByRole('link', { name: 'New cohort' }), 200);
    await page.getByLabel('Course').selectOption({ label: 'Strategic Planning with Purpose' });
    await page.getByLabel('Start date').fill(START);
    await page.getByLabel('Time zone').selectOption('Europe/London');
    await page.getByLabel('Places').fill('12');
    await page.getByLabel("Instructors' email addresses").fill(people.instructor.email);
    await admin.clickAndLoad(page.getByRole('button', { name: 'Create the cohort' }), 200);
    const id = Number(/\/admin\/cohorts\/(\d+)/.exec(page.url())?.[1]);
    cohort = await server.ctx.cohorts.get(id);
    expect(cohort).toMatchObject({ courseSlug: 'strategic-planning', startDate: START, timezone: 'Europe/London', capacity: 12 });

    await admin.goto('/admin/members');
    await page.getByLabel('Email address or domain').fill(MEMBER_DOMAIN);
    await admin.clickAndLoad(page.getByRole('button', { name: 'Add to the member list' }), 200);
    await page.getByRole('status').filter({ hasText: 'Added to the member list.' }).waitFor();
    await page.getByRole('cell', { name: `Everyone @${MEMBER_DOMAIN}`, exact: true }).waitFor();
  });

  it('a member books a free place from the course page using the keyboard only', async () => {
    maya = await Person.open(browser, server, 'maya (keyboard)');
    const page = maya.page;
    await maya.goto('/courses/strategic-planning');
    await tabTo(page, page.getByRole('link', { name: /Book a place/ }).first());
    await maya.pressAndLoad('Enter');
    expect(pathOf(maya)).toBe(`/cohorts/${cohort.id}/book`);
    await keyboardChooseRadio(page, page.getByLabel('As a member (free)'));
    await keyboardType(page, page.getByLabel('Your name'), people.maya.name);
    await keyboardType(page, page.getByLabel('Email address'), people.maya.email);
    await keyboardCheck(page, page.getByLabel('I would like a certificate of completion'), true);
    await tabTo(page, page.getByRole('button', { name: 'Book my place' }));
    await maya.pressAndLoad('Enter');
    await page.getByRole('heading', { level: 1, name: 'Your place is confirmed' }).waitFor();
    await server.waitForMail(people.maya.email, /./);
  });

  it('a visitor on a phone books a standalone place; it waits for payment', async () => {
    sam = await Person.open(browser, server, 'sam (phone)', { phone: true });
    const page = sam.page;
    await sam.goto('/');
    await sam.clickAndLoad(page.getByRole('link', { name: 'Strategic Planning with Purpose' }), 200);
    await sam.clickAndLoad(page.getByRole('link', { name: /Book a place/ }).first(), 200);
    await page.getByLabel(/^Standalone/).check();
    await page.getByLabel('Your name').fill(people.sam.name);
    await page.getByLabel('Email address').fill(people.sam.email);
    await sam.clickAndLoad(page.getByRole('button', { name: 'Book my place' }), 200);
    await page.getByRole('heading', { level: 1, name: 'Booking received' }).waitFor();
    await page.getByText('Awaiting payment', { exact: false }).first().waitFor();
    await server.waitForMail(people.sam.email, /./);
  });

  it('the admin records the invoice payment and the standalone booking is confirmed', async () => {
    const page = admin.page;
    const mailsBefore = (await server.mails()).filter((m) => JSON.stringify(m.to).includes(people.sam.email)).length;
    await admin.goto(`/admin/cohorts/${cohort.id}/bookings`);
    const row = page.getByRole('row').filter({ hasText: people.sam.email });
    await row.getByRole('textbox', { name: /Invoice or purchase-order reference/ }).fill('INV-2026-0042');
    await admin.clickAndLoad(row.getByRole('button', { name: /Record payment/ }), 200);
    await page.getByRole('status').filter({ hasText: 'Payment recorded.' }).waitFor();
    await page.getByRole('row').filter({ hasText: people.sam.email }).getByText('INV-2026-0042').waitFor();
    // Sam is told the place is confirmed.
    await server.waitForMail(people.sam.email, /./, mailsBefore);
    expect(await server.ctx.cohorts.learners(cohort.id)).toHaveLength(2);
  });

  it('before the start the instructor edits week 1 for this cohort', async () => {
    await server.moveClock('2026-02-27T10:00:00.000Z');
    instructor = await Person.open(browser, server, 'instructor');
    const page = instructor.page;
    await instructor.signIn(people.instructor.email);
    await instructor.clickAndLoad(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Teaching' }), 200);
    await instructor.clickAndLoad(page.getByRole('link', { name: 'Strategic Planning with Purpose' }).first(), 200);
    await page.getByRole('row').filter({ hasText: 'Ines Instructor' }).count();
    await instructor.clickAndLoad(page.getByRole('link', { name: 'Edit week 1' }), 200);
    await page.getByLabel('Title').fill('Week 1 — Why plan, and for whom? (Riverside edition)');
    const text = page.getByLabel("The week's text (Markdown)");
    await text.fill(`${await text.inputValue()}\n\n## A note for this cohort\n\nBring one user comment to the first live session.`);
    await instructor.clickAndLoad(page.getByRole('button', { name: 'Save for this cohort' }), 200);
    await page.getByRole('status').filter({ hasText: 'The week is saved for this cohort.' }).waitFor();
    await page.getByRole('heading', { level: 1, name: /Riverside edition/ }).waitFor();
  });

  it('on a phone the learner signs in by emailed link, opens week 1, saves a draft, submits and posts in the discussion', async () => {
    await server.moveClock('2026-03-02T09:00:00.000Z');
    const page = sam.page;
    await sam.signIn(people.sam.email);
    expect(pathOf(sam)).toBe('/my');
    await sam.clickAndLoad(page.getByRole('link', { name: 'Strategic Planning with Purpose' }).first(), 200);
    await sam.clickAndLoad(page.getByRole('link', { name: /Riverside edition/ }).first(), 200);
    await page.getByRole('heading', { level: 2, name: 'A note for this cohort' }).waitFor();

    // The worksheet: a draft first, then the submission.
    const users = page.getByLabel('Who are your main user groups today');
    await users.fill('Students and older residents; commuters rarely come in.');
    await sam.clickAndLoad(page.getByRole('button', { name: 'Save draft' }), 200);
    await page.getByRole('status').filter({ hasText: 'Your draft is saved.' }).waitFor();
    expect(await page.getByLabel('Who are your main user groups today').inputValue()).toContain('commuters rarely come in');
    await page.getByLabel('What do you already know about their needs').fill('Survey data from 2024 and desk statistics; much is habit.');
    await page.getByLabel('Where do you see the biggest gap').fill('Evening opening and online help.');
    await page.getByLabel('Who did you talk to this week').fill('A commuter at the station branch: she wanted parcel lockers for holds.');
    await sam.clickAndLoad(page.getByRole('button', { name: 'Submit', exact: true }), 200);
    await page.getByRole('status').filter({ hasText: 'Submitted. Your instructor will review it.' }).waitFor();

    // The week's discussion.
    await sam.goto(`/cohorts/${cohort.id}/weeks/1`);
    await sam.clickAndLoad(page.getByRole('link', { name: /Join the discussion/ }), 200);
    await page.getByLabel('Your post').fill('My assumption: **commuters** do not need us. I will test it with a pop-up desk at the station.');
    await sam.clickAndLoad(page.getByRole('button', { name: 'Post' }), 200);
    await page.getByRole('article').filter({ hasText: 'commuters' }).locator('strong').first().waitFor();
  });

  it('a member completes the week 1 worksheet with the keyboard only', async () => {
    const page = maya.page;
    await maya.signIn(people.maya.email);
    await maya.goto(`/cohorts/${cohort.id}/weeks/1`);
    await keyboardType(page, page.getByLabel('Who are your main user groups today'), 'Families and schools.');
    await keyboardType(page, page.getByLabel('What do you already know about their needs'), 'Mostly what teachers tell us.');
    await keyboardType(page, page.getByLabel('Where do you see the biggest gap'), 'Homework help after 6pm.');
    await keyboardType(page, page.getByLabel('Who did you talk to this week'), 'A parent at story time.');
    await tabTo(page, page.getByRole('button', { name: 'Submit', exact: true }));
    await maya.pressAndLoad('Enter');
    await page.getByRole('status').filter({ hasText: 'Submitted. Your instructor will review it.' }).waitFor();
    expect(await page.getByText('Families and schools.').count()).toBeGreaterThan(0);
  });

  it('after the live session the instructor posts the recording, marks attendance and reviews the work', async () => {
    await server.moveClock('2026-03-04T14:00:00.000Z');
    const page = instructor.page;
    await instructor.goto(`/teach/cohorts/${cohort.id}`);
    await instructor.clickAndLoad(page.getByRole('link', { name: /^Edit Live session 1/ }), 200);
    await page.getByLabel('Recording link').fill('https://video.example.org/strategic-planning/session-1');
    await instructor.clickAndLoad(page.getByRole('button', { name: 'Save' }), 200);
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();

    await instructor.clickAndLoad(page.getByRole('link', { name: 'Attendance sheet' }), 200);
    await page.getByRole('checkbox', { name: new RegExp(people.sam.name) }).check();
    await page.getByRole('checkbox', { name: new RegExp(people.maya.name) }).check();
    await instructor.clickAndLoad(page.getByRole('button', { name: 'Save attendance' }), 200);
    await page.getByRole('status').filter({ hasText: 'Attendance saved.' }).waitFor();

    await instructor.goto(`/teach/cohorts/${cohort.id}/reviews`);
    await instructor.clickAndLoad(page.getByRole('link', { name: people.sam.name }), 200);
    await page.getByLabel('Complete').check();
    await page.getByLabel('Overall feedback').fill('Good start: the station conversation is exactly the evidence you need.');
    await instructor.clickAndLoad(page.getByRole('button', { name: 'Save review' }), 200);
    await page.getByRole('status').filter({ hasText: 'Your review is saved and the learner has been emailed.' }).waitFor();
  });

  it('the clock moves on through weeks 2 to 4; the learner earns the certificate, downloads it, and the verification page says valid', async () => {
    const samToken = (await server.ctx.people.createApiToken(people.sam.email)).token;
    const inesToken = (await server.ctx.people.createApiToken(people.instructor.email)).token;
    const sessions = (await api(server, samToken, 'GET', `/api/v1/cohorts/${cohort.id}/sessions`)).json as Array<{ id: number; week: number }>;
    const answersFor: Record<number, Record<string, string>> = {
      2: { stakeholders: 'Staff, council, friends group.', involvement: 'Co-create with the friends group.', workshop: 'A lunchtime workshop in April.' },
      3: { signals: 'Ageing population; remote work; AI search.', vision: 'A library that meets people where they are.', priorities: 'Evenings, outreach, online help.', stop: 'Fewer displays.' },
      4: { 'one-page': 'Purpose, users, three priorities, first actions.', audiences: 'Staff briefing; council paper.', measures: 'Stories and visit counts.' },
    };
    for (const week of [2, 3, 4]) {
      // The week opens on Monday; Sam hands in on Tuesday; the session is on Wednesday; Ines reviews on Thursday.
      const monday = new Date(Date.parse(`${START}T09:00:00Z`) + (week - 1) * 7 * 86_400_000);
      await server.moveClock(new Date(monday.getTime() + 86_400_000));
      const sub = await api(server, samToken, 'PUT', `/api/v1/cohorts/${cohort.id}/weeks/${week}/submission`, { answers: answersFor[week], submit: true });
      expect(sub.json.status).toBe('submitted');
      await server.moveClock(new Date(monday.getTime() + 3 * 86_400_000));
      if (week <= 3) {
        const session = sessions.find((s) => s.week === week)!;
        await api(server, inesToken, 'POST', `/api/v1/sessions/${session.id}/attendance`, { learner: people.sam.email, attended: true });
      }
      await api(server, inesToken, 'POST', `/api/v1/submissions/${sub.json.id}/review`, { outcome: 'complete', feedback: 'Complete.' });
    }
    const progress = (await api(server, samToken, 'GET', `/api/v1/cohorts/${cohort.id}/progress`)).json;
    expect(progress.eligible).toBe(true);
    expect(progress.certificate?.code).toBeTruthy();
    await server.waitForMail(people.sam.email, /certificate/i);

    // On the phone: week 1 shows the instructor's feedback; the cohort home the recording and the certificate;
    // the PDF downloads; the verification page says valid.
    const page = sam.page;
    await sam.goto(`/cohorts/${cohort.id}/weeks/1`);
    await page.getByRole('heading', { name: /Feedback from Ines Instructor/ }).waitFor();
    await page.getByText('the station conversation is exactly the evidence you need').first().waitFor();
    await sam.goto('/my');
    await sam.clickAndLoad(page.getByRole('link', { name: 'Strategic Planning with Purpose' }).first(), 200);
    expect(await page.getByRole('link', { name: /Watch the recording of Live session 1/ }).getAttribute('href')).toBe('https://video.example.org/strategic-planning/session-1');
    const pdf = await sam.download(page.getByRole('link', { name: 'Download your certificate (PDF)' }));
    expect(pdf.body.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdf.filename).toMatch(/\.pdf$/);
    await sam.clickAndLoad(page.getByRole('link', { name: 'Verification page' }).first(), 200);
    await page.getByRole('heading', { level: 1, name: 'Valid certificate' }).waitFor();
    await page.getByText('This certificate is valid.').waitFor();
    await page.getByText(people.sam.name).first().waitFor();

    // Anyone can check it, long after the cohort has ended.
    await server.moveClock('2027-01-10T12:00:00.000Z');
    const employer = await Person.open(browser, server, 'employer');
    await employer.goto(new URL(page.url()).pathname);
    await employer.page.getByRole('heading', { level: 1, name: 'Valid certificate' }).waitFor();
  });
});
