/**
 * GitOps over HTTP (adapters/http/routes/gitops.ts, DESIGN §8: admin only): GET /export, POST
 * /plan and POST /apply on a real app and SQLite log; and `mcm apply` through a running server,
 * waiting for the broker's apply result.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';
import { handleCommand } from '../../core/handle-command.ts';
import type { AdminRole } from '../../core/state.ts';
import { exportBundle } from '../../projections/gitops-export.ts';
import { acquireServerLock } from '../../adapters/cli/server-lock.ts';
import { renderGitopsFiles } from '../../adapters/gitops/yaml-files.ts';
import { createHttpApp } from '../../adapters/http/app.ts';
import { issueCliToken } from '../../adapters/http/auth/cli-token.ts';
import type { ApplyStatus, HttpDeps } from '../../adapters/http/deps.ts';
import { registerGitopsRoutes } from '../../adapters/http/routes/gitops.ts';
import { allRoutes } from '../../adapters/http/routes/index.ts';
import { HASH_A, HASH_B } from '../helpers/decider-spec.ts';
import { testBrokerConfigPort } from '../helpers/broker-config-port.ts';
import { createTestApp, type TestAppOptions } from '../helpers/http.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { runMcm, type CliRun } from '../helpers/cli.ts';

const MCM = fileURLToPath(new URL('../../bin/mcm', import.meta.url));

type Res = { status: number; headers: Headers; body: any };

/**
 * The test app with the GitOps routes. Until routes/index.ts mounts routes/gitops.ts, the same
 * app is built with them added under /api/v1 (same deps, so the helper's tokens are valid).
 */
const gitopsApp = async (t: TestContext, options: TestAppOptions = {}) => {
  const h = await createTestApp(t, options);
  let baseUrl = h.baseUrl;
  if (!allRoutes().some((r) => r.url === '/api/v1/export')) {
    const app = createHttpApp(h.deps);
    const api = new Router({ prefix: '/api/v1' });
    registerGitopsRoutes(api, h.deps);
    // Before the root router and its allowedMethods, which would answer 404 first.
    app.middleware.splice(app.middleware.length - 2, 0, api.routes() as unknown as (typeof app.middleware)[number]);
    const server = createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    t.after(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  const admin = { actor: { kind: 'admin', id: 'seed' } } as const;
  handleCommand(h.deps, { type: 'DefineRole', data: { name: 'ops', rules: [{ topic: 'plant/#', access: 'read' }] } }, admin);
  handleCommand(h.deps, { type: 'CreateMqttUser', data: { username: 'alice', passwordHash: HASH_A, roles: ['ops'] } }, admin);
  const request = async (method: string, path: string, opts: { role?: AdminRole; body?: unknown; headers?: Record<string, string> } = {}): Promise<Res> => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.role) headers['authorization'] = `Bearer ${await h.tokenFor(opts.role)}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${baseUrl}/api/v1${path}`, { method, headers, ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }) });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text === '' ? null : JSON.parse(text) };
  };
  const files = (): Record<string, string> => renderGitopsFiles(exportBundle(h.store.state()));
  return { h, baseUrl, request, files };
};

describe('GET /api/v1/export', () => {
  it('returns the files `mcm export` writes and the bundle, with the state seq as ETag', async (t) => {
    const g = await gitopsApp(t);
    const res = await g.request('GET', '/export', { role: 'admin' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.files, g.files());
    assert.deepEqual(res.body.bundle, JSON.parse(JSON.stringify(exportBundle(g.h.store.state()))));
    assert.equal(res.headers.get('etag'), `"${g.h.store.headSeq()}"`);
  });

  it('is admin only, like /plan and /apply [DESIGN §8]', async (t) => {
    const g = await gitopsApp(t);
    for (const [method, path] of [['GET', '/export'], ['POST', '/plan'], ['POST', '/apply']] as const) {
      const res = await g.request(method, path, { role: 'operator', ...(method === 'POST' ? { body: { files: {} } } : {}) });
      assert.equal(res.status, 403, `${method} ${path}`);
      assert.equal((await g.request(method, path)).status, 401);
    }
  });
});

describe('POST /api/v1/plan and /apply', () => {
  it('plan takes the files, answers the changes and their text, and appends nothing', async (t) => {
    const g = await gitopsApp(t);
    const files = g.files();
    files['users.yaml'] = (files['users.yaml'] ?? '').replace(HASH_A, HASH_B);
    const before = g.h.eventCount();
    const res = await g.request('POST', '/plan', { role: 'admin', body: { files } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      seq: before,
      changes: [{ type: 'user_changed', username: 'alice', password_rotated: true, roles_granted: [], roles_revoked: [] }],
      plan_text: 'Users:\n  ~ user "alice": password rotated\n\nPlan: 0 to add, 1 to change, 0 to remove.\n',
      commands_count: 1,
    });
    assert.equal(g.h.eventCount(), before);
  });

  it('refuses invalid files with 400 MCM_ERR_GITOPS_INVALID and every problem in details', async (t) => {
    const g = await gitopsApp(t);
    const files = g.files();
    files['users.yaml'] = (files['users.yaml'] ?? '').replace('      - ops\n', '      - opz\n');
    files['acls.yaml'] = 'version: 1\nacls:\n  - principal: anonymous\n    topic: a/#/b\n    access: all\n';
    const res = await g.request('POST', '/plan', { role: 'admin', body: { files } });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 'MCM_ERR_GITOPS_INVALID');
    assert.deepEqual(res.body.error.details, [
      { file: 'acls.yaml', line: 5, path: '/acls/0/access', message: 'must be one of read, write, readwrite, deny' },
    ]);
    files['acls.yaml'] = files['acls.yaml'].replace('access: all', 'access: read');
    const again = await g.request('POST', '/plan', { role: 'admin', body: { files } });
    assert.deepEqual(again.body.error.details.map((d: { file: string; path: string }) => `${d.file} ${d.path}`), [
      'users.yaml /users/0/roles/0', 'acls.yaml /acls/0/topic',
    ]);
  });

  it('refuses broker.yaml changes for a broker MCM does not configure (external mode without conf_fragment or conf_file)', async (t) => {
    const g = await gitopsApp(t);
    const bundle = JSON.parse(JSON.stringify(exportBundle(g.h.store.state())));
    bundle.broker.listeners = [{ name: 'edge', port: 8883 }];
    const before = g.h.eventCount();
    const res = await g.request('POST', '/apply', { role: 'admin', body: { bundle } });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 'MCM_ERR_GITOPS_INVALID');
    assert.match(res.body.error.message, /does not write this broker's mosquitto\.conf/);
    assert.equal(g.h.eventCount(), before, 'nothing appended');
  });

  it('plans broker.yaml as broker changes; a certificate this data dir does not hold is a 400 naming the file and pointer', async (t) => {
    const g = await gitopsApp(t, { deps: { brokerConfig: testBrokerConfigPort() } });
    const bundle = JSON.parse(JSON.stringify(exportBundle(g.h.store.state())));
    bundle.broker.listeners = [{ name: 'edge', port: 8883 }];
    const plan = await g.request('POST', '/plan', { role: 'admin', body: { bundle } });
    assert.equal(plan.status, 200);
    assert.deepEqual([plan.body.changes, plan.body.commands_count], [[{ type: 'broker_added', what: 'listener edge', apply: 'restart' }], 1]);
    bundle.broker.listeners[0].tls = { certificate: 'server' };
    const res = await g.request('POST', '/plan', { role: 'admin', body: { bundle } });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 'MCM_ERR_GITOPS_INVALID');
    assert.deepEqual(res.body.error.details, [{
      file: 'broker.yaml', section: 'broker', path: '/broker/listeners/0/tls/certificate',
      message: 'certificate "server" (listener edge) is not in this data dir: add it with mcm certs add',
    }]);
  });

  it('refuses a body that is not exactly one of {files} or {bundle} (400 MCM_ERR_VALIDATION)', async (t) => {
    const g = await gitopsApp(t);
    for (const body of [{}, { files: {}, bundle: {} }, { files: { 'users.yaml': 3 } }, { files: {}, extra: 1 }, { bundle: {}, expected_seq: -1 }]) {
      const res = await g.request('POST', '/plan', { role: 'admin', body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error.code, 'MCM_ERR_VALIDATION');
    }
  });

  it('apply appends the diff as one batch with actor kind gitops, naming the source and the sender', async (t) => {
    const g = await gitopsApp(t);
    const bundle = exportBundle(g.h.store.state());
    bundle.users.push({ username: 'bob', password_hash: HASH_B, description: 'from git', disabled: false, roles: ['ops'] });
    bundle.acls.push({ principal: 'user:bob', topic: 'bob/#', access: 'readwrite', description: '' });
    const before = g.h.eventCount();
    const res = await g.request('POST', '/apply', { role: 'admin', body: { bundle, source: 'dir:/srv/gitops' } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.events_count, 3);
    assert.equal(res.body.seq, before + 3);
    assert.equal(res.headers.get('etag'), `"${before + 3}"`);
    const events = g.h.store.read({ after: before });
    assert.deepEqual(events.map((e) => e.type), ['MqttUserCreated', 'RoleGranted', 'AclRuleAdded']);
    assert.ok(events.every((e) => e.actor.kind === 'gitops' && e.actor.id === 'dir:/srv/gitops by admin:test-admin'));
    const again = await g.request('POST', '/apply', { role: 'admin', body: { bundle } });
    assert.deepEqual([again.body.events_count, again.body.commands_count, again.body.seq], [0, 0, before + 3]);
  });

  it('apply refuses with 412 when the state moved after the seq the plan was made on (body or If-Match)', async (t) => {
    const g = await gitopsApp(t);
    const bundle = exportBundle(g.h.store.state());
    bundle.settings.allow_anonymous = true;
    const head = g.h.eventCount();
    const stale = await g.request('POST', '/apply', { role: 'admin', body: { bundle, expected_seq: head - 1 } });
    assert.equal(stale.status, 412);
    assert.equal(stale.body.error.code, 'MCM_ERR_STALE_STREAM');
    const staleHeader = await g.request('POST', '/apply', { role: 'admin', body: { bundle }, headers: { 'if-match': `"${head - 1}"` } });
    assert.equal(staleHeader.status, 412);
    assert.equal(g.h.eventCount(), head);
    const ok = await g.request('POST', '/apply', { role: 'admin', body: { bundle }, headers: { 'if-match': `"${head}"` } });
    assert.equal(ok.status, 200);
    assert.equal(g.h.store.state().settings.allowAnonymous, true);
  });
});

const mcm = (args: string[], cwd: string, env: Record<string, string>): Promise<CliRun> => runMcm(args, { cwd, env }, MCM);

/** An apply loop stand-in: the broker runs every generation at once, or every apply fails. */
const fakeApply = (deps: () => HttpDeps, result: 'applied' | 'failed'): HttpDeps['apply'] => {
  const status = (): ApplyStatus => {
    const generation = deps().store.state().generation;
    return {
      desired_seq: generation,
      applied_seq: result === 'applied' ? generation : 0,
      state: result === 'applied' ? 'applied' : 'failed',
      last: { seq: generation, result, latency_ms: 12.5, at: '2026-03-01T12:00:00.000Z', ...(result === 'failed' ? { reason: 'probe timed out' } : {}) },
      broker: { mode: 'external', up: true },
    };
  };
  return { status, retry: async () => status() };
};

describe('mcm apply through a running server', () => {
  const running = async (t: TestContext, result: 'applied' | 'failed') => {
    let depsRef: HttpDeps | null = null;
    const g = await gitopsApp(t, { deps: { apply: fakeApply(() => depsRef as HttpDeps, result) } });
    depsRef = g.h.deps;
    const lock = acquireServerLock(g.h.dataDir, { pid: process.pid, url: g.baseUrl });
    t.after(() => lock.release());
    issueCliToken(g.h.deps.secrets);
    const cwd = tempDir(t);
    const dir = join(cwd, 'gitops');
    const out = await mcm(['export', '--dir', dir], cwd, { MCM_DATA_DIR: g.h.dataDir });
    assert.equal(out.code, 0, out.stderr);
    return { g, cwd, dir, run: (...args: string[]) => mcm(args, cwd, { MCM_DATA_DIR: g.h.dataDir }) };
  };

  it('goes through POST /plan and /apply (actor gitops, source dir:<DIR>) and waits until the broker runs it', async (t) => {
    const r = await running(t, 'applied');
    const users = join(r.dir, 'users.yaml');
    writeFileSync(users, readFileSync(users, 'utf8').replace(HASH_A, HASH_B));
    const before = r.g.h.eventCount();
    const res = await r.run('apply', '--dir', r.dir, '--yes');
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, [
      'Users:\n  ~ user "alice": password rotated\n',
      `Plan: 0 to add, 1 to change, 0 to remove.\napplied: 1 event appended as one batch (seq ${before + 1})\n`
        + `broker: generation ${before + 1} applied and enforced in 12.5 ms\n`,
    ].join('\n'));
    const [event] = r.g.h.store.read({ after: before });
    assert.equal(event?.type, 'MqttUserPasswordChanged');
    assert.deepEqual([event?.actor.kind, event?.actor.id], ['gitops', `dir:${r.dir} by cli:${userInfo().username}`]);
  });

  it('exits 1 with the reason when the broker apply fails (the change stays in the log)', async (t) => {
    const r = await running(t, 'failed');
    const users = join(r.dir, 'users.yaml');
    writeFileSync(users, readFileSync(users, 'utf8').replace('description: ""', 'description: night shift').replace(HASH_A, HASH_B));
    const before = r.g.h.eventCount();
    const failed = await r.run('apply', '--dir', r.dir, '--yes');
    assert.equal(failed.code, 1);
    // The description does not change a broker file, so the generation is the password's seq (DESIGN §6).
    assert.match(failed.stderr, new RegExp(`the change is in the event log, but applying generation ${before + 1} to the broker failed: probe timed out`));
    assert.equal(r.g.h.eventCount(), before + 2);
  });
});
