// "Nothing half-written": a refused request must leave every table exactly as it was.
import type Database from 'better-sqlite3';
import type { AppDatabase } from '../../../server/db.js';
import type { PostgresDatabase } from '../../../server/db-postgres.js';
import { sqliteOf } from '../../helpers/engine.js';

/** Where the guard reads its log: the highest entry so far, and the tables logged after a mark. */
interface WriteLog {
  mark(): Promise<number>;
  since(mark: number): Promise<string[]>;
}

/**
 * Records which tables each request changed, in a log table that triggers write to inside the app's own transactions:
 * a write that is rolled back takes its log rows with it, so only committed changes are seen. Cheap enough for every
 * request. On SQLite the log and triggers are temporary, on the app's writer connection; on PostgreSQL they are
 * permanent objects of the test's own database (every test app has a database of its own).
 */
export class WriteGuard {
  private last = 0;

  private constructor(
    private log: WriteLog,
    /**
     * Tables a refused request may still touch: read markers written while re-rendering a page.
     */
    private ignore: string[],
  ) {}

  /** Install the log and its triggers in `database` (again is harmless), and a guard reading them. */
  static async install(database: AppDatabase, ignore: string[] = ['thread_reads']): Promise<WriteGuard> {
    const log = database.engine === 'postgres' ? await postgresLog(database as PostgresDatabase) : sqliteLog(sqliteOf(database).connections.writer);
    return new WriteGuard(log, ignore);
  }

  /** Call (and await) before each request. */
  async before(): Promise<void> {
    this.last = await this.log.mark();
  }

  /** Tables changed (and committed) since before(), read markers aside. */
  async changed(): Promise<string[]> {
    return (await this.log.since(this.last)).filter((t) => !this.ignore.includes(t));
  }
}

/** Temporary triggers on the app's writer connection: every statement the app commits runs there. */
function sqliteLog(sqlite: Database.Database): WriteLog {
  const tables = sqlite
    .prepare("select name from main.sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like '__drizzle%'")
    .all() as Array<{ name: string }>;
  sqlite.exec('create temp table if not exists reliability_writes (id integer primary key, tbl text not null)');
  for (const { name } of tables) {
    for (const op of ['insert', 'update', 'delete']) {
      sqlite.exec(
        `create temp trigger if not exists "reliability_${name}_${op}" after ${op} on main."${name}" begin insert into reliability_writes (tbl) values ('${name}'); end`,
      );
    }
  }
  const mark = sqlite.prepare('select coalesce(max(id), 0) as n from temp.reliability_writes');
  const since = sqlite.prepare('select distinct tbl from temp.reliability_writes where id > ? order by tbl');
  return {
    async mark() {
      return (mark.get() as { n: number }).n;
    },
    async since(m) {
      return (since.all(m) as Array<{ tbl: string }>).map((r) => r.tbl);
    },
  };
}

const PG_LOG = 'reliability_writes';

/**
 * A log table and statement-level triggers on every table of schema public. Each trigger sees the rows its statement
 * changed (a transition table) and logs only when there were some, as SQLite's row triggers do: an UPDATE or DELETE
 * that matched nothing is no write. The log's ids come from a sequence, so the request's own writes always get ids
 * above a mark taken before it (a sequence hands out increasing numbers to every connection).
 */
async function postgresLog(database: PostgresDatabase): Promise<WriteLog> {
  const client = await database.pool.connect();
  try {
    await client.query('begin');
    await client.query(`create table if not exists public.${PG_LOG} (id bigserial primary key, tbl text not null)`);
    await client.query(`
      create or replace function public.reliability_log_write() returns trigger language plpgsql as $fn$
      begin
        if exists (select 1 from reliability_changed) then
          insert into public.${PG_LOG} (tbl) values (TG_TABLE_NAME);
        end if;
        return null;
      end
      $fn$`);
    const { rows } = await client.query<{ name: string }>(
      `select table_name as name from information_schema.tables
        where table_schema = 'public' and table_type = 'BASE TABLE' and table_name <> $1 and table_name not like '\\_\\_drizzle%'
        order by table_name`,
      [PG_LOG],
    );
    // One trigger per event: a trigger with a transition table may have only one.
    const events = [
      ['insert', 'new'],
      ['update', 'new'],
      ['delete', 'old'],
    ] as const;
    for (const { name } of rows) {
      for (const [op, side] of events) {
        const trigger = `reliability_${op}`;
        await client.query(`drop trigger if exists ${trigger} on public."${name}"`);
        await client.query(
          `create trigger ${trigger} after ${op} on public."${name}" referencing ${side} table as reliability_changed for each statement execute function public.reliability_log_write()`,
        );
      }
    }
    await client.query('commit');
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
  return {
    async mark() {
      const { rows } = await database.pool.query<{ n: string }>(`select coalesce(max(id), 0)::text as n from public.${PG_LOG}`);
      return Number(rows[0].n);
    },
    async since(m) {
      const { rows } = await database.pool.query<{ tbl: string }>(`select tbl from public.${PG_LOG} where id > $1 group by tbl order by tbl collate "C"`, [m]);
      return rows.map((r) => r.tbl);
    },
  };
}

/** Percent-encode any string for a URL, even one with lone surrogates (sent as U+FFFD, as a browser would). */
export function pctEncode(s: string): string {
  return encodeURIComponent((s as string & { toWellFormed(): string }).toWellFormed());
}
