// The reader's locale from Accept-Language, for formatting numbers and money on pages.
import type { FastifyRequest } from 'fastify';

/** Only the start of the header is read: a real browser sends well under this, a hostile client can send 16 kB. */
const MAX_HEADER = 256;
/** Likewise only the first few tags are tried (each costs a lookup in Intl). */
const MAX_TAGS = 8;
/** BCP 47 shape: a 1-8 letter primary subtag, then 1-8 alphanumeric subtags. Intl gets only what matches this. */
const TAG = /^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$/;
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;

/**
 * The reader's preferred locale that Intl.NumberFormat can format for: the first Accept-Language tag by q order
 * (ties keep header order) that Intl supports, canonicalised ("EN-us" → "en-US"); null when none (or no header).
 * Never throws, whatever the header holds.
 */
export function readerLocale(request: FastifyRequest): string | null {
  const raw = request.headers['accept-language'];
  const header = typeof raw === 'string' ? raw : Array.isArray(raw) ? raw[0] : undefined;
  if (!header) return null;
  return negotiateLocale(header);
}

/** The locale negotiation behind readerLocale, on the header's text. */
export function negotiateLocale(header: string): string | null {
  const candidates: { tag: string; q: number; index: number }[] = [];
  const parts = header.slice(0, MAX_HEADER).split(',');
  // A cut-off last tag ("de-D") is not what the reader sent.
  if (header.length > MAX_HEADER) parts.pop();
  for (const [index, part] of parts.entries()) {
    const [tagPart, ...params] = part.split(';');
    const tag = tagPart.trim();
    if (!TAG.test(tag)) continue; // "*", empty, or garbage
    let q = 1;
    let valid = true;
    for (const param of params) {
      const [name, value = ''] = param.split('=').map((x) => x.trim());
      if (name.toLowerCase() !== 'q') continue;
      if (!QVALUE.test(value)) valid = false;
      else q = Number(value);
    }
    if (valid && q > 0) candidates.push({ tag, q, index });
  }
  candidates.sort((a, b) => b.q - a.q || a.index - b.index);
  for (const { tag } of candidates.slice(0, MAX_TAGS)) {
    try {
      const [supported] = Intl.NumberFormat.supportedLocalesOf([tag], { localeMatcher: 'lookup' });
      if (supported) return supported;
    } catch {
      // A tag of the right shape that BCP 47 still refuses (e.g. a repeated variant "en-US-US"): try the next one.
    }
  }
  return null;
}
