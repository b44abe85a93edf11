// The standalone server: reads the environment, listens, shuts down gracefully on SIGTERM/SIGINT.
import { buildApp } from './app.js';
import { appOptions, loadConfig } from './config.js';
import { seedDemo } from './demo.js';

const config = loadConfig();
const app = await buildApp({
  ...appOptions(config),
  cacheTemplates: process.env.NODE_ENV === 'production',
  logger: { level: config.logLevel },
});

if (process.env.DEMO !== '0') await seedDemo(app.cc, app.log);

let closing = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    app.close().then(
      () => process.exit(0),
      (err) => {
        app.log.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  });
}

await app.listen({ port: config.port, host: config.host });
app.log.info(`cohort-course at ${config.baseUrl} (mail: ${config.smtpUrl ? 'SMTP' : config.mailDir})`);
