// Session panels on shared pages: the cohort home and week page (join, recording, "I watched"), the staff page.
import type { Panels } from '../../server/panels.js';
import type { CohortAccess, CohortService } from '../cohorts/service.js';
import { formatInstant, formatTime } from '../../server/time.js';
import { zoneFor, type SessionService, type SessionView } from './service.js';

/** A session's row in a learner-facing panel: what to show and which action applies now. */
function sessionItem(access: CohortAccess, s: SessionView, now: Date, prefix: string) {
  const zone = zoneFor(access.user, access.cohort);
  const learner = access.role === 'learner';
  const live = s.joinOpen && now.getTime() >= s.startsAt.getTime();
  const status = s.attendance === 'attended'
    ? { text: 'Attended', kind: 'ok' }
    : s.attendance === 'watched'
      ? { text: 'Recording watched', kind: 'ok' }
      : live
        ? { text: 'Live now', kind: 'info' }
        : s.joinOpen
          ? { text: 'Starting soon', kind: 'info' }
          : s.ended
            ? learner ? { text: 'Missed', kind: 'warn' } : { text: 'Ended', kind: 'info' }
            : { text: 'Upcoming', kind: 'info' };
  return {
    id: s.id,
    title: s.title,
    week: s.week,
    when: formatInstant(s.startsAt, zone),
    ends: formatTime(s.endsAt, zone),
    moved: s.moved,
    status,
    // The button only inside the window (staff see the link there too, and can always open the editor).
    joinUrl: s.joinOpen ? s.joinUrl : null,
    joinMissing: s.joinOpen && !s.joinUrl,
    joinLater: learner && !s.joinOpen && !s.ended,
    recordingUrl: s.recordingUrl,
    canSayWatched: learner && s.ended && Boolean(s.recordingUrl) && s.attendance === null,
    icsUrl: `${prefix}/api/v1/sessions/${s.id}/calendar.ics`,
    editUrl: learner ? null : `${prefix}/teach/sessions/${s.id}`,
  };
}

/** Register the sessions module's panels. */
export function registerSessionPanels(ctx: { panels: Panels; prefix: string; cohorts: CohortService }, sessions: SessionService): void {
  const learnerPanel = async (access: CohortAccess, now: Date, week: number | null) => {
    const list = await sessions.listFor(access, week ?? undefined);
    if (list.length === 0) return null;
    const cohortId = access.cohort.id;
    return {
      partial: 'sessions/list',
      model: {
        heading: week === null ? 'Live sessions' : list.length === 1 ? 'Live session' : 'Live sessions this week',
        sessions: list.map((s) => sessionItem(access, s, now, ctx.prefix)),
        isLearner: access.role === 'learner',
        zone: zoneFor(access.user, access.cohort),
        cohortIcsUrl: `${ctx.prefix}/api/v1/cohorts/${cohortId}/calendar.ics`,
        calendarUrl: `${ctx.prefix}/calendar`,
        back: week === null ? `/cohorts/${cohortId}` : `/cohorts/${cohortId}/weeks/${week}`,
        showFeed: week === null,
      },
    };
  };

  ctx.panels.register('cohort-home', { order: 10, render: ({ access, now }) => learnerPanel(access, now, null) });
  ctx.panels.register('week', { order: 10, render: ({ access, now, week }) => learnerPanel(access, now, week) });

  // "My courses": the next few sessions across the person's cohorts, with the join button when it is time.
  ctx.panels.register('my', {
    order: 10,
    render: async ({ user, now }) => {
      const all: Array<{ s: SessionView; access: CohortAccess }> = [];
      for (const { cohort, role } of await sessions.ownMemberships(user)) {
        const access: CohortAccess = { cohort, user, role };
        for (const s of await sessions.listFor(access)) if (!s.ended) all.push({ s, access });
      }
      const upcoming = all.sort((a, b) => a.s.startsAt.getTime() - b.s.startsAt.getTime()).slice(0, 3);
      if (upcoming.length === 0) return null;
      return {
        partial: 'sessions/my',
        model: {
          sessions: upcoming.map(({ s, access }) => ({
            ...sessionItem(access, s, now, ctx.prefix),
            courseTitle: access.cohort.course.title,
            cohortUrl: `${ctx.prefix}/cohorts/${access.cohort.id}`,
          })),
          calendarUrl: `${ctx.prefix}/calendar`,
        },
      };
    },
  });

  ctx.panels.register('cohort-staff', {
    order: 10,
    render: async ({ access }) => {
      const list = await sessions.listFor(access);
      if (list.length === 0) return null;
      const zone = zoneFor(access.user, access.cohort);
      const learnerCount = (await ctx.cohorts.learners(access.cohort.id)).length;
      const counts = await sessions.markCounts(list.map((s) => s.id));
      return {
        partial: 'sessions/staff',
        model: {
          zone,
          learnerCount,
          sessions: list.map((s) => ({
            id: s.id,
            title: s.title,
            week: s.week,
            when: `${formatInstant(s.startsAt, zone)} to ${formatTime(s.endsAt, zone)}`,
            moved: s.moved,
            hasJoin: Boolean(s.joinUrl),
            hasRecording: Boolean(s.recordingUrl),
            attended: counts.get(s.id)?.attended ?? 0,
            watched: counts.get(s.id)?.watched ?? 0,
            editUrl: `${ctx.prefix}/teach/sessions/${s.id}`,
            attendanceUrl: `${ctx.prefix}/teach/sessions/${s.id}/attendance`,
          })),
          cohortIcsUrl: `${ctx.prefix}/api/v1/cohorts/${access.cohort.id}/calendar.ics`,
        },
      };
    },
  });
}
