// Extensions: an instructor gives one learner a later due date for a week and/or a later personal grace end.
import { and, desc, eq, inArray } from 'drizzle-orm';
import { BadInput, DomainRule, Forbidden } from '../../server/errors.js';
import { formatInstant } from '../../server/time.js';
import { users } from '../people/schema.js';
import type { User } from '../people/service.js';
import type { CohortAccess } from '../cohorts/service.js';
import { extensions, submissions } from './schema.js';
import { datesFor } from './records.js';
import { MAX_REASON, type Deps, type ExtensionDoc, type ExtensionInput } from './types.js';

/**
 * Grant one learner a later due date for a week and/or a later personal grace end, with a reason.
 * Late flags are recomputed against the new dates, and the learner is emailed.
 */
export async function grantExtension(d: Deps, access: CohortAccess, input: ExtensionInput): Promise<ExtensionDoc> {
  if (access.role === 'learner') throw new Forbidden('Only the cohort’s instructors and admins grant extensions.');
  const cohort = access.cohort;
  const t = cohort.timeline;
  const reason = (input.reason ?? '').trim();
  if (!reason) throw new BadInput('say why the extension is granted.', 'reason');
  if ([...reason].length > MAX_REASON) throw new BadInput(`at most ${MAX_REASON} characters.`, 'reason');
  if (!input.dueAt && !input.graceEndsAt) throw new BadInput('give a new due date for a week, a new personal grace end (graceEndsAt), or both.', 'dueAt');
  if (input.dueAt && input.week === undefined) throw new BadInput('a new due date needs the week it is for.', 'week');
  if (input.week !== undefined) {
    if (!t.weeks[input.week - 1]) throw new BadInput(`the course has weeks 1 to ${t.weeks.length}.`, 'week');
    if (!cohort.course.weeks[input.week - 1].assignment) throw new BadInput(`week ${input.week} has no assignment.`, 'week');
  }
  const zone = access.user.timezone ?? cohort.timezone;
  if (input.dueAt) {
    const standard = t.weeks[input.week! - 1].dueAt;
    if (input.dueAt.getTime() <= standard.getTime()) throw new BadInput(`must be later than the week's own due date (${formatInstant(standard, zone)}).`, 'dueAt');
    if (input.dueAt.getTime() > t.accessEndsAt.getTime()) throw new BadInput(`must be before the course material closes (${formatInstant(t.accessEndsAt, zone)}).`, 'dueAt');
  }
  if (input.graceEndsAt) {
    if (input.graceEndsAt.getTime() <= t.graceEndsAt.getTime()) {
      throw new BadInput(`must be later than the cohort's grace end (${formatInstant(t.graceEndsAt, zone)}).`, 'graceEndsAt');
    }
    if (input.graceEndsAt.getTime() > t.accessEndsAt.getTime()) {
      throw new BadInput(`must be before the course material closes (${formatInstant(t.accessEndsAt, zone)}).`, 'graceEndsAt');
    }
  }
  let learner: User | undefined;
  try {
    learner = await d.people.findByEmail(input.learner);
  } catch {
    throw new BadInput(`"${input.learner.slice(0, 80)}" is not an email address.`, 'learner');
  }
  if (!learner || learner.role === 'admin' || (await d.cohorts.roleIn(learner, cohort.id)) !== 'learner') {
    throw new DomainRule(`${input.learner.slice(0, 80)} is not a learner in this cohort.`);
  }
  const target = learner;
  const now = d.clock.now();
  return d.database.transaction(async (tx) => {
    const [ext] = await tx
      .insert(extensions)
      .values({
        cohortId: cohort.id,
        userId: target.id,
        week: input.week ?? null,
        dueAt: input.dueAt ?? null,
        graceEndsAt: input.graceEndsAt ?? null,
        reason,
        grantedBy: access.user.id,
        createdAt: now,
      })
      .returning();
    const dates = await datesFor(tx, cohort, target.id);
    for (const s of await tx.select().from(submissions).where(and(eq(submissions.cohortId, cohort.id), eq(submissions.userId, target.id)))) {
      if (!s.firstSubmittedAt) continue;
      const late = s.firstSubmittedAt.getTime() >= dates.dueAt(s.week).getTime();
      if (late !== s.late) await tx.update(submissions).set({ late, updatedAt: now }).where(eq(submissions.id, s.id));
    }
    await d.events.emit(tx, 'progress.changed', { cohortId: cohort.id, userId: target.id });
    const learnerZone = target.timezone ?? cohort.timezone;
    await d.mailer.enqueue(tx, {
      to: target.email,
      subject: `Your dates have changed: ${cohort.course.title}`,
      template: 'assignments-extension',
      data: {
        name: target.name || target.email,
        course: cohort.course.title,
        week: input.week ?? null,
        dueAt: input.dueAt ? formatInstant(dates.dueAt(input.week!), learnerZone) : null,
        graceEndsAt: formatInstant(dates.graceEndsAt, learnerZone),
        graceChanged: Boolean(input.graceEndsAt) || dates.graceExtended,
        reason,
        url: input.week ? `${d.baseUrl}/cohorts/${cohort.id}/weeks/${input.week}/worksheet` : `${d.baseUrl}/cohorts/${cohort.id}`,
      },
    });
    return {
      id: ext.id,
      learner: target.email,
      learnerName: target.name || target.email,
      week: ext.week,
      dueAt: ext.dueAt,
      graceEndsAt: ext.graceEndsAt,
      reason: ext.reason,
      grantedBy: access.user.email,
      createdAt: ext.createdAt,
    };
  });
}

/** Every extension granted in a cohort, newest first. */
export async function listExtensions(d: Deps, access: CohortAccess): Promise<ExtensionDoc[]> {
  if (access.role === 'learner') throw new Forbidden('Only the cohort’s instructors and admins see extensions.');
  const rows = await d.database.db
    .select({ e: extensions, email: users.email, name: users.name })
    .from(extensions)
    .innerJoin(users, eq(users.id, extensions.userId))
    .where(eq(extensions.cohortId, access.cohort.id))
    .orderBy(desc(extensions.id));
  const granterIds = [...new Set(rows.map((r) => r.e.grantedBy).filter((v): v is number => v !== null))];
  const granters = new Map<number, string>();
  if (granterIds.length > 0) {
    for (const u of await d.database.db.select({ id: users.id, email: users.email }).from(users).where(inArray(users.id, granterIds))) granters.set(u.id, u.email);
  }
  return rows.map(({ e, email, name }) => ({
    id: e.id,
    learner: email,
    learnerName: name || email,
    week: e.week,
    dueAt: e.dueAt,
    graceEndsAt: e.graceEndsAt,
    reason: e.reason,
    grantedBy: e.grantedBy !== null ? (granters.get(e.grantedBy) ?? null) : null,
    createdAt: e.createdAt,
  }));
}
