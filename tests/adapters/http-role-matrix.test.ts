/**
 * Route × role matrix (DESIGN §5, §8: every route declares its minimum role). Every route in
 * allRoutes() is called as viewer, auditor, operator and admin, and without a token: a role at or
 * above the minimum gets a 2xx, a lower one 403 MCM_ERR_FORBIDDEN, no token 401
 * MCM_ERR_UNAUTHENTICATED (public routes answer anyone). A refused request records no event.
 * Routes that need an existing entity get a fresh one per call, created through handleCommand.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { generate } from 'otplib';
import { allRoutes } from '../../adapters/http/routes/index.ts';
import type { MinRole } from '../../adapters/http/routes/route-spec.ts';
import type { Command } from '../../core/commands.ts';
import { handleCommand } from '../../core/handle-command.ts';
import { ADMIN_ROLES, type AdminRole } from '../../core/state.ts';
import { sealWebhookSecret } from '../../adapters/webhooks/webhook-secret.ts';
import { createLiveBus } from '../../adapters/live/live-bus.ts';
import { createObserverApi } from '../../adapters/mqtt/observer-api.ts';
import { createClientsTable } from '../../adapters/observer/clients-table.ts';
import { createTopicTree } from '../../adapters/observer/topic-tree.ts';
import { createSparkplugTracker } from '../../adapters/observer/sparkplug-tracker.ts';
import { HASH_A } from '../helpers/decider-spec.ts';
import { testBrokerConfigPort } from '../helpers/broker-config-port.ts';
import { createTestApp, ROLE_USERS, TEST_PASSWORD, type TestApp } from '../helpers/http.ts';
import { makeCa, makeCert } from '../helpers/pki.ts';
import { createFakeOidc, fakeOidcSettings, ssoCallback, ssoStart } from '../helpers/fake-oidc.ts';
import { addCertificate } from '../../adapters/certs/add-certificate.ts';
import { createCertStore } from '../../adapters/certs/cert-store.ts';

type Call = { url: string; body?: unknown; token?: string; headers?: Record<string, string> };
/** `role` null = no token. A case may sign in a fresh admin of that role (session-changing routes). */
/** `apiToken`: the caller is an API token of that role (issue 17), not a session. */
type CaseCtx = { h: TestApp; n: number; role: AdminRole | null; token: string | undefined; apiToken?: boolean };
type Case = (c: CaseCtx) => Promise<Call> | Call;

const RANK: Record<string, number> = { none: -1, authenticated: 0, viewer: 0, auditor: 1, operator: 2, admin: 3 };

const run = (h: TestApp, command: Command) => handleCommand(h.deps, command, { actor: { kind: 'system', id: 'matrix' } });

const mkUser = (h: TestApp, n: number): string => {
  run(h, { type: 'CreateMqttUser', data: { username: `u${n}`, passwordHash: HASH_A } });
  return `u${n}`;
};
const mkRole = (h: TestApp, n: number): string => {
  run(h, { type: 'DefineRole', data: { name: `r${n}`, rules: [{ topic: `r/${n}/#`, access: 'read' }] } });
  return `r${n}`;
};
const mkRule = (h: TestApp, n: number): number => {
  const e = run(h, { type: 'AddAclRule', data: { principal: 'anonymous', topic: `t/${n}`, access: 'read' } }).events[0];
  assert.ok(e?.type === 'AclRuleAdded');
  return e.data.id;
};
const mkSchema = (h: TestApp, n: number): number => {
  const e = run(h, { type: 'AttachSchema', data: { name: `s${n}`, topicFilter: `s/${n}/#`, schema: { type: 'object' } } }).events[0];
  assert.ok(e?.type === 'SchemaAttached');
  return e.data.id;
};
const mkWebhook = (h: TestApp, n: number): number => {
  const secretCiphertext = sealWebhookSecret(h.deps.secrets, `secret-${n}`);
  const e = run(h, { type: 'CreateWebhook', data: { url: `https://203.0.113.10/hook/${n}`, events: ['broker_down'], secretCiphertext } }).events[0];
  assert.ok(e?.type === 'WebhookCreated');
  return e.data.id;
};
const mkAdmin = async (h: TestApp, n: number, role: AdminRole): Promise<string> => {
  run(h, { type: 'CreateAdminUser', data: { username: `adm${n}`, passwordHash: await h.deps.adminHasher.hash(TEST_PASSWORD), role } });
  return `adm${n}`;
};

/** One server certificate (and key) for every certificate case: made once, with openssl. */
const pkiDir = mkdtempSync(join(tmpdir(), 'mcm-matrix-pki-'));
after(() => rmSync(pkiDir, { recursive: true, force: true }));
const serverCert = makeCert(pkiDir, { ca: makeCa(pkiDir), cn: 'localhost' });
const mkCertificate = (h: TestApp, n: number): string => {
  const deps = { store: h.deps.store, clock: h.deps.clock, certs: createCertStore(h.deps.secrets) };
  addCertificate(deps, { name: `c${n}`, cert: serverCert.certPem, key: serverCert.keyPem }, { actor: { kind: 'system', id: 'matrix' } });
  return `c${n}`;
};

/** A connected observer whose publishes always succeed (the broker routes are tested against a real one). */
const topicTree = createTopicTree({ maxTopics: 1000, historyDepth: 2 });
const mkTopic = (n: number): string => {
  topicTree.record({ topic: `t/${n}`, payload: Buffer.from('x'), qos: 0, retain: false, receivedAt: Date.now() });
  return encodeURIComponent(`t/${n}`);
};
const fakeObserver = createObserverApi({
  observer: {
    connected: () => true,
    publish: async () => {},
    statsHistory: () => [],
    stats: () => ({ version: 'mosquitto version 2.0.11', uptime_s: 1, values: {}, figures: { publish_received: null, publish_sent: null, clients_connected: null }, updated_at: null }),
    status: () => ({ state: 'up', connected: true, since: null, reason: null, client_id: 'mcm-observer-test', broker: 'mqtt://127.0.0.1:1', reconnects: 0, messages: 0, bytes: 0, processor_failures: {} }),
  },
  clients: createClientsTable({ bus: createLiveBus(), clock: { now: () => new Date().toISOString() } }),
  topics: topicTree,
  logSource: 'sys-topic',
});

const epochS = (h: TestApp): number => Math.floor(h.clock.ms() / 1000);

/** A fresh admin user of the case's role (viewer when no token), signed in. */
const freshSession = async (c: CaseCtx): Promise<{ username: string; token: string }> => {
  const username = await mkAdmin(c.h, c.n, c.role ?? 'viewer');
  const res = await c.h.login(username, TEST_PASSWORD);
  assert.equal(res.status, 200, res.text);
  return { username, token: res.body.token };
};

/** Fresh user with MFA enabled: setup, then verify with the current code. Returns its secret and new token. */
const freshMfaSession = async (c: CaseCtx): Promise<{ username: string; token: string; secret: string }> => {
  const s = await freshSession(c);
  const setup = await c.h.request('POST', '/api/v1/auth/mfa/setup', { token: s.token, body: { password: TEST_PASSWORD } });
  assert.equal(setup.status, 200, setup.text);
  const secret = setup.body.secret as string;
  const verify = await c.h.request('POST', '/api/v1/auth/mfa/verify', {
    token: s.token, body: { code: await generate({ secret, epoch: epochS(c.h), period: 30 }) },
  });
  assert.equal(verify.status, 200, verify.text);
  // The next code must come from a later time step (replay protection, DESIGN §9).
  c.h.clock.advance(30);
  return { username: s.username, token: verify.body.token ?? s.token, secret };
};

/** Session-changing routes act on a fresh user of the same role, so they never revoke shared tokens. */
const ownToken = (c: CaseCtx, fresh: string): string | undefined => (c.role === null ? undefined : c.apiToken ? c.token : fresh);

/** A token owned by the caller's own admin user (a non-admin may revoke only theirs). */
const mkApiToken = (c: CaseCtx): string => {
  const owner = ROLE_USERS[c.role ?? 'viewer'];
  const name = `tok${c.n}`;
  run(c.h, { type: 'CreateApiToken', data: { name, tokenId: c.n.toString(16).padStart(16, '0'), secretHash: `hmac-sha256$${'c'.repeat(64)}`, role: 'viewer', owner, expiresAt: null } });
  return name;
};

/**
 * Issue 17, written out independently of the route specs: API tokens are refused on the routes
 * that manage identity unless their role is admin, and always on a person's own password and MFA.
 */
const TOKEN_POLICY: Readonly<Record<string, 'admin' | 'never'>> = {
  'POST /api/v1/auth/mfa/setup': 'never',
  'POST /api/v1/auth/mfa/verify': 'never',
  'DELETE /api/v1/auth/mfa': 'never',
  'POST /api/v1/auth/password': 'never',
  'POST /api/v1/auth/logout': 'never',
  'GET /api/v1/tokens': 'admin',
  'POST /api/v1/tokens': 'admin',
  'DELETE /api/v1/tokens/{name}': 'admin',
  'GET /api/v1/admin-users': 'admin',
  'POST /api/v1/admin-users': 'admin',
  'GET /api/v1/admin-users/{username}': 'admin',
  'PUT /api/v1/admin-users/{username}': 'admin',
  'DELETE /api/v1/admin-users/{username}': 'admin',
};

/** Single sign-on through a stand-in provider (tests/helpers/fake-oidc.ts): a code for a fresh viewer. */
const matrixOidc = createFakeOidc();
const ssoUser = (c: CaseCtx): string => {
  const code = `sso${c.n}${c.apiToken ? 't' : ''}`;
  matrixOidc.users.set(code, { sub: code, preferred_username: code, groups: ['mcm-viewers'] });
  return code;
};

/** The minimum roles of DESIGN §8, written out independently of the route specs. */
const needs = (min: MinRole, build: Case): [MinRole, Case] => [min, build];

const CASES: Record<string, [MinRole, Case]> = {
  'POST /api/v1/auth/login': needs('none', async (c) => {
    const username = await mkAdmin(c.h, c.n, 'viewer');
    return { url: '/api/v1/auth/login', body: { username, password: TEST_PASSWORD }, token: c.token };
  }),
  'POST /api/v1/auth/login/mfa': needs('none', async (c) => {
    const s = await freshMfaSession({ ...c, role: 'viewer' });
    const login = await c.h.login(s.username, TEST_PASSWORD);
    assert.equal(login.body.mfa_required, true, login.text);
    const code = await generate({ secret: s.secret, epoch: epochS(c.h), period: 30 });
    return { url: '/api/v1/auth/login/mfa', body: { mfa_challenge: login.body.mfa_challenge, code }, token: c.token };
  }),
  'GET /api/v1/auth/me': needs('authenticated', (c) => ({ url: '/api/v1/auth/me', token: c.token })),
  'POST /api/v1/auth/mfa/setup': needs('authenticated', async (c) => {
    const s = await freshSession(c);
    return { url: '/api/v1/auth/mfa/setup', body: { password: TEST_PASSWORD }, token: ownToken(c, s.token) };
  }),
  'POST /api/v1/auth/mfa/verify': needs('authenticated', async (c) => {
    const s = await freshSession(c);
    const setup = await c.h.request('POST', '/api/v1/auth/mfa/setup', { token: s.token, body: { password: TEST_PASSWORD } });
    const code = await generate({ secret: setup.body.secret, epoch: epochS(c.h), period: 30 });
    return { url: '/api/v1/auth/mfa/verify', body: { code }, token: ownToken(c, s.token) };
  }),
  'DELETE /api/v1/auth/mfa': needs('authenticated', async (c) => {
    const s = await freshMfaSession(c);
    const code = await generate({ secret: s.secret, epoch: epochS(c.h), period: 30 });
    return { url: '/api/v1/auth/mfa', body: { password: TEST_PASSWORD, code }, token: ownToken(c, s.token) };
  }),
  'POST /api/v1/auth/password': needs('authenticated', async (c) => {
    const s = await freshSession(c);
    return {
      url: '/api/v1/auth/password',
      body: { current_password: TEST_PASSWORD, new_password: 'another-password-0123' },
      token: ownToken(c, s.token),
    };
  }),
  // Single sign-on (issue 17): public; the stand-in provider vouches for a fresh viewer per call.
  'GET /api/v1/auth/providers': needs('none', (c) => ({ url: '/api/v1/auth/providers', token: c.token })),
  'POST /api/v1/auth/oidc/start': needs('none', (c) => ({ url: '/api/v1/auth/oidc/start', token: c.token })),
  'GET /api/v1/auth/oidc/callback': needs('none', async (c) => {
    const flow = await ssoStart(c.h, ssoUser(c));
    return { url: flow.url, headers: { cookie: flow.cookie }, token: c.token };
  }),
  'POST /api/v1/auth/oidc/exchange': needs('none', async (c) => {
    const steps = await ssoCallback(c.h, ssoUser(c));
    return { url: '/api/v1/auth/oidc/exchange', headers: { cookie: steps.resultCookie }, token: c.token };
  }),
  'POST /api/v1/auth/logout': needs('authenticated', async (c) => ({ url: '/api/v1/auth/logout', token: ownToken(c, (await freshSession(c)).token) })),

  'GET /api/v1/tokens': needs('authenticated', (c) => ({ url: '/api/v1/tokens', token: c.token })),
  'POST /api/v1/tokens': needs('authenticated', (c) => ({ url: '/api/v1/tokens', body: { name: `new-token${c.n}`, role: 'viewer', expires: '1d' }, token: c.token })),
  'DELETE /api/v1/tokens/{name}': needs('authenticated', (c) => ({ url: `/api/v1/tokens/${mkApiToken(c)}`, token: c.token })),

  'GET /api/v1/admin-users': needs('auditor', (c) => ({ url: '/api/v1/admin-users', token: c.token })),
  'POST /api/v1/admin-users': needs('admin', (c) => ({
    url: '/api/v1/admin-users', body: { username: `new-admin${c.n}`, password: TEST_PASSWORD, role: 'viewer' }, token: c.token,
  })),
  'GET /api/v1/admin-users/{username}': needs('auditor', async (c) => ({ url: `/api/v1/admin-users/${await mkAdmin(c.h, c.n, 'viewer')}`, token: c.token })),
  'PUT /api/v1/admin-users/{username}': needs('admin', async (c) => ({
    url: `/api/v1/admin-users/${await mkAdmin(c.h, c.n, 'viewer')}`, body: { role: 'auditor' }, token: c.token,
  })),
  'DELETE /api/v1/admin-users/{username}': needs('admin', async (c) => ({ url: `/api/v1/admin-users/${await mkAdmin(c.h, c.n, 'viewer')}`, token: c.token })),

  'GET /api/v1/mqtt-users': needs('auditor', (c) => ({ url: '/api/v1/mqtt-users', token: c.token })),
  'POST /api/v1/mqtt-users': needs('operator', (c) => ({ url: '/api/v1/mqtt-users', body: { username: `new${c.n}` }, token: c.token })),
  'GET /api/v1/mqtt-users/{username}': needs('auditor', (c) => ({ url: `/api/v1/mqtt-users/${mkUser(c.h, c.n)}`, token: c.token })),
  'PUT /api/v1/mqtt-users/{username}': needs('operator', (c) => ({ url: `/api/v1/mqtt-users/${mkUser(c.h, c.n)}`, body: { description: 'x' }, token: c.token })),
  'DELETE /api/v1/mqtt-users/{username}': needs('operator', (c) => ({ url: `/api/v1/mqtt-users/${mkUser(c.h, c.n)}`, token: c.token })),
  'POST /api/v1/mqtt-users/{username}/password': needs('operator', (c) => ({ url: `/api/v1/mqtt-users/${mkUser(c.h, c.n)}/password`, body: {}, token: c.token })),

  'GET /api/v1/roles': needs('auditor', (c) => ({ url: '/api/v1/roles', token: c.token })),
  'POST /api/v1/roles': needs('operator', (c) => ({ url: '/api/v1/roles', body: { name: `new-role${c.n}`, rules: [{ topic: 'a/#', access: 'read' }] }, token: c.token })),
  'GET /api/v1/roles/{name}': needs('auditor', (c) => ({ url: `/api/v1/roles/${mkRole(c.h, c.n)}`, token: c.token })),
  'PUT /api/v1/roles/{name}': needs('operator', (c) => ({ url: `/api/v1/roles/${mkRole(c.h, c.n)}`, body: { description: 'x' }, token: c.token })),
  'DELETE /api/v1/roles/{name}': needs('operator', (c) => ({ url: `/api/v1/roles/${mkRole(c.h, c.n)}`, token: c.token })),

  'GET /api/v1/acls': needs('auditor', (c) => ({ url: '/api/v1/acls', token: c.token })),
  'POST /api/v1/acls': needs('operator', (c) => ({ url: '/api/v1/acls', body: { principal: 'anonymous', topic: `new/${c.n}`, access: 'read' }, token: c.token })),
  'POST /api/v1/acls/explain': needs('viewer', (c) => ({ url: '/api/v1/acls/explain', body: { username: mkUser(c.h, c.n), topic: 'a/b', action: 'read' }, token: c.token })),
  'GET /api/v1/acls/who': needs('viewer', (c) => ({ url: '/api/v1/acls/who?topic=a%2Fb&action=read', token: c.token })),
  'GET /api/v1/acls/{id}': needs('auditor', (c) => ({ url: `/api/v1/acls/${mkRule(c.h, c.n)}`, token: c.token })),
  'PUT /api/v1/acls/{id}': needs('operator', (c) => ({ url: `/api/v1/acls/${mkRule(c.h, c.n)}`, body: { access: 'readwrite' }, token: c.token })),
  'DELETE /api/v1/acls/{id}': needs('operator', (c) => ({ url: `/api/v1/acls/${mkRule(c.h, c.n)}`, token: c.token })),
  // One append of many writes (issue 14): operator, the floor of every route its operations stand for.
  'POST /api/v1/batch': needs('operator', (c) => ({
    url: '/api/v1/batch',
    body: { operations: [{ op: 'create_mqtt_user', body: { username: `b${c.n}` } }, { op: 'add_acl_rule', body: { principal: `user:b${c.n}`, topic: 'b/#', access: 'read' } }] },
    token: c.token,
  })),

  'GET /api/v1/json-schemas': needs('auditor', (c) => ({ url: '/api/v1/json-schemas', token: c.token })),
  'POST /api/v1/json-schemas': needs('operator', (c) => ({
    url: '/api/v1/json-schemas', body: { name: `n${c.n}`, topic_filter: 'x/#', schema: { type: 'object' } }, token: c.token,
  })),
  'GET /api/v1/json-schemas/{id}': needs('auditor', (c) => ({ url: `/api/v1/json-schemas/${mkSchema(c.h, c.n)}`, token: c.token })),
  'PUT /api/v1/json-schemas/{id}': needs('operator', (c) => ({ url: `/api/v1/json-schemas/${mkSchema(c.h, c.n)}`, body: { enabled: false }, token: c.token })),
  'DELETE /api/v1/json-schemas/{id}': needs('operator', (c) => ({ url: `/api/v1/json-schemas/${mkSchema(c.h, c.n)}`, token: c.token })),

  'GET /api/v1/settings': needs('auditor', (c) => ({ url: '/api/v1/settings', token: c.token })),
  'PUT /api/v1/settings': needs('admin', (c) => ({ url: '/api/v1/settings', body: { hash_iterations: 100 + c.n }, token: c.token })),

  'GET /api/v1/export': needs('admin', (c) => ({ url: '/api/v1/export', token: c.token })),
  'POST /api/v1/plan': needs('admin', (c) => ({ url: '/api/v1/plan', body: { bundle: { version: 1 } }, token: c.token })),
  'POST /api/v1/apply': needs('admin', (c) => ({ url: '/api/v1/apply', body: { bundle: { version: 1, settings: { allow_anonymous: false, hash_iterations: 101 } } }, token: c.token })),
  // Admin only (issue 11): importing replaces every user and rule; operators are refused.
  'POST /api/v1/import': needs('admin', (c) => ({ url: '/api/v1/import', body: { mode: 'plan', password_file: `m${c.n}:${HASH_A}\n` }, token: c.token })),

  'GET /api/v1/events': needs('auditor', (c) => ({ url: '/api/v1/events', token: c.token })),
  'GET /api/v1/events/verify': needs('auditor', (c) => ({ url: '/api/v1/events/verify', token: c.token })),
  'GET /api/v1/state': needs('auditor', (c) => ({ url: '/api/v1/state?at=3', token: c.token })),
  'GET /api/v1/audit-events': needs('auditor', (c) => ({ url: '/api/v1/audit-events', token: c.token })),
  'GET /api/v1/security/events': needs('auditor', (c) => ({ url: '/api/v1/security/events', token: c.token })),
  'GET /api/v1/lockouts': needs('admin', (c) => ({ url: '/api/v1/lockouts', token: c.token })),
  'DELETE /api/v1/lockouts': needs('admin', (c) => ({ url: `/api/v1/lockouts?username=someone-${c.n}&address=203.0.113.${c.n % 250}`, token: c.token })),
  'GET /api/v1/apply-status': needs('viewer', (c) => ({ url: '/api/v1/apply-status', token: c.token })),
  'POST /api/v1/apply-status/retry': needs('operator', (c) => ({ url: '/api/v1/apply-status/retry', token: c.token })),
  'GET /api/v1/webhooks': needs('admin', (c) => ({ url: '/api/v1/webhooks', token: c.token })),
  // 203.0.113.0/24 (TEST-NET-3) is public to the SSRF guard and needs no DNS.
  'POST /api/v1/webhooks': needs('admin', (c) => ({ url: '/api/v1/webhooks', body: { url: `https://203.0.113.10/new/${c.n}`, events: ['broker_up'] }, token: c.token })),
  'GET /api/v1/webhooks/{id}': needs('admin', (c) => ({ url: `/api/v1/webhooks/${mkWebhook(c.h, c.n)}`, token: c.token })),
  'PUT /api/v1/webhooks/{id}': needs('admin', (c) => ({ url: `/api/v1/webhooks/${mkWebhook(c.h, c.n)}`, body: { enabled: false }, token: c.token })),
  'DELETE /api/v1/webhooks/{id}': needs('admin', (c) => ({ url: `/api/v1/webhooks/${mkWebhook(c.h, c.n)}`, token: c.token })),
  'POST /api/v1/webhooks/{id}/rotate-secret': needs('admin', (c) => ({ url: `/api/v1/webhooks/${mkWebhook(c.h, c.n)}/rotate-secret`, token: c.token })),
  'GET /api/v1/webhooks/{id}/deliveries': needs('admin', (c) => ({ url: `/api/v1/webhooks/${mkWebhook(c.h, c.n)}/deliveries`, token: c.token })),
  'GET /api/v1/broker/config': needs('viewer', (c) => ({ url: '/api/v1/broker/config', token: c.token })),
  // sys_interval is reloaded (no restart): no If-Match needed.
  'PUT /api/v1/broker/config': needs('admin', (c) => ({ url: '/api/v1/broker/config', body: { config: { options: { sys_interval: 10 + (c.n % 50) } } }, token: c.token })),
  'POST /api/v1/broker/config/preview': needs('operator', (c) => ({ url: '/api/v1/broker/config/preview', body: { config: { options: { autosave_interval: 60 } } }, token: c.token })),
  'GET /api/v1/broker/listeners': needs('viewer', (c) => ({ url: '/api/v1/broker/listeners', token: c.token })),
  // A listener restarts the broker: confirmed with the current seq (If-Match).
  'PUT /api/v1/broker/listeners/{name}': needs('admin', (c) => ({
    url: `/api/v1/broker/listeners/l${c.n}`, body: { port: 20_000 + c.n, protocol: 'mqtt', address: '127.0.0.1' }, token: c.token,
    headers: { 'if-match': `"${c.h.deps.store.state().seq}"` },
  })),
  'DELETE /api/v1/broker/listeners/{name}': needs('admin', (c) => {
    const name = `d${c.n}`;
    run(c.h, { type: 'SetBrokerListener', data: { listener: { name, port: 30_000 + c.n, protocol: 'mqtt' } } });
    return { url: `/api/v1/broker/listeners/${name}`, token: c.token, headers: { 'if-match': `"${c.h.deps.store.state().seq}"` } };
  }),
  'GET /api/v1/broker/bridges': needs('viewer', (c) => ({ url: '/api/v1/broker/bridges', token: c.token })),
  'PUT /api/v1/broker/bridges/{name}': needs('admin', (c) => ({
    url: `/api/v1/broker/bridges/b${c.n}`, token: c.token, headers: { 'if-match': `"${c.h.deps.store.state().seq}"` },
    body: { addresses: [{ host: 'cloud.example.com', port: 8883 }], remoteUsername: 'edge', remotePassword: 'S3cret-bridge', topics: [{ pattern: 'site/#', direction: 'out', qos: 1 }] },
  })),
  'DELETE /api/v1/broker/bridges/{name}': needs('admin', (c) => {
    const name = `x${c.n}`;
    run(c.h, { type: 'SetBrokerBridge', data: { bridge: { name, addresses: [{ host: 'h', port: 1883 }], topics: [{ pattern: '#', direction: 'out' }] } } });
    return { url: `/api/v1/broker/bridges/${name}`, token: c.token, headers: { 'if-match': `"${c.h.deps.store.state().seq}"` } };
  }),
  'GET /api/v1/certificates': needs('viewer', (c) => ({ url: '/api/v1/certificates', token: c.token })),
  'POST /api/v1/certificates': needs('admin', (c) => ({
    url: '/api/v1/certificates', body: { name: `new-cert${c.n}`, cert: serverCert.certPem, key: serverCert.keyPem }, token: c.token,
  })),
  'DELETE /api/v1/certificates/{name}': needs('admin', (c) => ({ url: `/api/v1/certificates/${mkCertificate(c.h, c.n)}`, token: c.token })),
  'GET /api/v1/status': needs('viewer', (c) => ({ url: '/api/v1/status', token: c.token })),
  'GET /api/v1/clients': needs('viewer', (c) => ({ url: '/api/v1/clients', token: c.token })),
  'GET /api/v1/topics': needs('viewer', (c) => ({ url: '/api/v1/topics?prefix=t', token: c.token })),
  'GET /api/v1/topics/{topic}': needs('viewer', (c) => ({ url: `/api/v1/topics/${mkTopic(c.n)}`, token: c.token })),
  'POST /api/v1/broker/publish': needs('operator', (c) => ({ url: '/api/v1/broker/publish', body: { topic: `p/${c.n}`, payload: 'x', qos: 1 }, token: c.token })),
  'DELETE /api/v1/retained/{topic}': needs('operator', (c) => ({ url: `/api/v1/retained/${encodeURIComponent(`p/${c.n}`)}`, token: c.token })),
  'GET /api/v1/sparkplug/nodes': needs('viewer', (c) => ({ url: '/api/v1/sparkplug/nodes', token: c.token })),
  'GET /api/v1/openapi.json': needs('none', (c) => ({ url: '/api/v1/openapi.json', token: c.token })),

  'GET /healthz': needs('none', (c) => ({ url: '/healthz', token: c.token })),
  'GET /livez': needs('none', (c) => ({ url: '/livez', token: c.token })),
  'GET /readyz': needs('none', (c) => ({ url: '/readyz', token: c.token })),
};

describe('route × role matrix (DESIGN §8)', () => {
  it('has a case for every route in allRoutes(), and no case for a route that does not exist', () => {
    const keys = allRoutes().map((r) => `${r.method} ${r.url}`);
    assert.deepEqual(keys.filter((k) => !(k in CASES)), [], 'routes without a matrix case');
    assert.deepEqual(Object.keys(CASES).filter((k) => !keys.includes(k)), [], 'cases for unknown routes');
  });

  const matrixApp = (t: TestContext): Promise<TestApp> => createTestApp(t, {
    deps: { observer: fakeObserver, brokerConfig: testBrokerConfigPort(), sparkplug: createSparkplugTracker({ bus: createLiveBus(), clock: { now: () => new Date().toISOString() }, logger: { warn: () => {} } }), oidc: matrixOidc },
    config: (c) => {
      c.auth.oidc = fakeOidcSettings();
      c.auth.jwt_ttl_s = 86_400; // the MFA cases move the clock
      c.auth.lockout.max_failures = 10_000;
    },
  });

  /**
   * Calls every route as each role (sessions, or API tokens of that role) and without a token.
   * An API token is held to the route's minimum role like a session, and also to TOKEN_POLICY.
   */
  const runMatrix = async (h: TestApp, tokens: ReadonlyMap<AdminRole, string>, apiToken: boolean): Promise<string[]> => {
    let n = 0;
    const failures: string[] = [];
    for (const route of allRoutes()) {
      const key = `${route.method} ${route.url}`;
      const entry = CASES[key];
      assert.ok(entry, key);
      const [min, build] = entry;
      if (route.minRole !== min) failures.push(`${key}: declared min role ${route.minRole}, DESIGN §8 says ${min}`);
      const policy = TOKEN_POLICY[key];
      if (route.tokens !== policy) failures.push(`${key}: declared token policy ${route.tokens ?? 'none'}, issue 17 says ${policy ?? 'none'}`);
      for (const role of [null, ...ADMIN_ROLES] as const) {
        n += 1;
        const call = await build({ h, n, role, token: role === null ? undefined : tokens.get(role), apiToken });
        const before = h.eventCount();
        const res = await h.request(route.method, call.url, {
          ...(call.token === undefined ? {} : { token: call.token }),
          ...(call.body === undefined ? {} : { body: call.body }),
          ...(call.headers === undefined ? {} : { headers: call.headers }),
        });
        const who = role === null ? 'no token' : apiToken ? `${role} API token` : role;
        const allowed = min === 'none' || (role !== null && RANK[role]! >= RANK[min]!);
        const tokenRefused = apiToken && role !== null && allowed && min !== 'none' && (policy === 'never' || (policy === 'admin' && role !== 'admin'));
        if (allowed && !tokenRefused) {
          if (res.status < 200 || res.status > 299) failures.push(`${key} as ${who}: expected 2xx, got ${res.status} ${res.text.slice(0, 200)}`);
        } else {
          const [status, code] = role === null ? [401, 'MCM_ERR_UNAUTHENTICATED'] : tokenRefused ? [403, 'MCM_ERR_TOKEN_NOT_ALLOWED'] : [403, 'MCM_ERR_FORBIDDEN'];
          if (res.status !== status || res.body?.error?.code !== code) {
            failures.push(`${key} as ${who}: expected ${status} ${code}, got ${res.status} ${res.text.slice(0, 200)}`);
          }
          if (h.eventCount() !== before) failures.push(`${key} as ${who}: a refused request recorded events`);
        }
      }
    }
    return failures;
  };

  it('lets each role at or above the minimum through (2xx), refuses the others with 403, and no token with 401', async (t) => {
    const h = await matrixApp(t);
    const tokens = new Map<AdminRole, string>();
    for (const role of ADMIN_ROLES) tokens.set(role, await h.tokenFor(role));
    assert.deepEqual(await runMatrix(h, tokens, false), []);
  });

  it('holds API tokens to the same floors, and to admin (or never) on the routes that manage identity (issue 17)', async (t) => {
    const h = await matrixApp(t);
    const tokens = new Map<AdminRole, string>();
    for (const role of ADMIN_ROLES) {
      // Each made by the signed-in admin of that role, as a script's owner would.
      const res = await h.request('POST', '/api/v1/tokens', { token: await h.tokenFor(role), body: { name: `matrix-${role}`, role } });
      assert.equal(res.status, 201, res.text);
      tokens.set(role, res.body.token);
    }
    assert.deepEqual(await runMatrix(h, tokens, true), []);
  });
});
