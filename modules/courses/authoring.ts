// Course authoring: admins create courses and name their authors; authors (and admins) edit the draft and publish it.
import { and, asc, eq } from 'drizzle-orm';
import type { AppDatabase, Db } from '../../server/db.js';
import { isUniqueViolation } from '../../server/db.js';
import type { Clock } from '../../server/clock.js';
import type { Events } from '../../server/events.js';
import { BadInput, Conflict, FieldErrors, Forbidden, NotFound, NotSignedIn } from '../../server/errors.js';
import type { PeopleService, User } from '../people/service.js';
import { users } from '../people/schema.js';
import { SLUG_PATTERN } from './content.js';
import { validateCourseDocument, type CourseDocument, type DocumentProblem } from './course-document.js';
import { courseAuthors, courseDrafts, courses, courseVersions } from './schema.js';

export interface AuthoringDeps {
  database: AppDatabase;
  clock: Clock;
  events: Events;
}

/** What adding an author needs of the people module: find the person, and make a learner an instructor. */
export type AuthorPeople = Pick<PeopleService, 'findByEmail' | 'upsert'>;

export interface AuthoredCourse {
  slug: string;
  title: string;
  latestVersion: number | null;
  draft: CourseDocument;
}

export interface PublishedVersion {
  version: number;
  note: string | null;
  publishedAt: Date;
  /** The publisher's address; null for an import from the command line or the bundled courses. */
  publishedBy: string | null;
}

/** A new course's draft: every field of a course present, the title set, the rest empty (it does not validate yet). */
export function emptyDraft(title: string): CourseDocument {
  return {
    title,
    summary: '',
    description: '',
    audience: null,
    outcomes: [],
    weeks: [],
    hoursPerWeek: 0,
    price: { amountMinor: 0, currency: 'GBP' },
    releaseTime: null,
    review: 'instructor',
    instructorSupportWeeks: null,
    sessions: [],
    certificate: false,
  };
}

/** The fields only admins set (price, certificate rules) that differ between two drafts; "no certificate" written any way is the same. */
export function adminFields(before: CourseDocument, after: CourseDocument): string[] {
  const changed: string[] = [];
  const price = (d: CourseDocument) => `${d.price.amountMinor} ${d.price.currency}`;
  if (price(before) !== price(after)) changed.push('price');
  const cert = (d: CourseDocument) => {
    const c = d.certificate;
    if (c === undefined || c === null || c === false) return 'none';
    if (c === true) return 'default';
    return JSON.stringify([c.assignments, c.sessions, c.posts, c.hours]);
  };
  if (cert(before) !== cert(after)) changed.push('certificate');
  return changed;
}

export function createAuthoring({ database, clock, events }: AuthoringDeps) {
  async function courseRow(slug: string, q: Db = database.db) {
    const [row] = await q.select().from(courses).where(eq(courses.slug, slug)).limit(1);
    if (!row) throw new NotFound(`Course "${slug.slice(0, 60)}"`);
    return row;
  }

  async function draftRow(courseId: number, q: Db) {
    const [row] = await q.select().from(courseDrafts).where(eq(courseDrafts.courseId, courseId)).limit(1);
    if (!row) throw new NotFound('Course draft');
    return row;
  }

  /** The document checked against every content rule; a 400 listing each problem at its path when it fails. */
  function checked(slug: string, doc: unknown, what: string): CourseDocument {
    const result = validateCourseDocument(slug, doc);
    if (!result.ok) throw new FieldErrors(what, result.problems);
    return result.document;
  }

  const authoring = {
    /**
     * The course-author guard: 401 signed out, 404 for an unknown course, 403 unless an admin or one of the course's
     * authors (instructors assigned to it).
     */
    async authorAccess(user: User | null, slug: string, q: Db = database.db): Promise<{ user: User; courseId: number }> {
      if (!user) throw new NotSignedIn();
      const course = await courseRow(slug, q);
      if (user.role === 'admin') return { user, courseId: course.id };
      if (user.role === 'instructor') {
        const [row] = await q
          .select({ userId: courseAuthors.userId })
          .from(courseAuthors)
          .where(and(eq(courseAuthors.courseId, course.id), eq(courseAuthors.userId, user.id)))
          .limit(1);
        if (row) return { user, courseId: course.id };
      }
      throw new Forbidden('Only the course’s authors and admins can do this.');
    },

    /** Create a course (admin) with an empty draft; unpublished, it is not listed until its first publish. 409 when the slug is taken. */
    async create(input: { slug: string; title: string }, by: User): Promise<AuthoredCourse> {
      if (!SLUG_PATTERN.test(input.slug)) throw new BadInput(`must match ${SLUG_PATTERN.source}, e.g. "reference-interviews"`, 'slug');
      const title = input.title.trim();
      if (!title) throw new BadInput('give the course a title', 'title');
      const draft = emptyDraft(title);
      const now = clock.now();
      try {
        await database.transaction(async (tx) => {
          const [taken] = await tx.select({ id: courses.id }).from(courses).where(eq(courses.slug, input.slug)).limit(1);
          if (taken) throw new Conflict(`A course with the slug "${input.slug}" already exists.`);
          const [row] = await tx.insert(courses).values({ slug: input.slug, title, createdBy: by.id, createdAt: now }).returning();
          await tx.insert(courseDrafts).values({ courseId: row.id, document: JSON.stringify(draft), files: null, updatedBy: by.id, updatedAt: now });
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw new Conflict(`A course with the slug "${input.slug}" already exists.`);
        throw err;
      }
      return { slug: input.slug, title, latestVersion: null, draft };
    },

    /** The course's draft document (the caller has passed authorAccess). */
    async draft(slug: string): Promise<CourseDocument> {
      const course = await courseRow(slug);
      return JSON.parse((await draftRow(course.id, database.db)).document) as CourseDocument;
    },

    /**
     * Replace the draft with `doc` once it passes every content rule (else a 400 listing each problem; nothing saved).
     * Price and certificate rules are the admins' (an author who changes them: 403). The imported files are dropped:
     * they no longer match what the authors wrote.
     */
    async saveDraft(slug: string, doc: unknown, by: User): Promise<CourseDocument> {
      const document = checked(slug, doc, 'The draft was not saved');
      const text = JSON.stringify(document);
      const now = clock.now();
      await database.transaction(async (tx) => {
        const course = await courseRow(slug, tx);
        if (by.role !== 'admin') {
          const current = JSON.parse((await draftRow(course.id, tx)).document) as CourseDocument;
          const changed = adminFields(current, document);
          if (changed.length > 0) throw new Forbidden(`Only admins set a course's price and certificate rules (${changed.join(', ')}); keep them as they are in the draft.`);
        }
        await tx
          .insert(courseDrafts)
          .values({ courseId: course.id, document: text, files: null, updatedBy: by.id, updatedAt: now })
          .onConflictDoUpdate({ target: courseDrafts.courseId, set: { document: text, files: null, updatedBy: by.id, updatedAt: now } });
        await tx.update(courses).set({ title: document.title }).where(eq(courses.id, course.id));
      });
      return JSON.parse(text) as CourseDocument;
    },

    /**
     * Change one part of the draft through a form (the editor pages): `edit` makes the new document from the saved one,
     * inside the transaction. Problems in the part being edited (`inPart(field)`) refuse the change (a 400 listing
     * them; nothing saved); problems elsewhere do not, since a course is written part by part and publishing checks
     * the whole. Price and certificate rules stay the admins'.
     */
    async editDraft(slug: string, by: User, inPart: (field: string) => boolean, edit: (current: CourseDocument) => CourseDocument): Promise<{ document: CourseDocument; problems: DocumentProblem[] }> {
      return database.transaction(async (tx) => {
        const course = await courseRow(slug, tx);
        const current = JSON.parse((await draftRow(course.id, tx)).document) as CourseDocument;
        const document = edit(structuredClone(current));
        const result = validateCourseDocument(slug, document);
        const problems = result.ok ? [] : result.problems;
        const own = problems.filter((p) => inPart(p.field));
        if (own.length > 0) throw new FieldErrors('The changes were not saved', own);
        if (by.role !== 'admin') {
          const changed = adminFields(current, document);
          if (changed.length > 0) throw new Forbidden(`Only admins set a course's price and certificate rules (${changed.join(', ')}).`);
        }
        const text = JSON.stringify(document);
        const now = clock.now();
        await tx.update(courseDrafts).set({ document: text, files: null, updatedBy: by.id, updatedAt: now }).where(eq(courseDrafts.courseId, course.id));
        if (document.title.trim()) await tx.update(courses).set({ title: document.title }).where(eq(courses.id, course.id));
        return { document: JSON.parse(text) as CourseDocument, problems };
      });
    },

    /** The courses a person authors (an admin: every course), by title, with the draft's last change. */
    async authoredBy(user: User): Promise<{ slug: string; title: string; latestVersion: number | null; updatedAt: Date }[]> {
      const q = database.db
        .select({ id: courses.id, slug: courses.slug, title: courses.title, latestVersion: courses.latestVersion, updatedAt: courseDrafts.updatedAt })
        .from(courses)
        .innerJoin(courseDrafts, eq(courseDrafts.courseId, courses.id));
      let rows = await q.orderBy(asc(courses.title));
      if (user.role !== 'admin') {
        const mine = await database.db.select({ id: courseAuthors.courseId }).from(courseAuthors).where(eq(courseAuthors.userId, user.id));
        const ids = new Set(mine.map((r) => r.id));
        rows = rows.filter((r) => ids.has(r.id));
      }
      return rows.map(({ id: _id, ...r }) => r);
    },

    /** The addresses of a course's authors. */
    async authors(slug: string): Promise<string[]> {
      const course = await courseRow(slug);
      const rows = await database.db
        .select({ email: users.email })
        .from(courseAuthors)
        .innerJoin(users, eq(users.id, courseAuthors.userId))
        .where(eq(courseAuthors.courseId, course.id))
        .orderBy(asc(users.email));
      return rows.map((r) => r.email);
    },

    /**
     * Publish the draft as the course's next version with an optional note (checked again: a 400 listing each problem
     * when it fails). Cohorts not started yet follow it through 'course.published'; running ones keep theirs.
     */
    async publish(slug: string, note: string | null, by: User): Promise<{ version: number }> {
      try {
        return await database.transaction(async (tx) => {
          const course = await courseRow(slug, tx);
          const draft = await draftRow(course.id, tx);
          const document = checked(slug, JSON.parse(draft.document), 'The draft cannot be published');
          const version = (course.latestVersion ?? 0) + 1;
          const now = clock.now();
          // A draft still as imported keeps its files, so exporting this version gives them back unchanged.
          await tx.insert(courseVersions).values({ courseId: course.id, version, note, document: draft.document, files: draft.files, publishedBy: by.id, publishedAt: now });
          await tx.update(courses).set({ latestVersion: version, title: document.title }).where(eq(courses.id, course.id));
          await events.emit(tx, 'course.published', { slug, version });
          return { version };
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw new Conflict('Someone else published this course at the same moment; reload and try again.');
        throw err;
      }
    },

    /** The published versions of a course, oldest first, with who published each. */
    async history(slug: string): Promise<PublishedVersion[]> {
      const course = await courseRow(slug);
      return database.db
        .select({ version: courseVersions.version, note: courseVersions.note, publishedAt: courseVersions.publishedAt, publishedBy: users.email })
        .from(courseVersions)
        .leftJoin(users, eq(users.id, courseVersions.publishedBy))
        .where(eq(courseVersions.courseId, course.id))
        .orderBy(asc(courseVersions.version));
    },

    /**
     * Make an existing person an author of a course (admin). A learner becomes an instructor, as cohort instructors
     * do; an admin is recorded too (admins author every course anyway). 404 for an unknown course or person.
     */
    async addAuthor(slug: string, email: string, people: AuthorPeople): Promise<{ slug: string; authors: string[] }> {
      return database.transaction(async (tx) => {
        const course = await courseRow(slug, tx);
        let person = await people.findByEmail(email, tx);
        if (!person) throw new NotFound(`An account with the address "${email.slice(0, 254)}" (add the person first)`);
        if (person.role === 'learner') person = await people.upsert({ email: person.email, role: 'instructor' });
        await tx.insert(courseAuthors).values({ courseId: course.id, userId: person.id }).onConflictDoNothing();
        const rows = await tx
          .select({ email: users.email })
          .from(courseAuthors)
          .innerJoin(users, eq(users.id, courseAuthors.userId))
          .where(eq(courseAuthors.courseId, course.id))
          .orderBy(asc(users.email));
        return { slug, authors: rows.map((r) => r.email) };
      });
    },
  };
  return authoring;
}

export type Authoring = ReturnType<typeof createAuthoring>;
