/**
 * `mcm tokens` on the data dir (issue 17): create prints the token once (`--json`: name, token,
 * role, expires_at…), list never shows it, revoke removes it; the token then works against a
 * server on the same data dir (the key is in its secrets/); bad arguments exit 64, refusals 1.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cliWorld } from '../helpers/cli.ts';
import { createTestApp } from '../helpers/http.ts';

describe('mcm tokens (on the data dir)', () => {
  it('creates (shown once), lists, and revokes; the token signs in to a server on that data dir', async (t) => {
    const w = cliWorld(t);
    const created = await w.run('tokens', 'create', '--name', 'ci-deploy', '--role', 'operator', '--expires', '12h', '--json');
    assert.equal(created.code, 0, created.stderr);
    const out = JSON.parse(created.stdout) as Record<string, unknown>;
    assert.deepEqual(
      [out['name'], out['role'], out['owner'], out['status'], typeof out['token'], typeof out['expires_at']],
      ['ci-deploy', 'operator', null, 'active', 'string', 'string'],
    );
    assert.equal(w.events().at(-1)?.actor.kind, 'cli');
    const text = await w.run('tokens', 'create', '--name', 'nightly', '--role', 'viewer');
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^created API token "nightly" with role viewer \(no expiry\)\ntoken \(shown once\): mcmt_[0-9a-f]{16}_\S{43}\n$/);

    const list = await w.run('tokens', 'list');
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /ci-deploy\s+operator\s+\(cli\)/);
    assert.doesNotMatch(list.stdout, /mcmt_/);
    const json = JSON.parse((await w.run('tokens', 'list', '--json')).stdout) as { name: string }[];
    assert.deepEqual(json.map((x) => x.name), ['ci-deploy', 'nightly']);

    const h = await createTestApp(t, { dataDir: w.dataDir, users: false });
    const res = await h.request('GET', '/api/v1/mqtt-users', { token: out['token'] as string });
    assert.equal(res.status, 200, res.text);
    h.server.close();

    const revoked = await w.run('tokens', 'revoke', 'ci-deploy');
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.deepEqual(Object.keys(w.state().apiTokens ?? {}), ['nightly']);
  });

  it('usage errors exit 64; refusals exit 1 with the code, and append nothing', async (t) => {
    const w = cliWorld(t);
    assert.equal((await w.run('tokens', 'create', '--name', 'x')).code, 64);
    assert.equal((await w.run('tokens', 'create', '--role', 'viewer')).code, 64);
    assert.equal((await w.run('tokens', 'revoke')).code, 64);
    assert.equal((await w.run('tokens', 'nope')).code, 64);
    const bad = await w.run('tokens', 'create', '--name', 'x', '--role', 'viewer', '--expires', 'soon');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /MCM_ERR_VALIDATION.*90d/s);
    const missing = await w.run('tokens', 'revoke', 'ghost');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /MCM_ERR_TOKEN_NOT_FOUND/);
    assert.deepEqual(w.events(), []);
  });
});
