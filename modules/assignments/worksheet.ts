// The learner's worksheet: what they may still change, checking answers and choices, saving drafts and submitting.
import { eq } from 'drizzle-orm';
import type { Db } from '../../server/db.js';
import { BadInput, Conflict, Forbidden, NotFound } from '../../server/errors.js';
import { formatInstant } from '../../server/time.js';
import type { CohortAccess } from '../cohorts/service.js';
import type { Assignment } from '../courses/content.js';
import { submissions, submissionVersions, type SubmissionStatus } from './schema.js';
import { assignmentOf, buildDoc, currentFiles, datesFor, ensureRow, findRow, labelsOf, normaliseText, parseArray, parseObject } from './records.js';
import type { Deps, PersonalDates, SaveInput, SaveResult, SubmissionDoc, SubmissionRow } from './types.js';

/** Learner, week open, assignment present, not past the learner's grace end, not complete. Reads through `q`. */
export async function assertWritable(
  d: Deps,
  q: Db,
  access: CohortAccess,
  n: number,
): Promise<{ assignment: Assignment; dates: PersonalDates; row: SubmissionRow | undefined }> {
  if (access.role !== 'learner') throw new Forbidden('Only enrolled learners hand in work.');
  d.cohorts.assertWeekOpen(access, n);
  const assignment = assignmentOf(access.cohort, n);
  const dates = await datesFor(q, access.cohort, access.user.id);
  if (d.clock.now().getTime() >= dates.graceEndsAt.getTime()) {
    const zone = access.user.timezone ?? access.cohort.timezone;
    throw new Conflict(`Submissions for week ${n} closed on ${formatInstant(dates.graceEndsAt, zone)}. Ask your instructor if you need an extension.`);
  }
  const row = await findRow(q, access.cohort.id, access.user.id, n);
  if (row?.status === 'complete') throw new Conflict(`Your week ${n} work is already complete; it can no longer be changed.`);
  return { assignment, dates, row };
}

/**
 * Checks answers and options against the assignment; returns them cleaned. Throws 400 naming the field. An answer to a
 * prompt the worksheet no longer has, sent back as the stored draft holds it (`drafted`), is dropped rather than
 * refused: it stays in the versions already submitted, and a learner is never stuck on a prompt they cannot see.
 */
function cleanInput(
  assignment: Assignment,
  n: number,
  input: SaveInput,
  keepOptions: string[],
  drafted: Record<string, string>,
): { answers: Record<string, string>; options: string[] } {
  const answers: Record<string, string> = {};
  const prompts = new Map(assignment.prompts.map((p) => [p.id, p]));
  for (const [id, raw] of Object.entries(input.answers ?? {})) {
    const prompt = prompts.get(id);
    if (!prompt && Object.hasOwn(drafted, id)) continue;
    if (!prompt) throw new BadInput(`week ${n} has no prompt "${id.slice(0, 60)}".`, `answers.${id.slice(0, 60)}`);
    if (typeof raw !== 'string') throw new BadInput('must be text.', `answers.${id}`);
    const text = normaliseText(raw);
    const length = [...text].length;
    if (length > prompt.maxLength) {
      throw new BadInput(`"${prompt.label}" allows at most ${prompt.maxLength} characters (this answer has ${length}).`, `answers.${id}`);
    }
    if (text.trim()) answers[id] = text;
  }
  let options = keepOptions;
  if (input.options !== undefined) {
    const known = new Set(assignment.options.map((o) => o.id));
    if (assignment.choose === null && input.options.length > 0) throw new BadInput(`week ${n} has no options to choose from.`, 'options');
    for (const id of input.options) if (!known.has(id)) throw new BadInput(`week ${n} has no option "${String(id).slice(0, 60)}".`, 'options');
    if (new Set(input.options).size !== input.options.length) throw new BadInput('each option can be chosen once.', 'options');
    if (assignment.choose !== null && input.options.length > assignment.choose) {
      throw new BadInput(`choose ${assignment.choose} of the ${assignment.options.length} options (you chose ${input.options.length}).`, 'options');
    }
    // Keep the course's order, whatever order they came in.
    options = assignment.options.map((o) => o.id).filter((id) => input.options!.includes(id));
  }
  if (input.submit && assignment.choose !== null && options.length !== assignment.choose) {
    throw new BadInput(`choose ${assignment.choose} of the ${assignment.options.length} options before you submit (you chose ${options.length}).`, 'options');
  }
  return { answers, options };
}

/** Throws what save() would throw for this input, without saving (pages check before storing an upload). */
export async function check(d: Deps, access: CohortAccess, n: number, input: SaveInput): Promise<void> {
  const { assignment, row } = await assertWritable(d, d.database.db, access, n);
  cleanInput(assignment, n, input, row ? parseArray(row.chosenOptions) : [], row ? parseObject(row.draftAnswers) : {});
}

/**
 * Save the learner's working copy as a draft, or submit it as a new version. Submitting on a `review: none`
 * course completes the week. Late is decided by the first submit against the learner's own due date.
 */
export async function save(d: Deps, access: CohortAccess, n: number, input: SaveInput): Promise<SaveResult> {
  const now = d.clock.now();
  return d.database.transaction(async (tx) => {
    const { assignment, dates, row: existing } = await assertWritable(d, tx, access, n);
    const { answers, options } = cleanInput(
      assignment,
      n,
      input,
      existing ? parseArray(existing.chosenOptions) : [],
      existing ? parseObject(existing.draftAnswers) : {},
    );
    // Each answer keeps the label it answered, so it stays readable after the course renames or removes the prompt.
    const promptLabels = JSON.stringify(labelsOf(assignment.prompts, answers));
    const row = existing ?? (await ensureRow(tx, access.cohort.id, access.user.id, n, now));
    if (!input.submit) {
      const [saved] = await tx
        .update(submissions)
        .set({ draftAnswers: JSON.stringify(answers), draftPromptLabels: promptLabels, chosenOptions: JSON.stringify(options), draftSavedAt: now, updatedAt: now })
        .where(eq(submissions.id, row.id))
        .returning({ id: submissions.id, status: submissions.status, late: submissions.late, version: submissions.version, submittedAt: submissions.submittedAt });
      return saved;
    }
    const attached = await currentFiles(tx, row.id);
    if (Object.keys(answers).length === 0 && attached.length === 0) {
      throw assignment.prompts.length > 0
        ? new BadInput('answer at least one prompt before you submit.', 'answers')
        : new BadInput('attach your file before you submit.', 'file');
    }
    if (assignment.prompts.length === 0 && assignment.upload && attached.length === 0) throw new BadInput('attach your file before you submit.', 'file');
    const late = now.getTime() >= dates.dueAt(n).getTime();
    const version = row.version + 1;
    await tx.insert(submissionVersions).values({
      submissionId: row.id,
      version,
      answers: JSON.stringify(answers),
      promptLabels,
      options: JSON.stringify(options),
      fileIds: JSON.stringify(attached.map((f) => f.id)),
      late,
      submittedAt: now,
    });
    const status: SubmissionStatus = access.cohort.course.review === 'none' ? 'complete' : 'submitted';
    const [updated] = await tx
      .update(submissions)
      .set({
        status,
        version,
        late: row.firstSubmittedAt ? row.late : late,
        firstSubmittedAt: row.firstSubmittedAt ?? now,
        submittedAt: now,
        draftAnswers: JSON.stringify(answers),
        draftPromptLabels: promptLabels,
        chosenOptions: JSON.stringify(options),
        draftSavedAt: now,
        updatedAt: now,
      })
      .where(eq(submissions.id, row.id))
      .returning();
    await d.events.emit(tx, 'progress.changed', { cohortId: updated.cohortId, userId: updated.userId });
    return { id: updated.id, status: updated.status, late: updated.late, version: updated.version, submittedAt: updated.submittedAt };
  });
}

/** The learner's own submission row for a week (undefined before any save). */
export async function find(d: Deps, cohortId: number, userId: number, n: number): Promise<SubmissionRow | undefined> {
  return findRow(d.database.db, cohortId, userId, n);
}

/** The learner's own submission for a week with its history, or 404 before the first save. */
export async function own(d: Deps, access: CohortAccess, n: number): Promise<SubmissionDoc> {
  if (access.role !== 'learner') throw new Forbidden('Only enrolled learners have their own submissions.');
  d.cohorts.assertWeekOpen(access, n);
  assignmentOf(access.cohort, n);
  const row = await findRow(d.database.db, access.cohort.id, access.user.id, n);
  if (!row) throw new NotFound(`Your week ${n} submission`);
  return buildDoc(d.database.db, access.cohort, row, true);
}

/** The learner's own doc for a week, or null (pages). */
export async function ownOrNull(d: Deps, access: CohortAccess, n: number): Promise<SubmissionDoc | null> {
  const row = await findRow(d.database.db, access.cohort.id, access.user.id, n);
  return row ? buildDoc(d.database.db, access.cohort, row, true) : null;
}
