// TEMPORARY self-check of the write guard and digest (to be deleted).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { insertUser } from '../helpers/factories.js';
import { users } from '../../modules/people/schema.js';
import { WriteGuard } from './helpers/guard.js';
import { changedTables, digest } from './helpers/db-digest.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

it('sees committed writes only', async () => {
  const guard = await WriteGuard.install(t.ctx.database, []);
  await WriteGuard.install(t.ctx.database, []); // twice is harmless
  const d0 = await digest(t.ctx.database);
  expect(Object.keys(d0)).toContain('users');
  expect(Object.keys(d0)).not.toContain('reliability_writes');
  expect(await digest(t.ctx.database)).toEqual(d0);
  await guard.before();
  expect(await guard.changed()).toEqual([]);
  await insertUser(t);
  const got = await guard.changed();
  expect(got).toContain('users');
  const d1 = await digest(t.ctx.database);
  expect(changedTables(d0, d1)).toEqual(got.filter((x) => x !== 'reliability_writes'));
  await guard.before();
  await expect(
    t.ctx.database.transaction(async (tx) => {
      await tx.insert(users).values({ email: 'rolled@back.example', role: 'learner', name: 'x' } as never);
      throw new Error('roll back');
    }),
  ).rejects.toThrow('roll back');
  expect(await guard.changed()).toEqual([]);
  // A statement that matches nothing is no write.
  await t.ctx.database.transaction(async (tx) => {
    await tx.update(users).set({ name: 'nobody' } as never).where(sql`1 = 0`);
  });
  expect(await guard.changed()).toEqual([]);
  expect(await digest(t.ctx.database)).toEqual(d1);
  await t.ctx.database.transaction(async (tx) => {
    await tx.update(users).set({ name: 'somebody' } as never).where(sql`1 = 1`);
  });
  expect(await guard.changed()).toEqual(['users']);
  expect(changedTables(d1, await digest(t.ctx.database))).toEqual(['users']);
  console.log('[selfcheck]', t.ctx.database.engine, got, Object.keys(d0).length, 'tables');
});
