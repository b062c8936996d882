/**
 * API tokens (issue 17): shown once and kept as a keyed hash; a role no higher than the creator's;
 * usable as `Authorization: Bearer` on what the role allows, recorded as actor kind `token`; an
 * expiry, a last-used time and address; revocation effective on the next request and on an open
 * ws stream. A demoted creator's tokens are CAPPED at the creator's new role (not revoked); a
 * disabled creator's are suspended; a deleted creator's are revoked (events), so a new admin
 * user of the same name inherits nothing.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { handleCommand } from '../../core/handle-command.ts';
import { apiTokenKeyOf, createApiTokenService } from '../../adapters/http/auth/api-tokens.ts';
import { createTokenService } from '../../adapters/http/auth/jwt.ts';
import { JWT_SECRET_NAME } from '../../adapters/http/auth/services.ts';
import { createLiveBus } from '../../adapters/live/live-bus.ts';
import { createApiTokenUsage } from '../../adapters/sqlite/api-token-usage.ts';
import { publishEventAppended } from '../../adapters/ws/event-appended.ts';
import { createWsHub, type WsHub } from '../../adapters/ws/hub.ts';
import { wsAuthenticator } from '../../adapters/ws/ws-auth.ts';
import { createTestApp, ROLE_USERS, TEST_PASSWORD, type TestApp } from '../helpers/http.ts';
import { bearer, openWs, refusedUpgrade, wsUrl } from '../helpers/ws-client.ts';

const SYSTEM = { actor: { kind: 'system' as const, id: 'test' } };

const createToken = async (h: TestApp, as: string, body: Record<string, unknown>) =>
  h.request('POST', '/api/v1/tokens', { token: as, body });

const get = (h: TestApp, token: string, path = '/api/v1/mqtt-users') => h.request('GET', path, { token });

describe('API tokens: created once, stored as a keyed hash', () => {
  it('shows the token in the 201 only; the log, the list, the audit and the database never hold it', async (t) => {
    const h = await createTestApp(t);
    const admin = await h.tokenFor('admin');
    const res = await createToken(h, admin, { name: 'ci-deploy', role: 'operator', expires: '90d' });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const { token } = res.body as { token: string };
    assert.match(token, /^mcmt_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    assert.equal(res.body.role, 'operator');
    assert.equal(res.body.owner, ROLE_USERS.admin);
    assert.equal(Date.parse(res.body.expires_at) - h.clock.ms(), 90 * 86_400_000);
    const secret = token.slice(token.lastIndexOf('_') + 1);

    const list = await get(h, admin, '/api/v1/tokens');
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.items.map((i: { name: string }) => i.name), ['ci-deploy']);
    assert.doesNotMatch(list.text, new RegExp(secret));
    assert.doesNotMatch(list.text, /hmac-sha256/);
    const audit = await get(h, admin, '/api/v1/audit-events');
    assert.doesNotMatch(audit.text, new RegExp(secret));
    assert.doesNotMatch(audit.text, /hmac-sha256\$/, 'the keyed hash is redacted too');
    const stored = h.store.read().find((e) => e.type === 'ApiTokenCreated');
    assert.ok(stored?.type === 'ApiTokenCreated');
    assert.match(stored.data.secretHash, /^hmac-sha256\$[0-9a-f]{64}$/);
    assert.doesNotMatch(JSON.stringify(h.store.read()), new RegExp(secret));
    assert.doesNotMatch(readFileSync(join(h.dataDir, 'mcm.db')).toString('latin1'), new RegExp(secret));
  });

  it('bad input is a clear 4xx with a stable code and appends nothing', async (t) => {
    const h = await createTestApp(t);
    const admin = await h.tokenFor('admin');
    assert.equal((await createToken(h, admin, { name: 'ok', role: 'viewer' })).status, 201);
    const before = h.eventCount();
    const cases: [Record<string, unknown>, number, string][] = [
      [{ name: 'has space', role: 'viewer' }, 400, 'MCM_ERR_VALIDATION'],
      [{ name: '..', role: 'viewer' }, 400, 'MCM_ERR_TOKEN_NAME_INVALID'],
      [{ name: 'x', role: 'root' }, 400, 'MCM_ERR_VALIDATION'],
      [{ name: 'x', role: 'viewer', expires: '90 days' }, 400, 'MCM_ERR_VALIDATION'],
      [{ name: 'x', role: 'viewer', expires: '0d' }, 400, 'MCM_ERR_VALIDATION'],
      [{ name: 'x', role: 'viewer', expires: '99999d' }, 400, 'MCM_ERR_VALIDATION'],
      [{ name: 'x', role: 'viewer', token: 'mine' }, 400, 'MCM_ERR_VALIDATION'],
      [{ name: 'ok', role: 'viewer' }, 409, 'MCM_ERR_TOKEN_EXISTS'],
    ];
    for (const [body, status, code] of cases) {
      const res = await createToken(h, admin, body);
      assert.equal(res.status, status, `${JSON.stringify(body)}: ${res.text}`);
      assert.equal(res.body.error.code, code, JSON.stringify(body));
    }
    const gone = await h.request('DELETE', '/api/v1/tokens/nope', { token: admin });
    assert.deepEqual([gone.status, gone.body.error.code], [404, 'MCM_ERR_TOKEN_NOT_FOUND']);
    assert.equal(h.eventCount(), before);
  });

  it('a token never gets a higher role than its creator (403 MCM_ERR_TOKEN_ROLE_TOO_HIGH)', async (t) => {
    const h = await createTestApp(t);
    const before = h.eventCount();
    const res = await createToken(h, await h.tokenFor('operator'), { name: 'escalate', role: 'admin' });
    assert.deepEqual([res.status, res.body.error.code], [403, 'MCM_ERR_TOKEN_ROLE_TOO_HIGH']);
    assert.equal(h.eventCount(), before);
    assert.equal((await createToken(h, await h.tokenFor('operator'), { name: 'same', role: 'operator' })).status, 201);
  });
});

describe('API tokens: use', () => {
  it('works as a bearer on what its role allows; events and audit record actor kind token; last use time and address', async (t) => {
    const h = await createTestApp(t);
    const admin = await h.tokenFor('admin');
    const { token } = (await createToken(h, admin, { name: 'ci-deploy', role: 'operator' })).body as { token: string };
    assert.equal((await get(h, token)).status, 200);
    const created = await h.request('POST', '/api/v1/mqtt-users', { token, body: { username: 'sensor-1', password: 'Sensor-password-1' } });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(h.store.read().at(-1)?.actor, { kind: 'token', id: 'ci-deploy', ip: '127.0.0.1', request_id: created.headers.get('x-request-id') });
    const audit = await h.request('GET', '/api/v1/audit-events?actor=ci-deploy', { token: admin });
    assert.equal(audit.body.items[0].actor.kind, 'token');
    // Above its role: 403, as for a session.
    const refused = await h.request('POST', '/api/v1/admin-users', { token, body: { username: 'x', password: TEST_PASSWORD, role: 'viewer' } });
    assert.deepEqual([refused.status, refused.body.error.code], [403, 'MCM_ERR_FORBIDDEN']);
    const me = await get(h, token, '/api/v1/auth/me');
    assert.deepEqual(me.body, { username: 'token:ci-deploy', role: 'operator', mfa_enabled: false, token: { name: 'ci-deploy', owner: ROLE_USERS.admin, expires_at: null } });
    const [row] = (await get(h, admin, '/api/v1/tokens')).body.items;
    assert.equal(row.last_used_ip, '127.0.0.1');
    assert.equal(row.last_used_at, h.clock.now());
    assert.equal(row.status, 'active');
  });

  it('never for a person\'s own password or MFA, and identity routes only with an admin token', async (t) => {
    const h = await createTestApp(t);
    const admin = await h.tokenFor('admin');
    const { token } = (await createToken(h, admin, { name: 'root-token', role: 'admin' })).body as { token: string };
    const pw = await h.request('POST', '/api/v1/auth/password', { token, body: { current_password: TEST_PASSWORD, new_password: 'another-password-0123' } });
    assert.deepEqual([pw.status, pw.body.error.code], [403, 'MCM_ERR_TOKEN_NOT_ALLOWED']);
    const mfa = await h.request('POST', '/api/v1/auth/mfa/setup', { token, body: { password: TEST_PASSWORD } });
    assert.deepEqual([mfa.status, mfa.body.error.code], [403, 'MCM_ERR_TOKEN_NOT_ALLOWED']);
    // An admin token may manage identity: a new admin user, recorded as made by the token.
    const made = await h.request('POST', '/api/v1/admin-users', { token, body: { username: 'made-by-ci', password: TEST_PASSWORD, role: 'viewer' } });
    assert.equal(made.status, 201, made.text);
    assert.equal(h.store.read().at(-1)?.actor.kind, 'token');
  });

  it('a wrong secret for a real token id is refused (401) and recorded as a security event', async (t) => {
    const h = await createTestApp(t);
    const { token } = (await createToken(h, await h.tokenFor('admin'), { name: 'ci', role: 'viewer' })).body as { token: string };
    const forged = `${token.slice(0, token.lastIndexOf('_') + 1)}${'A'.repeat(43)}`;
    const res = await get(h, forged);
    assert.deepEqual([res.status, res.body.error.code], [401, 'MCM_ERR_UNAUTHENTICATED']);
    assert.equal((await get(h, `${token}x`)).status, 401);
    const events = h.deps.securityLog.list({ category: 'auth.token_invalid' });
    assert.ok(events.items.length >= 1, 'a forged token is a security event');
  });
});

describe('API tokens: expiry and revocation', () => {
  it('an expired token is refused (401) and listed as expired', async (t) => {
    const h = await createTestApp(t);
    const admin = await h.tokenFor('admin');
    const { token } = (await createToken(h, admin, { name: 'short', role: 'viewer', expires: '1h' })).body as { token: string };
    assert.equal((await get(h, token, '/api/v1/status')).status, 200);
    h.clock.advance(3600);
    const res = await get(h, token, '/api/v1/status');
    assert.deepEqual([res.status, res.body.error.code], [401, 'MCM_ERR_UNAUTHENTICATED']);
    assert.match(res.body.error.message, /expired/);
    const admin2 = (await h.login(ROLE_USERS.admin, TEST_PASSWORD)).body.token as string;
    const [row] = (await get(h, admin2, '/api/v1/tokens')).body.items;
    assert.deepEqual([row.status, row.effective_role], ['expired', null]);
  });

  it('a revoked token is refused on the very next request; others can\'t see or revoke a token that is not theirs', async (t) => {
    const h = await createTestApp(t);
    const operator = await h.tokenFor('operator');
    const { token } = (await createToken(h, operator, { name: 'mine', role: 'viewer' })).body as { token: string };
    assert.equal((await get(h, token, '/api/v1/status')).status, 200);
    const viewer = await h.tokenFor('viewer');
    assert.deepEqual((await get(h, viewer, '/api/v1/tokens')).body.items, [], 'a viewer sees only their own tokens');
    const theirs = await h.request('DELETE', '/api/v1/tokens/mine', { token: viewer });
    assert.equal(theirs.status, 404);
    assert.equal((await h.request('DELETE', '/api/v1/tokens/mine', { token: operator })).status, 204);
    const after = await get(h, token, '/api/v1/status');
    assert.deepEqual([after.status, after.body.error.code], [401, 'MCM_ERR_UNAUTHENTICATED']);
    const revoked = h.store.read().at(-1);
    assert.equal(revoked?.type, 'ApiTokenRevoked');
  });

  it('a demoted creator\'s tokens are capped at the new role; disabled → suspended; deleted → revoked for good', async (t) => {
    const h = await createTestApp(t);
    const admin = await h.tokenFor('admin');
    handleCommand(h.deps, { type: 'CreateAdminUser', data: { username: 'dana', passwordHash: await h.deps.adminHasher.hash(TEST_PASSWORD), role: 'admin' } }, SYSTEM);
    const dana = (await h.login('dana', TEST_PASSWORD)).body.token as string;
    const { token } = (await createToken(h, dana, { name: 'dana-ci', role: 'operator' })).body as { token: string };
    const write = () => h.request('POST', '/api/v1/acls', { token, body: { principal: 'anonymous', topic: `t/${h.eventCount()}`, access: 'read' } });
    assert.equal((await write()).status, 201);

    handleCommand(h.deps, { type: 'UpdateAdminUser', data: { username: 'dana', role: 'viewer' } }, SYSTEM);
    const capped = await write();
    assert.deepEqual([capped.status, capped.body.error.code], [403, 'MCM_ERR_FORBIDDEN'], 'capped: no more writes');
    assert.equal((await get(h, token, '/api/v1/status')).status, 200, 'still a viewer');
    const row = (await get(h, admin, '/api/v1/tokens')).body.items.find((i: { name: string }) => i.name === 'dana-ci');
    assert.deepEqual([row.role, row.effective_role, row.status], ['operator', 'viewer', 'active']);
    handleCommand(h.deps, { type: 'UpdateAdminUser', data: { username: 'dana', role: 'operator' } }, SYSTEM);
    assert.equal((await write()).status, 201, 'promoted again: the token\'s own role again');

    handleCommand(h.deps, { type: 'UpdateAdminUser', data: { username: 'dana', disabled: true } }, SYSTEM);
    assert.equal((await get(h, token, '/api/v1/status')).status, 401, 'suspended while the creator is disabled');
    handleCommand(h.deps, { type: 'UpdateAdminUser', data: { username: 'dana', disabled: false } }, SYSTEM);
    assert.equal((await get(h, token, '/api/v1/status')).status, 200);

    handleCommand(h.deps, { type: 'DeleteAdminUser', data: { username: 'dana' } }, SYSTEM);
    const revoked = h.store.read().filter((e) => e.type === 'ApiTokenRevoked');
    assert.equal(revoked.length, 1);
    assert.match(JSON.stringify(revoked[0]?.data), /dana.*was deleted/);
    handleCommand(h.deps, { type: 'CreateAdminUser', data: { username: 'dana', passwordHash: await h.deps.adminHasher.hash(TEST_PASSWORD), role: 'admin' } }, SYSTEM);
    assert.equal((await get(h, token, '/api/v1/status')).status, 401, 'a new "dana" inherits nothing');
  });
});

describe('API tokens: the ws stream', () => {
  const startLive = async (t: TestContext): Promise<{ h: TestApp; url: string }> => {
    let hub: WsHub | null = null;
    t.after(async () => { await hub?.close(); });
    const h = await createTestApp(t);
    const bus = createLiveBus();
    const tokens = createTokenService({ secret: h.deps.secrets.getOrCreate(JWT_SECRET_NAME), ttlS: h.config.auth.jwt_ttl_s, clock: h.clock });
    // The server's own check: the same key from secrets/, the same database.
    const apiTokens = createApiTokenService({ key: apiTokenKeyOf(h.deps.secrets), clock: h.clock, usage: createApiTokenUsage({ db: h.db }) });
    hub = createWsHub({
      bus, authenticate: wsAuthenticator({ store: h.store, tokens, apiTokens }), clock: h.clock, logger: h.deps.logger,
      snapshot: () => ({ status: { up: true }, stats: {}, clients: [] }), securityLog: h.deps.securityLog, options: { recheckMs: 50 },
    });
    hub.attach(h.server);
    t.after(publishEventAppended({ store: h.store, bus }));
    return { h, url: wsUrl(h.baseUrl) };
  };

  it('an API token opens the stream; revoking it closes the open socket at once (4401)', async (t) => {
    const { h, url } = await startLive(t);
    const admin = await h.tokenFor('admin');
    const { token } = (await createToken(h, admin, { name: 'dash', role: 'viewer' })).body as { token: string };
    const c = await openWs(t, url, bearer(token));
    await c.waitFor((m) => m.type === 'snapshot');
    assert.equal((await h.request('DELETE', '/api/v1/tokens/dash', { token: admin })).status, 204);
    const closed = await c.closed();
    assert.equal(closed.code, 4401);
    assert.match(closed.reason, /revoked/);
    assert.equal((await refusedUpgrade(url, bearer(token))).status, 401);
  });

  it('an expiring token\'s stream closes at the periodic re-check', async (t) => {
    const { h, url } = await startLive(t);
    const { token } = (await createToken(h, await h.tokenFor('admin'), { name: 'brief', role: 'viewer', expires: '30m' })).body as { token: string };
    const c = await openWs(t, url, bearer(token));
    await c.waitFor((m) => m.type === 'snapshot');
    h.clock.advance(1800);
    assert.deepEqual(await c.closed(), { code: 4401, reason: 'token expired' });
  });
});
