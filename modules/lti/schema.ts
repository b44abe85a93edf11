// LTI 1.3: registered platforms, the tool's own key, login states, who is who per platform, resource links and
// contexts mapped to cohorts, gradebook line items, and the score outbox.
import { sqliteTable, integer, text, index, primaryKey, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { users } from '../people/schema.js';
import { cohorts } from '../cohorts/schema.js';

/** A platform (Moodle, Canvas, Brightspace…) an admin registered: one issuer and client id, its deployments. */
export const ltiPlatforms = sqliteTable(
  'lti_platforms',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    issuer: text('issuer').notNull(),
    clientId: text('client_id').notNull(),
    name: text('name').notNull().default(''),
    // JSON array of deployment ids accepted from this platform.
    deploymentIds: text('deployment_ids').notNull(),
    authLoginUrl: text('auth_login_url').notNull(),
    tokenUrl: text('token_url').notNull(),
    jwksUrl: text('jwks_url').notNull(),
    // 'api' | 'page' | 'dynamic': how it was registered.
    registeredVia: text('registered_via').notNull(),
    registeredBy: integer('registered_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [uniqueIndex('lti_platforms_issuer_client_uq').on(t.issuer, t.clientId)],
);

/** The tool's RS256 key pair, made once (one row, slot 'tool'); its public half is served at /lti/jwks.json. */
export const ltiToolKeys = sqliteTable('lti_tool_keys', {
  slot: text('slot').primaryKey(),
  kid: text('kid').notNull(),
  privateJwk: text('private_jwk').notNull(),
  publicJwk: text('public_jwk').notNull(),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
});

/** An OIDC login in progress: the state (hashed) and nonce sent to the platform, used once before it expires. */
export const ltiLoginStates = sqliteTable(
  'lti_login_states',
  {
    stateHash: text('state_hash').primaryKey(),
    nonce: text('nonce').notNull(),
    platformId: integer('platform_id').notNull().references(() => ltiPlatforms.id, { onDelete: 'cascade' }),
    targetLinkUri: text('target_link_uri').notNull(),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    expiresAt: integer('expires_at', { mode: 'timestamp_ms' }).notNull(),
    usedAt: integer('used_at', { mode: 'timestamp_ms' }),
  },
  (t) => [index('lti_login_states_expires_idx').on(t.expiresAt)],
);

/** A platform's user (its `sub`) linked to one of our users. */
export const ltiAccounts = sqliteTable(
  'lti_accounts',
  {
    platformId: integer('platform_id').notNull().references(() => ltiPlatforms.id, { onDelete: 'cascade' }),
    sub: text('sub').notNull(),
    userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.platformId, t.sub] }), index('lti_accounts_user_idx').on(t.userId)],
);

/** A resource link placed in a platform (by deep linking, or first launched with custom.cohort_id): its cohort and week. */
export const ltiResourceLinks = sqliteTable(
  'lti_resource_links',
  {
    platformId: integer('platform_id').notNull().references(() => ltiPlatforms.id, { onDelete: 'cascade' }),
    resourceLinkId: text('resource_link_id').notNull(),
    cohortId: integer('cohort_id').notNull().references(() => cohorts.id, { onDelete: 'cascade' }),
    week: integer('week'),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.platformId, t.resourceLinkId] }), index('lti_resource_links_cohort_idx').on(t.cohortId)],
);

/**
 * A platform context (a course there) linked to a cohort, with the service URLs its launches carried: the roster
 * (NRPS) and the gradebook (AGS). Updated on each launch.
 */
export const ltiContexts = sqliteTable(
  'lti_contexts',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    platformId: integer('platform_id').notNull().references(() => ltiPlatforms.id, { onDelete: 'cascade' }),
    contextId: text('context_id').notNull(),
    cohortId: integer('cohort_id').notNull().references(() => cohorts.id, { onDelete: 'cascade' }),
    deploymentId: text('deployment_id').notNull(),
    title: text('title').notNull().default(''),
    membershipsUrl: text('memberships_url'),
    lineItemsUrl: text('line_items_url'),
    // Space-separated AGS scopes the platform granted in the launch.
    agsScopes: text('ags_scopes').notNull().default(''),
    lastSyncedAt: integer('last_synced_at', { mode: 'timestamp_ms' }),
    updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [uniqueIndex('lti_contexts_platform_context_cohort_uq').on(t.platformId, t.contextId, t.cohortId), index('lti_contexts_cohort_idx').on(t.cohortId)],
);

/** A gradebook column made in a platform context, once: 'week:N' for a weekly assignment, 'certificate'. */
export const ltiLineItems = sqliteTable(
  'lti_line_items',
  {
    contextLinkId: integer('context_link_id').notNull().references(() => ltiContexts.id, { onDelete: 'cascade' }),
    item: text('item').notNull(),
    url: text('url').notNull(),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.contextLinkId, t.item] })],
);

/**
 * Scores waiting to reach a platform's gradebook: written in the transaction of the change they report, delivered
 * after commit, retried with backoff while the platform is down (the mail outbox's pattern, for AGS calls).
 */
export const ltiScoreOutbox = sqliteTable(
  'lti_score_outbox',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    contextLinkId: integer('context_link_id').notNull().references(() => ltiContexts.id, { onDelete: 'cascade' }),
    userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    item: text('item').notNull(),
    // JSON: { scoreGiven, scoreMaximum, activityProgress, gradingProgress, comment? } at the time of the change.
    score: text('score').notNull(),
    status: text('status', { enum: ['pending', 'sent', 'failed'] }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: integer('next_attempt_at', { mode: 'timestamp_ms' }).notNull(),
    leaseUntil: integer('lease_until', { mode: 'timestamp_ms' }),
    leaseOwner: text('lease_owner'),
    lastError: text('last_error'),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    sentAt: integer('sent_at', { mode: 'timestamp_ms' }),
  },
  (t) => [index('lti_score_outbox_due_idx').on(t.status, t.nextAttemptAt)],
);
