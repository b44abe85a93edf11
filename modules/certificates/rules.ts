// The certificate rules as a pure function: what a learner has done, whether that earns the certificate, and
// what is still missing in plain words (the API, the cohort home, the "who is behind" view and nudges share it).
import type { CertificateRules } from '../courses/content.js';

export type WeekStatus = 'none' | 'draft' | 'submitted' | 'needs_revision' | 'complete';

export interface WeekProgress {
  week: number;
  title: string;
  status: WeekStatus;
  late: boolean;
}

export interface AttendanceProgress {
  attendedOrWatched: number;
  total: number;
  missed: Array<{ sessionId: number; week: number; title: string; hasRecording: boolean }>;
}

export interface ProgressFacts {
  weeks: WeekProgress[];
  attendance: AttendanceProgress;
  posts: number;
}

export interface Evaluation {
  /** Every rule is met (false for a course without a certificate). */
  eligible: boolean;
  assignmentsComplete: number;
  /** How many complete assignments the rules ask for. */
  assignmentsRequired: number;
  assignmentsTotal: number;
  sessionsAttended: number;
  sessionsRequired: number;
  sessionsTotal: number;
  posts: number;
  postsRequired: number;
  /** Plain-language list of what is still needed, most concrete first. */
  missing: string[];
  /** How far from the certificate: 0 when eligible; larger is further (sorting the "who is behind" view). */
  distance: number;
}

/** How much of one unfinished assignment is left, by its status (waiting for review is nearly done). */
const REMAINING: Record<WeekStatus, number> = { none: 1, draft: 0.75, needs_revision: 0.5, submitted: 0.25, complete: 0 };

const NUMBER_WORDS = ['no', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];
/** "one", "two" … "ten", then digits. */
function count(n: number): string {
  return NUMBER_WORDS[n] ?? String(n);
}

/** "Week 3 worksheet" for titles like "Worksheet 3 — …", else "Week 1 assignment “Making the case”". */
export function workLabel(w: Pick<WeekProgress, 'week' | 'title'>): string {
  const title = w.title.trim();
  const kind = /^(worksheet|assignment|exercise|reflection)\b/i.exec(title)?.[1];
  if (kind) return `Week ${w.week} ${kind.toLowerCase()}`;
  return title ? `Week ${w.week} assignment “${title}”` : `Week ${w.week} assignment`;
}

/** What to do about one unfinished assignment, in a learner's words. */
export function assignmentMissing(w: WeekProgress): string {
  const label = workLabel(w);
  switch (w.status) {
    case 'needs_revision':
      return `${label} needs revision`;
    case 'submitted':
      return `${label} is waiting for the instructor’s review`;
    case 'draft':
      return `${label} is saved as a draft: submit it`;
    default:
      return `${label} is not submitted yet`;
  }
}

/** Evaluate a learner's progress against a course's certificate rules. */
export function evaluate(rules: CertificateRules | null, facts: ProgressFacts): Evaluation {
  const assignmentsTotal = facts.weeks.length;
  const assignmentsComplete = facts.weeks.filter((w) => w.status === 'complete').length;
  const sessionsAttended = facts.attendance.attendedOrWatched;
  const base = {
    assignmentsComplete,
    assignmentsTotal,
    sessionsAttended,
    sessionsTotal: facts.attendance.total,
    posts: facts.posts,
  };
  if (!rules) {
    return { ...base, eligible: false, assignmentsRequired: 0, sessionsRequired: 0, postsRequired: 0, missing: ['This course does not offer a certificate'], distance: 0 };
  }

  const missing: string[] = [];
  let distance = 0;
  const unfinished = facts.weeks.filter((w) => w.status !== 'complete').sort((a, b) => a.week - b.week);
  const assignmentsRequired = rules.assignments === 'all' ? assignmentsTotal : Math.min(rules.assignments, assignmentsTotal);
  const assignmentsShort = Math.max(0, assignmentsRequired - assignmentsComplete);
  if (rules.assignments === 'all') {
    for (const w of unfinished) {
      missing.push(assignmentMissing(w));
      distance += REMAINING[w.status];
    }
  } else if (assignmentsShort > 0) {
    missing.push(`Complete ${count(assignmentsShort)} more assignment${assignmentsShort === 1 ? '' : 's'}`);
    // The closest ones count: those waiting for review or needing a revision are cheaper than new work.
    const costs = unfinished.map((w) => REMAINING[w.status]).sort((a, b) => a - b);
    distance += costs.slice(0, assignmentsShort).reduce((s, c) => s + c, 0) + Math.max(0, assignmentsShort - costs.length);
    // Say which ones are nearly there, so the learner knows where to start.
    for (const w of unfinished.filter((x) => x.status === 'needs_revision' || x.status === 'submitted' || x.status === 'draft').slice(0, assignmentsShort)) {
      missing.push(assignmentMissing(w));
    }
  }

  const sessionsRequired = Math.min(rules.sessions, facts.attendance.total || rules.sessions);
  const sessionsShort = Math.max(0, sessionsRequired - sessionsAttended);
  if (sessionsShort > 0) {
    missing.push(`Attend or watch ${count(sessionsShort)} more session${sessionsShort === 1 ? '' : 's'}`);
    distance += sessionsShort;
    const withRecording = facts.attendance.missed.filter((m) => m.hasRecording);
    if (withRecording.length > 0) {
      const names = withRecording.slice(0, 3).map((m) => `“${m.title}”`).join(', ');
      missing.push(`Recordings you can still watch: ${names}`);
    }
  }

  const postsShort = Math.max(0, rules.posts - facts.posts);
  if (postsShort > 0) {
    missing.push(facts.posts === 0 && rules.posts === 1 ? 'Post at least once in the discussion' : `Post ${postsShort === 1 ? 'once' : `${count(postsShort)} times`} more in the discussion`);
    distance += postsShort;
  }

  const eligible = assignmentsShort === 0 && sessionsShort === 0 && postsShort === 0 && (rules.assignments !== 'all' || unfinished.length === 0);
  return { ...base, eligible, assignmentsRequired, sessionsRequired, postsRequired: rules.posts, missing: eligible ? [] : missing, distance: eligible ? 0 : distance };
}
