// Markdown to safe HTML: the one renderer for course text, week edits and discussion posts.
import { Marked } from 'marked';
import sanitizeHtml from 'sanitize-html';

const marked = new Marked({ gfm: true, breaks: false, async: false });

const ALLOWED_TAGS = [
  'p', 'br', 'hr', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'pre', 'code', 'em', 'strong', 'del', 's',
  'ul', 'ol', 'li', 'a', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'sup', 'sub',
];

/** Options for sanitize-html: a small safe subset, links made inert for tracking and opener abuse. */
const SANITIZE: sanitizeHtml.IOptions = {
  allowedTags: ALLOWED_TAGS,
  allowedAttributes: { a: ['href', 'title', 'rel'], th: ['align'], td: ['align'], ol: ['start'], code: ['class'] },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesAppliedToAttributes: ['href'],
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  // h1 belongs to the page; demote author headings so the outline stays valid.
  transformTags: {
    h1: 'h2',
    a: sanitizeHtml.simpleTransform('a', { rel: 'nofollow ugc noopener' }, true),
  },
  allowedClasses: { code: [/^language-[a-z0-9-]+$/] },
};

/** Render Markdown (GFM) to sanitised HTML; raw HTML inside the Markdown is sanitised too. */
export function renderMarkdown(markdown: string): string {
  const html = marked.parse(markdown) as string;
  return sanitizeHtml(html, SANITIZE);
}

/** Sanitise HTML that did not come from our Markdown renderer. */
export function sanitize(html: string): string {
  return sanitizeHtml(html, SANITIZE);
}
