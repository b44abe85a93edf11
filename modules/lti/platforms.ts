// Registering LTI platforms: by an admin (API or form) or by LTI Dynamic Registration (the platform's OpenID
// configuration fetched, the tool's registration posted to it), and reading them back.
import { asc, eq } from 'drizzle-orm';
import type { Infrastructure } from '../../server/infrastructure.js';
import { isUniqueViolation } from '../../server/db.js';
import { BadInput, Conflict } from '../../server/errors.js';
import type { User } from '../people/service.js';
import type { PeopleService } from '../people/service.js';
import type { CohortService } from '../cohorts/service.js';
import type { BookingService } from '../bookings/service.js';
import type { AssignmentService } from '../assignments/service.js';
import type { FastifyBaseLogger } from 'fastify';
import { ltiPlatforms } from './schema.js';
import { DEEP_LINKING_REQUEST, SCOPE, platformView, type PlatformInput, type PlatformView } from './model.js';

export interface LtiDeps extends Infrastructure {
  people: PeopleService;
  cohorts: CohortService;
  bookings: BookingService;
  assignments: AssignmentService;
  log: FastifyBaseLogger;
}

/** An https URL, or http on the loopback interface (a platform on the same machine, in development and tests). */
export function checkUrl(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length > 2000) throw new BadInput('give a URL.', field);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new BadInput('this is not a URL.', field);
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) throw new BadInput('use an https:// URL.', field);
  if (url.username || url.password) throw new BadInput('a URL with a user name or password is not accepted.', field);
  // Kept as written: an issuer is compared with the id_token's `iss` character for character.
  return value.trim();
}

/** Check and tidy a registration: every field present, URLs https, deployment ids listed once. */
export function checkPlatform(input: Partial<PlatformInput>): PlatformInput {
  const issuer = checkUrl(input.issuer, 'issuer');
  const clientId = typeof input.clientId === 'string' ? input.clientId.trim() : '';
  if (!clientId || clientId.length > 200) throw new BadInput('give the client id the platform assigned to this tool.', 'clientId');
  const ids = (input.deploymentIds ?? []).map((d) => (typeof d === 'string' ? d.trim() : '')).filter(Boolean);
  if (ids.length === 0) throw new BadInput('give at least one deployment id.', 'deploymentIds');
  if (ids.some((d) => d.length > 200)) throw new BadInput('a deployment id is at most 200 characters.', 'deploymentIds');
  return {
    issuer,
    clientId,
    name: (input.name ?? '').trim().slice(0, 200),
    deploymentIds: [...new Set(ids)],
    authLoginUrl: checkUrl(input.authLoginUrl, 'authLoginUrl'),
    tokenUrl: checkUrl(input.tokenUrl, 'tokenUrl'),
    jwksUrl: checkUrl(input.jwksUrl, 'jwksUrl'),
  };
}

export function platformUseCases(deps: LtiDeps) {
  const { database, clock, baseUrl } = deps;

  async function register(input: Partial<PlatformInput>, actor: User | null, via: 'api' | 'page' | 'dynamic'): Promise<PlatformView> {
    const p = checkPlatform(input);
    try {
      return await database.transaction(async (tx) => {
        const [row] = await tx
          .insert(ltiPlatforms)
          .values({ ...p, name: p.name ?? '', deploymentIds: JSON.stringify(p.deploymentIds), registeredVia: via, registeredBy: actor?.id ?? null, createdAt: clock.now() })
          .returning();
        return platformView(row);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new Conflict(`A platform with the issuer ${p.issuer} and client id ${p.clientId} is already registered.`);
      throw err;
    }
  }

  /** What the tool tells a platform about itself, in Dynamic Registration (LTI tool configuration). */
  function toolConfiguration(platformName: string) {
    const host = new URL(baseUrl).host;
    return {
      application_type: 'web',
      response_types: ['id_token'],
      grant_types: ['implicit', 'client_credentials'],
      initiate_login_uri: `${baseUrl}/lti/login`,
      redirect_uris: [`${baseUrl}/lti/launch`],
      client_name: 'Cohort Course',
      jwks_uri: `${baseUrl}/lti/jwks.json`,
      token_endpoint_auth_method: 'private_key_jwt',
      scope: [SCOPE.memberships, SCOPE.lineItem, SCOPE.score].join(' '),
      'https://purl.imsglobal.org/spec/lti-tool-configuration': {
        domain: host,
        target_link_uri: `${baseUrl}/lti/launch`,
        description: `Live four-week cohort courses${platformName ? ` for ${platformName}` : ''}.`,
        claims: ['iss', 'sub', 'name', 'email'],
        messages: [{ type: DEEP_LINKING_REQUEST, target_link_uri: `${baseUrl}/lti/launch`, label: 'Cohort Course' }],
      },
    };
  }

  /** Fetch JSON with a time limit; a failure is a 400 naming what could not be read. */
  async function getJson(url: string, what: string, init?: RequestInit): Promise<Record<string, unknown>> {
    let res: Response;
    try {
      res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000), redirect: 'error' });
    } catch {
      throw new BadInput(`The platform's ${what} could not be reached.`);
    }
    const text = await res.text();
    if (!res.ok) throw new BadInput(`The platform answered ${res.status} for its ${what}${text ? `: ${text.slice(0, 200)}` : ''}.`);
    try {
      const body = JSON.parse(text) as unknown;
      if (body && typeof body === 'object' && !Array.isArray(body)) return body as Record<string, unknown>;
    } catch {
      // fall through
    }
    throw new BadInput(`The platform's ${what} is not a JSON object.`);
  }

  return {
    /** Register a platform (admin); 400 for bad input, 409 when its issuer and client id are registered already. */
    register,

    /** Every registered platform, oldest first. */
    async list(): Promise<PlatformView[]> {
      return (await database.db.select().from(ltiPlatforms).orderBy(asc(ltiPlatforms.id))).map(platformView);
    },

    /** A platform by id, or undefined. */
    async platform(id: number) {
      const [row] = await database.db.select().from(ltiPlatforms).where(eq(ltiPlatforms.id, id)).limit(1);
      return row;
    },

    /** Dynamic Registration, step 1: read the platform's OpenID configuration (for the admin to confirm). */
    async readOpenIdConfiguration(configUrl: string) {
      const url = checkUrl(configUrl, 'openid_configuration');
      const conf = await getJson(url, 'OpenID configuration');
      const issuer = typeof conf.issuer === 'string' ? conf.issuer : '';
      // The configuration must be published under its own issuer: a page elsewhere cannot speak for that platform.
      let sameOrigin = false;
      try {
        sameOrigin = new URL(issuer).origin === new URL(url).origin;
      } catch {
        sameOrigin = false;
      }
      if (!sameOrigin) throw new BadInput("The OpenID configuration's issuer is not on the host it was read from.");
      const platformConf = (conf['https://purl.imsglobal.org/spec/lti-platform-configuration'] ?? {}) as { product_family_code?: unknown };
      for (const key of ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'registration_endpoint']) checkUrl(conf[key], key);
      return {
        issuer,
        authLoginUrl: String(conf.authorization_endpoint),
        tokenUrl: String(conf.token_endpoint),
        jwksUrl: String(conf.jwks_uri),
        registrationEndpoint: String(conf.registration_endpoint),
        product: typeof platformConf.product_family_code === 'string' ? platformConf.product_family_code : '',
      };
    },

    /** Dynamic Registration, step 2: post the tool's registration to the platform and keep the platform it answers. */
    async completeDynamicRegistration(configUrl: string, registrationToken: string | undefined, actor: User): Promise<PlatformView> {
      const conf = await this.readOpenIdConfiguration(configUrl);
      const answer = await getJson(conf.registrationEndpoint, 'registration endpoint', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...(registrationToken ? { authorization: `Bearer ${registrationToken}` } : {}) },
        body: JSON.stringify(toolConfiguration(conf.product)),
      });
      const tool = (answer['https://purl.imsglobal.org/spec/lti-tool-configuration'] ?? {}) as { deployment_id?: unknown };
      const deploymentId = typeof tool.deployment_id === 'string' ? tool.deployment_id : typeof tool.deployment_id === 'number' ? String(tool.deployment_id) : '';
      if (typeof answer.client_id !== 'string' || !deploymentId) throw new BadInput("The platform's registration answer has no client_id or deployment_id.");
      return register(
        { issuer: conf.issuer, clientId: answer.client_id, name: conf.product, deploymentIds: [deploymentId], authLoginUrl: conf.authLoginUrl, tokenUrl: conf.tokenUrl, jwksUrl: conf.jwksUrl },
        actor,
        'dynamic',
      );
    },

    toolConfiguration,
  };
}

