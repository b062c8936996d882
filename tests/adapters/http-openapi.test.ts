/**
 * docs/openapi.yaml is the API contract (DESIGN §8): it must describe exactly the routes the
 * router serves, with the same minimum roles, and be structurally sound. The structural checks
 * below are a small, dependency-free lint (every $ref resolves, every operation has an
 * operationId and responses, paths use {param} templating that matches declared parameters);
 * a full linter such as @redocly/cli could replace them later.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allRoutes } from '../../adapters/http/routes/index.ts';
import { compileAllSchemas, openApiDocument, problemsWith, schemaNames } from '../../adapters/http/validate.ts';
import { createTestApp } from '../helpers/http.ts';

type Obj = Record<string, any>;
const doc = openApiDocument() as Obj;
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
const MIN_ROLES = ['none', 'authenticated', 'viewer', 'auditor', 'operator', 'admin'];

/** Every operation in the document with its full request path (path-level `servers` honoured). */
const operations = (): { method: string; path: string; url: string; op: Obj; item: Obj }[] => {
  const base = (doc.servers?.[0]?.url ?? '') as string;
  const out = [];
  for (const [path, item] of Object.entries(doc.paths as Obj)) {
    const server = (item.servers?.[0]?.url ?? base) as string;
    const url = `${server.replace(/\/$/, '')}${path}`;
    for (const m of METHODS) if (item[m]) out.push({ method: m.toUpperCase(), path, url, op: item[m] as Obj, item: item as Obj });
  }
  return out;
};

const resolvePointer = (ref: string): unknown => {
  assert.ok(ref.startsWith('#/'), `only local refs are used: ${ref}`);
  let node: unknown = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined;
    node = (node as Obj)[key];
  }
  return node;
};

const allRefs = (node: unknown, at = '#', out: { ref: string; at: string }[] = []): { ref: string; at: string }[] => {
  if (Array.isArray(node)) node.forEach((v, i) => allRefs(v, `${at}/${i}`, out));
  else if (node !== null && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push({ ref: v, at });
      else allRefs(v, `${at}/${k}`, out);
    }
  }
  return out;
};

/** Resolves one level of `$ref` (parameters and responses may be references). */
const deref = (node: Obj): Obj => (typeof node.$ref === 'string' ? (resolvePointer(node.$ref) as Obj) : node);

describe('docs/openapi.yaml agrees with the router (DESIGN §8)', () => {
  it('describes every route in allRoutes() with the same method and path, and no route the router lacks', () => {
    const routed = new Set(allRoutes().map((r) => `${r.method} ${r.url}`));
    const documented = new Set(operations().map((o) => `${o.method} ${o.url}`));
    assert.deepEqual([...routed].filter((r) => !documented.has(r)), [], 'routes missing from the document');
    assert.deepEqual([...documented].filter((d) => !routed.has(d)), [], 'documented operations no route serves');
    assert.equal(routed.size, allRoutes().length, 'no route is declared twice');
  });

  it('gives every operation the same x-min-role as its route spec', () => {
    const byKey = new Map(operations().map((o) => [`${o.method} ${o.url}`, o.op['x-min-role']]));
    for (const r of allRoutes()) assert.equal(byKey.get(`${r.method} ${r.url}`), r.minRole, `${r.method} ${r.url}`);
  });

  it('marks exactly the public routes with `security: []`', () => {
    for (const o of operations()) {
      const isPublic = Array.isArray(o.op.security) && o.op.security.length === 0;
      assert.equal(isPublic, o.op['x-min-role'] === 'none', `${o.method} ${o.url}`);
    }
  });
});

describe('docs/openapi.yaml is structurally valid (lint)', () => {
  it('is OpenAPI 3.1 with a title, a version and a bearer security scheme', () => {
    assert.match(String(doc.openapi), /^3\.1\.\d+$/);
    assert.equal(typeof doc.info?.title, 'string');
    assert.equal(typeof doc.info?.version, 'string');
    assert.equal(doc.components?.securitySchemes?.bearerAuth?.scheme, 'bearer');
  });

  it('resolves every $ref', () => {
    const refs = allRefs(doc);
    assert.ok(refs.length > 100, 'the document uses references');
    const broken = refs.filter((r) => resolvePointer(r.ref) === undefined);
    assert.deepEqual(broken, []);
  });

  it('uses every component it defines (no dead or misspelt definitions)', () => {
    const used = new Set(allRefs(doc).map((r) => r.ref));
    for (const kind of ['schemas', 'responses', 'parameters', 'headers'] as const) {
      for (const name of Object.keys(doc.components[kind] ?? {})) {
        assert.ok(used.has(`#/components/${kind}/${name}`), `#/components/${kind}/${name} is never referenced`);
      }
    }
  });

  it('gives every operation a unique operationId, a known x-min-role and at least one success response', () => {
    const ids = new Set<string>();
    for (const o of operations()) {
      const where = `${o.method} ${o.path}`;
      assert.match(String(o.op.operationId), /^[a-z][A-Za-z0-9]*$/, `${where} operationId`);
      assert.ok(!ids.has(o.op.operationId), `${where}: duplicate operationId ${o.op.operationId}`);
      ids.add(o.op.operationId);
      assert.ok(MIN_ROLES.includes(o.op['x-min-role']), `${where} x-min-role`);
      const codes = Object.keys(o.op.responses ?? {});
      assert.ok(codes.some((c) => /^2\d\d$/.test(c)), `${where} has a 2xx response`);
      for (const c of codes) {
        assert.match(c, /^[1-5]\d\d$/, `${where} response code ${c}`);
        assert.equal(typeof deref(o.op.responses[c]).description, 'string', `${where} ${c} has a description`);
      }
      if (o.op['x-min-role'] !== 'none') {
        assert.ok(codes.includes('401'), `${where} documents 401`);
        if (o.op['x-min-role'] !== 'authenticated' && o.op['x-min-role'] !== 'viewer') assert.ok(codes.includes('403'), `${where} documents 403`);
      }
    }
  });

  it('uses only OpenAPI keys in path items and operations (a YAML slip would add stray ones)', () => {
    const itemKeys = new Set(['summary', 'description', 'servers', 'parameters', '$ref', ...METHODS]);
    const opKeys = new Set(['tags', 'summary', 'description', 'operationId', 'parameters', 'requestBody', 'responses', 'security', 'servers', 'deprecated', 'callbacks', 'externalDocs']);
    for (const [path, item] of Object.entries(doc.paths as Obj)) {
      for (const k of Object.keys(item)) assert.ok(itemKeys.has(k), `${path}: unexpected key ${k}`);
      for (const m of METHODS) {
        if (!item[m]) continue;
        for (const k of Object.keys(item[m])) assert.ok(opKeys.has(k) || k.startsWith('x-'), `${m} ${path}: unexpected key ${k}`);
      }
    }
  });

  it('templates paths with {param}, each declared as a required path parameter, and nothing else', () => {
    for (const o of operations()) {
      assert.ok(!/\/:/.test(o.path), `${o.path} uses {param}, not :param`);
      assert.match(o.path, /^\/[A-Za-z0-9_.\-/{}]*$/, `${o.path} is a plain path`);
      const templated = [...o.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      const params = [...(o.item.parameters ?? []), ...(o.op.parameters ?? [])].map(deref);
      const declared = params.filter((p) => p.in === 'path').map((p) => p.name as string).sort();
      assert.deepEqual(declared, templated, `${o.method} ${o.path} path parameters`);
      for (const p of params.filter((x) => x.in === 'path')) assert.equal(p.required, true, `${o.path} {${p.name}} is required`);
      for (const p of params) assert.ok(['path', 'query', 'header', 'cookie'].includes(p.in), `${o.path} parameter ${p.name} in`);
    }
  });

  it('validates request bodies against named component schemas that refuse unknown fields', () => {
    for (const o of operations()) {
      const body = o.op.requestBody;
      if (!body) continue;
      const schema = body.content?.['application/json']?.schema;
      assert.ok(typeof schema?.$ref === 'string', `${o.method} ${o.path} body is a $ref to a component`);
      const name = (schema.$ref as string).replace('#/components/schemas/', '');
      assert.ok(schemaNames().includes(name), `${name} compiles`);
      assert.equal((doc.components.schemas[name] as Obj).additionalProperties, false, `${name} refuses unknown fields`);
    }
  });

  it('compiles every schema in the document (they are compiled on first use at run time)', () => {
    assert.doesNotThrow(() => compileAllSchemas());
    assert.ok(schemaNames().length > 50, `${schemaNames().length} schemas`);
  });

  it('compiles the request schemas the auth routes rely on, and they mean what DESIGN §8 says', () => {
    for (const name of ['LoginRequest', 'LoginMfaRequest', 'MfaSetupRequest', 'MfaVerifyRequest', 'MfaDisableRequest', 'PasswordChangeRequest', 'AdminUserCreate', 'AdminUserUpdate']) {
      assert.ok(schemaNames().includes(name), name);
    }
    assert.deepEqual(problemsWith('LoginRequest', { username: 'root', password: 'x' }), []);
    assert.equal(problemsWith('LoginRequest', { username: 'root' }).length, 1);
    assert.deepEqual(problemsWith('MqttUserCreate', { username: 'alice', roles: ['a'], disabled: false }), []);
    const unknown = problemsWith('MqttUserCreate', { username: 'alice', admin: true });
    assert.deepEqual(unknown.map((d) => d.field), ['admin']);
  });
});

/** The documented schema name of an operation's response, when it is a component $ref. */
const responseSchema = (method: string, url: string, status: number): string | null => {
  const o = operations().find((x) => x.method === method && x.url === url);
  assert.ok(o, `${method} ${url} is documented`);
  const r = o.op.responses?.[String(status)];
  assert.ok(r, `${method} ${url} documents ${status}`);
  const ref = deref(r).content?.['application/json']?.schema?.$ref as string | undefined;
  return ref === undefined ? null : ref.replace('#/components/schemas/', '');
};

describe('responses match the documented schemas', () => {
  it('answers with bodies valid against the response schema of the status it returns', async (t) => {
    const h = await createTestApp(t);
    const admin = await h.tokenFor('admin');
    const call = async (method: string, template: string, path: string, body?: unknown): Promise<void> => {
      const res = await h.request(method, path, { token: admin, ...(body === undefined ? {} : { body }) });
      const name = responseSchema(method, template, res.status);
      if (name === null) return;
      assert.deepEqual(problemsWith(name, res.body), [], `${method} ${path} → ${res.status} as ${name}: ${res.text.slice(0, 300)}`);
    };
    await call('POST', '/api/v1/roles', '/api/v1/roles', { name: 'r', rules: [{ topic: 'a/#', access: 'read' }] });
    await call('POST', '/api/v1/mqtt-users', '/api/v1/mqtt-users', { username: 'alice', roles: ['r'] });
    await call('POST', '/api/v1/acls', '/api/v1/acls', { principal: 'user:alice', topic: 'b/#', access: 'readwrite' });
    await call('POST', '/api/v1/json-schemas', '/api/v1/json-schemas', { name: 's', topic_filter: 'a/#', schema: { type: 'object' } });
    await call('POST', '/api/v1/mqtt-users/{username}/password', '/api/v1/mqtt-users/alice/password', {});
    await call('PUT', '/api/v1/settings', '/api/v1/settings', { allow_anonymous: true });
    await call('POST', '/api/v1/acls/explain', '/api/v1/acls/explain', { username: 'alice', topic: 'b/c', action: 'write' });
    await call('POST', '/api/v1/mqtt-users', '/api/v1/mqtt-users', { username: 'alice' }); // 409 → Error
    await call('GET', '/api/v1/mqtt-users/{username}', '/api/v1/mqtt-users/nobody'); // 404 → Error
    for (const path of [
      '/api/v1/mqtt-users', '/api/v1/mqtt-users/alice', '/api/v1/roles', '/api/v1/roles/r', '/api/v1/acls', '/api/v1/acls/1',
      '/api/v1/json-schemas', '/api/v1/json-schemas/1', '/api/v1/settings', '/api/v1/events', '/api/v1/events/verify',
      '/api/v1/state', '/api/v1/audit-events', '/api/v1/security/events', '/api/v1/apply-status', '/api/v1/admin-users',
      '/api/v1/admin-users/test-admin', '/api/v1/auth/me', '/healthz', '/livez', '/readyz',
    ]) {
      const template = path.replace(/\/mqtt-users\/alice$/, '/mqtt-users/{username}').replace(/\/roles\/r$/, '/roles/{name}')
        .replace(/\/(acls|json-schemas)\/1$/, '/$1/{id}').replace(/\/admin-users\/test-admin$/, '/admin-users/{username}');
      await call('GET', template, path);
    }
    await call('GET', '/api/v1/acls/who', '/api/v1/acls/who?topic=b%2Fc&action=read');
    // API tokens (issue 17): the created token, the list, the token's own /auth/me, an audit row by a token.
    const made = await h.request('POST', '/api/v1/tokens', { token: admin, body: { name: 'ci', role: 'admin', expires: '1d' } });
    assert.equal(responseSchema('POST', '/api/v1/tokens', made.status), 'ApiTokenCreated');
    assert.deepEqual(problemsWith('ApiTokenCreated', made.body), [], made.text);
    const apiToken = made.body.token as string;
    for (const template of ['/api/v1/auth/me', '/api/v1/mqtt-users']) {
      const path = template;
      const res = await h.request(method(template), path, { token: apiToken, ...(template.endsWith('users') ? { body: { username: 'by-token' } } : {}) });
      const name = responseSchema(method(template), template, res.status);
      assert.ok(name, `${path} → ${res.status} has a documented schema`);
      assert.deepEqual(problemsWith(name, res.body), [], `${path}: ${res.text}`);
    }
    await call('GET', '/api/v1/tokens', '/api/v1/tokens');
    await call('GET', '/api/v1/audit-events', '/api/v1/audit-events?actor=ci');
    await call('POST', '/api/v1/tokens', '/api/v1/tokens', { name: 'ci', role: 'viewer' }); // 409 → Error
  });
});

/** The method the token checks above call each path with. */
const method = (template: string): string => (template.endsWith('/mqtt-users') ? 'POST' : 'GET');

describe('GET /api/v1/openapi.json', () => {
  it('serves the document as JSON without a token', async (t) => {
    const h = await createTestApp(t, { users: false });
    const res = await h.request('GET', '/api/v1/openapi.json');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(res.body, JSON.parse(JSON.stringify(doc)));
  });
});
