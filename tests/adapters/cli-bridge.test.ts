/**
 * The bridge between the CLI and a running server (DESIGN §8): the server's lock file names its
 * url, its CLI token (secrets/cli.token, 0600, new at every start) authenticates `mcm` as actor
 * kind "cli" with admin rights, and every data command then goes through the REST API. Without
 * a live server the CLI works on the data dir, and refuses to append once a server holds it.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isDomainError } from '../../core/errors.ts';
import { createApiClient, type ApiClient } from '../../adapters/cli/api-client.ts';
import { createDirectBackend } from '../../adapters/cli/direct-backend.ts';
import { createHttpBackend } from '../../adapters/cli/http-backend.ts';
import { acquireServerLock, serverLockPath } from '../../adapters/cli/server-lock.ts';
import { CLI_TOKEN_PREFIX, issueCliToken, matchesCliToken } from '../../adapters/http/auth/cli-token.ts';
import { createMosquittoHasher } from '../../adapters/mosquitto/password-hash.ts';
import { createSecretStore } from '../../adapters/secrets/secret-store.ts';
import { createSqliteEventStore } from '../../adapters/sqlite/event-store.ts';
import { openDatabase } from '../../adapters/sqlite/open-database.ts';
import { createTestApp, type TestApp } from '../helpers/http.ts';
import { freePort } from '../helpers/ports.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { runMcm, type CliRun, type CliRunOptions } from '../helpers/cli.ts';

const MCM = fileURLToPath(new URL('../../bin/mcm', import.meta.url));
const OS_USER = userInfo().username;
const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

type Run = CliRun;

const mcm = (args: string[], opts: CliRunOptions): Promise<CliRun> => runMcm(args, opts, MCM);

/**
 * A real HTTP app on a temp data dir, "running" as a server does: its lock names this test
 * process (alive, and not the CLI child) and its url; its CLI token is written.
 */
const runningServer = async (t: TestContext): Promise<TestApp & { token: string; run(...args: string[]): Promise<Run> }> => {
  const h = await createTestApp(t, { users: false });
  const lock = acquireServerLock(h.dataDir, { pid: process.pid, url: h.baseUrl });
  t.after(() => lock.release());
  const token = issueCliToken(h.deps.secrets);
  return { ...h, token, run: (...args) => mcm(args, { cwd: h.dataDir, env: { MCM_DATA_DIR: h.dataDir } }) };
};

const GENERATED = /^generated password \(shown only this once\): ([A-Za-z0-9_-]{24})$/m;

describe('CLI token [DESIGN §8]', () => {
  it('issueCliToken writes 32 random bytes as hex to secrets/cli.token, mode 0600; a new one replaces the old', (t) => {
    const secrets = createSecretStore(tempDir(t));
    const first = issueCliToken(secrets);
    assert.match(first, /^[0-9a-f]{64}$/);
    assert.equal(statSync(secrets.path('cli.token')).mode & 0o777, 0o600);
    assert.equal(matchesCliToken(secrets, first), true);
    const second = issueCliToken(secrets);
    assert.notEqual(second, first);
    assert.equal(matchesCliToken(secrets, first), false);
    assert.equal(matchesCliToken(secrets, second), true);
    assert.equal(matchesCliToken(secrets, second.slice(0, 63)), false);
  });

  it('with no token issued nothing matches', (t) => {
    assert.equal(matchesCliToken(createSecretStore(tempDir(t)), ''), false);
  });

  it('Bearer mcm-cli.<token> is an admin with actor {kind: "cli", id: X-MCM-CLI-User}', async (t) => {
    const h = await runningServer(t);
    const headers = { authorization: `Bearer ${CLI_TOKEN_PREFIX}${h.token}`, 'x-mcm-cli-user': 'opsperson' };
    const res = await h.request('POST', '/api/v1/mqtt-users', { body: { username: 'alice', password: 'pw' }, headers });
    assert.equal(res.status, 201, res.text);
    assert.equal(h.store.read().at(-1)?.actor.kind, 'cli');
    assert.equal(h.store.read().at(-1)?.actor.id, 'opsperson');
    // admin-only routes too: holding the token is being admin on this host
    const admins = await h.request('GET', '/api/v1/admin-users', { headers });
    assert.equal(admins.status, 200, admins.text);
    const noName = await h.request('DELETE', '/api/v1/mqtt-users/alice', { headers: { authorization: headers.authorization } });
    assert.equal(noName.status, 204);
    assert.equal(h.store.read().at(-1)?.actor.id, 'cli');
  });

  it('a wrong, old or missing-prefix token is 401 (and recorded as a security event); nothing changes', async (t) => {
    const h = await runningServer(t);
    const before = h.eventCount();
    const old = h.token;
    issueCliToken(h.deps.secrets); // a restart: the old token stops working
    for (const auth of [`Bearer ${CLI_TOKEN_PREFIX}${'0'.repeat(64)}`, `Bearer ${CLI_TOKEN_PREFIX}${old}`, `Bearer ${CLI_TOKEN_PREFIX}`, `Bearer ${old}`]) {
      const res = await h.request('POST', '/api/v1/mqtt-users', { body: { username: 'mallory' }, headers: { authorization: auth } });
      assert.equal(res.status, 401, auth);
      assert.equal(res.body.error.code, 'MCM_ERR_UNAUTHENTICATED');
    }
    assert.equal(h.eventCount(), before);
    assert.ok(h.deps.securityLog.occurrences({ category: 'auth.token_invalid' }) >= 2);
  });
});

describe('mcm users/acl through a running server [DESIGN §8]', { concurrency: 2 }, () => {
  it('users add/list/passwd/disable/enable/delete arrive through the API with actor kind cli', async (t) => {
    const h = await runningServer(t);
    const add = await h.run('users', 'add', 'alice', '--description', 'pump');
    assert.equal(add.code, 0, add.stderr);
    assert.equal(add.stderr, '', 'the server applies the change: no "no server" note');
    const password = GENERATED.exec(add.stdout)?.[1] ?? '';
    assert.ok(password, add.stdout);
    const alice = h.store.state().users['alice'];
    assert.equal(await createMosquittoHasher().verify(password, alice?.passwordHash ?? ''), true, 'the server generated and hashed it');
    assert.equal(alice?.description, 'pump');

    const piped = await mcm(['users', 'passwd', 'alice', '--password-stdin'], { cwd: h.dataDir, env: { MCM_DATA_DIR: h.dataDir }, stdin: 'from-stdin\n' });
    assert.deepEqual([piped.code, piped.stdout], [0, 'changed the password of MQTT user "alice"\n'], piped.stderr);
    assert.equal(await createMosquittoHasher().verify('from-stdin', h.store.state().users['alice']?.passwordHash ?? ''), true);

    assert.equal((await h.run('users', 'disable', 'alice')).code, 0);
    assert.equal(h.store.state().users['alice']?.disabled, true);
    const list = await h.run('users', 'list', '--json');
    assert.deepEqual((JSON.parse(list.stdout) as { username: string; disabled: boolean }[]).map((u) => [u.username, u.disabled]), [['alice', true]]);
    assert.equal((await h.run('users', 'enable', 'alice')).code, 0);
    assert.equal((await h.run('users', 'delete', 'alice')).code, 0);
    assert.deepEqual(h.store.state().users, {});

    const events = h.store.read();
    assert.deepEqual(events.map((e) => e.type), ['MqttUserCreated', 'MqttUserPasswordChanged', 'MqttUserDisabled', 'MqttUserEnabled', 'MqttUserDeleted']);
    for (const e of events) assert.deepEqual([e.actor.kind, e.actor.id], ['cli', OS_USER], e.type);
  });

  it('acl add/list/explain/remove go through the API; the server\'s errors come back with their code, exit 1', async (t) => {
    const h = await runningServer(t);
    assert.equal((await h.run('users', 'add', 'bob', '--password', 'pw')).code, 0);
    const add = await h.run('acl', 'add', '--principal', 'user:bob', '--topic', 'plant/#', '--access', 'readwrite');
    assert.deepEqual([add.code, add.stdout], [0, 'added ACL rule 1: user:bob readwrite plant/#\n'], add.stderr);
    assert.equal(h.store.read().at(-1)?.actor.kind, 'cli');

    const list = await h.run('acl', 'list', '--principal', 'user:bob', '--json');
    assert.deepEqual((JSON.parse(list.stdout) as { id: number }[]).map((r) => r.id), [1]);

    const explain = await h.run('acl', 'explain', '--user', 'bob', '--topic', 'plant/1', '--action', 'write');
    assert.equal(explain.code, 0, explain.stderr);
    assert.match(explain.stdout, /^ALLOWED: allowed by "topic readwrite plant\/#"/);
    assert.match(explain.stdout, /^ {2}rule 1 {2}user:bob {2}readwrite {2}plant\/# {2}\(direct\)$/m);

    const exists = await h.run('users', 'add', 'bob');
    assert.equal(exists.code, 1);
    assert.match(exists.stderr, /^mcm: MCM_ERR_MQTT_USER_EXISTS: /);
    const reserved = await h.run('users', 'add', h.config.mqtt.service_account.username);
    assert.equal(reserved.code, 1);
    assert.match(reserved.stderr, /^mcm: MCM_ERR_USERNAME_RESERVED: /);
    const badTopic = await h.run('acl', 'add', '--principal', 'user:bob', '--topic', 'a/#/b', '--access', 'read');
    assert.equal(badTopic.code, 1);
    assert.match(badTopic.stderr, /^mcm: MCM_ERR_TOPIC_FILTER_INVALID: /);

    assert.equal((await h.run('acl', 'remove', '1')).code, 0);
    const gone = await h.run('acl', 'remove', '1');
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /^mcm: MCM_ERR_ACL_RULE_NOT_FOUND: /);
    assert.deepEqual(h.store.state().rules, {});
  });

  it('a live lock whose server does not answer: MCM_ERR_SERVER_UNREACHABLE, exit 1 (never a second writer)', async (t) => {
    const dataDir = tempDir(t);
    openDatabase(join(dataDir, 'mcm.db')).close();
    const lock = acquireServerLock(dataDir, { pid: process.pid, url: `http://127.0.0.1:${await freePort()}` });
    t.after(() => lock.release());
    issueCliToken(createSecretStore(dataDir));
    const r = await mcm(['users', 'add', 'alice', '--password', 'x'], { cwd: dataDir, env: { MCM_DATA_DIR: dataDir } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^mcm: MCM_ERR_SERVER_UNREACHABLE: the MCM server at http:\/\/127\.0\.0\.1:\d+ \(it holds this data dir\) did not answer: ECONNREFUSED/);
  });

  it('a live lock but no CLI token: MCM_ERR_CLI_TOKEN_UNREADABLE, exit 1', async (t) => {
    const dataDir = tempDir(t);
    const lock = acquireServerLock(dataDir, { pid: process.pid, url: 'http://127.0.0.1:9' });
    t.after(() => lock.release());
    const r = await mcm(['acl', 'list'], { cwd: dataDir, env: { MCM_DATA_DIR: dataDir } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^mcm: MCM_ERR_CLI_TOKEN_UNREADABLE: an MCM server \(pid \d+\) runs on this data dir, but it wrote no CLI token/);
  });

  it('a stale lock (dead pid) means no server: the CLI works on the data dir directly', async (t) => {
    const dataDir = tempDir(t);
    openDatabase(join(dataDir, 'mcm.db')).close();
    writeFileSync(serverLockPath(dataDir), JSON.stringify({ pid: 2 ** 22 + 1, url: 'http://127.0.0.1:9', started_at: '2020-01-01T00:00:00Z' }));
    const r = await mcm(['users', 'add', 'alice', '--password', 'x'], { cwd: dataDir, env: { MCM_DATA_DIR: dataDir } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^note: no MCM server is running/);
  });
});

describe('direct backend: the single-writer check right before appending', () => {
  it('a server that took the data dir since the CLI looked makes the append fail with MCM_ERR_SERVER_RUNNING; nothing appended', async (t) => {
    const dataDir = tempDir(t);
    const db = openDatabase(join(dataDir, 'mcm.db'));
    t.after(() => db.close());
    const store = createSqliteEventStore({ db, snapshotEvery: 0 });
    const backend = createDirectBackend({ store, dataDir, serviceAccount: 'mcm-service', actor: { kind: 'cli', id: 'test' } });
    await backend.createUser({ username: 'first', password: 'x' });
    assert.equal(backend.wrote(), true);
    const lock = acquireServerLock(dataDir, { pid: process.pid, url: 'http://127.0.0.1:9' });
    t.after(() => lock.release());
    await assert.rejects(backend.createUser({ username: 'second', password: 'x' }), (e: unknown) => isDomainError(e) && e.code === 'MCM_ERR_SERVER_RUNNING');
    await assert.rejects(backend.addAcl({ principal: 'user:first', topic: 'a', access: 'read' }), (e: unknown) => isDomainError(e) && e.code === 'MCM_ERR_SERVER_RUNNING');
    assert.deepEqual(store.read().map((e) => e.type), ['MqttUserCreated']);
  });
});

describe('http backend', () => {
  it('lists follow the pages (?limit=1000&cursor=) to the end', async () => {
    const calls: string[] = [];
    const api: ApiClient = {
      baseUrl: 'http://x',
      request: async (_method, path) => {
        calls.push(path);
        const page = path.includes('cursor=c2')
          ? { items: [{ username: 'c' }], next: null }
          : { items: [{ username: 'a' }, { username: 'b' }], next: 'c2' };
        return { status: 200, body: page };
      },
    };
    const users = await createHttpBackend(api).listUsers();
    assert.deepEqual(users.map((u) => u.username), ['a', 'b', 'c']);
    assert.deepEqual(calls, ['/mqtt-users?limit=1000', '/mqtt-users?limit=1000&cursor=c2']);
  });

  it('an error body {error: {code, message}} becomes a DomainError with that code', async (t) => {
    const h = await runningServer(t);
    const api = createApiClient({ baseUrl: h.baseUrl, token: h.token, user: 'x' });
    await assert.rejects(api.request('GET', '/mqtt-users/nobody'), (e: unknown) =>
      isDomainError(e) && e.code === 'MCM_ERR_MQTT_USER_NOT_FOUND' && /nobody/.test(e.message));
    const bad = createApiClient({ baseUrl: `${h.baseUrl}/`, token: 'wrong', user: 'x' });
    await assert.rejects(bad.request('GET', '/mqtt-users'), (e: unknown) => isDomainError(e) && e.code === 'MCM_ERR_UNAUTHENTICATED');
  });
});

describe('api client over HTTPS (http.tls) [DESIGN §9]', { skip: hasOpenssl ? false : 'openssl is not installed' }, () => {
  it('trusts the server\'s own certificate (http.tls.cert) whatever name it carries, and nothing else self-signed', async (t) => {
    const dir = tempDir(t);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      '-days', '1', '-subj', '/CN=mcm.example.com'], { stdio: 'pipe' });
    const cert = readFileSync(join(dir, 'cert.pem'));
    const server = createHttpsServer({ cert, key: readFileSync(join(dir, 'key.pem')) }, (req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ authorization: req.headers['authorization'], user: req.headers['x-mcm-cli-user'] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    t.after(() => { server.closeAllConnections(); server.close(); });
    const { port } = server.address() as AddressInfo;
    const pinned = createApiClient({ baseUrl: `https://0.0.0.0:${port}`, token: 'tok', user: 'ops', serverCert: cert });
    assert.deepEqual((await pinned.request('GET', '/x')).body, { authorization: 'Bearer mcm-cli.tok', user: 'ops' });
    const unpinned = createApiClient({ baseUrl: `https://127.0.0.1:${port}`, token: 'tok', user: 'ops' });
    await assert.rejects(unpinned.request('GET', '/x'), (e: unknown) => isDomainError(e) && e.code === 'MCM_ERR_SERVER_UNREACHABLE' && /SELF_SIGNED/.test(e.message));
  });
});
