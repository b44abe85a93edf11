// The member list: single addresses and whole domains whose people book free, added one by one or imported from CSV.
import { asc, eq, inArray, sql } from 'drizzle-orm';
import { isUniqueViolation, type Db } from '../../server/db.js';
import { BadInput, Conflict, NotFound, TooLarge } from '../../server/errors.js';
import { normaliseEmail, type User } from '../people/service.js';
import { users } from '../people/schema.js';
import { parseCsv } from './csv.js';
import { members } from './schema.js';
import { IMPORT_MAX_ROWS, normaliseDomain, registrableDomain, type BookingDeps, type ImportReport, type MemberRow, type MemberView } from './model.js';

function memberView(m: MemberRow, addedBy: string | null): MemberView {
  return { id: m.id, email: m.email, domain: m.domain, addedBy, createdAt: m.createdAt };
}

async function memberExists(q: Db, value: { email?: string; domain?: string }): Promise<boolean> {
  const where = value.email ? eq(members.email, value.email) : eq(members.domain, value.domain!);
  return (await q.select({ id: members.id }).from(members).where(where).limit(1)).length > 0;
}

/**
 * Candidate member domains of an address: its domain and each parent down to the registrable domain
 * (staff.lib.co.uk → staff.lib.co.uk, lib.co.uk), never a public suffix, so a suffix put on the list before they
 * were refused (co.uk) makes nobody a member.
 */
function domainsOf(email: string): string[] {
  const host = email.split('@')[1];
  const registrable = registrableDomain(host);
  if (!registrable) return [];
  const labels = host.split('.');
  const out: string[] = [];
  for (let i = 0; i <= labels.length - registrable.split('.').length; i++) out.push(labels.slice(i).join('.'));
  return out;
}

/** Add one address or one whole domain to the member list (admin); 409 when it is already there. */
export async function addMember({ database, clock }: BookingDeps, input: { email?: string; domain?: string }, actor: User): Promise<MemberView> {
  if (Boolean(input.email) === Boolean(input.domain)) throw new BadInput('Send either email or domain (one of them).');
  const value = input.email ? { email: normaliseEmail(input.email) } : { domain: normaliseDomain(input.domain!) };
  try {
    const m = await database.transaction(async (tx) => {
      const [added] = await tx
        .insert(members)
        .values({ email: value.email ?? null, domain: value.domain ?? null, addedBy: actor.id, createdAt: clock.now() })
        .returning();
      return added;
    });
    return memberView(m, actor.email);
  } catch (err) {
    if (isUniqueViolation(err)) throw new Conflict(`${value.email ?? value.domain} is already on the member list.`);
    throw err;
  }
}

/** The member list: domains first, then addresses, alphabetically. */
export async function listMembers({ database }: BookingDeps): Promise<MemberView[]> {
  const rows = await database.db
    .select({ m: members, addedBy: users.email })
    .from(members)
    .leftJoin(users, eq(users.id, members.addedBy))
    .orderBy(sql`${members.domain} is null`, asc(members.domain), asc(members.email));
  return rows.map((r) => memberView(r.m, r.addedBy));
}

/** Remove an entry from the member list; existing bookings are not touched. */
export async function removeMember({ database }: BookingDeps, id: number): Promise<void> {
  const gone = await database.transaction((tx) => tx.delete(members).where(eq(members.id, id)).returning({ id: members.id }));
  if (gone.length === 0) throw new NotFound('Member entry');
}

/** How an address qualifies as a member (its own entry or its domain), or null. Reads through `q` (a booking's `tx`). */
export async function memberMatch(q: Db, email: string): Promise<{ by: 'email' | 'domain'; value: string } | null> {
  const e = normaliseEmail(email);
  if (await memberExists(q, { email: e })) return { by: 'email', value: e };
  const candidates = domainsOf(e);
  if (candidates.length === 0) return null;
  const [d] = await q.select({ domain: members.domain }).from(members).where(inArray(members.domain, candidates)).limit(1);
  return d?.domain ? { by: 'domain', value: d.domain } : null;
}

/**
 * Import addresses and domains from CSV (one per row; a header row naming an `email` or `domain` column is
 * optional). Every row is accepted or refused with a reason; accepted rows are added in one transaction.
 */
export async function importMembers({ database, clock }: BookingDeps, csv: string, actor: User): Promise<ImportReport> {
  const rows = parseCsv(csv);
  if (rows.length > IMPORT_MAX_ROWS + 1) throw new TooLarge(`The file has ${rows.length} rows; import at most ${IMPORT_MAX_ROWS} at a time.`);
  let emailCol = 0;
  let domainCol = -1;
  let start = 0;
  const head = (rows[0] ?? []).map((c) => c.trim().toLowerCase());
  if (head.some((c) => /^(e-?mail( address)?|address|domain|member)$/.test(c)) && !head.some((c) => c.includes('@') || c.includes('.'))) {
    emailCol = head.findIndex((c) => /^(e-?mail( address)?|address|member)$/.test(c));
    domainCol = head.indexOf('domain');
    start = 1;
  }
  const now = clock.now();
  return database.transaction(async (tx) => {
    const report: ImportReport = { accepted: [], refused: [] };
    const seen = new Map<string, number>();
    for (let i = start; i < rows.length; i++) {
      const line = i + 1;
      const cells = rows[i];
      const raw = ((emailCol >= 0 ? cells[emailCol] : '') || (domainCol >= 0 ? cells[domainCol] : '') || '').trim();
      if (!raw) {
        if (cells.some((c) => c.trim())) report.refused.push({ row: line, value: cells.join(',').slice(0, 200), reason: 'no address or domain in the expected column' });
        continue;
      }
      const value = raw.slice(0, 300);
      const isEmail = /^[^@]+@/.test(raw);
      let norm: { email?: string; domain?: string };
      try {
        norm = isEmail ? { email: normaliseEmail(raw) } : { domain: normaliseDomain(raw) };
      } catch (err) {
        report.refused.push({ row: line, value, reason: isEmail ? 'not a valid email address' : (err as Error).message });
        continue;
      }
      const key = norm.email ?? `@${norm.domain}`;
      if (seen.has(key)) {
        report.refused.push({ row: line, value, reason: `duplicate of row ${seen.get(key)}` });
        continue;
      }
      seen.set(key, line);
      if (await memberExists(tx, norm)) {
        report.refused.push({ row: line, value, reason: 'already on the member list' });
        continue;
      }
      await tx.insert(members).values({ email: norm.email ?? null, domain: norm.domain ?? null, addedBy: actor.id, createdAt: now });
      report.accepted.push({ row: line, value: norm.email ?? norm.domain!, type: norm.email ? 'email' : 'domain' });
    }
    return report;
  });
}
