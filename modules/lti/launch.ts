// LTI 1.3 launch: OIDC login initiation (state and nonce kept server-side), then the platform's id_token checked
// (signature from its key set, iss, aud/azp, exp/iat on the app clock, nonce once, state, deployment, required claims),
// the person signed in, the resource link mapped to a cohort, and where they land.
import { and, eq, gt, isNull, lt } from 'drizzle-orm';
import {
  createRemoteJWKSet,
  decodeJwt,
  errors as joseErrors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import type { Db } from '../../server/db.js';
import { BadInput } from '../../server/errors.js';
import { hashToken, newToken } from '../../server/crypto.js';
import { authSessions, users } from '../people/schema.js';
import { SESSION_DAYS, normaliseEmail, type User } from '../people/service.js';
import type { Cohort } from '../cohorts/service.js';
import { ltiAccounts, ltiContexts, ltiLoginStates, ltiPlatforms, ltiResourceLinks } from './schema.js';
import {
  CLAIM,
  CLOCK_TOLERANCE_SECONDS,
  DEEP_LINKING_REQUEST,
  LOGIN_STATE_MINUTES,
  MAX_TOKEN_AGE_SECONDS,
  RESOURCE_LINK_REQUEST,
  mapRoles,
  type LtiRole,
  type PlatformRow,
} from './model.js';
import type { LtiDeps } from './platforms.js';

export interface LoginParams {
  iss?: string;
  login_hint?: string;
  target_link_uri?: string;
  lti_message_hint?: string;
  client_id?: string;
  lti_deployment_id?: string;
}

export interface LaunchedPerson {
  user: User;
  sessionToken: string;
  platform: PlatformRow;
  platformRole: LtiRole | null;
}

export type LaunchOutcome =
  | (LaunchedPerson & { kind: 'cohort'; cohort: Cohort; week: number | null; roleInCohort: 'admin' | 'instructor' | 'learner' | null })
  | (LaunchedPerson & { kind: 'unmapped' })
  | (LaunchedPerson & { kind: 'deep-linking'; deploymentId: string; returnUrl: string; data: string | null; title: string });

type Claims = JWTPayload & Record<string, unknown>;

const sameOrigin = (a: string, b: string) => {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
};

const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

/** The launch use cases. */
export function launchUseCases(deps: LtiDeps) {
  const { database, clock, baseUrl, people, cohorts } = deps;
  const keySets = new Map<string, JWTVerifyGetKey>();
  // One remote key set per platform key-set URL, cached by jose (refetched for an unknown kid, at most every 30 s).
  const keySetFor = (url: string) => {
    let set = keySets.get(url);
    if (!set) {
      set = createRemoteJWKSet(new URL(url), { timeoutDuration: 5000 });
      keySets.set(url, set);
    }
    return set;
  };

  async function platformsByIssuer(issuer: string): Promise<PlatformRow[]> {
    return database.db.select().from(ltiPlatforms).where(eq(ltiPlatforms.issuer, issuer));
  }

  /** Turn jose's refusal into a sentence for the platform's admin; anything else propagates. */
  function refusal(err: unknown): BadInput {
    if (err instanceof joseErrors.JWTExpired) return new BadInput('The id_token has expired (exp is in the past). Launch again from the platform.');
    if (err instanceof joseErrors.JWSSignatureVerificationFailed) return new BadInput("The id_token's signature does not verify against the platform's key set.");
    if (err instanceof joseErrors.JWKSNoMatchingKey) return new BadInput("The id_token is signed with a key (kid) that is not in the platform's key set.");
    if (err instanceof joseErrors.JWTClaimValidationFailed) return new BadInput(`The id_token's "${err.claim}" claim is not acceptable: ${err.reason === 'missing' ? 'it is missing' : err.message}.`);
    if (err instanceof joseErrors.JOSEAlgNotAllowed) return new BadInput('The id_token must be signed with RS256.');
    if (err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid) return new BadInput("The platform's key set could not be read just now. Try the launch again.");
    if (err instanceof joseErrors.JOSEError) return new BadInput(`The id_token could not be verified (${err.code}).`);
    if (err instanceof TypeError) return new BadInput("The platform's key set could not be fetched just now. Try the launch again.");
    throw err;
  }

  /** Check a platform's id_token: the platform it names, its signature and standard claims. Nothing is written. */
  async function verifyIdToken(idToken: string): Promise<{ platform: PlatformRow; claims: Claims }> {
    let unverified: Claims;
    try {
      unverified = decodeJwt(idToken) as Claims;
    } catch {
      throw new BadInput('The id_token is not a JWT.');
    }
    const issuer = str(unverified.iss);
    if (!issuer) throw new BadInput('The id_token has no issuer (iss).');
    const auds = Array.isArray(unverified.aud) ? unverified.aud.filter((a): a is string => typeof a === 'string') : str(unverified.aud) ? [unverified.aud as string] : [];
    const candidates = await platformsByIssuer(issuer);
    if (candidates.length === 0) throw new BadInput(`No platform with the issuer ${issuer} is registered here. An admin registers it first.`);
    const platform = candidates.find((p) => auds.includes(p.clientId));
    if (!platform) throw new BadInput("The id_token's audience (aud) does not name this tool's client id for that platform.");
    // With several audiences the authorised party must be us; when sent at all it must be us.
    if ((auds.length > 1 || unverified.azp !== undefined) && unverified.azp !== platform.clientId) {
      throw new BadInput("The id_token's authorised party (azp) is not this tool's client id.");
    }
    try {
      const { payload } = await jwtVerify(idToken, keySetFor(platform.jwksUrl), {
        issuer: platform.issuer,
        audience: platform.clientId,
        algorithms: ['RS256'],
        currentDate: clock.now(),
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        maxTokenAge: MAX_TOKEN_AGE_SECONDS,
        requiredClaims: ['iat', 'exp', 'nonce', 'sub'],
      });
      return { platform, claims: payload as Claims };
    } catch (err) {
      throw refusal(err);
    }
  }

  /** The LTI claims every launch needs, checked after the signature; returns the message type and roles. */
  function checkClaims(platform: PlatformRow, claims: Claims): { messageType: string; deploymentId: string; roles: string[] } {
    const messageType = str(claims[CLAIM.messageType]);
    if (messageType !== RESOURCE_LINK_REQUEST && messageType !== DEEP_LINKING_REQUEST) {
      throw new BadInput(`The launch's message_type claim must be ${RESOURCE_LINK_REQUEST} or ${DEEP_LINKING_REQUEST}${messageType ? `, not ${messageType}` : ' (it is missing)'}.`);
    }
    if (claims[CLAIM.version] !== '1.3.0') throw new BadInput('The launch\'s version claim must be "1.3.0".');
    const deploymentId = str(claims[CLAIM.deploymentId]);
    if (!deploymentId) throw new BadInput('The launch has no deployment_id claim.');
    if (!(JSON.parse(platform.deploymentIds) as string[]).includes(deploymentId)) {
      throw new BadInput(`The deployment ${deploymentId} is not registered for this platform. An admin adds it to the platform's registration.`);
    }
    const target = claims[CLAIM.targetLinkUri];
    if (target !== undefined && !(typeof target === 'string' && sameOrigin(target, baseUrl))) throw new BadInput('The launch\'s target_link_uri is not on this tool.');
    const roles = claims[CLAIM.roles];
    if (!Array.isArray(roles) || roles.some((r) => typeof r !== 'string')) throw new BadInput('The launch has no roles claim (a list, which may be empty).');
    if (!str(claims.sub)) throw new BadInput('The launch has no subject (sub): anonymous launches are not supported.');
    if (messageType === RESOURCE_LINK_REQUEST) {
      const link = claims[CLAIM.resourceLink] as { id?: unknown } | undefined;
      if (!str(link?.id)) throw new BadInput('A resource link launch must carry the resource_link claim with its id.');
    } else {
      const settings = claims[CLAIM.deepLinkingSettings] as { deep_link_return_url?: unknown; accept_types?: unknown } | undefined;
      if (!str(settings?.deep_link_return_url)) throw new BadInput('A deep linking launch must carry deep_linking_settings with a deep_link_return_url.');
      if (Array.isArray(settings?.accept_types) && !settings.accept_types.includes('ltiResourceLink')) {
        throw new BadInput('The platform does not accept ltiResourceLink content items, the only kind this tool makes.');
      }
    }
    return { messageType, deploymentId, roles: roles as string[] };
  }

  /**
   * The person behind a platform's `sub`: linked before, or matched by the email claim to an existing account that is
   * not an admin's (a registered platform is trusted to have verified its users' addresses; an admin account is never
   * taken over through a platform), or a new learner account (its address the email claim when free, else a
   * placeholder under the platform's host that no mail goes to). Inside the caller's transaction.
   */
  async function personFor(tx: Db, platform: PlatformRow, member: { sub: string; email?: string | null; name?: string | null }): Promise<User> {
    const [linked] = await tx.select({ user: users }).from(ltiAccounts).innerJoin(users, eq(users.id, ltiAccounts.userId)).where(and(eq(ltiAccounts.platformId, platform.id), eq(ltiAccounts.sub, member.sub))).limit(1);
    if (linked) return linked.user;
    let email: string | null = null;
    try {
      email = member.email ? normaliseEmail(member.email) : null;
    } catch {
      email = null;
    }
    let user: User | undefined = email ? await people.findByEmail(email, tx) : undefined;
    if (user && user.role === 'admin') user = undefined;
    if (!user) {
      const free = email && !(await people.findByEmail(email, tx));
      const address = free ? email! : `lti-${hashToken(`${platform.id}:${member.sub}`).slice(0, 20)}@${new URL(platform.issuer).hostname}.lti.invalid`;
      user = await people.ensure(tx, address, member.name?.slice(0, 200) || undefined);
    }
    await tx.insert(ltiAccounts).values({ platformId: platform.id, sub: member.sub, userId: user.id, createdAt: clock.now() }).onConflictDoNothing();
    return user;
  }

  /** A platform's teaching role makes a learner account an instructor account (never an admin's: see the README). */
  async function raiseRole(user: User, role: LtiRole | null): Promise<User> {
    // Through people's own use case (a savepoint of the launch's transaction, in the same flow).
    if ((role === 'instructor' || role === 'admin') && user.role === 'learner') return people.upsert({ email: user.email, role: 'instructor' });
    return user;
  }

  /** A browser session for the person, as a sign-in link would open. */
  async function openSession(tx: Db, user: User): Promise<string> {
    const now = clock.now();
    const sessionToken = newToken();
    // People has no use case to open a session but by a sign-in link; this is the same row consumeSignIn writes.
    await tx.insert(authSessions).values({ idHash: hashToken(sessionToken), userId: user.id, createdAt: now, expiresAt: new Date(now.getTime() + SESSION_DAYS * 86_400_000) });
    return sessionToken;
  }

  /** Which cohort (and week) a resource link opens: its custom cohort_id (a deep-linked link), else the stored mapping. */
  async function cohortForLink(tx: Db, platform: PlatformRow, resourceLinkId: string, custom: Record<string, unknown>): Promise<{ cohort: Cohort; week: number | null } | null> {
    const cohortId = /^\d{1,9}$/.test(String(custom.cohort_id ?? '')) ? Number(custom.cohort_id) : null;
    const weekRaw = /^\d{1,2}$/.test(String(custom.week ?? '')) ? Number(custom.week) : null;
    if (cohortId !== null) {
      let cohort: Cohort;
      try {
        cohort = await cohorts.get(cohortId, tx);
      } catch {
        throw new BadInput(`This link names cohort ${cohortId}, which does not exist here (any more). An instructor places the link again.`);
      }
      const week = weekRaw !== null && weekRaw >= 1 && weekRaw <= cohort.course.weekCount ? weekRaw : null;
      await tx
        .insert(ltiResourceLinks)
        .values({ platformId: platform.id, resourceLinkId, cohortId, week, createdAt: clock.now() })
        .onConflictDoUpdate({ target: [ltiResourceLinks.platformId, ltiResourceLinks.resourceLinkId], set: { cohortId, week } });
      return { cohort, week };
    }
    const [stored] = await tx.select().from(ltiResourceLinks).where(and(eq(ltiResourceLinks.platformId, platform.id), eq(ltiResourceLinks.resourceLinkId, resourceLinkId))).limit(1);
    if (!stored) return null;
    return { cohort: await cohorts.get(stored.cohortId, tx), week: stored.week };
  }

  /** Keep the platform context's roster and gradebook addresses for the cohort (NRPS, AGS), as the launch gave them. */
  async function rememberContext(tx: Db, platform: PlatformRow, deploymentId: string, cohortId: number, claims: Claims): Promise<void> {
    const context = claims[CLAIM.context] as { id?: unknown; title?: unknown } | undefined;
    const contextId = str(context?.id);
    if (!contextId) return;
    const nrps = claims[CLAIM.nrps] as { context_memberships_url?: unknown } | undefined;
    const ags = claims[CLAIM.ags] as { lineitems?: unknown; scope?: unknown } | undefined;
    const values = {
      deploymentId,
      title: (str(context?.title) ?? '').slice(0, 200),
      membershipsUrl: str(nrps?.context_memberships_url),
      lineItemsUrl: str(ags?.lineitems),
      agsScopes: Array.isArray(ags?.scope) ? ags.scope.filter((s): s is string => typeof s === 'string').join(' ') : '',
      updatedAt: clock.now(),
    };
    await tx
      .insert(ltiContexts)
      .values({ platformId: platform.id, contextId, cohortId, ...values })
      .onConflictDoUpdate({ target: [ltiContexts.platformId, ltiContexts.contextId, ltiContexts.cohortId], set: values });
  }

  return {
    /**
     * OIDC third-party login initiation: check the platform and where the launch is to land, keep a state and nonce for
     * LOGIN_STATE_MINUTES, and answer the platform's authorisation URL to send the browser to, with the state.
     */
    async startLogin(params: LoginParams): Promise<{ redirectUrl: string; state: string }> {
      const iss = str(params.iss);
      const loginHint = str(params.login_hint);
      const target = str(params.target_link_uri);
      if (!iss || !loginHint || !target) throw new BadInput('A login initiation needs iss, login_hint and target_link_uri.');
      let platforms = await platformsByIssuer(iss);
      if (params.client_id) platforms = platforms.filter((p) => p.clientId === params.client_id);
      if (platforms.length === 0) throw new BadInput(`No platform with the issuer ${iss}${params.client_id ? ` and client id ${params.client_id}` : ''} is registered here.`);
      if (platforms.length > 1) throw new BadInput('Several registrations share this issuer: the platform must send client_id.');
      const platform = platforms[0];
      if (params.lti_deployment_id && !(JSON.parse(platform.deploymentIds) as string[]).includes(params.lti_deployment_id)) {
        throw new BadInput(`The deployment ${params.lti_deployment_id} is not registered for this platform.`);
      }
      let targetUrl: URL;
      try {
        targetUrl = new URL(target);
      } catch {
        throw new BadInput('target_link_uri is not a URL.');
      }
      if (targetUrl.origin !== new URL(baseUrl).origin) throw new BadInput(`target_link_uri must be on this tool (${baseUrl}).`);
      const state = newToken();
      const nonce = newToken();
      const now = clock.now();
      await database.transaction(async (tx) => {
        // Old states go as new ones come: nothing else reads them once expired.
        await tx.delete(ltiLoginStates).where(lt(ltiLoginStates.expiresAt, new Date(now.getTime() - 86_400_000)));
        await tx.insert(ltiLoginStates).values({ stateHash: hashToken(state), nonce, platformId: platform.id, targetLinkUri: target, createdAt: now, expiresAt: new Date(now.getTime() + LOGIN_STATE_MINUTES * 60_000) });
      });
      const auth = new URL(platform.authLoginUrl);
      const q = auth.searchParams;
      q.set('scope', 'openid');
      q.set('response_type', 'id_token');
      q.set('response_mode', 'form_post');
      q.set('prompt', 'none');
      q.set('client_id', platform.clientId);
      q.set('redirect_uri', `${baseUrl}/lti/launch`);
      q.set('login_hint', loginHint);
      if (params.lti_message_hint) q.set('lti_message_hint', params.lti_message_hint);
      q.set('state', state);
      q.set('nonce', nonce);
      return { redirectUrl: auth.toString(), state };
    },

    /**
     * The launch: the id_token verified, the state (which must match the browser's state cookie) used once with the
     * nonce it was issued with, the claims checked; then the person signed in and the message answered.
     */
    async launch(input: { idToken?: string; state?: string; stateCookie?: string | null }): Promise<LaunchOutcome> {
      const idToken = str(input.idToken);
      const state = str(input.state);
      if (!idToken || !state) throw new BadInput('A launch needs id_token and state (posted by the platform).');
      if (!input.stateCookie || input.stateCookie !== state) {
        throw new BadInput('This launch did not come back to the browser that started it (the state does not match this browser\'s). Launch again from the platform.');
      }
      const { platform, claims } = await verifyIdToken(idToken);
      const { messageType, deploymentId, roles } = checkClaims(platform, claims);
      const platformRole = mapRoles(roles);
      const now = clock.now();
      return database.transaction(async (tx): Promise<LaunchOutcome> => {
        // Used once: the conditional update lets one request through; a replay finds the state used.
        const [login] = await tx
          .update(ltiLoginStates)
          .set({ usedAt: now })
          .where(and(eq(ltiLoginStates.stateHash, hashToken(state)), isNull(ltiLoginStates.usedAt), gt(ltiLoginStates.expiresAt, now)))
          .returning();
        if (!login) throw new BadInput('This launch has expired or was already used (state). Launch again from the platform.');
        if (login.platformId !== platform.id || login.nonce !== claims.nonce) throw new BadInput('The id_token\'s nonce is not the one this login sent (a replayed or foreign token).');
        let user = await personFor(tx, platform, { sub: String(claims.sub), email: str(claims.email), name: str(claims.name) });
        user = await raiseRole(user, platformRole);
        const sessionToken = await openSession(tx, user);
        const person = { user, sessionToken, platform, platformRole };
        if (messageType === DEEP_LINKING_REQUEST) {
          if (platformRole !== 'instructor' && platformRole !== 'admin') throw new BadInput('Only the platform\'s instructors and administrators can place cohort links.');
          const settings = claims[CLAIM.deepLinkingSettings] as { deep_link_return_url: string; data?: unknown; title?: unknown };
          return { ...person, kind: 'deep-linking', deploymentId, returnUrl: settings.deep_link_return_url, data: str(settings.data), title: str(settings.title) ?? '' };
        }
        const link = claims[CLAIM.resourceLink] as { id: string };
        const custom = (claims[CLAIM.custom] ?? {}) as Record<string, unknown>;
        const target = await cohortForLink(tx, platform, link.id, typeof custom === 'object' && custom ? custom : {});
        if (!target) return { ...person, kind: 'unmapped' };
        await rememberContext(tx, platform, deploymentId, target.cohort.id, claims);
        const roleInCohort = await cohorts.roleIn(user, target.cohort.id, tx);
        return { ...person, kind: 'cohort', cohort: target.cohort, week: target.week, roleInCohort };
      });
    },

    personFor,
  };
}
