// Folders resolved from the package root, so paths hold whether run from source or elsewhere.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding package.json: one up from server/ in the sources, two up from dist/server/ once compiled. */
function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(resolve(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export const packageRoot = findPackageRoot(dirname(fileURLToPath(import.meta.url)));
export const sqliteMigrationsDir = resolve(packageRoot, 'migrations', 'sqlite');
export const postgresMigrationsDir = resolve(packageRoot, 'migrations', 'postgres');
export const viewsDir = resolve(packageRoot, 'views');
export const publicDir = resolve(packageRoot, 'public');
export const defaultContentDir = resolve(packageRoot, 'content');
