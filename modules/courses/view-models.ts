// The page model of a course: its card in the catalogue and its own page (the cohorts module shows that page, with
// the course's upcoming cohorts).
import { formatMoney } from './service.js';
import type { Course } from './content.js';

const weekdayNames = ['', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

const views = new WeakMap<Course, ReturnType<typeof buildCourseView>>();

/**
 * The page model of a course card and course page, with the price in the reader's locale (from readerLocale;
 * null or absent: the currency's home locale). The rest is made once per course: course files do not change while
 * running.
 */
export function courseView(c: Course, locale?: string | null) {
  let v = views.get(c);
  if (!v) {
    v = buildCourseView(c);
    views.set(c, v);
  }
  return locale ? { ...v, price: formatMoney(c.price, locale) } : v;
}

function buildCourseView(c: Course) {
  return {
    slug: c.slug,
    title: c.title,
    summary: c.summary,
    descriptionHtml: c.descriptionHtml,
    audience: c.audience,
    outcomes: c.outcomes,
    weekCount: c.weekCount,
    hoursPerWeek: c.hoursPerWeek,
    price: formatMoney(c.price),
    sessionCount: c.sessions.length,
    certificate: c.certificate,
    weeks: c.weeks.map((w) => ({
      number: w.number,
      title: w.title,
      summary: w.summary,
      session: c.sessions
        .filter((s) => s.week === w.number)
        .map((s) => ({ title: s.title, when: `${weekdayNames[s.weekday]} ${s.time}`, minutes: s.durationMinutes })),
    })),
  };
}
