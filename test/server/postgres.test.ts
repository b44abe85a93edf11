// Several app instances on one database (issue #21): a person signed in on one instance acts on another, the last
// place of a cohort booked from both at once, scheduled jobs and the outbox once across instances, migrations under a
// lock, a PostgreSQL outage answered with 503s and recovered from, the configuration DATABASE_URL needs, and a
// PostgreSQL table for every table of the schema. Engine-neutral where two instances can share a SQLite file too.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq, inArray } from 'drizzle-orm';
import { getTableConfig as pgTableConfig, PgTable } from 'drizzle-orm/pg-core';
import { getTableConfig as sqliteTableConfig, SQLiteTable } from 'drizzle-orm/sqlite-core';
import { is } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { ParsedMail } from 'mailparser';
import nodemailer, { type Transporter } from 'nodemailer';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../server/app.js';
import { loadConfig } from '../../server/config.js';
import { openDatabase, type AppDatabase } from '../../server/db.js';
import { createEmlTransport } from '../../server/mailer.js';
import { outbox } from '../../server/outbox-schema.js';
import { postgresMigrationsDir, sqliteMigrationsDir } from '../../server/paths.js';
import * as schema from '../../server/schema.js';
import { postgresTables } from '../../server/schema-postgres.js';
import * as pgTableExports from '../../server/schema-postgres.tables.js';
import { bookings } from '../../modules/bookings/schema.js';
import { weekOpenNotices } from '../../modules/cohorts/schema.js';
import { discussionDigests } from '../../modules/discussions/schema.js';
import { liveSessions } from '../../modules/sessions/schema.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, databaseUrl, dropTestDatabase, onPostgres, postgresUrl, sqliteOf } from '../helpers/engine.js';
import { email, enrolLearner, insertCohort, insertUser } from '../helpers/factories.js';
import { apiAs, Browser, csrfFrom } from '../helpers/http.js';
import { TestSmtp } from '../helpers/smtp.js';
import { networkOf } from '../bookings/setup.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  // Last made, first closed: second instances before the test app that owns the database.
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** The test app's database as a URL (PostgreSQL: the database named in its folder) or its SQLite file. */
function databaseOf(t: TestApp): { databaseUrl: string } | { databasePath: string } {
  if (!onPostgres) return { databasePath: join(t.dir, 'test.db') };
  return { databaseUrl: databaseUrl(readFileSync(join(t.dir, 'postgres-database'), 'utf8').trim()) };
}

/**
 * Another instance of the app on the test app's database and clock, as a second machine behind a load balancer runs
 * it: its own connections, scheduler and outbox worker, the same BASE_URL and session secret.
 */
async function otherInstance(t: TestApp, opts: { workers?: boolean; mailTransport?: Transporter } = {}): Promise<TestApp> {
  const app = await buildApp({
    ...databaseOf(t),
    clock: t.clock,
    mailTransport: opts.mailTransport ?? createEmlTransport(t.mailDir),
    baseUrl: t.ctx.baseUrl,
    workers: opts.workers ?? false,
  });
  const instance: TestApp = { ...t, app, ctx: app.cc, close: () => app.close() };
  cleanups.push(() => app.close());
  return instance;
}

async function testApp(options: Parameters<typeof createTestApp>[0] = {}): Promise<TestApp> {
  const t = await createTestApp(options);
  cleanups.push(() => t.close());
  return t;
}

async function smtpServer(): Promise<{ smtp: TestSmtp; transport: Transporter }> {
  const smtp = new TestSmtp();
  await smtp.start();
  cleanups.push(() => smtp.stop());
  return { smtp, transport: nodemailer.createTransport({ url: smtp.url, connectionTimeout: 2000, greetingTimeout: 2000 } as never) };
}

/** Wait (in real time: workers run on timers) until `check` holds, or fail naming what was awaited. */
async function until(what: string, check: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const pendingMail = (t: TestApp) => t.ctx.db.$count(outbox, eq(outbox.status, 'pending'));
/** The one address a message went to. */
const to = (m: ParsedMail) => (Array.isArray(m.to) ? m.to[0] : m.to)!.value[0].address!.toLowerCase();

describe('two instances on one database', () => {
  it('a person who asked for a sign-in link on one instance signs in with it on the other, and each sees what the other wrote', async () => {
    const a = await testApp();
    const b = await otherInstance(a);
    const { cohort } = await insertCohort(a);
    const { cohort: later } = await insertCohort(a, { startDate: '2026-04-06' });
    const learner = await enrolLearner(a, cohort.id, 'Lena Learner');

    // One browser, one cookie jar, each request going to whichever instance the load balancer picks.
    const onA = new Browser(a.app);
    const onB = new Browser(b.app);
    onB.cookies = onA.cookies;
    expect((await onA.post('/sign-in', { email: learner.email }, { fromPage: '/sign-in' })).statusCode).toBe(200);
    const link = /https?:\/\/\S+\/sign-in\/[A-Za-z0-9_-]+/.exec((await a.mailsTo(learner.email)).at(-1)?.text ?? '')?.[0];
    const path = new URL(link!).pathname;
    const confirm = await onB.get(path);
    const token = /name="token" value="([^"]+)"/.exec(confirm.body)?.[1];
    expect((await onB.post('/sign-in/confirm', { token: token! }, { fromPage: path })).statusCode).toBe(303);
    expect((await onA.api('GET', '/api/v1/me')).json()).toMatchObject({ email: learner.email, name: 'Lena Learner' });

    // A thread started on B; a post on it from A's page form, with the CSRF token B's page gave.
    const started = await onB.api('POST', `/api/v1/cohorts/${cohort.id}/threads`, { title: 'Reading group', body: 'Started on B' });
    expect(started.statusCode).toBe(201);
    const threadId = started.json().id as number;
    const page = `/cohorts/${cohort.id}/discussions/${threadId}`;
    const posted = await onA.post(`${page}/posts`, { body: 'Posted on A' }, { fromPage: page, csrf: csrfFrom((await onB.get(page)).body) });
    expect(posted.statusCode).toBe(303);
    const thread = (await onB.api('GET', `/api/v1/threads/${threadId}`)).json();
    expect(thread.posts.map((p: { html: string }) => p.html.replace(/<[^>]+>/g, '').trim())).toEqual(['Started on B', 'Posted on A']);

    // A booking of their own for a later cohort, made on B, is on A's admin list; their API token made on A works on B.
    const booked = await onB.api('POST', `/api/v1/cohorts/${later.id}/bookings`, { email: learner.email, name: 'Lena Learner', kind: 'standalone' });
    expect(booked.statusCode).toBe(201);
    const admin = await insertUser(a, 'admin');
    const list = (await apiAs(a.app, admin.token)('GET', `/api/v1/cohorts/${later.id}/bookings`)).json();
    expect(list.map((x: { email: string; status: string }) => [x.email, x.status])).toEqual([[learner.email, 'pending_payment']]);
    expect((await apiAs(b.app, admin.token)('GET', '/api/v1/me')).json().role).toBe('admin');

    // Signing out on A ends the session on B too: sessions live in the database, not in an instance's memory.
    const session = onA.cookies.get('cc_session')!;
    expect((await onA.post('/sign-out', {}, { fromPage: '/my' })).statusCode).toBe(303);
    onB.cookies.set('cc_session', session);
    expect((await onB.api('GET', '/api/v1/me')).statusCode).toBe(401);
  });

  it('the last place of a cohort booked from both instances at once: one booking wins it, the rest wait in the order they were written', async () => {
    const a = await testApp({ now: '2026-02-01T09:00:00.000Z' });
    const b = await otherInstance(a);
    const admin = await insertUser(a, 'admin');
    const { cohort } = await insertCohort(a, { capacity: 3 });
    const bookOn = (t: TestApp, address: string) =>
      t.app.inject({
        method: 'POST',
        url: `/api/v1/cohorts/${cohort.id}/bookings`,
        payload: { email: address, name: `Name of ${address.split('@')[0]}`, kind: 'standalone' },
        remoteAddress: networkOf(address),
      });
    for (const t of [a, b]) expect((await bookOn(t, email('early'))).json().status).toBe('pending_payment');

    const racers = [...Array(24).keys()].map((i) => ({ on: i % 2 ? b : a, email: email('racer') }));
    const answers = await Promise.all(racers.map((r) => bookOn(r.on, r.email)));
    expect(answers.map((r) => r.statusCode)).toEqual(Array(24).fill(201));
    const docs = answers.map((r) => r.json() as { id: number; status: string; waitlistPosition: number | null });
    expect(docs.filter((d) => d.status === 'pending_payment')).toHaveLength(1);
    expect(docs.filter((d) => d.status === 'waitlisted')).toHaveLength(23);

    // No over-booking, and the order is the order the bookings committed in (their queue numbers): the winner came
    // first, and each waitlisted booking was told the place it still holds.
    const rows = await a.ctx.db.select().from(bookings).where(eq(bookings.cohortId, cohort.id)).orderBy(bookings.queueSeq);
    expect(rows.filter((r) => r.status === 'pending_payment')).toHaveLength(3);
    expect(rows.map((r) => r.queueSeq)).toEqual([...Array(26).keys()].map((i) => i + 1));
    const raced = rows.slice(2);
    expect(raced[0].status).toBe('pending_payment');
    const told = new Map(docs.map((d) => [d.id, d.waitlistPosition]));
    expect(raced.slice(1).map((r) => told.get(r.id))).toEqual([...Array(23).keys()].map((i) => i + 1));
    for (const t of [a, b]) {
      const waiting = (await apiAs(t.app, admin.token)('GET', `/api/v1/cohorts/${cohort.id}/bookings?status=waitlisted`)).json();
      expect(waiting.map((w: { id: number; waitlistPosition: number }) => [w.id, w.waitlistPosition])).toEqual(raced.slice(1).map((r, i) => [r.id, i + 1]));
    }
  }, 60_000);

  it('with the workers of two instances on, each week opening, reminder and digest goes out once, and each tick’s job runs on one instance', async () => {
    const { smtp, transport } = await smtpServer();
    const a = await testApp({ now: '2026-03-10T12:00:00.000Z' });
    const { cohort, instructor } = await insertCohort(a, { startDate: '2026-03-16' });
    const learners = [await enrolLearner(a, cohort.id, 'Ann Archivist'), await enrolLearner(a, cohort.id, 'Ben Cataloguer'), await enrolLearner(a, cohort.id, 'Cy Curator')];
    const [b, c] = [await otherInstance(a, { workers: true, mailTransport: transport }), await otherInstance(a, { workers: true, mailTransport: transport })];
    // A job registered on both instances, as every module's jobs are: which instance ran it, at which instant.
    const runs: Array<{ on: string; at: number }> = [];
    b.ctx.scheduler.register('test:probe', (now) => void runs.push({ on: 'b', at: now.getTime() }));
    c.ctx.scheduler.register('test:probe', (now) => void runs.push({ on: 'c', at: now.getTime() }));
    /** One tick of both instances' timers at the same instant, then the outbox drained by their workers. */
    const ticks: number[] = [];
    const tick = async (at: string) => {
      a.clock.set(at);
      ticks.push(a.clock.now().getTime());
      await Promise.all([b.ctx.scheduler.runDue(), c.ctx.scheduler.runDue(), b.ctx.scheduler.runDue(), c.ctx.scheduler.runDue()]);
      await until('the outbox to be delivered', async () => (await pendingMail(a)) === 0);
    };
    const received = (subject: RegExp) => smtp.received.filter((m) => subject.test(m.subject ?? '')).map(to).sort();
    const everyLearner = learners.map((l) => l.email.toLowerCase()).sort();

    await tick('2026-03-16T07:59:59.000Z');
    expect(received(/^Week \d is open/)).toEqual([]);
    await tick('2026-03-16T08:00:00.000Z');
    await tick('2026-03-16T08:00:10.000Z');
    expect(received(/^Week 1 is open/)).toEqual(everyLearner);
    expect(await a.ctx.db.$count(weekOpenNotices, eq(weekOpenNotices.cohortId, cohort.id))).toBe(1);

    // The first live session's reminders, a day and an hour before.
    const [first] = await a.ctx.db.select().from(liveSessions).where(eq(liveSessions.cohortId, cohort.id)).orderBy(liveSessions.startsAt).limit(1);
    await tick(new Date(first.startsAt.getTime() - 24 * 3_600_000).toISOString());
    await tick(new Date(first.startsAt.getTime() - 3_600_000).toISOString());
    await tick(new Date(first.startsAt.getTime() - 3_590_000).toISOString());
    expect(received(/^Reminder: /)).toEqual(everyLearner);
    expect(received(/^Starting soon: /)).toEqual(everyLearner);

    // A post written through one instance; the next morning's digest goes once to each other member.
    const asAnn = apiAs(b.app, learners[0].token);
    const thread = await asAnn('POST', `/api/v1/cohorts/${cohort.id}/threads`, { title: 'Week one', body: 'Who else is reading chapter 2?' });
    expect(thread.statusCode).toBe(201);
    const day = new Date(a.clock.now().getTime() + 86_400_000).toISOString().slice(0, 10);
    await tick(`${day}T07:00:00.000Z`);
    await tick(`${day}T07:00:20.000Z`);
    const digests = received(/new posts? in your cohort discussions$/);
    expect(digests).toEqual([learners[1].email, learners[2].email, instructor.email].map((e) => e.toLowerCase()).sort());
    const digestRows = await a.ctx.db.select().from(discussionDigests).where(inArray(discussionDigests.userId, learners.map((l) => l.user.id)));
    expect(new Set(digestRows.map((r) => `${r.userId}:${r.day}`)).size).toBe(digestRows.length);

    // Every message once: no two deliveries of one outbox row.
    const ids = smtp.received.map((m) => String(m.headers.get('x-cohort-outbox-id')));
    expect(new Set(ids).size).toBe(ids.length);
    // Each instant's tick ran the job on one instance only, though both ticked (twice) at each.
    const instants = [...new Set(runs.map((r) => r.at))];
    expect(instants).toEqual(expect.arrayContaining(ticks));
    for (const at of instants) expect(new Set(runs.filter((r) => r.at === at).map((r) => r.on)).size, new Date(at).toISOString()).toBe(1);
  }, 60_000);

  it('the outbox workers of two instances deliver each queued message exactly once between them', async () => {
    const a = await testApp();
    const one = await smtpServer();
    const two = await smtpServer();
    const b = await otherInstance(a, { workers: true, mailTransport: one.transport });
    const c = await otherInstance(a, { workers: true, mailTransport: two.transport });
    await a.ctx.database.transaction(async (tx) => {
      for (let i = 0; i < 60; i++) {
        await a.ctx.mailer.enqueue(tx, { to: `reader${i}@library.test`, subject: `Message ${i}`, template: 'sign-in-link', data: { name: 'Reader', url: `http://x/${i}`, minutes: 15 } });
      }
    });
    // What a commit on each instance does: wake its worker.
    b.ctx.mailer.kick();
    c.ctx.mailer.kick();
    await until('every message to be sent', async () => (await pendingMail(a)) === 0 && one.smtp.received.length + two.smtp.received.length >= 60);
    // Both stop (a send in flight finishes) before the count: a message sent twice would show now.
    await b.close();
    await c.close();
    const idsOf = (s: TestSmtp) => s.received.map((m) => Number(m.headers.get('x-cohort-outbox-id')));
    const all = [...idsOf(one.smtp), ...idsOf(two.smtp)];
    expect(all).toHaveLength(60);
    expect(new Set(all).size).toBe(60);
    // They shared the work: each instance's worker sent some.
    expect(idsOf(one.smtp).length).toBeGreaterThan(0);
    expect(idsOf(two.smtp).length).toBeGreaterThan(0);
    const rows = await a.ctx.db.select().from(outbox);
    expect(rows.every((r) => r.status === 'sent' && r.attempts === 1 && r.leaseOwner === null)).toBe(true);
  }, 60_000);
});

describe('migrations', () => {
  it('two instances opening a fresh, empty database at the same moment both start, and each migration is applied once', async () => {
    const journal = (dir: string) => (JSON.parse(readFileSync(join(dir, 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] }).entries.length;
    let target: string;
    let applied: (database: AppDatabase) => Promise<number>;
    if (onPostgres) {
      // An empty database (not a copy of the migrated template), named so that a stopped run's leftovers are dropped.
      const name = `cc_t_${process.pid}_fresh_${Date.now()}`;
      const admin = new pg.Client({ connectionString: databaseUrl('postgres') });
      await admin.connect();
      await admin.query(`CREATE DATABASE "${name}"`);
      await admin.end();
      cleanups.push(() => dropTestDatabase(name));
      target = databaseUrl(name);
      applied = async () => {
        const client = new pg.Client({ connectionString: target });
        await client.connect();
        try {
          return Number((await client.query('select count(*) n from drizzle.__drizzle_migrations')).rows[0].n);
        } finally {
          await client.end();
        }
      };
    } else {
      const dir = mkdtempSync(join(tmpdir(), 'cc-fresh-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      target = join(dir, 'fresh.db');
      applied = async (database) => (sqliteOf(database).connections.writer.prepare('select count(*) n from __drizzle_migrations').get() as { n: number }).n;
    }
    const both = await Promise.all([openDatabase(target), openDatabase(target)]);
    for (const database of both) cleanups.push(() => database.close());
    const expected = journal(onPostgres ? postgresMigrationsDir : sqliteMigrationsDir);
    expect(await applied(both[0])).toBe(expected);
    // Both work on the schema they share.
    expect(await both[0].db.$count(outbox)).toBe(0);
    expect(await both[1].db.$count(bookings)).toBe(0);
    // A third start later applies nothing.
    const third = await openDatabase(target);
    cleanups.push(() => third.close());
    expect(await applied(third)).toBe(expected);
  });
});

/**
 * A TCP proxy between the app and PostgreSQL, which a test can cut (every connection dropped, new ones refused) or
 * partition (bytes held both ways, as a network that drops packets while TCP keeps retransmitting), then restore.
 */
class FaultyLink {
  private server: Server | null = null;
  private sockets = new Set<Socket>();
  private held: Array<() => void> | null = null;
  port = 0;
  constructor(private target: { host: string; port: number }) {}

  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.target);
      for (const [from, into] of [[client, upstream], [upstream, client]] as const) {
        this.sockets.add(from);
        from.on('close', () => this.sockets.delete(from));
        from.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
        from.on('data', (chunk) => (this.held ? this.held.push(() => into.write(chunk)) : into.write(chunk)));
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  /** The outage: the database's address stops answering, and the connections open to it break. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  /** Nothing gets through, and nothing says so: no reset, no refusal. */
  partition(): void {
    this.held ??= [];
  }

  /** The network is back: what was held arrives, in order. */
  heal(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const send of held) send();
  }
}

/** Fail rather than wait: a request during an outage must be answered, not hang. */
function answered<T>(p: Promise<T>, ms = 8_000): Promise<T> {
  return Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref())]);
}

describe.skipIf(!onPostgres)('PostgreSQL outage', () => {
  it('while PostgreSQL cannot be reached, health, API and pages answer 503 at once, health answers through a partition too, and the app recovers by itself', async () => {
    const made = await createTestDatabase();
    cleanups.push(() => dropTestDatabase(made.name));
    const server = new URL(postgresUrl!);
    const proxy = new FaultyLink({ host: server.hostname, port: Number(server.port) });
    await proxy.start();
    cleanups.push(() => proxy.cut());
    const viaProxy = new URL(made.url);
    viaProxy.port = String(proxy.port);
    const dir = mkdtempSync(join(tmpdir(), 'cc-outage-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const app: FastifyInstance = await buildApp({ databaseUrl: viaProxy.toString(), mailTransport: createEmlTransport(dir), baseUrl: 'http://cohort.test', workers: false });
    cleanups.push(() => app.close());
    cleanups.push(() => proxy.heal());
    const { token } = await app.cc.people.createApiToken(email('admin'));
    const api = () => app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${token}` } });
    const page = () => app.inject({ method: 'GET', url: '/courses/strategic-planning' });
    // Warm: the pool holds open connections, which the cut breaks.
    await Promise.all([api(), api(), page()]);
    expect((await app.inject('/healthz')).statusCode).toBe(200);

    await proxy.cut();
    for (let round = 0; round < 2; round++) {
      const health = await answered(app.inject('/healthz'));
      expect(health.statusCode).toBe(503);
      expect(health.headers['retry-after']).toBe('30');
      expect(health.json()).toMatchObject({ status: 'unavailable', engine: 'postgres' });
      const res = await answered(api());
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.headers['retry-after']).toBe('30');
      expect(res.json()).toMatchObject({ status: 503, code: 'CC_DATABASE_UNAVAILABLE' });
      const write = await answered(
        app.inject({ method: 'POST', url: '/api/v1/cohorts/1/bookings', payload: { email: 'x@library.test', name: 'X', kind: 'standalone' }, remoteAddress: '10.9.9.9' }),
      );
      expect(write.statusCode).toBe(503);
      const html = await answered(page());
      expect(html.statusCode).toBe(503);
      expect(html.headers['content-type']).toContain('text/html');
      expect(html.body).toContain('The database cannot be reached just now.');
    }

    await proxy.start();
    await until('the health check to pass again', async () => (await app.inject('/healthz')).statusCode === 200, 10_000);
    expect((await api()).json()).toMatchObject({ role: 'learner' });
    expect((await page()).statusCode).toBe(200);

    // A partition: the health check still answers (503) within a few seconds, so a load balancer can take the instance
    // out; a request caught in it is answered once the network is back, and nothing is lost.
    await Promise.all([api(), api(), page()]);
    proxy.partition();
    const caught = api();
    for (let round = 0; round < 2; round++) {
      const health = await answered(app.inject('/healthz'));
      expect(health.statusCode).toBe(503);
      expect(health.json()).toMatchObject({ status: 'unavailable', engine: 'postgres' });
    }
    proxy.heal();
    expect((await answered(caught)).json()).toMatchObject({ role: 'learner' });
    await until('the health check to pass after the partition', async () => (await app.inject('/healthz')).statusCode === 200, 10_000);
    expect((await page()).statusCode).toBe(200);
  }, 60_000);
});

describe('configuration for several instances', () => {
  const cwd = () => {
    const dir = mkdtempSync(join(tmpdir(), 'cc-config-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  };

  it('with DATABASE_URL, the instances must be given one SESSION_SECRET: starting without it fails, naming it', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://cohort@db.internal:5432/cohort' }, cwd())).toThrow(/SESSION_SECRET is required with DATABASE_URL/);
    const secret = 's'.repeat(32);
    expect(loadConfig({ DATABASE_URL: 'postgresql://cohort@db.internal/cohort', SESSION_SECRET: secret }, cwd())).toMatchObject({
      databaseUrl: 'postgresql://cohort@db.internal/cohort',
      sessionSecret: secret,
    });
    // One SQLite instance may still make its own secret up.
    expect(loadConfig({}, cwd()).databaseUrl).toBeNull();
  });

  it('a DATABASE_URL that is not PostgreSQL is refused, without echoing its password', () => {
    for (const url of ['mysql://cohort:hunter2@db.internal/cohort', 'sqlite:data/cohort.db', 'data/cohort.db']) {
      let message = '';
      try {
        loadConfig({ DATABASE_URL: url, SESSION_SECRET: 's'.repeat(32) }, cwd());
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/^DATABASE_URL must be a postgres:\/\/ URL/);
      expect(message).not.toContain('hunter2');
    }
  });
});

describe('the PostgreSQL schema', () => {
  const sqliteTables = Object.entries(schema).filter(([, v]) => is(v, SQLiteTable)) as Array<[string, SQLiteTable]>;

  it('server/schema-postgres.tables.ts exports a PostgreSQL table for every table of the schema, so drizzle-kit misses none', () => {
    const exported = Object.entries(pgTableExports);
    expect(exported.map(([k]) => k).sort()).toEqual(Object.keys(postgresTables).sort());
    expect(Object.keys(postgresTables).sort()).toEqual(sqliteTables.map(([k]) => k).sort());
    for (const [key, table] of sqliteTables) {
      const pgTable = (pgTableExports as Record<string, unknown>)[key];
      expect(is(pgTable, PgTable), key).toBe(true);
      const sqlite = sqliteTableConfig(table);
      const pgConfig = pgTableConfig(pgTable as PgTable);
      expect(pgConfig.name).toBe(sqlite.name);
      expect(pgConfig.columns.map((c) => c.name)).toEqual(sqlite.columns.map((c) => c.name));
      expect(pgConfig.indexes.map((i) => i.config.name).sort()).toEqual(sqlite.indexes.map((i) => i.config.name).sort());
    }
  });

  it.skipIf(!onPostgres)('the migrated PostgreSQL database has every table and column of the schema', async () => {
    const made = await createTestDatabase();
    cleanups.push(() => dropTestDatabase(made.name));
    const client = new pg.Client({ connectionString: made.url });
    await client.connect();
    const { rows } = await client.query<{ table_name: string; column_name: string }>("select table_name, column_name from information_schema.columns where table_schema = 'public'");
    await client.end();
    const have = new Set(rows.map((r) => `${r.table_name}.${r.column_name}`));
    const missing = sqliteTables.flatMap(([, table]) => {
      const config = sqliteTableConfig(table);
      return config.columns.map((c) => `${config.name}.${c.name}`).filter((name) => !have.has(name));
    });
    expect(missing).toEqual([]);
  });
});
