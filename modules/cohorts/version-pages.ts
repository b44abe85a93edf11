// "Apply a course version to a cohort": the instructor picks a published version, sees what would change for this
// cohort (weeks, prompts, live sessions, dates) and applies it; a refusal (learners' work in a removed week) is shown
// with its reason and changes nothing.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { courseChanges } from '../courses/version-changes.js';
import type { Course } from '../courses/model.js';
import { computeTimeline, currentWeek, localInstant, slotPlace } from './timeline.js';
import type { CohortAccess } from './service.js';
import { dates, pageId } from './view-models.js';

const IdParams = Type.Object({ id: Type.String({ maxLength: 20 }) });
const Chosen = Type.Object({ version: Type.Optional(Type.String({ maxLength: 10 })), applied: Type.Optional(Type.String({ maxLength: 10 })) });

const versionPages: FastifyPluginAsync = async (app) => {
  const fastify = app.withTypeProvider<TypeBoxTypeProvider>();
  const { cohorts, courses, clock, prefix } = fastify.cc;

  /** The cohort's dates that move when it runs `next` instead of its version: end, grace, access, weeks, sessions. */
  function dateChanges(access: CohortAccess, next: Course): { what: string; before: string; after: string }[] {
    const { cohort } = access;
    const d = dates(access.user, cohort);
    const t = computeTimeline({ startDate: cohort.startDate, timezone: cohort.timezone, weekCount: next.weekCount, releaseTime: next.releaseTime });
    const out: { what: string; before: string; after: string }[] = [];
    const mark = (what: string, a: Date | undefined, b: Date | undefined) => {
      if (a?.getTime() !== b?.getTime()) out.push({ what, before: a ? d.at(a) : '—', after: b ? d.at(b) : '—' });
    };
    mark('The last week ends', cohort.timeline.endsAt, t.endsAt);
    mark('Certificates can be earned until', cohort.timeline.graceEndsAt, t.graceEndsAt);
    mark('The material closes', cohort.timeline.accessEndsAt, t.accessEndsAt);
    const n = Math.max(cohort.timeline.weeks.length, t.weeks.length);
    for (let i = 0; i < n; i++) {
      mark(`Week ${i + 1} opens`, cohort.timeline.weeks[i]?.opensAt, t.weeks[i]?.opensAt);
      mark(`Week ${i + 1}'s work is due`, cohort.timeline.weeks[i]?.dueAt, t.weeks[i]?.dueAt);
    }
    const at = (slot: Course['sessions'][number]) => {
      const place = slotPlace(cohort.startDate, slot);
      return d.at(localInstant(cohort.startDate, cohort.timezone, place.dayOffset, place.time).toJSDate());
    };
    const key = (s: Course['sessions'][number]) => `${s.week}|${s.weekday}|${s.time}|${s.title}`;
    const kept = new Set(next.sessions.map(key));
    const had = new Set(cohort.course.sessions.map(key));
    for (const s of cohort.course.sessions) if (!kept.has(key(s))) out.push({ what: `Live session “${s.title}”`, before: at(s), after: 'No longer held' });
    for (const s of next.sessions) if (!had.has(key(s))) out.push({ what: `Live session “${s.title}”`, before: 'Not held', after: at(s) });
    return out;
  }

  async function versionPage(reply: FastifyReply, access: CohortAccess, chosen: number | null, opts: { error?: string; applied?: number | null; status?: number } = {}) {
    const { cohort } = access;
    const history = await courses.versions(cohort.courseSlug);
    const d = dates(access.user, cohort);
    const valid = chosen !== null && history.some((v) => v.version === chosen) && chosen !== cohort.courseVersion ? chosen : null;
    let preview = null;
    if (valid !== null) {
      const next = await courses.load(cohort.courseSlug, valid);
      const week = currentWeek(cohort.timeline, clock.now());
      preview = {
        version: valid,
        changes: courseChanges(cohort.course, next),
        dates: dateChanges(access, next),
        blocked: week > next.weekCount ? `This cohort is in week ${week}, which version ${valid} does not have: it cannot be applied until the cohort ends.` : null,
        removesWeeks: next.weekCount < cohort.course.weekCount,
      };
    }
    return reply.page(
      'teach/cohort-version',
      {
        title: `Course version · ${cohort.course.title}`,
        cohortUrl: `${prefix}/teach/cohorts/${cohort.id}`,
        action: `${prefix}/teach/cohorts/${cohort.id}/course-version`,
        courseTitle: cohort.course.title,
        current: cohort.courseVersion,
        applied: opts.applied ?? null,
        versions: history.map((v) => ({
          version: v.version,
          note: v.note,
          when: d.day(v.publishedAt),
          current: v.version === cohort.courseVersion,
          selected: v.version === valid,
        })),
        others: history.some((v) => v.version !== cohort.courseVersion),
        preview,
        error: opts.error ?? null,
      },
      opts.status ?? 200,
    );
  }

  fastify.get('/teach/cohorts/:id/course-version', { schema: { hide: true, params: IdParams, querystring: Chosen } }, async (request, reply) => {
    const access = await cohorts.access(request.user, pageId(request.params.id), ['instructor', 'admin']);
    const chosen = /^\d{1,6}$/.test(request.query.version ?? '') ? Number(request.query.version) : null;
    const applied = /^\d{1,6}$/.test(request.query.applied ?? '') ? Number(request.query.applied) : null;
    return versionPage(reply, access, chosen, { applied });
  });

  fastify.post(
    '/teach/cohorts/:id/course-version',
    { schema: { hide: true, params: IdParams, body: Type.Object({ version: Type.Optional(Type.String({ maxLength: 10 })), _csrf: Type.Optional(Type.String()) }) }, attachValidation: true },
    async (request, reply) => {
      const access = await cohorts.access(request.user, pageId(request.params.id), ['instructor', 'admin']);
      const raw = String(request.body?.version ?? '');
      const version = /^\d{1,6}$/.test(raw) ? Number(raw) : null;
      const known = version !== null && (await courses.versions(access.cohort.courseSlug)).some((v) => v.version === version);
      if (request.validationError || !known) return versionPage(reply, access, null, { error: 'Choose one of the published versions.', status: 400 });
      try {
        await cohorts.applyVersion(access.cohort.id, version!);
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 409) return versionPage(reply, access, version, { error: (err as Error).message, status: 409 });
        throw err;
      }
      return reply.redirect(`${prefix}/teach/cohorts/${access.cohort.id}/course-version?applied=${version}`, 303);
    },
  );
};
export default versionPages;
