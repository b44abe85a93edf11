// Course prices in other currencies: the loader accepts GBP, USD, EUR, CAD and AUD, the API returns them raw, and
// pages format them for the reader's Accept-Language (the currency's home locale without one).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContentError, loadCourses } from '../../modules/courses/content.js';
import { formatMoney } from '../../modules/courses/service.js';
import { negotiateLocale } from '../../server/locale.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

const BUNDLED = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../content');
const NBSP = '\u00a0';
const made: string[] = [];

/** A content folder holding a copy of two bundled courses: Strategic Planning repriced as `price`, Library Partnerships as it is (GBP 195). */
function contentWith(price: string): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'course-currency-'));
  made.push(root);
  for (const slug of ['strategic-planning', 'library-partnerships']) {
    fs.cpSync(path.join(BUNDLED, slug), path.join(root, slug), { recursive: true });
  }
  const yamlPath = path.join(root, 'strategic-planning', 'course.yaml');
  const yaml = fs.readFileSync(yamlPath, 'utf8');
  const repriced = yaml.replace(/^price: .*$/m, `price: ${price}`);
  expect(repriced).not.toBe(yaml);
  fs.writeFileSync(yamlPath, repriced);
  return root;
}

afterAll(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

describe('a course priced in US dollars', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ contentDir: contentWith('{ amountMinor: 25000, currency: USD }') });
  });
  afterAll(async () => {
    await t.close();
  });

  async function page(url: string, acceptLanguage?: string) {
    const res = await t.app.inject({ method: 'GET', url, headers: acceptLanguage === undefined ? {} : { 'accept-language': acceptLanguage } });
    expect(res.statusCode).toBe(200);
    return res.body;
  }

  it('is listed by the API with its price raw, in cents', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/courses', headers: { 'accept-language': 'de-DE' } });
    expect(res.statusCode).toBe(200);
    const bySlug = Object.fromEntries(res.json().map((c: { slug: string; price: unknown }) => [c.slug, c.price]));
    expect(bySlug['strategic-planning']).toEqual({ amountMinor: 25000, currency: 'USD' });
    expect(bySlug['library-partnerships']).toEqual({ amountMinor: 19500, currency: 'GBP' });
  });

  it('shows $250.00 to a reader in the US', async () => {
    expect(await page('/', 'en-US,en;q=0.9')).toContain('· $250.00 standalone');
  });

  it('shows the price the way a German, a Canadian French or a British reader writes it', async () => {
    expect(await page('/', 'de-DE')).toContain(`· 250,00${NBSP}$ standalone`);
    expect(await page('/', 'fr-CA,fr;q=0.8')).toContain(`· 250,00${NBSP}$${NBSP}US standalone`);
    expect(await page('/', 'en-GB')).toContain('· US$250.00 standalone');
  });

  it('follows the q order of the header, not the order of the tags', async () => {
    expect(await page('/', 'en-US;q=0.5, de-DE;q=0.9')).toContain(`250,00${NBSP}$`);
  });

  it('without Accept-Language, shows the US format on the catalogue and on the course page', async () => {
    expect(await page('/')).toContain('· $250.00 standalone');
    expect(await page('/courses/strategic-planning')).toContain('· $250.00 standalone');
  });

  it("shows the course page's price in the reader's locale", async () => {
    expect(await page('/courses/strategic-planning', 'de-DE')).toContain(`· 250,00${NBSP}$ standalone`);
    expect(await page('/courses/strategic-planning', 'en-US')).toContain('· $250.00 standalone');
  });

  it('leaves a GBP course at £195.00, and formats it for a German reader too', async () => {
    expect(await page('/')).toContain('· £195.00 standalone');
    expect(await page('/courses/library-partnerships')).toContain('· £195.00 standalone');
    expect(await page('/', 'en-US')).toContain('· £195.00 standalone');
    expect(await page('/', 'de-DE')).toContain(`· 195,00${NBSP}£ standalone`);
  });

  it('answers 200 with the default format whatever garbage the header holds', async () => {
    const garbage = [
      'x'.repeat(20_000),
      `${'a-'.repeat(3000)}de-DE`,
      `${'zz,'.repeat(2000)}de-DE`, // de-DE lies past the part of the header that is read
      `${'zz,'.repeat(8)}de-DE`, // and past the tags that are tried
      '*;q=abc',
      '*',
      'de-DE;q=abc',
      'de-DE;q=0',
      'en-US-US',
      ';;;,,,==;q=',
      'q=1;de',
      'éè-ÿ',
      '\u0000',
    ];
    for (const header of garbage) {
      const body = await page('/', header);
      expect(body, header.slice(0, 40)).toContain('· $250.00 standalone');
    }
  });
});

describe('the content loader and other currencies', () => {
  it('loads a course priced in EUR, CAD or AUD', () => {
    for (const currency of ['EUR', 'CAD', 'AUD']) {
      const course = loadCourses(contentWith(`{ amountMinor: 25000, currency: ${currency} }`)).get('strategic-planning')!;
      expect(course.price).toEqual({ amountMinor: 25000, currency });
    }
  });

  it('refuses JPY and a lower-case "gbp", naming price.currency', () => {
    for (const currency of ['JPY', 'gbp']) {
      let error: unknown;
      try {
        loadCourses(contentWith(`{ amountMinor: 25000, currency: ${currency} }`));
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ContentError);
      const e = error as ContentError;
      expect(e.problems).toEqual([{
        file: expect.stringMatching(/strategic-planning\/course\.yaml$/),
        field: 'price.currency',
        detail: `must be one of GBP, USD, EUR, CAD, AUD (got "${currency}")`,
      }]);
    }
  });
});

describe('formatMoney', () => {
  it('keeps its one-argument form: the currency\'s home locale', () => {
    expect(formatMoney({ amountMinor: 19500, currency: 'GBP' })).toBe('£195.00');
    expect(formatMoney({ amountMinor: 25000, currency: 'USD' })).toBe('$250.00');
    expect(formatMoney({ amountMinor: 25000, currency: 'EUR' })).toBe('€250.00');
    expect(formatMoney({ amountMinor: 25000, currency: 'CAD' })).toBe('$250.00');
    expect(formatMoney({ amountMinor: 25000, currency: 'AUD' })).toBe('$250.00');
    expect(formatMoney({ amountMinor: 5, currency: 'GBP' })).toBe('£0.05');
  });

  it('formats for a given locale, and falls back to the home locale for one Intl refuses', () => {
    expect(formatMoney({ amountMinor: 25000, currency: 'EUR' }, 'de-DE')).toBe(`250,00${NBSP}€`);
    expect(formatMoney({ amountMinor: 25000, currency: 'CAD' }, 'en-US')).toBe('CA$250.00');
    expect(formatMoney({ amountMinor: 19500, currency: 'GBP' }, 'not a locale!')).toBe('£195.00');
    expect(formatMoney({ amountMinor: 19500, currency: 'GBP' }, null)).toBe('£195.00');
  });

  it('takes minor units from the currency, not a fixed hundred', () => {
    // JPY is not a course currency, but the formatter must not assume every currency has cents.
    expect(formatMoney({ amountMinor: 2500, currency: 'JPY' }, 'en-US')).toBe('¥2,500');
  });

  it('keeps working past its cache of formatters (locales come from request headers)', () => {
    const tags = Intl.NumberFormat.supportedLocalesOf(
      ['af', 'ar', 'bg', 'ca', 'cs', 'da', 'de', 'el', 'es', 'et', 'fi', 'fr', 'he', 'hi', 'hr', 'hu', 'id', 'it', 'ja', 'ko', 'lt', 'lv', 'nb', 'nl', 'pl', 'pt', 'ro', 'ru', 'sk', 'sl', 'sr', 'sv', 'th', 'tr', 'uk', 'vi', 'zh'],
    );
    for (let round = 0; round < 2; round++) {
      for (const tag of tags) {
        for (const currency of ['GBP', 'USD', 'EUR', 'CAD', 'AUD']) {
          expect(formatMoney({ amountMinor: 100, currency }, tag)).toBe(new Intl.NumberFormat(tag, { style: 'currency', currency }).format(1));
        }
      }
    }
  });
});

describe("the reader's locale from Accept-Language", () => {
  it('is the first tag by q order that Intl can format for, canonicalised', () => {
    expect(negotiateLocale('de-DE')).toBe('de-DE');
    expect(negotiateLocale('EN-us')).toBe('en-US');
    expect(negotiateLocale('fr-CA;q=0.3, en-AU;q=0.7, de;q=0.5')).toBe('en-AU');
    expect(negotiateLocale('zz, *;q=0.9, fr;q=0.8')).toBe('fr');
    expect(negotiateLocale('en-US;q=0.5, de-DE;q=0.5')).toBe('en-US');
  });

  it('is null for a header with nothing usable', () => {
    for (const header of ['', '*', '*;q=abc', 'zz', 'de;q=0', 'de;q=2', 'de;q=abc', 'x'.repeat(5000), 'éè', '\uD800']) {
      expect(negotiateLocale(header), header.slice(0, 20)).toBeNull();
    }
  });
});
