/**
 * `mcm broker show|plan|apply` (issue 13), run as bin/mcm against a running server's API: plan
 * exits 2 with the changes and the diff, apply refuses a restart without --yes (no TTY) and
 * confirms one with the previewed seq; show prints the file with bridge passwords redacted.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueCliToken } from '../../adapters/http/auth/cli-token.ts';
import { acquireServerLock } from '../../adapters/cli/server-lock.ts';
import { createTestApp } from '../helpers/http.ts';
import { runMcm } from '../helpers/cli.ts';
import { testBrokerConfigPort } from '../helpers/broker-config-port.ts';

describe('mcm broker (through a running server)', () => {
  it('plans (exit 2, diff, restart needed), refuses a restart without --yes, applies with it; show redacts the bridge password', async (t) => {
    const h = await createTestApp(t, { users: false, deps: { brokerConfig: testBrokerConfigPort() } });
    const lock = acquireServerLock(h.dataDir, { pid: process.pid, url: h.baseUrl });
    t.after(() => lock.release());
    issueCliToken(h.deps.secrets);
    const cwd = mkdtempSync(join(tmpdir(), 'mcm-cli-broker-'));
    t.after(() => rmSync(cwd, { recursive: true, force: true }));
    writeFileSync(join(cwd, 'broker.yaml'), [
      'listeners:',
      '  - { name: browsers, port: 9001, protocol: websockets, bindInterface: lo }',
      'options: { max_inflight_messages: 40 }',
      'bridges:',
      '  - name: cloud',
      '    addresses: [{ host: cloud.example.com, port: 8883 }]',
      '    remoteUsername: edge',
      '    remotePassword: Bridge-Secret-42',
      "    topics: [{ pattern: 'site/#', direction: out, qos: 1 }]",
      '',
    ].join('\n'));
    writeFileSync(join(cwd, 'bad.yaml'), 'listeners: [{ name: ws, port: 9001, protocol: websockets, address: 127.0.0.1 }]\n');
    const run = (...args: string[]) => runMcm(args, { cwd, env: { MCM_DATA_DIR: h.dataDir } });

    const plan = await run('broker', 'plan', '-f', 'broker.yaml');
    assert.equal(plan.code, 2, plan.stderr);
    assert.match(plan.stdout, /restart needed/);
    assert.match(plan.stdout, /^\+listener 9001 lo$/m);
    assert.match(plan.stdout, /^\+remote_password \*{8}$/m);
    assert.equal(h.store.headSeq(), 0, 'a plan appends nothing');

    const declined = await run('broker', 'apply', '-f', 'broker.yaml');
    assert.equal(declined.code, 1);
    assert.match(declined.stderr, /--yes/);
    assert.equal(h.store.headSeq(), 0);

    const applied = await run('broker', 'apply', '-f', 'broker.yaml', '--yes');
    assert.equal(applied.code, 0, applied.stderr);
    assert.equal(h.store.read().at(-1)?.type, 'BrokerConfigChanged');
    assert.equal(h.store.read().at(-1)?.actor.kind, 'cli');
    assert.ok(!JSON.stringify(h.store.read()).includes('Bridge-Secret-42'), 'no plaintext password in the log');

    const again = await run('broker', 'plan', '-f', 'broker.yaml');
    assert.equal(again.code, 0, `${again.stdout}${again.stderr}`);

    const show = await run('broker', 'show');
    assert.equal(show.code, 0);
    assert.match(show.stdout, /^connection cloud$/m);
    assert.doesNotMatch(show.stdout, /Bridge-Secret-42/);

    const bad = await run('broker', 'plan', '-f', 'bad.yaml');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /MCM_ERR_BROKER_CONFIG_INVALID/);
    assert.match(bad.stderr, /bindInterface/);
  });
});
