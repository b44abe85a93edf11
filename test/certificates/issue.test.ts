// Issue mechanics: the grace edge, personal extensions, the learner's choice, once only (also across processes),
// revocation, and the email written in the same transaction as the certificate.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { and, eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { enrolLearner, insertCohort, signInBrowser } from '../helpers/factories.js';
import { certificates } from '../../modules/certificates/schema.js';
import { enrolments } from '../../modules/cohorts/schema.js';
import { users } from '../../modules/people/schema.js';
import { outbox } from '../../server/outbox-schema.js';
import { isUniqueViolation, type Db } from '../../server/db.js';
import type { ProgressSources } from '../../modules/certificates/service.js';
import type { WeekStatus } from '../../modules/certificates/rules.js';
import { attend, certCohort, doAlmostEverything, LATE_IN_COHORT } from './helpers.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp({ now: LATE_IN_COHORT });
});
afterEach(async () => t.close());

/** Small fakes of the assignments, sessions and discussions functions, set per learner by the test. */
function fakeProgress(graceEndsAt?: (userId: number) => Date) {
  const state = new Map<number, { weeks: WeekStatus[]; attended: number; posts: number }>();
  const sources: Partial<ProgressSources> = {
    weekStatuses: async (_tx, _c, u) => (state.get(u)?.weeks ?? ['none', 'none', 'none', 'none']).map((status, i) => ({ week: i + 1, title: `Worksheet ${i + 1}`, status, late: false })),
    attendance: async (_tx, _c, u) => ({ attendedOrWatched: state.get(u)?.attended ?? 0, total: 4, missed: [] }),
    posts: async (_tx, _c, u) => state.get(u)?.posts ?? 0,
    ...(graceEndsAt ? { graceEndsAt: async (_tx: Db, _c: number, u: number) => graceEndsAt(u) } : {}),
  };
  t.ctx.certificates.useSources(sources);
  return {
    set(userId: number, p: { weeks?: WeekStatus[]; attended?: number; posts?: number }) {
      const cur = state.get(userId) ?? { weeks: ['none', 'none', 'none', 'none'] as WeekStatus[], attended: 0, posts: 0 };
      state.set(userId, { ...cur, ...p });
    },
    done(userId: number) {
      state.set(userId, { weeks: ['complete', 'complete', 'complete', 'complete'], attended: 3, posts: 1 });
    },
  };
}

/** What another module does when a learner's progress changes. */
async function changed(cohortId: number, userId: number) {
  await t.ctx.database.transaction((tx) => t.ctx.events.emit(tx, 'progress.changed', { cohortId, userId }));
}

const count = async () => (await t.ctx.db.select().from(certificates)).length;
const all = () => t.ctx.db.select().from(certificates);

describe('the grace edge with the injected clock', () => {
  it('rules met one minute before graceEndsAt: issued; one minute after: not', async () => {
    const { cohort } = await insertCohort(t);
    const a = await enrolLearner(t, cohort.id);
    const b = await enrolLearner(t, cohort.id);
    const fake = fakeProgress();
    const grace = cohort.timeline.graceEndsAt.getTime();
    t.clock.set(new Date(grace - 60_000));
    fake.done(a.user.id);
    await changed(cohort.id, a.user.id);
    t.clock.set(new Date(grace + 60_000));
    fake.done(b.user.id);
    await changed(cohort.id, b.user.id);
    const rows = await all();
    expect(rows.map((r) => r.userId)).toEqual([a.user.id]);
    expect(rows[0].earned).toBe('grace');
  });

  it('exactly at graceEndsAt still counts', async () => {
    const { cohort } = await insertCohort(t);
    const a = await enrolLearner(t, cohort.id);
    const fake = fakeProgress();
    t.clock.set(cohort.timeline.graceEndsAt);
    fake.done(a.user.id);
    await changed(cohort.id, a.user.id);
    expect(await count()).toBe(1);
  });

  it('on time up to endsAt, in the grace period after it', async () => {
    const { cohort } = await insertCohort(t);
    const a = await enrolLearner(t, cohort.id);
    const b = await enrolLearner(t, cohort.id);
    const fake = fakeProgress();
    t.clock.set(cohort.timeline.endsAt);
    fake.done(a.user.id);
    await changed(cohort.id, a.user.id);
    t.clock.advance({ ms: 1 });
    fake.done(b.user.id);
    await changed(cohort.id, b.user.id);
    const byUser = new Map((await all()).map((r) => [r.userId, r.earned]));
    expect(byUser.get(a.user.id)).toBe('on_time');
    expect(byUser.get(b.user.id)).toBe('grace');
  });

  it('a personal grace end (fake extension) moves that learner’s deadline only', async () => {
    const { cohort } = await insertCohort(t);
    const extended = await enrolLearner(t, cohort.id);
    const other = await enrolLearner(t, cohort.id);
    const grace = cohort.timeline.graceEndsAt.getTime();
    const fake = fakeProgress((u) => new Date(u === extended.user.id ? grace + 7 * 86_400_000 : grace));
    t.clock.set(new Date(grace + 3 * 86_400_000));
    fake.done(extended.user.id);
    fake.done(other.user.id);
    await changed(cohort.id, extended.user.id);
    await changed(cohort.id, other.user.id);
    expect((await all()).map((r) => r.userId)).toEqual([extended.user.id]);
  });

  it('with a real extension granted by the instructor, work finished after the cohort’s grace end earns the certificate', async () => {
    const c = await certCohort(t);
    await doAlmostEverything(t, c, c.learner, 'attend3');
    const grace = c.cohort.timeline.graceEndsAt.getTime();
    t.clock.set(new Date(grace - 86_400_000));
    const personal = new Date(grace + 7 * 86_400_000).toISOString();
    const ext = await c.asInstructor('POST', `/api/v1/cohorts/${c.cohort.id}/extensions`, { learner: c.learner.email, graceEndsAt: personal, reason: 'Illness' });
    expect(ext.statusCode, ext.body).toBe(201);
    t.clock.set(new Date(grace + 7 * 86_400_000 - 60_000));
    await attend(t, c, c.learner.email, 3);
    expect(await count()).toBe(1);
    const p = (await c.asLearner('GET', `/api/v1/cohorts/${c.cohort.id}/progress`)).json();
    expect(p.graceEndsAt).toBe(personal);
    expect(p.certificate).not.toBeNull();
  });

  it('one minute after a personal grace end, nothing is issued', async () => {
    const c = await certCohort(t);
    await doAlmostEverything(t, c, c.learner, 'attend3');
    const grace = c.cohort.timeline.graceEndsAt.getTime();
    const personal = new Date(grace + 2 * 86_400_000);
    await c.asInstructor('POST', `/api/v1/cohorts/${c.cohort.id}/extensions`, { learner: c.learner.email, graceEndsAt: personal.toISOString(), reason: 'Illness' });
    t.clock.set(new Date(personal.getTime() + 60_000));
    await attend(t, c, c.learner.email, 3);
    expect(await count()).toBe(0);
  });
});

describe('the learner’s choice', () => {
  it('certificateWanted=false: every rule met, no automatic certificate', async () => {
    const { cohort } = await insertCohort(t);
    const a = await enrolLearner(t, cohort.id);
    await t.ctx.database.transaction(async (tx) => {
      await tx.update(enrolments).set({ certificateWanted: false }).where(eq(enrolments.userId, a.user.id));
    });
    const fake = fakeProgress();
    fake.done(a.user.id);
    await changed(cohort.id, a.user.id);
    expect(await count()).toBe(0);
    expect(await t.ctx.certificates.progress(cohort, a.user)).toMatchObject({ certificateWanted: false, certificate: null, evaluation: { eligible: true } });
  });

  it('switching it back on from the cohort home issues the certificate at once when the rules are met', async () => {
    const { cohort } = await insertCohort(t);
    const a = await enrolLearner(t, cohort.id);
    const fake = fakeProgress();
    const browser = await signInBrowser(t, a.email);
    const off = await browser.post(`/cohorts/${cohort.id}/certificate-preference`, {}, { fromPage: '/profile' });
    expect(off.statusCode).toBe(303);
    expect(off.headers.location).toBe(`/cohorts/${cohort.id}?certificate=off#progress`);
    fake.done(a.user.id);
    await changed(cohort.id, a.user.id);
    expect(await count()).toBe(0);
    const on = await browser.post(`/cohorts/${cohort.id}/certificate-preference`, { wanted: '1' }, { fromPage: '/profile' });
    expect(on.headers.location).toBe(`/cohorts/${cohort.id}?certificate=issued#progress`);
    expect(await count()).toBe(1);
  });

  it('the preference API: a learner switches it off and on; staff cannot', async () => {
    const c = await certCohort(t);
    const off = await c.asLearner('PUT', `/api/v1/cohorts/${c.cohort.id}/certificate-preference`, { wanted: false });
    expect(off.statusCode).toBe(200);
    expect(off.json()).toEqual({ certificateWanted: false, certificate: null });
    expect((await c.asLearner('GET', `/api/v1/cohorts/${c.cohort.id}/progress`)).json().certificateWanted).toBe(false);
    expect((await c.asLearner('PUT', `/api/v1/cohorts/${c.cohort.id}/certificate-preference`, { wanted: 'yes' })).statusCode).toBe(400);
    expect((await c.asInstructor('PUT', `/api/v1/cohorts/${c.cohort.id}/certificate-preference`, { wanted: true })).statusCode).toBe(403);
    expect((await c.anonymous('PUT', `/api/v1/cohorts/${c.cohort.id}/certificate-preference`, { wanted: true })).statusCode).toBe(401);
  });

  it('switching it on after the grace end issues nothing', async () => {
    const { cohort } = await insertCohort(t);
    const a = await enrolLearner(t, cohort.id);
    const fake = fakeProgress();
    await t.ctx.certificates.setWanted(cohort.id, a.user.id, false);
    fake.done(a.user.id);
    t.clock.set(new Date(cohort.timeline.graceEndsAt.getTime() + 60_000));
    expect((await t.ctx.certificates.setWanted(cohort.id, a.user.id, true)).issued).toBeNull();
    expect(await count()).toBe(0);
  });

  it('a withdrawn learner and a course without certificates never get one automatically', async () => {
    const { cohort } = await insertCohort(t);
    const gone = await enrolLearner(t, cohort.id);
    await t.ctx.database.transaction((tx) => t.ctx.cohorts.withdraw(tx, cohort.id, gone.user.id));
    const plain = (await insertCohort(t, { course: 'community-led-planning' })).cohort;
    const p = await enrolLearner(t, plain.id);
    const fake = fakeProgress();
    fake.done(gone.user.id);
    fake.done(p.user.id);
    await changed(cohort.id, gone.user.id);
    await changed(plain.id, p.user.id);
    expect(await count()).toBe(0);
  });
});

describe('once only', () => {
  it('thirty progress changes at once (parallel posts) give exactly one certificate and one email', async () => {
    const c = await certCohort(t);
    await doAlmostEverything(t, c, c.learner, 'post');
    const results = await Promise.all([...Array(30).keys()].map(() => c.asLearner('POST', `/api/v1/cohorts/${c.cohort.id}/threads`, { title: 'At once', body: 'Posting in parallel.' })));
    expect(results.every((r) => r.statusCode === 201)).toBe(true);
    expect(await count()).toBe(1);
    const mails = (await t.ctx.db.select().from(outbox).where(and(eq(outbox.to, c.learner.email)))).filter((m) => m.subject.startsWith('Your certificate'));
    expect(mails).toHaveLength(1);
  });

  it('thirty posts at once in a week thread give exactly one certificate and one email', async () => {
    const c = await certCohort(t);
    await doAlmostEverything(t, c, c.learner, 'post');
    const week1 = (await c.asLearner('GET', `/api/v1/cohorts/${c.cohort.id}/threads`)).json().find((th: { week: number | null }) => th.week === 1).id as number;
    const results = await Promise.all([...Array(30).keys()].map((i) => c.asLearner('POST', `/api/v1/threads/${week1}/posts`, { body: `Posting in parallel, ${i}.` })));
    expect(results.map((r) => r.statusCode)).toEqual(Array(30).fill(201));
    expect(await count()).toBe(1);
    const mails = (await t.ctx.db.select().from(outbox).where(and(eq(outbox.to, c.learner.email)))).filter((m) => m.subject.startsWith('Your certificate'));
    expect(mails).toHaveLength(1);
  });

  it('the database refuses a second valid certificate for the same learner and cohort, but allows one after revocation', async () => {
    const { cohort } = await insertCohort(t);
    const a = await enrolLearner(t, cohort.id);
    const fake = fakeProgress();
    fake.done(a.user.id);
    await changed(cohort.id, a.user.id);
    const [first] = await all().limit(1);
    const { id: _id, ...copy } = first;
    const write = (fn: (tx: Db) => Promise<unknown>) => t.ctx.database.transaction(async (tx) => void (await fn(tx)));
    await expect(write((tx) => tx.insert(certificates).values({ ...copy, code: 'A'.repeat(26) }))).rejects.toSatisfy(isUniqueViolation);
    await write((tx) => tx.update(certificates).set({ revokedAt: t.clock.now() }).where(eq(certificates.id, first.id)));
    await expect(write((tx) => tx.insert(certificates).values({ ...copy, code: 'B'.repeat(26) }))).rejects.toSatisfy(isUniqueViolation);
    // (That one took the same status list bit, which no two certificates share.)
    await expect(write((tx) => tx.insert(certificates).values({ ...copy, code: 'B'.repeat(26), statusListIndex: (first.statusListIndex! + 1) % 131_072 }))).resolves.toBeUndefined();
  });

  it('three processes triggering at once on one database issue exactly one certificate', async () => {
    const rc = await certCohort(t);
    // The rules are met through the real modules (so the other processes see them); the wish is off until "go".
    await t.ctx.certificates.setWanted(rc.cohort.id, rc.learner.user.id, false);
    await doAlmostEverything(t, rc, rc.learner, 'nothing');
    expect(await count()).toBe(0);
    await t.ctx.database.transaction(async (tx) => {
      await tx.update(enrolments).set({ certificateWanted: true }).where(eq(enrolments.userId, rc.learner.user.id));
    });

    const child = fileURLToPath(new URL('./race-child.ts', import.meta.url));
        const spawn = (tag: string) => {
      const p = fork(child, [t.location, t.mailDir, String(rc.cohort.id), String(rc.learner.user.id), '20', tag, t.clock.now().toISOString()], {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      const ready = new Promise<void>((resolve, reject) => {
        p.once('message', () => resolve());
        p.once('exit', (code) => reject(new Error(`race child ${tag} exited ${code}`)));
      });
      const done = ready.then(() => new Promise<{ errors: number }>((resolve) => p.on('message', (m) => resolve(m as { errors: number }))));
      return { p, ready, done };
    };
    const kids = [spawn('a'), spawn('b'), spawn('c')];
    await Promise.all(kids.map((k) => k.ready));
    for (const k of kids) k.p.send('go');
    // This process joins in on its own connection.
    for (let i = 0; i < 20; i++) {
      await changed(rc.cohort.id, rc.learner.user.id);
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(kids.map((k) => k.done));
    const rows = await all().where(eq(certificates.userId, rc.learner.user.id));
    expect(rows).toHaveLength(1);
    const mails = (await t.ctx.db.select().from(outbox)).filter((m) => m.to === rc.learner.email && m.subject.startsWith('Your certificate'));
    expect(mails).toHaveLength(1);
  }, 120_000);
});

describe('revocation and the outbox', () => {
  it('a revoked certificate is not replaced automatically; an admin can issue a new one by hand', async () => {
    const c = await certCohort(t);
    const fake = fakeProgress();
    fake.done(c.learner.user.id);
    await changed(c.cohort.id, c.learner.user.id);
    const [first] = await all().limit(1);
    expect((await c.asAdmin('POST', `/api/v1/certificates/${first.code}/revoke`, { reason: 'Issued to the wrong person' })).statusCode).toBe(200);
    await changed(c.cohort.id, c.learner.user.id);
    expect(await count()).toBe(1);
    const manual = await c.asAdmin('POST', `/api/v1/cohorts/${c.cohort.id}/certificates`, { email: c.learner.email });
    expect(manual.statusCode).toBe(201);
    expect(manual.json()).toMatchObject({ status: 'valid', issued: 'manual' });
    expect(await count()).toBe(2);
  });

  it('the certificate and its email are written in the caller’s transaction: a rollback leaves neither', async () => {
    const { cohort } = await insertCohort(t);
    const a = await enrolLearner(t, cohort.id);
    const fake = fakeProgress();
    fake.done(a.user.id);
    await expect(
      t.ctx.database.transaction(async (tx) => {
        await t.ctx.events.emit(tx, 'progress.changed', { cohortId: cohort.id, userId: a.user.id });
        expect(await tx.select().from(certificates)).toHaveLength(1);
        throw new Error('the review failed after all');
      }),
    ).rejects.toThrow('the review failed after all');
    expect(await count()).toBe(0);
    expect((await t.ctx.db.select().from(outbox)).filter((m) => m.to === a.email && m.subject.startsWith('Your certificate'))).toHaveLength(0);
    await changed(cohort.id, a.user.id);
    expect(await count()).toBe(1);
  });

  it('a failing certificate check rolls back only its own writes, never the learner’s change', async () => {
    const { cohort } = await insertCohort(t);
    const a = await enrolLearner(t, cohort.id);
    const fake = fakeProgress();
    fake.done(a.user.id);
    // The certificate row is written, then queuing its email fails.
    const enqueue = t.ctx.mailer.enqueue;
    t.ctx.mailer.enqueue = async () => {
      throw new Error('the outbox is unavailable');
    };
    try {
      await t.ctx.database.transaction(async (tx) => {
        await tx.update(users).set({ name: 'Changed by the learner' }).where(eq(users.id, a.user.id));
        await t.ctx.events.emit(tx, 'progress.changed', { cohortId: cohort.id, userId: a.user.id });
      });
    } finally {
      t.ctx.mailer.enqueue = enqueue;
    }
    expect((await t.ctx.people.get(a.user.id)).name).toBe('Changed by the learner');
    expect(await count()).toBe(0);
    // The next change (or the sweep) issues it.
    await changed(cohort.id, a.user.id);
    expect(await count()).toBe(1);
  });

  it('the safety-net sweep issues a certificate a progress change did not announce', async () => {
    const { cohort } = await insertCohort(t);
    const a = await enrolLearner(t, cohort.id);
    const fake = fakeProgress();
    fake.done(a.user.id);
    expect(await count()).toBe(0);
    expect(await t.ctx.certificates.sweep(t.clock.now())).toBe(1);
    expect(await t.ctx.certificates.sweep(t.clock.now())).toBe(0);
    expect(await count()).toBe(1);
  });
});
