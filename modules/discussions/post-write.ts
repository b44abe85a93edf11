// A post's body: how it is checked and rendered, and which posts count toward a certificate.
import { and, eq, isNull, type Placeholder } from 'drizzle-orm';
import { renderMarkdown } from '../../server/markdown.js';
import { posts, threads } from './schema.js';

export type PostRow = typeof posts.$inferSelect;

export const MAX_BODY = 20_000;

/**
 * The posts that count toward an author's certificate in a cohort: their own there, neither removed nor hidden. 
 */
export function countedPosts(cohortId: Placeholder, authorId: Placeholder) {
  return and(eq(posts.cohortId, cohortId), eq(posts.authorId, authorId), isNull(posts.deletedAt), eq(posts.hidden, false));
}

/** Normalises a post body and refuses an empty or over-long one (before anything is queued). */
export function checkBody(body: string): { ok: true; markdown: string } | { ok: false; message: string } {
  const markdown = body.replace(/\r\n?/g, '\n').trim();
  if (!markdown) return { ok: false, message: 'body: write something before posting.' };
  if (markdown.length > MAX_BODY) return { ok: false, message: `body: a post can be at most ${MAX_BODY} characters.` };
  return { ok: true, markdown };
}

/** The sanitised HTML of a checked body, or null when nothing is left once unsafe HTML is removed. */
export function renderPostBody(markdown: string): string | null {
  const html = renderMarkdown(markdown);
  return html.replace(/<[^>]*>/g, '').trim() ? html : null;
}

export const NOTHING_LEFT = 'body: nothing is left once unsafe HTML is removed; write your post as text or Markdown.';
