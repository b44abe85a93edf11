// The course catalogue: course files loaded and validated once at start.
import { NotFound } from '../../server/errors.js';
import { loadCourses, type Course } from './content.js';

export interface CourseSummary {
  slug: string;
  title: string;
  weeks: number;
  price: { amountMinor: number; currency: 'GBP' };
}

const moneyFormats = new Map<string, Intl.NumberFormat>();

/** Format minor units as "£195.00" (one formatter per currency: building one costs more than a whole page). */
export function formatMoney(money: { amountMinor: number; currency: string }): string {
  let f = moneyFormats.get(money.currency);
  if (!f) {
    f = new Intl.NumberFormat('en-GB', { style: 'currency', currency: money.currency });
    moneyFormats.set(money.currency, f);
  }
  return f.format(money.amountMinor / 100);
}

export interface CourseDeps {
  /** The folder of course files, read once here. */
  contentDir: string;
}

/** The catalogue service, over the course files loaded once from `contentDir`. */
export function createCourseService({ contentDir }: CourseDeps) {
  const courses = loadCourses(contentDir);
  const list = [...courses.values()];
  return {
    /** Every course, by title. */
    list(): Course[] {
      return list;
    },
    /** The course with this slug, or a 404. */
    get(slug: string): Course {
      const c = courses.get(slug);
      if (!c) throw new NotFound(`Course "${slug.slice(0, 60)}"`);
      return c;
    },
    /** Whether a slug names a course. */
    has(slug: string): boolean {
      return courses.has(slug);
    },
    /** The API shape of a course. */
    summary(c: Course): CourseSummary {
      return { slug: c.slug, title: c.title, weeks: c.weekCount, price: c.price };
    },
  };
}

export type CourseService = ReturnType<typeof createCourseService>;
