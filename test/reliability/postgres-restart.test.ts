// PostgreSQL stopped and started again under write load (issue #21): while the database is down every request is
// answered at once with a 503 problem naming it (never a 500, never a hang); when it is back, the same app instance
// recovers by itself; and no write it acknowledged (2xx) is lost, through clean restarts (pg_ctl stop -m fast) and
// crashes of the database server (-m immediate). The server is the test's own, as stopping the suite's server would
// break every other test file running beside this one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../server/app.js';
import { createEmlTransport } from '../../server/mailer.js';
import { onPostgres } from '../helpers/engine.js';
import { startChild, type ChildServer } from './helpers/child.js';
import { postgresBin, startCluster, type Cluster } from './helpers/pg-cluster.js';
import { runSeed, seeded } from './helpers/random.js';
import { postgresStoreAt, type Store } from './helpers/store.js';
import { WriteLoad } from './helpers/write-load.js';

const bin = postgresBin();
const MODES = ['fast', 'immediate', 'fast', 'immediate'] as const;
const WRITERS = 6;
const DOWN_MS = 3000;
const seed = runSeed();
const rand = seeded(seed);

let dir: string;
let cluster: Cluster;
let store: Store;
let load: WriteLoad;
let server: ChildServer | undefined;

const until = async (what: string, ok: () => boolean, ms: number) => {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

// On the SQLite run there is no database server to restart; this runs in npm run test:postgres.
describe.skipIf(!onPostgres || !bin)(`PostgreSQL restarted under load (seed ${seed})`, () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cc-pgrestart-'));
    cluster = await startCluster(bin!);
    const app = await buildApp({ databaseUrl: cluster.url, mailTransport: createEmlTransport(join(dir, 'mail')), workers: false });
    load = await WriteLoad.seed(app.cc, WRITERS, rand);
    await app.close();
    store = await postgresStoreAt(cluster.url);
    server = await startChild({ databaseUrl: cluster.url, mailDir: join(dir, 'mail') });
  }, 120_000);

  afterAll(async () => {
    await server?.kill();
    await store?.drop();
    await cluster?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`answers 503 while the database is down, recovers by itself, and loses no acknowledged write (${MODES.join(', ')})`, async () => {
    const baseUrl = server!.baseUrl;
    for (const [round, mode] of MODES.entries()) {
      let stop = false;
      const writers = Array.from({ length: WRITERS }, (_, w) => load.write(baseUrl, w, `r${round}`, () => stop));
      const ackedAtStart = load.stats.acked;
      await until('writes before the restart', () => load.stats.acked >= ackedAtStart + 30, 30_000);

      await cluster.stop(mode);
      const downAt = performance.now();
      await new Promise((r) => setTimeout(r, DOWN_MS));
      const upAt = performance.now();
      await cluster.start();
      const ackedAtUp = load.stats.acked;
      await until('writes acknowledged again after the restart', () => load.stats.acked >= ackedAtUp + 30, 30_000).catch((err) => {
        const after = load.sent.filter((s) => s.at >= upAt);
        const statuses = after.reduce<Record<number, number>>((n, s) => ({ ...n, [s.status]: (n[s.status] ?? 0) + 1 }), {});
        throw new Error(`${(err as Error).message}: ${JSON.stringify({ stats: load.stats, statuses, stderr: server!.stderr().slice(-2000) })}`);
      });
      const recoveredAt = performance.now();
      stop = true;
      await Promise.all(writers);

      // Requests sent once the server was down, until it was started again: answered, as 503s, within moments.
      const whileDown = load.sent.filter((s) => s.at >= downAt + 200 && s.at + s.ms <= upAt);
      expect(whileDown.length, 'requests sent while the database was down').toBeGreaterThan(WRITERS);
      expect(whileDown.filter((s) => s.status !== 503), 'answers other than 503 while down').toEqual([]);
      const slowest = Math.max(...whileDown.map((s) => s.ms));
      expect(slowest, 'slowest answer while down (ms)').toBeLessThan(2500);
      expect(load.stats.unanswered, 'requests the app never answered').toBe(0);

      await store.reconnect();
      await load.verify(baseUrl, store);
      console.log(
        `[pg-restart] round ${round + 1} (${mode}): ${whileDown.length} requests while down, all 503, slowest ${slowest.toFixed(0)} ms; recovered ${((recoveredAt - upAt) / 1000).toFixed(1)} s after the start command`,
      );
    }
    await load.verify(baseUrl, store, { everything: true });
    expect(await store.integrity()).toBe('ok');
    const health = await fetch(`${baseUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(server!.stderr()).not.toMatch(/"level":60/);
    const { acked, unavailable, byKind } = load.stats;
    console.log(`[pg-restart] seed ${seed}: ${MODES.length} restarts, ${acked} acknowledged writes all present (${JSON.stringify(byKind)}), ${unavailable} 503 answers`);
  });
});
