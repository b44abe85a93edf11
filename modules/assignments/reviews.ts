// The instructor's side of submissions: reading one, the cohort's list and queue, and reviewing the latest version.
import { and, asc, eq, sql, type SQL } from 'drizzle-orm';
import { BadInput, Conflict, Forbidden } from '../../server/errors.js';
import { formatInstant } from '../../server/time.js';
import { users } from '../people/schema.js';
import type { User } from '../people/service.js';
import type { CohortAccess } from '../cohorts/service.js';
import { reviews, submissions, submissionVersions, type ReviewOutcome, type SubmissionStatus } from './schema.js';
import { accessSubmission, answeredLabels, assignmentOf, buildDoc, datesFor, labelAnswers, normaliseText, parseObject } from './records.js';
import { MAX_FEEDBACK, type Deps, type ListRow, type SubmissionDoc } from './types.js';

/** A submission for its cohort's instructors and admins, or for its learner. */
export async function get(d: Deps, user: User | null, submissionId: number): Promise<{ doc: SubmissionDoc; access: CohortAccess }> {
  const { access, row } = await accessSubmission(d, user, submissionId);
  return { doc: await buildDoc(d.database.db, access.cohort, row, access.role === 'learner'), access };
}

/** The cohort's submissions for its instructors, oldest submitted first (drafts, never submitted, last). */
export async function list(d: Deps, access: CohortAccess, filters: { week?: number; status?: SubmissionStatus } = {}): Promise<ListRow[]> {
  if (access.role === 'learner') throw new Forbidden('Only the cohort’s instructors and admins can see every submission.');
  const where: SQL[] = [eq(submissions.cohortId, access.cohort.id)];
  if (filters.week !== undefined) where.push(eq(submissions.week, filters.week));
  if (filters.status !== undefined) where.push(eq(submissions.status, filters.status));
  const rows = await d.database.db
    .select({ s: submissions, email: users.email, name: users.name })
    .from(submissions)
    .innerJoin(users, eq(users.id, submissions.userId))
    .where(and(...where))
    .orderBy(asc(submissions.submittedAt), asc(submissions.id));
  const submitted = rows.filter((r) => r.s.submittedAt);
  const drafts = rows.filter((r) => !r.s.submittedAt);
  return [...submitted, ...drafts].map(({ s, email, name }) => ({
    id: s.id,
    week: s.week,
    learner: email,
    learnerName: name || email,
    status: s.status,
    late: s.late,
    version: s.version,
    submittedAt: s.submittedAt,
  }));
}

/** How many submissions wait for review in a cohort. */
export async function queueCount(d: Deps, cohortId: number): Promise<number> {
  return d.database.db.$count(submissions, and(eq(submissions.cohortId, cohortId), eq(submissions.status, 'submitted')));
}

/** Counts by status for one week (the instructor's view of a week page). */
export async function weekCounts(d: Deps, cohortId: number, n: number): Promise<Record<SubmissionStatus, number>> {
  const counts: Record<SubmissionStatus, number> = { draft: 0, submitted: 0, complete: 0, needs_revision: 0 };
  const rows = await d.database.db
    .select({ status: submissions.status, n: sql<number>`count(*)` })
    .from(submissions)
    .where(and(eq(submissions.cohortId, cohortId), eq(submissions.week, n)))
    .groupBy(submissions.status);
  for (const r of rows) counts[r.status] = Number(r.n);
  return counts;
}

/**
 * An instructor's review of the latest submitted version: complete or needs revision, with overall and
 * per-prompt feedback. The learner is emailed in the same transaction.
 */
export async function review(
  d: Deps,
  user: User | null,
  submissionId: number,
  input: { outcome: ReviewOutcome; feedback: string; promptFeedback?: Record<string, string> },
): Promise<SubmissionDoc> {
  const { access, row: found } = await accessSubmission(d, user, submissionId);
  if (access.role === 'learner') throw new Forbidden('Only the cohort’s instructors and admins review submissions.');
  const cohort = access.cohort;
  const assignment = assignmentOf(cohort, found.week);
  const feedback = normaliseText(input.feedback ?? '').trim();
  if ([...feedback].length > MAX_FEEDBACK) throw new BadInput(`at most ${MAX_FEEDBACK} characters.`, 'feedback');
  if (input.outcome === 'needs_revision' && !feedback) throw new BadInput('say what needs revising.', 'feedback');
  const promptFeedback: Record<string, string> = {};
  // The version under review may hold answers to prompts the worksheet has since dropped; they can have feedback too.
  const [reviewed] =
    found.version > 0
      ? await d.database.db
          .select({ answers: submissionVersions.answers, promptLabels: submissionVersions.promptLabels })
          .from(submissionVersions)
          .where(and(eq(submissionVersions.submissionId, found.id), eq(submissionVersions.version, found.version)))
          .limit(1)
      : [];
  const reviewedAnswers = reviewed ? parseObject(reviewed.answers) : {};
  const reviewedLabels = answeredLabels(assignment.prompts, reviewedAnswers, reviewed ? parseObject(reviewed.promptLabels) : {});
  const ids = new Set([...assignment.prompts.map((p) => p.id), ...Object.keys(reviewedAnswers)]);
  for (const [id, raw] of Object.entries(input.promptFeedback ?? {})) {
    if (!ids.has(id)) throw new BadInput(`week ${found.week} has no prompt "${id.slice(0, 60)}".`, `promptFeedback.${id.slice(0, 60)}`);
    const text = normaliseText(String(raw)).trim();
    if ([...text].length > MAX_FEEDBACK) throw new BadInput(`at most ${MAX_FEEDBACK} characters.`, `promptFeedback.${id}`);
    if (text) promptFeedback[id] = text;
  }
  // The week's title (the cohort may have edited it) is read before the transaction: the week does not change.
  const weekTitle = (await d.cohorts.week(cohort, found.week)).title;
  const now = d.clock.now();
  return d.database.transaction(async (tx) => {
    const [row] = await tx.select().from(submissions).where(eq(submissions.id, found.id)).limit(1);
    if (row.version === 0) throw new Conflict('There is no submitted version to review yet; the learner has only a draft.');
    await tx
      .insert(reviews)
      .values({ submissionId: row.id, version: row.version, outcome: input.outcome, feedback, promptFeedback: JSON.stringify(promptFeedback), reviewerId: access.user.id, createdAt: now });
    const [updated] = await tx.update(submissions).set({ status: input.outcome, updatedAt: now }).where(eq(submissions.id, row.id)).returning();
    await d.events.emit(tx, 'progress.changed', { cohortId: updated.cohortId, userId: updated.userId });
    const learner = await d.people.get(row.userId, tx);
    const zone = learner.timezone ?? cohort.timezone;
    const dates = await datesFor(tx, cohort, row.userId);
    await d.mailer.enqueue(tx, {
      to: learner.email,
      subject: input.outcome === 'complete' ? `Week ${row.week} is complete: ${cohort.course.title}` : `Week ${row.week} needs revision: ${cohort.course.title}`,
      template: 'assignments-reviewed',
      data: {
        name: learner.name || learner.email,
        course: cohort.course.title,
        week: row.week,
        weekTitle,
        assignmentTitle: assignment.title,
        complete: input.outcome === 'complete',
        feedback,
        prompts: labelAnswers(assignment.prompts, reviewedAnswers, reviewedLabels)
          .filter((x) => promptFeedback[x.id])
          .map((x) => ({ label: x.note ? `${x.label} (${x.note})` : x.label, feedback: promptFeedback[x.id] })),
        reviewer: access.user.name || access.user.email,
        closes: formatInstant(dates.graceEndsAt, zone),
        url: `${d.baseUrl}/cohorts/${cohort.id}/weeks/${row.week}/worksheet`,
      },
    });
    return buildDoc(tx, cohort, updated, false);
  });
}
