// Reading certificates back: lookup by code, lists and counts, the public verification document, the signed
// credential, the revocation status lists and key set, checking a credential, what the verification page shows, and
// the PDF.
import { count, desc, eq } from 'drizzle-orm';
import { DateTime } from 'luxon';
import type { Db } from '../../server/db.js';
import { users } from '../people/schema.js';
import { certificates } from './schema.js';
import { publicKeys, verifyCredential, type DataIntegrityProof, type KeyRing, type PublicJwk } from './signing.js';
import { revocationList, type StatusEntry, type StatusListCredential } from './status-list.js';
import { certificateUrls, type CertificateDeps, type CertificateDoc, type CertificateRow } from './types.js';

const LONG_DATE = 'd MMMM yyyy';
// Verification pages show a handful of dates over and over; luxon takes tens of microseconds per date.
const longDates = new Map<string, string>();
function remembered(key: string, make: () => string): string {
  let text = longDates.get(key);
  if (text === undefined) {
    text = make();
    if (longDates.size >= 10_000) longDates.clear();
    longDates.set(key, text);
  }
  return text;
}

/** "2 March 2026" in a zone. */
export function longDate(instant: Date, zone: string): string {
  return remembered(`${instant.getTime()}|${zone}`, () => DateTime.fromJSDate(instant, { zone }).setLocale('en-GB').toFormat(LONG_DATE));
}

/** "2 March 2026" for a local YYYY-MM-DD date. */
function longLocalDate(date: string): string {
  return remembered(date, () => DateTime.fromISO(date).setLocale('en-GB').toFormat(LONG_DATE));
}

const PDF_CACHE_SIZE = 64;

/** The certificate with this code (already upper-cased and of a plausible length), through `tx`. */
export async function byCode(tx: Db, code: string): Promise<CertificateRow | undefined> {
  const [row] = await tx.select().from(certificates).where(eq(certificates.code, code)).limit(1);
  return row;
}

/** A typed-in code as stored (upper case), or null when it cannot be one. */
export function normaliseCode(code: string): string | null {
  const c = code.trim().toUpperCase();
  return c.length < 16 || c.length > 64 ? null : c;
}

/** The verification use cases. */
export function verificationUseCases({ database, baseUrl, clock }: CertificateDeps, keys: KeyRing) {
  const pdfCache = new Map<string, Uint8Array>();

  const service = {
    /** The certificate with this code (case-insensitive), if any. */
    async find(code: string): Promise<CertificateRow | undefined> {
      const c = normaliseCode(code);
      return c ? byCode(database.db, c) : undefined;
    },

    /** Every certificate, newest first (optionally one cohort's). */
    async list(cohortId?: number): Promise<Array<CertificateRow & { email: string }>> {
      const rows = await database.db
        .select({ c: certificates, email: users.email })
        .from(certificates)
        .innerJoin(users, eq(users.id, certificates.userId))
        .where(cohortId ? eq(certificates.cohortId, cohortId) : undefined)
        .orderBy(desc(certificates.issuedAt), desc(certificates.id));
      return rows.map((r) => ({ ...r.c, email: r.email }));
    },

    /** Counts for dashboards. */
    async counts(cohortId?: number): Promise<{ valid: number; revoked: number }> {
      // count(column) counts the rows where it is set: the revoked ones.
      const [row] = await database.db
        .select({ all: count(), revoked: count(certificates.revokedAt) })
        .from(certificates)
        .where(cohortId ? eq(certificates.cohortId, cohortId) : undefined);
      const all = Number(row?.all ?? 0);
      const revoked = Number(row?.revoked ?? 0);
      return { valid: all - revoked, revoked };
    },

    /** A user's certificates (for "My courses"). */
    async forUser(userId: number): Promise<CertificateRow[]> {
      return database.db.select().from(certificates).where(eq(certificates.userId, userId)).orderBy(desc(certificates.issuedAt));
    },

    /** The public verification document. */
    doc(row: CertificateRow): CertificateDoc {
      const signed = JSON.parse(row.credential) as { proof: DataIntegrityProof; credentialStatus?: StatusEntry };
      return {
        code: row.code,
        learner: row.learnerName,
        course: row.courseTitle,
        courseSlug: row.courseSlug,
        cohort: { id: row.cohortId, startDate: row.cohortStartDate, endsAt: row.cohortEndsAt.toISOString(), timezone: row.cohortTimezone },
        hours: row.hours,
        issuedAt: row.issuedAt.toISOString(),
        status: row.revokedAt ? 'revoked' : 'valid',
        earned: row.earned,
        issued: row.issued,
        revokedAt: row.revokedAt?.toISOString() ?? null,
        revocationReason: row.revokedReason ?? null,
        ...certificateUrls(baseUrl, row.code),
        credentialStatus: signed.credentialStatus ?? null,
        proof: signed.proof,
      };
    },

    /** The signed Open Badges 3.0 credential, exactly as signed at issue. */
    credential(row: CertificateRow): Record<string, unknown> {
      return JSON.parse(row.credential) as Record<string, unknown>;
    },

    /** The revocation status list signed by the key `kid` (active or retired), or null for a key we never had. */
    async statusList(kid: string): Promise<StatusListCredential | null> {
      const key = await keys.byId(kid);
      return key ? revocationList(database.db, baseUrl, key, clock.now()) : null;
    },

    /**
     * Check a credential as we issued it: signed by one of our keys (active or retired) through its did:key, and not
     * revoked according to our records of its status list bit. Any change to what was signed makes it 'invalid'.
     */
    async check(credential: Record<string, unknown>): Promise<'valid' | 'revoked' | 'invalid'> {
      if (!verifyCredential(credential, await publicKeys(database.db))) return 'invalid';
      const index = Number((credential.credentialStatus as StatusEntry | undefined)?.statusListIndex);
      if (!Number.isInteger(index)) return 'invalid';
      const [row] = await database.db.select({ revokedAt: certificates.revokedAt }).from(certificates).where(eq(certificates.statusListIndex, index)).limit(1);
      if (!row) return 'invalid';
      return row.revokedAt ? 'revoked' : 'valid';
    },

    /** The published key set (JWKS). */
    async keySet(): Promise<{ keys: PublicJwk[] }> {
      await keys.ensure();
      return { keys: await publicKeys(database.db) };
    },

    /** What the verification page and PDF show, formatted in the cohort's zone. */
    view(row: CertificateRow) {
      return {
        code: row.code,
        learner: row.learnerName,
        course: row.courseTitle,
        courseSlug: row.courseSlug,
        dates: `${longLocalDate(row.cohortStartDate)} – ${longDate(row.cohortEndsAt, row.cohortTimezone)}`,
        hours: row.hours,
        issuedOn: longDate(row.issuedAt, row.cohortTimezone),
        earned: row.earned,
        onTime: row.earned === 'on_time',
        valid: !row.revokedAt,
        revokedOn: row.revokedAt ? longDate(row.revokedAt, row.cohortTimezone) : null,
        revocationReason: row.revokedReason,
        manual: row.issued === 'manual',
        ...certificateUrls(baseUrl, row.code),
      };
    },

    /** The PDF (cached per code and revocation state: it never changes otherwise). Rendered outside any transaction. */
    async pdf(row: CertificateRow): Promise<Uint8Array> {
      const cacheKey = `${row.code}:${row.revokedAt?.getTime() ?? ''}`;
      const hit = pdfCache.get(cacheKey);
      if (hit) return hit;
      const v = service.view(row);
      // pdf-lib and fontkit are loaded on the first PDF, not at start: they are about 20 MB of memory.
      const { renderCertificatePdf } = await import('./pdf.js');
      const bytes = await renderCertificatePdf({
        code: row.code,
        learnerName: row.learnerName,
        courseTitle: row.courseTitle,
        dates: v.dates,
        hours: row.hours,
        issuedOn: v.issuedOn,
        earned: row.earned,
        verifyUrl: v.verifyUrl,
        issuedAt: row.issuedAt,
        revoked: row.revokedAt ? { on: v.revokedOn!, reason: row.revokedReason ?? '' } : null,
      });
      if (pdfCache.size >= PDF_CACHE_SIZE) pdfCache.delete(pdfCache.keys().next().value!);
      pdfCache.set(cacheKey, bytes);
      return bytes;
    },
  };
  return service;
}
