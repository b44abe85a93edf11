// Cohorts: create and read runs of a course, who belongs to them, and what each person may see when.
import { and, asc, eq, inArray } from 'drizzle-orm';
import { DateTime } from 'luxon';
import type { AppContext } from '../../server/context.js';
import type { Db } from '../../server/db.js';
import { BadInput, Forbidden, NotFound, NotSignedIn } from '../../server/errors.js';
import { renderMarkdown } from '../../server/markdown.js';
import { isValidZone } from '../../server/time.js';
import type { User } from '../people/service.js';
import type { Course, Week } from '../courses/content.js';
import { cohortInstructors, cohorts, enrolments, weekOverrides } from './schema.js';
import { cohortState, computeTimeline, type CohortState, type Timeline } from './timeline.js';

export type CohortRow = typeof cohorts.$inferSelect;
export type CohortRole = 'admin' | 'instructor' | 'learner';

export interface Cohort extends CohortRow {
  course: Course;
  timeline: Timeline;
}

export interface CohortAccess {
  cohort: Cohort;
  user: User;
  role: CohortRole;
}

/** Called inside the transaction that creates or moves a cohort (sessions and schedules hang off these). */
export type CohortHook = (tx: Db, cohort: Cohort, change: 'created' | 'moved') => void;

export interface CohortSessionSummary {
  id: number;
  week: number;
  startsAt: Date;
  endsAt: Date;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Refuses a local date that is not a real YYYY-MM-DD day. */
export function checkDate(value: string, field = 'startDate'): string {
  if (!DATE.test(value) || !DateTime.fromISO(value).isValid) throw new BadInput(`${field} must be a date like 2026-03-02.`);
  return value;
}

export function createCohortService(ctx: AppContext) {
  const { clock } = ctx;
  const db = () => ctx.db;
  const hooks: CohortHook[] = [];
  let sessionLister: (cohort: Cohort) => CohortSessionSummary[] = () => [];
  const htmlCache = new Map<string, string>();

  function hydrate(row: CohortRow): Cohort {
    const course = ctx.courses.get(row.courseSlug);
    const timeline = computeTimeline({ startDate: row.startDate, timezone: row.timezone, weekCount: course.weekCount, releaseTime: course.releaseTime });
    return { ...row, course, timeline };
  }

  const service = {
    /** Register a hook run inside every cohort create/move transaction. */
    onChange(hook: CohortHook): void {
      hooks.push(hook);
    },

    /** The sessions module supplies a cohort's live sessions for the cohort document. */
    setSessionLister(fn: (cohort: Cohort) => CohortSessionSummary[]): void {
      sessionLister = fn;
    },

    /** The cohort's live sessions (empty until the sessions module provides them). */
    sessions(cohort: Cohort): CohortSessionSummary[] {
      return sessionLister(cohort);
    },

    /** Create a cohort of a course (admin). Instructors are created or promoted to the instructor role. */
    create(input: { course: string; startDate: string; timezone: string; capacity: number; instructors: string[] }): Cohort {
      if (!ctx.courses.has(input.course)) throw new BadInput(`course "${input.course.slice(0, 60)}" does not exist.`);
      checkDate(input.startDate);
      if (!isValidZone(input.timezone)) throw new BadInput(`timezone "${input.timezone.slice(0, 60)}" is not an IANA time zone (e.g. Europe/London).`);
      if (!Number.isInteger(input.capacity) || input.capacity < 1 || input.capacity > 10_000) throw new BadInput('capacity must be a whole number from 1 to 10000.');
      const instructorUsers = input.instructors.map((email) => {
        const u = ctx.people.ensure(email);
        return u.role === 'learner' ? ctx.people.upsert({ email: u.email, role: 'instructor' }) : u;
      });
      const now = clock.now();
      return db().transaction((tx) => {
        const row = tx
          .insert(cohorts)
          .values({ courseSlug: input.course, startDate: input.startDate, timezone: input.timezone, capacity: input.capacity, createdAt: now, updatedAt: now })
          .returning()
          .get();
        for (const u of instructorUsers) tx.insert(cohortInstructors).values({ cohortId: row.id, userId: u.id }).onConflictDoNothing().run();
        const cohort = hydrate(row);
        for (const hook of hooks) hook(tx, cohort, 'created');
        return cohort;
      });
    },

    /** Move a cohort to a new start date and/or zone; hooks recompute what hangs off it. */
    move(id: number, input: { startDate?: string; timezone?: string }): Cohort {
      const current = service.get(id);
      const startDate = input.startDate ? checkDate(input.startDate) : current.startDate;
      const timezone = input.timezone ?? current.timezone;
      if (!isValidZone(timezone)) throw new BadInput(`timezone "${timezone.slice(0, 60)}" is not an IANA time zone.`);
      return db().transaction((tx) => {
        const row = tx.update(cohorts).set({ startDate, timezone, updatedAt: clock.now() }).where(eq(cohorts.id, id)).returning().get();
        const cohort = hydrate(row);
        for (const hook of hooks) hook(tx, cohort, 'moved');
        return cohort;
      });
    },

    /** Change capacity (admin). */
    setCapacity(id: number, capacity: number): Cohort {
      if (!Number.isInteger(capacity) || capacity < 1 || capacity > 10_000) throw new BadInput('capacity must be a whole number from 1 to 10000.');
      const row = db().update(cohorts).set({ capacity, updatedAt: clock.now() }).where(eq(cohorts.id, id)).returning().get();
      if (!row) throw new NotFound('Cohort');
      return hydrate(row);
    },

    /** Replace the cohort's instructors (admin). */
    setInstructors(id: number, emails: string[]): void {
      service.get(id);
      const ids = emails.map((email) => {
        const u = ctx.people.ensure(email);
        return (u.role === 'learner' ? ctx.people.upsert({ email: u.email, role: 'instructor' }) : u).id;
      });
      db().transaction((tx) => {
        tx.delete(cohortInstructors).where(eq(cohortInstructors.cohortId, id)).run();
        for (const userId of ids) tx.insert(cohortInstructors).values({ cohortId: id, userId }).run();
      });
    },

    /** The cohort with its course and timeline, or 404. */
    get(id: number): Cohort {
      const row = db().select().from(cohorts).where(eq(cohorts.id, id)).get();
      if (!row) throw new NotFound('Cohort');
      return hydrate(row);
    },

    /** Every cohort, newest start first. */
    list(): Cohort[] {
      return db().select().from(cohorts).orderBy(asc(cohorts.startDate), asc(cohorts.id)).all().map(hydrate);
    },

    /** The cohorts a user belongs to (as learner or instructor), with their role in each. */
    listForUser(user: User): Array<{ cohort: Cohort; role: CohortRole }> {
      if (user.role === 'admin') return service.list().map((cohort) => ({ cohort, role: 'admin' as const }));
      const taught = db().select({ id: cohortInstructors.cohortId }).from(cohortInstructors).where(eq(cohortInstructors.userId, user.id)).all().map((r) => r.id);
      const learning = db()
        .select({ id: enrolments.cohortId })
        .from(enrolments)
        .where(and(eq(enrolments.userId, user.id), eq(enrolments.status, 'active')))
        .all()
        .map((r) => r.id);
      const ids = [...new Set([...taught, ...learning])];
      if (ids.length === 0) return [];
      return db()
        .select()
        .from(cohorts)
        .where(inArray(cohorts.id, ids))
        .orderBy(asc(cohorts.startDate))
        .all()
        .map((row) => ({ cohort: hydrate(row), role: taught.includes(row.id) ? ('instructor' as const) : ('learner' as const) }));
    },

    /** Cohorts of a course still open for booking (before endsAt). */
    upcomingForCourse(slug: string, _user?: User | null): Array<{ id: number; startDate: string; timezone: string; state: CohortState }> {
      const now = clock.now();
      return db()
        .select()
        .from(cohorts)
        .where(eq(cohorts.courseSlug, slug))
        .orderBy(asc(cohorts.startDate))
        .all()
        .map(hydrate)
        .filter((c) => c.timeline.endsAt.getTime() > now.getTime())
        .map((c) => ({ id: c.id, startDate: c.startDate, timezone: c.timezone, state: cohortState(c.timeline, now) }));
    },

    /** The user's role in the cohort, or null when they do not belong to it. */
    roleIn(user: User, cohortId: number): CohortRole | null {
      if (user.role === 'admin') return 'admin';
      const teaches = db()
        .select({ id: cohortInstructors.userId })
        .from(cohortInstructors)
        .where(and(eq(cohortInstructors.cohortId, cohortId), eq(cohortInstructors.userId, user.id)))
        .get();
      if (teaches) return 'instructor';
      const enrolled = db()
        .select({ id: enrolments.id })
        .from(enrolments)
        .where(and(eq(enrolments.cohortId, cohortId), eq(enrolments.userId, user.id), eq(enrolments.status, 'active')))
        .get();
      return enrolled ? 'learner' : null;
    },

    /**
     * The one cohort guard: 401 when signed out, 404 for an unknown cohort, 403 outside it or without one of `roles`.
     * Learners are also refused once access has ended (accessEndsAt).
     */
    access(user: User | null, cohortId: number, roles: CohortRole[] = ['admin', 'instructor', 'learner']): CohortAccess {
      if (!user) throw new NotSignedIn();
      const cohort = service.get(cohortId);
      const role = service.roleIn(user, cohortId);
      if (!role) throw new Forbidden('You are not part of this cohort.');
      if (!roles.includes(role)) throw new Forbidden('Only the cohort’s instructors and admins can do this.');
      if (role === 'learner' && clock.now().getTime() >= cohort.timeline.accessEndsAt.getTime()) {
        throw new Forbidden('This cohort has been archived; its material is no longer available.');
      }
      return { cohort, user, role };
    },

    /** Refuses a learner a week before it opens; instructors and admins always pass. */
    assertWeekOpen(access: CohortAccess, n: number): void {
      const week = access.cohort.timeline.weeks[n - 1];
      if (!week) throw new NotFound(`Week ${n}`);
      if (access.role !== 'learner') return;
      if (clock.now().getTime() < week.opensAt.getTime()) throw new Forbidden(`Week ${n} opens on ${week.opensAt.toISOString()}.`);
    },

    /** A week's content for this cohort: the course file, overlaid by the cohort's own edit if any. */
    week(cohort: Cohort, n: number): { number: number; title: string; markdown: string; html: string; source: Week; edited: boolean } {
      const source = cohort.course.weeks[n - 1];
      if (!source) throw new NotFound(`Week ${n}`);
      const override = db()
        .select()
        .from(weekOverrides)
        .where(and(eq(weekOverrides.cohortId, cohort.id), eq(weekOverrides.week, n)))
        .get();
      if (!override) return { number: n, title: source.title, markdown: source.markdown, html: source.html, source, edited: false };
      const markdown = override.markdown ?? source.markdown;
      const key = `${cohort.id}:${n}:${override.updatedAt.getTime()}`;
      let html = htmlCache.get(key);
      if (html === undefined) {
        html = override.markdown === null ? source.html : renderMarkdown(markdown);
        htmlCache.set(key, html);
      }
      return { number: n, title: override.title ?? source.title, markdown, html, source, edited: true };
    },

    /** An instructor's edit of a week's title and/or text for this cohort only. */
    editWeek(cohort: Cohort, n: number, userId: number, patch: { title?: string; markdown?: string }): void {
      if (!cohort.course.weeks[n - 1]) throw new NotFound(`Week ${n}`);
      const now = clock.now();
      db()
        .insert(weekOverrides)
        .values({ cohortId: cohort.id, week: n, title: patch.title ?? null, markdown: patch.markdown ?? null, updatedBy: userId, updatedAt: now })
        .onConflictDoUpdate({
          target: [weekOverrides.cohortId, weekOverrides.week],
          set: { ...(patch.title !== undefined ? { title: patch.title } : {}), ...(patch.markdown !== undefined ? { markdown: patch.markdown } : {}), updatedBy: userId, updatedAt: now },
        })
        .run();
    },

    /** Enrol a learner (inside the caller's transaction, e.g. a confirmed booking). Re-activates a withdrawn enrolment. */
    enrol(tx: Db, cohortId: number, userId: number, certificateWanted = true): void {
      tx.insert(enrolments)
        .values({ cohortId, userId, certificateWanted, createdAt: clock.now() })
        .onConflictDoUpdate({ target: [enrolments.cohortId, enrolments.userId], set: { status: 'active', certificateWanted } })
        .run();
    },

    /** Withdraw a learner (inside the caller's transaction, e.g. a cancelled booking). */
    withdraw(tx: Db, cohortId: number, userId: number): void {
      tx.update(enrolments).set({ status: 'withdrawn' }).where(and(eq(enrolments.cohortId, cohortId), eq(enrolments.userId, userId))).run();
    },

    /** Active learners of a cohort. */
    learners(cohortId: number): Array<{ userId: number; certificateWanted: boolean }> {
      return db()
        .select({ userId: enrolments.userId, certificateWanted: enrolments.certificateWanted })
        .from(enrolments)
        .where(and(eq(enrolments.cohortId, cohortId), eq(enrolments.status, 'active')))
        .all();
    },

    /** The cohort's instructors' user ids. */
    instructorIds(cohortId: number): number[] {
      return db().select({ id: cohortInstructors.userId }).from(cohortInstructors).where(eq(cohortInstructors.cohortId, cohortId)).all().map((r) => r.id);
    },

    state(cohort: Cohort): CohortState {
      return cohortState(cohort.timeline, clock.now());
    },
  };
  return service;
}

export type CohortService = ReturnType<typeof createCohortService>;
