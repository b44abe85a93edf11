// The certificate rules as a pure function: each rule, their combinations, the plain-language missing list, distance.
import { describe, expect, it } from 'vitest';
import { evaluate, workLabel, type ProgressFacts, type WeekStatus } from '../../modules/certificates/rules.js';
import type { CertificateRules } from '../../modules/courses/content.js';

const DEFAULT: CertificateRules = { assignments: 'all', sessions: 3, posts: 1, hours: 10 };

function facts(statuses: WeekStatus[], attended: number, posts: number, opts: { total?: number; recordings?: string[] } = {}): ProgressFacts {
  return {
    weeks: statuses.map((status, i) => ({ week: i + 1, title: `Worksheet ${i + 1} — Something`, status, late: false })),
    attendance: {
      attendedOrWatched: attended,
      total: opts.total ?? 4,
      missed: (opts.recordings ?? []).map((title, i) => ({ sessionId: i + 10, week: i + 1, title, hasRecording: true })),
    },
    posts,
  };
}

const ALL: WeekStatus[] = ['complete', 'complete', 'complete', 'complete'];

describe('certificate rules (default: every worksheet, 3 of 4 sessions, one post)', () => {
  it('everything done: eligible, nothing missing, distance 0', () => {
    const e = evaluate(DEFAULT, facts(ALL, 3, 1));
    expect(e).toMatchObject({ eligible: true, missing: [], distance: 0, assignmentsComplete: 4, assignmentsRequired: 4, sessionsAttended: 3, sessionsRequired: 3, posts: 1, postsRequired: 1 });
  });

  it('more than enough still counts (4 sessions, 5 posts)', () => {
    expect(evaluate(DEFAULT, facts(ALL, 4, 5)).eligible).toBe(true);
  });

  it('assignments rule alone: each unfinished week is named with what to do about it', () => {
    const e = evaluate(DEFAULT, facts(['complete', 'submitted', 'needs_revision', 'none'], 3, 1));
    expect(e.eligible).toBe(false);
    expect(e.missing).toEqual([
      'Week 2 worksheet is waiting for the instructor’s review',
      'Week 3 worksheet needs revision',
      'Week 4 worksheet is not submitted yet',
    ]);
    expect(evaluate(DEFAULT, facts(['draft', 'complete', 'complete', 'complete'], 3, 1)).missing).toEqual(['Week 1 worksheet is saved as a draft: submit it']);
  });

  it('sessions rule alone: "Attend or watch one more session", and how many when more', () => {
    expect(evaluate(DEFAULT, facts(ALL, 2, 1)).missing).toEqual(['Attend or watch one more session']);
    expect(evaluate(DEFAULT, facts(ALL, 0, 1)).missing).toEqual(['Attend or watch three more sessions']);
  });

  it('names recordings the learner can still watch', () => {
    const e = evaluate(DEFAULT, facts(ALL, 2, 1, { recordings: ['Live session 2 — Bringing people into the plan'] }));
    expect(e.missing).toEqual(['Attend or watch one more session', 'Recordings you can still watch: “Live session 2 — Bringing people into the plan”']);
  });

  it('posts rule alone: "Post at least once in the discussion"; with a higher bar, how many more', () => {
    expect(evaluate(DEFAULT, facts(ALL, 3, 0)).missing).toEqual(['Post at least once in the discussion']);
    const two = { ...DEFAULT, posts: 2 };
    expect(evaluate(two, facts(ALL, 3, 0)).missing).toEqual(['Post two times more in the discussion']);
    expect(evaluate(two, facts(ALL, 3, 1)).missing).toEqual(['Post once more in the discussion']);
  });

  it('all three missing together are listed in order: work, sessions, discussion', () => {
    const e = evaluate(DEFAULT, facts(['complete', 'complete', 'needs_revision', 'complete'], 2, 0));
    expect(e.eligible).toBe(false);
    expect(e.missing).toEqual(['Week 3 worksheet needs revision', 'Attend or watch one more session', 'Post at least once in the discussion']);
  });

  it('each pair of rules met with the third missing is not eligible', () => {
    expect(evaluate(DEFAULT, facts(ALL, 3, 0)).eligible).toBe(false);
    expect(evaluate(DEFAULT, facts(ALL, 2, 1)).eligible).toBe(false);
    expect(evaluate(DEFAULT, facts(['complete', 'complete', 'complete', 'submitted'], 3, 1)).eligible).toBe(false);
  });

  it('a number of assignments instead of "all": any N complete will do', () => {
    const rules: CertificateRules = { assignments: 5, sessions: 4, posts: 2, hours: 12 };
    const six: WeekStatus[] = ['complete', 'complete', 'complete', 'complete', 'complete', 'none'];
    expect(evaluate(rules, facts(six, 4, 2, { total: 6 })).eligible).toBe(true);
    const four: WeekStatus[] = ['complete', 'complete', 'complete', 'complete', 'needs_revision', 'none'];
    const e = evaluate(rules, facts(four, 4, 2, { total: 6 }));
    expect(e.eligible).toBe(false);
    expect(e.missing).toEqual(['Complete one more assignment', 'Week 5 worksheet needs revision']);
    expect(e.assignmentsRequired).toBe(5);
  });

  it('a course that asks for no sessions ignores attendance', () => {
    const rules: CertificateRules = { assignments: 'all', sessions: 0, posts: 2, hours: 10 };
    expect(evaluate(rules, facts(ALL, 0, 2, { total: 1 })).eligible).toBe(true);
  });

  it('a course without certificate rules is never eligible and says so', () => {
    const e = evaluate(null, facts(ALL, 4, 4));
    expect(e.eligible).toBe(false);
    expect(e.missing).toEqual(['This course does not offer a certificate']);
  });

  it('distance orders learners: nothing done is furthest, waiting for review is nearly there', () => {
    const nothing = evaluate(DEFAULT, facts(['none', 'none', 'none', 'none'], 0, 0)).distance;
    const revision = evaluate(DEFAULT, facts(['complete', 'complete', 'complete', 'needs_revision'], 3, 1)).distance;
    const review = evaluate(DEFAULT, facts(['complete', 'complete', 'complete', 'submitted'], 3, 1)).distance;
    const oneSession = evaluate(DEFAULT, facts(ALL, 2, 1)).distance;
    expect(nothing).toBe(8);
    expect(nothing).toBeGreaterThan(oneSession);
    expect(oneSession).toBeGreaterThan(revision);
    expect(revision).toBeGreaterThan(review);
    expect(review).toBeGreaterThan(0);
  });

  it('labels worksheets by week and other assignments by their title', () => {
    expect(workLabel({ week: 3, title: 'Worksheet 3 — Signals, vision and priorities' })).toBe('Week 3 worksheet');
    expect(workLabel({ week: 1, title: 'Making the case' })).toBe('Week 1 assignment “Making the case”');
  });
});
