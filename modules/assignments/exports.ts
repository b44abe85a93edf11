// What leaves the app as a file: the cohort's status grid as CSV and the learner's workbook (the model the PDF draws).
import { and, eq } from 'drizzle-orm';
import { Forbidden } from '../../server/errors.js';
import { formatInstant } from '../../server/time.js';
import type { CohortAccess } from '../cohorts/service.js';
import { submissions } from './schema.js';
import type { WorkbookModel } from './pdf.js';
import { buildDoc, cohortLearners, csvCell, datesFor, labelAnswers, parseArray, statusLabel } from './records.js';
import type { Deps } from './types.js';

/** The status grid (learners × weeks with an assignment) as CSV for spreadsheets. */
export async function csv(d: Deps, access: CohortAccess): Promise<string> {
  if (access.role === 'learner') throw new Forbidden('Only the cohort’s instructors and admins can export submissions.');
  const cohort = access.cohort;
  const weeks = cohort.course.weeks.filter((w) => w.assignment);
  const rows = await d.database.db.select().from(submissions).where(eq(submissions.cohortId, cohort.id));
  const key = (u: number, w: number) => `${u}:${w}`;
  const byKey = new Map(rows.map((r) => [key(r.userId, r.week), r]));
  const lines = [['learner', 'name', ...weeks.map((w) => `week ${w.number}: ${w.assignment!.title}`), 'complete'].map(csvCell).join(',')];
  for (const l of await cohortLearners(d, cohort.id)) {
    let complete = 0;
    const cells = weeks.map((w) => {
      const r = byKey.get(key(l.id, w.number));
      if (r?.status === 'complete') complete++;
      return r ? `${r.status}${r.late ? ' (late)' : ''}` : 'none';
    });
    lines.push([l.email, l.name, ...cells, `${complete}/${weeks.length}`].map(csvCell).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

/**
 * Everything the learner's workbook shows: each week with an assignment, their latest answers, choices and files.
 * Instructors and admins get the blank workbook (every prompt, no answers) to see what learners get.
 */
export async function workbook(d: Deps, access: CohortAccess): Promise<WorkbookModel> {
  const db = d.database.db;
  const cohort = access.cohort;
  const now = d.clock.now();
  const preview = access.role !== 'learner';
  const rows = preview ? [] : await db.select().from(submissions).where(and(eq(submissions.cohortId, cohort.id), eq(submissions.userId, access.user.id)));
  const byWeek = new Map(rows.map((r) => [r.week, r]));
  const zone = access.user.timezone ?? cohort.timezone;
  const dates = await datesFor(db, cohort, access.user.id);
  const weeks: WorkbookModel['weeks'] = [];
  for (const w of cohort.course.weeks.filter((x) => x.assignment)) {
    const r = byWeek.get(w.number);
    const opened = preview || cohort.timeline.weeks[w.number - 1].opensAt.getTime() <= now.getTime();
    const a = w.assignment!;
    const chosen = r ? parseArray(r.chosenOptions) : [];
    const doc = r ? await buildDoc(db, cohort, r, true) : null;
    const lastReview = doc?.versions.at(-1)?.reviews.at(-1) ?? null;
    // The working copy, and any answer to a prompt since removed that a save has left out of it: from the newest
    // submitted version holding one, so the workbook never loses an answer the learner handed in.
    const answers = { ...(doc?.draft?.answers ?? {}) };
    const labels = { ...(doc?.draft?.promptLabels ?? {}) };
    const asked = new Set(a.prompts.map((p) => p.id));
    for (const v of [...(doc?.versions ?? [])].reverse()) {
      for (const [id, text] of Object.entries(v.answers)) {
        if (asked.has(id) || Object.hasOwn(answers, id)) continue;
        answers[id] = text;
        labels[id] = v.promptLabels[id];
      }
    }
    weeks.push({
      number: w.number,
      title: (await d.cohorts.week(cohort, w.number)).title,
      assignment: a.title,
      opened,
      status: preview ? 'Blank copy' : statusLabel(r?.status ?? 'none'),
      due: formatInstant(dates.dueAt(w.number), zone),
      options: a.options.filter((o) => chosen.includes(o.id)).map((o) => o.label),
      prompts: labelAnswers(a.prompts, answers, labels).map((x) => ({ label: x.label, note: x.note, answer: x.text, feedback: lastReview?.promptFeedback[x.id] ?? '' })),
      files: doc?.files.map((f) => f.name) ?? [],
      feedback: lastReview?.feedback ?? '',
    });
  }
  return {
    course: cohort.course.title,
    learner: preview ? 'nobody yet: a blank copy for instructors' : access.user.name || access.user.email,
    dates: `${formatInstant(cohort.timeline.startsAt, zone)} – ${formatInstant(cohort.timeline.endsAt, zone)}`,
    generated: formatInstant(now, zone),
    weeks,
  };
}
