// Course content at start-up: loadCourses reads every content/<slug>/ folder through the one course validator.
import fs from 'node:fs';
import path from 'node:path';
import { readCourseFolder, validateCourseFiles, type ContentProblem } from './course-files.js';
import { SLUG_PATTERN, type Course } from './model.js';

// The course shapes and limits live in model.ts; they are re-exported so that modules keep importing content.js.
export * from './model.js';
export type { ContentProblem } from './course-files.js';

/**
 * Bad course content. `file`, `field` and `detail` describe the first problem found; `problems` holds every
 * problem, and the message lists them one per line as `file: field: detail`.
 */
export class ContentError extends Error {
  readonly detail: string;
  readonly problems: ContentProblem[];

  constructor(public file: string, public field: string, detail: string, problems?: ContentProblem[]) {
    const all = problems && problems.length > 0 ? problems : [{ file, field, detail }];
    super(all.map((p) => `${p.file}: ${p.field}: ${p.detail}`).join('\n'));
    this.name = 'ContentError';
    this.detail = detail;
    this.problems = all;
  }
}

/** Reads every course folder under dir, validates, renders Markdown; throws one ContentError listing every problem. */
export function loadCourses(dir: string): Map<string, Course> {
  const root = path.resolve(dir);
  const show = (p: string) => path.relative(path.dirname(root), p).split(path.sep).join('/') || '.';
  const problems: ContentProblem[] = [];
  const courses: Course[] = [];

  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(root, { withFileTypes: true });
  } catch (err) {
    throw new ContentError(show(root), '(folder)', `cannot read the content folder (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }

  // Files at the top (README.md) and hidden folders are not courses.
  const folders = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
  for (const slug of folders) {
    const courseDir = path.join(root, slug);
    if (!SLUG_PATTERN.test(slug)) {
      problems.push({ file: show(courseDir), field: '(folder)', detail: `course folder name must match ${SLUG_PATTERN.source}` });
      continue;
    }
    const result = validateCourseFiles(slug, readCourseFolder(courseDir), { folder: show(courseDir) });
    if (result.ok) courses.push(result.course);
    else problems.push(...result.problems);
  }

  if (problems.length > 0) {
    // Stable sort by file: course.yaml before its weeks, and each file's problems in field order.
    problems.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
    const [first] = problems;
    throw new ContentError(first.file, first.field, first.detail, problems);
  }
  courses.sort((a, b) => a.title.localeCompare(b.title, 'en') || a.slug.localeCompare(b.slug, 'en'));
  return new Map(courses.map((c) => [c.slug, c]));
}
