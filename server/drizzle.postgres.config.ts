// drizzle-kit for PostgreSQL: generates migrations/postgres from the same schema, as derived in schema-postgres.ts.
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './server/schema-postgres.tables.ts',
  out: './migrations/postgres',
});
