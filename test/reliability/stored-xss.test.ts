// Stored cross-site scripting: people put script into every text the app keeps (names, threads, posts, week
// text, answers, feedback, reasons, links); then every page is read as every role. The pages need no
// JavaScript, so no page may carry a <script> element, an inline event handler or a javascript: URL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiAs, Browser } from '../helpers/http.js';
import { crawl, decodeEntities } from './helpers/crawl.js';
import { seedObjects, type Objects } from './helpers/objects.js';
import { realValues } from './helpers/params.js';
import { INFRASTRUCTURE, isApi, listRoutes, routeKey } from './helpers/routes.js';
import { createWorld, type World } from './helpers/world.js';
import { outbox } from '../../server/outbox-schema.js';

const PAYLOAD = [
  '<script>alert("XSS1")</script>',
  '<img src=x onerror=alert("XSS2")>',
  '[click me](javascript:alert("XSS3"))',
  '"><svg onload=alert("XSS4")>',
  "' onmouseover='alert(5)' x='",
  '<a href="javascript:alert(6)">six</a>',
  '<iframe src="data:text/html,<script>alert(7)</script>"></iframe>',
  '{{#with this}}{{lookup this "constructor"}}{{/with}}',
].join(' ');

let w: World;
let o: Objects;
const stored: string[] = [];

beforeAll(async () => {
  w = await createWorld({ now: '2026-03-25T10:00:00.000Z' });
  o = await seedObjects(w);
  const app = w.t.app;
  const admin = apiAs(app, w.people.admin.token);
  const instructor = apiAs(app, w.people.instructor.token);
  const learner = apiAs(app, w.people.learner.token);
  const tries: Array<[string, Promise<{ statusCode: number }>]> = [
    ['thread', learner('POST', `/api/v1/cohorts/${w.cohortA}/threads`, { title: `T ${PAYLOAD}`.slice(0, 200), body: PAYLOAD })],
    ['post', learner('POST', `/api/v1/threads/${o.threadId}/posts`, { body: PAYLOAD })],
    ['week text', instructor('PUT', `/api/v1/cohorts/${w.cohortA}/weeks/2`, { title: `W ${PAYLOAD}`.slice(0, 200), markdown: PAYLOAD })],
    ['booking name', apiAs(app, null)('POST', `/api/v1/cohorts/${w.cohortA}/bookings`, { email: 'xss-booker@example.org', name: PAYLOAD.slice(0, 200), kind: 'standalone' })],
    ['extension reason', instructor('POST', `/api/v1/cohorts/${w.cohortA}/extensions`, { learner: w.people.learner.email, week: 3, dueAt: '2026-04-20T10:00:00.000Z', reason: PAYLOAD })],
    ['recording link', instructor('PATCH', `/api/v1/sessions/${o.sessionId}`, { recordingUrl: `https://video.example.org/x" onmouseover="alert(8)` })],
    ['join link', instructor('PATCH', `/api/v1/sessions/${o.sessionId}`, { joinUrl: 'javascript:alert(9)' })],
    ['member import', admin('POST', '/api/v1/members/import', { csv: `email\n${PAYLOAD}\n` })],
  ];
  const week2 = (await learner('GET', `/api/v1/cohorts/${w.cohortA}/weeks/2`)).json();
  const answers = Object.fromEntries((week2.assignment?.prompts ?? []).map((p: { id: string }) => [p.id, PAYLOAD]));
  tries.push(['worksheet answers', learner('PUT', `/api/v1/cohorts/${w.cohortA}/weeks/2/submission`, { answers, submit: true })]);
  for (const [what, res] of tries) if ((await res).statusCode < 300) stored.push(what);
  const submission = (await learner('GET', `/api/v1/cohorts/${w.cohortA}/weeks/2/submission`)).json();
  const review = await instructor('POST', `/api/v1/submissions/${submission.id}/review`, { outcome: 'needs_revision', feedback: PAYLOAD });
  if (review.statusCode < 300) stored.push('review feedback');
  // A name through the profile form.
  const browser = await w.browser('learner');
  const saved = await browser.post('/profile', { name: PAYLOAD.slice(0, 200), timezone: 'Europe/London' }, { fromPage: '/profile' });
  if (saved.statusCode === 303) stored.push('profile name');
}, 180_000);

afterAll(async () => w?.close());

/** Tags, attributes and URLs in a page that would run script. */
function scriptIn(html: string): string[] {
  const found: string[] = [];
  for (const m of html.matchAll(/<([a-zA-Z][a-zA-Z0-9-]*)\b((?:[^>"']|"[^"]*"|'[^']*')*)>/g)) {
    const tag = m[1].toLowerCase();
    if (tag === 'script' || tag === 'iframe' || tag === 'object' || tag === 'embed') found.push(`<${tag}>`);
    for (const a of m[2].matchAll(/([^\s"'=<>/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g)) {
      const name = a[1].toLowerCase();
      const value = decodeEntities(a[2] ?? a[3] ?? a[4] ?? '')
        .replace(/[\u0000-\u0020]/g, '')
        .toLowerCase();
      if (name.startsWith('on')) found.push(`<${tag} ${name}=…>`);
      if (['href', 'src', 'action', 'formaction', 'xlink:href', 'data'].includes(name) && /^(javascript|vbscript|data):/.test(value) && !value.startsWith('data:image/')) {
        found.push(`<${tag} ${name}="${value.slice(0, 40)}">`);
      }
    }
  }
  return found;
}

describe('stored cross-site scripting', () => {
  it('the detector finds script and ignores escaped text', () => {
    expect(scriptIn('<p>&lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onerror=alert(1)&gt;</p><input value="&quot; onmouseover=&quot;alert(1)">')).toEqual([]);
    expect(scriptIn('<script>alert(1)</script>')).toEqual(['<script>']);
    expect(scriptIn('<img src=x onerror=alert(1)>')).toEqual(['<img onerror=…>']);
    expect(scriptIn('<a href=" &#x6A;avascript:alert(1)">x</a>')).toHaveLength(1);
    expect(scriptIn('<a title="x" onmouseover=\'alert(1)\'>x</a>')).toHaveLength(1);
  });

  it('stores script-laden text through the API and forms (what is refused is fine too)', () => {
    console.log(`[xss] stored hostile text in: ${stored.join(', ')}`);
    expect(stored.length).toBeGreaterThan(5);
  });

  it('no page, as any role, carries a script element, an event handler or a javascript: URL', async () => {
    const routes = listRoutes(w.t.app).filter((r) => r.method === 'GET' && !isApi(r.path) && !INFRASTRUCTURE.has(routeKey(r)));
    const problems: string[] = [];
    let pages = 0;
    for (const who of ['admin', 'instructor', 'learner', 'learnerOther', 'anonymous'] as const) {
      const browser = who === 'anonymous' ? new Browser(w.t.app) : await w.browser(who);
      const starts = routes.map((r) => {
        const real = realValues(r.path, w, o);
        return r.path.replace(/:([A-Za-z0-9_]+)(\([^)]*\))?/g, (_, n: string) => encodeURIComponent(String(real[n]?.[0] ?? 1)));
      });
      const found = await crawl(browser, ['/', ...starts, `/cohorts/${w.cohortA}/weeks/2`, `/cohorts/${w.cohortA}/discussions/${o.threadId}`], {
        limit: 300,
        onPage: (url, res) => {
          if (!String(res.headers['content-type']).includes('text/html')) return;
          pages += 1;
          for (const p of scriptIn(res.body)) problems.push(`${who} ${url}: ${p}`);
        },
      });
      expect(found.pages.length).toBeGreaterThan(5);
    }
    console.log(`[xss] ${pages} HTML pages read as 5 roles: no script`);
    expect([...new Set(problems)]).toEqual([]);
  });

  it('no email carries script either (names and reasons go into mail)', async () => {
    const mails = await w.t.ctx.db.select({ to: outbox.to, subject: outbox.subject, html: outbox.html }).from(outbox);
    expect(mails.length).toBeGreaterThan(3);
    expect(mails.flatMap((m) => scriptIn(m.html).map((p) => `${m.to} "${m.subject}": ${p}`))).toEqual([]);
  });

  it('the API hands out sanitised HTML only', async () => {
    const learner = apiAs(w.t.app, w.people.learner.token);
    const thread = (await learner('GET', `/api/v1/threads/${o.threadId}`)).json();
    const week = (await learner('GET', `/api/v1/cohorts/${w.cohortA}/weeks/2`)).json();
    const html = [week.html, ...(thread.posts ?? []).map((p: { html: string }) => p.html)].join('\n');
    expect(html).toContain('XSS');
    expect(scriptIn(html)).toEqual([]);
  });
});
