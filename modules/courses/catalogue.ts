// The catalogue in the database: published versions read (and kept in memory, as they never change), the latest
// version of a course, the bundled courses imported on first start, and courses imported from or exported to files.
import fs from 'node:fs';
import path from 'node:path';
import { and, asc, count, eq, isNotNull } from 'drizzle-orm';
import type { AppDatabase, Db } from '../../server/db.js';
import type { Clock } from '../../server/clock.js';
import type { Events } from '../../server/events.js';
import { NotFound } from '../../server/errors.js';
import { ContentError, type Course, SLUG_PATTERN } from './content.js';
import { courseDocumentToFiles, readCourseFolder, validateCourseFiles, writeCourseFolder, type ContentProblem, type CourseFiles } from './course-files.js';
import { validateCourseDocument, type CourseDocument } from './course-document.js';
import { courseDrafts, courses, courseVersions } from './schema.js';

declare module '../../server/events.js' {
  interface DomainEvents {
    /** A course has a new published version (inside the publishing transaction): cohorts not started yet follow it. */
    'course.published': { slug: string; version: number };
  }
}

export interface CatalogueDeps {
  database: AppDatabase;
  clock: Clock;
  events: Events;
  /** The bundled course folders, imported once into an empty database. */
  contentDir: string;
}

/** A stored document as a Course; a stored version that no longer validates is a bug, not bad input. */
function courseOf(slug: string, version: number, document: string): Course {
  const result = validateCourseDocument(slug, JSON.parse(document));
  if (!result.ok) throw new Error(`stored course ${slug} version ${version} does not validate: ${result.problems.map((p) => `${p.field}: ${p.detail}`).join('; ')}`);
  return result.course;
}

/** Every course folder under `dir` as files, validated; one ContentError listing every problem (as the loader's). */
export function readCourseFolders(dir: string): Array<{ slug: string; files: CourseFiles; document: CourseDocument; course: Course }> {
  const root = path.resolve(dir);
  const show = (p: string) => path.relative(path.dirname(root), p).split(path.sep).join('/') || '.';
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(root, { withFileTypes: true });
  } catch (err) {
    throw new ContentError(show(root), '(folder)', `cannot read the content folder (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const problems: ContentProblem[] = [];
  const out = [];
  for (const slug of entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort()) {
    const folder = path.join(root, slug);
    if (!SLUG_PATTERN.test(slug)) {
      problems.push({ file: show(folder), field: '(folder)', detail: `course folder name must match ${SLUG_PATTERN.source}` });
      continue;
    }
    const files = readCourseFolder(folder);
    const result = validateCourseFiles(slug, files, { folder: show(folder) });
    if (result.ok) out.push({ slug, files, document: result.document, course: result.course });
    else problems.push(...result.problems);
  }
  if (problems.length > 0) {
    problems.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
    throw new ContentError(problems[0].file, problems[0].field, problems[0].detail, problems);
  }
  return out;
}

export function createCatalogue({ database, clock, events, contentDir }: CatalogueDeps) {
  // Published versions never change, so what one instance read stays true for every instance: kept per app.
  const versions = new Map<string, Course>();
  const keyOf = (slug: string, version: number) => `${slug}@${version}`;

  const catalogue = {
    /** A published version of a course (read once, then kept). 404 when there is no such version. */
    async load(slug: string, version: number, q: Db = database.db): Promise<Course> {
      const kept = versions.get(keyOf(slug, version));
      if (kept) return kept;
      const [row] = await q
        .select({ document: courseVersions.document })
        .from(courseVersions)
        .innerJoin(courses, eq(courses.id, courseVersions.courseId))
        .where(and(eq(courses.slug, slug), eq(courseVersions.version, version)))
        .limit(1);
      if (!row) throw new NotFound(`Course "${slug.slice(0, 60)}" version ${version}`);
      const course = courseOf(slug, version, row.document);
      versions.set(keyOf(slug, version), course);
      return course;
    },

    /** A version already loaded (cohort rows are hydrated after `load`); throws when it was not. */
    loaded(slug: string, version: number): Course {
      const course = versions.get(keyOf(slug, version));
      if (!course) throw new Error(`course ${slug} version ${version} was not loaded before use`);
      return course;
    },

    /** The newest published version number of a course, or null when it is unknown or unpublished. */
    async latestVersion(slug: string, q: Db = database.db): Promise<number | null> {
      const [row] = await q.select({ v: courses.latestVersion }).from(courses).where(eq(courses.slug, slug)).limit(1);
      return row?.v ?? null;
    },

    /** The newest published version of a course, or 404. */
    async latest(slug: string, q: Db = database.db): Promise<Course> {
      const v = await catalogue.latestVersion(slug, q);
      if (v === null) throw new NotFound(`Course "${slug.slice(0, 60)}"`);
      return catalogue.load(slug, v, q);
    },

    /** Every published course (its newest version), by title. */
    async list(q: Db = database.db): Promise<Course[]> {
      const rows = await q.select({ slug: courses.slug, v: courses.latestVersion }).from(courses).where(isNotNull(courses.latestVersion));
      const list = await Promise.all(rows.map((r) => catalogue.load(r.slug, r.v!, q)));
      return list.sort((a, b) => a.title.localeCompare(b.title, 'en') || a.slug.localeCompare(b.slug, 'en'));
    },

    /**
     * Publish a course from its files as a new version (creating the course if new), inside `tx`: the version keeps
     * the files, so exporting it gives them back unchanged; the draft becomes the same. Returns the version number.
     */
    async publishFiles(tx: Db, entry: { slug: string; files: CourseFiles; document: CourseDocument; course: Course }, by: { userId: number | null; note: string | null }): Promise<number> {
      const now = clock.now();
      await tx.insert(courses).values({ slug: entry.slug, title: entry.course.title, createdBy: by.userId, createdAt: now }).onConflictDoNothing();
      const [c] = await tx.select().from(courses).where(eq(courses.slug, entry.slug)).limit(1);
      const version = (c.latestVersion ?? 0) + 1;
      const document = JSON.stringify(entry.document);
      const files = JSON.stringify(entry.files);
      await tx.insert(courseVersions).values({ courseId: c.id, version, note: by.note, document, files, publishedBy: by.userId, publishedAt: now });
      await tx.update(courses).set({ latestVersion: version, title: entry.course.title }).where(eq(courses.id, c.id));
      await tx
        .insert(courseDrafts)
        .values({ courseId: c.id, document, files, updatedBy: by.userId, updatedAt: now })
        .onConflictDoUpdate({ target: courseDrafts.courseId, set: { document, files, updatedBy: by.userId, updatedAt: now } });
      versions.set(keyOf(entry.slug, version), entry.course);
      await events.emit(tx, 'course.published', { slug: entry.slug, version });
      return version;
    },

    /**
     * Import the bundled courses into an empty catalogue, as version 1 of each (on first start; a bad course folder
     * stops the start with every problem listed, as before). Instances starting together import once: the slug is unique.
     */
    async importBundled(): Promise<void> {
      const [{ n }] = await database.db.select({ n: count() }).from(courses);
      if (Number(n) > 0) return;
      const entries = readCourseFolders(contentDir);
      await database.transaction(async (tx) => {
        const [{ n: again }] = await tx.select({ n: count() }).from(courses);
        if (Number(again) > 0) return;
        for (const entry of entries) await catalogue.publishFiles(tx, entry, { userId: null, note: `Imported from ${path.basename(path.resolve(contentDir))}/${entry.slug}` });
      });
    },

    /** Import one course folder (`course import DIR`): validated as files, published as the course's next version. */
    async importFolder(dir: string, by: { userId: number | null; note?: string | null } = { userId: null }): Promise<{ slug: string; version: number }> {
      const slug = path.basename(path.resolve(dir));
      const parent = path.dirname(path.resolve(dir));
      const entry = readCourseFolders(parent).find((e) => e.slug === slug);
      if (!entry) throw new NotFound(`Course folder ${dir}`);
      const version = await database.transaction((tx) => catalogue.publishFiles(tx, entry, { userId: by.userId, note: by.note ?? `Imported from ${dir}` }));
      return { slug, version };
    },

    /**
     * A published version's files (`course export SLUG DIR`): the files it was imported from, unchanged, or files
     * written from its document when it was authored in the app.
     */
    async exportFiles(slug: string, version?: number): Promise<{ version: number; files: CourseFiles }> {
      const v = version ?? (await catalogue.latestVersion(slug));
      if (v === null) throw new NotFound(`Course "${slug.slice(0, 60)}"`);
      const [row] = await database.db
        .select({ document: courseVersions.document, files: courseVersions.files })
        .from(courseVersions)
        .innerJoin(courses, eq(courses.id, courseVersions.courseId))
        .where(and(eq(courses.slug, slug), eq(courseVersions.version, v)))
        .limit(1);
      if (!row) throw new NotFound(`Course "${slug.slice(0, 60)}" version ${v}`);
      return { version: v, files: row.files ? JSON.parse(row.files) : courseDocumentToFiles(JSON.parse(row.document)) };
    },

    /** Write a course's files into `dir` (export). */
    async exportFolder(slug: string, dir: string, version?: number): Promise<{ version: number; files: number }> {
      const { version: v, files } = await catalogue.exportFiles(slug, version);
      writeCourseFolder(files, dir);
      return { version: v, files: Object.keys(files).length };
    },

    /** Published versions of a course, oldest first. */
    async versions(slug: string) {
      return database.db
        .select({ version: courseVersions.version, note: courseVersions.note, publishedAt: courseVersions.publishedAt, publishedBy: courseVersions.publishedBy })
        .from(courseVersions)
        .innerJoin(courses, eq(courses.id, courseVersions.courseId))
        .where(eq(courses.slug, slug))
        .orderBy(asc(courseVersions.version));
    },
  };
  return catalogue;
}

export type Catalogue = ReturnType<typeof createCatalogue>;
