// Handlebars pages: one layout, partials from views/partials, and reply.page() that adds what every page needs.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import fp from 'fastify-plugin';
import view from '@fastify/view';
import Handlebars from 'handlebars';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { viewsDir } from '../paths.js';

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

function listPartials(): Record<string, string> {
  const dir = join(viewsDir, 'partials');
  const partials: Record<string, string> = {};
  for (const file of readdirSync(dir)) {
    if (file.endsWith('.hbs')) partials[file.replace(/\.hbs$/, '')] = `partials/${file}`;
  }
  return partials;
}

const hbs = Handlebars.create();
hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);

/** What the layout shows for the current user. */
function layoutModel(request: FastifyRequest, reply: FastifyReply, prefix: string) {
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
    csrfToken: reply.generateCsrf(),
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
      const layout = layoutModel(this.request, this, opts.prefix);
      this.code(status).header('cache-control', 'no-store');
      return this.view(template, { ...layout, ...model });
    });
  },
  { name: 'views', dependencies: ['@fastify/csrf-protection'] },
);
