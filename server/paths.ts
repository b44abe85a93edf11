// Folders resolved from the package root, so paths hold whether run from source or elsewhere.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const migrationsDir = resolve(packageRoot, 'migrations');
export const viewsDir = resolve(packageRoot, 'views');
export const publicDir = resolve(packageRoot, 'public');
export const defaultContentDir = resolve(packageRoot, 'content');
