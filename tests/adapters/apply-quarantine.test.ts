/**
 * Content that failed open is quarantined (issue 12): after the probe saw enforcement off and the
 * last-known-good files were restored, the same content is not handed to the broker again — not
 * by a later event that renders the same files, not at the next start — until the content changes
 * or an admin retries the apply, which lifts the quarantine. Visible in the apply status.
 * Fail-open is provoked for real, as in apply-fail-open.test.ts: the ACL broken between the write
 * and the reload (reference §3.4).
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { requireMosquitto } from '../helpers/mosquitto.ts';
import { startTestServer, testDataDir, type TestServer } from '../helpers/mcm-server.ts';
import { login } from '../helpers/mqtt-client.ts';

const BROKEN_ACL = 'topic readd nothing\n';

/** A server whose next reload meets a broken ACL (once), and the failed-open apply of carol. */
const failOpenCarol = async (t: TestContext, bin: string, dataDir: string): Promise<{ s: TestServer; failedGen: number; goodAcl: string }> => {
  let hook: (() => void) | null = null;
  const s = await startTestServer(t, bin, {
    dataDir,
    testing: { beforeReload: () => { const h = hook; hook = null; h?.(); }, driftSettleMs: 20 },
  });
  await s.apply({ type: 'CreateMqttUser', data: { username: 'alice', passwordHash: await s.hash('pa') } });
  const acl = join(dataDir, 'mosquitto', 'acl');
  const goodAcl = readFileSync(acl, 'utf8');
  hook = () => writeFileSync(acl, BROKEN_ACL);
  const o = await s.apply({ type: 'CreateMqttUser', data: { username: 'carol', passwordHash: await s.hash('pc') } });
  assert.equal(o.result, 'failed');
  assert.equal(o.failOpen, true, o.reason);
  assert.match(o.reason ?? '', /quarantined/);
  return { s, failedGen: o.generation, goodAcl };
};

describe('content that failed open is quarantined', () => {
  it('is not re-applied by a later apply of the same content, nor at the next start, until an admin retries', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const dataDir = testDataDir(t);
    const { s, failedGen, goodAcl } = await failOpenCarol(t, bin, dataDir);
    const acl = join(dataDir, 'mosquitto', 'acl');
    const st = s.applyLoop.status();
    assert.equal(st.state, 'failed');
    assert.equal(st.quarantine?.generation, failedGen);
    assert.match(st.quarantine?.message ?? '', /apply-status\/retry/);

    // A later event that renders the same files (carol's password set to the same hash) is held back.
    const carolHash = s.store.state().users['carol']?.passwordHash ?? '';
    const same = await s.apply({ type: 'ChangeMqttUserPassword', data: { username: 'carol', passwordHash: carolHash } });
    assert.equal(same.result, 'failed');
    assert.equal(same.quarantined, true);
    assert.equal(same.wrote, false);
    assert.match(same.reason ?? '', /quarantined.*retries the apply/);
    assert.equal(readFileSync(acl, 'utf8'), goodAcl, 'nothing was written');
    assert.equal((await login(t, s.port, 'carol', 'pc')).ok, false);
    assert.equal(s.deps.securityLog.count({ category: 'apply.quarantined' }), 1);

    // A restart renders the same content again: still held back, and the status says why.
    await s.stop();
    const s2 = await startTestServer(t, bin, { dataDir });
    const st2 = s2.applyLoop.status();
    assert.equal(st2.state, 'failed');
    assert.equal(st2.quarantine?.generation, failedGen);
    assert.match(st2.last?.reason ?? '', /^not applied: .*quarantined/);
    assert.equal((await login(t, s2.port, 'carol', 'pc')).ok, false, 'the quarantined content is not in force');
    assert.ok((await login(t, s2.port, 'alice', 'pa')).ok);

    // An admin's retry (POST /apply-status/retry) lifts it: applied, and carol can log in.
    const after = await s2.deps.apply.retry();
    assert.equal(after.state, 'applied');
    assert.equal(after.quarantine, undefined);
    assert.ok((await login(t, s2.port, 'carol', 'pc')).ok);
    assert.equal(s2.deps.securityLog.count({ category: 'apply.quarantine_lifted' }), 1);
  });

  it('any change to the content is applied again (the quarantine holds only the content that failed)', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const { s } = await failOpenCarol(t, bin, testDataDir(t));
    const o = await s.apply({ type: 'CreateMqttUser', data: { username: 'dave', passwordHash: await s.hash('pd') } });
    assert.equal(o.result, 'applied', o.reason);
    assert.equal(s.applyLoop.status().quarantine, undefined);
    assert.ok((await login(t, s.port, 'dave', 'pd')).ok);
    assert.ok((await login(t, s.port, 'carol', 'pc')).ok);
  });
});
