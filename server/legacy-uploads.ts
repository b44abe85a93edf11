// Upgrading a SQLite install from before uploads were kept in the database: files that lived in `uploads/` beside the
// database file are read into `file_contents` once, in one transaction, and the folder is then renamed
// `uploads.imported` (kept, not deleted: it is the only copy until the next backup).
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';

/**
 * Run inside the migration's transaction (its write lock held). Returns what to do once it has committed: set the
 * folder aside.
 */
export function importLegacyUploads(conn: Database.Database, databaseDir: string): (() => void) | null {
  const dir = join(databaseDir, 'uploads');
  if (!existsSync(dir)) return null;
  const missing = conn
    .prepare('SELECT f.id FROM submission_files f WHERE NOT EXISTS (SELECT 1 FROM file_contents c WHERE c.file_id = f.id)')
    .all() as Array<{ id: string }>;
  const insert = conn.prepare('INSERT INTO file_contents (file_id, content) VALUES (?, ?) ON CONFLICT (file_id) DO NOTHING');
  for (const { id } of missing) {
    const path = join(dir, id);
    if (/^[0-9a-f]{32}$/.test(id) && existsSync(path)) insert.run(id, readFileSync(path));
  }
  return () => renameSync(dir, join(databaseDir, existsSync(join(databaseDir, 'uploads.imported')) ? `uploads.imported-${Date.now()}` : 'uploads.imported'));
}
