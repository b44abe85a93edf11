// The course editor's pages through a browser-like client: an admin creates a course, names an author, who writes
// it part by part with forms (problems shown beside the field they name, nothing else lost), previews the Markdown
// and the whole draft, and publishes; the version history shows who published what.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { insertUser, signInBrowser } from '../helpers/factories.js';
import type { Browser } from '../helpers/http.js';

let t: TestApp;
let admin: Browser;
let author: Browser;
let outsider: Browser;
let authorEmail: string;

beforeAll(async () => {
  t = await createTestApp({ now: '2026-03-02T09:00:00.000Z' });
  admin = await signInBrowser(t, (await insertUser(t, 'admin')).email);
  const au = await insertUser(t, 'instructor', 'Ada Author');
  authorEmail = au.email;
  author = await signInBrowser(t, au.email);
  outsider = await signInBrowser(t, (await insertUser(t, 'instructor')).email);
}, 60_000);
afterAll(async () => t?.close());

const detail = {
  title: 'Cataloguing Zines',
  summary: 'One week on describing small-press publications.',
  description: 'Zines resist **standard** records.\n\nWe look at three ways in.',
  audience: '',
  outcomes: 'Describe a zine\nChoose subject terms',
  hoursPerWeek: '2',
  releaseTime: '',
  review: 'instructor',
  instructorSupportWeeks: '',
};

describe('the course editor', () => {
  it('an admin creates a course from the list page; a taken slug is answered beside the field', async () => {
    const res = await admin.post('/teach/courses', { title: 'Cataloguing Zines', slug: 'cataloguing-zines' }, { fromPage: '/teach/courses' });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/teach/courses/cataloguing-zines?saved=created');
    const again = await admin.post('/teach/courses', { title: 'Again', slug: 'cataloguing-zines' }, { fromPage: '/teach/courses' });
    expect(again.statusCode).toBe(409);
    expect(again.body).toContain('already exists');
    expect(again.body).toContain('value="Again"');
    const bad = await admin.post('/teach/courses', { title: 'Bad', slug: 'Not A Slug' }, { fromPage: '/teach/courses' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toMatch(/id="f-slug-error"/);
  });

  it('only its authors and admins open the editor; the admin names an author', async () => {
    expect((await outsider.get('/teach/courses/cataloguing-zines')).statusCode).toBe(403);
    expect((await author.get('/teach/courses/cataloguing-zines')).statusCode).toBe(403);
    const res = await admin.post('/teach/courses/cataloguing-zines/authors', { email: authorEmail }, { fromPage: '/teach/courses/cataloguing-zines' });
    expect(res.statusCode).toBe(303);
    const page = await author.get('/teach/courses/cataloguing-zines');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Before the draft can be published');
    // An author sees the price as text: no price field to change.
    expect(page.body).not.toContain('name="price.amount"');
    expect((await author.get('/teach/courses')).body).toContain('/teach/courses/cataloguing-zines');
    expect((await outsider.get('/teach/courses')).body).not.toContain('/teach/courses/cataloguing-zines');
  });

  it('the details form keeps what was typed and names the field when a value is wrong', async () => {
    const res = await author.post('/teach/courses/cataloguing-zines', { ...detail, hoursPerWeek: 'lots', action: 'save' });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('id="f-hoursPerWeek-error"');
    expect(res.body).toContain('aria-invalid="true"');
    expect(res.body).toContain('value="One week on describing small-press publications."');
    // Nothing saved: the draft still has no summary.
    const draft = await t.app.cc.courses.draft('cataloguing-zines');
    expect(draft.summary).toBe('');
  });

  it('previews the description without saving, then saves the details while the weeks are still missing', async () => {
    const preview = await author.post('/teach/courses/cataloguing-zines', { ...detail, action: 'preview' });
    expect(preview.statusCode).toBe(200);
    expect(preview.body).toContain('<strong>standard</strong>');
    expect((await t.app.cc.courses.draft('cataloguing-zines')).summary).toBe('');
    const saved = await author.post('/teach/courses/cataloguing-zines', { ...detail, action: 'save' });
    expect(saved.statusCode).toBe(303);
    const draft = await t.app.cc.courses.draft('cataloguing-zines');
    expect(draft).toMatchObject({ summary: detail.summary, outcomes: ['Describe a zine', 'Choose subject terms'], hoursPerWeek: 2 });
    const page = await author.get('/teach/courses/cataloguing-zines?saved=details');
    expect(page.body).toContain('The details are saved');
    expect(page.body).toContain('must hold from 1 to 12 weeks');
  });

  it('adds a week and writes it: a prompt without an id is named at its row, the rest of the form kept', async () => {
    const add = await author.post('/teach/courses/cataloguing-zines/weeks', {}, { fromPage: '/teach/courses/cataloguing-zines' });
    expect(add.statusCode).toBe(303);
    expect(add.headers.location).toBe('/teach/courses/cataloguing-zines/weeks/1?saved=added');
    const week = {
      title: 'Week 1: What is a zine?',
      summary: 'Small press, big variety.',
      markdown: '## Start here\n\nBring a zine you love.',
      'readings[0].title': 'Zine Librarians Code of Ethics',
      'readings[0].url': 'https://example.org/ethics',
      'readings[0].note': '',
      assignment: 'yes',
      'assignment.title': 'Worksheet: describe one zine',
      'assignment.instructions': 'Pick a zine from your collection.',
      'assignment.prompts[0].id': 'title',
      'assignment.prompts[0].label': 'What is its title?',
      'assignment.prompts[1].id': '',
      'assignment.prompts[1].label': 'Who made it?',
      'assignment.upload.maxMb': '5',
      'assignment.upload.types': ['pdf', 'png'],
      'discussion.prompt': 'Which zine *changed* your mind?',
      action: 'save',
    };
    const bad = await author.post('/teach/courses/cataloguing-zines/weeks/1', week);
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('id="f-assignment-prompts-1-id-error"');
    expect(bad.body).toContain('value="Who made it?"');
    expect(bad.body).toContain('value="Zine Librarians Code of Ethics"');
    const preview = await author.post('/teach/courses/cataloguing-zines/weeks/1', { ...week, action: 'preview' });
    expect(preview.body).toContain('<em>changed</em>');
    const ok = await author.post('/teach/courses/cataloguing-zines/weeks/1', { ...week, 'assignment.prompts[1].id': 'maker' });
    expect(ok.statusCode).toBe(303);
    const draft = await t.app.cc.courses.draft('cataloguing-zines');
    expect(draft.weeks[0]).toMatchObject({
      title: 'Week 1: What is a zine?',
      readings: [{ title: 'Zine Librarians Code of Ethics', url: 'https://example.org/ethics', note: null }],
      assignment: { prompts: [{ id: 'title', label: 'What is its title?' }, { id: 'maker', label: 'Who made it?' }], upload: { maxMb: 5, types: ['pdf', 'png'] } },
      discussion: { prompt: 'Which zine *changed* your mind?' },
    });
  });

  it('the live-session form refuses a slot in a week the course does not have', async () => {
    const bad = await author.post('/teach/courses/cataloguing-zines/sessions', {
      'sessions[0].title': 'Show and tell', 'sessions[0].week': '2', 'sessions[0].weekday': 'wed', 'sessions[0].time': '18:00', 'sessions[0].durationMinutes': '60',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('value="Show and tell"');
    const ok = await author.post('/teach/courses/cataloguing-zines/sessions', {
      'sessions[0].title': 'Show and tell', 'sessions[0].week': '1', 'sessions[0].weekday': 'wed', 'sessions[0].time': '18:00', 'sessions[0].durationMinutes': '60',
    });
    expect(ok.statusCode).toBe(303);
    expect((await t.app.cc.courses.draft('cataloguing-zines')).sessions).toEqual([{ week: 1, weekday: 'wed', time: '18:00', durationMinutes: 60, title: 'Show and tell' }]);
  });

  it('the preview shows the draft as a learner sees it, sanitised', async () => {
    const res = await author.get('/teach/courses/cataloguing-zines/preview');
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('Week 1: Week 1: What is a zine?');
    expect(res.body).toContain('<h2>Start here</h2>');
    expect(res.body).toContain('What is its title?');
    expect(res.body).toContain('Live session: Show and tell');
  });

  it('publishes with a note; the history names the publisher; the catalogue lists it', async () => {
    const res = await author.post('/teach/courses/cataloguing-zines/publish', { note: 'First run' }, { fromPage: '/teach/courses/cataloguing-zines' });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/teach/courses/cataloguing-zines/versions?published=1');
    const history = await author.get('/teach/courses/cataloguing-zines/versions?published=1');
    expect(history.body).toContain('Version 1 is published');
    expect(history.body).toContain(authorEmail);
    expect(history.body).toContain('First run');
    expect((await t.app.inject({ url: '/api/v1/courses' })).json().map((c: { slug: string }) => c.slug)).toContain('cataloguing-zines');
  });

  it('removing a week takes its sessions with it; the draft then names what is missing', async () => {
    await author.post('/teach/courses/cataloguing-zines/weeks', {}, { fromPage: '/teach/courses/cataloguing-zines' });
    expect((await t.app.cc.courses.draft('cataloguing-zines')).weeks).toHaveLength(2);
    const move = await author.post('/teach/courses/cataloguing-zines/weeks/1/move', { direction: 'down' }, { fromPage: '/teach/courses/cataloguing-zines' });
    expect(move.statusCode).toBe(303);
    let draft = await t.app.cc.courses.draft('cataloguing-zines');
    expect(draft.weeks[1].title).toBe('Week 1: What is a zine?');
    expect(draft.sessions?.[0].week).toBe(2);
    const remove = await author.post('/teach/courses/cataloguing-zines/weeks/2/remove', {}, { fromPage: '/teach/courses/cataloguing-zines/weeks/2' });
    expect(remove.statusCode).toBe(303);
    draft = await t.app.cc.courses.draft('cataloguing-zines');
    expect(draft.weeks).toHaveLength(1);
    expect(draft.sessions).toEqual([]);
    const page = await author.get('/teach/courses/cataloguing-zines');
    expect(page.body).toContain('weeks[0].summary');
    expect((await author.get('/teach/courses/cataloguing-zines/weeks/7')).statusCode).toBe(404);
  });
});
