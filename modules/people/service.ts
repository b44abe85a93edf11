// People: accounts, passwordless sign-in links, browser sessions and API tokens.
import { and, eq, gt, gte, isNull, lt, type SQL } from 'drizzle-orm';
import type { Clock } from '../../server/clock.js';
import type { AppDatabase, Db } from '../../server/db.js';
import type { Mailer } from '../../server/mailer.js';
import { hashToken, newToken } from '../../server/crypto.js';
import { BadInput, NotFound, TooManyRequests } from '../../server/errors.js';
import { apiTokens, authSessions, signInLinks, users, type Role } from './schema.js';

export type User = typeof users.$inferSelect;

declare module '../../server/panels.js' {
  interface PanelPlaces {
    /** "My courses", once per signed-in user. */
    my: { user: User; now: Date };
    /** The admin dashboard. */
    admin: { user: User; now: Date };
  }
}

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

export interface PeopleDeps {
  database: AppDatabase;
  clock: Clock;
  mailer: Mailer;
  /** The absolute URL of the plugin's root, for the links in sign-in mail. */
  baseUrl: string;
}

/** The user with this (normalised) address, read through `q` (the read connection, or a transaction's tx). */
async function byEmail(q: Db, email: string): Promise<User | undefined> {
  const [u] = await q.select().from(users).where(eq(users.email, email)).limit(1);
  return u;
}

/** The people service: accounts, sign-in links, sessions and API tokens. */
export function createPeopleService({ database, clock, mailer, baseUrl }: PeopleDeps) {
  const service = {
    /** The user with this address, or undefined. */
    async findByEmail(email: string, q: Db = database.db): Promise<User | undefined> {
      return byEmail(q, normaliseEmail(email));
    },

    /** The user with this id, or throws 404. Inside a transaction, pass its `tx`. */
    async get(id: number, tx: Db = database.db): Promise<User> {
      const [u] = await tx.select().from(users).where(eq(users.id, id)).limit(1);
      if (!u) throw new NotFound('User');
      return u;
    },

    /** Create a user, or update name and role of an existing one (the CLI's `user add`). */
    async upsert(input: { email: string; name?: string; role?: Role }): Promise<User> {
      const email = normaliseEmail(input.email);
      return database.transaction(async (tx) => {
        const existing = await byEmail(tx, email);
        if (existing) {
          const patch: Partial<User> = {};
          if (input.name !== undefined && input.name !== existing.name) patch.name = input.name;
          if (input.role !== undefined && input.role !== existing.role) patch.role = input.role;
          if (Object.keys(patch).length === 0) return existing;
          const [updated] = await tx.update(users).set(patch).where(eq(users.id, existing.id)).returning();
          return updated;
        }
        const [created] = await tx
          .insert(users)
          .values({ email, name: input.name ?? '', role: input.role ?? 'learner', createdAt: clock.now() })
          .returning();
        return created;
      });
    },

    /**
     * Find or create a learner account for an address (bookings, token issue) inside the caller's transaction `tx`.
     * An existing account is returned as it is: whoever books with an address does not own it, so the name given is
     * used only for a new account.
     */
    async ensure(tx: Db, email: string, name?: string): Promise<User> {
      const e = normaliseEmail(email);
      const existing = await byEmail(tx, e);
      if (existing) return existing;
      const [created] = await tx.insert(users).values({ email: e, name: name ?? '', role: 'learner', createdAt: clock.now() }).returning();
      return created;
    },

    /** Update the learner's own profile settings. */
    async updateProfile(userId: number, patch: { name?: string; timezone?: string | null; digestOptOut?: boolean }): Promise<User> {
      return database.transaction(async (tx) => {
        const [u] = await tx.update(users).set(patch).where(eq(users.id, userId)).returning();
        if (!u) throw new NotFound('User');
        return u;
      });
    },

    /** Delete sign-in links that expired more than SIGN_IN_LINKS_KEPT_HOURS ago (a scheduled job); returns how many. */
    async forgetOldSignInLinks(now: Date): Promise<number> {
      const cutoff = new Date(now.getTime() - SIGN_IN_LINKS_KEPT_HOURS * 3_600_000);
      return database.transaction(async (tx) => {
        const gone = await tx.delete(signInLinks).where(lt(signInLinks.expiresAt, cutoff)).returning({ id: signInLinks.id });
        return gone.length;
      });
    },

    /**
     * Email a single-use sign-in link. Unknown addresses get no mail but the same answer (no account probing).
     * Throws 429 past the per-address or per-IP limit.
     */
    async requestSignIn(input: { email: string; ip: string; next?: string | null }): Promise<{ sent: boolean }> {
      const email = normaliseEmail(input.email);
      const now = clock.now();
      const windowStart = new Date(now.getTime() - SIGN_IN_LINK_MINUTES * 60_000);
      const token = newToken();
      const next = safeNext(input.next);
      return database.transaction(async (tx) => {
        // Counted in the transaction that adds the link: concurrent requests for one address queue behind each other,
        // so none slips past the limit on a count made before another's insert.
        const count = (cond: SQL) => tx.$count(signInLinks, and(cond, gte(signInLinks.createdAt, windowStart)));
        if ((await count(eq(signInLinks.email, email))) >= SIGN_IN_LIMIT_PER_EMAIL || (await count(eq(signInLinks.ip, input.ip))) >= SIGN_IN_LIMIT_PER_IP) {
          throw new TooManyRequests(`Too many sign-in requests. Wait ${SIGN_IN_LINK_MINUTES} minutes and try again.`);
        }
        const user = await byEmail(tx, email);
        // Every request counts toward the limit, also for unknown addresses.
        await tx.insert(signInLinks).values({
          tokenHash: hashToken(token),
          email,
          ip: input.ip,
          next,
          createdAt: now,
          expiresAt: new Date(now.getTime() + SIGN_IN_LINK_MINUTES * 60_000),
        });
        if (user) {
          await mailer.enqueue(tx, {
            to: email,
            subject: 'Your sign-in link',
            template: 'sign-in-link',
            data: { name: user.name || email, url: `${baseUrl}/sign-in/${token}`, minutes: SIGN_IN_LINK_MINUTES },
          });
        }
        return { sent: Boolean(user) };
      });
    },

    /** Whether a sign-in link is still usable (for the confirm page); does not consume it. */
    async checkSignInLink(token: string): Promise<{ ok: true; email: string } | { ok: false; reason: 'used' | 'expired' | 'unknown' }> {
      const [link] = await database.db.select().from(signInLinks).where(eq(signInLinks.tokenHash, hashToken(token))).limit(1);
      if (!link) return { ok: false, reason: 'unknown' };
      if (link.usedAt) return { ok: false, reason: 'used' };
      if (link.expiresAt.getTime() <= clock.now().getTime()) return { ok: false, reason: 'expired' };
      return { ok: true, email: link.email };
    },

    /** Consume a sign-in link (once) and open a new session; returns the session cookie value. */
    async consumeSignIn(token: string): Promise<{ sessionToken: string; user: User; next: string }> {
      const now = clock.now();
      return database.transaction(async (tx) => {
        // The conditional update is the single-use guarantee: only one request can flip used_at.
        const [link] = await tx
          .update(signInLinks)
          .set({ usedAt: now })
          .where(and(eq(signInLinks.tokenHash, hashToken(token)), isNull(signInLinks.usedAt), gt(signInLinks.expiresAt, now)))
          .returning();
        if (!link) throw new BadInput('This sign-in link has expired or has already been used. Ask for a new one.');
        const user = await byEmail(tx, link.email);
        if (!user) throw new BadInput('This sign-in link has expired or has already been used. Ask for a new one.');
        const sessionToken = newToken();
        await tx.insert(authSessions).values({
          idHash: hashToken(sessionToken),
          userId: user.id,
          createdAt: now,
          expiresAt: new Date(now.getTime() + SESSION_DAYS * 86_400_000),
        });
        return { sessionToken, user, next: link.next ?? '/' };
      });
    },

    /** The user behind a session cookie, if the session is live. */
    async userForSession(sessionToken: string): Promise<User | undefined> {
      const [row] = await database.db
        .select({ user: users })
        .from(authSessions)
        .innerJoin(users, eq(users.id, authSessions.userId))
        .where(and(eq(authSessions.idHash, hashToken(sessionToken)), gt(authSessions.expiresAt, clock.now())))
        .limit(1);
      return row?.user;
    },

    /** End a browser session. */
    async signOut(sessionToken: string): Promise<void> {
      await database.transaction(async (tx) => {
        await tx.delete(authSessions).where(eq(authSessions.idHash, hashToken(sessionToken)));
      });
    },

    /** Issue an API token for a user (creating a learner account if the address is new). */
    async createApiToken(email: string): Promise<{ token: string; user: User }> {
      const token = `cc_${newToken()}`;
      return database.transaction(async (tx) => {
        const user = await service.ensure(tx, email);
        await tx.insert(apiTokens).values({ tokenHash: hashToken(token), userId: user.id, createdAt: clock.now() });
        return { token, user };
      });
    },

    /** The user behind an API token, if it is not revoked. */
    async userForApiToken(token: string): Promise<User | undefined> {
      const [row] = await database.db
        .select({ user: users })
        .from(apiTokens)
        .innerJoin(users, eq(users.id, apiTokens.userId))
        .where(and(eq(apiTokens.tokenHash, hashToken(token)), isNull(apiTokens.revokedAt)))
        .limit(1);
      return row?.user;
    },
  };
  return service;
}

export type PeopleService = ReturnType<typeof createPeopleService>;
