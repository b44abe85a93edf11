// The CLI: user add, token create, course import / export, backup — on the same config, database and services as the server.
import { parseArgs } from 'node:util';
import { buildApp } from './app.js';
import { appOptions, loadConfig } from './config.js';
import { ROLES, type Role } from '../modules/people/schema.js';
import { ContentError } from '../modules/courses/content.js';

const USAGE = `usage:
  npm run cli -- user add --email E --role admin|instructor|learner [--name N]
  npm run cli -- token create --email E
  npm run cli -- course import DIR [--note TEXT]      (DIR is one course folder, named by its slug)
  npm run cli -- course export SLUG DIR [--version N]
  npm run cli -- backup PATH
  npm run cli -- certificates rotate-key              (new certificates are signed by a new key; old ones still verify)`;

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { email: { type: 'string' }, role: { type: 'string' }, name: { type: 'string' }, note: { type: 'string' }, version: { type: 'string' } },
  });
  const [noun, verb] = positionals;
  const config = loadConfig();
  // The worker is not started: mail the CLI's changes queue is sent by the server.
  const app = await buildApp({ ...appOptions(config), workers: false });
  try {
    const ctx = app.cc;
    if (noun === 'user' && verb === 'add') {
      if (!values.email) fail('--email is required');
      const role = (values.role ?? 'learner') as Role;
      if (!ROLES.includes(role)) fail(`--role must be one of ${ROLES.join(', ')}`);
      const user = await ctx.people.upsert({ email: values.email, role, name: values.name });
      process.stdout.write(JSON.stringify({ id: user.id, email: user.email, name: user.name, role: user.role }, null, 2) + '\n');
    } else if (noun === 'token' && verb === 'create') {
      if (!values.email) fail('--email is required');
      const existing = await ctx.people.findByEmail(values.email);
      if (!existing) fail(`no user ${values.email}; create one with "user add" first`);
      const { token } = await ctx.people.createApiToken(values.email);
      process.stdout.write(`API token for ${existing.email} (shown once; store it safely):\n${token}\n`);
    } else if (noun === 'course' && verb === 'import') {
      const dir = positionals[2];
      if (!dir) fail('course import needs a course folder');
      const { slug, version } = await ctx.courses.importFolder(dir, { userId: null, note: values.note ?? null });
      process.stdout.write(`published ${slug} version ${version} (cohorts that have not started follow it)\n`);
    } else if (noun === 'course' && verb === 'export') {
      const [, , slug, dir] = positionals;
      if (!slug || !dir) fail('course export needs a slug and a folder');
      const version = values.version === undefined ? undefined : Number(values.version);
      if (version !== undefined && !(Number.isInteger(version) && version > 0)) fail('--version must be a version number');
      const done = await ctx.courses.exportFolder(slug, dir, version);
      process.stdout.write(`wrote ${slug} version ${done.version} (${done.files} files) to ${dir}\n`);
    } else if (noun === 'certificates' && verb === 'rotate-key') {
      const { retired, active } = await ctx.certificates.rotateKey();
      process.stdout.write(`certificates are now signed by ${active.did}${retired ? ` (retired ${retired.did}, which still verifies what it signed)` : ''}\n`);
    } else if (noun === 'backup') {
      const target = verb;
      // PostgreSQL has its own tool for a consistent copy of a live database; the CLI says how, and writes nothing.
      if (ctx.database.engine === 'postgres') fail('On PostgreSQL, back up with pg_dump: pg_dump --format=custom --file=cohort.dump "$DATABASE_URL" (restore into an empty database with pg_restore --dbname="$DATABASE_URL" cohort.dump).');
      if (!target) fail('backup needs a target path');
      await ctx.database.backup(target);
      process.stdout.write(`backed up ${config.databasePath} to ${target}\n`);
    } else {
      fail(`unknown command: ${positionals.join(' ') || '(none)'}`);
    }
  } catch (err) {
    // A course folder with mistakes: every problem, one per line, naming its file and field.
    if (err instanceof ContentError) fail(err.message);
    const e = err as { statusCode?: number; message: string };
    if (e.statusCode && e.statusCode < 500) fail(e.message);
    throw err;
  } finally {
    await app.close();
  }
}

await main(process.argv.slice(2));
