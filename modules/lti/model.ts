// LTI 1.3 words shared by the module's files: claim names, message types, role URIs, scopes, and the module's types.
import type { ltiContexts, ltiPlatforms } from './schema.js';

export const CLAIM = {
  messageType: 'https://purl.imsglobal.org/spec/lti/claim/message_type',
  version: 'https://purl.imsglobal.org/spec/lti/claim/version',
  deploymentId: 'https://purl.imsglobal.org/spec/lti/claim/deployment_id',
  targetLinkUri: 'https://purl.imsglobal.org/spec/lti/claim/target_link_uri',
  resourceLink: 'https://purl.imsglobal.org/spec/lti/claim/resource_link',
  roles: 'https://purl.imsglobal.org/spec/lti/claim/roles',
  context: 'https://purl.imsglobal.org/spec/lti/claim/context',
  custom: 'https://purl.imsglobal.org/spec/lti/claim/custom',
  deepLinkingSettings: 'https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings',
  contentItems: 'https://purl.imsglobal.org/spec/lti-dl/claim/content_items',
  data: 'https://purl.imsglobal.org/spec/lti-dl/claim/data',
  nrps: 'https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice',
  ags: 'https://purl.imsglobal.org/spec/lti-ags/claim/endpoint',
} as const;

export const SCOPE = {
  memberships: 'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly',
  lineItem: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem',
  score: 'https://purl.imsglobal.org/spec/lti-ags/scope/score',
} as const;

export const RESOURCE_LINK_REQUEST = 'LtiResourceLinkRequest';
export const DEEP_LINKING_REQUEST = 'LtiDeepLinkingRequest';

/** How long a login initiation may take to come back as a launch. */
export const LOGIN_STATE_MINUTES = 10;
/** Leeway for the platform's clock (exp, iat). */
export const CLOCK_TOLERANCE_SECONDS = 60;
/** An id_token issued longer ago than this is refused even when its exp is later. */
export const MAX_TOKEN_AGE_SECONDS = 600;

export type PlatformRow = typeof ltiPlatforms.$inferSelect;
export type ContextRow = typeof ltiContexts.$inferSelect;

export interface PlatformView {
  id: number;
  issuer: string;
  clientId: string;
  name: string;
  deploymentIds: string[];
  authLoginUrl: string;
  tokenUrl: string;
  jwksUrl: string;
  registeredVia: string;
  createdAt: Date;
}

export interface PlatformInput {
  issuer: string;
  clientId: string;
  name?: string;
  deploymentIds: string[];
  authLoginUrl: string;
  tokenUrl: string;
  jwksUrl: string;
}

export function platformView(p: PlatformRow): PlatformView {
  return {
    id: p.id,
    issuer: p.issuer,
    clientId: p.clientId,
    name: p.name,
    deploymentIds: JSON.parse(p.deploymentIds) as string[],
    authLoginUrl: p.authLoginUrl,
    tokenUrl: p.tokenUrl,
    jwksUrl: p.jwksUrl,
    registeredVia: p.registeredVia,
    createdAt: p.createdAt,
  };
}

/** What an LTI role list means here: the platform's role for the person, in the tool's words. */
export type LtiRole = 'admin' | 'instructor' | 'learner';

/**
 * Map LTI role URIs (context, institution or system; full URIs or the short names some platforms send) to the
 * strongest of ours: Administrator > Instructor (and the teaching roles near it) > Learner.
 */
export function mapRoles(roles: string[]): LtiRole | null {
  const names = roles.map((r) => r.split(/[#/]/).pop() ?? r);
  if (names.some((n) => n === 'Administrator' || n === 'SysAdmin')) return 'admin';
  if (names.some((n) => ['Instructor', 'TeachingAssistant', 'ContentDeveloper', 'Mentor', 'Faculty'].includes(n))) return 'instructor';
  if (names.some((n) => n === 'Learner' || n === 'Student')) return 'learner';
  return null;
}
