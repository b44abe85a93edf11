// Handlebars pages: one layout, partials from views/partials, and reply.page() that adds what every page needs.
import { channel } from 'node:diagnostics_channel';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import fp from 'fastify-plugin';
import view from '@fastify/view';
import Handlebars from 'handlebars';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { viewsDir } from '../paths.js';
import { csrfBinding } from './auth.js';

export interface PageModel {
  title: string;
  [key: string]: unknown;
}

declare module 'fastify' {
  interface FastifyReply {
    /** Render views/<template>.hbs inside the main layout with the signed-in user, nav and CSRF token. */
    page(template: string, model: PageModel, status?: number): FastifyReply;
  }
}

/** Shared partials (views/partials/x.hbs as "x") and module panels (views/<module>/panels/x.hbs as "<module>/x"). */
function listPartials(): Record<string, string> {
  const partials: Record<string, string> = {};
  for (const file of readdirSync(join(viewsDir, 'partials'))) {
    if (file.endsWith('.hbs')) partials[file.replace(/\.hbs$/, '')] = `partials/${file}`;
  }
  for (const mod of readdirSync(viewsDir, { withFileTypes: true })) {
    if (!mod.isDirectory()) continue;
    let files: string[] = [];
    try {
      files = readdirSync(join(viewsDir, mod.name, 'panels'));
    } catch {
      continue;
    }
    for (const file of files) if (file.endsWith('.hbs')) partials[`${mod.name}/${file.replace(/\.hbs$/, '')}`] = `${mod.name}/panels/${file}`;
  }
  return partials;
}

/**
 * Every page rendered, with its template and the whole model (layout included), for whoever subscribes: the
 * benchmark's render-only baseline renders the same template with the same data and no database. Nothing is published
 * without a subscriber.
 */
export const pageRendered = channel('cohort-course:page');

const hbs = Handlebars.create();
hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);
// Renders module panels: {{#each panels}}{{> (panelPartial this) model}}{{/each}} is spelled {{panels panels}}.
hbs.registerHelper('panels', function (this: unknown, panels: Array<{ partial: string; model: object }> | undefined, options: Handlebars.HelperOptions) {
  if (!panels?.length) return '';
  const root = options.data?.root ?? {};
  return new Handlebars.SafeString(
    panels
      .map((p) => {
        const partial = hbs.partials[p.partial] as Handlebars.TemplateDelegate | string | undefined;
        if (!partial) throw new Error(`missing panel partial ${p.partial}`);
        const fn = typeof partial === 'string' ? (hbs.partials[p.partial] = hbs.compile(partial)) : partial;
        return fn({ ...p.model, prefix: root.prefix, csrfToken: root.csrfToken, user: root.user }, { data: options.data });
      })
      .join('\n'),
  );
});

/** What the layout shows for the current user (the CSRF token is added by reply.page, made only if a form uses it). */
function layoutModel(request: FastifyRequest, prefix: string) {
  const user = request.user;
  return {
    prefix,
    user: user
      ? {
          name: user.name || user.email,
          email: user.email,
          role: user.role,
          isAdmin: user.role === 'admin',
          isStaff: user.role === 'admin' || user.role === 'instructor',
        }
      : null,
    currentPath: request.url,
  };
}

export default fp(
  async (fastify, opts: { production: boolean; prefix: string }) => {
    await fastify.register(view, {
      engine: { handlebars: hbs },
      root: viewsDir,
      layout: 'layouts/main.hbs',
      viewExt: 'hbs',
      production: opts.production,
      options: { partials: listPartials() },
    });
    fastify.decorateReply('page', function (this: FastifyReply, template: string, model: PageModel, status = 200) {
      const layout = layoutModel(this.request, opts.prefix);
      this.code(status).header('cache-control', 'no-store');
      // The token is made when a template first prints it, during rendering (before the reply is sent): a page without
      // a form (a public certificate, the catalogue for a visitor) costs no token and sets no CSRF cookie. Handlebars
      // prints a value through its toString; once made, the same token is printed everywhere on the page.
      let token: string | undefined;
      const csrfToken = { toString: () => (token ??= this.generateCsrf({ userInfo: csrfBinding(this.request) })) };
      const full = { ...layout, csrfToken, ...model };
      if (pageRendered.hasSubscribers) pageRendered.publish({ template, model: full });
      return this.view(template, full);
    });
  },
  { name: 'views', dependencies: ['@fastify/csrf-protection'] },
);
