// A second process for the capacity race: opens the same database (SQLite file or PostgreSQL URL), waits for "go", then books concurrently.
import { join } from 'node:path';
import { buildApp } from '../../server/app.js';
import { ManualClock } from '../../server/clock.js';
import { createEmlTransport } from '../../server/mailer.js';
import { networkOf } from './setup.js';

const [location, mailDir, cohortId, count, tag, now] = process.argv.slice(2);
const app = await buildApp({
  databaseUrl: location,
  clock: new ManualClock(now),
  mailTransport: createEmlTransport(join(mailDir, tag)),
  baseUrl: 'http://cohort.test',
  workers: false,
});

process.on('message', async (msg) => {
  if (msg !== 'go') return;
  const emails = [...Array(Number(count)).keys()].map((i) => `${tag}-${i}@race.test`);
  emails.push('both@race.test');
  const results = await Promise.all(
    emails.map((email) =>
      app.inject({ method: 'POST', url: `/api/v1/cohorts/${cohortId}/bookings`, payload: { email, name: email, kind: 'standalone' }, remoteAddress: networkOf(email) }).then((r) => ({ email, code: r.statusCode, status: r.statusCode === 201 ? (r.json().status as string) : null, detail: r.statusCode === 201 ? null : (r.json().detail as string) })),
    ),
  );
  await app.close();
  process.send!({ results }, () => process.exit(0));
});
process.send!('ready');
