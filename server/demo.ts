// Demo data for a fresh install: people and cohorts of every bundled course, only when no cohort exists.
import { DateTime } from 'luxon';
import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from './context.js';

export const DEMO_PEOPLE = {
  admin: 'admin@example.org',
  instructor: 'instructor@example.org',
  learner: 'learner@example.org',
};

/** Create demo people and, per course, one running and one upcoming cohort. Idempotent. */
export function seedDemo(ctx: AppContext, log: FastifyBaseLogger): void {
  if (ctx.cohorts.list().length > 0) return;
  ctx.people.upsert({ email: DEMO_PEOPLE.admin, name: 'Ada Admin', role: 'admin' });
  ctx.people.upsert({ email: DEMO_PEOPLE.instructor, name: 'Imani Instructor', role: 'instructor' });
  const learner = ctx.people.upsert({ email: DEMO_PEOPLE.learner, name: 'Łucja Ó Súilleabháin', role: 'learner' });
  const today = DateTime.fromJSDate(ctx.clock.now(), { zone: 'Europe/London' }).startOf('day');
  const lastMonday = today.minus({ days: today.weekday - 1 }).minus({ weeks: 1 });
  for (const course of ctx.courses.list()) {
    const running = ctx.cohorts.create({
      course: course.slug,
      startDate: lastMonday.toISODate()!,
      timezone: 'Europe/London',
      capacity: 30,
      instructors: [DEMO_PEOPLE.instructor],
    });
    ctx.db.transaction((tx) => ctx.cohorts.enrol(tx, running.id, learner.id));
    ctx.cohorts.create({
      course: course.slug,
      startDate: lastMonday.plus({ weeks: 4 }).toISODate()!,
      timezone: 'Europe/London',
      capacity: 25,
      instructors: [DEMO_PEOPLE.instructor],
    });
  }
  log.info(`demo data created: sign in as ${DEMO_PEOPLE.admin}, ${DEMO_PEOPLE.instructor} or ${DEMO_PEOPLE.learner}; sign-in links are written to the mail folder`);
}
