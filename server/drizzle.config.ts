// drizzle-kit for SQLite (the default engine): generates migrations/sqlite from every module's schema.
// `npm run db:generate` runs this config and server/drizzle.postgres.config.ts.
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'sqlite',
  schema: './server/schema.ts',
  out: './migrations/sqlite',
});
