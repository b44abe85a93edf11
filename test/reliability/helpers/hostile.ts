// fast-check arbitraries for hostile input: edge-case strings, wrong types, schema-shaped bodies and their mutations.
import fc from 'fast-check';

/** Strings that have broken real systems: NUL, lone surrogates, bidi overrides, zero-width, injections, sizes. */
export const EDGE_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\uD800',
  '\uDFFF',
  'x\uD83D',
  '\uDE00x',
  '\u202Eevil.exe\u202C',
  '\u2066rtl\u2069',
  '\u200B',
  'a\u200Db',
  '\uFEFF',
  'e\u0301\u0301\u0301',
  '\uFFFF',
  '𝕏𝕏𝕏',
  '👩‍👩‍👧‍👦',
  '١٢٣',
  'İstanbul',
  'ß',
  '\r\n',
  '\r\nSet-Cookie: x=y',
  '../../../etc/passwd',
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "'; drop table users; --",
  '%00',
  '%zz',
  '${7*7}',
  '{{7*7}}',
  '{{> csrf}}',
  '__proto__',
  'constructor',
  'NaN',
  'Infinity',
  '-0',
  '1e309',
  'null',
  'true',
  '[]',
  '{}',
  '2026-02-30',
  '0000-00-00',
  '9999-12-31T23:59:59.999Z',
  'Europe/Nowhere',
  'a@b',
  '@',
  'a@b.c',
  'user@[127.0.0.1]',
  'javascript:alert(1)',
  'https://evil.example/',
  'http://localhost/',
];

/** A string from the edge list, random unicode, or a very long one. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...EDGE_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: fc.constantFrom(1_000, 1_000, 1_000, 100_001, 300_000).chain((n) => fc.constantFrom('a', '\u0000', '😀', '\uD800').map((c) => c.repeat(n))) },
);

/** Any JSON-ish value of the wrong kind. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.constantFrom(0, -1, 1.5, -0, 2 ** 31, 2 ** 53 + 2, -(2 ** 63), 1e308, Number.MIN_VALUE),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constant([]),
  fc.constant({}),
  fc.array(hostileString, { maxLength: 3 }),
  fc.dictionary(hostileString, hostileString, { maxKeys: 3 }),
);

type Schema = Record<string, any>;

/** Values shaped by a JSON schema: mostly within it, with hostile content and boundary values. */
export function fromSchema(schema: Schema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > 4) return hostileValue;
  const alts: Schema[] | undefined = schema.anyOf ?? schema.oneOf;
  if (alts) return fc.oneof(...alts.map((s) => fromSchema(s, depth + 1)));
  if (schema.enum) return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...schema.enum) }, { weight: 1, arbitrary: hostileValue });
  if (schema.const !== undefined) return fc.constant(schema.const);
  switch (schema.type) {
    case 'string': {
      const max = schema.maxLength ?? 500;
      const min = schema.minLength ?? 0;
      const fitted = hostileString.map((s) => (s.length > max ? s.slice(0, max) : s)).filter((s) => s.length >= min);
      const edges: fc.Arbitrary<string>[] = [fc.constant('x'.repeat(max + 1))];
      if (min > 0) edges.push(fc.constant('x'.repeat(min - 1)));
      if (schema.format === 'date-time') edges.push(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.constantFrom('2026-03-02T00:00:00Z', '2026-13-45T25:61:00Z', '2026-03-02'));
      if (schema.pattern) edges.push(fc.constantFrom('2026-03-02', '2026-02-29', '2026-02-30', '1900-01-01', '9999-12-31'));
      return fc.oneof({ weight: 4, arbitrary: fitted.filter((s) => s.length >= min) }, { weight: 2, arbitrary: fc.oneof(...edges) }, { weight: 1, arbitrary: hostileValue });
    }
    case 'integer':
    case 'number': {
      const min = schema.minimum ?? -(2 ** 31);
      const max = schema.maximum ?? 2 ** 31;
      return fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min: Math.max(min, -(2 ** 31)), max: Math.min(max, 2 ** 31 - 1) }) },
        { weight: 2, arbitrary: fc.constantFrom(min - 1, max + 1, 0, -1, 1.5, 2 ** 53 + 2, 1e308) },
        { weight: 1, arbitrary: hostileValue },
      );
    }
    case 'boolean':
      return fc.oneof({ weight: 4, arbitrary: fc.boolean() }, { weight: 1, arbitrary: fc.constantFrom('true', 1, 0, null) });
    case 'null':
      return fc.constant(null);
    case 'array': {
      const maxItems = schema.maxItems ?? 5;
      return fc.oneof(
        { weight: 4, arbitrary: fc.array(fromSchema(schema.items, depth + 1), { maxLength: Math.min(maxItems, 4) }) },
        { weight: 1, arbitrary: fc.array(fromSchema(schema.items, depth + 1), { minLength: maxItems + 1, maxLength: maxItems + 1 }) },
        { weight: 1, arbitrary: hostileValue },
      );
    }
    case 'object':
    default: {
      if (schema.type !== 'object' && !schema.properties) return hostileValue;
      const props: Record<string, Schema> = schema.properties ?? {};
      const required = new Set<string>(schema.required ?? []);
      const shape = fc.record(
        Object.fromEntries(Object.entries(props).map(([k, s]) => [k, fromSchema(s, depth + 1)])),
        { requiredKeys: Object.keys(props).filter((k) => required.has(k)) },
      );
      const extra =
        schema.additionalProperties && typeof schema.additionalProperties === 'object'
          ? fc.dictionary(fc.oneof(fc.constantFrom('intro', 'reflection', 'x'), hostileString), fromSchema(schema.additionalProperties, depth + 1), { maxKeys: 4 })
          : fc.constant({});
      return fc.tuple(shape, extra).map(([a, b]) => ({ ...b, ...a }));
    }
  }
}

/** A JSON body for an operation: schema-shaped, or that with one field dropped, added or of the wrong type, or not an object at all. */
export function hostileBody(schema: Schema | undefined): fc.Arbitrary<string> {
  const base = fromSchema(schema ?? { type: 'object', properties: {} });
  const keys = Object.keys(schema?.properties ?? {});
  const mutated = fc
    .tuple(base, fc.constantFrom('drop', 'extra', 'wrong', 'proto'), keys.length ? fc.constantFrom(...keys) : fc.constant('x'), hostileValue, hostileString)
    .map(([body, how, key, value, name]) => {
      if (!body || typeof body !== 'object' || Array.isArray(body)) return JSON.stringify(body);
      const copy: Record<string, unknown> = { ...(body as object) };
      if (how === 'drop') delete copy[key];
      if (how === 'extra') copy[name || 'extra'] = value;
      if (how === 'wrong') copy[key] = value;
      const json = JSON.stringify(copy);
      // A literal "__proto__" key survives only in the raw text (JSON.stringify of an object cannot write it).
      if (how === 'proto') return `{"__proto__":{"role":"admin","isAdmin":true}${json === '{}' ? '' : ','}${json.slice(1)}`;
      return json;
    });
  return fc.oneof({ weight: 4, arbitrary: base.map((b) => JSON.stringify(b)) }, { weight: 4, arbitrary: mutated }, { weight: 1, arbitrary: hostileValue.map((v) => JSON.stringify(v)) });
}

/** Raw request bodies that are not what they claim to be. */
export const MALFORMED_BODIES: Array<{ name: string; type?: string; body: string | Buffer; headers?: Record<string, string> }> = [
  { name: 'truncated JSON', type: 'application/json', body: '{"email": ' },
  { name: 'trailing comma', type: 'application/json', body: '{"a": 1,}' },
  { name: 'single quotes', type: 'application/json', body: "{'a': 1}" },
  { name: 'NUL byte', type: 'application/json', body: '\u0000' },
  { name: 'empty JSON', type: 'application/json', body: '' },
  { name: 'JSON null', type: 'application/json', body: 'null' },
  { name: 'JSON string', type: 'application/json', body: '"hello"' },
  { name: 'JSON array', type: 'application/json', body: '[1,2,3]' },
  { name: 'JSON number', type: 'application/json', body: '12' },
  { name: 'deeply nested arrays', type: 'application/json', body: '['.repeat(200_000) + ']'.repeat(200_000) },
  { name: 'deeply nested objects', type: 'application/json', body: '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000) },
  { name: '__proto__ pollution', type: 'application/json', body: '{"__proto__": {"role": "admin"}, "constructor": {"prototype": {"role": "admin"}}}' },
  { name: 'invalid UTF-8', type: 'application/json', body: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc0, 0xaf, 0xff, 0xfe, 0x22, 0x7d]) },
  { name: 'UTF-16 with BOM', type: 'application/json', body: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"a":"b"}', 'utf16le')]) },
  { name: 'charset utf-7', type: 'application/json; charset=utf-7', body: '{"a":"+ADw-script+AD4-"}' },
  { name: 'gzip claimed, not gzip', type: 'application/json', body: '{"a":1}', headers: { 'content-encoding': 'gzip' } },
  { name: 'text/plain', type: 'text/plain', body: 'email=a@b.org' },
  { name: 'XML', type: 'application/xml', body: '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>' },
  { name: 'form with repeated and bracketed keys', type: 'application/x-www-form-urlencoded', body: 'email=a%40b.org&email=c%40d.org&a[b]=1&__proto__[x]=1&%zz=%' },
  { name: 'multipart without boundary', type: 'multipart/form-data', body: '--x\r\n\r\n' },
  { name: 'multipart garbage', type: 'multipart/form-data; boundary=xyz', body: 'this is not multipart at all' },
  { name: 'multipart unterminated', type: 'multipart/form-data; boundary=xyz', body: '--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n%PDF-1.4 never ends' },
  { name: 'multipart header flood', type: 'multipart/form-data; boundary=xyz', body: `--xyz\r\n${'X-H: y\r\n'.repeat(5000)}\r\nv\r\n--xyz--\r\n` },
  { name: 'multipart path traversal filename', type: 'multipart/form-data; boundary=xyz', body: '--xyz\r\nContent-Disposition: form-data; name="file"; filename="../../../../etc/passwd\u0000.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n%%EOF\r\n--xyz--\r\n' },
  { name: 'multipart many parts', type: 'multipart/form-data; boundary=xyz', body: Array.from({ length: 2000 }, (_, i) => `--xyz\r\nContent-Disposition: form-data; name="f${i}"\r\n\r\nv\r\n`).join('') + '--xyz--\r\n' },
  { name: 'no content type', body: '{"a":1}' },
  { name: 'over the body limit', type: 'application/json', body: JSON.stringify({ body: 'x'.repeat(1_100_000) }) },
];

/** Path parameter values nobody should send. */
export const ABSURD_IDS = ['0', '-1', '2147483648', '9007199254740993', '1e3', '1.5', '0x10', ' 1', '1%20', 'abc', '%00', '%2e%2e', '..', '١', 'NaN', 'null', '%F0%9F%98%80', 'x'.repeat(199), 'x'.repeat(1000), '%uD800', '1;drop'];
