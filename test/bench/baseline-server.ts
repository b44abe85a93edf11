// The render-only baseline: a bare Fastify app that renders the app's own templates (same Handlebars instance,
// layout, partials and helpers, through the app's views plugin) with fixed data captured from one real request of
// each scenario, and touches no database. Measured in the same run as the real server, with the same connections.
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import views from '../../server/plugins/views.js';

/** scenario name → the template and the whole model the real page was rendered with (written by run.ts). */
const models = JSON.parse(readFileSync(process.env.BASELINE_MODELS!, 'utf8')) as Record<string, { template: string; model: Record<string, unknown> }>;

const app = Fastify({ logger: false });
await app.register(cookie, { secret: 'baseline-secret-baseline-secret-000000' });
await app.register(csrf, { sessionPlugin: '@fastify/cookie' });
await app.register(views, { production: true, prefix: '' });
app.get('/render/:name', async (request, reply) => {
  const entry = models[(request.params as { name: string }).name];
  if (!entry) return reply.code(404).send('no such model');
  return reply.header('cache-control', 'no-store').view(entry.template, entry.model);
});
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
