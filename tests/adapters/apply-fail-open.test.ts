/**
 * Mosquitto 2.0 fails OPEN on a bad reload: a malformed or unreadable ACL file turns ACL
 * enforcement off for everyone (reference §3.4). These tests make that happen for real and check
 * that MCM's negative probe notices, restores the last-known-good files, and that a real client is
 * refused again afterwards. Drift (outside edits) is covered here too (DESIGN §6).
 */
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import type { MqttClient } from 'mqtt';
import { isRoot } from '../../adapters/mosquitto/permissions.ts';
import { requireMosquitto } from '../helpers/mosquitto.ts';
import { startTestServer, type TestServer } from '../helpers/mcm-server.ts';
import { connectAs, delivered, login, publish } from '../helpers/mqtt-client.ts';
import type { DeepPartial } from '../helpers/mcm-server.ts';
import type { Config } from '../../adapters/config/config.ts';

const BROKEN_ACL = 'topic readd nothing\n';

type World = { s: TestServer; alice: MqttClient; bob: MqttClient; acl: string };

/** alice may read a/#, bob has no rules: bob publishing to a/x must never reach alice. */
const world = async (t: TestContext, bin: string, opts: { config?: DeepPartial<Config>; beforeReload?: () => void } = {}): Promise<World> => {
  let hook: (() => void) | null = null;
  const s = await startTestServer(t, bin, {
    ...(opts.config ? { config: opts.config } : {}),
    testing: { beforeReload: () => { const h = hook; hook = null; h?.(); }, driftSettleMs: 20 },
  });
  await s.apply({ type: 'CreateMqttUser', data: { username: 'alice', passwordHash: await s.hash('pa') } });
  await s.apply({ type: 'CreateMqttUser', data: { username: 'bob', passwordHash: await s.hash('pb') } });
  await s.apply({ type: 'AddAclRule', data: { principal: 'user:alice', topic: 'a/#', access: 'read' } });
  const alice = await connectAs(t, s.port, 'alice', 'pa');
  const bob = await connectAs(t, s.port, 'bob', 'pb');
  await alice.subscribeAsync('a/#', { qos: 1 });
  assert.equal(await delivered(bob, alice, 'a/x', 500), false, 'enforced to begin with');
  if (opts.beforeReload) hook = opts.beforeReload;
  return { s, alice, bob, acl: join(s.dataDir, 'mosquitto', 'acl') };
};

const waitFor = async (what: string, check: () => boolean, ms = 8000): Promise<void> => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

const assertEnforced = async (w: World): Promise<void> => {
  assert.equal(await publish(w.bob, 'a/x', 'again'), 'denied', 'bob\'s publish is refused (PUBACK 0x87)');
  assert.equal(await delivered(w.bob, w.alice, 'a/y', 800), false, 'nothing from bob reaches alice');
};

describe('fail-open is caught, restored and enforcement returns [ref §3.4]', () => {
  it('an outside edit that breaks the ACL between write and reload: the canary gets through, MCM restores', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const w = await world(t, bin, { beforeReload: () => writeFileSync(join(w.s.dataDir, 'mosquitto', 'acl'), BROKEN_ACL) });
    const goodAcl = readFileSync(w.acl, 'utf8');
    const o = await w.s.apply({ type: 'CreateMqttUser', data: { username: 'carol', passwordHash: await w.s.hash('pc') } });
    assert.equal(o.result, 'failed');
    assert.equal(o.failOpen, true);
    assert.match(o.reason ?? '', /fail-open/);
    assert.match(o.reason ?? '', /last-known-good files restored/);
    assert.equal(readFileSync(w.acl, 'utf8'), goodAcl, 'the last-known-good ACL is back on disk');
    const events = w.s.deps.securityLog.list({ category: 'apply.fail_open' }).items;
    assert.equal(events[0]?.severity, 'critical');
    await assertEnforced(w);
    assert.equal((await login(t, w.s.port, 'carol', 'pc')).ok, false, 'the failed change is not in force');
    const st = w.s.applyLoop.status();
    assert.equal(st.state, 'failed');
    assert.ok(st.desired_seq > st.applied_seq);

    // An explicit retry tries again, and this time nothing interferes.
    assert.equal((await w.s.deps.apply.retry()).state, 'applied');
    assert.ok((await login(t, w.s.port, 'carol', 'pc')).ok);
    await assertEnforced(w);
  });

  it('an ACL file the broker user cannot read after the write (as root: 0600 root-owned) is caught and restored', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    if (!isRoot()) { t.skip('only root-started mosquitto drops privileges before reading (reference §4)'); return; }
    const w = await world(t, bin, { beforeReload: () => chmodSync(join(w.s.dataDir, 'mosquitto', 'acl'), 0o600) });
    const o = await w.s.apply({ type: 'CreateMqttUser', data: { username: 'carol', passwordHash: await w.s.hash('pc') } });
    assert.equal(o.result, 'failed');
    assert.equal(o.failOpen, true);
    assert.match(o.reason ?? '', /Unable to open acl_file|fail-open/);
    await assertEnforced(w);
  });

  it('a reload MCM did not send (edited file + SIGHUP from outside) is caught by the periodic probe', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    // drift: report, so only the periodic check can repair it.
    const w = await world(t, bin, { config: { mosquitto: { drift: 'report', probe: { interval_s: 1, timeout_ms: 3000 } } } });
    writeFileSync(w.acl, BROKEN_ACL);
    // The watcher reports the edit and probes once (still enforced: nobody reloaded yet)…
    await waitFor('the drift report', () => w.s.deps.securityLog.count({ category: 'files.drift' }) > 0, 3000);
    await w.s.applyLoop.checkEnforcement('test barrier');
    assert.equal(w.s.deps.securityLog.count({ category: 'apply.fail_open' }), 0);
    // …then a reload MCM did not send ("logrotate"): only the periodic check can notice now.
    const pid = w.s.deps.supervisor?.pid();
    assert.ok(pid);
    process.kill(pid, 'SIGHUP');
    await waitFor('a fail-open security event', () => w.s.deps.securityLog.count({ category: 'apply.fail_open' }) > 0, 5000);
    const ev = w.s.deps.securityLog.list({ category: 'apply.fail_open' }).items[0];
    assert.equal(ev?.severity, 'critical');
    assert.match(ev?.message ?? '', /enforcement check \(periodic\)/);
    assert.notEqual(readFileSync(w.acl, 'utf8'), BROKEN_ACL, 'the last-known-good ACL is back');
    // checkEnforcement runs on the loop's queue: once this returns, the restore has finished.
    const after = await w.s.applyLoop.checkEnforcement('test');
    assert.equal(after?.ok, true);
    await assertEnforced(w);
  });
});

describe('drift: outside edits of the rendered files', () => {
  it('drift: restore — an edit is noticed within a second, recorded, and undone', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const w = await world(t, bin);
    const good = readFileSync(w.acl, 'utf8');
    const started = Date.now();
    writeFileSync(w.acl, `${good}user bob\ntopic readwrite a/#\n`);
    await waitFor('the edit undone', () => readFileSync(w.acl, 'utf8') === good, 3000);
    assert.ok(Date.now() - started < 1500, `restored after ${Date.now() - started} ms`);
    const ev = w.s.deps.securityLog.list({ category: 'files.drift' }).items[0];
    assert.equal(ev?.severity, 'warning');
    assert.equal(ev?.details['file'], 'acl_file');
    // Even if someone reloads now, bob gets nothing: the broker reads the restored file.
    w.s.deps.supervisor?.reload();
    await new Promise((r) => setTimeout(r, 200));
    await assertEnforced(w);
  });

  it('drift: report — an edit is recorded and left in place', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const w = await world(t, bin, { config: { mosquitto: { drift: 'report' } } });
    const edited = `${readFileSync(w.acl, 'utf8')}# an operator's note\n`;
    writeFileSync(w.acl, edited);
    await waitFor('a drift event', () => w.s.deps.securityLog.count({ category: 'files.drift' }) > 0, 3000);
    assert.equal(readFileSync(w.acl, 'utf8'), edited);
    assert.equal(w.s.deps.securityLog.list({ category: 'files.drift' }).items[0]?.details['action'], 'report');
  });
});
