// Two instances behind Debian's nginx, as deploy/nginx.conf sets them up (issue #21): the real nginx, run with that file
// (its ports, certificate and log paths changed), in front of two app instances on one database and clock, over TLS.
// Requests alternate between the instances; a learner signs in on one and works on the other; the app counts each
// client by the address nginx forwards; a stopped or dying instance's requests go to the other, writes never twice.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { count, eq } from 'drizzle-orm';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { fileContents } from '../../modules/assignments/schema.js';
import { threads } from '../../modules/discussions/schema.js';
import { signInLinks } from '../../modules/people/schema.js';
import { SIGN_IN_LIMIT_PER_IP } from '../../modules/people/service.js';
import { multipartBody, PDF_BYTES } from '../assignments/helpers.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { email, enrolLearner, insertCohort } from '../helpers/factories.js';
import { csrfFrom } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';

const NGINX = '/usr/sbin/nginx';
const hasNginx = existsSync(NGINX);
const DEPLOY_CONF = join(import.meta.dirname, '../../deploy/nginx.conf');

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});
// Whatever happens to the test, no nginx outlives it (the master stops its workers on SIGTERM).
const running = new Set<ChildProcess>();
afterAll(async () => {
  for (const child of running) await stopProcess(child);
});
process.on('exit', () => {
  for (const child of running) if (child.pid) killGroup(child.pid, 'SIGKILL');
});

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    killGroup(child.pid!, 'SIGTERM');
    const timer = setTimeout(() => killGroup(child.pid!, 'SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
  running.delete(child);
}

const portOf = (t: TestApp) => (t.app.server.address() as AddressInfo).port;

/**
 * deploy/nginx.conf with what differs on a test machine: the instances' and nginx's ports, a throwaway certificate, and
 * paths inside the test folder. Each change must match exactly as often as expected, so an edit of the file that the
 * test no longer understands fails here rather than testing something else.
 */
function deriveSite(conf: string, o: { upstreams: [number, number]; httpPort: number; tlsPort: number; cert: string; key: string; dir: string }): string {
  const changes: Array<[RegExp, string, number]> = [
    [/server 127\.0\.0\.1:3001 /g, `server 127.0.0.1:${o.upstreams[0]} `, 1],
    [/server 127\.0\.0\.1:3002 /g, `server 127.0.0.1:${o.upstreams[1]} `, 1],
    [/^[ \t]*listen \[::\]:(?:80|443)\b[^;]*;\n/gm, '', 2],
    [/listen 80;/g, `listen 127.0.0.1:${o.httpPort};`, 1],
    [/listen 443 ssl http2;/g, `listen 127.0.0.1:${o.tlsPort} ssl http2;`, 1],
    [/ssl_certificate [^;]+;/g, `ssl_certificate ${o.cert};`, 1],
    [/ssl_certificate_key [^;]+;/g, `ssl_certificate_key ${o.key};`, 1],
    [/\/var\/log\/nginx\//g, `${o.dir}/`, 2],
    [/root \/var\/www\/html;/g, `root ${o.dir}/acme;`, 1],
  ];
  let site = conf;
  for (const [pattern, replacement, expected] of changes) {
    const found = site.match(pattern)?.length ?? 0;
    if (found !== expected) throw new Error(`deploy/nginx.conf: expected ${expected} match(es) of ${pattern}, found ${found}`);
    site = site.replace(pattern, replacement);
  }
  return site;
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The instances nginx passed the request to, in order ($upstream_addr): empty when nginx answered itself. */
  upstream: number[];
}

interface Deployment {
  a: TestApp;
  b: TestApp;
  baseUrl: string;
  tlsPort: number;
  httpPort: number;
  cert: string;
  /** deploy/nginx.conf's client_max_body_size, in bytes. */
  maxBody: number;
  /** The instance that answered the last request through nginx. */
  last: number | null;
  startNginx(): Promise<void>;
  stopNginx(): Promise<void>;
}

/**
 * Two instances on one database and clock, listening on real ports with TRUST_PROXY=1, the same session secret and a
 * BASE_URL of nginx's https address; then nginx in front of them with the derived deploy/nginx.conf.
 */
async function deployment(): Promise<Deployment> {
  const dir = mkdtempSync(join(tmpdir(), 'cc-nginx-'));
  // As root nginx's workers run as nobody: they must reach the temp folders for bodies it buffers.
  chmodSync(dir, 0o755);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const [tlsPort, httpPort] = [await freePort(), await freePort()];
  const baseUrl = `https://127.0.0.1:${tlsPort}`;

  // buildApp reads TRUST_PROXY when it creates Fastify, as the standalone server does.
  const before = process.env.TRUST_PROXY;
  process.env.TRUST_PROXY = '1';
  let a: TestApp;
  let b: TestApp;
  try {
    a = await createTestApp({ baseUrl });
    cleanups.push(() => a.close());
    b = await createTestApp({ dir: a.dir, clock: a.clock, baseUrl });
    cleanups.push(() => b.close());
  } finally {
    if (before === undefined) delete process.env.TRUST_PROXY;
    else process.env.TRUST_PROXY = before;
  }
  for (const t of [a, b]) await t.app.listen({ host: '127.0.0.1', port: 0 });

  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  // A throwaway certificate for 127.0.0.1, which the visitors trust (ca), in place of certbot's.
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(`openssl could not make a test certificate (Debian: apt-get install openssl): ${(err as Error).message}`);
  }

  const deployConf = readFileSync(DEPLOY_CONF, 'utf8');
  const size = /client_max_body_size (\d+)m;/.exec(deployConf);
  if (!size) throw new Error('deploy/nginx.conf: no client_max_body_size in megabytes');
  writeFileSync(join(dir, 'site.conf'), deriveSite(deployConf, { upstreams: [portOf(a), portOf(b)], httpPort, tlsPort, cert, key, dir }));
  // What Debian's /etc/nginx/nginx.conf gives the site, with this folder for the pid, logs and temp files.
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;
worker_processes 2;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log notice;
events { worker_connections 256; }
http {
  client_body_temp_path ${dir}/client-body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  access_log ${dir}/access.log;
  # The test's own addition: which instance answered (the site adds no headers, so this one is inherited).
  add_header X-Upstream $upstream_addr always;
  include ${dir}/site.conf;
}
`,
  );
  const args = ['-p', dir, '-e', join(dir, 'error.log'), '-c', conf];
  try {
    execFileSync(NGINX, ['-t', ...args], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(`nginx -t refused the derived configuration:\n${(err as { stderr?: Buffer }).stderr?.toString()}`);
  }

  let nginx: ChildProcess | null = null;
  const d: Deployment = {
    a,
    b,
    baseUrl,
    tlsPort,
    httpPort,
    cert: readFileSync(cert, 'utf8'),
    maxBody: Number(size[1]) * 1024 * 1024,
    last: null,
    async startNginx() {
      const child = spawn(NGINX, args, { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
      running.add(child);
      nginx = child;
      let stderr = '';
      child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
      const deadline = Date.now() + 10_000;
      while (!(await accepts(tlsPort)) || !(await accepts(httpPort))) {
        if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}): ${stderr}${readFileSync(join(dir, 'error.log'), 'utf8')}`);
        if (Date.now() > deadline) throw new Error(`nginx did not listen on ${tlsPort} and ${httpPort}: ${stderr}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      d.last = null;
    },
    async stopNginx() {
      if (nginx) await stopProcess(nginx);
      nginx = null;
    },
  };
  cleanups.push(() => d.stopNginx());
  await d.startNginx();
  return d;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * One browser reaching the site through nginx over TLS, from a loopback address of its own (so the address nginx sees,
 * and forwards, is not nginx's 127.0.0.1): a cookie jar, forms from the site's own pages (Origin is BASE_URL's).
 */
class Visitor {
  cookies = new Map<string, string>();
  constructor(
    private d: Deployment,
    readonly from = '127.0.0.2',
  ) {}

  send(method: string, path: string, opts: { headers?: Record<string, string>; body?: string | Buffer; tls?: boolean } = {}): Promise<Answer> {
    const headers: Record<string, string | number> = { ...opts.headers };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (opts.body !== undefined) headers['content-length'] = Buffer.byteLength(opts.body);
    const tls = opts.tls !== false;
    const options = { host: '127.0.0.1', port: tls ? this.d.tlsPort : this.d.httpPort, localAddress: this.from, method, path, headers, agent: false as const };
    return new Promise((resolve, reject) => {
      const req = tls ? https.request({ ...options, ca: this.d.cert }) : http.request(options);
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path}: no answer in 30 s`)));
      req.on('error', reject);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          for (const c of res.headers['set-cookie'] ?? []) {
            const [pair, ...attrs] = c.split(';');
            const [name, value] = [pair.slice(0, pair.indexOf('=')).trim(), pair.slice(pair.indexOf('=') + 1).trim()];
            if (value === '' || attrs.some((x) => /^\s*max-age=0\s*$/i.test(x))) this.cookies.delete(name);
            else this.cookies.set(name, value);
          }
          const addr = String(res.headers['x-upstream'] ?? '');
          const upstream = addr ? addr.split(/,\s*/).map((x) => Number(x.split(':').at(-1))) : [];
          if (upstream.length) this.d.last = upstream.at(-1)!;
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), upstream });
        });
      });
      req.end(opts.body);
    });
  }

  page(path: string): Promise<Answer> {
    return this.send('GET', path);
  }

  /** A form posted from one of the site's pages, url-encoded, with the CSRF token that page gave. */
  form(path: string, fields: Record<string, string>, csrf: string | null): Promise<Answer> {
    const body = new URLSearchParams({ ...(csrf ? { _csrf: csrf } : {}), ...fields }).toString();
    return this.send('POST', path, { body, headers: { 'content-type': 'application/x-www-form-urlencoded', origin: this.d.baseUrl } });
  }

  /** A JSON API call with this browser's session, from the site's pages. */
  api(method: string, path: string, payload?: unknown): Promise<Answer> {
    const headers: Record<string, string> = method === 'GET' ? {} : { origin: this.d.baseUrl };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    return this.send(method, path, { headers, body: payload === undefined ? undefined : JSON.stringify(payload) });
  }
}

/**
 * Make the next request through nginx go to `port`. Round robin alternates (the first test proves it), so when the
 * last answer came from `port`, one health check is sent to the other first. The caller checks where its request went.
 */
async function nextOn(d: Deployment, port: number): Promise<void> {
  if (d.last === null || d.last === port) await new Visitor(d, '127.0.0.1').send('GET', '/healthz');
  if (d.last === port) await new Visitor(d, '127.0.0.1').send('GET', '/healthz');
}

/** Sign in through nginx by the emailed link, as a learner does; the confirmation (which makes the session) lands on `on`. */
async function signIn(d: Deployment, visitor: Visitor, address: string, on: number): Promise<Answer> {
  const asked = await visitor.form('/sign-in', { email: address }, csrfFrom((await visitor.page('/sign-in')).body));
  expect(asked.status).toBe(200);
  const link = /https?:\/\/\S+\/sign-in\/[A-Za-z0-9_-]+/.exec((await d.a.mailsTo(address)).at(-1)?.text ?? '')?.[0];
  // The link in the mail is the public address, nginx's, not an instance's.
  expect(link?.startsWith(`${d.baseUrl}/sign-in/`)).toBe(true);
  const path = new URL(link!).pathname;
  const confirmPage = (await visitor.page(path)).body;
  const token = /name="token" value="([^"]+)"/.exec(confirmPage)?.[1];
  const csrf = csrfFrom(confirmPage);
  await nextOn(d, on);
  const confirmed = await visitor.form('/sign-in/confirm', { token: token! }, csrf);
  expect(confirmed.status).toBe(303);
  expect(confirmed.upstream).toEqual([on]);
  return confirmed;
}

const threadCount = (t: TestApp, cohortId: number) => t.ctx.db.$count(threads, eq(threads.cohortId, cohortId));

describe.skipIf(!hasNginx)(`two instances behind nginx (deploy/nginx.conf)${hasNginx ? '' : `: skipped, ${NGINX} is not installed (apt-get install nginx)`}`, () => {
  it('requests alternate between the two instances, and a learner who signs in on one works on the other: a page, a form and an API write', async () => {
    const d = await deployment();
    const [pa, pb] = [portOf(d.a), portOf(d.b)];
    const { cohort } = await insertCohort(d.a);
    const learner = await enrolLearner(d.a, cohort.id, 'Lena Learner');

    const probe = new Visitor(d);
    const answered: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await probe.send('GET', '/healthz');
      expect(res.status).toBe(200);
      expect(res.upstream).toHaveLength(1);
      answered.push(res.upstream[0]);
    }
    expect(new Set(answered)).toEqual(new Set([pa, pb]));
    for (let i = 1; i < answered.length; i++) expect(answered[i], `request ${i + 1} of ${answered.join(', ')}`).not.toBe(answered[i - 1]);

    // Signed in on A, over https: the session cookie is Secure because BASE_URL is https.
    const browser = new Visitor(d);
    const confirmed = await signIn(d, browser, learner.email, pa);
    const sessionCookie = (confirmed.headers['set-cookie'] ?? []).find((c) => c.startsWith('cc_session='));
    expect(sessionCookie).toMatch(/;\s*Secure/i);
    expect(sessionCookie).toMatch(/;\s*HttpOnly/i);

    // On B: the cohort's page, with the app's own HSTS header once (nginx adds none).
    await nextOn(d, pb);
    const home = await browser.page(`/cohorts/${cohort.id}`);
    expect([home.status, home.upstream]).toEqual([200, [pb]]);
    expect(home.body).toContain(`href="/cohorts/${cohort.id}/weeks/1"`);
    expect(home.headers['strict-transport-security']).toMatch(/^max-age=\d+/);

    // An API write on B with the session A made (its Origin is BASE_URL, nginx's address).
    await nextOn(d, pb);
    const started = await browser.api('POST', `/api/v1/cohorts/${cohort.id}/threads`, { title: 'Reading group', body: 'Started through nginx' });
    expect([started.status, started.upstream]).toEqual([201, [pb]]);
    const threadId = JSON.parse(started.body).id as number;

    // A form on B, with the CSRF token a page of A gave.
    const threadPage = `/cohorts/${cohort.id}/discussions/${threadId}`;
    await nextOn(d, pa);
    const shown = await browser.page(threadPage);
    expect([shown.status, shown.upstream]).toEqual([200, [pa]]);
    await nextOn(d, pb);
    const posted = await browser.form(`${threadPage}/posts`, { body: 'Replied on the other instance' }, csrfFrom(shown.body));
    expect([posted.status, posted.upstream]).toEqual([303, [pb]]);

    // Both writes read back through A.
    await nextOn(d, pa);
    const thread = await browser.api('GET', `/api/v1/threads/${threadId}`);
    expect(thread.upstream).toEqual([pa]);
    expect(JSON.parse(thread.body).posts.map((p: { html: string }) => p.html.replace(/<[^>]+>/g, '').trim())).toEqual(['Started through nginx', 'Replied on the other instance']);
  });

  it('the app counts sign-in requests by the client address nginx forwards, on both instances, and a forged X-Forwarded-For changes nothing', async () => {
    const d = await deployment();
    const [pa, pb] = [portOf(d.a), portOf(d.b)];
    const busy = new Visitor(d, '127.0.0.2');
    const csrf = csrfFrom((await busy.page('/sign-in')).body);
    /** The sign-in form for an address no one has, sent with any extra headers. */
    const ask = (headers: Record<string, string>) =>
      busy.send('POST', '/sign-in', {
        body: new URLSearchParams({ _csrf: csrf!, email: email('nobody') }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: d.baseUrl, ...headers },
      });
    const seen = new Set<number>();
    for (let i = 0; i < SIGN_IN_LIMIT_PER_IP; i++) {
      // Every other request claims to come from elsewhere, as a client dodging the limit would.
      const res = await ask(i % 2 ? { 'x-forwarded-for': `203.0.113.${i}` } : {});
      expect(res.status, `request ${i + 1}`).toBe(200);
      seen.add(res.upstream[0]);
    }
    expect(seen).toEqual(new Set([pa, pb]));

    // Past the limit, on either instance and whatever the header says: refused. Another client is not.
    for (const forged of [{}, { 'x-forwarded-for': '198.51.100.7' }] as Array<Record<string, string>>) {
      const refused = await ask(forged);
      expect(refused.status).toBe(429);
      expect(refused.body).toContain('Too many sign-in requests');
    }
    const neighbour = new Visitor(d, '127.0.0.3');
    expect((await neighbour.form('/sign-in', { email: email('neighbour') }, csrfFrom((await neighbour.page('/sign-in')).body))).status).toBe(200);

    // What the app stored as each request's address: the clients' own, never nginx's or a forged one.
    const byIp = await d.a.ctx.db.select({ ip: signInLinks.ip, n: count() }).from(signInLinks).groupBy(signInLinks.ip).orderBy(signInLinks.ip);
    expect(byIp.map((r) => [r.ip, Number(r.n)])).toEqual([
      ['127.0.0.2', SIGN_IN_LIMIT_PER_IP],
      ['127.0.0.3', 1],
    ]);
  }, 60_000);

  it('with one instance stopped, nginx passes its requests to the other: a page, an API write and a form are still answered', async () => {
    const d = await deployment();
    const [pa, pb] = [portOf(d.a), portOf(d.b)];
    const { cohort } = await insertCohort(d.a);
    const learner = await enrolLearner(d.a, cohort.id, 'Lena Learner');
    const browser = new Visitor(d);
    await signIn(d, browser, learner.email, pb);
    // The cohort's own week threads are there from the start.
    const before = await threadCount(d.a, cohort.id);
    const threadPage = (id: number) => `/cohorts/${cohort.id}/discussions/${id}`;
    await nextOn(d, pa);
    expect((await browser.page(`/cohorts/${cohort.id}`)).upstream).toEqual([pa]);

    // B stops as on SIGTERM (a deploy restarting it): the next request in B's turn finds no one listening.
    await d.b.app.close();
    expect(d.last).toBe(pa);
    // A write no instance received is passed on too: the connection was refused before anything was sent.
    const started = await browser.api('POST', `/api/v1/cohorts/${cohort.id}/threads`, { title: 'While B is down', body: 'Still answered' });
    expect([started.status, started.upstream]).toEqual([201, [pb, pa]]);
    const threadId = JSON.parse(started.body).id as number;
    // B is now out of the rotation: everything goes straight to A.
    const page = await browser.page(threadPage(threadId));
    expect([page.status, page.upstream]).toEqual([200, [pa]]);
    const posted = await browser.form(`${threadPage(threadId)}/posts`, { body: 'A reply' }, csrfFrom(page.body));
    expect([posted.status, posted.upstream]).toEqual([303, [pa]]);
    for (let i = 0; i < 4; i++) expect((await browser.page(`/cohorts/${cohort.id}`)).upstream).toEqual([pa]);
    expect(await threadCount(d.a, cohort.id)).toBe(before + 1);
  });

  it('an instance that dies holding a request: a GET is passed to the other one, a POST is not sent again (502) and written nowhere', async () => {
    const d = await deployment();
    const [pa, pb] = [portOf(d.a), portOf(d.b)];
    const { cohort } = await insertCohort(d.a);
    const learner = await enrolLearner(d.a, cohort.id, 'Lena Learner');
    const browser = new Visitor(d);
    await signIn(d, browser, learner.email, pa);
    const before = await threadCount(d.a, cohort.id);

    // B is replaced by a process that reads each request and dies without answering, as a crashing instance does.
    await d.b.app.close();
    const taken: string[] = [];
    const dying: Server = createServer((socket: Socket) => {
      socket.once('data', (chunk: Buffer) => {
        taken.push(chunk.toString('latin1').split(' ', 2).join(' '));
        socket.destroy();
      });
    });
    await new Promise<void>((resolve) => dying.listen(pb, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => dying.close(() => resolve())));

    // Fresh nginx state each time, so the dying instance is in the rotation: requests until one reaches it.
    const untilTaken = async (send: () => Promise<Answer>) => {
      await d.stopNginx();
      await d.startNginx();
      const answers: Answer[] = [];
      for (let i = 0; i < 4 && !answers.some((r) => r.upstream[0] === pb); i++) answers.push(await send());
      return answers;
    };

    const posts = await untilTaken(() => browser.api('POST', `/api/v1/cohorts/${cohort.id}/threads`, { title: 'Sent once', body: 'Only once' }));
    const lost = posts.find((r) => r.upstream[0] === pb)!;
    expect([lost.status, lost.upstream]).toEqual([502, [pb]]);
    expect(taken).toEqual([`POST /api/v1/cohorts/${cohort.id}/threads`]);
    const written = posts.filter((r) => r.status === 201);
    expect(written.every((r) => r.upstream.length === 1 && r.upstream[0] === pa)).toBe(true);
    expect(await threadCount(d.a, cohort.id)).toBe(before + written.length);

    const gets = await untilTaken(() => browser.page(`/cohorts/${cohort.id}`));
    const passed = gets.find((r) => r.upstream[0] === pb)!;
    expect([passed.status, passed.upstream]).toEqual([200, [pb, pa]]);
    expect(taken.slice(1)).toEqual([`GET /cohorts/${cohort.id}`]);
    expect(gets.every((r) => r.status === 200)).toBe(true);
  });

  it('uploads up to client_max_body_size pass nginx, a file over the assignment’s limit gets the app’s answer, a bigger body nginx’s 413; http is sent to https', async () => {
    const d = await deployment();
    const { cohort } = await insertCohort(d.a);
    const learner = await enrolLearner(d.a, cohort.id, 'Lena Learner');
    // Week 4 of strategic-planning takes a PDF or Word file of up to 10 MB.
    d.a.clock.set(cohort.timeline.weeks[3].opensAt);
    const visitor = new Visitor(d);
    const upload = (bytes: number) => {
      const body = multipartBody({ file: { name: 'plan.pdf', content: Buffer.concat([PDF_BYTES, Buffer.alloc(bytes - PDF_BYTES.length, 0x20)]) } });
      return visitor.send('POST', `/api/v1/cohorts/${cohort.id}/weeks/4/submission/files`, {
        body: body.payload,
        headers: { 'content-type': body.contentType, authorization: `Bearer ${learner.token}` },
      });
    };

    // 3 MiB: over nginx's default of 1 MiB, buffered to nginx's temp folder, and stored whole.
    const small = await upload(3 * 1024 * 1024);
    expect(small.status, small.body).toBe(201);
    expect(small.upstream).toHaveLength(1);
    const [stored] = await d.a.ctx.db.select().from(fileContents).where(eq(fileContents.fileId, JSON.parse(small.body).id));
    expect(Buffer.from(stored.content).length).toBe(3 * 1024 * 1024);

    // 12 MiB: nginx passes it; the app explains its own limit.
    const large = await upload(12 * 1024 * 1024);
    expect(large.status).toBe(413);
    expect(large.upstream).toHaveLength(1);
    expect(large.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(large.body).detail).toMatch(/larger than 10 MB/);

    // Over client_max_body_size: nginx refuses from the Content-Length alone, and no instance hears of it.
    const huge = await new Promise<Answer>((resolve, reject) => {
      const req = https.request(
        { host: '127.0.0.1', port: d.tlsPort, method: 'POST', path: `/api/v1/cohorts/${cohort.id}/weeks/4/submission/files`, ca: d.cert, agent: false,
          headers: { 'content-type': 'multipart/form-data; boundary=x', 'content-length': d.maxBody + 1, authorization: `Bearer ${learner.token}` } },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => {
            req.destroy();
            resolve({ status: res.statusCode!, headers: res.headers, body, upstream: res.headers['x-upstream'] ? [0] : [] });
          });
        },
      );
      req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
      req.flushHeaders();
    });
    expect(huge.status).toBe(413);
    expect(huge.upstream).toEqual([]);
    expect(huge.body).toContain('413 Request Entity Too Large');

    // Plain http: a redirect to the same path on https, from nginx.
    const plain = await visitor.send('GET', `/cohorts/${cohort.id}?tab=plan`, { tls: false });
    expect(plain.status).toBe(301);
    expect(plain.headers.location).toBe(`https://127.0.0.1/cohorts/${cohort.id}?tab=plan`);
    expect(plain.upstream).toEqual([]);
  }, 60_000);
});
