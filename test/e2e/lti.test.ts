// LTI 1.3 in a real browser: an admin registers the stand-in platform on the LTI admin page; a learner launched from
// the platform (login initiation, the platform's auth page posting the id_token back) lands signed in on the cohort's
// home; an instructor's deep-linking launch picks a week and is sent back to the platform. axe on every page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { chapterHooks, closeEveryone, launchBrowser, Person, startServer, type E2EServer } from './harness.js';
import { LTI, startLtiPlatform, type LaunchSpec, type LtiPlatform } from '../helpers/lti-platform.js';
import type { Cohort } from '../../modules/cohorts/service.js';

let server: E2EServer;
let browser: Browser;
let platform: LtiPlatform;
let cohort: Cohort;
let hints = 0;

const people = {
  admin: { email: 'ola.admin@cohort-course.example', name: 'Ola Admin' },
  instructor: { email: 'ike.instructor@cohort-course.example', name: 'Ike Instructor' },
  learner: { email: 'lea.learner@county-libraries.example', name: 'Lea Learner' },
};

beforeAll(async () => {
  [server, browser] = await Promise.all([startServer({ now: '2026-03-02T10:00:00.000Z' }), launchBrowser()]);
  platform = await startLtiPlatform({ now: () => server.clock.now(), toolUrl: server.baseUrl });
  await server.ctx.people.upsert({ ...people.admin, role: 'admin' });
  await server.ctx.people.upsert({ ...people.instructor, role: 'instructor' });
  cohort = await server.ctx.cohorts.create({ course: 'strategic-planning', startDate: '2026-03-02', timezone: 'Europe/London', capacity: 10, instructors: [people.instructor.email] });
  const learner = await server.ctx.people.upsert({ ...people.learner, role: 'learner' });
  await server.ctx.database.transaction((tx) => server.ctx.cohorts.enrol(tx, cohort.id, learner.id, true));
});
afterAll(async () => {
  await closeEveryone();
  await browser?.close();
  await platform?.close();
  await server?.close();
});
// Chapters share people and data (see chapterHooks).
chapterHooks();

/**
 * A launch as the platform starts it: the browser opens our login initiation, which sends it to the platform's auth
 * page; that page (the platform's, not ours: not audited) posts the id_token and state back, as its script would.
 */
async function launchFromPlatform(person: Person, spec: LaunchSpec): Promise<void> {
  const hint = `e2e-hint-${++hints}`;
  platform.prepare(hint, spec);
  const q = new URLSearchParams({ iss: platform.issuer, login_hint: hint, target_link_uri: `${server.baseUrl}/lti/launch`, client_id: platform.clientId, lti_deployment_id: platform.deploymentId });
  const page = person.page;
  await page.goto(`/lti/login?${q}`);
  expect(page.url()).toContain(`${platform.url}/auth`);
  person.audited.add(page.url());
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.evaluate(() => (document.forms[0] as HTMLFormElement).submit())]);
  await person.audit();
}

describe('LTI 1.3 in a real browser', () => {
  it('an admin registers the platform on the LTI admin page', async () => {
    const admin = await Person.open(browser, server, 'admin');
    await admin.signIn(people.admin.email, { from: `/sign-in?next=${encodeURIComponent('/admin/lti')}` });
    const page = admin.page;
    expect(new URL(page.url()).pathname).toBe('/admin/lti');
    const r = platform.registration;
    await page.getByLabel('Issuer').fill(r.issuer);
    await page.getByLabel('Client id').fill(r.clientId);
    await page.getByLabel('Name (optional)').fill(r.name);
    await page.getByLabel('Deployment ids').fill(r.deploymentIds.join('\n'));
    await page.getByLabel('Authorisation (OIDC auth) URL').fill(r.authLoginUrl);
    await page.getByLabel('Access token URL').fill(r.tokenUrl);
    await page.getByLabel('Public key set URL').fill(r.jwksUrl);
    await admin.clickAndLoad(page.getByRole('button', { name: /Register/ }), 200);
    await page.getByText(r.name).first().waitFor();
  });

  it('a learner launched from the platform lands signed in on the cohort home', async () => {
    const learner = await Person.open(browser, server, 'learner (launched)');
    const page = learner.page;
    await launchFromPlatform(learner, { sub: 'moodle-user-17', roles: [LTI.learner], email: people.learner.email, name: people.learner.name, resourceLinkId: 'link-1', custom: { cohort_id: String(cohort.id) } });
    expect(new URL(page.url()).pathname).toBe(`/cohorts/${cohort.id}`);
    await page.getByRole('heading', { level: 1, name: 'Strategic Planning with Purpose' }).waitFor();
    await page.getByText(`Signed in as ${people.learner.email}`).waitFor();
  });

  it('an instructor’s deep-linking launch picks week 2 and is sent back to the platform with a signed link', async () => {
    const teacher = await Person.open(browser, server, 'instructor (deep linking)');
    const page = teacher.page;
    await launchFromPlatform(teacher, { sub: 'moodle-teacher-3', roles: [LTI.instructor], email: people.instructor.email, name: people.instructor.name, messageType: 'LtiDeepLinkingRequest' });
    const options = await page.locator('#choice option').evaluateAll((os) => os.map((o) => ({ value: (o as HTMLOptionElement).value, label: o.textContent ?? '' })));
    const week2 = options.find((o) => /^Week 2/.test(o.label.trim()));
    expect(week2, JSON.stringify(options)).toBeTruthy();
    await page.getByLabel('Cohort or week').selectOption(week2!.value);
    // Without its script the return page waits for a click (as it does for a reader without JavaScript), so axe sees it.
    await page.route('**/lti/auto-submit.js', (route) => route.abort());
    await teacher.clickAndLoad(page.getByRole('button', { name: 'Place the link' }), 200);
    const before = platform.deepLinkResponses.length;
    await Promise.all([page.waitForURL(`${platform.url}/deep-link-return`), page.getByRole('button', { name: 'Continue to the platform' }).click()]);
    teacher.audited.add(page.url());
    expect(platform.deepLinkResponses.length).toBe(before + 1);
    const claims = platform.deepLinkResponses.at(-1)!;
    expect(claims[LTI.contentItems]).toEqual([expect.objectContaining({ type: 'ltiResourceLink', custom: expect.objectContaining({ cohort_id: String(cohort.id), week: '2' }) })]);
  });
});
