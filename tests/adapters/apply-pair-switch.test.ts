/**
 * The password file and the ACL file switch as one pair (issue 12). An apply writes two files; a
 * SIGHUP from outside (logrotate, `systemctl reload`) between the two renames used to load the
 * new password file with the old ACL. Supervised: the broker reads both through one symlink
 * switched by rename(2), so it sees the old pair or the new one. External (the operator's fixed
 * paths): the password file is written last, the probe's marker login proves the password file
 * as the probe topic proves the ACL, so a mixed pair is detected and never confirmed, and MCM's
 * own reload ends in a proven, consistent pair.
 */
import assert from 'node:assert/strict';
import { chmodSync, lstatSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { passwordMarker } from '../../adapters/apply/broker-files.ts';
import { createMosquittoHasher } from '../../adapters/mosquitto/password-hash.ts';
import { probeBroker } from '../../adapters/mosquitto/probe.ts';
import { requireMosquitto, startMosquitto } from '../helpers/mosquitto.ts';
import { startTestServer, type TestServer } from '../helpers/mcm-server.ts';
import { connectAs, delivered, login } from '../helpers/mqtt-client.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Which pair the broker enforces right now. The change under test moves alice from password pa1
 * to pa2 AND lets her read a/# (bob may always write a/#): each of the four combinations of old
 * and new files is visible from outside.
 */
const observePair = async (t: TestContext, port: number): Promise<string> => {
  const pw = (await login(t, port, 'alice', 'pa2')).ok ? 'pa2' : (await login(t, port, 'alice', 'pa1')).ok ? 'pa1' : null;
  if (!pw) return 'alice cannot log in at all';
  const alice = await connectAs(t, port, 'alice', pw);
  await alice.subscribeAsync('a/#', { qos: 1 });
  const bob = await connectAs(t, port, 'bob', 'pb');
  const got = await delivered(bob, alice, 'a/x', 600);
  alice.end(true);
  bob.end(true);
  if (pw === 'pa1') return got ? 'mixed: old password file, new ACL' : 'old pair';
  return got ? 'new pair' : 'mixed: new password file, old ACL';
};

const seedWorld = async (s: TestServer): Promise<void> => {
  await s.apply({ type: 'CreateMqttUser', data: { username: 'alice', passwordHash: await s.hash('pa1') } });
  await s.apply({ type: 'CreateMqttUser', data: { username: 'bob', passwordHash: await s.hash('pb') } });
  await s.apply({ type: 'AddAclRule', data: { principal: 'user:bob', topic: 'a/#', access: 'write' } });
};

/** Both files change in one generation (one coalesced apply). */
const changeBoth = async (s: TestServer) => {
  const hash = await s.hash('pa2');
  s.run({ type: 'ChangeMqttUserPassword', data: { username: 'alice', passwordHash: hash } });
  const seq = s.run({ type: 'AddAclRule', data: { principal: 'user:alice', topic: 'a/#', access: 'read' } });
  return s.applyLoop.waitForGeneration(seq, 10_000);
};

describe('supervised: the pair switches as one (a symlink renamed over `live`)', () => {
  it('an outside SIGHUP between the two renames loads the old pair, never a mixed one; the apply then proves the new pair', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    let hook: (() => Promise<void>) | null = null;
    const s = await startTestServer(t, bin, {
      testing: { betweenRenames: async () => { const h = hook; hook = null; await h?.(); } },
    });
    await seedWorld(s);
    assert.equal(await observePair(t, s.port), 'old pair');
    let during = '';
    hook = async () => {
      const pid = s.deps.supervisor?.pid();
      assert.ok(pid);
      process.kill(pid, 'SIGHUP'); // someone else's reload, right between MCM's two renames
      await sleep(400); // the broker handles SIGHUP within its 100 ms loop (reference §3.1)
      during = await observePair(t, s.port);
    };
    const o = await changeBoth(s);
    assert.ok(during, 'the hook ran between the renames');
    assert.equal(during, 'old pair', 'the outside reload loaded a consistent pair');
    assert.equal(o.result, 'applied', o.reason);
    assert.equal(await observePair(t, s.port), 'new pair');
    const live = join(s.dataDir, 'mosquitto', 'live');
    assert.ok(lstatSync(live).isSymbolicLink(), 'the broker reads its files through the `live` symlink');
    assert.match(readFileSync(join(s.dataDir, 'mosquitto', 'mosquitto.conf'), 'utf8'), new RegExp(`^acl_file ${live}/acl$`, 'm'));
    // What the broker reads through `live` is what MCM wrote (and watches for drift).
    for (const f of ['passwd', 'acl']) assert.equal(readFileSync(join(live, f), 'utf8'), readFileSync(join(s.dataDir, 'mosquitto', f), 'utf8'));
  });

  it('an ACL-only change neither rewrites nor copies the password file (the pair hard-links it)', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const s = await startTestServer(t, bin);
    await seedWorld(s);
    const passwd = join(s.dataDir, 'mosquitto', 'passwd');
    const before = statSync(passwd).ino;
    const o = await s.apply({ type: 'AddAclRule', data: { principal: 'user:alice', topic: 'b/#', access: 'read' } });
    assert.equal(o.result, 'applied', o.reason);
    assert.equal(statSync(passwd).ino, before, 'the password file was not rewritten');
    assert.equal(statSync(join(s.dataDir, 'mosquitto', 'live', 'passwd')).ino, before, 'the new pair links the same file');
  });

  it('drift on the rendered ACL is still seen and undone, and the broker keeps enforcing the good pair', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const s = await startTestServer(t, bin, { testing: { driftSettleMs: 20 } });
    await seedWorld(s);
    const acl = join(s.dataDir, 'mosquitto', 'acl');
    const good = readFileSync(acl, 'utf8');
    writeFileSync(acl, `${good}user alice\ntopic read a/#\n`);
    // Generous bounds on waits for a condition (a loaded CI machine), not timing assertions.
    const end = Date.now() + 10_000;
    while (readFileSync(acl, 'utf8') !== good && Date.now() < end) await sleep(20);
    assert.equal(readFileSync(acl, 'utf8'), good, 'the edit is undone');
    assert.equal(readFileSync(join(s.dataDir, 'mosquitto', 'live', 'acl'), 'utf8'), good, 'the broker\'s pair is the good one');
    s.deps.supervisor?.reload();
    let seen = await observePair(t, s.port);
    for (const until = Date.now() + 5000; seen !== 'old pair' && Date.now() < until; seen = await observePair(t, s.port)) await sleep(50);
    assert.equal(seen, 'old pair');
  });
});

describe('external: password file last, and the probe proves the pair', () => {
  it('the probe refuses a broker that runs the new ACL with the old password file, and accepts the proven pair', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const dir = tempDir(t, 'mcm-pair-');
    chmodSync(dir, 0o755);
    const passwd = join(dir, 'passwd');
    const acl = join(dir, 'acl');
    const password = 'svc-secret';
    const hash = await createMosquittoHasher().hash(password, 101);
    const oldMarker = 'mcm-pwfile-0000000000000000';
    const newMarker = 'mcm-pwfile-1111111111111111';
    writeFileSync(passwd, `svc:${hash}\n${oldMarker}:${hash}\n`);
    writeFileSync(acl, 'user svc\ntopic read $mcm/#\ntopic write $mcm/probe/7\n');
    const broker = await startMosquitto(t, bin, { dir, lines: ['allow_anonymous false', `password_file ${passwd}`, `acl_file ${acl}`] });
    const target = { host: '127.0.0.1', port: broker.port, username: 'svc', password };
    const mixed = await probeBroker(target, { generation: 7, allowAnonymous: false, timeoutMs: 1500, passwordMarker: newMarker });
    assert.equal(mixed.ok, false, 'a mixed pair (ACL of generation 7, old password file) is not confirmed');
    assert.match(mixed.ok ? '' : mixed.reason, /password file/);
    writeFileSync(passwd, `svc:${hash}\n${newMarker}:${hash}\n`);
    broker.reload();
    const proven = await probeBroker(target, { generation: 7, allowAnonymous: false, timeoutMs: 3000, passwordMarker: newMarker });
    assert.equal(proven.ok, true, proven.ok ? '' : proven.reason);
  });

  it('an outside SIGHUP between the renames loads a mixed pair for a moment; MCM\'s reload and probe end in the proven new pair', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const dir = tempDir(t, 'mcm-pair-ext-');
    chmodSync(dir, 0o755);
    const passwd = join(dir, 'passwd');
    const acl = join(dir, 'acl');
    // Empty files hold nothing to adopt: MCM owns them from its first apply.
    writeFileSync(passwd, '');
    writeFileSync(acl, '');
    const broker = await startMosquitto(t, bin, { dir, lines: ['allow_anonymous false', `password_file ${passwd}`, `acl_file ${acl}`] });
    const pidFile = join(dir, 'mosquitto.pid');
    writeFileSync(pidFile, `${broker.pid}\n`);
    let hook: (() => Promise<void>) | null = null;
    const s = await startTestServer(t, bin, {
      config: { mqtt: { port: broker.port }, mosquitto: { mode: 'external', password_file: passwd, acl_file: acl, reload: { strategy: 'signal', pid_file: pidFile } } },
      testing: { betweenRenames: async () => { const h = hook; hook = null; await h?.(); } },
    });
    await seedWorld(s);
    assert.equal(await observePair(t, broker.port), 'old pair');
    let during = '';
    hook = async () => {
      broker.reload();
      await sleep(400);
      during = await observePair(t, broker.port);
    };
    const o = await changeBoth(s);
    // The order makes the only possible mixed pair "new ACL, old passwords"; it lasts until MCM's reload.
    assert.equal(during, 'mixed: old password file, new ACL');
    assert.equal(o.result, 'applied', o.reason);
    assert.equal(await observePair(t, broker.port), 'new pair');
    assert.ok(passwordMarker(readFileSync(passwd, 'utf8')), 'the password file carries the marker the probe proved');
  });
});
