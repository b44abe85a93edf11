// The LTI tests' world: the real app listening on a free port, a stand-in platform registered with it, a cohort.
import { createTestApp, type TestApp } from '../helpers/app.js';
import { freePort } from '../helpers/ports.js';
import { insertCohort, insertUser } from '../helpers/factories.js';
import { apiAs } from '../helpers/http.js';
import { HttpBrowser, formOf, startLtiPlatform, type LaunchSpec, type LtiPlatform } from '../helpers/lti-platform.js';

export interface LtiWorld {
  t: TestApp;
  appUrl: string;
  platform: LtiPlatform;
  admin: Awaited<ReturnType<typeof insertUser>>;
  cohort: Awaited<ReturnType<typeof insertCohort>>['cohort'];
  instructor: { email: string };
  close(): Promise<void>;
}

/** The app on real HTTP, a platform, and (unless told not to) the platform registered by an admin through the API. */
export async function ltiWorld(opts: { register?: boolean } = {}): Promise<LtiWorld> {
  const port = await freePort();
  const appUrl = `http://127.0.0.1:${port}`;
  const t = await createTestApp({ baseUrl: appUrl, now: '2026-03-02T09:00:00.000Z' });
  await t.app.listen({ port, host: '127.0.0.1' });
  const platform = await startLtiPlatform({ now: () => t.clock.now(), toolUrl: appUrl });
  const admin = await insertUser(t, 'admin', 'Ada Admin');
  if (opts.register !== false) {
    const res = await apiAs(t.app, admin.token)('POST', '/api/v1/lti/platforms', platform.registration);
    if (res.statusCode !== 201) throw new Error(`registration failed: ${res.statusCode} ${res.body}`);
  }
  const { cohort, instructor } = await insertCohort(t, { capacity: 10 });
  return {
    t,
    appUrl,
    platform,
    admin,
    cohort,
    instructor,
    async close() {
      await platform.close();
      await t.close();
    },
  };
}

let hints = 0;

/** A whole launch in a browser: login initiation at the tool, the platform's auth page, the form post back. */
export async function launch(w: LtiWorld, spec: LaunchSpec, opts: { browser?: HttpBrowser; beforePost?: (fields: Record<string, string>) => void | Promise<void> } = {}) {
  const browser = opts.browser ?? new HttpBrowser(w.appUrl);
  const hint = `hint-${++hints}`;
  w.platform.prepare(hint, spec);
  const q = new URLSearchParams({ iss: w.platform.issuer, login_hint: hint, target_link_uri: `${w.appUrl}/lti/launch`, client_id: w.platform.clientId, lti_deployment_id: w.platform.deploymentId });
  const login = await browser.get(`${w.appUrl}/lti/login?${q}`);
  if (login.status !== 302) throw new Error(`login initiation answered ${login.status}: ${await login.text()}`);
  const auth = await fetch(login.headers.get('location')!);
  const form = formOf(await auth.text());
  await opts.beforePost?.(form.fields);
  const res = await browser.post(form.action, form.fields, w.platform.url);
  return { res, browser, fields: form.fields, html: await res.text() };
}
