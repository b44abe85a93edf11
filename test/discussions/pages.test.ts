// Discussion pages without JavaScript: thread list, starting threads, posting, replying, editing, removing, moderating, paging, panels.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createWorld, post, startThread, type World } from './setup.js';
import { signInBrowser } from '../helpers/factories.js';
import { Browser } from '../helpers/http.js';
import { viewsDir } from '../../server/paths.js';

let w: World;
beforeEach(async () => {
  w = await createWorld();
});
afterEach(async () => w.t.close());

const main = (html: string) => html.slice(html.indexOf('<main'), html.indexOf('</main>'));
const listUrl = () => `/cohorts/${w.a.id}/discussions`;
const threadUrl = (id: number) => `/cohorts/${w.a.id}/discussions/${id}`;

describe('the thread list', () => {
  it('a learner sees the open week thread and member threads with post counts and "new" markers', async () => {
    const id = await startThread(w.a.learner2.api, w.a.id, 'Reading group', 'Who is in?');
    const browser = await signInBrowser(w.t, w.a.learner.email);
    const res = await browser.get(listUrl());
    expect(res.statusCode).toBe(200);
    const page = main(res.body);
    expect(page).toContain('<h1>Discussions</h1>');
    expect(page).toContain(`href="${threadUrl(id)}">Reading group</a>`);
    expect(page).toContain('1 new');
    expect(page).toContain('Week 1 — Why plan, and for whom?');
    expect(page).not.toContain('Week 2 —');
    expect(page).toContain('Started by Sam Second');
  });

  it('a signed-out visitor is sent to sign in', async () => {
    const res = await new Browser(w.t.app).get(listUrl());
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe(`/sign-in?next=${encodeURIComponent(listUrl())}`);
  });

  it('a learner starts a thread with the form and lands on it', async () => {
    const browser = await signInBrowser(w.t, w.a.learner.email);
    const res = await browser.post(listUrl(), { title: 'Planning templates', body: 'Sharing **mine**.' });
    expect(res.statusCode).toBe(303);
    const location = res.headers.location as string;
    expect(location).toMatch(new RegExp(`^/cohorts/${w.a.id}/discussions/\\d+\\?done=thread$`));
    const page = main((await browser.get(location)).body);
    expect(page).toContain('<h1>Planning templates</h1>');
    expect(page).toContain('Your thread is started.');
    expect(page).toContain('<p>Sharing <strong>mine</strong>.</p>');
  });

  it('a thread without a title is shown again with a friendly error and the text kept (400)', async () => {
    const browser = await signInBrowser(w.t, w.a.learner.email);
    const res = await browser.post(listUrl(), { title: '  ', body: 'my careful words' });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('There is a problem');
    expect(res.body).toContain('Give the thread a title.');
    expect(res.body).toContain('my careful words');
    expect(res.body).toMatch(/id="title"[^>]*aria-invalid="true"/);
    const tooLong = await browser.post(listUrl(), { title: 'x'.repeat(5000), body: 'b' });
    expect(tooLong.statusCode).toBe(400);
    const scriptOnly = await browser.post(listUrl(), { title: 'T', body: '<script>alert(1)</script>' });
    expect(scriptOnly.statusCode).toBe(400);
    expect(scriptOnly.body).toContain('Nothing is left once unsafe HTML is removed');
  });

  it('a form without its CSRF token is refused', async () => {
    const browser = await signInBrowser(w.t, w.a.learner.email);
    const res = await browser.post(listUrl(), { title: 'T', body: 'B' }, { csrf: null });
    expect(res.statusCode).toBe(403);
  });
});

describe('a thread page', () => {
  it('shows the week prompt, then posts with their replies; posting and replying work without JavaScript', async () => {
    const learner = await signInBrowser(w.t, w.a.learner.email);
    const list = (await learner.get(listUrl())).body;
    const weekId = Number(/discussions\/(\d+)">Week 1/.exec(list)![1]);
    const first = await learner.get(threadUrl(weekId));
    expect(main(first.body)).toContain('Week 1 prompt');
    expect(main(first.body)).toContain((await w.t.ctx.courses.latest('strategic-planning')).weeks[0].discussionPromptHtml!);

    const posted = await learner.post(`${threadUrl(weekId)}/posts`, { body: 'My library serves **students**.' }, { fromPage: threadUrl(weekId) });
    expect(posted.statusCode).toBe(303);
    const postId = Number(/#post-(\d+)$/.exec(posted.headers.location as string)![1]);
    expect(posted.headers.location).toBe(`${threadUrl(weekId)}?done=posted#post-${postId}`);

    const other = await signInBrowser(w.t, w.a.learner2.email);
    const replyPage = await other.get(`${threadUrl(weekId)}/posts/${postId}/reply`);
    expect(replyPage.statusCode).toBe(200);
    expect(main(replyPage.body)).toContain('<h1>Reply to Lena Learner</h1>');
    const replied = await other.post(`${threadUrl(weekId)}/posts`, { body: 'Ours too.', parentId: String(postId) }, { fromPage: `${threadUrl(weekId)}/posts/${postId}/reply` });
    expect(replied.statusCode).toBe(303);
    const replyId = Number(/#post-(\d+)$/.exec(replied.headers.location as string)![1]);

    // Replying to the reply attaches to the top-level post.
    const nested = await learner.post(`${threadUrl(weekId)}/posts`, { body: 'Nice.', parentId: String(replyId) }, { fromPage: threadUrl(weekId) });
    expect(nested.statusCode).toBe(303);
    const page = main((await learner.get(threadUrl(weekId))).body);
    expect(page.match(/class="post post-reply"/g)).toHaveLength(2);
    expect(page).toContain('Reply to Lena Learner');
    expect(page.indexOf('Ours too.')).toBeGreaterThan(page.indexOf('students'));
    expect(page.indexOf('Nice.')).toBeGreaterThan(page.indexOf('Ours too.'));
  });

  it('an empty post is shown again with an error (400), not a 500', async () => {
    const id = await startThread(w.a.learner.api, w.a.id);
    const browser = await signInBrowser(w.t, w.a.learner2.email);
    const res = await browser.post(`${threadUrl(id)}/posts`, { body: '   ' }, { fromPage: threadUrl(id) });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('Write something before posting.');
    const badParent = await browser.post(`${threadUrl(id)}/posts`, { body: 'x', parentId: 'abc' }, { fromPage: threadUrl(id) });
    expect(badParent.statusCode).toBe(400);
    const unknownParent = await browser.post(`${threadUrl(id)}/posts`, { body: 'x', parentId: '99999' }, { fromPage: threadUrl(id) });
    expect(unknownParent.statusCode).toBe(400);
    expect(unknownParent.body).toContain('That post is not in this thread.');
  });

  it('marks posts new for a reader once, then not on the next visit', async () => {
    const id = await startThread(w.a.learner.api, w.a.id);
    const browser = await signInBrowser(w.t, w.a.learner2.email);
    expect(main((await browser.get(threadUrl(id))).body)).toContain('>New</span>');
    expect(main((await browser.get(threadUrl(id))).body)).not.toContain('>New</span>');
  });

  it('the author edits within 30 minutes; afterwards the edit page and form refuse with 409', async () => {
    const id = await startThread(w.a.learner.api, w.a.id, 'T', 'frist');
    const postId = (await w.a.learner.api('GET', `/api/v1/threads/${id}`)).json().posts[0].id;
    const browser = await signInBrowser(w.t, w.a.learner.email);
    const editUrl = `${threadUrl(id)}/posts/${postId}/edit`;
    expect(main((await browser.get(threadUrl(id))).body)).toContain(`href="${editUrl}"`);
    const form = await browser.get(editUrl);
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('>frist</textarea>');
    const saved = await browser.post(editUrl, { body: 'first' });
    expect(saved.statusCode).toBe(303);
    const page = main((await browser.get(threadUrl(id))).body);
    expect(page).toContain('<p>first</p>');
    expect(page).toContain('edited');
    w.t.clock.advance({ minutes: 31 });
    expect(main((await browser.get(threadUrl(id))).body)).not.toContain(`href="${editUrl}"`);
    expect((await browser.get(editUrl)).statusCode).toBe(409);
    const csrf = /name="_csrf" value="([^"]+)"/.exec((await browser.get(threadUrl(id))).body)![1];
    const late = await browser.post(editUrl, { body: 'too late' }, { csrf });
    expect(late.statusCode).toBe(409);
    expect(late.body).toContain('30 minutes');
    const other = await signInBrowser(w.t, w.a.learner2.email);
    expect((await other.get(editUrl)).statusCode).toBe(403);
  });

  it('the author removes a post with a button: a "removed" marker stays', async () => {
    const id = await startThread(w.a.learner.api, w.a.id, 'T', 'keep');
    const postId = await post(w.a.learner.api, id, 'regret this');
    const browser = await signInBrowser(w.t, w.a.learner.email);
    const res = await browser.post(`${threadUrl(id)}/posts/${postId}/delete`, {}, { fromPage: threadUrl(id) });
    expect(res.statusCode).toBe(303);
    const page = main((await browser.get(threadUrl(id))).body);
    expect(page).toContain('This post was removed.');
    expect(page).not.toContain('regret this');
    const other = await signInBrowser(w.t, w.a.learner2.email);
    const keep = (await w.a.learner.api('GET', `/api/v1/threads/${id}`)).json().posts[0].id;
    expect((await other.post(`${threadUrl(id)}/posts/${keep}/delete`, {}, { fromPage: threadUrl(id) })).statusCode).toBe(403);
  });

  it('an instructor pins, locks and hides with buttons; learners see the effect, and cannot use the buttons', async () => {
    const id = await startThread(w.a.learner.api, w.a.id, 'Heated', 'opening');
    const postId = await post(w.a.learner2.api, id, 'rude remark');
    const instructor = await signInBrowser(w.t, w.a.instructor.email);
    const staffPage = main((await instructor.get(threadUrl(id))).body);
    expect(staffPage).toContain('Moderate this thread');
    expect((await instructor.post(`${threadUrl(id)}/moderate`, { pinned: 'true' }, { fromPage: threadUrl(id) })).headers.location).toBe(`${threadUrl(id)}?done=pinned`);
    expect((await instructor.post(`${threadUrl(id)}/posts/${postId}/hide`, { hidden: 'true' }, { fromPage: threadUrl(id) })).statusCode).toBe(303);
    expect((await instructor.post(`${threadUrl(id)}/moderate`, { locked: 'true' }, { fromPage: threadUrl(id) })).statusCode).toBe(303);
    const afterStaff = main((await instructor.get(threadUrl(id))).body);
    expect(afterStaff).toContain('rude remark');
    expect(afterStaff).toContain('Hidden from learners');
    expect(afterStaff).toContain('Unlock thread');

    const learner = await signInBrowser(w.t, w.a.learner.email);
    const seen = main((await learner.get(threadUrl(id))).body);
    expect(seen).toContain('This post was hidden by an instructor.');
    expect(seen).not.toContain('rude remark');
    expect(seen).toContain('This thread is locked');
    expect(seen).not.toContain('action="/cohorts/' + w.a.id + '/discussions/' + id + '/posts"');
    expect(seen).not.toContain('Moderate this thread');
    expect((await learner.post(`${threadUrl(id)}/moderate`, { locked: 'false' }, { fromPage: threadUrl(id) })).statusCode).toBe(403);
    // The hidden post does not exist for other learners; hiding a visible one is refused.
    expect((await learner.post(`${threadUrl(id)}/posts/${postId}/hide`, { hidden: 'false' }, { fromPage: threadUrl(id) })).statusCode).toBe(404);
    const opening = (await w.a.learner.api('GET', `/api/v1/threads/${id}`)).json().posts[0].id;
    expect((await learner.post(`${threadUrl(id)}/posts/${opening}/hide`, { hidden: 'true' }, { fromPage: threadUrl(id) })).statusCode).toBe(403);
    const locked = await learner.post(`${threadUrl(id)}/posts`, { body: 'let me in' }, { fromPage: threadUrl(id) });
    expect(locked.statusCode).toBe(409);
    expect(locked.body).toContain('This thread is locked');
    const firstPost = (await w.a.learner.api('GET', `/api/v1/threads/${id}`)).json().posts[0].id;
    expect((await learner.get(`${threadUrl(id)}/posts/${firstPost}/reply`)).statusCode).toBe(409);
    expect(main((await learner.get(listUrl())).body)).toContain('Pinned');

    await instructor.post(`${threadUrl(id)}/moderate`, { hidden: 'true' }, { fromPage: threadUrl(id) });
    expect((await learner.get(threadUrl(id))).statusCode).toBe(404);
    expect(main((await learner.get(listUrl())).body)).not.toContain('Heated');
  });

  it('pages a long thread 50 posts at a time with links between pages; a page past the end is 404', async () => {
    const id = await startThread(w.a.learner.api, w.a.id, 'Long', 'p0');
    const scope = await w.t.ctx.discussions.threadById(await w.t.ctx.people.get(w.a.learner.user.id), id);
    for (let i = 1; i < 120; i++) await w.t.ctx.discussions.createPost(scope, { body: `post number ${i}` });
    const browser = await signInBrowser(w.t, w.a.learner2.email);
    const p1 = main((await browser.get(threadUrl(id))).body);
    expect(p1.match(/class="post[ "]/g)).toHaveLength(50);
    expect(p1).toContain('(page 1 of 3)');
    // Handlebars writes "=" in attributes as &#x3D;, which browsers read back as "=".
    expect(p1.replace(/&#x3D;/g, '=')).toContain(`href="${threadUrl(id)}?page=2" rel="next"`);
    expect(p1).toContain('aria-current="page"');
    const p3 = main((await browser.get(`${threadUrl(id)}?page=3`)).body);
    expect(p3.match(/class="post[ "]/g)).toHaveLength(20);
    expect(p3).toContain('post number 119');
    expect(p3).toContain('rel="prev"');
    expect((await browser.get(`${threadUrl(id)}?page=4`)).statusCode).toBe(404);
    expect((await browser.get(`${threadUrl(id)}?page=abc`)).statusCode).toBe(400);
    // A new post lands on the last page, and the redirect goes there.
    const res = await browser.post(`${threadUrl(id)}/posts`, { body: 'the latest' }, { fromPage: threadUrl(id) });
    expect(res.headers.location).toMatch(new RegExp(`^${threadUrl(id)}\\?page=3&done=posted#post-\\d+$`));
  });

  it('escapes a hostile title and renders a hostile post safely in the page', async () => {
    const id = await startThread(w.a.learner.api, w.a.id, '<img src=x onerror=alert(1)>', 'Hi <img src=x onerror=alert(1)> <a href="javascript:alert(2)">go</a> <iframe src="https://evil.example"></iframe>');
    const browser = await signInBrowser(w.t, w.a.learner2.email);
    for (const url of [threadUrl(id), listUrl()]) {
      const body = (await browser.get(url)).body;
      expect(body).not.toMatch(/<img|<iframe|<script|javascript:/i);
      expect(body).not.toMatch(/<[^>]*\son\w+\s*=/i);
      expect(body).toContain('&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;');
    }
  });
});

describe('panels on shared pages', () => {
  const render = (partial: string, model: object) => {
    const hbs = Handlebars.create();
    return hbs.compile(readFileSync(join(viewsDir, 'discussions', 'panels', `${partial}.hbs`), 'utf8'))({ ...model, prefix: '' });
  };

  it('the cohort home lists the threads with new-post counts and a link to all discussions', async () => {
    const id = await startThread(w.a.learner2.api, w.a.id, 'Reading group', 'x');
    const access = await w.t.ctx.cohorts.access(await w.t.ctx.people.get(w.a.learner.user.id), w.a.id);
    const panels = await w.t.ctx.panels.render('cohort-home', { access, now: w.t.clock.now() });
    const panel = panels.find((p) => p.partial === 'discussions/cohort-home')!;
    expect(panel).toBeDefined();
    const html = render('cohort-home', panel.model);
    expect(html).toContain(`href="/cohorts/${w.a.id}/discussions/${id}">Reading group</a>`);
    expect(html).toContain('1 new');
    expect(html).toContain(`href="/cohorts/${w.a.id}/discussions">All discussions`);
  });

  it("the week page links to the week's thread with its prompt, from the moment the week opens", async () => {
    const learner = await w.t.ctx.people.get(w.a.learner.user.id);
    const access = await w.t.ctx.cohorts.access(learner, w.a.id);
    const week2 = async (now: Date) => (await w.t.ctx.panels.render('week', { access, week: 2, now })).find((p) => p.partial === 'discussions/week');
    expect(await week2(w.t.clock.now())).toBeUndefined();
    const opens = (await w.t.ctx.cohorts.get(w.a.id)).timeline.weeks[1].opensAt;
    w.t.clock.set(opens);
    const panel = (await week2(opens))!;
    expect(panel).toBeDefined();
    const html = render('week', panel.model);
    expect(html).toContain('Join the discussion');
    expect(html).toContain((await w.t.ctx.courses.latest('strategic-planning')).weeks[1].discussionPromptHtml!);
    expect(html).toMatch(new RegExp(`href="/cohorts/${w.a.id}/discussions/\\d+"`));
  });

  it('the real cohort home and week pages show the discussion panels', async () => {
    const id = await startThread(w.a.learner2.api, w.a.id, 'Reading group', 'x');
    const browser = await signInBrowser(w.t, w.a.learner.email);
    const home = await browser.get(`/cohorts/${w.a.id}`);
    expect(home.statusCode).toBe(200);
    expect(main(home.body)).toContain('<h2 id="discussion-panel-h">Discussion</h2>');
    expect(main(home.body)).toContain(`href="${threadUrl(id)}">Reading group</a>`);
    const week = await browser.get(`/cohorts/${w.a.id}/weeks/1`);
    expect(week.statusCode).toBe(200);
    expect(main(week.body)).toContain('<h2 id="week-discussion-h">Discussion</h2>');
    expect(main(week.body)).toContain('Join the discussion');
  });
});
