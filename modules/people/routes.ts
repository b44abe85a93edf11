// Sign-in pages, sign-out, the profile page and the token API.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requireRole, requireUser, SESSION_COOKIE, sessionCookieOptions } from '../../server/plugins/auth.js';
import { BadInput } from '../../server/errors.js';
import { problemResponses } from '../../server/schemas.js';
import { SESSION_DAYS, SIGN_IN_LINK_MINUTES, safeNext } from './service.js';
import { zoneOptions, isValidZone } from '../../server/time.js';

const routes: FastifyPluginAsync = async (app) => {
  const fastify = app.withTypeProvider<TypeBoxTypeProvider>();
  const { prefix } = fastify.cc;
  const people = fastify.cc.people;
  const secure = fastify.cc.baseUrl.startsWith('https://');

  fastify.post(
    '/api/v1/tokens',
    {
      schema: {
        summary: 'Create an API token for a user (creates a learner account when the address is new)',
        tags: ['people'],
        body: Type.Object({ email: Type.String({ maxLength: 254 }) }, { additionalProperties: false }),
        response: { 201: Type.Object({ token: Type.String() }), ...problemResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      requireRole(request, 'admin');
      const { token } = await people.createApiToken(request.body.email);
      return reply.code(201).send({ token });
    },
  );

  fastify.get(
    '/api/v1/me',
    {
      schema: {
        summary: 'The signed-in user',
        tags: ['people'],
        response: {
          200: Type.Object({ id: Type.Integer(), email: Type.String(), name: Type.String(), role: Type.String(), timezone: Type.Union([Type.String(), Type.Null()]) }),
          ...problemResponses(401),
        },
      },
    },
    async (request) => {
      const u = requireUser(request);
      return { id: u.id, email: u.email, name: u.name, role: u.role, timezone: u.timezone };
    },
  );

  // ---- pages ----

  const signInForm = Type.Object({ email: Type.String({ maxLength: 500 }), next: Type.Optional(Type.String({ maxLength: 1000 })), _csrf: Type.Optional(Type.String()) });

  fastify.get('/sign-in', { schema: { hide: true, querystring: Type.Object({ next: Type.Optional(Type.String({ maxLength: 1000 })) }) } }, async (request, reply) => {
    if (request.user) return reply.redirect(`${prefix}${safeNext(request.query.next)}`, 303);
    return reply.page('people/sign-in', { title: 'Sign in', next: safeNext(request.query.next), minutes: SIGN_IN_LINK_MINUTES });
  });

  fastify.post('/sign-in', { schema: { hide: true, body: signInForm }, attachValidation: true }, async (request, reply) => {
    const next = safeNext(request.body?.next);
    const email = String(request.body?.email ?? '').trim();
    let error: string | null = null;
    if (request.validationError || !email) error = 'Enter your email address.';
    else {
      try {
        await people.requestSignIn({ email, ip: request.ip, next });
      } catch (err) {
        const status = (err as { statusCode?: number }).statusCode;
        if (status === 400) error = 'Enter an email address like name@library.org.';
        else if (status === 429) error = (err as Error).message;
        else throw err;
        return reply.page('people/sign-in', { title: 'Sign in', next, email, error, minutes: SIGN_IN_LINK_MINUTES }, status);
      }
    }
    if (error) return reply.page('people/sign-in', { title: 'Sign in', next, email, error, minutes: SIGN_IN_LINK_MINUTES }, 400);
    return reply.page('people/sign-in-sent', { title: 'Check your email', email, minutes: SIGN_IN_LINK_MINUTES });
  });

  // The emailed link opens a confirm page; only the button press signs in, so mail scanners that
  // follow links cannot spend the single use.
  fastify.get('/sign-in/:token', { schema: { hide: true, params: Type.Object({ token: Type.String({ maxLength: 100 }) }) } }, async (request, reply) => {
    const check = await people.checkSignInLink(request.params.token);
    if (!check.ok) {
      return reply.page('people/sign-in', { title: 'Sign in', next: '/', error: 'That sign-in link has expired or has already been used. Ask for a new one below.', minutes: SIGN_IN_LINK_MINUTES }, 400);
    }
    return reply.page('people/sign-in-confirm', { title: 'Sign in', token: request.params.token, email: check.email });
  });

  fastify.post(
    '/sign-in/confirm',
    { schema: { hide: true, body: Type.Object({ token: Type.String({ maxLength: 100 }), _csrf: Type.Optional(Type.String()) }) }, attachValidation: true },
    async (request, reply) => {
      if (request.validationError) throw new BadInput('The sign-in link is missing.');
      try {
        const { sessionToken, next } = await people.consumeSignIn(request.body.token);
        // A fresh session id at every sign-in (no fixation); an older cookie is simply replaced.
        if (request.sessionToken) await people.signOut(request.sessionToken);
        reply.setCookie(SESSION_COOKIE, sessionToken, sessionCookieOptions(prefix, secure, SESSION_DAYS * 86400));
        return reply.redirect(`${prefix}${next === '/' ? '/my' : next}`, 303);
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 400) throw err;
        return reply.page('people/sign-in', { title: 'Sign in', next: '/', error: (err as Error).message, minutes: SIGN_IN_LINK_MINUTES }, 400);
      }
    },
  );

  fastify.post('/sign-out', { schema: { hide: true } }, async (request, reply) => {
    if (request.sessionToken) await people.signOut(request.sessionToken);
    reply.clearCookie(SESSION_COOKIE, { path: prefix || '/' });
    return reply.redirect(`${prefix}/`, 303);
  });

  fastify.get('/profile', { schema: { hide: true, querystring: Type.Object({ saved: Type.Optional(Type.String()) }) } }, async (request, reply) => {
    const user = requireUser(request);
    return reply.page('people/profile', {
      title: 'Your profile',
      profile: { name: user.name, email: user.email, digest: !user.digestOptOut },
      zones: zoneOptions(user.timezone),
      saved: request.query.saved === '1',
    });
  });

  fastify.post(
    '/profile',
    {
      schema: {
        hide: true,
        body: Type.Object({
          name: Type.String({ maxLength: 200 }),
          timezone: Type.Optional(Type.String({ maxLength: 100 })),
          digest: Type.Optional(Type.String()),
          _csrf: Type.Optional(Type.String()),
        }),
      },
      attachValidation: true,
    },
    async (request, reply) => {
      const user = requireUser(request);
      const body = request.body ?? ({} as never);
      const zone = body.timezone || null;
      if (request.validationError || (zone && !isValidZone(zone))) {
        return reply.page(
          'people/profile',
          { title: 'Your profile', profile: { name: body.name, email: user.email, digest: Boolean(body.digest) }, zones: zoneOptions(zone), error: 'Check your name (up to 200 characters) and choose a time zone from the list.' },
          400,
        );
      }
      await people.updateProfile(user.id, { name: body.name.trim(), timezone: zone, digestOptOut: !body.digest });
      return reply.redirect(`${prefix}/profile?saved=1`, 303);
    },
  );
};
export default routes;
