// The daily digest of new discussion posts: once per local day, only when there is something new, honouring the profile opt-out.
import nodemailer from 'nodemailer';
import { eq, like } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import type { ParsedMail } from 'mailparser';
import { createWorld, post, startThread, type World } from './setup.js';
import { enrolLearner, signInBrowser } from '../helpers/factories.js';
import { TestSmtp } from '../helpers/smtp.js';
import { outbox } from '../../server/outbox-schema.js';
import { discussionDigests } from '../../modules/discussions/schema.js';
import { onPostgres, sqliteOf } from '../helpers/engine.js';

let w: World;
afterEach(async () => w?.t.close());

const isDigest = (m: ParsedMail) => /new posts? in your cohort discussions$/.test(m.subject ?? '');
async function digestsTo(email: string): Promise<ParsedMail[]> {
  return (await w.t.mailsTo(email)).filter(isDigest);
}

/** Run every scheduled job at the given instant, as the production timer would. */
async function tick(at: string | Date): Promise<void> {
  w.t.clock.set(at);
  await w.t.ctx.scheduler.runDue();
}

describe('the daily digest', () => {
  it('lists new posts by others, grouped by thread, with links, and nothing of the reader’s own', async () => {
    w = await createWorld({ now: '2026-03-02T18:00:00.000Z' });
    const threadId = await startThread(w.a.learner.api, w.a.id, 'Reading group', 'Who wants to read *Good Strategy*?');
    await post(w.a.instructor.api, threadId, 'I do. Chapter 1 by **Friday**.');
    await post(w.a.learner2.api, threadId, 'My own words');
    await tick('2026-03-03T07:00:00.000Z');

    const [mail] = await digestsTo(w.a.learner2.email);
    expect(mail.subject).toBe('2 new posts in your cohort discussions');
    expect(mail.text).toContain('Hello Sam Second,');
    expect(mail.text).toContain('Strategic Planning with Purpose');
    expect(mail.text).toContain('* Reading group (2 new)');
    expect(mail.text).toContain(`http://cohort.test/cohorts/${w.a.id}/discussions/${threadId}`);
    expect(mail.text).toContain('Lena Learner, Mon, 2 Mar 2026, 18:00 GMT: Who wants to read Good Strategy?');
    expect(mail.text).toContain('Who wants to read Good Strategy?');
    expect(mail.text).toContain('Ines Instructor');
    expect(mail.text).toContain('I do. Chapter 1 by Friday.');
    expect(mail.text).not.toContain('My own words');
    expect(mail.text).toContain('http://cohort.test/profile');
    expect(mail.html).toContain(`<a href="http://cohort.test/cohorts/${w.a.id}/discussions/${threadId}">Reading group</a>`);
    expect(mail.html).toContain('your profile');

    // The author gets only the posts by others (one), the instructor gets both learners' posts.
    expect((await digestsTo(w.a.learner.email))[0].subject).toBe('2 new posts in your cohort discussions');
    expect((await digestsTo(w.a.instructor.email))[0].subject).toBe('2 new posts in your cohort discussions');
    // Cohort B hears nothing of cohort A.
    expect(await digestsTo(w.b.learner.email)).toHaveLength(0);
    expect(await digestsTo(w.b.instructor.email)).toHaveLength(0);
  });

  it('goes once per local day from 07:00, then only with what is new since the last one, and not at all when nothing is', async () => {
    w = await createWorld({ now: '2026-03-02T18:00:00.000Z' });
    const threadId = await startThread(w.a.learner.api, w.a.id, 'Day one', 'first post');
    await tick('2026-03-03T06:59:00.000Z');
    expect(await digestsTo(w.a.learner2.email)).toHaveLength(0);
    await tick('2026-03-03T07:00:00.000Z');
    expect(await digestsTo(w.a.learner2.email)).toHaveLength(1);
    // Every later tick the same day sends nothing more, even with new posts.
    await post(w.a.learner.api, threadId, 'second post, same day');
    await tick('2026-03-03T07:00:30.000Z');
    await tick('2026-03-03T22:00:00.000Z');
    expect(await digestsTo(w.a.learner2.email)).toHaveLength(1);
    // The next morning: only the post since yesterday's digest.
    await tick('2026-03-04T07:05:00.000Z');
    const mails = await digestsTo(w.a.learner2.email);
    expect(mails).toHaveLength(2);
    expect(mails[1].subject).toBe('1 new post in your cohort discussions');
    expect(mails[1].text).toContain('second post, same day');
    expect(mails[1].text).not.toContain('first post');
    // A quiet day: no email, but the day is recorded so it is not reconsidered.
    await tick('2026-03-05T07:05:00.000Z');
    expect(await digestsTo(w.a.learner2.email)).toHaveLength(2);
    const rows = await w.t.ctx.db.select().from(discussionDigests).where(eq(discussionDigests.userId, w.a.learner2.user.id));
    expect(rows.map((r) => [r.day, r.postCount])).toEqual([
      ['2026-03-03', 1],
      ['2026-03-04', 1],
      ['2026-03-05', 0],
    ]);
    const keys = await w.t.ctx.db.select({ key: outbox.dedupeKey }).from(outbox).where(like(outbox.dedupeKey, `digest:${w.a.learner2.user.id}:%`));
    expect(keys.map((k) => k.key)).toEqual([`digest:${w.a.learner2.user.id}:2026-03-03`, `digest:${w.a.learner2.user.id}:2026-03-04`]);
  });

  it('follows the reader’s own time zone for the local day and hour', async () => {
    w = await createWorld({ now: '2026-03-02T18:00:00.000Z' });
    await w.t.ctx.people.updateProfile(w.a.learner2.user.id, { timezone: 'America/New_York' });
    await startThread(w.a.learner.api, w.a.id, 'Zones', 'hello');
    // 07:00 in London is 02:00 in New York: too early there.
    await tick('2026-03-03T07:00:00.000Z');
    expect(await digestsTo(w.a.learner2.email)).toHaveLength(0);
    expect(await digestsTo(w.a.instructor.email)).toHaveLength(1);
    await tick('2026-03-03T12:00:00.000Z');
    expect(await digestsTo(w.a.learner2.email)).toHaveLength(1);
    const key = await w.t.ctx.db.select({ key: outbox.dedupeKey }).from(outbox).where(eq(outbox.to, w.a.learner2.email));
    expect(key.map((k) => k.key)).toContain(`digest:${w.a.learner2.user.id}:2026-03-03`);
  });

  it('leaves out hidden and removed posts, hidden threads, and week threads a learner cannot open yet', async () => {
    w = await createWorld({ now: '2026-03-02T18:00:00.000Z' });
    const visible = await startThread(w.a.learner.api, w.a.id, 'Visible thread', 'visible words');
    const hiddenPost = await post(w.a.learner.api, visible, 'hidden words');
    const removedPost = await post(w.a.learner.api, visible, 'removed words');
    await w.a.instructor.api('PATCH', `/api/v1/posts/${hiddenPost}`, { hidden: true });
    await w.a.learner.api('DELETE', `/api/v1/posts/${removedPost}`);
    const secret = await startThread(w.a.learner.api, w.a.id, 'Hidden thread', 'secret thread words');
    await w.a.instructor.api('PATCH', `/api/v1/threads/${secret}`, { hidden: true });
    const week3 = (await w.a.instructor.api('GET', `/api/v1/cohorts/${w.a.id}/threads`)).json().find((t: { week: number | null }) => t.week === 3).id;
    await post(w.a.instructor.api, week3, 'week three preview');
    await tick('2026-03-03T07:00:00.000Z');
    const [mail] = await digestsTo(w.a.learner2.email);
    expect(mail.subject).toBe('1 new post in your cohort discussions');
    expect(mail.text).toContain('visible words');
    for (const words of ['hidden words', 'removed words', 'secret thread words', 'week three preview']) expect(mail.text).not.toContain(words);
    // The instructor's digest has the learner's posts (their own week 3 preview is theirs, so never listed).
    const [staff] = await digestsTo(w.a.instructor.email);
    expect(staff.text).toContain('visible words');
    expect(staff.text).not.toContain('week three preview');
  });

  it('escapes post text in the HTML part and strips Markdown in the text part', async () => {
    w = await createWorld({ now: '2026-03-02T18:00:00.000Z' });
    await startThread(w.a.learner.api, w.a.id, 'Tricky <b>title</b>', 'Use `<script>` tags & **bold** [links](https://library.example) 5 < 6');
    await tick('2026-03-03T07:00:00.000Z');
    const [mail] = await digestsTo(w.a.learner2.email);
    expect(mail.text).toContain('Tricky <b>title</b>');
    expect(mail.text).toContain('Use <script> tags & bold links 5 < 6');
    expect(mail.html).not.toMatch(/<script|<b>title/);
    expect(mail.html).toContain('Tricky &lt;b&gt;title&lt;/b&gt;');
    expect(mail.html).toContain('Use &lt;script&gt; tags &amp; bold links 5 &lt; 6');
  });

  it('is not sent to someone who unticked the digest on their profile page', async () => {
    w = await createWorld({ now: '2026-03-02T18:00:00.000Z' });
    const browser = await signInBrowser(w.t, w.a.learner2.email);
    const saved = await browser.post('/profile', { name: 'Sam Second', timezone: '' });
    expect(saved.statusCode).toBe(303);
    expect((await w.t.ctx.people.get(w.a.learner2.user.id)).digestOptOut).toBe(true);
    await startThread(w.a.learner.api, w.a.id, 'Anyone?', 'hello');
    await tick('2026-03-03T07:00:00.000Z');
    expect(await digestsTo(w.a.learner2.email)).toHaveLength(0);
    expect(await digestsTo(w.a.instructor.email)).toHaveLength(1);
  });

  it('stops once the cohort is archived, and for a learner who withdrew', async () => {
    w = await createWorld({ now: '2026-03-02T18:00:00.000Z' });
    const threadId = await startThread(w.a.learner.api, w.a.id, 'Late', 'x');
    await w.t.ctx.database.transaction((tx) => w.t.ctx.cohorts.withdraw(tx, w.a.id, w.a.learner2.user.id));
    await tick('2026-03-03T07:00:00.000Z');
    expect(await digestsTo(w.a.learner2.email)).toHaveLength(0);
    const access = (await w.t.ctx.cohorts.get(w.a.id)).timeline.accessEndsAt;
    w.t.clock.set(new Date(access.getTime() - 86_400_000));
    await post(w.a.instructor.api, threadId, 'closing thoughts');
    await tick(new Date(access.getTime() + 8 * 3_600_000));
    const learnerMails = await digestsTo(w.a.learner.email);
    expect(learnerMails.some((m) => m.text?.includes('closing thoughts'))).toBe(false);
  });

  // SQLite's own limit on bound values, filled in with SQLite's SQL.
  it.skipIf(onPostgres)('still goes out in a national programme with more members than SQLite takes in one query (over 32,766)', async () => {
    w = await createWorld({ now: '2026-03-02T18:00:00.000Z' });
    await startThread(w.a.learner.api, w.a.id, 'Busy', 'so many of us');
    // 40,000 more learners in cohort B who chose no digest: they count as members, but need no mail.
    const sqlite = sqliteOf(w.t.ctx.database).connections.writer;
    sqlite.exec('BEGIN');
    sqlite
      .prepare(
        `WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 40000)
         INSERT INTO users (email, name, role, digest_opt_out, created_at) SELECT 'many' || n || '@example.org', 'Many ' || n, 'learner', 1, 0 FROM seq`,
      )
      .run();
    sqlite.prepare(`INSERT INTO enrolments (cohort_id, user_id, status, certificate_wanted, created_at) SELECT ?, id, 'active', 1, 0 FROM users WHERE email LIKE 'many%'`).run(w.b.id);
    sqlite.exec('COMMIT');
    // The digest job alone (every job would also announce week 1 to all 40,000).
    w.t.clock.set('2026-03-03T07:00:00.000Z');
    expect(await w.t.ctx.discussions.runDigest(w.t.clock.now())).toBe(2);
    expect((await digestsTo(w.a.learner2.email))[0]?.text).toContain('so many of us');
  });

  it('lets the server answer requests while many members’ digests are written, and writes each once', async () => {
    w = await createWorld({ now: '2026-03-02T18:00:00.000Z' });
    await startThread(w.a.learner.api, w.a.id, 'Busy', 'plenty to read');
    for (let i = 0; i < 150; i++) await enrolLearner(w.t, w.a.id);
    w.t.clock.set('2026-03-03T07:00:00.000Z');
    const written = async () => (await w.t.ctx.db.select().from(discussionDigests)).length;
    const run = w.t.ctx.discussions.runDigestInSteps(w.t.clock.now());
    const res = await w.t.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    // Answered mid-run: some digests written, not all.
    expect(await written()).toBeLessThan(150);
    expect(await run).toBe(152);
    expect(await written()).toBe(155);
    expect(await w.t.ctx.discussions.runDigest(w.t.clock.now())).toBe(0);
  });

  it('is delivered through a real SMTP server', async () => {
    const smtp = new TestSmtp();
    await smtp.start();
    try {
      w = await createWorld({ now: '2026-03-02T18:00:00.000Z', mailTransport: nodemailer.createTransport({ url: smtp.url, connectionTimeout: 2000, greetingTimeout: 2000 } as never) });
      await startThread(w.a.learner.api, w.a.id, 'Over the wire', 'delivered words');
      await tick('2026-03-03T07:00:00.000Z');
      await w.t.ctx.mailer.deliverDue();
      const digest = smtp.received.find((m) => isDigest(m) && JSON.stringify(m.to).includes(w.a.learner2.email));
      expect(digest?.text).toContain('delivered words');
      expect(digest?.html).toContain('Over the wire');
    } finally {
      await w.t.close();
      await smtp.stop();
      w = undefined as never;
    }
  });
});
