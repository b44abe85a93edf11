// Certificates: issued certificates (a snapshot of what they certify, signed, with their status list bit), the signing
// keys (one active, older ones kept so what they signed still verifies), and nudges sent.
import { sql } from 'drizzle-orm';
import { sqliteTable, integer, text, real, index, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { users } from '../people/schema.js';
import { cohorts } from '../cohorts/schema.js';

export const certificates = sqliteTable(
  'certificates',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    // ≥ 128 random bits, base32: the public identifier printed on the PDF and in the verification URL.
    code: text('code').notNull().unique(),
    cohortId: integer('cohort_id').notNull().references(() => cohorts.id),
    userId: integer('user_id').notNull().references(() => users.id),
    // What the certificate says, frozen at issue: later renames or cohort moves do not change it.
    learnerName: text('learner_name').notNull(),
    courseSlug: text('course_slug').notNull(),
    courseTitle: text('course_title').notNull(),
    cohortStartDate: text('cohort_start_date').notNull(),
    cohortEndsAt: integer('cohort_ends_at', { mode: 'timestamp_ms' }).notNull(),
    cohortTimezone: text('cohort_timezone').notNull(),
    hours: real('hours').notNull(),
    issuedAt: integer('issued_at', { mode: 'timestamp_ms' }).notNull(),
    earned: text('earned', { enum: ['on_time', 'grace'] }).notNull(),
    issued: text('issued', { enum: ['auto', 'manual'] }).notNull(),
    issuedBy: integer('issued_by').references(() => users.id),
    // The signed credential (canonical JSON with its proof), so it verifies the same for ever.
    credential: text('credential').notNull(),
    revokedAt: integer('revoked_at', { mode: 'timestamp_ms' }),
    revokedReason: text('revoked_reason'),
    revokedBy: integer('revoked_by').references(() => users.id),
    // The certificate's bit in the published revocation status list (W3C Bitstring Status List), allocated once at
    // random when it is issued; null only for certificates from before the list, until the start-up upgrade gives one.
    statusListIndex: integer('status_list_index'),
  },
  (t) => [
    // At most one valid certificate per learner and cohort: concurrent triggers cannot issue two.
    uniqueIndex('certificates_valid_uq').on(t.cohortId, t.userId).where(sql`revoked_at is null`),
    index('certificates_user_idx').on(t.userId),
    index('certificates_issued_idx').on(t.issuedAt),
    uniqueIndex('certificates_status_list_index_uq').on(t.statusListIndex),
  ],
);

export const signingKeys = sqliteTable('certificate_signing_keys', {
  // RFC 7638 JWK thumbprint of the public key.
  kid: text('kid').primaryKey(),
  // Ed25519 keys: the public one as a JWK (JSON), the private one as PKCS#8 PEM.
  publicJwk: text('public_jwk').notNull(),
  privatePem: text('private_pem').notNull(),
  // 1 for the key that signs new certificates (unique, so two processes cannot both create one); null for a retired key,
  // kept so the credentials it signed still verify and its status list can still be signed.
  active: integer('active').unique(),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
});

export const certificateNudges = sqliteTable(
  'certificate_nudges',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    cohortId: integer('cohort_id').notNull().references(() => cohorts.id, { onDelete: 'cascade' }),
    userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    // Local date (YYYY-MM-DD) in the cohort's zone: one nudge per learner per day.
    day: text('day').notNull(),
    sentBy: integer('sent_by').references(() => users.id),
    sentAt: integer('sent_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [uniqueIndex('certificate_nudges_day_uq').on(t.cohortId, t.userId, t.day)],
);
