/**
 * One fuzz case per draw: a route from the router's own list (allRoutes(), so a new route is
 * fuzzed without touching this file), who asks (mostly an admin, so the handlers are reached;
 * also lower roles, no token and forged tokens), path parameters, a query string, an If-Match
 * header and a body. Bodies start valid-shaped from the route's OpenAPI request schema and are
 * then mutated (a field of the wrong type, an odd or huge string, a missing or extra field,
 * `__proto__`/`constructor` keys, deep nesting) and serialised well or badly (invalid JSON,
 * invalid UTF-8, another media type, an empty or oversized body).
 *
 * A case is plain data (symbolic where the value depends on the running app, e.g. a tampered
 * copy of the admin's token), so the same seed gives the same requests.
 */
import fc from 'fast-check';
import { ADMIN_ROLES, type AdminRole } from '../../core/state.ts';
import type { MountedRoute } from '../../adapters/http/routes/index.ts';
import { oddString, pathValue, queryValue, valueFor, wrongValue, type JsonSchema, type SchemaIndex } from './fuzz-values.ts';

export type AuthKind = AdminRole | 'none' | 'garbage';

/** Forged or broken credentials, resolved against the running app when sent. */
export const GARBAGE_AUTH = [
  'tampered-admin-token', 'alg-none', 'wrong-key', 'expired', 'wrong-audience', 'sub:__proto__', 'sub:constructor', 'sub:nobody',
  'stale-token-version', 'claims-wrong-types', 'header:Basic', 'header:Bearer', 'header:bearer-lowercase-garbage', 'header:cli-garbage',
  'header:huge', 'header:two-tokens',
] as const;
export type GarbageAuth = (typeof GARBAGE_AUTH)[number];

export type BodySpec =
  | { kind: 'none' }
  /** `value` serialised with JSON.stringify (own `__proto__` keys included). */
  | { kind: 'json'; value: unknown; contentType: string | null }
  /** Text as is: invalid JSON, deep nesting beyond what JSON.stringify can build. */
  | { kind: 'text'; text: string; contentType: string | null }
  /** `value` as JSON with invalid UTF-8 bytes spliced in at `at` (a fraction of the length). */
  | { kind: 'bad-utf8'; value: unknown; bytes: number[]; at: number }
  /** One byte more than the app's body limit. */
  | { kind: 'oversize' }
  /** Content-Type JSON, no bytes. */
  | { kind: 'empty' };

export type FuzzCase = {
  /** `METHOD /url` of the route the case was drawn for (the request may use another method). */
  route: string;
  method: string;
  /** Path and query, bytes 0x21-0x7e only. */
  path: string;
  auth: AuthKind;
  garbage: GarbageAuth | null;
  ifMatch: string | null;
  /** Extra request headers. */
  headers: Record<string, string>;
  body: BodySpec;
  /** What was done to the body, for the per-mutation tally. */
  mutation: string;
};

export type OperationInfo = Readonly<{
  bodySchema: JsonSchema | null;
  query: readonly string[];
}>;

/** Percent-encodes everything but RFC 3986 unreserved characters; lone surrogates become U+FFFD. */
export const pct = (s: string): string => {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
};

const IF_MATCH = ['"1"', '"0"', '"3"', '"999999"', '*', 'W/"1"', '1', '"-1"', '"abc"', '""', '"1", "2"', `"${'9'.repeat(400)}"`, '"1.5"', '"0x10"'];
const OTHER_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'PROPFIND'];
const JSON_TYPES = ['application/json', 'application/json', 'application/json', 'application/json; charset=utf-8', 'application/merge-patch+json', 'APPLICATION/JSON', 'application/json; charset="UTF-8"'];
const WRONG_TYPES = ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/json; charset=iso-8859-1', 'application/jsonx', 'json', 'application/json;;;', null];
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'];
const BAD_UTF8 = [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82], [0x80]];

// ---- mutations of a JSON value, at a node chosen by index among all nodes

type Node = { parent: Record<string, unknown> | unknown[] | null; key: string | number | null; value: unknown };

const nodesOf = (root: unknown): Node[] => {
  const out: Node[] = [{ parent: null, key: null, value: root }];
  for (let i = 0; i < out.length && out.length < 200; i++) {
    const v = (out[i] as Node).value;
    if (Array.isArray(v)) v.forEach((x, k) => out.push({ parent: v, key: k, value: x }));
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push({ parent: v as Record<string, unknown>, key: k, value: x });
  }
  return out;
};

/** Sets an own, enumerable property, also for `__proto__` (JSON.stringify then writes it). */
const defineOwn = (obj: Record<string, unknown>, key: string, value: unknown): void => {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
};

type Mutation = { op: 'valid' | 'replace' | 'drop' | 'extra-key' | 'proto-key' | 'top-level'; pick: number; key: string; value: unknown };

const mutationArb = (): fc.Arbitrary<Mutation> => fc.record({
  op: fc.constantFrom<Mutation['op']>('replace', 'replace', 'replace', 'drop', 'extra-key', 'proto-key', 'proto-key', 'top-level'),
  pick: fc.nat(),
  key: fc.oneof(fc.constantFrom(...PROTO_KEYS), fc.string({ maxLength: 10 }), oddString()),
  value: fc.oneof(wrongValue(), fc.constant({ admin: true, polluted: 'yes' })),
});

/** Applies `m` to a deep copy of `value`; returns the new value and a label. */
export const mutate = (value: unknown, m: Mutation): { value: unknown; label: string } => {
  if (m.op === 'valid') return { value, label: 'valid-shaped' };
  if (m.op === 'top-level') return { value: m.value, label: 'top-level wrong value' };
  const root = structuredClone(value);
  const nodes = nodesOf(root);
  if (m.op === 'replace') {
    const candidates = nodes.filter((n) => n.parent !== null);
    if (candidates.length === 0) return { value: m.value, label: 'top-level wrong value' };
    const n = candidates[m.pick % candidates.length] as Node;
    if (Array.isArray(n.parent)) n.parent[n.key as number] = m.value;
    else defineOwn(n.parent as Record<string, unknown>, n.key as string, m.value);
    return { value: root, label: 'field replaced' };
  }
  const objects = nodes.filter((n) => n.value !== null && typeof n.value === 'object' && !Array.isArray(n.value));
  if (objects.length === 0) return { value: m.value, label: 'top-level wrong value' };
  const target = (objects[m.pick % objects.length] as Node).value as Record<string, unknown>;
  if (m.op === 'drop') {
    const keys = Object.keys(target);
    if (keys.length === 0) return { value: root, label: 'valid-shaped' };
    delete target[keys[m.pick % keys.length] as string];
    return { value: root, label: 'field dropped' };
  }
  const key = m.op === 'proto-key' ? (PROTO_KEYS[m.pick % PROTO_KEYS.length] as string) : m.key;
  defineOwn(target, key, m.value);
  return { value: root, label: m.op === 'proto-key' ? 'prototype key' : 'extra key' };
};

// ---- serialisation of the (mutated) value

const serialisationArb = (value: unknown): fc.Arbitrary<{ body: BodySpec; label: string | null }> => fc.oneof(
  { weight: 30, arbitrary: fc.constantFrom(...JSON_TYPES).map((contentType) => ({ body: { kind: 'json', value, contentType } as BodySpec, label: null })) },
  {
    weight: 3,
    arbitrary: fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom('cut', 'trailing', 'single-quotes', 'comment', 'bom', 'nan', 'dup-keys')).map(([f, how]) => {
      const json = JSON.stringify(value) ?? 'null';
      const text = how === 'cut' ? json.slice(0, Math.floor(json.length * f))
        : how === 'trailing' ? `${json} x`
          : how === 'single-quotes' ? json.replaceAll('"', "'")
            : how === 'comment' ? `/* c */${json}`
              : how === 'bom' ? `\uFEFF${json}`
                : how === 'nan' ? '{"x": NaN, "y": Infinity}'
                  : '{"a": 1, "a": 2, "__proto__": {"x": 1}, "__proto__": null}';
      return { body: { kind: 'text', text, contentType: 'application/json' } as BodySpec, label: `invalid JSON (${how})` };
    }),
  },
  {
    weight: 2,
    arbitrary: fc.tuple(fc.constantFrom(...BAD_UTF8), fc.double({ min: 0, max: 1, noNaN: true }))
      .map(([bytes, at]) => ({ body: { kind: 'bad-utf8', value, bytes, at } as BodySpec, label: 'invalid UTF-8' })),
  },
  { weight: 2, arbitrary: fc.constantFrom(...WRONG_TYPES).map((contentType) => ({ body: { kind: 'json', value, contentType } as BodySpec, label: `content-type ${contentType ?? '(none)'}` })) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom('[', '{"a":'), fc.constantFrom(1_000, 10_000, 100_000)).map(([open, depth]) => {
      const close = open === '[' ? ']' : '}';
      return { body: { kind: 'text', text: `{"deep":${open.repeat(depth)}1${close.repeat(depth)}}`, contentType: 'application/json' } as BodySpec, label: `nested ${depth}` };
    }),
  },
  { weight: 1, arbitrary: fc.constant({ body: { kind: 'empty' } as BodySpec, label: 'empty body' }) },
  { weight: 1, arbitrary: fc.constant({ body: { kind: 'oversize' } as BodySpec, label: 'oversized body' }) },
);

/** `arb` once in `n` draws, null otherwise (fc.option's freq is the other way round). */
const sometimes = <T>(arb: fc.Arbitrary<T>, n: number): fc.Arbitrary<T | null> =>
  fc.oneof({ weight: n - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb });

// ---- path and query

const pathArb = (url: string): fc.Arbitrary<string> => {
  const names = [...url.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1] as string);
  if (names.length === 0) return fc.constant(url);
  return fc.tuple(...names.map((n) => pathValue(n))).map((values) => {
    let i = 0;
    return url.replace(/\{[A-Za-z_][A-Za-z0-9_]*\}/g, () => {
      const v = values[i++] as { value: string; raw: boolean };
      return v.raw ? v.value : pct(v.value);
    });
  });
};

const RAW_QUERIES = ['limit=1&limit=2', 'limit[]=1', 'limit[a]=1', '=x', '&&&', 'limit', 'cursor=%E0%A4%A', '%=%', `q=${'a'.repeat(5000)}`, 'a=1&'.repeat(300), '__proto__=1', 'constructor[prototype][x]=1'];

const queryArb = (params: readonly string[]): fc.Arbitrary<string> => {
  const named = params.length === 0 ? fc.constant<[string, string][]>([])
    : fc.uniqueArray(fc.constantFrom(...params), { maxLength: params.length })
      .chain((names) => fc.tuple(...names.map((n) => queryValue(n).map((v): [string, string] => [n, v]))));
  return fc.tuple(
    named,
    fc.oneof(
      { weight: 4, arbitrary: fc.constant<[string, string][]>([]) },
      { weight: 1, arbitrary: fc.array(fc.tuple(fc.oneof(fc.constantFrom('limit', 'cursor', 'x', '__proto__'), fc.string({ maxLength: 6 })), fc.string({ maxLength: 8 })), { minLength: 1, maxLength: 2 }) },
    ),
    sometimes(fc.constantFrom(...RAW_QUERIES), 10),
  ).map(([known, extra, raw]) => {
    const pairs = [...known, ...extra].map(([k, v]) => `${pct(k)}=${pct(v)}`);
    if (raw !== null) pairs.push(raw);
    return pairs.length === 0 ? '' : `?${pairs.join('&')}`;
  });
};

// ---- the case

const authArb = (): fc.Arbitrary<{ auth: AuthKind; garbage: GarbageAuth | null }> => fc.oneof(
  { weight: 80, arbitrary: fc.constant({ auth: 'admin' as AuthKind, garbage: null }) },
  { weight: 9, arbitrary: fc.constantFrom(...ADMIN_ROLES.filter((r) => r !== 'admin')).map((auth) => ({ auth: auth as AuthKind, garbage: null })) },
  { weight: 5, arbitrary: fc.constant({ auth: 'none' as AuthKind, garbage: null }) },
  { weight: 6, arbitrary: fc.constantFrom(...GARBAGE_AUTH).map((garbage) => ({ auth: 'garbage' as AuthKind, garbage })) },
);

/** Headers a client may add: odd request ids, the CLI user header, encodings MCM does not speak. */
const EXTRA_HEADERS: Record<string, string>[] = [
  { 'x-request-id': 'a'.repeat(500) }, { 'x-request-id': '../../etc' }, { 'x-mcm-cli-user': 'root; rm -rf /' }, { 'content-encoding': 'gzip' },
  { 'x-forwarded-for': '10.0.0.1, 127.0.0.1' }, { accept: 'text/html' }, { 'accept-encoding': 'br, gzip, deflate' }, { expect: '100-continue' },
  { 'x-http-method-override': 'DELETE' }, { origin: 'http://evil.example' }, { 'if-none-match': '"1"' }, { range: 'bytes=0-1' },
];

export const caseArb = (route: MountedRoute, op: OperationInfo, components: SchemaIndex): fc.Arbitrary<FuzzCase> => {
  const valid = op.bodySchema ? valueFor(op.bodySchema, components) : fc.constant(undefined);
  const bodyArb: fc.Arbitrary<{ body: BodySpec; label: string }> = op.bodySchema
    ? fc.tuple(valid, fc.oneof(
      { weight: 4, arbitrary: fc.constant<Mutation[]>([]) },
      { weight: 4, arbitrary: fc.array(mutationArb(), { minLength: 1, maxLength: 1 }) },
      { weight: 2, arbitrary: fc.array(mutationArb(), { minLength: 2, maxLength: 3 }) },
    )).chain(([v, ms]) => {
      let mutated = { value: v, label: 'valid-shaped' };
      const labels: string[] = [];
      for (const m of ms) {
        mutated = mutate(mutated.value, m);
        if (mutated.label !== 'valid-shaped') labels.push(mutated.label);
      }
      const label = labels.length === 0 ? 'valid-shaped' : [...new Set(labels)].sort().join(' + ');
      return serialisationArb(mutated.value).map((s) => ({ body: s.body, label: s.label ?? label }));
    })
    // Routes without a body: mostly none, sometimes one anyway.
    : fc.oneof(
      { weight: 9, arbitrary: fc.constant({ body: { kind: 'none' } as BodySpec, label: 'no body' }) },
      { weight: 1, arbitrary: wrongValue().chain((v) => serialisationArb(v)).map((s) => ({ body: s.body, label: `unexpected body${s.label ? `, ${s.label}` : ''}` })) },
    );
  return fc.record({
    method: fc.oneof({ weight: 9, arbitrary: fc.constant(route.method) }, { weight: 1, arbitrary: fc.constantFrom(...OTHER_METHODS) }),
    path: pathArb(route.url),
    query: queryArb(op.query),
    who: authArb(),
    ifMatch: sometimes(fc.constantFrom(...IF_MATCH), 5),
    extra: sometimes(fc.constantFrom(...EXTRA_HEADERS), 8),
    body: bodyArb,
  }).map((c) => ({
    route: `${route.method} ${route.url}`,
    method: c.method,
    path: c.path + c.query,
    auth: c.who.auth,
    garbage: c.who.garbage,
    ifMatch: c.ifMatch,
    headers: c.extra ?? {},
    body: c.body.body,
    mutation: c.body.label,
  }));
};

/** The request body bytes and content type of a case (`limit`: the app's body limit). */
export const bodyBytes = (body: BodySpec, limit: number): { bytes: Buffer | undefined; contentType: string | null } => {
  switch (body.kind) {
    case 'none': return { bytes: undefined, contentType: null };
    case 'empty': return { bytes: Buffer.alloc(0), contentType: 'application/json' };
    case 'oversize': return { bytes: Buffer.from(`{"description":"${'x'.repeat(limit)}"}`), contentType: 'application/json' };
    case 'text': return { bytes: Buffer.from(body.text, 'utf8'), contentType: body.contentType };
    case 'json': return { bytes: Buffer.from(JSON.stringify(body.value) ?? 'null', 'utf8'), contentType: body.contentType };
    case 'bad-utf8': {
      const json = Buffer.from(JSON.stringify(body.value) ?? 'null', 'utf8');
      const at = Math.floor(json.length * body.at);
      return { bytes: Buffer.concat([json.subarray(0, at), Buffer.from(body.bytes), json.subarray(at)]), contentType: 'application/json' };
    }
  }
};
