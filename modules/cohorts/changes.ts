// Creating and changing cohorts (admin): capacity, instructors, and moves that shift every date and tell the learners.
import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from '../../server/db.js';
import { BadInput, Conflict } from '../../server/errors.js';
import { currentWeek } from './timeline.js';
import { formatInstant } from '../../server/time.js';
import { cohortInstructors, cohorts, weekOpenNotices } from './schema.js';
import { checkCapacity, checkDate, checkEmails, checkZone, hydrate, zoneFor, type Cohort, type CohortDeps, type CohortPatch, type CohortWeekTitle } from './model.js';
import { learnerContacts } from './members.js';

/** What the changes read through the rest of the module. */
export interface ChangeReads {
  get(id: number, tx?: Db): Promise<Cohort>;
  weeks(cohort: Cohort, tx?: Db): Promise<CohortWeekTitle[]>;
}

export function createCohortChanges(deps: CohortDeps, reads: ChangeReads) {
  const { clock, courses, events, mailer, people, baseUrl, database } = deps;

  /** Instructor user ids for addresses: accounts are created, learners promoted to instructor. */
  async function resolveInstructors(tx: Db, emails: string[]): Promise<number[]> {
    const ids: number[] = [];
    for (const email of emails) {
      const u = await people.ensure(tx, email);
      ids.push((u.role === 'learner' ? await people.upsert({ email: u.email, role: 'instructor' }) : u).id);
    }
    return ids;
  }

  async function setInstructorRows(tx: Db, cohortId: number, userIds: number[]): Promise<void> {
    for (const userId of userIds) await tx.insert(cohortInstructors).values({ cohortId, userId }).onConflictDoNothing();
  }

  /** After a move, weeks whose opening is in the future again get their opening announced again (per-learner dedupe keys still hold). */
  async function rearmWeekNotices(tx: Db, cohort: Cohort, now: Date): Promise<void> {
    const future = cohort.timeline.weeks.filter((w) => w.opensAt.getTime() > now.getTime()).map((w) => w.number);
    if (future.length === 0) return;
    await tx.delete(weekOpenNotices).where(and(eq(weekOpenNotices.cohortId, cohort.id), inArray(weekOpenNotices.week, future)));
  }

  /** One "new dates" email per enrolled learner, each in their own zone, inside the move transaction. */
  async function sendMoveNotices(tx: Db, before: Cohort, after: Cohort): Promise<void> {
    const url = `${baseUrl}/cohorts/${after.id}`;
    const titles = await reads.weeks(after, tx);
    for (const learner of await learnerContacts(tx, after.id)) {
      const zone = zoneFor(learner, after);
      await mailer.enqueue(tx, {
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
            title: titles[w.number - 1].title,
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

  const changes = {
    /** Create a cohort of a course (admin). Instructors are created or promoted to the instructor role. */
    async create(input: { course: string; startDate: string; timezone: string; capacity: number; instructors: string[] }): Promise<Cohort> {
      const courseVersion = await courses.latestVersion(input.course);
      if (courseVersion === null) throw new BadInput(`course "${input.course.slice(0, 60)}" does not exist.`);
      checkDate(input.startDate);
      checkZone(input.timezone);
      checkCapacity(input.capacity);
      const emails = checkEmails(input.instructors);
      const now = clock.now();
      return database.transaction(async (tx) => {
        const instructorIds = await resolveInstructors(tx, emails);
        const [row] = await tx
          .insert(cohorts)
          .values({ courseSlug: input.course, courseVersion, startDate: input.startDate, timezone: input.timezone, capacity: input.capacity, createdAt: now, updatedAt: now })
          .returning();
        await setInstructorRows(tx, row.id, instructorIds);
        const cohort = await hydrate(courses, row, tx);
        await events.emit(tx, 'cohort.changed', { cohort, change: 'created' });
        return cohort;
      });
    },

    /**
     * Change a cohort (admin) in one transaction: capacity, instructors, and a move (new start date and/or zone).
     * A move recomputes every instant (the timeline is derived), emits 'moved' so sessions follow, re-arms
     * week-opening emails for weeks now in the future, and queues one notice per enrolled learner with the new
     * dates in their own zone. Per-cohort week edits are untouched.
     */
    async update(id: number, patch: CohortPatch): Promise<Cohort> {
      return database.transaction(async (tx) => {
        const current = await reads.get(id, tx);
        const capacity = patch.capacity === undefined ? current.capacity : checkCapacity(patch.capacity);
        const startDate = patch.startDate === undefined ? current.startDate : checkDate(patch.startDate);
        const timezone = patch.timezone === undefined ? current.timezone : checkZone(patch.timezone);
        const emails = patch.instructors === undefined ? null : checkEmails(patch.instructors);
        const instructorIds = emails === null ? null : await resolveInstructors(tx, emails);
        const moved = startDate !== current.startDate || timezone !== current.timezone;
        const changed = moved || capacity !== current.capacity || instructorIds !== null;
        if (!changed) return current;
        const now = clock.now();
        const [row] = await tx.update(cohorts).set({ startDate, timezone, capacity, updatedAt: now }).where(eq(cohorts.id, id)).returning();
        if (instructorIds !== null) {
          await tx.delete(cohortInstructors).where(eq(cohortInstructors.cohortId, id));
          await setInstructorRows(tx, id, instructorIds);
        }
        const cohort = await hydrate(courses, row, tx);
        if (moved) {
          await rearmWeekNotices(tx, cohort, now);
          await sendMoveNotices(tx, current, cohort);
        }
        await events.emit(tx, 'cohort.changed', { cohort, change: moved ? 'moved' : 'updated' });
        return cohort;
      });
    },

    /**
     * A course has a new published version (inside the publishing transaction): every cohort of it that has not
     * started follows it, with its timeline and sessions; cohorts already running keep the version they run.
     */
    async followPublished(tx: Db, slug: string, version: number): Promise<number> {
      const now = clock.now();
      let moved = 0;
      for (const row of await tx.select().from(cohorts).where(eq(cohorts.courseSlug, slug))) {
        if (row.courseVersion >= version) continue;
        const before = await hydrate(courses, row, tx);
        if (before.timeline.startsAt.getTime() <= now.getTime()) continue;
        const [after] = await tx.update(cohorts).set({ courseVersion: version, updatedAt: now }).where(eq(cohorts.id, row.id)).returning();
        await events.emit(tx, 'cohort.changed', { cohort: await hydrate(courses, after, tx), change: 'updated' });
        moved++;
      }
      return moved;
    },

    /**
     * Put a cohort on another published version of its course (its instructors or an admin; the route guards). Other
     * modules may refuse it inside the same transaction through 'cohort.version-changing' (e.g. a week with learners'
     * work in it would disappear: 409). The timeline and sessions follow the version's weeks and slots.
     */
    async applyVersion(id: number, version: number): Promise<Cohort> {
      return database.transaction(async (tx) => {
        const current = await reads.get(id, tx);
        if (current.courseVersion === version) return current;
        const next = await courses.load(current.courseSlug, version, tx);
        const week = currentWeek(current.timeline, clock.now());
        if (week > next.weekCount) {
          throw new Conflict(`This cohort is in week ${week}, which version ${version} does not have (it has ${next.weekCount} weeks). Apply it after the cohort ends, or publish a version that keeps week ${week}.`);
        }
        await events.emit(tx, 'cohort.version-changing', { cohort: current, to: { version, course: next } });
        const [row] = await tx.update(cohorts).set({ courseVersion: version, updatedAt: clock.now() }).where(eq(cohorts.id, id)).returning();
        const cohort = await hydrate(courses, row, tx);
        await events.emit(tx, 'cohort.changed', { cohort, change: 'updated' });
        return cohort;
      });
    },

    /** Move a cohort to a new start date and/or zone; what hangs off it follows (see update). */
    async move(id: number, input: { startDate?: string; timezone?: string }): Promise<Cohort> {
      return changes.update(id, { startDate: input.startDate, timezone: input.timezone });
    },

    /** Change capacity (admin). */
    async setCapacity(id: number, capacity: number): Promise<Cohort> {
      return changes.update(id, { capacity });
    },

    /** Replace the cohort's instructors (admin). */
    async setInstructors(id: number, emails: string[]): Promise<void> {
      await changes.update(id, { instructors: emails });
    },
  };
  return changes;
}
