// A PDF's text as a reader would extract it (pdfjs), for tests that check what a generated PDF says.

/**
 * Each page's text. By default the text items are joined as pdfjs lays them out (line ends kept); `spaced` joins them
 * with spaces and collapses runs of white space, for matching phrases that a table lays out in several items.
 */
export async function pdfPages(bytes: Uint8Array, opts: { spaced?: boolean } = {}): Promise<string[]> {
  const { getDocument } = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const pdf = await getDocument({ data: new Uint8Array(bytes), useSystemFonts: false, disableFontFace: true, verbosity: 0 }).promise;
  const pages: string[] = [];
  for (let i = 1; i <= pdf.numPages; i++) {
    const content = await (await pdf.getPage(i)).getTextContent();
    const items = content.items.map((item) => ('str' in item ? item.str + (item.hasEOL && !opts.spaced ? '\n' : '') : ''));
    pages.push(opts.spaced ? items.join(' ').replace(/\s+/g, ' ') : items.join(''));
  }
  return pages;
}

/** Every page's text, joined. */
export async function pdfText(bytes: Uint8Array): Promise<string> {
  return (await pdfPages(bytes)).join('\n');
}
