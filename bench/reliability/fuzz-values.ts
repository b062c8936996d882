/**
 * Value generators for the API fuzzer: valid-shaped values from the OpenAPI document's JSON
 * Schemas (docs/openapi.yaml, the same document validate.ts enforces), steered by the property
 * name towards values that exist in the fixture world (usernames, role names, topic filters), and
 * the hostile values a mutation swaps in (wrong types, huge and odd strings, deep nesting).
 */
import fc from 'fast-check';
import { encodeCursor } from '../../adapters/http/pagination.ts';
import { FIXTURES, FUZZ_PASSWORD, ROLE_USERS } from './fuzz-api-app.ts';

export type JsonSchema = Readonly<Record<string, unknown>>;

const COMPONENT = '#/components/schemas/';

// ---- pools: what a careful attacker (or a confused client) would try for a field of that name

const ADMIN_NAMES = [...Object.values(ROLE_USERS), FIXTURES.victimAdmin, 'nobody'];
const USERNAMES = [...FIXTURES.mqttUsers, ...ADMIN_NAMES, 'new-user', 'mcm-service', 'a:b', 'x/y', 'sp ace', ' lead', 'ünï', '+', '#', '%u', 'a'.repeat(257)];
const ROLE_NAMES = [...FIXTURES.roles, 'new-role', 'nope', 'a:b', 'r/1', ' ', 'a'.repeat(129)];
const TOPICS = [
  ...FIXTURES.topics, 'a/#', 'plant/+/temp', '#', '+', '+/+', '$SYS/#', '$SYS/broker/uptime', 'a/%u/b', '%c/#', 'a/#/b', 'sport+',
  'a//b', '/', '/a', 'a/', 'spBv1.0/g/NDATA/e', 'spBv1.0/STATE/host', 'STATE/h', 'a\u0000b', '\u{1F600}/x', '/'.repeat(300),
];
const PRINCIPALS = ['user:alice', 'user:bob', 'role:sensors', 'role:ops', 'anonymous', 'pattern', 'user:nobody', 'role:nope', 'user:', 'role:a/b', 'user:mcm-service', 'everyone'];
const PASSWORDS = [FUZZ_PASSWORD, 'correct-horse-battery-staple', 'short', 'x', '\u0000', 'pässwörd-lang-genug-1'];
const WEBHOOK_URLS = [
  'https://93.184.216.34/hook', 'http://93.184.216.34:8080/x?y=1', 'http://127.0.0.1/hook', 'http://10.0.0.1/', 'http://[::1]/',
  'http://169.254.169.254/latest/meta-data', 'https://[2606:2800:220:1:248:1893:25c8:1946]/', 'http://host.invalid/', 'ftp://93.184.216.34/',
  'https://user:pw@93.184.216.34/', 'https://93.184.216.34/#frag', 'javascript:alert(1)', 'http://0/', 'http://0x7f000001/', 'http://2130706433/',
];
const JSON_SCHEMAS: unknown[] = [
  {}, true, false, { type: 'object', properties: { v: { type: 'number' } }, required: ['v'] },
  { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'string' },
  { $schema: 'https://json-schema.org/draft/2019-09/schema', type: 'array' },
  { $schema: 'http://example.com/unknown-draft', type: 'string' }, { type: 'nope' }, { $ref: '#/definitions/missing' },
  { $ref: 'http://93.184.216.34/remote.json' }, { pattern: '(a+)+$' }, { pattern: '[' }, { format: 'made-up' },
  { properties: { ['__proto__']: { type: 'string' } } }, { required: 'v' }, { minimum: '5' }, { $id: 'urn:x', $ref: 'urn:x' },
  // an asynchronous schema: ajv's validate() then returns a promise instead of true/false
  { $async: true, type: 'object', required: ['v'] }, { properties: { v: { $async: true, type: 'number' } } },
  { type: 'object', properties: { next: { $ref: '#' } } }, { $schema: 'http://json-schema.org/draft-04/schema#' }, { unevaluatedProperties: false },
];
/** A valid bundle (GitOps JSON form) naming the fixtures; mutations then break it in many places. */
const MQTT_HASH = '$7$101$L1M0lA5+qYrdPBYy$EtGCOak4qcrGWaFgKTmIdlNBgvWkS8CzjJVRpVVyysAuLVIHg+yxzl+iW1lWTQ4H38KhO1ItFM1cfGYawdQfdg==';
const BUNDLE = {
  version: 1,
  settings: { allow_anonymous: false, hash_iterations: 101 },
  users: [{ username: 'alice', password_hash: MQTT_HASH, description: '', disabled: false, roles: ['sensors'] }],
  roles: [{ name: 'sensors', description: '', rules: [{ topic: 'sensors/#', access: 'read', description: '' }] }, { name: 'ops', description: 'x', rules: [] }],
  acls: [{ principal: 'user:alice', topic: 'plant/#', access: 'readwrite', description: '' }, { principal: 'anonymous', topic: 'public/#', access: 'read', description: '' }],
  schemas: [{ name: 'temp', topic_filter: 'plant/+/temp', enabled: true, description: '', schema: { type: 'object' } }],
};
const FILES = {
  'settings.yaml': 'allow_anonymous: false\nhash_iterations: 101\n',
  'users.yaml': `- username: alice\n  password_hash: "${MQTT_HASH}"\n  roles: [sensors]\n`,
  'roles.yaml': '- name: sensors\n  rules:\n    - topic: sensors/#\n      access: read\n',
  'acls.yaml': '- principal: user:alice\n  topic: plant/#\n  access: readwrite\n',
  'schemas.yaml': '- name: temp\n  topic_filter: plant/+/temp\n  schema: {type: object}\n',
};

const CODES = ['123456', '000000', '12345', '1234567', 'abcd-efgh', 'ABCD-EFGH-1234', ' 123456', '１２３４５６'];
const WEBHOOK_EVENTS = ['event_appended', 'apply_failed', 'security_event', 'client_connected'];
const GITOPS_YAML = [
  '', 'users: []\n', 'version: 1\n', 'allow_anonymous: true\nhash_iterations: 101\n', '- just\n- a list\n', 'a: &a [1]\nb: *a\n',
  // billion laughs: the YAML parser's alias limit must stop it
  'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n',
  '!!js/function "function(){}"\n', '{{{{', 'users:\n  - username: alice\n    password_hash: "$7$101$x$y"\n', '\t- tab', 'key: !!binary AAAA\n',
  'users:\n  - username: __proto__\n    password_hash: x\n', `${'['.repeat(2000)}${']'.repeat(2000)}`,
];

/** A string of `n` copies of `unit` (cheap to generate, unlike fast-check strings of that length). */
export const repeated = (unit: string, n: number): string => unit.repeat(Math.max(0, Math.floor(n / Math.max(1, unit.length))));

/** Strings that break naive code: control characters, lone surrogates, RTL marks, huge lengths. */
export const oddString = (): fc.Arbitrary<string> => fc.oneof(
  fc.constantFrom('', ' ', '\u0000', '\n', '\r\n', '\t', '\u2028', '\u202e', '\uFEFF', '\uFFFF', '\uD800', '\uDC00x', '\u{1F600}',
    'e\u0301', '%00', '%2F', '..', '../..', '${x}', '{{x}}', "'; DROP TABLE events; --", '<script>', 'null', 'undefined',
    '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'NaN', '-0', '1e400'),
  fc.string({ maxLength: 40, unit: 'binary' }),
  fc.string({ maxLength: 20, unit: 'grapheme' }),
  fc.tuple(fc.constantFrom('a', 'é', '/', '+', '#', '\u{1F600}', '\u0000'), fc.constantFrom(255, 256, 1025, 4097, 65_536, 200_000)).map(([u, n]) => repeated(u, n)),
);

/** Anything JSON can carry, of a type a field probably does not expect. */
export const wrongValue = (): fc.Arbitrary<unknown> => fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, -0, 1e308, -1e308, 2 ** 53 + 2, 4294967296, '', [], {}, [null], { '': '' }),
  fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }),
  oddString(),
  fc.array(fc.oneof(fc.integer(), fc.string({ maxLength: 8 })), { maxLength: 5 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.integer(), fc.string({ maxLength: 8 }), fc.constant(null)), { maxKeys: 4 }),
  fc.constantFrom(10, 100, 1000).map((d) => nested(d)),
);

/** An array nested `depth` levels deep ([[[…]]]), built iteratively. */
export const nested = (depth: number): unknown => {
  let v: unknown = [];
  for (let i = 0; i < depth; i++) v = [v];
  return v;
};

const cursorArb = (): fc.Arbitrary<string> => fc.oneof(
  fc.constantFrom(encodeCursor(1), encodeCursor(3), encodeCursor('alice'), encodeCursor('zzz'), encodeCursor(-1), encodeCursor(2 ** 60)),
  fc.constantFrom('{"k":{"__proto__":1}}', '{"k":1e400}', '{"k":null}', '{"k":[1]}', '{"k":"\\u0000"}', '[]', 'null', '{"k":9007199254740993}')
    .map((json) => Buffer.from(json).toString('base64url')),
  fc.string({ maxLength: 30 }),
  fc.constantFrom('', '====', '+/+/', repeated('A', 3000)),
);

const ISO_TIMES = ['2024-01-01T00:00:00Z', '2024-01-01T00:00:00.000+02:00', '2024-13-45T99:99:99Z', '+275760-09-13T00:00:00.000Z', '-271821-04-20T00:00:00Z', '0000-00-00', 'yesterday', '1700000000', ''];

/** Query parameter values by name: valid ones, boundaries and garbage. */
export const queryValue = (name: string): fc.Arbitrary<string> => {
  const ints = fc.oneof(fc.constantFrom('0', '1', '2', '5', '100', '1000', '1001', '-1', '1.5', '1e2', '0x10', ' 5', '٣', '99999999999999999999', ''), fc.nat({ max: 50 }).map(String));
  const by: Record<string, fc.Arbitrary<string>> = {
    limit: ints, after: ints, at: ints, depth: ints,
    cursor: cursorArb(),
    since: fc.constantFrom(...ISO_TIMES), until: fc.constantFrom(...ISO_TIMES),
    order: fc.constantFrom('asc', 'desc', 'ASC', 'random', ''),
    action: fc.constantFrom('read', 'write', 'subscribe', 'READ', ''),
    severity: fc.constantFrom('info', 'warning', 'critical', 'debug', ''),
    status: fc.constantFrom('pending', 'delivered', 'dead', 'alive', ''),
    topic: fc.constantFrom(...TOPICS), filter: fc.constantFrom(...TOPICS), prefix: fc.constantFrom(...TOPICS), q: fc.constantFrom(...TOPICS),
    principal: fc.constantFrom(...PRINCIPALS),
    stream: fc.constantFrom('mqtt-user:alice', 'role:sensors', 'settings', 'broker', 'admin-user:fuzz-admin', 'x'),
    actor: fc.constantFrom('admin:fuzz-admin', 'system:fuzz-keeper', 'cli', 'x'),
    type: fc.constantFrom('MqttUserCreated', 'AclRuleAdded', 'Nope', ''),
    category: fc.constantFrom('auth.login_failed', 'auth', 'apply.failed', 'x', ''),
  };
  return fc.oneof({ arbitrary: by[name] ?? fc.string({ maxLength: 12 }), weight: 6 }, { arbitrary: oddString(), weight: 1 });
};

/** Path parameter values by name (before encoding; `raw` ones are sent as they are). */
export const pathValue = (name: string): fc.Arbitrary<{ value: string; raw: boolean }> => {
  const encoded = (a: fc.Arbitrary<string>): fc.Arbitrary<{ value: string; raw: boolean }> => a.map((value) => ({ value, raw: false }));
  const ids = fc.oneof(fc.integer({ min: 1, max: 12 }).map(String), fc.constantFrom('0', '-1', '1.5', '0x1', '1e3', '01', '99999999999999999999', 'abc', ' 1', '٣', '1 '));
  const valid: Record<string, fc.Arbitrary<string>> = {
    username: fc.constantFrom(...USERNAMES),
    name: fc.constantFrom(...ROLE_NAMES),
    id: ids,
    topic: fc.constantFrom(...TOPICS),
  };
  const garbage = fc.constantFrom('..', '.', '%2E%2E', '..%2F..%2Fetc%2Fpasswd', '%00', '%', '%E0%A4%A', '%FF', '%C0%AF', '%252F', 'a%2Fb', '%2F', '%23', '%3F',
    'a/b', '..%5C..%5Cwindows', '%uD800', ';x=1', '%20', repeated('a', 4000), repeated('%41', 2000), repeated('%2F', 600));
  return fc.oneof(
    { arbitrary: encoded(valid[name] ?? fc.string({ maxLength: 10 })), weight: 5 },
    { arbitrary: encoded(oddString()), weight: 2 },
    { arbitrary: garbage.map((value) => ({ value, raw: true })), weight: 2 },
  );
};

/** A pool for a property of this name, when the name says what it holds. */
const poolFor = (name: string | null): unknown[] | null => {
  switch (name) {
    case 'username': return USERNAMES;
    case 'name': return ROLE_NAMES;
    case 'roles': return [[], ['sensors'], ['sensors', 'ops'], ['nope'], ['sensors', 'sensors']];
    case 'principal': return PRINCIPALS;
    case 'topic': case 'topic_filter': return TOPICS;
    case 'password': case 'current_password': case 'new_password': return PASSWORDS;
    case 'url': return WEBHOOK_URLS;
    case 'schema': return JSON_SCHEMAS;
    case 'code': return CODES;
    case 'clientid': return ['c1', 'sensor-7', '%c', ''];
    case 'hash_iterations': return [1, 101, 500, 0, 10_000_001];
    case 'source': return ['dir:/srv/gitops', 'api', '\u0000', ''];
    case 'expected_seq': return [0, 1, 5, -1, 2 ** 53];
    case 'payload': return ['21.5', '{"v": 1}', '{"v": "x"}', '[]', 'null', '', 'AAECAwQ=', '!!notbase64', '\u0000\uFFFF', repeated('x', 300_000)];
    case 'events': return [WEBHOOK_EVENTS, ['event_appended'], ['nope'], []];
    case 'bundle': return [BUNDLE, { ...BUNDLE, users: [] }, { version: 2 }, {}];
    case 'files': return [FILES, { 'users.yaml': FILES['users.yaml'] }, { 'acls.yaml': GITOPS_YAML[6] }, {}];
    default: return null;
  }
};

export type SchemaIndex = Readonly<Record<string, JsonSchema>>;

/** A valid-shaped value for `schema` (refs into `components`), steered by the property `name`. */
export const valueFor = (schema: JsonSchema, components: SchemaIndex, name: string | null = null, depth = 0): fc.Arbitrary<unknown> => {
  const ref = schema['$ref'];
  if (typeof ref === 'string' && ref.startsWith(COMPONENT)) {
    const target = components[ref.slice(COMPONENT.length)];
    if (!target) throw new Error(`fuzz: unknown schema ${ref}`);
    return valueFor(target, components, name, depth);
  }
  const typed = typedValue(schema, components, name, depth);
  const pool = poolFor(name);
  return pool ? fc.oneof({ arbitrary: fc.constantFrom(...pool), weight: 3 }, { arbitrary: typed, weight: 1 }) : typed;
};

const typedValue = (schema: JsonSchema, components: SchemaIndex, name: string | null, depth: number): fc.Arbitrary<unknown> => {
  if (Array.isArray(schema['enum'])) return fc.constantFrom(...(schema['enum'] as unknown[]));
  const type = schema['type'];
  if (Array.isArray(type)) return fc.oneof(...type.map((t) => typedValue({ ...schema, type: t }, components, name, depth)));
  switch (type) {
    case 'string': {
      const min = (schema['minLength'] as number | undefined) ?? 0;
      const max = Math.min((schema['maxLength'] as number | undefined) ?? 24, Math.max(min, 24));
      return fc.string({ minLength: min, maxLength: max });
    }
    case 'integer': {
      const min = (schema['minimum'] as number | undefined) ?? -5;
      const max = (schema['maximum'] as number | undefined) ?? Math.max(min, 0) + 100;
      return fc.integer({ min, max });
    }
    case 'number': return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'boolean': return fc.boolean();
    case 'array': {
      const items = (schema['items'] as JsonSchema | undefined) ?? {};
      const opts = { minLength: (schema['minItems'] as number | undefined) ?? 0, maxLength: Math.min((schema['maxItems'] as number | undefined) ?? 4, 4) };
      const item = valueFor(items, components, null, depth + 1);
      return schema['uniqueItems'] ? fc.uniqueArray(item, { ...opts, selector: (v) => JSON.stringify(v) }) : fc.array(item, opts);
    }
    case 'object': {
      const props = (schema['properties'] as Record<string, JsonSchema> | undefined) ?? {};
      const required = (schema['required'] as string[] | undefined) ?? [];
      const extra = schema['additionalProperties'];
      if (Object.keys(props).length === 0) {
        if (extra !== null && typeof extra === 'object') {
          return fc.dictionary(fc.constantFrom('users.yaml', 'roles.yaml', 'acls.yaml', 'settings.yaml', 'schemas.yaml', 'other.yaml', '../x.yaml'),
            valueForExtra(extra as JsonSchema), { maxKeys: 3 });
        }
        return depth > 2 ? fc.constant({}) : fc.object({ maxDepth: 2, maxKeys: 4 });
      }
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [key, s] of Object.entries(props)) record[key] = valueFor(s, components, key, depth + 1);
      return fc.record(record, { requiredKeys: required });
    }
    default:
      return depth > 2 ? fc.constant(null) : fc.jsonValue({ maxDepth: 2 });
  }
};

const valueForExtra = (schema: JsonSchema): fc.Arbitrary<unknown> =>
  schema['type'] === 'string' ? fc.oneof(fc.constantFrom(...GITOPS_YAML), fc.string({ maxLength: 60 })) : fc.jsonValue({ maxDepth: 2 });
