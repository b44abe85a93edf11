// Cohorts: create and read runs of a course, who belongs to them, and what each person may see when.
import { and, asc, eq, gte, inArray, lte, sql } from 'drizzle-orm';
import { DateTime } from 'luxon';
import type { AppContext } from '../../server/context.js';
import type { Db } from '../../server/db.js';
import { BadInput, Forbidden, NotFound, NotSignedIn } from '../../server/errors.js';
import { renderMarkdown } from '../../server/markdown.js';
import { formatDay, formatInstant, isValidZone } from '../../server/time.js';
import { normaliseEmail, type User } from '../people/service.js';
import { users } from '../people/schema.js';
import { MAX_WEEKS, type Course, type Week } from '../courses/content.js';
import { cohortInstructors, cohorts, enrolments, weekOpenNotices, weekOverrides } from './schema.js';
import {
  ACCESS_DAYS_AFTER_GRACE,
  GRACE_DAYS,
  cohortState,
  computeTimeline,
  currentWeek,
  type CohortState,
  type Timeline,
} from './timeline.js';

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

/**
 * Called inside the transaction that creates, moves (new start date or zone: every instant changes) or
 * otherwise updates (capacity, instructors) a cohort. Sessions and schedules hang off 'created' and 'moved'.
 */
export type CohortHook = (tx: Db, cohort: Cohort, change: 'created' | 'moved' | 'updated') => void;

/** What an admin may change on a cohort; startDate/timezone make it a move. */
export interface CohortPatch {
  capacity?: number;
  instructors?: string[];
  startDate?: string;
  timezone?: string;
}

/** Where a member stands in a cohort right now (for "my courses"). */
export interface CohortOverview {
  state: CohortState;
  /** The latest week that has opened (null before week 1). */
  openWeek: { number: number; title: string; dueAt: Date } | null;
  /** The next assignment deadline still ahead among open weeks (null when none). */
  nextDue: { number: number; title: string; dueAt: Date } | null;
  /** When the cohort has not started: when week 1 opens. */
  opensAt: Date | null;
  /** Whole days (rounded up) left to submit work during the grace period; null outside it. */
  graceDaysLeft: number | null;
}

export interface RosterEntry {
  userId: number;
  name: string;
  email: string;
  timezone: string | null;
  certificateWanted: boolean;
  enrolledAt: Date;
}

const DAY_MS = 86_400_000;
const MAX_CAPACITY = 10_000;
/** Cohorts whose start date is older than this can no longer be open to anyone: the job never looks at them. */
const LIFE_DAYS = 7 * MAX_WEEKS + GRACE_DAYS + ACCESS_DAYS_AFTER_GRACE + 2;

/** The zone to show a person a cohort's dates in: their own choice, else the cohort's. */
export function zoneFor(user: Pick<User, 'timezone'> | null | undefined, cohort: Pick<CohortRow, 'timezone'>): string {
  return user?.timezone || cohort.timezone;
}

function checkCapacity(capacity: number): number {
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY) throw new BadInput('capacity must be a whole number from 1 to 10000.');
  return capacity;
}

function checkZone(zone: string): string {
  if (!isValidZone(zone)) throw new BadInput(`timezone "${zone.slice(0, 60)}" is not an IANA time zone (e.g. Europe/London).`);
  return zone;
}

/** Normalised, de-duplicated instructor addresses; refuses anything that is not an address. */
function checkEmails(emails: string[]): string[] {
  if (emails.length > 20) throw new BadInput('instructors: at most 20 addresses.');
  return [...new Set(emails.map((e) => normaliseEmail(e)))];
}

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
  // The cohort guard runs on every cohort request: its lookups are prepared once.
  const cohortById = ctx.db.select().from(cohorts).where(eq(cohorts.id, sql.placeholder('id'))).prepare();
  // The cohort and the caller's place in it in one statement: the guard (every cohort page and write) and roleIn.
  const accessStmt = ctx.db
    .select({
      cohort: cohorts,
      // The outer cohort is named in full: drizzle writes columns of a one-table select unqualified, and inside the
      // subquery a bare "id" would be the subquery table's own.
      teaches: sql<number>`exists (select 1 from ${cohortInstructors} ci where ci.cohort_id = "cohorts"."id" and ci.user_id = ${sql.placeholder('userId')})`,
      learns: sql<number>`exists (select 1 from ${enrolments} e where e.cohort_id = "cohorts"."id" and e.user_id = ${sql.placeholder('userId')} and e.status = 'active')`,
    })
    .from(cohorts)
    .where(eq(cohorts.id, sql.placeholder('id')))
    .prepare();
  const accessRow = (cohortId: number, userId: number) => {
    const row = accessStmt.get({ id: cohortId, userId });
    return row && { cohort: hydrate(row.cohort), teaches: row.teaches, learns: row.learns };
  };
  /** A role from that statement's row: an admin everywhere, then instructor, then active learner (null: outside it). */
  const roleFrom = (user: User, row: { teaches: number; learns: number } | undefined): CohortRole | null =>
    user.role === 'admin' ? 'admin' : row?.teaches ? 'instructor' : row?.learns ? 'learner' : null;
  // Discussions mark instructors' posts on every thread list and page.
  const instructorIdsStmt = ctx.db
    .select({ id: cohortInstructors.userId })
    .from(cohortInstructors)
    .where(eq(cohortInstructors.cohortId, sql.placeholder('cohortId')))
    .prepare();
  const overrideStmt = ctx.db
    .select()
    .from(weekOverrides)
    .where(and(eq(weekOverrides.cohortId, sql.placeholder('cohortId')), eq(weekOverrides.week, sql.placeholder('week'))))
    .prepare();

  function hydrate(row: CohortRow): Cohort {
    const course = ctx.courses.get(row.courseSlug);
    const timeline = computeTimeline({ startDate: row.startDate, timezone: row.timezone, weekCount: course.weekCount, releaseTime: course.releaseTime });
    return { ...row, course, timeline };
  }

  /** Instructor user ids for addresses: accounts are created, learners promoted to instructor. */
  function resolveInstructors(emails: string[]): number[] {
    return emails.map((email) => {
      const u = ctx.people.ensure(email);
      return (u.role === 'learner' ? ctx.people.upsert({ email: u.email, role: 'instructor' }) : u).id;
    });
  }

  /** After a move, weeks whose opening is in the future again get their opening announced again (per-learner dedupe keys still hold). */
  function rearmWeekNotices(tx: Db, cohort: Cohort, now: Date): void {
    const future = cohort.timeline.weeks.filter((w) => w.opensAt.getTime() > now.getTime()).map((w) => w.number);
    if (future.length === 0) return;
    tx.delete(weekOpenNotices).where(and(eq(weekOpenNotices.cohortId, cohort.id), inArray(weekOpenNotices.week, future))).run();
  }

  /** Active learners with what their emails need. */
  function learnerContacts(tx: Db, cohortId: number) {
    return tx
      .select({ id: users.id, email: users.email, name: users.name, timezone: users.timezone })
      .from(enrolments)
      .innerJoin(users, eq(users.id, enrolments.userId))
      .where(and(eq(enrolments.cohortId, cohortId), eq(enrolments.status, 'active')))
      .orderBy(asc(users.id))
      .all();
  }

  /** One "new dates" email per enrolled learner, each in their own zone, inside the move transaction. */
  function sendMoveNotices(tx: Db, before: Cohort, after: Cohort): void {
    const url = `${ctx.baseUrl}/cohorts/${after.id}`;
    for (const learner of learnerContacts(tx, after.id)) {
      const zone = zoneFor(learner, after);
      ctx.mailer.enqueue(tx, {
        to: learner.email,
        subject: `New dates for ${after.course.title}`,
        template: 'cohorts-moved',
        data: {
          name: learner.name || learner.email,
          courseTitle: after.course.title,
          zone,
          oldStart: formatInstant(before.timeline.startsAt, zone),
          newStart: formatInstant(after.timeline.startsAt, zone),
          weeks: after.timeline.weeks.map((w) => ({
            number: w.number,
            title: service.week(after, w.number).title,
            opensAt: formatInstant(w.opensAt, zone),
            dueAt: after.course.weeks[w.number - 1]?.assignment ? formatInstant(w.dueAt, zone) : null,
          })),
          endsAt: formatInstant(after.timeline.endsAt, zone),
          graceEndsAt: formatInstant(after.timeline.graceEndsAt, zone),
          accessEndsAt: formatInstant(after.timeline.accessEndsAt, zone),
          url,
        },
      });
    }
  }

  /** Announce one week's opening to every active learner, once: the notice row and the emails commit together. */
  function announceWeek(cohort: Cohort, n: number, now: Date): number {
    const opensAt = cohort.timeline.weeks[n - 1].opensAt;
    return db().transaction((tx) => {
      // The insert is the claim: another instance (or a second tick) that lost the race does nothing.
      const claimed = tx.insert(weekOpenNotices).values({ cohortId: cohort.id, week: n, opensAt, notifiedAt: now, learners: 0 }).onConflictDoNothing().run();
      if (claimed.changes === 0) return 0;
      const week = service.week(cohort, n);
      const timelineWeek = cohort.timeline.weeks[n - 1];
      const hasAssignment = week.source.assignment !== null;
      let sent = 0;
      for (const learner of learnerContacts(tx, cohort.id)) {
        const zone = zoneFor(learner, cohort);
        const queued = ctx.mailer.enqueue(tx, {
          to: learner.email,
          subject: `Week ${n} is open: ${cohort.course.title}`,
          template: 'cohorts-week-open',
          dedupeKey: `week-open:${cohort.id}:${n}:${learner.id}`,
          data: {
            name: learner.name || learner.email,
            courseTitle: cohort.course.title,
            number: n,
            title: week.title,
            summary: week.source.summary,
            dueAt: hasAssignment ? formatInstant(timelineWeek.dueAt, zone) : null,
            url: `${ctx.baseUrl}/cohorts/${cohort.id}/weeks/${n}`,
          },
        });
        if (queued) sent++;
      }
      tx.update(weekOpenNotices).set({ learners: sent }).where(and(eq(weekOpenNotices.cohortId, cohort.id), eq(weekOpenNotices.week, n))).run();
      return sent;
    });
  }

  /**
   * The week-opening job, pausing (yield) after each announced week: for every cohort still within its life, announce
   * each week that has opened and was not announced yet. Only cohorts whose start date is within the longest possible
   * life are read, so archived cohorts cost nothing. After a pause the cohort is read again (it may have moved).
   */
  function* announceSteps(now: Date): Generator<void, { weeks: number; emails: number }> {
    const today = DateTime.fromJSDate(now, { zone: 'utc' });
    // A local date can be up to 14 hours ahead of UTC: include tomorrow's starts.
    const latest = today.plus({ days: 1 }).toISODate() as string;
    const earliest = today.minus({ days: LIFE_DAYS }).toISODate() as string;
    const rows = db().select().from(cohorts).where(and(gte(cohorts.startDate, earliest), lte(cohorts.startDate, latest))).all();
    if (rows.length === 0) return { weeks: 0, emails: 0 };
    const done = new Set(
      db()
        .select({ cohortId: weekOpenNotices.cohortId, week: weekOpenNotices.week })
        .from(weekOpenNotices)
        .where(inArray(weekOpenNotices.cohortId, rows.map((r) => r.id)))
        .all()
        .map((r) => `${r.cohortId}:${r.week}`),
    );
    let weeks = 0;
    let emails = 0;
    let paused = false;
    for (const row of rows) {
      // A course removed from content/ leaves its cohorts unreadable; skip rather than fail the whole tick.
      if (!ctx.courses.has(row.courseSlug)) continue;
      let cohort = hydrate(row);
      if (now.getTime() >= cohort.timeline.accessEndsAt.getTime()) continue;
      for (let n = 1; n <= cohort.timeline.weeks.length; n++) {
        const w = cohort.timeline.weeks[n - 1];
        if (w.opensAt.getTime() > now.getTime() || done.has(`${cohort.id}:${w.number}`)) continue;
        if (paused) {
          const fresh = cohortById.get({ id: row.id });
          if (!fresh) break;
          cohort = hydrate(fresh);
          const again = cohort.timeline.weeks[n - 1];
          if (!again || again.opensAt.getTime() > now.getTime()) continue;
        }
        emails += announceWeek(cohort, w.number, now);
        weeks++;
        paused = true;
        yield;
      }
    }
    return { weeks, emails };
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
      checkZone(input.timezone);
      checkCapacity(input.capacity);
      const instructorIds = resolveInstructors(checkEmails(input.instructors));
      const now = clock.now();
      return db().transaction((tx) => {
        const row = tx
          .insert(cohorts)
          .values({ courseSlug: input.course, startDate: input.startDate, timezone: input.timezone, capacity: input.capacity, createdAt: now, updatedAt: now })
          .returning()
          .get();
        for (const userId of instructorIds) tx.insert(cohortInstructors).values({ cohortId: row.id, userId }).onConflictDoNothing().run();
        const cohort = hydrate(row);
        for (const hook of hooks) hook(tx, cohort, 'created');
        return cohort;
      });
    },

    /**
     * Change a cohort (admin) in one transaction: capacity, instructors, and a move (new start date and/or zone).
     * A move recomputes every instant (the timeline is derived), runs the 'moved' hooks so sessions follow, re-arms
     * week-opening emails for weeks now in the future, and queues one notice per enrolled learner with the new
     * dates in their own zone. Per-cohort week edits are untouched.
     */
    update(id: number, patch: CohortPatch): Cohort {
      const current = service.get(id);
      const capacity = patch.capacity === undefined ? current.capacity : checkCapacity(patch.capacity);
      const startDate = patch.startDate === undefined ? current.startDate : checkDate(patch.startDate);
      const timezone = patch.timezone === undefined ? current.timezone : checkZone(patch.timezone);
      const emails = patch.instructors === undefined ? null : checkEmails(patch.instructors);
      const instructorIds = emails === null ? null : resolveInstructors(emails);
      const moved = startDate !== current.startDate || timezone !== current.timezone;
      const changed = moved || capacity !== current.capacity || instructorIds !== null;
      if (!changed) return current;
      const now = clock.now();
      return db().transaction((tx) => {
        const row = tx.update(cohorts).set({ startDate, timezone, capacity, updatedAt: now }).where(eq(cohorts.id, id)).returning().get();
        if (instructorIds !== null) {
          tx.delete(cohortInstructors).where(eq(cohortInstructors.cohortId, id)).run();
          for (const userId of instructorIds) tx.insert(cohortInstructors).values({ cohortId: id, userId }).onConflictDoNothing().run();
        }
        const cohort = hydrate(row);
        if (moved) {
          rearmWeekNotices(tx, cohort, now);
          sendMoveNotices(tx, current, cohort);
        }
        for (const hook of hooks) hook(tx, cohort, moved ? 'moved' : 'updated');
        return cohort;
      });
    },

    /** Move a cohort to a new start date and/or zone; hooks recompute what hangs off it (see update). */
    move(id: number, input: { startDate?: string; timezone?: string }): Cohort {
      return service.update(id, { startDate: input.startDate, timezone: input.timezone });
    },

    /** Change capacity (admin). */
    setCapacity(id: number, capacity: number): Cohort {
      return service.update(id, { capacity });
    },

    /** Replace the cohort's instructors (admin). */
    setInstructors(id: number, emails: string[]): void {
      service.update(id, { instructors: emails });
    },

    /** The cohort with its course and timeline, or 404. */
    get(id: number): Cohort {
      const row = cohortById.get({ id });
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
      return user.role === 'admin' ? 'admin' : roleFrom(user, accessRow(cohortId, user.id));
    },

    /**
     * The one cohort guard: 401 when signed out, 404 for an unknown cohort, 403 outside it or without one of `roles`.
     * Learners are also refused once access has ended (accessEndsAt).
     */
    access(user: User | null, cohortId: number, roles: CohortRole[] = ['admin', 'instructor', 'learner']): CohortAccess {
      if (!user) throw new NotSignedIn();
      const row = accessRow(cohortId, user.id);
      if (!row) throw new NotFound('Cohort');
      const { cohort } = row;
      const role = roleFrom(user, row);
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
      const override = overrideStmt.get({ cohortId: cohort.id, week: n });
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

    /**
     * An instructor's edit of a week's title and/or text for this cohort only. A field given as null goes back to
     * the course file; when both are back to the course file the cohort's edit is removed altogether.
     */
    editWeek(cohort: Cohort, n: number, userId: number, patch: { title?: string | null; markdown?: string | null }): void {
      if (!cohort.course.weeks[n - 1]) throw new NotFound(`Week ${n}`);
      if (typeof patch.title === 'string' && patch.title.trim() === '') throw new BadInput('title must not be empty.');
      const now = clock.now();
      db().transaction((tx) => {
        tx.insert(weekOverrides)
          .values({ cohortId: cohort.id, week: n, title: patch.title ?? null, markdown: patch.markdown ?? null, updatedBy: userId, updatedAt: now })
          .onConflictDoUpdate({
            target: [weekOverrides.cohortId, weekOverrides.week],
            set: {
              ...(patch.title !== undefined ? { title: patch.title } : {}),
              ...(patch.markdown !== undefined ? { markdown: patch.markdown } : {}),
              updatedBy: userId,
              updatedAt: now,
            },
          })
          .run();
        tx.delete(weekOverrides)
          .where(and(eq(weekOverrides.cohortId, cohort.id), eq(weekOverrides.week, n), sql`${weekOverrides.title} is null`, sql`${weekOverrides.markdown} is null`))
          .run();
      });
    },

    /** Drop the cohort's edit of a week: the course file's text applies again. */
    resetWeek(cohort: Cohort, n: number): void {
      if (!cohort.course.weeks[n - 1]) throw new NotFound(`Week ${n}`);
      db().delete(weekOverrides).where(and(eq(weekOverrides.cohortId, cohort.id), eq(weekOverrides.week, n))).run();
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
      return instructorIdsStmt.all({ cohortId }).map((r) => r.id);
    },

    /** Where the cohort is in its life now. */
    state(cohort: Cohort): CohortState {
      return cohortState(cohort.timeline, clock.now());
    },

    /** The cohorts a person teaches or learns in (never "all" for admins), with their role, by start date. */
    memberships(user: User): Array<{ cohort: Cohort; role: 'instructor' | 'learner' }> {
      return service
        .listForUser({ ...user, role: user.role === 'admin' ? 'instructor' : user.role })
        .map(({ cohort, role }) => ({ cohort, role: role === 'learner' ? ('learner' as const) : ('instructor' as const) }));
    },

    /** The cohorts an instructor teaches (admins: every cohort), by start date. */
    taughtBy(user: User): Cohort[] {
      if (user.role === 'admin') return service.list();
      return service
        .listForUser(user)
        .filter((m) => m.role === 'instructor')
        .map((m) => m.cohort);
    },

    /** The cohort's instructors (name and address). */
    instructors(cohortId: number): Array<{ id: number; name: string; email: string }> {
      return db()
        .select({ id: users.id, name: users.name, email: users.email })
        .from(cohortInstructors)
        .innerJoin(users, eq(users.id, cohortInstructors.userId))
        .where(eq(cohortInstructors.cohortId, cohortId))
        .orderBy(asc(users.email))
        .all();
    },

    /** Who is enrolled (active), by name. */
    roster(cohortId: number): RosterEntry[] {
      return db()
        .select({
          userId: users.id,
          name: users.name,
          email: users.email,
          timezone: users.timezone,
          certificateWanted: enrolments.certificateWanted,
          enrolledAt: enrolments.createdAt,
        })
        .from(enrolments)
        .innerJoin(users, eq(users.id, enrolments.userId))
        .where(and(eq(enrolments.cohortId, cohortId), eq(enrolments.status, 'active')))
        .orderBy(asc(users.name), asc(users.email))
        .all();
    },

    /** Active learners per cohort, for lists. */
    enrolledCounts(): Map<number, number> {
      const rows = db()
        .select({ cohortId: enrolments.cohortId, n: sql<number>`count(*)` })
        .from(enrolments)
        .where(eq(enrolments.status, 'active'))
        .groupBy(enrolments.cohortId)
        .all();
      return new Map(rows.map((r) => [r.cohortId, r.n]));
    },

    /** What is open now, what is due next and the days left in the grace period. */
    overview(cohort: Cohort, now: Date = clock.now()): CohortOverview {
      const t = cohort.timeline;
      const ms = now.getTime();
      const state = cohortState(t, now);
      const n = currentWeek(t, now);
      const openWeek = n > 0 ? { number: n, title: service.week(cohort, n).title, dueAt: t.weeks[n - 1].dueAt } : null;
      const due = t.weeks.find((w) => w.opensAt.getTime() <= ms && w.dueAt.getTime() > ms && cohort.course.weeks[w.number - 1]?.assignment);
      const nextDue = due ? { number: due.number, title: service.week(cohort, due.number).title, dueAt: due.dueAt } : null;
      const graceDaysLeft = state === 'grace' ? Math.ceil((t.graceEndsAt.getTime() - ms) / DAY_MS) : null;
      return { state, openWeek, nextDue, opensAt: state === 'upcoming' ? t.startsAt : null, graceDaysLeft };
    },

    /**
     * The scheduler's job: for every cohort still within its life, announce each week that has opened and was not
     * announced yet (one email per active learner, deduplicated by week-open:<cohort>:<n>:<user>). Only cohorts whose
     * start date is within the longest possible life are read, so archived cohorts cost nothing.
     */
    announceOpenWeeks(now: Date = clock.now()): { weeks: number; emails: number } {
      const steps = announceSteps(now);
      for (;;) {
        const step = steps.next();
        if (step.done) return step.value;
      }
    },

    /** announceOpenWeeks one cohort's week at a time, letting requests in between (the scheduler's way). */
    async announceOpenWeeksInSteps(now: Date = clock.now()): Promise<{ weeks: number; emails: number }> {
      const steps = announceSteps(now);
      for (;;) {
        const step = steps.next();
        if (step.done) return step.value;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    },
  };
  return service;
}

export type CohortService = ReturnType<typeof createCohortService>;
