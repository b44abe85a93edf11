// Page view models for cohorts: dates formatted in the viewer's zone, states as words, week plans.
import { NotFound } from '../../server/errors.js';
import { formatDay, formatInstant } from '../../server/time.js';
import type { User } from '../people/service.js';
import { zoneFor, type Cohort, type CohortOverview, type CohortRole, type CohortWeekTitle } from './model.js';
import type { CohortState } from './timeline.js';

/** Words for a cohort's state; the status class only repeats what the words say. */
export const STATE_LABELS: Record<CohortState, { label: string; status: string; hint: string }> = {
  upcoming: { label: 'Starting soon', status: 'status-info', hint: 'Week 1 has not opened yet.' },
  running: { label: 'Running', status: 'status-ok', hint: 'Weeks open one by one.' },
  grace: { label: 'Grace period', status: 'status-warn', hint: 'The course has ended; work can still be submitted.' },
  closed: { label: 'Closed', status: 'status-info', hint: 'Submissions are closed; the material is still readable.' },
  archived: { label: 'Archived', status: 'status-bad', hint: 'The material is no longer available to learners.' },
};

/** A path id ("12") as a number; anything else is simply not a page (404). */
export function pageId(value: string, what = 'Cohort'): number {
  if (!/^[1-9]\d{0,8}$/.test(value)) throw new NotFound(what);
  return Number(value);
}

/** A week number from a path, within the course's weeks, else 404. */
export function pageWeek(value: string, cohort: Cohort): number {
  const n = /^[1-9]\d?$/.test(value) ? Number(value) : 0;
  if (n < 1 || n > cohort.course.weekCount) throw new NotFound(`Week ${value.slice(0, 10)}`);
  return n;
}

/** Display helpers bound to one viewer and cohort. */
export function dates(user: User | null, cohort: Cohort) {
  const zone = zoneFor(user, cohort);
  return {
    zone,
    zoneLabel: zone.replace(/_/g, ' '),
    ownZone: Boolean(user?.timezone),
    at: (d: Date) => formatInstant(d, zone),
    day: (d: Date) => formatDay(d, zone),
  };
}

/** A learner's own dates where an instructor granted an extension (from the assignments module). */
export interface OwnDates {
  dueAt: (week: number) => Date;
  graceEndsAt: Date;
}

/**
 * The week-by-week plan: each week's dates in the viewer's zone (and the learner's own due dates), open or locked for
 * them. `weeks` is the cohort's week titles (cohorts.weeks).
 */
export function weekPlan(weeks: CohortWeekTitle[], cohort: Cohort, user: User | null, role: CohortRole, now: Date, prefix: string, own: OwnDates | null = null) {
  const d = dates(user, cohort);
  const current = cohort.timeline.weeks.filter((w) => w.opensAt.getTime() <= now.getTime()).length;
  return cohort.timeline.weeks.map((w) => {
    const content = weeks[w.number - 1];
    const open = w.opensAt.getTime() <= now.getTime();
    return {
      number: w.number,
      title: content.title,
      summary: content.source.summary,
      edited: content.edited,
      opensAt: d.at(w.opensAt),
      dueAt: content.source.assignment ? d.at(own ? own.dueAt(w.number) : w.dueAt) : null,
      open,
      current: w.number === current,
      // Staff read every week at any time; learners once it has opened.
      readable: open || role !== 'learner',
      url: `${prefix}/cohorts/${cohort.id}/weeks/${w.number}`,
      editUrl: `${prefix}/teach/cohorts/${cohort.id}/weeks/${w.number}/edit`,
    };
  });
}

/** The key dates of a cohort in the viewer's zone (with the learner's own grace end, if extended). */
export function keyDates(user: User | null, cohort: Cohort, own: OwnDates | null = null) {
  const d = dates(user, cohort);
  const t = cohort.timeline;
  return {
    startsAt: d.at(t.startsAt),
    endsAt: d.at(t.endsAt),
    graceEndsAt: d.at(own ? own.graceEndsAt : t.graceEndsAt),
    accessEndsAt: d.at(t.accessEndsAt),
    zone: d.zoneLabel,
    ownZone: d.ownZone,
  };
}

/** One "my courses" card. */
export function myCard(cohort: Cohort, role: CohortRole, overview: CohortOverview, user: User, prefix: string, own: OwnDates | null = null) {
  const d = dates(user, cohort);
  const state = STATE_LABELS[overview.state];
  const learner = role === 'learner';
  return {
    id: cohort.id,
    title: cohort.course.title,
    startDay: d.day(cohort.timeline.startsAt),
    role: learner ? 'Learner' : 'Instructor',
    isLearner: learner,
    state: overview.state,
    stateLabel: state.label,
    stateClass: state.status,
    stateHint: state.hint,
    // Learners lose the cohort at accessEndsAt; staff keep it.
    url: learner && overview.state === 'archived' ? null : `${prefix}/cohorts/${cohort.id}`,
    teachUrl: learner ? null : `${prefix}/teach/cohorts/${cohort.id}`,
    opensAt: overview.opensAt ? d.at(overview.opensAt) : null,
    openWeek:
      overview.openWeek && overview.state === 'running'
        ? { ...overview.openWeek, url: `${prefix}/cohorts/${cohort.id}/weeks/${overview.openWeek.number}` }
        : null,
    nextDue: overview.nextDue && learner ? { ...overview.nextDue, dueAt: d.at(own ? own.dueAt(overview.nextDue.number) : overview.nextDue.dueAt) } : null,
    graceDaysLeft: overview.graceDaysLeft,
    graceOneDay: overview.graceDaysLeft === 1,
    graceEndsAt: d.at(own ? own.graceEndsAt : cohort.timeline.graceEndsAt),
    accessEndsAt: d.at(cohort.timeline.accessEndsAt),
  };
}

/** A zone <select> with the given zone chosen (no "cohort's own" entry: a cohort needs a real zone). */
export function cohortZoneOptions(zones: string[], selected: string) {
  return zones.map((z) => ({ value: z, label: z.replace(/_/g, ' '), selected: z === selected }));
}
