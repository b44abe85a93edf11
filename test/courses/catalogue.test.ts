// Courses in the database: the bundled ones imported on first start, new versions published from files, cohorts not
// started following them while running ones keep theirs, and export giving back the imported files unchanged.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { insertCohort } from '../helpers/factories.js';
import { defaultContentDir } from '../../server/paths.js';
import { ContentError } from '../../modules/courses/content.js';

let t: TestApp | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await t?.close();
  t = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'cc-catalogue-'));
  dirs.push(d);
  return d;
};

/** Every file under a folder, by relative path. */
function filesIn(dir: string, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) Object.assign(out, filesIn(dir, rel));
    else out[rel] = readFileSync(join(dir, rel), 'utf8');
  }
  return out;
}

/** A copy of one bundled course with week 1's title changed. */
function changedCopy(slug: string, newTitle: string): string {
  const dir = join(tempDir(), slug);
  cpSync(join(defaultContentDir, slug), dir, { recursive: true });
  const week1 = join(dir, 'weeks/01.md');
  writeFileSync(week1, readFileSync(week1, 'utf8').replace(/^title: .*$/m, `title: ${newTitle}`));
  return dir;
}

describe('the catalogue in the database', () => {
  it('imports the bundled courses as version 1 on first start, and keeps the database as the catalogue after', async () => {
    const dir = tempDir();
    t = await createTestApp({ dir });
    const list = await t.ctx.courses.list();
    expect(list.map((c) => c.slug).sort()).toEqual(readdirSync(defaultContentDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort());
    expect((await t.ctx.courses.versions('strategic-planning')).map((v) => v.version)).toEqual([1]);
    await t.close();
    // Restarted with another content folder: the database is the catalogue now, so nothing changes.
    const other = tempDir();
    cpSync(join(defaultContentDir, 'leading-change'), join(other, 'leading-change'), { recursive: true });
    t = await createTestApp({ dir, contentDir: other });
    expect((await t.ctx.courses.list()).length).toBe(list.length);
  });

  it('publishes a changed course folder as version 2: a cohort not started follows it, a running one keeps version 1', async () => {
    t = await createTestApp({ now: '2026-03-10T10:00:00.000Z' });
    const { cohort: running } = await insertCohort(t, { startDate: '2026-03-02' });
    const { cohort: later } = await insertCohort(t, { startDate: '2026-05-04' });
    const before = running.course.weeks[0].title;
    const published = await t.ctx.courses.importFolder(changedCopy('strategic-planning', 'Why plan at all? (revised)'), { userId: null, note: 'Week 1 retitled' });
    expect(published).toEqual({ slug: 'strategic-planning', version: 2 });
    expect((await t.ctx.courses.versions('strategic-planning')).map((v) => [v.version, v.note])).toEqual([
      [1, 'Imported from content/strategic-planning'],
      [2, 'Week 1 retitled'],
    ]);
    expect((await t.ctx.cohorts.get(later.id)).course.weeks[0].title).toBe('Why plan at all? (revised)');
    expect((await t.ctx.cohorts.get(later.id)).courseVersion).toBe(2);
    expect((await t.ctx.cohorts.get(running.id)).course.weeks[0].title).toBe(before);
    expect((await t.ctx.cohorts.get(running.id)).courseVersion).toBe(1);
    // New cohorts get the newest version; the course page shows it.
    const { cohort: fresh } = await insertCohort(t, { startDate: '2026-06-01' });
    expect(fresh.courseVersion).toBe(2);
    expect((await t.ctx.courses.latest('strategic-planning')).weeks[0].title).toBe('Why plan at all? (revised)');
  });

  it('refuses a course folder with mistakes, naming every one, and publishes nothing', async () => {
    t = await createTestApp();
    const dir = changedCopy('leading-change', 'Fine');
    writeFileSync(join(dir, 'course.yaml'), readFileSync(join(dir, 'course.yaml'), 'utf8').replace(/^hoursPerWeek: .*$/m, 'hoursPerWeek: lots').replace(/^title: /m, 'titel: '));
    const err = await t.ctx.courses.importFolder(dir).catch((e) => e);
    expect(err).toBeInstanceOf(ContentError);
    expect(err.message).toContain('course.yaml: hoursPerWeek');
    expect(err.message).toMatch(/titel/);
    expect((await t.ctx.courses.versions('leading-change')).map((v) => v.version)).toEqual([1]);
  });

  it('exports a version as the files it was imported from, byte for byte, and an export imports back as the same course', async () => {
    t = await createTestApp();
    for (const slug of ['strategic-planning', 'library-partnerships']) {
      const out = join(tempDir(), slug);
      expect(await t.ctx.courses.exportFolder(slug, out)).toMatchObject({ version: 1 });
      const original = filesIn(join(defaultContentDir, slug));
      const exported = filesIn(out);
      for (const [rel, text] of Object.entries(exported)) expect(text, rel).toBe(original[rel]);
      expect(Object.keys(exported).sort()).toEqual(Object.keys(original).filter((f) => f === 'course.yaml' || /^weeks\/\d\d\.md$/.test(f)).sort());
      const again = await t.ctx.courses.importFolder(out);
      expect(again.version).toBe(2);
      expect(await t.ctx.courses.load(slug, 2)).toEqual(await t.ctx.courses.load(slug, 1));
    }
  });
});

describe('the CLI', () => {
  it('course export then course import, on the database the server uses', () => {
    const dir = tempDir();
    const env: NodeJS.ProcessEnv = { ...process.env, BASE_URL: 'http://127.0.0.1:3000', DATABASE_PATH: join(dir, 'cli.db'), MAIL_DIR: join(dir, 'mail'), DEMO: '0' };
    delete env.DATABASE_URL;
    const run = (...args: string[]) => execFileSync(process.execPath, ['--import', 'tsx', 'server/cli.ts', ...args], { env, encoding: 'utf8' });
    const out = join(dir, 'export', 'leading-change');
    expect(run('course', 'export', 'leading-change', out)).toMatch(/^wrote leading-change version 1 \(\d+ files\)/);
    writeFileSync(join(out, 'weeks/01.md'), readFileSync(join(out, 'weeks/01.md'), 'utf8').replace(/^title: .*$/m, 'title: Changed by the CLI'));
    expect(run('course', 'import', out, '--note', 'From the CLI')).toMatch(/^published leading-change version 2/);
    expect(run('course', 'export', 'leading-change', join(dir, 'again', 'leading-change'))).toMatch(/version 2/);
    expect(readFileSync(join(dir, 'again', 'leading-change', 'weeks/01.md'), 'utf8')).toContain('title: Changed by the CLI');
  }, 120_000);
});

/** A copy of Community-led planning cut to three weeks (its week-4 session moved to week 3). */
function threeWeekCopy(): string {
  const dir = join(tempDir(), 'community-led-planning');
  cpSync(join(defaultContentDir, 'community-led-planning'), dir, { recursive: true });
  rmSync(join(dir, 'weeks/04.md'));
  const yaml = readFileSync(join(dir, 'course.yaml'), 'utf8');
  writeFileSync(join(dir, 'course.yaml'), yaml.replace(/^weeks: 4$/m, 'weeks: 3').replace('  - week: 4\n', '  - week: 3\n'));
  return dir;
}

describe('applying a newer version to a running cohort', () => {
  it('is refused while learners have work in a week the version removes, or the cohort is in that week', async () => {
    // Week 2 of a cohort that started on 2 March.
    t = await createTestApp({ now: '2026-03-10T10:00:00.000Z' });
    const { cohort } = await insertCohort(t, { course: 'community-led-planning', startDate: '2026-03-02' });
    // Another, in its week 5 (it started on 9 February).
    const { cohort: late } = await insertCohort(t, { course: 'community-led-planning', startDate: '2026-02-09' });
    const { version } = await t.ctx.courses.importFolder(threeWeekCopy(), { userId: null, note: 'Three weeks' });
    expect(version).toBe(2);
    expect((await t.ctx.cohorts.get(cohort.id)).courseVersion).toBe(1);

    // Someone's draft sits in week 4: refused, naming it, and nothing changes.
    const learner = await t.ctx.people.upsert({ email: 'lena-week4@example.org', role: 'learner', name: 'Lena' });
    await t.ctx.database.transaction((tx) => t!.ctx.cohorts.enrol(tx, cohort.id, learner.id));
    const { submissions } = await import('../../modules/assignments/schema.js');
    await t.ctx.database.transaction(async (tx) => {
      await tx.insert(submissions).values({ cohortId: cohort.id, userId: learner.id, week: 4, draftAnswers: '{"x":"a plan"}', createdAt: t!.clock.now(), updatedAt: t!.clock.now() });
    });
    const refused = await t.ctx.cohorts.applyVersion(cohort.id, 2).catch((e) => e);
    expect(refused.statusCode).toBe(409);
    expect(refused.message).toContain('week 4 (1 learner)');
    expect((await t.ctx.cohorts.get(cohort.id)).courseVersion).toBe(1);

    // Without work in week 4 it applies: the timeline is three weeks now.
    await t.ctx.database.transaction(async (tx) => {
      await tx.delete(submissions);
    });
    const applied = await t.ctx.cohorts.applyVersion(cohort.id, 2);
    expect(applied.courseVersion).toBe(2);
    expect(applied.timeline.weeks).toHaveLength(3);

    // A cohort past week 3 cannot be put on a three-week version at all.
    const inWeek4 = await t.ctx.cohorts.applyVersion(late.id, 2).catch((e) => e);
    expect(inWeek4.statusCode).toBe(409);
    expect(inWeek4.message).toContain('is in week 4');
  });
});
