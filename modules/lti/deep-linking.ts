// Deep Linking 2.0: an instructor launched with LtiDeepLinkingRequest picks one of their cohorts (or a week of it),
// and the tool answers the platform with a signed LtiDeepLinkingResponse holding one ltiResourceLink content item
// whose custom cohort_id (and week) later launches name.
import { newToken } from '../../server/crypto.js';
import { BadInput, Forbidden } from '../../server/errors.js';
import type { User } from '../people/service.js';
import type { Cohort } from '../cohorts/service.js';
import type { ToolKeys } from './keys.js';
import type { LtiDeps } from './platforms.js';
import { CLAIM } from './model.js';
import { ltiPlatforms } from './schema.js';
import { eq } from 'drizzle-orm';

/** How long the picking page may stay open before its choice is sent. */
const PICK_MINUTES = 30;
const PICK_TYP = 'cc-lti-deep-link+jwt';

export interface DeepLinkingRequest {
  platformId: number;
  deploymentId: string;
  returnUrl: string;
  data: string | null;
  userId: number;
}

export function deepLinkingUseCases(deps: LtiDeps, keys: ToolKeys) {
  const { database, baseUrl, cohorts } = deps;
  const audience = `${baseUrl}/lti/deep-link`;

  /** The cohorts a person may place: those they teach (admins: every cohort). */
  const placeable = (user: User): Promise<Cohort[]> => cohorts.taughtBy(user);

  return {
    /**
     * Keep a deep-linking request for the picking page, as a token signed with the tool key (for this tool only, for
     * PICK_MINUTES): the page's form carries it back, so nothing waits in a table.
     */
    async startDeepLinking(request: DeepLinkingRequest): Promise<{ token: string; cohorts: Cohort[] }> {
      const user = await deps.people.get(request.userId);
      const token = await keys.sign({ dl: request }, { expiresInSeconds: PICK_MINUTES * 60, audience, issuer: baseUrl, typ: PICK_TYP });
      return { token, cohorts: await placeable(user) };
    },

    placeable,

    /**
     * The instructor's choice, as the signed LtiDeepLinkingResponse to post to the platform's return URL. 400 for a
     * picking token that has expired or is not this tool's, 403 for a cohort they do not teach or a token of someone else's.
     */
    async respond(user: User, token: string, choice: string): Promise<{ returnUrl: string; jwt: string }> {
      const payload = await keys.verifyOwn(token, { issuer: baseUrl, audience, typ: PICK_TYP });
      const request = payload?.dl as DeepLinkingRequest | undefined;
      if (!request) throw new BadInput('This page has expired. Open the tool again from the platform to place a link.');
      if (request.userId !== user.id) throw new Forbidden('This placement was started by someone else.');
      const m = /^(\d{1,9})(?::(\d{1,2}))?$/.exec(choice);
      if (!m) throw new BadInput('choose a cohort.', 'choice');
      const cohort = (await placeable(user)).find((c) => c.id === Number(m[1]));
      if (!cohort) throw new Forbidden('You can place only cohorts you teach.');
      const week = m[2] ? Number(m[2]) : null;
      if (week !== null && (week < 1 || week > cohort.course.weekCount)) throw new BadInput('choose a week of the course.', 'choice');
      const [platform] = await database.db.select().from(ltiPlatforms).where(eq(ltiPlatforms.id, request.platformId)).limit(1);
      if (!platform) throw new BadInput('The platform of this placement is no longer registered.');
      const title = week ? `${cohort.course.title}, week ${week}: ${cohort.course.weeks[week - 1]?.title ?? ''}`.replace(/: $/, '') : `${cohort.course.title} (starts ${cohort.startDate})`;
      const item = {
        type: 'ltiResourceLink',
        title,
        url: `${baseUrl}/lti/launch`,
        custom: { cohort_id: String(cohort.id), ...(week ? { week: String(week) } : {}) },
      };
      const jwt = await keys.sign(
        {
          nonce: newToken(16),
          [CLAIM.messageType]: 'LtiDeepLinkingResponse',
          [CLAIM.version]: '1.3.0',
          [CLAIM.deploymentId]: request.deploymentId,
          [CLAIM.contentItems]: [item],
          ...(request.data !== null ? { [CLAIM.data]: request.data } : {}),
        },
        { expiresInSeconds: 600, issuer: platform.clientId, audience: platform.issuer },
      );
      return { returnUrl: request.returnUrl, jwt };
    },
  };
}
