// Who a request is and what they may open, kept in memory and dropped whenever it could have changed.
//
// Every signed-in request first asks whose session its cookie is, and most then ask the person's role in the cohort
// they open. Answered from the database, those lookups (with mapping their rows and building the cohort's timeline)
// were about a quarter of the request thread's time while people post: every commit of the post writer thread empties
// this connection's page cache, so each lookup read its pages again.
//
// Triggers (migrations/0014_access-version-triggers.sql) bump one counter, scope 'a' in cache_versions, inside the
// writing transaction of anything these answers are made of: people, their sessions and API tokens, cohorts,
// enrolments and instructors. Every lookup reads that counter (one row) and uses an answer kept under the same count,
// else asks the database and keeps the answer. No code path (a module, the CLI, another process) can change who someone
// is or what they may open without the next request seeing it. Posts, submissions and the rest never move the counter.
//
// What is kept is an answer read after the counter was: if a change commits in between, the counter has moved past
// the kept one and the next lookup drops it. Inside a transaction nothing is kept or served from memory, since the
// transaction may roll back a change it made and the counter with it.
import { eq } from 'drizzle-orm';
import type Database from 'better-sqlite3';
import type { Db } from './db.js';
import { cacheVersions } from './cache-schema.js';

/**
 * Answers each memo keeps at most: every session and cohort role of a national programme's busiest hours (the bench's
 * install has 10,000 learners). Measured on the heap: a kept session about 550 bytes (its user and key included), a
 * role about 120, so a full session memo is about 11 MB.
 */
export const ACCESS_MEMO_ENTRIES = 20_000;

/** Answers kept under the access counter: `get` returns the kept answer or loads, keeps and returns a new one. */
export interface AccessMemo<V extends object> {
  /** The answer for `key`; `load` asks the database (undefined: no answer, which is never kept). */
  get(key: string | number, load: () => V | undefined): V | undefined;
  /** How many answers are kept (tests). */
  size(): number;
}

export interface AccessCache {
  /** A memo of at most `maxEntries` answers (the oldest is dropped first); kept answers are frozen. */
  memo<V extends object>(maxEntries: number): AccessMemo<V>;
  /** The counter as the database has it now. */
  version(): number;
}

export function createAccessCache(db: Db, sqlite: Database.Database): AccessCache {
  const versionStmt = db.select({ v: cacheVersions.version }).from(cacheVersions).where(eq(cacheVersions.scope, 'a')).prepare();
  const version = () => versionStmt.get()?.v ?? 0;

  return {
    version,
    memo<V extends object>(maxEntries: number): AccessMemo<V> {
      const entries = new Map<string | number, V>();
      let keptAt = -1;
      return {
        get(key, load) {
          if (sqlite.inTransaction) return load();
          const now = version();
          if (now !== keptAt) {
            entries.clear();
            keptAt = now;
          }
          const kept = entries.get(key);
          if (kept !== undefined) return kept;
          const value = load();
          if (value === undefined) return undefined;
          if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
          // Shared by every request that asks: frozen, so no caller can change what the next one is told.
          entries.set(key, Object.freeze(value));
          return value;
        },
        size: () => entries.size,
      };
    },
  };
}
