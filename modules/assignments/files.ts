// Checking uploads: type checks by extension and content, size limits, safe names, random ids. The checked bytes are
// kept in the database (file_contents), written in the transaction that attaches the file.
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { BadInput, TooLarge } from '../../server/errors.js';
import type { UploadRule } from '../courses/content.js';

/** MIME types we serve, chosen from the extension we accepted (never from what the browser claimed). */
export const MIME_TYPES: Record<string, string> = {
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  png: 'image/png',
  jpg: 'image/jpeg',
  txt: 'text/plain; charset=utf-8',
};

const TYPE_NAMES: Record<string, string> = { pdf: 'PDF', docx: 'Word', pptx: 'PowerPoint', xlsx: 'Excel', png: 'PNG image', jpg: 'JPEG image', txt: 'plain text' };

/** "PDF, Word" for a list of extensions, for people. */
export function describeTypes(types: string[]): string {
  return types.map((t) => `${TYPE_NAMES[t] ?? t} (.${t})`).join(', ');
}

/** The `accept` attribute for a file input. */
export function acceptAttribute(types: string[]): string {
  return types.flatMap((t) => (t === 'jpg' ? ['.jpg', '.jpeg'] : [`.${t}`])).join(',');
}

const ZIP = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Does the start of the file look like the type its extension claims? Office files are ZIP containers. */
export function magicMatches(ext: string, head: Buffer): boolean {
  switch (ext) {
    case 'pdf':
      return head.subarray(0, 5).toString('latin1') === '%PDF-';
    case 'png':
      return head.subarray(0, 8).equals(PNG);
    case 'jpg':
      return head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff;
    case 'docx':
    case 'pptx':
    case 'xlsx':
      return head.subarray(0, 4).equals(ZIP);
    case 'txt':
      return true; // checked as UTF-8 without NUL bytes while streaming
    default:
      return false;
  }
}

/** The lower-case extension of a file name, with .jpeg read as jpg; '' when there is none. */
export function extensionOf(filename: string): string {
  const m = /\.([A-Za-z0-9]{1,8})$/.exec(filename.trim());
  if (!m) return '';
  const ext = m[1].toLowerCase();
  return ext === 'jpeg' ? 'jpg' : ext;
}

/**
 * A name safe to show and to offer for download: no folders, control or bidi characters, or reserved
 * punctuation; at most 120 characters; always ending in the accepted extension.
 */
export function sanitiseFilename(name: string, ext: string): string {
  let base = (name.split(/[\\/]/).pop() ?? '').normalize('NFC');
  base = base
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '')
    .replace(/[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, '')
    .replace(/[<>:"|?*;%$`]/g, '_')
    .replace(/\s+/g, ' ')
    .trim();
  // Drop whatever extension it had (the accepted one goes back on), then leading dots: no hidden files.
  base = base.replace(/\.[A-Za-z0-9]{1,8}$/, '').replace(/^[.\s-]+/, '').trim();
  if (!base) base = 'upload';
  const chars = [...base];
  if (chars.length > 110) base = chars.slice(0, 110).join('').trim();
  return `${base}.${ext === 'jpg' ? 'jpg' : ext}`;
}

/** Letters that do not decompose to ASCII under NFKD, for the plain-ASCII fallback name. */
const ASCII_LOOKALIKES: Record<string, string> = {
  Ł: 'L', ł: 'l', Ø: 'O', ø: 'o', Đ: 'D', đ: 'd', ß: 'ss', Æ: 'AE', æ: 'ae', Œ: 'OE', œ: 'oe', Þ: 'Th', þ: 'th', ı: 'i',
  '\u2018': "'", '\u2019': "'", '\u201c': '_', '\u201d': '_', '\u2013': '-', '\u2014': '-',
};

/** A Content-Disposition header that downloads under the sanitised name, with an ASCII fallback. */
export function contentDisposition(filename: string): string {
  let ascii = [...filename.normalize('NFKD')]
    .map((c) => ASCII_LOOKALIKES[c] ?? c)
    .join('')
    .replace(/[^\x20-\x7e]/g, '').replace(/["\\]/g, '_').trim();
  if (!ascii.replace(/\.[A-Za-z0-9]{1,8}$/, '').trim()) ascii = `download${/\.[A-Za-z0-9]{1,8}$/.exec(filename)?.[0] ?? ''}`;
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

export interface PreparedUpload {
  content: Buffer;
  originalName: string;
  ext: string;
  type: string;
  size: number;
  sha256: string;
}

/** A new random file id (128 bits, hex): the public handle. */
export function newFileId(): string {
  return randomBytes(16).toString('hex');
}

/** Read a stream to its end without keeping it (so a refused upload does not stall the request). */
async function drain(stream: Readable): Promise<void> {
  try {
    for await (const _ of stream) void _;
  } catch {
    /* the request is being refused anyway */
  }
}

export function createFileStore() {
  return {
    /**
     * Read an upload while checking it: the extension must be one the assignment accepts, the content must match it,
     * and it must not exceed the limit (`truncated` is set by busboy, which stops reading at the limit, so at most the
     * limit is ever held in memory). Neither driver streams into a blob or bytea column, so the bytes are gathered and
     * written whole.
     */
    async prepare(rule: UploadRule, filename: string, stream: Readable & { truncated?: boolean }): Promise<PreparedUpload> {
      const ext = extensionOf(filename);
      if (!ext || !rule.types.includes(ext)) {
        await drain(stream);
        throw new BadInput(`"${sanitiseFilename(filename, ext || 'file')}" is not an accepted type. Upload ${describeTypes(rule.types)}.`, 'file');
      }
      const hash = createHash('sha256');
      const chunks: Buffer[] = [];
      let size = 0;
      let textOk = true;
      const decoder = ext === 'txt' ? new TextDecoder('utf-8', { fatal: true }) : null;
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size <= rule.maxBytes) chunks.push(chunk);
        if (decoder && textOk) {
          try {
            decoder.decode(chunk, { stream: true });
            if (chunk.includes(0)) textOk = false;
          } catch {
            textOk = false;
          }
        }
        hash.update(chunk);
      }
      if (decoder && textOk) {
        try {
          decoder.decode();
        } catch {
          textOk = false;
        }
      }
      if (stream.truncated || size > rule.maxBytes) {
        throw new TooLarge(`file: the file is larger than ${formatMb(rule.maxBytes)}, the limit for this assignment.`);
      }
      if (size === 0) throw new BadInput('the file is empty.', 'file');
      const content = Buffer.concat(chunks, size);
      if (!magicMatches(ext, content.subarray(0, 16)) || !textOk) {
        throw new BadInput(`the content is not a ${TYPE_NAMES[ext] ?? ext} file, whatever its name says. Upload ${describeTypes(rule.types)}.`, 'file');
      }
      return {
        content,
        originalName: sanitiseFilename(filename, ext),
        ext,
        type: MIME_TYPES[ext],
        size,
        sha256: hash.digest('hex'),
      };
    },
  };
}

export type FileStore = ReturnType<typeof createFileStore>;

/** Errors from reading a multipart body: our own and Fastify's keep their status; parser errors (no boundary, cut short) are 400. */
export function uploadError(err: unknown): Error {
  const status = (err as { statusCode?: number }).statusCode;
  if (status && status < 500) return err as Error;
  return new BadInput('the form data was malformed or cut short. Try the upload again.', 'file');
}

/** "10 MB" for a byte count. */
export function formatMb(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return `${Number.isInteger(mb) ? mb : mb.toFixed(1)} MB`;
}

/** "1.2 MB" / "340 KB" for people. */
export function formatSize(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}
