// How `npm start` runs the compiled server, read from package.json, so the benchmarks and the crash tests start the
// very same command a deployment does ("npm run build && NODE_ENV=production node <flags> dist/server/start.js").
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../server/paths.js';

export interface StartCommand {
  /** Node's arguments: its flags, then the entry file (absolute). */
  args: string[];
  /** Variables the script sets (NODE_ENV). */
  env: Record<string, string>;
}

export function startCommand(): StartCommand {
  const script = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  const run = script.split('&&').at(-1)!.trim().split(/\s+/);
  const env: Record<string, string> = {};
  while (run.length > 0 && /^[A-Z_]+=/.test(run[0])) {
    const [name, ...value] = run.shift()!.split('=');
    env[name] = value.join('=');
  }
  if (run.shift() !== 'node') throw new Error(`npm start does not run node: ${script}`);
  const entry = run.pop();
  if (!entry?.endsWith('.js')) throw new Error(`npm start does not end with a compiled entry file: ${script}`);
  return { args: [...run, join(packageRoot, entry)], env };
}
