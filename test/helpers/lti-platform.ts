// A stand-in LTI 1.3 platform (a Moodle, say) on real HTTP servers with real RS256 keys (jose): its key set, OIDC
// authorisation endpoint, OAuth2 token endpoint (client credentials with an RFC 7523 assertion, checked against the
// tool's published key set), Names and Roles memberships (paged with Link: rel=next), Assignment and Grade Services
// line items and scores, and an OpenID configuration with a registration endpoint for Dynamic Registration.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { SignJWT, createRemoteJWKSet, exportJWK, generateKeyPair, jwtVerify, type JWK, type JWTPayload, type CryptoKey } from 'jose';

export const LTI = {
  messageType: 'https://purl.imsglobal.org/spec/lti/claim/message_type',
  version: 'https://purl.imsglobal.org/spec/lti/claim/version',
  deploymentId: 'https://purl.imsglobal.org/spec/lti/claim/deployment_id',
  targetLinkUri: 'https://purl.imsglobal.org/spec/lti/claim/target_link_uri',
  resourceLink: 'https://purl.imsglobal.org/spec/lti/claim/resource_link',
  roles: 'https://purl.imsglobal.org/spec/lti/claim/roles',
  context: 'https://purl.imsglobal.org/spec/lti/claim/context',
  custom: 'https://purl.imsglobal.org/spec/lti/claim/custom',
  dl: 'https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings',
  contentItems: 'https://purl.imsglobal.org/spec/lti-dl/claim/content_items',
  dlData: 'https://purl.imsglobal.org/spec/lti-dl/claim/data',
  nrps: 'https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice',
  ags: 'https://purl.imsglobal.org/spec/lti-ags/claim/endpoint',
  learner: 'http://purl.imsglobal.org/vocab/lis/v2/membership#Learner',
  instructor: 'http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor',
  administrator: 'http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator',
} as const;

export interface Member {
  user_id: string;
  roles: string[];
  email?: string;
  name?: string;
  status?: 'Active' | 'Inactive' | 'Deleted';
}

export interface LaunchSpec {
  sub: string;
  roles: string[];
  email?: string;
  name?: string;
  messageType?: 'LtiResourceLinkRequest' | 'LtiDeepLinkingRequest';
  resourceLinkId?: string;
  custom?: Record<string, string>;
  contextId?: string;
  /** Leave claims out or change them after they are built (negative cases). */
  tamper?: (claims: Record<string, unknown>) => void;
  /** Sign with another key than the published one (same kid). */
  forgeSignature?: boolean;
  /** Seconds added to iat and exp (a token from the past). */
  shiftSeconds?: number;
}

export interface LtiPlatform {
  url: string;
  issuer: string;
  clientId: string;
  deploymentId: string;
  /** The registration an admin would enter for it. */
  registration: { issuer: string; clientId: string; deploymentIds: string[]; authLoginUrl: string; tokenUrl: string; jwksUrl: string; name: string };
  /** What /auth will answer for a login_hint (the next launch of that person). */
  prepare(loginHint: string, spec: LaunchSpec): void;
  /** An id_token as the platform signs it, for a given nonce (the tests' own forgeries start here). */
  idToken(spec: LaunchSpec, nonce: string, opts?: { audience?: string | string[]; azp?: string }): Promise<string>;
  /** The auth requests the tool sent browsers to. */
  authRequests: URLSearchParams[];
  tokenRequests: Array<{ scope: string; assertion: JWTPayload }>;
  members: Map<string, Member[]>;
  /** Members per page in the memberships answer. */
  pageSize: number;
  lineItems: Array<{ id: string; context: string; label: string; resourceId?: string; tag?: string; scoreMaximum: number }>;
  scores: Array<{ lineItem: string; body: Record<string, unknown> }>;
  /** Deep-linking responses the tool posted back, verified. */
  deepLinkResponses: JWTPayload[];
  registrations: Array<Record<string, unknown>>;
  /** While true, the AGS and token endpoints answer 503. */
  down: boolean;
  /** When set, the score endpoint answers this status (a platform refusing the score itself). */
  refuseScores: number | null;
  toolJwksUrl: string;
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}) {
  const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
  res.writeHead(status, { 'content-type': typeof payload === 'string' ? 'text/html; charset=utf-8' : 'application/json', ...headers });
  res.end(text);
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/** Start a platform. `now` is the test's clock; `toolUrl` is where the tool (the app) listens. */
export async function startLtiPlatform(opts: { now: () => Date; toolUrl: string; clientId?: string; deploymentId?: string }): Promise<LtiPlatform> {
  const kid = `platform-${randomUUID()}`;
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const forger = await generateKeyPair('RS256', { extractable: true });
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const clientId = opts.clientId ?? `client-${randomUUID().slice(0, 8)}`;
  const deploymentId = opts.deploymentId ?? 'deployment-1';
  const toolJwksUrl = `${opts.toolUrl}/lti/jwks.json`;
  const toolKeys = createRemoteJWKSet(new URL(toolJwksUrl));
  const prepared = new Map<string, LaunchSpec>();
  const tokens = new Map<string, string>();
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = url;
  const secs = () => Math.floor(opts.now().getTime() / 1000);

  const platform: LtiPlatform = {
    url,
    issuer,
    clientId,
    deploymentId,
    registration: { issuer, clientId, deploymentIds: [deploymentId], authLoginUrl: `${url}/auth`, tokenUrl: `${url}/token`, jwksUrl: `${url}/jwks`, name: 'Stand-in Moodle' },
    prepare(loginHint, spec) {
      prepared.set(loginHint, spec);
    },
    async idToken(spec, nonce, o = {}) {
      const messageType = spec.messageType ?? 'LtiResourceLinkRequest';
      const contextId = spec.contextId ?? 'course-101';
      const claims: Record<string, unknown> = {
        nonce,
        [LTI.messageType]: messageType,
        [LTI.version]: '1.3.0',
        [LTI.deploymentId]: deploymentId,
        [LTI.targetLinkUri]: `${opts.toolUrl}/lti/launch`,
        [LTI.roles]: spec.roles,
        [LTI.context]: { id: contextId, title: 'Reference Services 101', type: ['http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering'] },
        [LTI.nrps]: { context_memberships_url: `${url}/memberships/${contextId}`, service_versions: ['2.0'] },
        [LTI.ags]: { scope: ['https://purl.imsglobal.org/spec/lti-ags/scope/lineitem', 'https://purl.imsglobal.org/spec/lti-ags/scope/score'], lineitems: `${url}/lineitems/${contextId}` },
      };
      if (spec.email) claims.email = spec.email;
      if (spec.name) claims.name = spec.name;
      if (messageType === 'LtiResourceLinkRequest') {
        claims[LTI.resourceLink] = { id: spec.resourceLinkId ?? 'link-1', title: 'Our cohort' };
        if (spec.custom) claims[LTI.custom] = spec.custom;
      } else {
        claims[LTI.dl] = { deep_link_return_url: `${url}/deep-link-return`, accept_types: ['ltiResourceLink'], accept_presentation_document_targets: ['iframe', 'window'], data: 'opaque-platform-data' };
      }
      if (o.azp) claims.azp = o.azp;
      spec.tamper?.(claims);
      const now = secs() + (spec.shiftSeconds ?? 0);
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
        .setIssuer(issuer)
        .setSubject(spec.sub)
        .setAudience(o.audience ?? clientId)
        .setIssuedAt(now)
        .setExpirationTime(now + 300)
        .sign((spec.forgeSignature ? forger.privateKey : privateKey) as CryptoKey);
    },
    authRequests: [],
    tokenRequests: [],
    members: new Map(),
    pageSize: 2,
    lineItems: [],
    scores: [],
    deepLinkResponses: [],
    registrations: [],
    down: false,
    refuseScores: null,
    toolJwksUrl,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };

  const bearer = (req: IncomingMessage, scope: string) => {
    const token = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    return token !== undefined && (tokens.get(token) ?? '').split(' ').includes(scope);
  };

  server.on('request', (req, res) => {
    void (async () => {
      const u = new URL(req.url ?? '/', url);
      const path = u.pathname;
      if (req.method === 'GET' && path === '/jwks') return send(res, 200, { keys: [publicJwk] });
      if (req.method === 'GET' && path === '/.well-known/openid-configuration') {
        return send(res, 200, {
          issuer,
          authorization_endpoint: `${url}/auth`,
          token_endpoint: `${url}/token`,
          jwks_uri: `${url}/jwks`,
          registration_endpoint: `${url}/register`,
          scopes_supported: ['openid'],
          response_types_supported: ['id_token'],
          id_token_signing_alg_values_supported: ['RS256'],
          'https://purl.imsglobal.org/spec/lti-platform-configuration': { product_family_code: 'moodle', version: '4.4' },
        });
      }
      if (req.method === 'POST' && path === '/register') {
        if (req.headers.authorization !== 'Bearer reg-token-1') return send(res, 401, { error: 'invalid_token' });
        const reg = JSON.parse(await body(req)) as Record<string, unknown>;
        platform.registrations.push(reg);
        return send(res, 200, { ...reg, client_id: clientId, 'https://purl.imsglobal.org/spec/lti-tool-configuration': { ...(reg['https://purl.imsglobal.org/spec/lti-tool-configuration'] as object), deployment_id: deploymentId } });
      }
      if (req.method === 'GET' && path === '/auth') {
        platform.authRequests.push(u.searchParams);
        const q = u.searchParams;
        const spec = prepared.get(q.get('login_hint') ?? '');
        if (!spec || q.get('client_id') !== clientId || q.get('response_mode') !== 'form_post' || q.get('scope') !== 'openid') return send(res, 400, 'bad auth request');
        const idToken = await platform.idToken(spec, q.get('nonce') ?? '');
        // As a platform does: a page that posts the id_token and state to the tool's redirect URI.
        return send(res, 200, `<form method="post" action="${escapeHtml(q.get('redirect_uri') ?? '')}"><input type="hidden" name="id_token" value="${escapeHtml(idToken)}"><input type="hidden" name="state" value="${escapeHtml(q.get('state') ?? '')}"></form>`);
      }
      if (req.method === 'POST' && path === '/token') {
        if (platform.down) return send(res, 503, { error: 'temporarily_unavailable' });
        const form = new URLSearchParams(await body(req));
        if (form.get('grant_type') !== 'client_credentials' || form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') return send(res, 400, { error: 'unsupported_grant_type' });
        try {
          const { payload } = await jwtVerify(form.get('client_assertion') ?? '', toolKeys, { issuer: clientId, subject: clientId, audience: `${url}/token`, currentDate: opts.now(), requiredClaims: ['jti', 'exp', 'iat'] });
          const scope = form.get('scope') ?? '';
          platform.tokenRequests.push({ scope, assertion: payload });
          const token = randomUUID();
          tokens.set(token, scope);
          return send(res, 200, { access_token: token, token_type: 'Bearer', expires_in: 3600, scope });
        } catch {
          return send(res, 401, { error: 'invalid_client' });
        }
      }
      const memberships = /^\/memberships\/([^/]+)$/.exec(path);
      if (req.method === 'GET' && memberships) {
        if (!bearer(req, 'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly')) return send(res, 401, { error: 'no token' });
        const all = platform.members.get(memberships[1]) ?? [];
        const page = Number(u.searchParams.get('page') ?? '0');
        const slice = all.slice(page * platform.pageSize, (page + 1) * platform.pageSize);
        const more = (page + 1) * platform.pageSize < all.length;
        return send(
          res,
          200,
          { id: `${url}${path}`, context: { id: memberships[1], title: 'Reference Services 101' }, members: slice },
          { 'content-type': 'application/vnd.ims.lti-nrps.v2.membershipcontainer+json', ...(more ? { link: `<${url}${path}?page=${page + 1}>; rel="next"` } : {}) },
        );
      }
      const items = /^\/lineitems\/([^/]+)$/.exec(path);
      if (items) {
        if (platform.down) return send(res, 503, { error: 'down' });
        if (!bearer(req, 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem')) return send(res, 401, { error: 'no token' });
        if (req.method === 'GET') return send(res, 200, platform.lineItems.filter((l) => l.context === items[1]));
        if (req.method === 'POST') {
          const item = JSON.parse(await body(req)) as { label: string; resourceId?: string; tag?: string; scoreMaximum: number };
          const made = { ...item, context: items[1], id: `${url}/lineitems/${items[1]}/${platform.lineItems.length + 1}?type=cohort` };
          platform.lineItems.push(made);
          return send(res, 201, made, { 'content-type': 'application/vnd.ims.lis.v2.lineitem+json' });
        }
      }
      const scores = /^\/lineitems\/([^/]+)\/(\d+)\/scores$/.exec(path);
      if (req.method === 'POST' && scores) {
        if (platform.down) return send(res, 503, { error: 'down' });
        if (!bearer(req, 'https://purl.imsglobal.org/spec/lti-ags/scope/score')) return send(res, 401, { error: 'no token' });
        if (!String(req.headers['content-type']).startsWith('application/vnd.ims.lis.v1.score+json')) return send(res, 415, { error: 'type' });
        if (platform.refuseScores) return send(res, platform.refuseScores, { error: 'user not in this course' });
        platform.scores.push({ lineItem: `${url}/lineitems/${scores[1]}/${scores[2]}?type=cohort`, body: JSON.parse(await body(req)) as Record<string, unknown> });
        return send(res, 200, {});
      }
      if (req.method === 'POST' && path === '/deep-link-return') {
        const form = new URLSearchParams(await body(req));
        try {
          const { payload } = await jwtVerify(form.get('JWT') ?? '', toolKeys, { issuer: clientId, audience: issuer, currentDate: opts.now() });
          platform.deepLinkResponses.push(payload);
          return send(res, 200, 'placed');
        } catch (err) {
          return send(res, 400, `bad deep linking response: ${(err as Error).message}`);
        }
      }
      return send(res, 404, { error: 'not found' });
    })().catch((err) => send(res, 500, { error: String(err) }));
  });
  return platform;
}

/** A browser on real HTTP: a cookie jar, redirects by hand, forms read from pages. */
export class HttpBrowser {
  cookies = new Map<string, string>();
  constructor(private readonly appOrigin: string) {}

  private store(res: Response, url: string) {
    if (!url.startsWith(this.appOrigin)) return;
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (!value || expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  private cookieHeader(url: string): Record<string, string> {
    if (!url.startsWith(this.appOrigin) || this.cookies.size === 0) return {};
    return { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
  }

  async get(url: string): Promise<Response> {
    const res = await fetch(url, { redirect: 'manual', headers: this.cookieHeader(url) });
    this.store(res, url);
    return res;
  }

  /** A form post, as a page on `fromOrigin` sends it (cross-site from a platform, or from the app's own page). */
  async post(url: string, fields: Record<string, string>, fromOrigin: string): Promise<Response> {
    const res = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: fromOrigin, 'sec-fetch-site': fromOrigin === this.appOrigin ? 'same-origin' : 'cross-site', ...this.cookieHeader(url) },
      body: new URLSearchParams(fields).toString(),
    });
    this.store(res, url);
    return res;
  }
}

/** The fields of a form on a page (hidden inputs and their values) and its action: the first whose action contains `actionPart`. */
export function formOf(html: string, actionPart = ''): { action: string; fields: Record<string, string> } {
  const unescape = (v: string) => v.replace(/&quot;/g, '"').replace(/&#x3D;/g, '=').replace(/&#x27;/g, "'").replace(/&amp;/g, '&');
  for (const m of html.matchAll(/<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/g)) {
    const action = unescape(m[1]);
    if (!action.includes(actionPart)) continue;
    const fields: Record<string, string> = {};
    for (const f of m[2].matchAll(/<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)) fields[f[1]] = unescape(f[2]);
    return { action, fields };
  }
  return { action: '', fields: {} };
}
