// Test projects: unit/integration (default), browser journeys (e2e), attack tests (reliability).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // On PostgreSQL (npm run test:postgres), the migrated template every test database is copied from.
    globalSetup: ['test/helpers/postgres-setup.ts'],
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/e2e/**', 'test/reliability/**', 'test/bench/**'] } },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], testTimeout: 120_000, fileParallelism: false } },
      {
        extends: true,
        test: { name: 'reliability', include: ['test/reliability/**/*.test.ts'], testTimeout: 300_000, globalSetup: ['test/helpers/postgres-setup.ts', 'test/reliability/helpers/build.ts'] },
      },
    ],
  },
});
