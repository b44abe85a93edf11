// View models for the worksheet panel and page, the instructor pages and the cohort panels: plain data for templates.
import { formatInstant } from '../../server/time.js';
import type { CohortAccess } from '../cohorts/service.js';
import { acceptAttribute, describeTypes, formatMb, formatSize } from './files.js';
import { labelAnswers } from './records.js';
import { statusLabel, MAX_FILES, type AssignmentService, type FileDoc, type ReviewDoc, type SubmissionDoc, type WeekStatus } from './service.js';

const STATUS_CLASS: Record<WeekStatus, string> = {
  none: 'status-info',
  draft: 'status-info',
  submitted: 'status-info',
  needs_revision: 'status-warn',
  complete: 'status-ok',
};

/** A status as a badge: words (never colour alone) and a class. */
export function statusBadge(status: WeekStatus) {
  return { label: statusLabel(status), cls: STATUS_CLASS[status] };
}

/** The zone a person sees dates in. */
export function zoneOf(access: CohortAccess): string {
  return access.user.timezone ?? access.cohort.timezone;
}

/** Values typed into the form, shown again when it comes back with a problem. */
export interface EnteredValues {
  answers: Record<string, string>;
  options: string[];
}

export function createViewModels(assignments: AssignmentService) {

  const fileView = (f: FileDoc) => ({ id: f.id, name: f.name, size: formatSize(f.size), url: `/api/v1/files/${f.id}` });

  function reviewView(r: ReviewDoc, zone: string) {
    return {
      outcome: statusBadge(r.outcome),
      needsRevision: r.outcome === 'needs_revision',
      feedback: r.feedback,
      reviewer: r.reviewer,
      at: formatInstant(r.at, zone),
    };
  }

  /** Every submitted version, newest first, with answers labelled by prompt (and those to prompts since removed). */
  function versionsView(access: CohortAccess, n: number, doc: SubmissionDoc | null, zone: string) {
    if (!doc) return [];
    const a = access.cohort.course.weeks[n - 1].assignment!;
    return [...doc.versions].reverse().map((v) => ({
      version: v.version,
      submittedAt: formatInstant(v.submittedAt, zone),
      late: v.late,
      options: a.options.filter((o) => v.options.includes(o.id)).map((o) => o.label),
      answers: labelAnswers(a.prompts, v.answers, v.promptLabels).map((x) => ({ ...x, feedback: v.reviews.at(-1)?.promptFeedback[x.id] ?? '' })),
      files: v.files.map(fileView),
      reviews: v.reviews.map((r) => reviewView(r, zone)),
    }));
  }

  return {
    /** The worksheet for a week: a form for the learner, a summary with the review count for staff. Null when there is no assignment. */
    async worksheet(access: CohortAccess, n: number, now: Date, extra: { entered?: EnteredValues; error?: string | null; saved?: string | null } = {}) {
      const cohort = access.cohort;
      const week = cohort.course.weeks[n - 1];
      const a = week?.assignment;
      if (!a) return null;
      const zone = zoneOf(access);
      const base = { cohortId: cohort.id, week: n, title: a.title, instructionsHtml: a.instructionsHtml, headingId: `worksheet-${n}` };
      if (access.role !== 'learner') {
        const counts = await assignments.weekCounts(cohort.id, n);
        return {
          ...base,
          staff: true,
          counts: { submitted: counts.submitted, needsRevision: counts.needs_revision, complete: counts.complete, draft: counts.draft },
          prompts: a.prompts.map((p) => ({ label: p.label })),
          options: a.options.map((o) => ({ label: o.label })),
          chooseText: a.choose !== null ? `Learners choose ${a.choose} of ${a.options.length} options.` : null,
          uploadText: a.upload ? `Learners may upload ${describeTypes(a.upload.types)}, up to ${formatMb(a.upload.maxBytes)} each.` : null,
          due: formatInstant(cohort.timeline.weeks[n - 1].dueAt, zone),
        };
      }
      // Learners never see a week before it opens (the week page refuses it too).
      if (now.getTime() < cohort.timeline.weeks[n - 1].opensAt.getTime()) return null;
      const dates = await assignments.datesFor(cohort, access.user.id);
      const doc = await assignments.ownOrNull(access, n);
      const status: WeekStatus = doc?.status ?? 'none';
      const dueAt = dates.dueAt(n);
      const closed = now.getTime() >= dates.graceEndsAt.getTime();
      const complete = status === 'complete';
      const editable = !closed && !complete;
      const lateNow = !closed && now.getTime() >= dueAt.getTime();
      const working = extra.entered ?? { answers: doc?.draft?.answers ?? {}, options: doc?.draft?.options ?? [] };
      const latest = doc?.versions.at(-1);
      const lastReview = latest?.reviews.at(-1) ?? null;
      const showFeedback = lastReview && (status === 'needs_revision' || status === 'complete') ? lastReview : null;
      // The stored working copy says which label each answer was written under; answers to prompts since removed are
      // shown apart, read-only, until the next save leaves them out.
      const labelled = labelAnswers(a.prompts, doc?.draft?.answers ?? {}, doc?.draft?.promptLabels ?? {});
      const renamed = new Map(labelled.filter((x) => x.answeredAs).map((x) => [x.id, x]));
      const prompts = a.prompts.map((p) => {
        const ids = { hintId: `prompt-${n}-${p.id}-hint`, noteId: `prompt-${n}-${p.id}-note`, feedbackId: `prompt-${n}-${p.id}-feedback` };
        const was = renamed.get(p.id);
        const feedback = showFeedback?.promptFeedback[p.id] ?? '';
        return {
          id: p.id,
          inputId: `prompt-${n}-${p.id}`,
          ...ids,
          name: `prompt-${p.id}`,
          label: p.label,
          help: p.help,
          note: was?.note ?? null,
          answeredAs: was?.answeredAs ?? null,
          describedBy: [p.help ? ids.hintId : '', was ? ids.noteId : '', feedback ? ids.feedbackId : ''].filter(Boolean).join(' ') || null,
          maxLength: p.maxLength,
          value: working.answers[p.id] ?? '',
          empty: !working.answers[p.id],
          feedback,
        };
      });
      const earlierAnswers = labelled.filter((x) => x.earlier);
      const options = a.options.map((o) => ({
        id: o.id,
        inputId: `option-${n}-${o.id}`,
        descId: `option-${n}-${o.id}-desc`,
        label: o.label,
        description: o.description,
        checked: working.options.includes(o.id),
      }));
      let notice: { cls: string; text: string } | null = null;
      if (closed && !complete) {
        notice = { cls: 'alert-error', text: `Submissions for this week closed on ${formatInstant(dates.graceEndsAt, zone)}. Your saved work is shown below; ask your instructor if you need an extension.` };
      } else if (lateNow && editable && (status === 'none' || status === 'draft')) {
        notice = {
          cls: 'alert-warn',
          text: `The due date (${formatInstant(dueAt, zone)}) has passed. You can still submit until ${formatInstant(dates.graceEndsAt, zone)}; it will be marked late.`,
        };
      }
      const draftNewer = Boolean(doc?.draft?.savedAt && doc.submittedAt && doc.draft.savedAt.getTime() > doc.submittedAt.getTime());
      return {
        ...base,
        learner: true,
        status: statusBadge(status),
        started: status !== 'none',
        late: doc?.late ?? false,
        version: doc?.version ?? 0,
        due: formatInstant(dueAt, zone),
        dueExtended: dates.extendedWeeks.includes(n),
        closes: formatInstant(dates.graceEndsAt, zone),
        graceExtended: dates.graceExtended,
        zone,
        notice,
        closed,
        complete,
        editable,
        needsRevision: status === 'needs_revision',
        awaitingReview: status === 'submitted',
        reviewNone: cohort.course.review === 'none',
        draftNewer,
        multipart: Boolean(a.upload) && editable,
        prompts,
        hasPrompts: prompts.length > 0,
        earlierAnswers,
        choose:
          a.choose !== null
            ? { legend: a.choose === 1 ? `Choose one of these ${a.options.length} options` : `Choose ${a.choose} of these ${a.options.length} options`, options }
            : null,
        chosenLabels: options.filter((o) => o.checked).map((o) => o.label),
        upload: a.upload
          ? {
              inputId: `file-${n}`,
              hintId: `file-${n}-hint`,
              accept: acceptAttribute(a.upload.types),
              hint: `${describeTypes(a.upload.types)}; up to ${formatMb(a.upload.maxBytes)}; at most ${MAX_FILES} files.`,
            }
          : null,
        files: (doc?.files ?? []).map((f) => ({ ...fileView(f), removeAction: `/cohorts/${cohort.id}/weeks/${n}/worksheet/files/${f.id}/remove` })),
        canAddFile: (doc?.files.length ?? 0) < MAX_FILES,
        review: showFeedback ? reviewView(showFeedback, zone) : null,
        versions: versionsView(access, n, doc, zone),
        error: extra.error ?? null,
        saved: extra.saved === 'draft' ? 'Your draft is saved.' : extra.saved === 'submitted' ? (complete ? 'Submitted. This week is complete.' : 'Submitted. Your instructor will review it.') : extra.saved === 'removed' ? 'The file was removed.' : null,
      };
    },

    /** "Your assignments" on the cohort home: each week's status and the learner's own dates. */
    async learnerDates(access: CohortAccess, now: Date) {
      const cohort = access.cohort;
      const zone = zoneOf(access);
      if (access.role !== 'learner') {
        const count = await assignments.queueCount(cohort.id);
        return { staff: true, cohortId: cohort.id, queueCount: count, queueText: count === 1 ? '1 submission is waiting for review.' : `${count} submissions are waiting for review.` };
      }
      const dates = await assignments.datesFor(cohort, access.user.id);
      const statuses = new Map((await assignments.weekStatuses(cohort.id, access.user.id)).map((s) => [s.week, s]));
      const rows = cohort.course.weeks
        .filter((w) => w.assignment)
        .map((w) => {
          const s = statuses.get(w.number);
          const opened = cohort.timeline.weeks[w.number - 1].opensAt.getTime() <= now.getTime();
          return {
            week: w.number,
            title: w.assignment!.title,
            due: formatInstant(dates.dueAt(w.number), zone),
            extended: dates.extendedWeeks.includes(w.number),
            status: statusBadge(s?.status ?? 'none'),
            late: s?.late ?? false,
            url: opened ? `/cohorts/${cohort.id}/weeks/${w.number}/worksheet` : null,
          };
        });
      if (rows.length === 0) return null;
      return {
        learner: true,
        cohortId: cohort.id,
        rows,
        closes: formatInstant(dates.graceEndsAt, zone),
        graceExtended: dates.graceExtended,
        closed: now.getTime() >= dates.graceEndsAt.getTime(),
      };
    },

    /** The staff panel: the review queue count, the CSV export and the extension form. */
    async staffTools(access: CohortAccess) {
      if (access.role === 'learner') return null;
      const cohort = access.cohort;
      const weeks = cohort.course.weeks.filter((w) => w.assignment);
      if (weeks.length === 0) return null;
      const count = await assignments.queueCount(cohort.id);
      return {
        cohortId: cohort.id,
        queueCount: count,
        queueText: count === 1 ? '1 submission is waiting for review.' : `${count} submissions are waiting for review.`,
        extension: await extensionForm(access),
      };
    },

    extensionForm,
  };

  /** The extension form's choices: the cohort's learners and its weeks with an assignment. */
  async function extensionForm(access: CohortAccess, entered: Partial<Record<'learner' | 'week' | 'dueAt' | 'graceEndsAt' | 'reason', string>> = {}) {
    const cohort = access.cohort;
    const zone = zoneOf(access);
    const learners = await assignments.learners(cohort.id);
    return {
      cohortId: cohort.id,
      zone,
      learners: learners.map((l) => ({ value: l.email, label: l.name ? `${l.name} (${l.email})` : l.email, selected: entered.learner === l.email })),
      weeks: cohort.course.weeks
        .filter((w) => w.assignment)
        .map((w) => ({ value: String(w.number), label: `Week ${w.number}: ${w.assignment!.title} (due ${formatInstant(cohort.timeline.weeks[w.number - 1].dueAt, zone)})`, selected: entered.week === String(w.number) })),
      dueAt: entered.dueAt ?? '',
      graceEndsAt: entered.graceEndsAt ?? '',
      reason: entered.reason ?? '',
      cohortGrace: formatInstant(cohort.timeline.graceEndsAt, zone),
      hasLearners: learners.length > 0,
    };
  }
}

export type ViewModels = ReturnType<typeof createViewModels>;
