// People: accounts, passwordless sign-in links, browser sessions and API tokens.
import { and, eq, gt, gte, isNull, lt, sql } from 'drizzle-orm';
import type { AppContext } from '../../server/context.js';
import { hashToken, newToken } from '../../server/crypto.js';
import { BadInput, NotFound, TooManyRequests } from '../../server/errors.js';
import { apiTokens, authSessions, signInLinks, users, type Role } from './schema.js';

export type User = typeof users.$inferSelect;

export const SIGN_IN_LINK_MINUTES = 15;
export const SESSION_DAYS = 30;
/** Sign-in requests allowed per address and per IP within the link lifetime. */
export const SIGN_IN_LIMIT_PER_EMAIL = 5;
// Generous enough for a whole class signing in from one library's shared address.
export const SIGN_IN_LIMIT_PER_IP = 60;
/**
 * A sign-in link's row (the address and client address it was asked for from) is deleted this long after the link
 * expired: the limits above need 15 minutes of them, and a spent or expired link opens nothing.
 */
export const SIGN_IN_LINKS_KEPT_HOURS = 24;

const EMAIL = /^[^\s@<>()"',;:]+@[^\s@<>()"',;:]+\.[^\s@<>()"',;:]+$/;

/** Lower-case and trim an address; refuses what is not an address. */
export function normaliseEmail(email: string): string {
  const e = email.trim().toLowerCase();
  if (e.length > 254 || !EMAIL.test(e)) throw new BadInput(`"${email.slice(0, 80)}" is not an email address.`);
  return e;
}

/** A local path to return to after sign-in; anything else (other sites, protocol-relative) becomes "/". */
export function safeNext(next: unknown): string {
  // A repeated form field arrives as an array; anything but a string is no path.
  if (typeof next !== 'string') return '/';
  // Only printable ASCII (paths the app links to are percent-encoded): browsers drop tabs and newlines
  // ("/\t/evil.example" is "//evil.example" to them), and other characters cannot go in a Location header.
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || /[^\x21-\x7e]/.test(next)) return '/';
  return next.slice(0, 500);
}

export function createPeopleService(ctx: AppContext) {
  const { clock } = ctx;
  const db = () => ctx.db;

  const byEmail = (email: string) => db().select().from(users).where(eq(users.email, email)).get();
  // The two lookups behind every request are prepared once.
  const sessionUserStmt = ctx.db
    .select({ user: users })
    .from(authSessions)
    .innerJoin(users, eq(users.id, authSessions.userId))
    .where(and(eq(authSessions.idHash, sql.placeholder('hash')), gt(authSessions.expiresAt, sql.placeholder('now'))))
    .prepare();
  const tokenUserStmt = ctx.db
    .select()
    .from(users)
    .where(eq(users.id, sql`(select ${apiTokens.userId} from ${apiTokens} where ${apiTokens.tokenHash} = ${sql.placeholder('hash')} and ${apiTokens.revokedAt} is null)`))
    .prepare();

  const service = {
    /** The user with this address, or undefined. */
    findByEmail(email: string): User | undefined {
      return byEmail(normaliseEmail(email));
    },

    /** The user with this id, or throws 404. */
    get(id: number): User {
      const u = db().select().from(users).where(eq(users.id, id)).get();
      if (!u) throw new NotFound('User');
      return u;
    },

    /** Create a user, or update name and role of an existing one (the CLI's `user add`). */
    upsert(input: { email: string; name?: string; role?: Role }): User {
      const email = normaliseEmail(input.email);
      const existing = byEmail(email);
      if (existing) {
        const patch: Partial<User> = {};
        if (input.name !== undefined && input.name !== existing.name) patch.name = input.name;
        if (input.role !== undefined && input.role !== existing.role) patch.role = input.role;
        if (Object.keys(patch).length === 0) return existing;
        return db().update(users).set(patch).where(eq(users.id, existing.id)).returning().get();
      }
      return db()
        .insert(users)
        .values({ email, name: input.name ?? '', role: input.role ?? 'learner', createdAt: clock.now() })
        .returning()
        .get();
    },

    /** Find or create a learner account for an address (bookings, token issue); never changes a role. */
    ensure(email: string, name?: string): User {
      const e = normaliseEmail(email);
      const existing = byEmail(e);
      if (existing) {
        if (name && !existing.name) return db().update(users).set({ name }).where(eq(users.id, existing.id)).returning().get();
        return existing;
      }
      return service.upsert({ email: e, name, role: 'learner' });
    },

    /** Update the learner's own profile settings. */
    updateProfile(userId: number, patch: { name?: string; timezone?: string | null; digestOptOut?: boolean }): User {
      return db().update(users).set(patch).where(eq(users.id, userId)).returning().get();
    },

    /** Delete sign-in links that expired more than SIGN_IN_LINKS_KEPT_HOURS ago (a scheduled job); returns how many. */
    forgetOldSignInLinks(now: Date): number {
      const cutoff = new Date(now.getTime() - SIGN_IN_LINKS_KEPT_HOURS * 3_600_000);
      return db().delete(signInLinks).where(lt(signInLinks.expiresAt, cutoff)).run().changes;
    },

    /**
     * Email a single-use sign-in link. Unknown addresses get no mail but the same answer (no account probing).
     * Throws 429 past the per-address or per-IP limit.
     */
    requestSignIn(input: { email: string; ip: string; next?: string | null }): { sent: boolean } {
      const email = normaliseEmail(input.email);
      const now = clock.now();
      const windowStart = new Date(now.getTime() - SIGN_IN_LINK_MINUTES * 60_000);
      const count = (cond: ReturnType<typeof eq>) =>
        db()
          .select({ n: sql<number>`count(*)` })
          .from(signInLinks)
          .where(and(cond, gte(signInLinks.createdAt, windowStart)))
          .get()?.n ?? 0;
      if (count(eq(signInLinks.email, email)) >= SIGN_IN_LIMIT_PER_EMAIL || count(eq(signInLinks.ip, input.ip)) >= SIGN_IN_LIMIT_PER_IP) {
        throw new TooManyRequests(`Too many sign-in requests. Wait ${SIGN_IN_LINK_MINUTES} minutes and try again.`);
      }
      const user = byEmail(email);
      const token = newToken();
      const next = safeNext(input.next);
      db().transaction((tx) => {
        // Every request counts toward the limit, also for unknown addresses.
        tx.insert(signInLinks)
          .values({
            tokenHash: hashToken(token),
            email,
            ip: input.ip,
            next,
            createdAt: now,
            expiresAt: new Date(now.getTime() + SIGN_IN_LINK_MINUTES * 60_000),
          })
          .run();
        if (user) {
          ctx.mailer.enqueue(tx, {
            to: email,
            subject: 'Your sign-in link',
            template: 'sign-in-link',
            data: { name: user.name || email, url: `${ctx.baseUrl}/sign-in/${token}`, minutes: SIGN_IN_LINK_MINUTES },
          });
        }
      });
      return { sent: Boolean(user) };
    },

    /** Whether a sign-in link is still usable (for the confirm page); does not consume it. */
    checkSignInLink(token: string): { ok: true; email: string } | { ok: false; reason: 'used' | 'expired' | 'unknown' } {
      const link = db().select().from(signInLinks).where(eq(signInLinks.tokenHash, hashToken(token))).get();
      if (!link) return { ok: false, reason: 'unknown' };
      if (link.usedAt) return { ok: false, reason: 'used' };
      if (link.expiresAt.getTime() <= clock.now().getTime()) return { ok: false, reason: 'expired' };
      return { ok: true, email: link.email };
    },

    /** Consume a sign-in link (once) and open a new session; returns the session cookie value. */
    consumeSignIn(token: string): { sessionToken: string; user: User; next: string } {
      const now = clock.now();
      return db().transaction((tx) => {
        // The conditional update is the single-use guarantee: only one request can flip used_at.
        const link = tx
          .update(signInLinks)
          .set({ usedAt: now })
          .where(and(eq(signInLinks.tokenHash, hashToken(token)), isNull(signInLinks.usedAt), gt(signInLinks.expiresAt, now)))
          .returning()
          .get();
        if (!link) throw new BadInput('This sign-in link has expired or has already been used. Ask for a new one.');
        const user = tx.select().from(users).where(eq(users.email, link.email)).get();
        if (!user) throw new BadInput('This sign-in link has expired or has already been used. Ask for a new one.');
        const sessionToken = newToken();
        tx.insert(authSessions)
          .values({
            idHash: hashToken(sessionToken),
            userId: user.id,
            createdAt: now,
            expiresAt: new Date(now.getTime() + SESSION_DAYS * 86_400_000),
          })
          .run();
        return { sessionToken, user, next: link.next ?? '/' };
      });
    },

    /** The user behind a session cookie, if the session is live. */
    userForSession(sessionToken: string): User | undefined {
      const now = clock.now().getTime();
      const hash = hashToken(sessionToken);
      return sessionUserStmt.get({ hash, now })?.user;
    },

    /** End a browser session. */
    signOut(sessionToken: string): void {
      db().delete(authSessions).where(eq(authSessions.idHash, hashToken(sessionToken))).run();
    },

    /** Issue an API token for a user (creating a learner account if the address is new). */
    createApiToken(email: string): { token: string; user: User } {
      const user = service.ensure(email);
      const token = `cc_${newToken()}`;
      db().insert(apiTokens).values({ tokenHash: hashToken(token), userId: user.id, createdAt: clock.now() }).run();
      return { token, user };
    },

    /** The user behind an API token, if it is not revoked. */
    userForApiToken(token: string): User | undefined {
      const hash = hashToken(token);
      return tokenUserStmt.get({ hash });
    },
  };
  return service;
}

export type PeopleService = ReturnType<typeof createPeopleService>;
