// Certificate pages: public verification (valid and revoked in words), the learner's progress panel and choice,
// the instructor's grid and "who is behind" view with nudges, the admin list with issue and revoke forms.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { enrolLearner, insertUser, signInBrowser } from '../helpers/factories.js';
import { Browser } from '../helpers/http.js';
import { certificateNudges, certificates } from '../../modules/certificates/schema.js';
import type { WeekStatus } from '../../modules/certificates/rules.js';
import { formatInstant } from '../../server/time.js';
import { certCohort, LATE_IN_COHORT, type CertCohort } from './helpers.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp({ now: LATE_IN_COHORT });
});
afterEach(async () => t.close());

/** Text of an HTML page without tags, whitespace collapsed. */
function text(html: string): string {
  return html.replace(/<[^>]+>/g, ' ').replace(/&#x27;/g, "'").replace(/&amp;/g, '&').replace(/\s+/g, ' ');
}

/** Fake progress per learner (the other modules are exercised in the journey tests). */
function fake(byUser: Map<number, { weeks: WeekStatus[]; attended: number; posts: number }>) {
  t.ctx.certificates.useSources({
    weekStatuses: async (_tx, _c, u) => (byUser.get(u)?.weeks ?? ['none', 'none', 'none', 'none']).map((status, i) => ({ week: i + 1, title: `Worksheet ${i + 1} — Part ${i + 1}`, status, late: false })),
    attendance: async (_tx, _c, u) => ({ attendedOrWatched: byUser.get(u)?.attended ?? 0, total: 4, missed: [] }),
    posts: async (_tx, _c, u) => byUser.get(u)?.posts ?? 0,
  });
}

async function issue(c: CertCohort, email: string): Promise<string> {
  const res = await c.asAdmin('POST', `/api/v1/cohorts/${c.cohort.id}/certificates`, { email });
  expect(res.statusCode).toBe(201);
  return res.json().code;
}

describe('the public verification page', () => {
  it('says valid in words and shows learner, course, dates, issue date and on time or grace', async () => {
    const c = await certCohort(t, { learnerName: 'Łucja Ó Súilleabháin' });
    const code = await issue(c, c.learner.email);
    const res = await new Browser(t.app).get(`/certificates/${code}`);
    expect(res.statusCode).toBe(200);
    const page = text(res.body);
    expect(page).toContain('Valid certificate');
    expect(page).toContain('✓ This certificate is valid.');
    expect(page).toContain('Łucja Ó Súilleabháin');
    expect(page).toContain('Strategic Planning with Purpose');
    expect(page).toContain('2 March 2026 – 30 March 2026');
    expect(page).toContain('Issued 26 March 2026 (issued by an administrator)');
    expect(page).toContain('On time (by the end of the cohort)');
    expect(res.body).toContain(`href="/certificates/${code}.pdf"`);
    expect(res.body).toContain(`/api/v1/certificates/${code}/credential.json`);
    expect((res.body.match(/<h1>/g) ?? []).length).toBe(1);
  });

  it('says revoked in words (not by colour alone), with the date and reason', async () => {
    const c = await certCohort(t);
    t.clock.set(new Date(c.cohort.timeline.endsAt.getTime() + 86_400_000));
    const code = await issue(c, c.learner.email);
    await c.asAdmin('POST', `/api/v1/certificates/${code}/revoke`, { reason: 'Issued to the wrong person' });
    const page = text((await new Browser(t.app).get(`/certificates/${code}`)).body);
    expect(page).toContain('Revoked certificate');
    expect(page).toContain('✗ This certificate has been revoked and is no longer valid.');
    expect(page).toContain('Reason: Issued to the wrong person');
    expect(page).toContain('✗ Revoked');
    expect(page).toContain('In the grace period');
    expect(page).not.toContain('This certificate is valid');
  });

  it('the public page shows visitors each certificate, and its revocation at once', async () => {
    const c = await certCohort(t);
    t.clock.set(new Date(c.cohort.timeline.endsAt.getTime() + 86_400_000));
    const code = await issue(c, c.learner.email);
    const visitor = new Browser(t.app);
    const first = await visitor.get(`/certificates/${code}`);
    expect(text(first.body)).toContain('This certificate is valid');
    // Another code of another cohort is its own page.
    const other = await certCohort(t, { learnerName: 'Otto Other' });
    const otherCode = await issue(other, other.learner.email);
    expect(text((await visitor.get(`/certificates/${otherCode}`)).body)).toContain('Otto Other');

    await c.asAdmin('POST', `/api/v1/certificates/${code}/revoke`, { reason: 'Issued to the wrong person' });
    const revoked = await visitor.get(`/certificates/${code}`);
    expect(text(revoked.body)).toContain('This certificate has been revoked');

    // A signed-in reader gets their own page (their name in the header).
    const signedIn = await signInBrowser(t, c.learner.email);
    const own = await signedIn.get(`/certificates/${code}`);
    expect(own.body).toContain(`Signed in as ${c.learner.email}`);
  });

  it('an unknown code is a 404 page, and the lookup form finds a code typed in lower case with spaces', async () => {
    const c = await certCohort(t);
    const code = await issue(c, c.learner.email);
    const b = new Browser(t.app);
    const missing = await b.get('/certificates/AAAAAAAAAAAAAAAAAAAAAAAAAA');
    expect(missing.statusCode).toBe(404);
    expect(text(missing.body)).toContain('No certificate has this code.');
    expect((await b.get('/certificates')).statusCode).toBe(200);
    const typed = `${code.slice(0, 10).toLowerCase()} ${code.slice(10)}`;
    const found = await b.get(`/certificates?code=${encodeURIComponent(typed)}`);
    expect(found.statusCode).toBe(303);
    expect(found.headers.location).toBe(`/certificates/${code}`);
    const notFound = await b.get('/certificates?code=nope');
    expect(notFound.statusCode).toBe(404);
    expect(notFound.body).toContain('aria-invalid="true"');
  });
});

describe('the progress panel on the cohort home', () => {
  it('shows the learner what is done and what is missing, the deadline in their zone, and the choice form', async () => {
    const c = await certCohort(t);
    await t.ctx.people.updateProfile(c.learner.user.id, { timezone: 'America/New_York' });
    fake(new Map([[c.learner.user.id, { weeks: ['complete', 'complete', 'needs_revision', 'submitted'], attended: 2, posts: 0 }]]));
    const b = await signInBrowser(t, c.learner.email);
    const res = await b.get(`/cohorts/${c.cohort.id}`);
    expect(res.statusCode).toBe(200);
    const page = text(res.body);
    expect(page).toContain('Your progress towards the certificate');
    expect(page).toContain('2 of 4 complete');
    expect(page).toContain('2 of 4 attended or watched');
    expect(page).toContain('Week 3 worksheet needs revision');
    expect(page).toContain('Week 4 worksheet is waiting for the instructor’s review');
    expect(page).toContain('Attend or watch one more session');
    expect(page).toContain('Post at least once in the discussion');
    // Grace ends Mon 13 April 2026 08:00 in London (BST) = 03:00 in New York.
    expect(formatInstant(c.cohort.timeline.graceEndsAt, 'America/New_York')).toMatch(/^Mon, 13 Apr 2026, 03:00 /);
    expect(page).toContain(`Finish by ${formatInstant(c.cohort.timeline.graceEndsAt, 'America/New_York')}`);
    expect(res.body).toContain(`action="/cohorts/${c.cohort.id}/certificate-preference"`);
    expect(res.body).toMatch(/<label for="certificate-wanted">/);
  });

  it('offers the download once the certificate is issued', async () => {
    const c = await certCohort(t);
    const code = await issue(c, c.learner.email);
    const b = await signInBrowser(t, c.learner.email);
    const res = await b.get(`/cohorts/${c.cohort.id}`);
    expect(text(res.body)).toContain('✓ Certificate issued');
    expect(res.body).toContain(`href="/certificates/${code}.pdf"`);
    expect(res.body).not.toContain('certificate-preference');
    // And "My courses" lists it.
    const my = await b.get('/my');
    expect(text(my.body)).toContain('Your certificates');
    expect(my.body).toContain(`/certificates/${code}.pdf`);
  });

  it('a learner who opted out sees that, and staff see links to the progress views', async () => {
    const c = await certCohort(t);
    await t.ctx.certificates.setWanted(c.cohort.id, c.learner.user.id, false);
    const learner = await signInBrowser(t, c.learner.email);
    expect(text((await learner.get(`/cohorts/${c.cohort.id}`)).body)).toContain('You chose not to receive a certificate for this course.');
    const staff = await signInBrowser(t, c.instructor.email);
    const home = await staff.get(`/cohorts/${c.cohort.id}`);
    expect(home.body).toContain(`href="/teach/cohorts/${c.cohort.id}/behind"`);
    const teach = await staff.get(`/teach/cohorts/${c.cohort.id}`);
    expect(text(teach.body)).toContain('Progress and certificates');
    expect(text(teach.body)).toContain('0 certificates issued · 0 learners still working towards one · 1 not seeking one');
  });

  it('the preference form: bad CSRF is refused, only the cohort’s own learners may post it', async () => {
    const c = await certCohort(t);
    const learner = await signInBrowser(t, c.learner.email);
    expect((await learner.post(`/cohorts/${c.cohort.id}/certificate-preference`, { wanted: '1' }, { csrf: 'forged' })).statusCode).toBe(403);
    const staff = await signInBrowser(t, c.instructor.email);
    expect((await staff.post(`/cohorts/${c.cohort.id}/certificate-preference`, { wanted: '1' }, { fromPage: '/profile' })).statusCode).toBe(403);
    const anon = new Browser(t.app);
    const res = await anon.post(`/cohorts/${c.cohort.id}/certificate-preference`, { wanted: '1' }, { fromPage: '/sign-in' });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toContain('/sign-in?next=');
  });
});

describe('the instructor’s progress grid and "who is behind"', () => {
  it('the grid shows each learner’s weeks in words, sessions, posts and certificate', async () => {
    const c = await certCohort(t, { learnerName: 'Amy Ahead' });
    const behind = await enrolLearner(t, c.cohort.id, 'Bea Behind');
    fake(
      new Map([
        [c.learner.user.id, { weeks: ['complete', 'complete', 'complete', 'submitted'], attended: 3, posts: 2 }],
        [behind.user.id, { weeks: ['complete', 'needs_revision', 'none', 'none'], attended: 1, posts: 0 }],
      ]),
    );
    const b = await signInBrowser(t, c.instructor.email);
    const res = await b.get(`/teach/cohorts/${c.cohort.id}/progress`);
    expect(res.statusCode).toBe(200);
    const page = text(res.body);
    expect(page).toContain('Amy Ahead');
    expect(page).toContain('Waiting for review');
    expect(page).toContain('Needs revision');
    expect(page).toContain('3 of 4');
    expect(res.body).toContain('<th scope="col">Week 4</th>');
    expect(res.body).toContain('<th scope="row">');
  });

  it('"who is behind" lists the furthest first and a nudge emails what is missing with the deadline in the learner’s zone, once a day', async () => {
    const c = await certCohort(t, { learnerName: 'Amy Ahead' });
    const far = await enrolLearner(t, c.cohort.id, 'Zed Far');
    await t.ctx.people.updateProfile(far.user.id, { timezone: 'Asia/Tokyo' });
    const optedOut = await enrolLearner(t, c.cohort.id, 'Olly Out');
    await t.ctx.certificates.setWanted(c.cohort.id, optedOut.user.id, false);
    fake(
      new Map([
        [c.learner.user.id, { weeks: ['complete', 'complete', 'complete', 'submitted'], attended: 3, posts: 1 }],
        [far.user.id, { weeks: ['complete', 'needs_revision', 'none', 'none'], attended: 1, posts: 0 }],
      ]),
    );
    const b = await signInBrowser(t, c.instructor.email);
    const page = await b.get(`/teach/cohorts/${c.cohort.id}/behind`);
    expect(page.statusCode).toBe(200);
    const body = text(page.body);
    expect(body.indexOf('Zed Far')).toBeLessThan(body.indexOf('Amy Ahead'));
    expect(body).toContain('Not seeking a certificate');
    expect(body).toContain('Olly Out');

    const sent = await b.post(`/teach/cohorts/${c.cohort.id}/behind/nudge`, { learner: String(far.user.id) }, { fromPage: `/teach/cohorts/${c.cohort.id}/behind` });
    expect(sent.statusCode).toBe(303);
    const after = await b.get(sent.headers.location as string);
    expect(text(after.body)).toContain('Nudge sent to Zed Far.');
    expect(text(after.body)).toContain('Last nudged');
    const mails = (await t.mailsTo(far.email)).filter((m) => m.subject?.startsWith('What is left for your certificate'));
    expect(mails).toHaveLength(1);
    expect(mails[0].text).toContain('Week 2 worksheet needs revision');
    expect(mails[0].text).toContain('Week 3 worksheet is not submitted yet');
    expect(mails[0].text).toContain('Attend or watch two more sessions');
    expect(mails[0].text).toContain('Post at least once in the discussion');
    // Grace ends Mon 13 April 2026 08:00 in London (BST) = 16:00 in Tokyo.
    expect(formatInstant(c.cohort.timeline.graceEndsAt, 'Asia/Tokyo')).toMatch(/^Mon, 13 Apr 2026, 16:00 /);
    expect(mails[0].text).toContain(`The last moment to finish is ${formatInstant(c.cohort.timeline.graceEndsAt, 'Asia/Tokyo')}.`);

    const again = await b.post(`/teach/cohorts/${c.cohort.id}/behind/nudge`, { learner: String(far.user.id) }, { fromPage: `/teach/cohorts/${c.cohort.id}/behind` });
    expect(again.headers.location).toContain('already=');
    expect((await t.mailsTo(far.email)).filter((m) => m.subject?.startsWith('What is left'))).toHaveLength(1);
    // The next day (cohort's zone) a new nudge may go.
    t.clock.advance({ days: 1 });
    await b.post(`/teach/cohorts/${c.cohort.id}/behind/nudge`, { learner: String(far.user.id) }, { fromPage: `/teach/cohorts/${c.cohort.id}/behind` });
    expect((await t.mailsTo(far.email)).filter((m) => m.subject?.startsWith('What is left'))).toHaveLength(2);
    expect(await t.ctx.db.select().from(certificateNudges).where(eq(certificateNudges.userId, far.user.id))).toHaveLength(2);
  });

  it('nudges are refused (with a friendly page) for someone who opted out, whose certificate was revoked, after the grace end, or not in the cohort', async () => {
    const c = await certCohort(t);
    const optedOut = await enrolLearner(t, c.cohort.id, 'Olly Out');
    await t.ctx.certificates.setWanted(c.cohort.id, optedOut.user.id, false);
    const b = await signInBrowser(t, c.instructor.email);
    const from = { fromPage: `/teach/cohorts/${c.cohort.id}/behind` };
    const out = await b.post(`/teach/cohorts/${c.cohort.id}/behind/nudge`, { learner: String(optedOut.user.id) }, from);
    expect(out.statusCode).toBe(422);
    expect(text(out.body)).toContain('Olly Out chose not to receive a certificate.');
    const stranger = await insertUser(t);
    expect((await b.post(`/teach/cohorts/${c.cohort.id}/behind/nudge`, { learner: String(stranger.user.id) }, from)).statusCode).toBe(400);
    expect((await b.post(`/teach/cohorts/${c.cohort.id}/behind/nudge`, { learner: 'abc' }, from)).statusCode).toBe(400);
    const revokedLearner = await enrolLearner(t, c.cohort.id, 'Rae Revoked');
    const code = await issue(c, revokedLearner.email);
    await c.asAdmin('POST', `/api/v1/certificates/${code}/revoke`, { reason: 'Issued in error' });
    const revoked = await b.post(`/teach/cohorts/${c.cohort.id}/behind/nudge`, { learner: String(revokedLearner.user.id) }, from);
    expect(revoked.statusCode).toBe(422);
    expect(text(revoked.body)).toContain('Rae Revoked’s certificate was revoked');
    t.clock.set(new Date(c.cohort.timeline.graceEndsAt.getTime() + 60_000));
    const late = await b.post(`/teach/cohorts/${c.cohort.id}/behind/nudge`, { learner: String(c.learner.user.id) }, from);
    expect(late.statusCode).toBe(422);
    expect(text(late.body)).toContain('The grace period has ended');
  });

  it('learners and other cohorts’ instructors cannot open the staff views', async () => {
    const c = await certCohort(t);
    const learner = await signInBrowser(t, c.learner.email);
    expect((await learner.get(`/teach/cohorts/${c.cohort.id}/progress`)).statusCode).toBe(403);
    expect((await learner.get(`/teach/cohorts/${c.cohort.id}/behind`)).statusCode).toBe(403);
    const other = await insertUser(t, 'instructor');
    const ob = await signInBrowser(t, other.email);
    expect((await ob.get(`/teach/cohorts/${c.cohort.id}/behind`)).statusCode).toBe(403);
    expect((await ob.get('/teach/cohorts/999999/progress')).statusCode).toBe(404);
    const anon = await new Browser(t.app).get(`/teach/cohorts/${c.cohort.id}/progress`);
    expect(anon.statusCode).toBe(303);
  });
});

describe('the admin certificates page', () => {
  it('lists certificates, issues one by hand and revokes one with a reason', async () => {
    const c = await certCohort(t, { learnerName: 'Nia Reader' });
    const b = await signInBrowser(t, c.admin.email);
    const empty = await b.get('/admin/certificates');
    expect(empty.statusCode).toBe(200);
    expect(text(empty.body)).toContain('No certificates yet.');
    const dash = await b.get('/admin');
    expect(dash.body).toContain('href="/admin/certificates"');

    const issued = await b.post('/admin/certificates/issue', { cohort: String(c.cohort.id), email: c.learner.email }, { fromPage: '/admin/certificates' });
    expect(issued.statusCode).toBe(303);
    const [{ code }] = await t.ctx.db.select().from(certificates).limit(1);
    expect(issued.headers.location).toBe(`/admin/certificates?issued=${code}`);
    const list = await b.get(issued.headers.location as string);
    expect(text(list.body)).toContain(`Certificate ${code} issued.`);
    expect(text(list.body)).toContain('Nia Reader');
    expect(text(list.body)).toContain('✓ Valid');
    expect(list.body).toContain('href="/api/v1/certificates.csv"');

    const noReason = await b.post(`/admin/certificates/${code}/revoke`, { reason: '' }, { fromPage: '/admin/certificates' });
    expect(noReason.statusCode).toBe(400);
    expect(text(noReason.body)).toContain('Give a reason for revoking');

    const revoked = await b.post(`/admin/certificates/${code}/revoke`, { reason: 'Duplicate record' }, { fromPage: '/admin/certificates' });
    expect(revoked.statusCode).toBe(303);
    const after = text((await b.get(revoked.headers.location as string)).body);
    expect(after).toContain('✗ Revoked');
    expect(after).toContain('Duplicate record');
    expect((await b.get(`/certificates/${code}`)).body).toContain('Revoked certificate');
  });

  it('bad issue input re-renders the form with a friendly error', async () => {
    const c = await certCohort(t);
    const b = await signInBrowser(t, c.admin.email);
    const missing = await b.post('/admin/certificates/issue', { cohort: String(c.cohort.id), email: '' }, { fromPage: '/admin/certificates' });
    expect(missing.statusCode).toBe(400);
    expect(text(missing.body)).toContain('Choose a cohort and enter the learner’s email address.');
    const stranger = await b.post('/admin/certificates/issue', { cohort: String(c.cohort.id), email: 'nobody@example.org' }, { fromPage: '/admin/certificates' });
    expect(stranger.statusCode).toBe(422);
    expect(text(stranger.body)).toContain('nobody@example.org is not enrolled in this cohort.');
    expect(stranger.body).toContain('value="nobody@example.org"');
  });

  it('is for admins only', async () => {
    const c = await certCohort(t);
    const b = await signInBrowser(t, c.instructor.email);
    expect((await b.get('/admin/certificates')).statusCode).toBe(403);
    expect((await b.post('/admin/certificates/issue', { cohort: String(c.cohort.id), email: c.learner.email }, { fromPage: '/profile' })).statusCode).toBe(403);
  });
});
