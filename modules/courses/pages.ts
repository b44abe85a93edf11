// The course editor's pages: the courses a person authors, a course's details, each week, its live sessions, the
// draft previewed as a learner sees it, publishing and the version history. Forms only (no JavaScript needed); each
// form saves its own part of the draft (editor.ts), and publishing checks the whole.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { BadInput, FieldErrors, NotFound } from '../../server/errors.js';
import { requireRole } from '../../server/plugins/auth.js';
import { formatInstant } from '../../server/time.js';
import type { User } from '../people/service.js';
import { validateCourseDocument, type CourseDocument, type DocumentProblem } from './course-document.js';
import {
  PartErrors, addWeek, detailsForm, moveWeek, partOf, readDetails, readSessions, readWeek, removeWeek, sessionsForm, weekForm,
  type FormBody,
} from './editor.js';
import { MAX_WEEKS } from './model.js';
import { courseView } from './view-models.js';

const SlugParams = Type.Object({ slug: Type.String({ maxLength: 100 }) });
const WeekParams = Type.Object({ slug: Type.String({ maxLength: 100 }), n: Type.String({ maxLength: 10 }) });
const Flash = Type.Object({ saved: Type.Optional(Type.String({ maxLength: 20 })), published: Type.Optional(Type.String({ maxLength: 10 })) });
/** Any form of the editor: named fields (document paths) of text, checkboxes as lists. Bounded by the body limit. */
const EditorForm = Type.Record(Type.String({ maxLength: 200 }), Type.Union([Type.String({ maxLength: 200_000 }), Type.Array(Type.String({ maxLength: 200 }), { maxItems: 20 })]));
const TOO_LONG = 'Some of the fields are far too long (a week’s text may have up to 100,000 characters). Shorten them and try again.';

const pages: FastifyPluginAsync = async (app) => {
  const fastify = app.withTypeProvider<TypeBoxTypeProvider>();
  const { courses, prefix, people } = fastify.cc;
  const base = (slug: string) => `${prefix}/teach/courses/${slug}`;
  const zoneOf = (user: User) => user.timezone || 'Europe/London';

  /** The week number of a page's path within the draft, or 404. */
  function weekNumber(raw: string, doc: CourseDocument): number {
    const n = /^\d{1,2}$/.test(raw) ? Number(raw) : NaN;
    if (!(n >= 1 && n <= doc.weeks.length)) throw new NotFound(`Week ${raw.slice(0, 10)} of this course`);
    return n;
  }

  function header(slug: string, doc: CourseDocument, latestVersion: number | null) {
    return {
      slug,
      title: doc.title || slug,
      url: base(slug),
      latestVersion,
      previewUrl: `${base(slug)}/preview`,
      versionsUrl: `${base(slug)}/versions`,
      sessionsUrl: `${base(slug)}/sessions`,
    };
  }

  /** A FieldErrors of the part re-renders its form (400); anything else is the error page's. */
  function problemsOf(err: unknown): DocumentProblem[] | null {
    // @fastify/error matches instanceof by error code, and FieldErrors shares BadInput's: tell them apart by the list.
    if (err instanceof FieldErrors && Array.isArray(err.errors)) return err.errors;
    if (err instanceof BadInput && err.field) return [{ field: err.field, detail: err.reason }];
    return null;
  }

  // ---- the courses a person authors ----

  async function listPage(reply: FastifyReply, user: User, form: { slug?: string; title?: string } = {}, problems: DocumentProblem[] = [], status = 200) {
    const errors = new PartErrors(problems, '');
    const list = await courses.authoredBy(user);
    return reply.page(
      'teach/courses',
      {
        title: 'Courses you author',
        courses: list.map((c) => ({ ...c, url: base(c.slug), state: c.latestVersion ? `Version ${c.latestVersion} published` : 'Not published yet' })),
        none: list.length === 0,
        isAdmin: user.role === 'admin',
        errorList: errors.list,
        error: errors.count ? 'Check the fields marked below.' : null,
        form: { slug: { value: form.slug ?? '', error: errors.take('slug') }, title: { value: form.title ?? '', error: errors.take('title') } },
      },
      status,
    );
  }

  fastify.get('/teach/courses', { schema: { hide: true } }, async (request, reply) => {
    const user = requireRole(request, 'instructor', 'admin');
    return listPage(reply, user);
  });

  fastify.post(
    '/teach/courses',
    { schema: { hide: true, body: Type.Object({ slug: Type.Optional(Type.String({ maxLength: 200 })), title: Type.Optional(Type.String({ maxLength: 400 })), _csrf: Type.Optional(Type.String()) }) }, attachValidation: true },
    async (request, reply) => {
      const user = requireRole(request, 'admin');
      if (request.validationError) return listPage(reply, user, {}, [{ field: 'title', detail: 'keep the slug under 100 and the title under 200 characters' }], 400);
      const slug = String(request.body?.slug ?? '').trim();
      const title = String(request.body?.title ?? '').trim();
      try {
        await courses.create({ slug, title }, user);
      } catch (err) {
        const problems = problemsOf(err);
        if (problems) return listPage(reply, user, { slug, title }, problems, 400);
        if ((err as { statusCode?: number }).statusCode === 409) return listPage(reply, user, { slug, title }, [{ field: 'slug', detail: (err as Error).message }], 409);
        throw err;
      }
      return reply.redirect(`${base(slug)}?saved=created`, 303);
    },
  );

  // ---- a course: details, its weeks, publishing ----

  async function coursePage(reply: FastifyReply, user: User, slug: string, opts: { doc?: CourseDocument; problems?: DocumentProblem[]; preview?: boolean; saved?: string; status?: number; authorError?: string } = {}) {
    const saved = await courses.draft(slug);
    const doc = opts.doc ?? saved;
    const errors = new PartErrors(opts.problems ?? [], '');
    // What stands between the saved draft and publishing (the draft read above, checked once).
    const checkedDraft = validateCourseDocument(slug, saved);
    const outstanding = checkedDraft.ok ? [] : checkedDraft.problems;
    const latestVersion = await courses.latestVersion(slug);
    const isAdmin = user.role === 'admin';
    return reply.page(
      'teach/course-edit',
      {
        title: `Edit ${doc.title || slug}`,
        course: header(slug, saved, latestVersion),
        action: base(slug),
        form: detailsForm(doc, errors, !!opts.preview),
        previewing: !!opts.preview,
        isAdmin,
        errorList: errors.list,
        error: errors.count ? 'The details were not saved. Check the fields marked below.' : null,
        saved: opts.saved === 'details' ? 'The details are saved in the draft.' : opts.saved === 'created' ? 'The course is created. Fill in its details and weeks, then publish it.' : opts.saved === 'week-removed' ? 'The week is removed from the draft.' : opts.saved === 'author' ? 'The author is added.' : opts.saved === 'moved' ? 'The weeks are reordered.' : null,
        weeks: saved.weeks.map((w, i) => ({
          number: i + 1,
          title: w.title || `Week ${i + 1}`,
          url: `${base(slug)}/weeks/${i + 1}`,
          problems: outstanding.filter((p) => p.field.startsWith(`weeks[${i}]`)).length,
          first: i === 0,
          last: i === saved.weeks.length - 1,
        })),
        canAddWeek: saved.weeks.length < MAX_WEEKS,
        sessionCount: (saved.sessions ?? []).length,
        outstanding: outstanding.slice(0, 30).map((p) => ({ ...p, part: partOf(p.field, base(slug)) })),
        outstandingMore: Math.max(0, outstanding.length - 30),
        ready: outstanding.length === 0,
        nextVersion: (latestVersion ?? 0) + 1,
        authors: await courses.authors(slug),
        authorError: opts.authorError ?? null,
      },
      opts.status ?? 200,
    );
  }

  fastify.get('/teach/courses/:slug', { schema: { hide: true, params: SlugParams, querystring: Flash } }, async (request, reply) => {
    const { user } = await courses.authorAccess(request.user, request.params.slug);
    return coursePage(reply, user, request.params.slug, { saved: request.query.saved });
  });

  fastify.post('/teach/courses/:slug', { schema: { hide: true, params: SlugParams, body: EditorForm }, attachValidation: true }, async (request, reply) => {
    const { slug } = request.params;
    const { user } = await courses.authorAccess(request.user, slug);
    if (request.validationError) return coursePage(reply, user, slug, { problems: [{ field: 'description', detail: TOO_LONG }], status: 400 });
    const body = request.body as FormBody;
    const isAdmin = user.role === 'admin';
    const current = await courses.draft(slug);
    const doc = readDetails(current, body, isAdmin);
    if (body.action === 'preview') return coursePage(reply, user, slug, { doc, preview: true });
    const inPart = (f: string) => !f.startsWith('weeks') && !f.startsWith('sessions');
    try {
      await courses.editDraft(slug, user, inPart, (saved) => readDetails(saved, body, isAdmin));
    } catch (err) {
      const problems = problemsOf(err);
      if (problems) return coursePage(reply, user, slug, { doc, problems, status: 400 });
      throw err;
    }
    return reply.redirect(`${base(slug)}?saved=details`, 303);
  });

  fastify.post('/teach/courses/:slug/weeks', { schema: { hide: true, params: SlugParams } }, async (request, reply) => {
    const { slug } = request.params;
    const { user } = await courses.authorAccess(request.user, slug);
    const doc = await courses.draft(slug);
    if (doc.weeks.length >= MAX_WEEKS) throw new BadInput(`A course has at most ${MAX_WEEKS} weeks.`);
    await courses.editDraft(slug, user, () => false, addWeek);
    return reply.redirect(`${base(slug)}/weeks/${doc.weeks.length + 1}?saved=added`, 303);
  });

  fastify.post(
    '/teach/courses/:slug/weeks/:n/move',
    { schema: { hide: true, params: WeekParams, body: Type.Object({ direction: Type.Union([Type.Literal('up'), Type.Literal('down')]), _csrf: Type.Optional(Type.String()) }) } },
    async (request, reply) => {
      const { slug } = request.params;
      const { user } = await courses.authorAccess(request.user, slug);
      const n = weekNumber(request.params.n, await courses.draft(slug));
      await courses.editDraft(slug, user, () => false, (doc) => moveWeek(doc, n, request.body.direction === 'up' ? -1 : 1));
      return reply.redirect(`${base(slug)}?saved=moved#weeks-h`, 303);
    },
  );

  fastify.post('/teach/courses/:slug/weeks/:n/remove', { schema: { hide: true, params: WeekParams } }, async (request, reply) => {
    const { slug } = request.params;
    const { user } = await courses.authorAccess(request.user, slug);
    const n = weekNumber(request.params.n, await courses.draft(slug));
    await courses.editDraft(slug, user, () => false, (doc) => removeWeek(doc, n));
    return reply.redirect(`${base(slug)}?saved=week-removed#weeks-h`, 303);
  });

  // ---- one week ----

  async function weekPage(reply: FastifyReply, slug: string, n: number, opts: { week?: CourseDocument['weeks'][number]; problems?: DocumentProblem[]; preview?: boolean; saved?: string; status?: number } = {}) {
    const saved = await courses.draft(slug);
    const week = opts.week ?? saved.weeks[n - 1];
    const errors = new PartErrors(opts.problems ?? [], `weeks[${n - 1}]`);
    return reply.page(
      'teach/course-week',
      {
        title: `Week ${n}: ${week.title || 'untitled'} · ${saved.title || slug}`,
        course: header(slug, saved, await courses.latestVersion(slug)),
        number: n,
        action: `${base(slug)}/weeks/${n}`,
        removeAction: `${base(slug)}/weeks/${n}/remove`,
        form: weekForm(week, errors, !!opts.preview),
        previewing: !!opts.preview,
        errorList: errors.list,
        error: errors.count ? `Week ${n} was not saved. Check the fields marked below.` : null,
        saved: opts.saved === 'week' ? `Week ${n} is saved in the draft.` : opts.saved === 'added' ? `Week ${n} is added. Give it a title, a summary and its text.` : null,
        prev: n > 1 ? `${base(slug)}/weeks/${n - 1}` : null,
        next: n < saved.weeks.length ? `${base(slug)}/weeks/${n + 1}` : null,
      },
      opts.status ?? 200,
    );
  }

  fastify.get('/teach/courses/:slug/weeks/:n', { schema: { hide: true, params: WeekParams, querystring: Flash } }, async (request, reply) => {
    const { slug } = request.params;
    await courses.authorAccess(request.user, slug);
    const n = weekNumber(request.params.n, await courses.draft(slug));
    return weekPage(reply, slug, n, { saved: request.query.saved });
  });

  fastify.post('/teach/courses/:slug/weeks/:n', { schema: { hide: true, params: WeekParams, body: EditorForm }, attachValidation: true }, async (request, reply) => {
    const { slug } = request.params;
    const { user } = await courses.authorAccess(request.user, slug);
    const n = weekNumber(request.params.n, await courses.draft(slug));
    if (request.validationError) return weekPage(reply, slug, n, { problems: [{ field: `weeks[${n - 1}].markdown`, detail: TOO_LONG }], status: 400 });
    const body = request.body as FormBody;
    const week = readWeek(body);
    if (body.action === 'preview') return weekPage(reply, slug, n, { week, preview: true });
    try {
      await courses.editDraft(slug, user, (f) => f.startsWith(`weeks[${n - 1}]`), (doc) => {
        doc.weeks[n - 1] = week;
        return doc;
      });
    } catch (err) {
      const problems = problemsOf(err);
      if (problems) return weekPage(reply, slug, n, { week, problems, status: 400 });
      throw err;
    }
    return reply.redirect(`${base(slug)}/weeks/${n}?saved=week`, 303);
  });

  // ---- live sessions ----

  async function sessionsPage(reply: FastifyReply, slug: string, opts: { doc?: CourseDocument; problems?: DocumentProblem[]; saved?: string; status?: number } = {}) {
    const saved = await courses.draft(slug);
    const doc = opts.doc ?? saved;
    const errors = new PartErrors(opts.problems ?? [], '');
    return reply.page(
      'teach/course-sessions',
      {
        title: `Live sessions · ${saved.title || slug}`,
        course: header(slug, saved, await courses.latestVersion(slug)),
        action: `${base(slug)}/sessions`,
        form: sessionsForm(doc, errors),
        weekHint: saved.weeks.length ? `A week of the course, 1 to ${saved.weeks.length}.` : 'Add the weeks first.',
        errorList: errors.list,
        error: errors.count ? 'The live sessions were not saved. Check the rows marked below.' : null,
        saved: opts.saved === 'sessions' ? 'The live sessions are saved in the draft.' : null,
      },
      opts.status ?? 200,
    );
  }

  fastify.get('/teach/courses/:slug/sessions', { schema: { hide: true, params: SlugParams, querystring: Flash } }, async (request, reply) => {
    await courses.authorAccess(request.user, request.params.slug);
    return sessionsPage(reply, request.params.slug, { saved: request.query.saved });
  });

  fastify.post('/teach/courses/:slug/sessions', { schema: { hide: true, params: SlugParams, body: EditorForm }, attachValidation: true }, async (request, reply) => {
    const { slug } = request.params;
    const { user } = await courses.authorAccess(request.user, slug);
    if (request.validationError) return sessionsPage(reply, slug, { problems: [{ field: 'sessions', detail: TOO_LONG }], status: 400 });
    const sessions = readSessions(request.body as FormBody);
    const doc = { ...(await courses.draft(slug)), sessions };
    try {
      await courses.editDraft(slug, user, (f) => f.startsWith('sessions'), (d) => ({ ...d, sessions }));
    } catch (err) {
      const problems = problemsOf(err);
      if (problems) return sessionsPage(reply, slug, { doc, problems, status: 400 });
      throw err;
    }
    return reply.redirect(`${base(slug)}/sessions?saved=sessions`, 303);
  });

  // ---- the draft as a learner sees it ----

  fastify.get('/teach/courses/:slug/preview', { schema: { hide: true, params: SlugParams } }, async (request, reply) => {
    const { slug } = request.params;
    await courses.authorAccess(request.user, slug);
    const doc = await courses.draft(slug);
    const result = validateCourseDocument(slug, doc);
    const head = header(slug, doc, await courses.latestVersion(slug));
    if (!result.ok) {
      return reply.page('teach/course-preview', {
        title: `Preview · ${doc.title || slug}`,
        course: head,
        problems: result.problems.slice(0, 50).map((p) => ({ ...p, part: partOf(p.field, base(slug)) })),
      });
    }
    const c = result.course;
    return reply.page('teach/course-preview', {
      title: `Preview · ${c.title}`,
      course: head,
      view: courseView(c),
      weeks: c.weeks.map((w) => ({
        number: w.number,
        title: w.title,
        html: w.html,
        readings: w.readings,
        assignment: w.assignment
          ? { title: w.assignment.title, instructionsHtml: w.assignment.instructionsHtml, prompts: w.assignment.prompts, options: w.assignment.options, choose: w.assignment.choose, upload: w.assignment.upload ? { mb: Math.round(w.assignment.upload.maxBytes / 1024 / 1024), types: w.assignment.upload.types.join(', ') } : null }
          : null,
        discussionHtml: w.discussionPromptHtml,
        sessions: c.sessions.filter((s) => s.week === w.number),
      })),
    });
  });

  // ---- publishing and the versions ----

  fastify.post(
    '/teach/courses/:slug/publish',
    { schema: { hide: true, params: SlugParams, body: Type.Object({ note: Type.Optional(Type.String({ maxLength: 2000 })), _csrf: Type.Optional(Type.String()) }) }, attachValidation: true },
    async (request, reply) => {
      const { slug } = request.params;
      const { user } = await courses.authorAccess(request.user, slug);
      if (request.validationError) throw new BadInput('Keep the note to 1,000 characters or fewer.', 'note');
      const note = String(request.body?.note ?? '').trim().slice(0, 1000) || null;
      try {
        const { version } = await courses.publish(slug, note, user);
        return reply.redirect(`${base(slug)}/versions?published=${version}`, 303);
      } catch (err) {
        // A draft that does not validate: back to the course page, which lists what stands in the way.
        if (err instanceof FieldErrors && Array.isArray(err.errors)) return coursePage(reply, user, slug, { status: 400 });
        throw err;
      }
    },
  );

  fastify.get('/teach/courses/:slug/versions', { schema: { hide: true, params: SlugParams, querystring: Flash } }, async (request, reply) => {
    const { slug } = request.params;
    const { user } = await courses.authorAccess(request.user, slug);
    const doc = await courses.draft(slug);
    const history = await courses.history(slug);
    const zone = zoneOf(user);
    return reply.page('teach/course-versions', {
      title: `Versions · ${doc.title || slug}`,
      course: header(slug, doc, await courses.latestVersion(slug)),
      published: request.query.published ? Number(request.query.published) || null : null,
      versions: history
        .map((v) => ({ version: v.version, note: v.note, when: formatInstant(v.publishedAt, zone), by: v.publishedBy ?? 'Imported from files' }))
        .reverse(),
      zone: zone.replace(/_/g, ' '),
    });
  });

  // ---- authors (admins) ----

  fastify.post(
    '/teach/courses/:slug/authors',
    { schema: { hide: true, params: SlugParams, body: Type.Object({ email: Type.Optional(Type.String({ maxLength: 400 })), _csrf: Type.Optional(Type.String()) }) }, attachValidation: true },
    async (request, reply) => {
      const { slug } = request.params;
      const user = requireRole(request, 'admin');
      await courses.authorAccess(user, slug);
      const email = String(request.body?.email ?? '').trim().toLowerCase();
      if (request.validationError || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) return coursePage(reply, user, slug, { authorError: 'Enter the author’s email address, like name@example.org.', status: 400 });
      try {
        await courses.addAuthor(slug, email, people);
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) return coursePage(reply, user, slug, { authorError: `No one has an account with ${email}. Add the person first (People), then make them an author.`, status: 400 });
        throw err;
      }
      return reply.redirect(`${base(slug)}?saved=author#authors-h`, 303);
    },
  );
};
export default pages;
