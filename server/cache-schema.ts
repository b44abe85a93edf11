// Infrastructure tables: versions of cached page data, bumped by triggers (see migrations/0009_cache-version-triggers.sql).
import { sqliteTable, integer, text } from 'drizzle-orm/sqlite-core';

/**
 * One counter per scope that a cached page depends on: `c:<cohort id>` (anything in one cohort), `u:<user id>` (one
 * person's own marks, such as which posts they have read) and `g` (people's names and time zones, the signing key).
 * Triggers on every table that pages read bump the counter inside the writing transaction, so no code path (a module,
 * the CLI, another process) can change what a page shows without its cached copy going stale. Scope `a` (who someone
 * is and their roles: people, sessions, API tokens, cohorts, enrolments, instructors) guards the sessions and roles
 * kept in memory (access-cache.ts, migrations/0014_access-version-triggers.sql).
 */
export const cacheVersions = sqliteTable('cache_versions', {
  scope: text('scope').primaryKey(),
  version: integer('version').notNull(),
});
