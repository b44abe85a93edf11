// "Nothing half-written": a refused request must leave every table exactly as it was.
import type Database from 'better-sqlite3';

/**
 * Records which tables each request changed, with temporary triggers on the app's own connection: a write
 * that is rolled back takes its log rows with it, so only committed changes are seen. Cheap enough for every request.
 */
export class WriteGuard {
  private mark = 0;
  constructor(
    private sqlite: Database.Database,
    /**
     * Tables a refused request may still touch: read markers written while re-rendering a page.
     */
    private ignore: string[] = ['thread_reads'],
  ) {
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
  }

  /** Call before each request. */
  before(): void {
    this.mark = (this.sqlite.prepare('select coalesce(max(id), 0) as n from temp.reliability_writes').get() as { n: number }).n;
  }

  /** Tables changed (and committed) since before(), read markers aside. */
  changed(): string[] {
    const rows = this.sqlite.prepare('select distinct tbl from temp.reliability_writes where id > ? order by tbl').all(this.mark) as Array<{ tbl: string }>;
    return rows.map((r) => r.tbl).filter((t) => !this.ignore.includes(t));
  }
}

/** Percent-encode any string for a URL, even one with lone surrogates (sent as U+FFFD, as a browser would). */
export function pctEncode(s: string): string {
  return encodeURIComponent((s as string & { toWellFormed(): string }).toWellFormed());
}
