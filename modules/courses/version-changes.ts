// What changes between two versions of a course, in words an instructor reads before applying a version to a
// cohort: weeks added, removed or rewritten, prompts added, renamed or removed, live-session slots moved.
import type { Assignment, Course, SessionSlot, Week } from './model.js';

export interface VersionChange {
  /** Where: "Course", "Week 2", "Live sessions". */
  where: string;
  what: string;
  /** Learners' work or dates are touched (shown first and marked). */
  weighty: boolean;
}

const WEEKDAYS = ['', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const slotText = (s: SessionSlot) => `“${s.title}” in week ${s.week}, ${WEEKDAYS[s.weekday]} ${s.time} (${s.durationMinutes} min)`;
const slotKey = (s: SessionSlot) => `${s.week}|${s.weekday}|${s.time}|${s.durationMinutes}|${s.title}`;
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function assignmentChanges(where: string, a: Assignment | null, b: Assignment | null): VersionChange[] {
  if (!a && !b) return [];
  if (!a) return [{ where, what: `A worksheet is added: “${b!.title}”.`, weighty: true }];
  if (!b) return [{ where, what: `The worksheet “${a.title}” is removed; answers already given stay readable.`, weighty: true }];
  const out: VersionChange[] = [];
  if (a.title !== b.title) out.push({ where, what: `The worksheet is renamed from “${a.title}” to “${b.title}”.`, weighty: false });
  if (a.instructionsHtml !== b.instructionsHtml) out.push({ where, what: 'The worksheet instructions change.', weighty: false });
  const before = new Map(a.prompts.map((p) => [p.id, p]));
  const after = new Map(b.prompts.map((p) => [p.id, p]));
  for (const p of b.prompts) {
    const old = before.get(p.id);
    if (!old) out.push({ where, what: `Prompt added: “${p.label}”.`, weighty: true });
    else {
      if (old.label !== p.label) out.push({ where, what: `Prompt renamed from “${old.label}” to “${p.label}” (answers keep the label they answered).`, weighty: false });
      if (old.maxLength !== p.maxLength) out.push({ where, what: `“${p.label}” allows ${p.maxLength.toLocaleString('en-GB')} characters instead of ${old.maxLength.toLocaleString('en-GB')}.`, weighty: p.maxLength < old.maxLength });
      if (old.help !== p.help) out.push({ where, what: `The help for “${p.label}” changes.`, weighty: false });
    }
  }
  for (const p of a.prompts) if (!after.has(p.id)) out.push({ where, what: `Prompt removed: “${p.label}” (answers already given stay readable).`, weighty: true });
  if (!same(a.options, b.options) || a.choose !== b.choose) out.push({ where, what: `The options to choose from change (${b.options.length} options, choose ${b.choose ?? 0}).`, weighty: true });
  if (!same(a.upload, b.upload)) {
    out.push({
      where,
      what: b.upload ? `Uploads: up to ${Math.round(b.upload.maxBytes / 1024 / 1024)} MB of ${b.upload.types.join(', ')}${a.upload ? '' : ' (new)'}.` : 'Uploads are no longer asked for.',
      weighty: true,
    });
  }
  return out;
}

function weekChanges(n: number, a: Week, b: Week): VersionChange[] {
  const where = `Week ${n}`;
  const out: VersionChange[] = [];
  if (a.title !== b.title) out.push({ where, what: `Renamed from “${a.title}” to “${b.title}”.`, weighty: false });
  if (a.summary !== b.summary) out.push({ where, what: 'The summary changes.', weighty: false });
  if (a.markdown !== b.markdown) out.push({ where, what: 'The week’s text changes (a cohort’s own edit of it still wins).', weighty: false });
  if (!same(a.readings, b.readings)) out.push({ where, what: `Readings change (${b.readings.length} instead of ${a.readings.length}).`, weighty: false });
  out.push(...assignmentChanges(where, a.assignment, b.assignment));
  if (a.discussionPromptMarkdown !== b.discussionPromptMarkdown) {
    out.push({ where, what: b.discussionPromptMarkdown ? (a.discussionPromptMarkdown ? 'The discussion prompt changes.' : 'A discussion prompt is added.') : 'The discussion prompt is removed.', weighty: false });
  }
  return out;
}

/** Every change from `a` to `b`, the weighty ones (learners' work, dates) first, each group in course order. */
export function courseChanges(a: Course, b: Course): VersionChange[] {
  const out: VersionChange[] = [];
  const where = 'Course';
  if (a.title !== b.title) out.push({ where, what: `The title becomes “${b.title}”.`, weighty: false });
  if (a.summary !== b.summary || a.descriptionHtml !== b.descriptionHtml) out.push({ where, what: 'The summary or description changes.', weighty: false });
  if (a.hoursPerWeek !== b.hoursPerWeek) out.push({ where, what: `About ${b.hoursPerWeek} hours a week instead of ${a.hoursPerWeek}.`, weighty: false });
  if (a.releaseTime !== b.releaseTime) out.push({ where, what: `Weeks open at ${b.releaseTime} instead of ${a.releaseTime}.`, weighty: true });
  if (a.weekCount !== b.weekCount) out.push({ where, what: `${b.weekCount} weeks instead of ${a.weekCount}: the end, the grace period and the certificate deadline move.`, weighty: true });
  if (!same(a.certificate, b.certificate)) out.push({ where, what: 'The certificate rules change.', weighty: true });
  const n = Math.max(a.weekCount, b.weekCount);
  for (let i = 0; i < n; i++) {
    const [wa, wb] = [a.weeks[i], b.weeks[i]];
    if (wa && wb) out.push(...weekChanges(i + 1, wa, wb));
    else if (wb) out.push({ where: `Week ${i + 1}`, what: `Added: “${wb.title}”.`, weighty: true });
    else out.push({ where: `Week ${i + 1}`, what: `Removed: “${wa.title}”.`, weighty: true });
  }
  const before = new Set(a.sessions.map(slotKey));
  const after = new Set(b.sessions.map(slotKey));
  for (const s of a.sessions) if (!after.has(slotKey(s))) out.push({ where: 'Live sessions', what: `No longer: ${slotText(s)}.`, weighty: true });
  for (const s of b.sessions) if (!before.has(slotKey(s))) out.push({ where: 'Live sessions', what: `New: ${slotText(s)}.`, weighty: true });
  return [...out.filter((c) => c.weighty), ...out.filter((c) => !c.weighty)];
}
