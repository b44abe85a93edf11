// A second process for the issue race: opens the same database (SQLite file or PostgreSQL URL), waits for "go", then fires progress changes.
import { join } from 'node:path';
import { buildApp } from '../../server/app.js';
import { ManualClock } from '../../server/clock.js';
import { createEmlTransport } from '../../server/mailer.js';

const [location, mailDir, cohortId, userId, count, tag, now] = process.argv.slice(2);
const app = await buildApp({
  databaseUrl: location,
  clock: new ManualClock(now),
  mailTransport: createEmlTransport(join(mailDir, tag)),
  baseUrl: 'http://cohort.test',
  workers: false,
});
const ctx = app.cc;

process.on('message', async (msg) => {
  if (msg !== 'go') return;
  let errors = 0;
  for (let i = 0; i < Number(count); i++) {
    try {
      await ctx.database.transaction((tx) => ctx.events.emit(tx, 'progress.changed', { cohortId: Number(cohortId), userId: Number(userId) }));
    } catch {
      errors++;
    }
    // Yield so the other processes' transactions interleave with ours.
    await new Promise((r) => setImmediate(r));
  }
  await app.close();
  process.send!({ errors }, () => process.exit(0));
});
process.send!('ready');
