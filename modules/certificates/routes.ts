// Certificate API: progress, manual issue, revoke, public verification, the signed credential, the revocation status
// lists, key set and CSV.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requireRole, requireUser } from '../../server/plugins/auth.js';
import { BadInput, NotFound } from '../../server/errors.js';
import { IdParam, Instant, problemResponses } from '../../server/schemas.js';
import { toCsv } from '../bookings/csv.js';
import { KEYS_PATH } from './signing.js';
import { STATUS_LIST_ROUTE, STATUS_LIST_TTL_SECONDS } from './status-list.js';
import type { LearnerProgress } from './service.js';

const CodeParam = Type.Object({ code: Type.String({ minLength: 1, maxLength: 100 }) });

const Proof = Type.Object(
  {
    '@context': Type.Optional(Type.Array(Type.String(), { description: 'The credential’s @context, signed with the proof options' })),
    type: Type.String(),
    cryptosuite: Type.String(),
    created: Type.String(),
    verificationMethod: Type.String(),
    proofPurpose: Type.String(),
    proofValue: Type.String(),
  },
  { description: 'W3C Data Integrity proof, cryptosuite eddsa-jcs-2022 (Ed25519 over SHA-256 of RFC 8785 canonical JSON); verificationMethod is the signing key’s did:key (did:key:z6Mk…#z6Mk…)' },
);

const StatusEntryDoc = Type.Object(
  {
    id: Type.String(),
    type: Type.Literal('BitstringStatusListEntry'),
    statusPurpose: Type.Literal('revocation'),
    statusListIndex: Type.String({ description: 'The certificate’s bit in the list (a decimal integer)' }),
    statusListCredential: Type.String({ description: 'URL of the signed revocation list' }),
  },
  { description: 'W3C Bitstring Status List entry: the bit that says whether the certificate is revoked' },
);

const StatusListDoc = Type.Object(
  {
    '@context': Type.Array(Type.String()),
    id: Type.String(),
    type: Type.Array(Type.String()),
    issuer: Type.String({ description: 'The did:key of the signing key (the issuer of the credentials that point here)' }),
    validFrom: Instant,
    credentialSubject: Type.Object({
      id: Type.String(),
      type: Type.Literal('BitstringStatusList'),
      statusPurpose: Type.Literal('revocation'),
      encodedList: Type.String({ description: 'Multibase base64url (u…) of the GZIP-compressed bitstring, at least 131,072 bits; bit 0 is the left-most bit of the first byte; 1 = revoked' }),
      ttl: Type.Integer({ description: 'How long the list may be kept, in milliseconds' }),
    }),
    proof: Proof,
  },
  { description: 'W3C BitstringStatusListCredential (VC Bitstring Status List v1.0), signed like the certificates' },
);

export const CertificateDoc = Type.Object({
  code: Type.String(),
  learner: Type.String({ description: 'The learner’s name as it was when the certificate was issued' }),
  course: Type.String({ description: 'Course title' }),
  courseSlug: Type.String(),
  cohort: Type.Object({ id: Type.Integer(), startDate: Type.String(), endsAt: Instant, timezone: Type.String() }),
  hours: Type.Number(),
  issuedAt: Instant,
  status: Type.Union([Type.Literal('valid'), Type.Literal('revoked')]),
  earned: Type.Union([Type.Literal('on_time'), Type.Literal('grace')], { description: 'on_time: issued by the cohort’s endsAt; grace: during the grace period' }),
  issued: Type.Union([Type.Literal('auto'), Type.Literal('manual')]),
  revokedAt: Type.Union([Instant, Type.Null()]),
  revocationReason: Type.Union([Type.String(), Type.Null()]),
  verifyUrl: Type.String(),
  pdfUrl: Type.String(),
  credentialUrl: Type.String(),
  credentialStatus: Type.Union([StatusEntryDoc, Type.Null()]),
  proof: Proof,
});

const WeekProgressDoc = Type.Object({
  week: Type.Integer(),
  title: Type.String(),
  status: Type.Union([Type.Literal('none'), Type.Literal('draft'), Type.Literal('submitted'), Type.Literal('needs_revision'), Type.Literal('complete')]),
  late: Type.Boolean(),
});

const ProgressDoc = Type.Object({
  learner: Type.String({ description: 'The learner’s email' }),
  assignmentsComplete: Type.Integer(),
  assignmentsRequired: Type.Integer(),
  assignmentsTotal: Type.Integer(),
  sessionsAttended: Type.Integer({ description: 'Sessions attended live or watched as a recording' }),
  sessionsRequired: Type.Integer(),
  sessionsTotal: Type.Integer(),
  posts: Type.Integer(),
  postsRequired: Type.Integer(),
  eligible: Type.Boolean(),
  missing: Type.Array(Type.String(), { description: 'What is still needed, in plain language' }),
  certificateWanted: Type.Boolean(),
  graceEndsAt: Instant,
  weeks: Type.Array(WeekProgressDoc),
  certificate: Type.Union([Type.Object({ code: Type.String(), status: Type.Literal('valid'), verifyUrl: Type.String(), pdfUrl: Type.String() }), Type.Null()]),
});

const Jwk = Type.Object({ kty: Type.String(), crv: Type.String(), x: Type.String(), kid: Type.String(), alg: Type.String(), use: Type.String() });

/** The API shape of a learner's progress. */
export function progressDoc(p: LearnerProgress, baseUrl: string) {
  const e = p.evaluation;
  return {
    learner: p.email,
    assignmentsComplete: e.assignmentsComplete,
    assignmentsRequired: e.assignmentsRequired,
    assignmentsTotal: e.assignmentsTotal,
    sessionsAttended: e.sessionsAttended,
    sessionsRequired: e.sessionsRequired,
    sessionsTotal: e.sessionsTotal,
    posts: e.posts,
    postsRequired: e.postsRequired,
    eligible: e.eligible,
    missing: e.missing,
    certificateWanted: p.certificateWanted,
    graceEndsAt: p.graceEndsAt.toISOString(),
    weeks: p.weeks.map((w) => ({ week: w.week, title: w.title, status: w.status, late: w.late })),
    certificate: p.certificate
      ? { code: p.certificate.code, status: 'valid' as const, verifyUrl: `${baseUrl}/certificates/${p.certificate.code}`, pdfUrl: `${baseUrl}/certificates/${p.certificate.code}.pdf` }
      : null,
  };
}

const routes: FastifyPluginAsync = async (app) => {
  const fastify = app.withTypeProvider<TypeBoxTypeProvider>();
  const ctx = fastify.cc;
  const certs = ctx.certificates;

  fastify.get(
    '/api/v1/cohorts/:id/progress',
    {
      schema: {
        summary: 'Progress towards the certificate: a learner’s own, or (instructors, admins) any learner’s with ?learner=email',
        tags: ['certificates'],
        params: IdParam,
        querystring: Type.Object({ learner: Type.Optional(Type.String({ minLength: 3, maxLength: 254, description: 'A learner’s email (instructors and admins)' })) }),
        response: { 200: ProgressDoc, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const access = await ctx.cohorts.access(request.user, request.params.id);
      const asked = request.query.learner;
      if (access.role === 'learner') {
        if (asked && asked.trim().toLowerCase() !== access.user.email) throw new NotFound('Learner');
        return progressDoc(await certs.progress(access.cohort, access.user), ctx.baseUrl);
      }
      if (!asked) throw new BadInput('give the learner’s email (?learner=…).', 'querystring learner');
      const learner = await ctx.people.findByEmail(asked);
      if (!learner || (await ctx.cohorts.roleIn(learner, access.cohort.id)) !== 'learner') throw new NotFound('Learner');
      return progressDoc(await certs.progress(access.cohort, learner), ctx.baseUrl);
    },
  );

  fastify.put(
    '/api/v1/cohorts/:id/certificate-preference',
    {
      schema: {
        summary: 'The learner says whether they want a certificate (switching it on may issue one at once)',
        tags: ['certificates'],
        params: IdParam,
        body: Type.Object({ wanted: Type.Boolean() }, { additionalProperties: false }),
        response: { 200: Type.Object({ certificateWanted: Type.Boolean(), certificate: Type.Union([Type.Object({ code: Type.String() }), Type.Null()]) }), ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const access = await ctx.cohorts.access(request.user, request.params.id, ['learner']);
      const res = await certs.setWanted(access.cohort.id, access.user.id, request.body.wanted);
      const valid = (await certs.progress(access.cohort, access.user)).certificate;
      return { certificateWanted: res.certificateWanted, certificate: valid ? { code: valid.code } : null };
    },
  );

  fastify.post(
    '/api/v1/cohorts/:id/certificates',
    {
      schema: {
        summary: 'Issue a certificate by hand (admin; also after the grace period)',
        tags: ['certificates'],
        params: IdParam,
        body: Type.Object({ email: Type.String({ minLength: 3, maxLength: 254 }) }, { additionalProperties: false }),
        response: { 201: CertificateDoc, ...problemResponses(400, 401, 403, 404, 409, 422) },
      },
    },
    async (request, reply) => {
      const admin = requireRole(request, 'admin');
      const row = await certs.issueManually(admin, request.params.id, request.body.email);
      return reply.code(201).send(certs.doc(row));
    },
  );

  fastify.get(
    '/api/v1/certificates',
    {
      schema: {
        summary: 'Every certificate, newest first (admin); ?cohort= for one cohort',
        tags: ['certificates'],
        querystring: Type.Object({ cohort: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_147_483_647 })) }),
        response: { 200: Type.Array(Type.Object({ ...CertificateDoc.properties, email: Type.String() })), ...problemResponses(400, 401, 403) },
      },
    },
    async (request) => {
      requireRole(request, 'admin');
      return (await certs.list(request.query.cohort)).map((c) => ({ ...certs.doc(c), email: c.email }));
    },
  );

  fastify.get(
    '/api/v1/certificates.csv',
    {
      schema: {
        summary: 'Every certificate as CSV (admin)',
        tags: ['certificates'],
        querystring: Type.Object({ cohort: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_147_483_647 })) }),
        produces: ['text/csv'],
        response: { 200: Type.String({ description: 'text/csv' }), ...problemResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      requireRole(request, 'admin');
      const header = ['code', 'status', 'learner', 'email', 'course', 'cohort_id', 'cohort_start_date', 'cohort_ends_at', 'hours', 'issued_at', 'earned', 'issued', 'issued_by', 'revoked_at', 'revocation_reason', 'revoked_by', 'verify_url'];
      const list = await certs.list(request.query.cohort);
      // The admins who issued or revoked, each looked up once.
      const people = new Map<number, string>();
      for (const c of list) {
        for (const id of [c.issuedBy, c.revokedBy]) {
          if (id === null || people.has(id)) continue;
          try {
            people.set(id, (await ctx.people.get(id)).email);
          } catch {
            people.set(id, String(id));
          }
        }
      }
      const emailOf = (id: number | null) => (id === null ? '' : people.get(id)!);
      const rows = list.map((c) => [
        c.code,
        c.revokedAt ? 'revoked' : 'valid',
        c.learnerName,
        c.email,
        c.courseTitle,
        c.cohortId,
        c.cohortStartDate,
        c.cohortEndsAt.toISOString(),
        c.hours,
        c.issuedAt.toISOString(),
        c.earned,
        c.issued,
        emailOf(c.issuedBy),
        c.revokedAt?.toISOString() ?? '',
        c.revokedReason ?? '',
        emailOf(c.revokedBy),
        `${ctx.baseUrl}/certificates/${c.code}`,
      ]);
      const day = ctx.clock.now().toISOString().slice(0, 10);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="certificates-${day}.csv"`)
        .header('cache-control', 'no-store')
        .send('\ufeff' + toCsv([header, ...rows]));
    },
  );

  fastify.get(
    '/api/v1/certificates/:code',
    {
      schema: {
        summary: 'Verify a certificate (anyone): valid or revoked, learner, course, cohort dates, issue date, proof',
        tags: ['certificates'],
        security: [],
        params: CodeParam,
        response: { 200: CertificateDoc, ...problemResponses(400, 404) },
      },
    },
    async (request, reply) => {
      const row = await certs.find(request.params.code);
      if (!row) throw new NotFound('Certificate');
      reply.header('cache-control', 'no-cache');
      return certs.doc(row);
    },
  );

  fastify.get(
    '/api/v1/certificates/:code/credential.json',
    {
      schema: {
        summary: 'The signed Open Badges 3.0 credential (W3C VC 2.0 issued by a did:key, with an eddsa-jcs-2022 Data Integrity proof and a Bitstring Status List entry for revocation)',
        tags: ['certificates'],
        security: [],
        params: CodeParam,
        response: { 200: Type.Object({}, { additionalProperties: true }), ...problemResponses(400, 404) },
      },
    },
    async (request, reply) => {
      const row = await certs.find(request.params.code);
      if (!row) throw new NotFound('Certificate');
      return reply.type('application/vc+ld+json; charset=utf-8').header('cache-control', 'public, max-age=86400').send(row.credential as never);
    },
  );

  fastify.post(
    '/api/v1/certificates/:code/revoke',
    {
      schema: {
        summary: 'Revoke a certificate with a reason (admin; the reason is shown on the verification page)',
        tags: ['certificates'],
        params: CodeParam,
        body: Type.Object({ reason: Type.String({ minLength: 1, maxLength: 500 }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ status: Type.Literal('revoked'), revokedAt: Instant }), ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const admin = requireRole(request, 'admin');
      const row = await certs.revoke(admin, request.params.code, request.body.reason);
      return { status: 'revoked' as const, revokedAt: row.revokedAt!.toISOString() };
    },
  );

  fastify.get(
    KEYS_PATH,
    {
      schema: {
        summary: 'The public keys that sign certificates (JWK Set; Ed25519, kid = RFC 7638 thumbprint)',
        tags: ['certificates'],
        security: [],
        response: { 200: Type.Object({ keys: Type.Array(Jwk) }) },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=3600').header('access-control-allow-origin', '*');
      return certs.keySet();
    },
  );

  fastify.get(
    STATUS_LIST_ROUTE,
    {
      schema: {
        summary: 'The revocation status list signed by one key (anyone): a BitstringStatusListCredential that credentials point at in credentialStatus',
        tags: ['certificates'],
        security: [],
        params: Type.Object({ key: Type.String({ minLength: 1, maxLength: 100, description: 'The signing key’s id (its RFC 7638 thumbprint, as in the key set)' }) }),
        produces: ['application/vc'],
        response: { 200: StatusListDoc, ...problemResponses(400, 404) },
      },
    },
    async (request, reply) => {
      const list = await certs.statusList(request.params.key);
      if (!list) throw new NotFound('Status list');
      // Sent as the exact signed text: serialising through the schema could reorder or drop what the proof covers.
      return reply
        .type('application/vc')
        .header('cache-control', `public, max-age=${STATUS_LIST_TTL_SECONDS}`)
        .header('access-control-allow-origin', '*')
        .send(JSON.stringify(list) as never);
    },
  );

  // The signed-in user's own certificates (learners), for integrations.
  fastify.get(
    '/api/v1/me/certificates',
    {
      schema: {
        summary: 'The signed-in user’s certificates',
        tags: ['certificates'],
        response: { 200: Type.Array(CertificateDoc), ...problemResponses(401) },
      },
    },
    async (request) => (await certs.forUser(requireUser(request).id)).map((c) => certs.doc(c)),
  );
};
export default routes;
