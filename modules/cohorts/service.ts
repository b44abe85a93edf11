// Cohorts: create and read runs of a course, who belongs to them, and what each person may see when.
// Each use case lives in its own file (lookup, access, members, weeks, changes, week-open); this is the module's face.
import { createCohortAccess } from './access.js';
import { createCohortChanges } from './changes.js';
import { createCohortLookup } from './lookup.js';
import { createCohortMembers } from './members.js';
import { createCohortWeeks } from './weeks.js';
import { createWeekOpening } from './week-open.js';
import type { CohortAccess, Cohort, CohortDeps } from './model.js';

export { checkDate, zoneFor } from './model.js';
export type {
  Cohort,
  CohortAccess,
  CohortDeps,
  CohortOverview,
  CohortPatch,
  CohortRole,
  CohortRow,
  CohortSessionSummary,
  CohortWeek,
  CohortWeekTitle,
  RosterEntry,
} from './model.js';

import type { Course } from '../courses/content.js';

declare module '../../server/events.js' {
  interface DomainEvents {
    /** A cohort was created, moved or updated (capacity, dates), inside that transaction. */
    'cohort.changed': { cohort: Cohort; change: 'created' | 'moved' | 'updated' };
    /**
     * A cohort is about to follow another version of its course (inside that transaction): a reaction that throws
     * (409) keeps it on the version it has, e.g. while learners' work sits in a week the new version removes.
     */
    'cohort.version-changing': { cohort: Cohort; to: { version: number; course: Course } };
    /** A learner's progress in a cohort may have changed (a submission, a review, attendance, a post). */
    'progress.changed': { cohortId: number; userId: number };
  }
}

declare module '../../server/panels.js' {
  interface PanelPlaces {
    'cohort-home': { access: CohortAccess; now: Date };
    week: { access: CohortAccess; week: number; now: Date };
    'cohort-staff': { access: CohortAccess; now: Date };
  }
}

/**
 * The cohorts service. Every method that reads the database is async; those that may run inside another module's
 * transaction take that transaction as an optional last `tx`. A create or update emits 'cohort.changed' inside its
 * transaction ('created', 'moved' for a new start date or zone, else 'updated').
 */
export function createCohortService(deps: CohortDeps) {
  const lookup = createCohortLookup(deps);
  const weeks = createCohortWeeks(deps);
  return {
    ...lookup,
    ...createCohortAccess(deps),
    ...createCohortMembers(deps),
    ...weeks,
    ...createCohortChanges(deps, { get: lookup.get, weeks: weeks.weeks }),
    ...createWeekOpening(deps, { week: weeks.week }),
  };
}

export type CohortService = ReturnType<typeof createCohortService>;
