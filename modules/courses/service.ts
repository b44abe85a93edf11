// The courses module's face: the catalogue of published course versions, authoring, and money formatted for a reader.
import type { Db } from '../../server/db.js';
import type { Course, Currency, Money } from './content.js';
import { createCatalogue, type CatalogueDeps } from './catalogue.js';
import { createAuthoring } from './authoring.js';

export interface CourseSummary {
  slug: string;
  title: string;
  weeks: number;
  /** Raw: the API leaves formatting to its caller. */
  price: Money;
}

/** The locale a price is shown in when the reader's is not known: one where the currency is at home. */
const DEFAULT_LOCALES: Record<Currency, string> = { GBP: 'en-GB', USD: 'en-US', EUR: 'en-IE', CAD: 'en-CA', AUD: 'en-AU' };
const FALLBACK_LOCALE = 'en-GB';
/**
 * Formatters by "locale currency": building one costs more than a whole page. Locales come from request headers,
 * so the cache is capped; past the cap the oldest entry goes (Map keeps insertion order).
 */
const MAX_FORMATS = 100;
const moneyFormats = new Map<string, Intl.NumberFormat>();
const minorDigits = new Map<string, number>();

function moneyFormat(locale: string, currency: string): Intl.NumberFormat {
  const key = `${locale} ${currency}`;
  let f = moneyFormats.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale, { style: 'currency', currency });
    if (moneyFormats.size >= MAX_FORMATS) moneyFormats.delete(moneyFormats.keys().next().value!);
    moneyFormats.set(key, f);
  }
  return f;
}

/** The currency's ISO 4217 minor units (2 for all of ours; 0 for JPY), as Intl knows them, not assumed to be 100. */
function digitsOf(currency: string): number {
  let d = minorDigits.get(currency);
  if (d === undefined) {
    d = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    minorDigits.set(currency, d);
  }
  return d;
}

/**
 * Format minor units for a reader: "£195.00", or "250,00 $" for de-DE. Without a locale (or with one Intl refuses),
 * the currency's home locale, so GBP stays "£195.00".
 */
export function formatMoney(money: { amountMinor: number; currency: string }, locale?: string | null): string {
  const home = DEFAULT_LOCALES[money.currency as Currency] ?? FALLBACK_LOCALE;
  let f: Intl.NumberFormat;
  try {
    f = moneyFormat(locale || home, money.currency);
  } catch (err) {
    if (!(err instanceof RangeError) || !locale) throw err;
    f = moneyFormat(home, money.currency);
  }
  return f.format(money.amountMinor / 10 ** digitsOf(money.currency));
}

export type CourseDeps = CatalogueDeps;

/**
 * The catalogue service: published course versions from the database (the bundled ones imported on first start), and
 * authoring (create a course, its draft, publish, authors).
 */
export function createCourseService(deps: CourseDeps) {
  const catalogue = createCatalogue(deps);
  return {
    ...catalogue,
    ...createAuthoring(deps),
    /** Whether a slug names a published course. */
    async has(slug: string, q?: Db): Promise<boolean> {
      return (await catalogue.latestVersion(slug, q)) !== null;
    },
    /** The API shape of a course. */
    summary(c: Course): CourseSummary {
      return { slug: c.slug, title: c.title, weeks: c.weekCount, price: c.price };
    },
  };
}

export type CourseService = ReturnType<typeof createCourseService>;
