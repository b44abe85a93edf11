// drizzle-kit: generates SQL migrations into migrations/ from every module's schema.
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'sqlite',
  schema: './server/schema.ts',
  out: './migrations',
});
