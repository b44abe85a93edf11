// The cohort timeline of PRODUCT.md: exact UTC instants in Europe/London and America/New_York across both
// daylight-saving changes, with the course's release time, computed by luxon and served by the API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeTimeline, cohortState, currentWeek } from '../../modules/cohorts/timeline.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { apiAs } from '../helpers/http.js';
import { insertCohort, insertUser } from '../helpers/factories.js';

const iso = (d: Date) => d.toISOString();

interface Case {
  name: string;
  course: string;
  startDate: string;
  timezone: string;
  releaseTime?: string;
  weekCount: number;
  opens: string[];
  endsAt: string;
  graceEndsAt: string;
  accessEndsAt: string;
}

const cases: Case[] = [
  {
    name: 'London, spring forward (29 March) between weeks 2 and 3, weeks open at 08:00 local',
    course: 'strategic-planning',
    startDate: '2026-03-16',
    timezone: 'Europe/London',
    releaseTime: '08:00',
    weekCount: 4,
    // 08:00 GMT is 08:00Z; from 29 March 08:00 BST is 07:00Z.
    opens: ['2026-03-16T08:00:00.000Z', '2026-03-23T08:00:00.000Z', '2026-03-30T07:00:00.000Z', '2026-04-06T07:00:00.000Z'],
    endsAt: '2026-04-13T07:00:00.000Z',
    graceEndsAt: '2026-04-27T07:00:00.000Z',
    accessEndsAt: '2026-05-11T07:00:00.000Z',
  },
  {
    name: 'London, fall back (25 October) between weeks 2 and 3, weeks open at local midnight',
    course: 'community-led-planning',
    startDate: '2026-10-12',
    timezone: 'Europe/London',
    weekCount: 4,
    // Midnight BST is 23:00Z the day before; midnight GMT is 00:00Z.
    opens: ['2026-10-11T23:00:00.000Z', '2026-10-18T23:00:00.000Z', '2026-10-26T00:00:00.000Z', '2026-11-02T00:00:00.000Z'],
    endsAt: '2026-11-09T00:00:00.000Z',
    graceEndsAt: '2026-11-23T00:00:00.000Z',
    accessEndsAt: '2026-12-07T00:00:00.000Z',
  },
  {
    name: 'London, the grace period spans spring forward (the course itself does not)',
    course: 'strategic-planning',
    startDate: '2026-02-16',
    timezone: 'Europe/London',
    releaseTime: '08:00',
    weekCount: 4,
    opens: ['2026-02-16T08:00:00.000Z', '2026-02-23T08:00:00.000Z', '2026-03-02T08:00:00.000Z', '2026-03-09T08:00:00.000Z'],
    endsAt: '2026-03-16T08:00:00.000Z',
    graceEndsAt: '2026-03-30T07:00:00.000Z',
    accessEndsAt: '2026-04-13T07:00:00.000Z',
  },
  {
    name: 'New York, spring forward (8 March) between weeks 1 and 2, weeks open at 08:00 local',
    course: 'strategic-planning',
    startDate: '2026-03-02',
    timezone: 'America/New_York',
    releaseTime: '08:00',
    weekCount: 4,
    // 08:00 EST is 13:00Z; 08:00 EDT is 12:00Z.
    opens: ['2026-03-02T13:00:00.000Z', '2026-03-09T12:00:00.000Z', '2026-03-16T12:00:00.000Z', '2026-03-23T12:00:00.000Z'],
    endsAt: '2026-03-30T12:00:00.000Z',
    graceEndsAt: '2026-04-13T12:00:00.000Z',
    accessEndsAt: '2026-04-27T12:00:00.000Z',
  },
  {
    name: 'New York, fall back (1 November) between weeks 2 and 3, weeks open at local midnight',
    course: 'community-led-planning',
    startDate: '2026-10-19',
    timezone: 'America/New_York',
    weekCount: 4,
    // Midnight EDT is 04:00Z; midnight EST is 05:00Z.
    opens: ['2026-10-19T04:00:00.000Z', '2026-10-26T04:00:00.000Z', '2026-11-02T05:00:00.000Z', '2026-11-09T05:00:00.000Z'],
    endsAt: '2026-11-16T05:00:00.000Z',
    graceEndsAt: '2026-11-30T05:00:00.000Z',
    accessEndsAt: '2026-12-14T05:00:00.000Z',
  },
  {
    name: 'a six-week course in New York opening at 06:00, across fall back',
    course: 'leading-change',
    startDate: '2026-10-12',
    timezone: 'America/New_York',
    releaseTime: '06:00',
    weekCount: 6,
    opens: [
      '2026-10-12T10:00:00.000Z',
      '2026-10-19T10:00:00.000Z',
      '2026-10-26T10:00:00.000Z',
      '2026-11-02T11:00:00.000Z',
      '2026-11-09T11:00:00.000Z',
      '2026-11-16T11:00:00.000Z',
    ],
    endsAt: '2026-11-23T11:00:00.000Z',
    graceEndsAt: '2026-12-07T11:00:00.000Z',
    accessEndsAt: '2026-12-21T11:00:00.000Z',
  },
];

describe('the timeline, computed', () => {
  for (const c of cases) {
    it(`${c.name}: every instant is exact`, () => {
      const t = computeTimeline({ startDate: c.startDate, timezone: c.timezone, weekCount: c.weekCount, releaseTime: c.releaseTime });
      expect(t.weeks.map((w) => iso(w.opensAt))).toEqual(c.opens);
      // dueAt(n) = opensAt(n+1); the last week is due at endsAt.
      expect(t.weeks.map((w) => iso(w.dueAt))).toEqual([...c.opens.slice(1), c.endsAt]);
      expect(iso(t.startsAt)).toBe(c.opens[0]);
      expect(iso(t.endsAt)).toBe(c.endsAt);
      expect(iso(t.graceEndsAt)).toBe(c.graceEndsAt);
      expect(iso(t.accessEndsAt)).toBe(c.accessEndsAt);
    });
  }

  it('names where a cohort is in its life at each boundary', () => {
    const t = computeTimeline({ startDate: '2026-03-16', timezone: 'Europe/London', weekCount: 4, releaseTime: '08:00' });
    const at = (s: string, ms = 0) => new Date(new Date(s).getTime() + ms);
    expect(cohortState(t, at('2026-03-16T08:00:00.000Z', -1))).toBe('upcoming');
    expect(cohortState(t, at('2026-03-16T08:00:00.000Z'))).toBe('running');
    expect(cohortState(t, at('2026-04-13T07:00:00.000Z', -1))).toBe('running');
    expect(cohortState(t, at('2026-04-13T07:00:00.000Z'))).toBe('grace');
    expect(cohortState(t, at('2026-04-27T07:00:00.000Z'))).toBe('closed');
    expect(cohortState(t, at('2026-05-11T07:00:00.000Z'))).toBe('archived');
    expect(currentWeek(t, at('2026-03-30T07:00:00.000Z', -1))).toBe(2);
    expect(currentWeek(t, at('2026-03-30T07:00:00.000Z'))).toBe(3);
  });
});

describe('the timeline, through the API', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ now: '2026-01-05T09:00:00.000Z' });
  });
  afterAll(async () => t.close());

  for (const c of cases) {
    it(`${c.name}: GET /api/v1/cohorts/:id gives the same instants`, async () => {
      const { cohort } = await insertCohort(t, { course: c.course, startDate: c.startDate, timezone: c.timezone });
      const admin = await insertUser(t, 'admin');
      const res = await apiAs(t.app, admin.token)('GET', `/api/v1/cohorts/${cohort.id}`);
      expect(res.statusCode).toBe(200);
      const doc = res.json();
      expect(doc).toMatchObject({ id: cohort.id, course: c.course, startDate: c.startDate, timezone: c.timezone, state: 'upcoming' });
      expect(doc.weeks.map((w: { opensAt: string }) => w.opensAt)).toEqual(c.opens);
      expect(doc.weeks.map((w: { dueAt: string }) => w.dueAt)).toEqual([...c.opens.slice(1), c.endsAt]);
      expect({ endsAt: doc.endsAt, graceEndsAt: doc.graceEndsAt, accessEndsAt: doc.accessEndsAt }).toEqual({
        endsAt: c.endsAt,
        graceEndsAt: c.graceEndsAt,
        accessEndsAt: c.accessEndsAt,
      });
    });
  }
});
