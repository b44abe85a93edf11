// Demo data for a fresh install: people, bookings and cohorts of every bundled course with some life in
// them (session links, a recording, discussion posts, a worksheet draft), only when no cohort exists.
import { DateTime } from 'luxon';
import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from './context.js';

export const DEMO_PEOPLE = {
  admin: 'admin@example.org',
  instructor: 'instructor@example.org',
  learner: 'learner@example.org',
  standalone: 'sam@library.example',
};

/** Run one demo step; a step that fails (say, a module changed its rules) is logged, never fatal. */
async function step(log: FastifyBaseLogger, what: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    log.warn({ err }, `demo data: skipped ${what}`);
  }
}

/** Create demo people and, per course, one running and one upcoming cohort. Idempotent. */
export async function seedDemo(ctx: AppContext, log: FastifyBaseLogger): Promise<void> {
  if ((await ctx.cohorts.list()).length > 0) return;
  const admin = await ctx.people.upsert({ email: DEMO_PEOPLE.admin, name: 'Ada Admin', role: 'admin' });
  const instructor = await ctx.people.upsert({ email: DEMO_PEOPLE.instructor, name: 'Imani Instructor', role: 'instructor' });
  const learner = await ctx.people.upsert({ email: DEMO_PEOPLE.learner, name: 'Łucja Ó Súilleabháin', role: 'learner' });
  await step(log, 'member list', async () => ctx.bookings.addMember({ domain: 'example.org' }, admin));
  const now = ctx.clock.now();
  const today = DateTime.fromJSDate(now, { zone: 'Europe/London' }).startOf('day');
  const lastMonday = today.minus({ days: today.weekday - 1 }).minus({ weeks: 1 });
  for (const course of await ctx.courses.list()) {
    const running = await ctx.cohorts.create({
      course: course.slug,
      startDate: lastMonday.toISODate()!,
      timezone: 'Europe/London',
      capacity: 30,
      instructors: [DEMO_PEOPLE.instructor],
    });
    await step(log, 'member booking', async () => ctx.bookings.book({ cohortId: running.id, email: learner.email, name: learner.name, kind: 'member', actor: admin }));
    await step(log, 'standalone booking', () =>
      ctx.bookings.book({ cohortId: running.id, email: DEMO_PEOPLE.standalone, name: 'Sam Standalone', kind: 'standalone', actor: null }),
    );
    const staff = await ctx.cohorts.access(instructor, running.id);
    await step(log, 'session links', async () => {
      for (const s of await ctx.sessions.list(running)) {
        const ended = s.endsAt.getTime() < now.getTime();
        await ctx.sessions.update(staff, s, {
          joinUrl: `https://meet.example.org/${course.slug}-${s.week}`,
          ...(ended ? { recordingUrl: `https://video.example.org/${course.slug}-${s.week}` } : {}),
        });
      }
    });
    await step(log, 'discussion', async () => {
      const thread = await ctx.discussions.weekThread(staff, 1);
      if (!thread) return;
      const scope = await ctx.discussions.threadInCohort(staff, thread.id);
      await ctx.discussions.createPost(scope, { body: 'Welcome, everyone! Introduce yourself: where you work, and one thing you hope to change this term.' });
      const mine = await ctx.cohorts.access(learner, running.id);
      await ctx.discussions.createPost(await ctx.discussions.threadInCohort(mine, thread.id), {
        body: 'Hello from a county library service. I look after our **branch libraries** and want a plan our front-line staff actually recognise.',
      });
    });
    await step(log, 'worksheet draft', async () => {
      const mine = await ctx.cohorts.access(learner, running.id);
      const prompts = course.weeks[0].assignment?.prompts ?? [];
      if (prompts.length === 0) return;
      await ctx.assignments.save(mine, 1, { answers: { [prompts[0].id]: 'A first thought, to finish later.' }, submit: false });
    });
    await ctx.cohorts.create({
      course: course.slug,
      startDate: lastMonday.plus({ weeks: 4 }).toISODate()!,
      timezone: 'Europe/London',
      capacity: 25,
      instructors: [DEMO_PEOPLE.instructor],
    });
  }
  log.info(
    `demo data created: sign in as ${DEMO_PEOPLE.admin}, ${DEMO_PEOPLE.instructor} or ${DEMO_PEOPLE.learner}; sign-in links are written to the mail folder`,
  );
}
