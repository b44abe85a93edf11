// LTI API: registering platforms (admins) and listing them.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requireRole } from '../../server/plugins/auth.js';
import { IdParam, Instant, problemResponses } from '../../server/schemas.js';
import { requireUser } from '../../server/plugins/auth.js';
import type { PlatformView } from './model.js';

const PlatformDoc = Type.Object({
  id: Type.Integer(),
  issuer: Type.String(),
  clientId: Type.String(),
  name: Type.String(),
  deploymentIds: Type.Array(Type.String()),
  authLoginUrl: Type.String(),
  tokenUrl: Type.String(),
  jwksUrl: Type.String(),
  registeredVia: Type.String({ description: 'api, page or dynamic (LTI Dynamic Registration)' }),
  createdAt: Instant,
});

const doc = (p: PlatformView) => ({ ...p, createdAt: p.createdAt.toISOString() });

const routes: FastifyPluginAsync = async (app) => {
  const fastify = app.withTypeProvider<TypeBoxTypeProvider>();
  const { lti } = fastify.cc;

  fastify.post(
    '/api/v1/lti/platforms',
    {
      schema: {
        summary: 'Register an LTI 1.3 platform (admins)',
        description:
          'The platform (Moodle, Canvas, Brightspace…) as its admin set this tool up there: its issuer, the client id it gave this tool, the deployment ids, and its OIDC authorisation, token and key-set URLs (https; http only on the loopback interface). 400 for a missing or bad field; 409 when that issuer and client id are registered already.',
        tags: ['lti'],
        body: Type.Object(
          {
            issuer: Type.String({ minLength: 1, maxLength: 2000 }),
            clientId: Type.String({ minLength: 1, maxLength: 200 }),
            name: Type.Optional(Type.String({ maxLength: 200 })),
            deploymentIds: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 50 }),
            authLoginUrl: Type.String({ minLength: 1, maxLength: 2000 }),
            tokenUrl: Type.String({ minLength: 1, maxLength: 2000 }),
            jwksUrl: Type.String({ minLength: 1, maxLength: 2000 }),
          },
          { additionalProperties: false },
        ),
        response: { 201: PlatformDoc, ...problemResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const admin = requireRole(request, 'admin');
      return reply.code(201).send(doc(await lti.register(request.body, admin, 'api')));
    },
  );

  fastify.get(
    '/api/v1/lti/platforms',
    { schema: { summary: 'The registered LTI platforms (admins)', tags: ['lti'], response: { 200: Type.Array(PlatformDoc), ...problemResponses(401, 403) } } },
    async (request) => {
      requireRole(request, 'admin');
      return (await lti.list()).map(doc);
    },
  );

  fastify.post(
    '/api/v1/cohorts/:id/lti/roster-sync',
    {
      schema: {
        summary: "Sync a cohort's roster from its linked LTI platform courses (its instructors, admins)",
        description:
          "Reads the class list of every platform course linked to the cohort (Names and Role Provisioning, from the roster URL its launches carried), links each member to a person here, and gives each learner without a place one through the booking rules, booked by the caller: a member place when the address is on the member list, else a standalone booking awaiting payment. Learners the platform gives no email address for are skipped. 422 when no platform course is linked yet; 503 when the platform cannot be reached.",
        tags: ['lti'],
        params: IdParam,
        response: {
          200: Type.Object({
            contexts: Type.Integer(),
            members: Type.Integer(),
            booked: Type.Integer(),
            alreadyIn: Type.Integer(),
            linked: Type.Integer(),
            skipped: Type.Integer(),
            refused: Type.Array(Type.Object({ email: Type.String(), reason: Type.String() })),
          }),
          ...problemResponses(400, 401, 403, 404, 422, 503),
        },
      },
    },
    async (request) => lti.syncRoster(requireUser(request), request.params.id),
  );
};

export default routes;
