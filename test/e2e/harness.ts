// Browser-test harness: the real server on a real database file, Debian's Chromium, axe on every page, phone checks, failure screenshots.
import { createHash } from 'node:crypto';
import { afterEach, beforeEach } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import { simpleParser, type ParsedMail } from 'mailparser';
import { buildApp, type BuildAppOptions } from '../../server/app.js';
import { ManualClock } from '../../server/clock.js';
import { freePort } from '../helpers/ports.js';
import type { AppContext } from '../../server/context.js';
import { createEmlTransport } from '../../server/mailer.js';

/** Where failure screenshots and page HTML go (gitignored). */
export const ARTEFACTS_DIR = resolve(process.cwd(), 'test-results', 'e2e');

/** The launch flags that work for Debian's Chromium on these machines (see STACK.md). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The phone the learner journey runs on: 390 px wide, touch. */
export const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 } as const;

export interface E2EServer {
  app: FastifyInstance;
  ctx: AppContext;
  clock: ManualClock;
  /** http://127.0.0.1:<port> — where the browser goes. */
  baseUrl: string;
  dir: string;
  mailDir: string;
  /** Deliver what the outbox holds and return every mail written so far, oldest first. */
  mails(): Promise<ParsedMail[]>;
  /** Wait (briefly, in real time) until a mail to `to` matching `subject` has arrived; the newest such mail. */
  waitForMail(to: string, subject?: RegExp | string, after?: number): Promise<ParsedMail>;
  /** Move the clock to an instant (or by a duration), then run the scheduler and deliver the outbox. */
  moveClock(to: string | Date | { days?: number; hours?: number; minutes?: number }): Promise<void>;
  close(): Promise<void>;
}


/**
 * Start the real server, in-process, on a fresh SQLite file, with a manual clock and mail written as .eml files.
 * `payments` (e.g. the Stripe stand-in's settings) turns card payments on; without it, invoices only, as before.
 */
export async function startServer(opts: { now?: string; payments?: BuildAppOptions['payments'] } = {}): Promise<E2EServer> {
  const dir = mkdtempSync(join(tmpdir(), 'cc-e2e-'));
  const mailDir = join(dir, 'mail');
  const clock = new ManualClock(opts.now ?? '2026-02-16T10:00:00.000Z');
  let app: FastifyInstance | null = null;
  let baseUrl = '';
  // The port is probed then bound; retry in the unlikely case another process took it in between.
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    app = await buildApp({
      databasePath: join(dir, 'e2e.db'),
      clock,
      mailTransport: createEmlTransport(mailDir),
      baseUrl,
      workers: true,
      payments: opts.payments,
    });
    try {
      await app.listen({ port, host: '127.0.0.1' });
      break;
    } catch (err) {
      await app.close();
      if (attempt >= 3) throw err;
    }
  }
  const server = app!;
  const ctx = server.cc;

  const readAll = async (): Promise<ParsedMail[]> => {
    await ctx.mailer.deliverDue();
    let files: string[] = [];
    try {
      files = readdirSync(mailDir).filter((f) => f.endsWith('.eml')).sort();
    } catch {
      return [];
    }
    return Promise.all(files.map((f) => simpleParser(readFileSync(join(mailDir, f)))));
  };

  return {
    app: server,
    ctx,
    clock,
    baseUrl,
    dir,
    mailDir,
    mails: readAll,
    async waitForMail(to, subject, after = 0) {
      const matches = (m: ParsedMail) =>
        JSON.stringify(m.to ?? '').toLowerCase().includes(to.toLowerCase()) &&
        (subject === undefined || (typeof subject === 'string' ? m.subject === subject : subject.test(m.subject ?? '')));
      const deadline = Date.now() + 10_000;
      for (;;) {
        const found = (await readAll()).filter(matches);
        if (found.length > after) return found[found.length - 1];
        if (Date.now() > deadline) {
          const seen = (await readAll()).map((m) => `${JSON.stringify(m.to)}: ${m.subject}`).join('\n  ');
          throw new Error(`no mail to ${to}${subject ? ` matching ${subject}` : ''} arrived; mail so far:\n  ${seen || '(none)'}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async moveClock(to) {
      if (typeof to === 'string' || to instanceof Date) clock.set(to);
      else clock.advance(to);
      await ctx.scheduler.runDue();
      await ctx.mailer.deliverDue();
    },
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A JSON API call with a Bearer token (for the parts of a journey that are not about pages). */
export async function api(server: E2EServer, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(server.baseUrl + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  if (res.status >= 400) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 500)}`);
  return { status: res.status, json };
}

/** Launch Debian's Chromium through playwright-core (no browser download is possible here). */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(`Chromium not found at ${executablePath}: install Debian's chromium (apt-get install chromium, or run .ci/run), or set CHROMIUM_PATH`);
  }
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true });
}

/** The link in a mail's plain-text part whose path matches `pattern`. */
export function linkIn(mail: ParsedMail, pattern: RegExp): string {
  const links = (mail.text ?? '').match(/https?:\/\/[^\s<>")]+/g) ?? [];
  const link = links.find((l) => pattern.test(new URL(l).pathname));
  if (!link) throw new Error(`no link matching ${pattern} in mail "${mail.subject}":\n${mail.text}`);
  return link;
}

// ---------------------------------------------------------------------------------------------
// Sessions: one per person, each a browser context (axe needs pages from browser.newContext()).


/** One person at one device: a browser context and page that audits every page it reaches. */
export class Person {
  /** Every URL the page's main frame reached (without #fragment), and those axe has checked. */
  readonly visits: string[] = [];
  readonly audited = new Set<string>();
  readonly consoleErrors: string[] = [];
  private constructor(
    readonly name: string,
    readonly context: BrowserContext,
    readonly page: Page,
    readonly phone: boolean,
    readonly server: E2EServer,
  ) {
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) this.visits.push(withoutHash(frame.url()));
    });
    page.on('pageerror', (err) => this.consoleErrors.push(String(err)));
  }

  /** Open a fresh browser context (a person with no cookies) on a desktop or a 390 px phone. */
  static async open(browser: Browser, server: E2EServer, name: string, opts: { phone?: boolean } = {}): Promise<Person> {
    const context = await browser.newContext({
      baseURL: server.baseUrl,
      locale: 'en-GB',
      timezoneId: 'Europe/London',
      ...(opts.phone ? PHONE : { viewport: { width: 1280, height: 900 } }),
    });
    context.setDefaultTimeout(10_000);
    context.setDefaultNavigationTimeout(15_000);
    const page = await context.newPage();
    const person = new Person(name, context, page, Boolean(opts.phone), server);
    openPeople.add(person);
    return person;
  }

  /** Go to a path (or absolute URL), check the status, and audit the page. */
  async goto(path: string, expectStatus = 200): Promise<void> {
    const res = await this.page.goto(path);
    if (res && res.status() !== expectStatus) {
      throw new Error(`${this.name}: GET ${path} answered ${res.status()}, expected ${expectStatus}`);
    }
    await this.audit();
  }

  /** Click something that loads a new page (link or submit button), wait for it and audit it. */
  async clickAndLoad(target: Locator, expectStatus?: number): Promise<void> {
    const [res] = await Promise.all([this.page.waitForNavigation({ waitUntil: 'load' }), target.click()]);
    if (expectStatus !== undefined && res && res.status() !== expectStatus) {
      throw new Error(`${this.name}: ${this.page.url()} answered ${res.status()}, expected ${expectStatus}`);
    }
    await this.audit();
  }

  /** Press a key that loads a new page (Enter on a focused button or link), wait for it and audit it. */
  async pressAndLoad(key: 'Enter' | 'Space'): Promise<void> {
    await Promise.all([this.page.waitForNavigation({ waitUntil: 'load' }), this.page.keyboard.press(key === 'Space' ? ' ' : key)]);
    await this.audit();
  }

  /** Download what a link points at, as this person (their cookies): the browser's download when it offers one. */
  async download(link: Locator): Promise<{ url: string; filename: string; body: Buffer }> {
    const href = await link.getAttribute('href');
    if (!href) throw new Error(`${this.name}: the download link has no href`);
    const url = new URL(href, this.page.url()).toString();
    const [download] = await Promise.all([this.page.waitForEvent('download'), link.click({ modifiers: ['Alt'] })]);
    const path = await download.path();
    return { url, filename: download.suggestedFilename(), body: readFileSync(path) };
  }

  /**
   * axe-core (WCAG 2.0–2.2 A/AA rules) on the current page: fails on serious or critical violations; on a phone
   * also no sideways scroll. A page whose structure (elements, classes, roles, ARIA, which have text) matches one
   * axe already passed in this run is not analysed again: the sign-in pages differ only in tokens, for example.
   */
  async audit(): Promise<void> {
    const url = withoutHash(this.page.url());
    const started = Date.now();
    const fingerprint = `${this.phone ? 'phone' : 'desktop'}:${await this.page.evaluate(pageStructure)}`;
    if (!passedStructures.has(fingerprint)) {
      const results = await new AxeBuilder({ page: this.page })
        .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'])
        .options({ resultTypes: ['violations'] })
        .analyze();
      const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      if (process.env.E2E_AXE_ALL) {
        for (const v of results.violations) if (!bad.includes(v)) console.log(`axe [${v.impact}] ${v.id} on ${url}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(' | ')}`);
      }
      if (bad.length > 0) {
        const list = bad
          .map((v) => `  [${v.impact}] ${v.id}: ${v.help}\n${v.nodes.slice(0, 5).map((n) => `      at ${n.target.join(' ')} — ${n.failureSummary?.split('\n').slice(1).join('; ')}`).join('\n')}`)
          .join('\n');
        throw new Error(`accessibility violations on ${url} (${this.name}):\n${list}`);
      }
      passedStructures.add(fingerprint);
    }
    if (this.phone) await this.assertNoSidewaysScroll();
    if (process.env.E2E_TIMING) console.log(`axe ${Date.now() - started} ms ${url} ${createHash('sha1').update(fingerprint).digest('hex').slice(0, 8)} ${fingerprint.length}`);
    this.audited.add(url);
  }

  /** On a 390 px phone the page must not scroll sideways. */
  async assertNoSidewaysScroll(): Promise<void> {
    const { scrollWidth, clientWidth, culprits } = await this.page.evaluate(() => {
      const doc = document.documentElement;
      const limit = doc.clientWidth;
      const wide = [...document.body.querySelectorAll('*')]
        .filter((el) => el.getBoundingClientRect().right > limit + 1)
        .slice(0, 5)
        .map((el) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : ''}`);
      return { scrollWidth: doc.scrollWidth, clientWidth: limit, culprits: wide };
    });
    if (scrollWidth > 390 || scrollWidth > clientWidth) {
      throw new Error(`${this.page.url()} scrolls sideways on a 390 px phone (scrollWidth ${scrollWidth}); too wide: ${culprits.join(', ')}`);
    }
  }

  /** Pages reached but never audited (the journey must audit every page it reaches). */
  unaudited(): string[] {
    return [...new Set(this.visits.filter((u) => !this.audited.has(u) && u !== 'about:blank'))];
  }

  /** Sign in through the real emailed-link flow: the form, the .eml, the confirm page's "Sign in" button. */
  async signIn(email: string, opts: { from?: string } = {}): Promise<void> {
    const before = (await this.server.mails()).filter((m) => JSON.stringify(m.to ?? '').toLowerCase().includes(email.toLowerCase()) && m.subject === 'Your sign-in link').length;
    await this.goto(opts.from ?? '/sign-in');
    const page = this.page;
    await page.getByLabel('Email address').fill(email);
    await this.clickAndLoad(page.getByRole('button', { name: 'Email me a sign-in link' }));
    await page.getByRole('heading', { level: 1, name: 'Check your email' }).waitFor();
    const t0 = Date.now();
    const mail = await this.server.waitForMail(email, 'Your sign-in link', before);
    if (process.env.E2E_TIMING) console.log(`mail wait ${Date.now() - t0} ms`);
    await this.goto(linkIn(mail, /\/sign-in\/[A-Za-z0-9_-]+$/));
    await this.clickAndLoad(page.getByRole('button', { name: 'Sign in' }));
  }

  async close(): Promise<void> {
    openPeople.delete(this);
    await this.context.close().catch(() => {});
  }
}

const openPeople = new Set<Person>();
/** Test files whose old failure artefacts have been cleared in this run. */
const clearedFor = new Set<string>();
/** Page structures axe has passed in this run (see Person.audit). */
const passedStructures = new Set<string>();

/** A page's structure without its text or values: tag, id, classes, role, ARIA and form attributes, and whether it has text. Runs in the page. */
function pageStructure(): string {
  const keep = /^(id|class|role|type|for|name|alt|title|lang|scope|tabindex|disabled|hidden|required|checked|selected|aria-[a-z]+)$/;
  const parts: string[] = [];
  const walk = (el: Element, depth: number) => {
    const attrs = [...el.attributes]
      .filter((a) => keep.test(a.name))
      .map((a) => (a.name === 'aria-label' || a.name === 'title' || a.name === 'alt' ? `${a.name}${a.value.trim() ? '+' : '-'}` : `${a.name}=${a.value}`))
      .join(',');
    const text = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent!.trim() !== '') ? 't' : '';
    parts.push(`${depth}${el.tagName}[${attrs}]${text}`);
    for (const child of el.children) walk(child, depth + 1);
  };
  walk(document.documentElement, 0);
  return parts.join(';');
}

/**
 * For afterEach: on failure save a screenshot and the HTML of every open page under test-results/e2e/;
 * on success require every page reached to have been audited. People are closed unless `keepOpen`
 * (journeys whose chapters share people); call closeEveryone() in afterAll then.
 */
export async function afterJourney(
  task: { name: string; file?: { name: string }; result?: { state?: string } },
  opts: { keepOpen?: boolean } = {},
): Promise<void> {
  const failed = task.result?.state === 'fail';
  const people = [...openPeople];
  const fileSlug = slug((task.file?.name ?? '').replace(/^.*\//, '').replace(/\.test\.ts$/, ''));
  if (!clearedFor.has(fileSlug)) {
    // Artefacts of an earlier run of this file would mislead: clear them once per run.
    clearedFor.add(fileSlug);
    if (existsSync(ARTEFACTS_DIR)) for (const f of readdirSync(ARTEFACTS_DIR)) if (f.startsWith(`${fileSlug}-`)) rmSync(join(ARTEFACTS_DIR, f), { force: true });
  }
  let missing: string[] = [];
  try {
    if (failed) {
      mkdirSync(ARTEFACTS_DIR, { recursive: true });
      const base = `${fileSlug}-${slug(task.name)}`;
      for (const p of people) {
        const file = join(ARTEFACTS_DIR, `${base}--${slug(p.name)}`);
        await p.page.screenshot({ path: `${file}.png`, fullPage: true }).catch(() => {});
        const html = await p.page.content().catch(() => '');
        writeFileSync(`${file}.html`, `<!-- ${p.page.url()} -->\n${html}`);
      }
      console.error(`e2e failure artefacts saved under ${ARTEFACTS_DIR} as ${base}--*.png/.html`);
    } else {
      missing = people.flatMap((p) => p.unaudited().map((u) => `${p.name}: ${u}`));
    }
  } finally {
    if (!opts.keepOpen || failed) await closeEveryone();
  }
  if (missing.length) throw new Error(`pages reached without an accessibility audit:\n  ${missing.join('\n  ')}`);
}

/**
 * The hooks of a journey whose chapters (tests) share people and data: after a failure the rest are skipped rather
 * than failing confusingly, and each chapter ends with afterJourney, people kept open (closeEveryone() in afterAll).
 */
export function chapterHooks(): void {
  let broken = false;
  beforeEach((ctx) => {
    if (broken) ctx.skip();
  });
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') broken = true;
    await afterJourney(ctx.task, { keepOpen: true });
  });
}

/** Close every open browser context. */
export async function closeEveryone(): Promise<void> {
  for (const p of [...openPeople]) await p.close();
}

function withoutHash(url: string): string {
  return url.replace(/#.*$/, '');
}

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 120);
}

// ---------------------------------------------------------------------------------------------
// Keyboard only: reach controls with Tab, operate them with keys.

/** Press Tab until `target` has focus (fails after `max` presses); checks the focus is visible. */
export async function tabTo(page: Page, target: Locator, max = 80): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await target.evaluate((el) => el === document.activeElement).catch(() => false)) {
      const visible = await target.evaluate((el) => {
        const s = getComputedStyle(el);
        return el.matches(':focus-visible') && ((s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none');
      });
      if (!visible) throw new Error(`keyboard focus on ${await describe(target)} is not visible`);
      return;
    }
  }
  throw new Error(`could not reach ${await describe(target)} with ${max} presses of Tab`);
}

/** Tab to a text field and type into it (replacing what is there). */
export async function keyboardType(page: Page, field: Locator, text: string): Promise<void> {
  await tabTo(page, field);
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  if (text) await page.keyboard.type(text);
}

/** Tab to a checkbox or radio and make it checked (or not) with the Space bar. */
export async function keyboardCheck(page: Page, box: Locator, checked = true): Promise<void> {
  await tabTo(page, box);
  if ((await box.isChecked()) !== checked) await page.keyboard.press(' ');
  if ((await box.isChecked()) !== checked) throw new Error(`Space did not ${checked ? 'check' : 'uncheck'} ${await describe(box)}`);
}

/** Select a radio in a group by keyboard: Tab into the group, then arrow keys until `radio` is checked. */
export async function keyboardChooseRadio(page: Page, radio: Locator, max = 10): Promise<void> {
  const name = await radio.getAttribute('name');
  for (let i = 0; i < 80; i++) {
    const inGroup = await page.evaluate((n) => (document.activeElement as HTMLInputElement | null)?.name === n, name);
    if (inGroup) break;
    await page.keyboard.press('Tab');
  }
  for (let i = 0; i < max && !(await radio.isChecked()); i++) await page.keyboard.press('ArrowDown');
  if (!(await radio.isChecked())) throw new Error(`arrow keys did not reach ${await describe(radio)}`);
}

async function describe(l: Locator): Promise<string> {
  return l
    .evaluate((el) => `<${el.tagName.toLowerCase()} ${[...el.attributes].map((a) => `${a.name}="${a.value}"`).join(' ')}>`)
    .catch(() => String(l));
}
