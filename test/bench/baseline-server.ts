// The baseline: a bare Fastify route returning a static body of a requested size, measured in the same run.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
const bodies = new Map<number, string>();
app.get('/static/:bytes', async (request, reply) => {
  const bytes = Math.min(Number((request.params as { bytes: string }).bytes) || 1000, 5_000_000);
  let body = bodies.get(bytes);
  if (!body) {
    body = '<!doctype html><p>' + 'x'.repeat(Math.max(0, bytes - 18));
    bodies.set(bytes, body);
  }
  return reply.type('text/html; charset=utf-8').send(body);
});
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
