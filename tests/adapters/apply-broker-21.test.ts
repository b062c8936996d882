/**
 * Mosquitto 2.1 (reference §8), which cannot run here: tested with the stand-in
 * tests/helpers/mosquitto-2.1-standin.ts (reports 2.1.2, reads the plugin form, exits with code 3
 * when a SIGHUP meets a bad file, else runs the real 2.0.11). Also the version detection both
 * modes rely on.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { brokerLineOf, defaultPluginDir, detectBinaryVersion, parseBrokerVersion } from '../../adapters/mosquitto/broker-version.ts';
import { renderMosquittoConf } from '../../projections/mosquitto-conf.ts';
import { requireMosquitto, startMosquitto } from '../helpers/mosquitto.ts';
import { startTestServer } from '../helpers/mcm-server.ts';
import { login } from '../helpers/mqtt-client.ts';
import { passwordFileErrors21, translateConf } from '../helpers/mosquitto-2.1-standin.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const STANDIN = fileURLToPath(new URL('../helpers/mosquitto-2.1-standin.ts', import.meta.url));
/** 2.1 refuses this line (upstream test 23-security-acl-file-reload.py); 2.0 would fail open. */
const BAD_ACL_LINE = 'topic readwrite a#\n';

const waitFor = async (what: string, check: () => boolean, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

/** Runs `hook` once, before the next reload only. */
const oneShot = () => {
  let hook: (() => void) | null = null;
  return { arm: (h: () => void) => { hook = h; }, beforeReload: () => { const h = hook; hook = null; h?.(); } };
};

describe('broker version', () => {
  it('parses the binary\'s and $SYS\'s version text and derives the release line', (t) => {
    assert.equal(parseBrokerVersion('mosquitto version 2.0.11\n\nmosquitto is an MQTT broker'), '2.0.11');
    assert.equal(parseBrokerVersion('2.1.2'), '2.1.2');
    assert.equal(parseBrokerVersion('nonsense'), null);
    assert.deepEqual(['2.0.11', '2.0.22', '2.1.0', '2.1.2', '3.0.0', null, '1.6.9'].map(brokerLineOf), ['2.0', '2.0', '2.1', '2.1', '2.1', null, null]);
    assert.equal(defaultPluginDir('/usr/sbin/mosquitto'), '/usr/lib');
    assert.equal(defaultPluginDir('/usr/local/sbin/mosquitto'), '/usr/local/lib');
    assert.equal(detectBinaryVersion(STANDIN), '2.1.2');
    assert.equal(detectBinaryVersion('/nonexistent/mosquitto'), null);
    const bin = requireMosquitto(t);
    if (bin) assert.match(detectBinaryVersion(bin) ?? '', /^2\.0\.\d+$/);
  });

  it('renders mosquitto.conf in 2.1\'s plugin form, which the stand-in reads back [ref §8]', () => {
    const opts = { passwordFile: '/d/passwd', aclFile: '/d/acl', allowAnonymous: false, host: '127.0.0.1', port: 1883, persistenceDir: '/d/p' };
    const conf = renderMosquittoConf({ ...opts, pluginDir: '/usr/lib/x86_64-linux-gnu/mosquitto/' });
    assert.match(conf, /^plugin \/usr\/lib\/x86_64-linux-gnu\/mosquitto\/mosquitto_password_file\.so\nplugin_opt_password_file \/d\/passwd\nplugin \/usr\/lib\/x86_64-linux-gnu\/mosquitto\/mosquitto_acl_file\.so\nplugin_opt_acl_file \/d\/acl$/m);
    assert.doesNotMatch(conf, /^(password_file|acl_file|per_listener_settings) /m, 'no deprecated options');
    const back = translateConf(conf);
    assert.deepEqual([back.passwordFile, back.aclFile, back.errors], ['/d/passwd', '/d/acl', []]);
    assert.equal(renderMosquittoConf(opts), renderMosquittoConf({ ...opts, pluginDir: null }), '2.0 form unchanged');
    assert.match(renderMosquittoConf(opts), /^password_file \/d\/passwd$/m);
    assert.deepEqual(passwordFileErrors21('test:bad\n').length, 1, 'the stand-in refuses what 2.1 refuses');
  });
});

describe('supervised Mosquitto 2.1 (stand-in)', () => {
  it('detects 2.1, renders the plugin form, and after an exit 3 on a bad reload restores the last good files and restarts it', async (t) => {
    if (!requireMosquitto(t)) return;
    const hook = oneShot();
    const s = await startTestServer(t, STANDIN, {
      config: { mosquitto: { plugin_dir: '/opt/mosquitto-2.1/lib' } },
      testing: { beforeReload: hook.beforeReload, backoff: { initialMs: 100 } },
    });
    assert.equal(s.applyLoop.status().broker.version, '2.1.2');
    const confText = readFileSync(join(s.dataDir, 'mosquitto', 'mosquitto.conf'), 'utf8');
    assert.match(confText, /^plugin \/opt\/mosquitto-2\.1\/lib\/mosquitto_password_file\.so$/m);
    assert.match(confText, /^plugin_opt_acl_file /m);
    const first = await s.apply({ type: 'CreateMqttUser', data: { username: 'dev', passwordHash: await s.hash('pw') } });
    assert.equal(first.result, 'applied', first.reason);
    assert.ok((await login(t, s.port, 'dev', 'pw')).ok);

    const acl = join(s.dataDir, 'mosquitto', 'acl');
    const good = readFileSync(acl, 'utf8');
    const sup = s.deps.supervisor;
    assert.ok(sup);
    // Something breaks the file between MCM's write and its SIGHUP: 2.1 exits with code 3.
    hook.arm(() => writeFileSync(acl, `${readFileSync(acl, 'utf8')}${BAD_ACL_LINE}`));
    const o = await s.apply({ type: 'CreateMqttUser', data: { username: 'late', passwordHash: await s.hash('pw2') } }, 15_000);
    assert.equal(o.result, 'failed');
    assert.match(o.reason ?? '', /exited after the reload with code 3/);
    assert.equal(sup.lastExit()?.code, 3);
    assert.doesNotMatch(readFileSync(acl, 'utf8'), /a#/, 'the bad file is gone');
    assert.equal(readFileSync(acl, 'utf8'), good, 'the last-known-good ACL is back');
    const ev = s.deps.securityLog.list({ category: 'broker.exited' }).items;
    assert.equal(ev[0]?.severity, 'critical');
    assert.match(ev[0]?.message ?? '', /restarting the broker on them/);

    await waitFor('the broker restarted on the good files', () => sup.restarts() === 1 && sup.isUp());
    assert.ok((await login(t, s.port, 'dev', 'pw')).ok, 'the last good rules are in force');
    assert.equal((await login(t, s.port, 'late', 'pw2')).ok, false, 'the failed change is not');
    assert.equal(s.applyLoop.status().state, 'failed');
    // An explicit retry goes through now that nothing interferes.
    assert.equal((await s.deps.apply.retry()).state, 'applied');
    assert.ok((await login(t, s.port, 'late', 'pw2')).ok);
  });
});

describe('external Mosquitto 2.1 (stand-in, reload strategy signal)', () => {
  it('notices the broker is gone after its reload, restores the files and raises a critical event', async (t) => {
    if (!requireMosquitto(t)) return;
    const dir = tempDir(t, 'mcm-ext21-');
    chmodSync(dir, 0o755);
    const passwd = join(dir, 'passwd');
    const acl = join(dir, 'acl');
    writeFileSync(passwd, '');
    writeFileSync(acl, '');
    const lines = ['allow_anonymous false', 'plugin /usr/lib/mosquitto_password_file.so', `plugin_opt_password_file ${passwd}`, 'plugin /usr/lib/mosquitto_acl_file.so', `plugin_opt_acl_file ${acl}`];
    const broker = await startMosquitto(t, STANDIN, { dir, lines });
    const pidFile = join(dir, 'mosquitto.pid');
    writeFileSync(pidFile, `${broker.pid}\n`);
    const hook = oneShot();
    const s = await startTestServer(t, STANDIN, {
      config: { mqtt: { port: broker.port }, mosquitto: { mode: 'external', password_file: passwd, acl_file: acl, reload: { strategy: 'signal', pid_file: pidFile } } },
      testing: { beforeReload: hook.beforeReload },
    });
    const first = await s.apply({ type: 'CreateMqttUser', data: { username: 'dev', passwordHash: await s.hash('pw') } });
    assert.equal(first.result, 'applied', first.reason);
    assert.ok((await login(t, broker.port, 'dev', 'pw')).ok);
    const good = readFileSync(acl, 'utf8');

    hook.arm(() => writeFileSync(acl, `${readFileSync(acl, 'utf8')}${BAD_ACL_LINE}`));
    const o = await s.apply({ type: 'CreateMqttUser', data: { username: 'late', passwordHash: await s.hash('pw2') } }, 15_000);
    assert.equal(o.result, 'failed');
    assert.match(o.reason ?? '', /broker process is gone after the reload/);
    await waitFor('the stand-in\'s exit to be reaped', () => broker.child.exitCode !== null);
    assert.equal(broker.child.exitCode, 3, 'the stand-in exited as 2.1 does');
    assert.equal(readFileSync(acl, 'utf8'), good, 'the last-known-good ACL is restored');
    const ev = s.deps.securityLog.list({ category: 'broker.exited' }).items;
    assert.equal(ev.length, 1);
    assert.equal(ev[0]?.severity, 'critical');
    assert.match(ev[0]?.message ?? '', /restored.*start the broker again/);
    const st = s.applyLoop.status();
    assert.equal(st.state, 'failed');
    assert.equal(st.broker.up, false);

    // The operator's service manager starts it again: on the restored files.
    const again = await startMosquitto(t, STANDIN, { dir, lines, port: broker.port });
    writeFileSync(pidFile, `${again.pid}\n`);
    assert.ok((await login(t, broker.port, 'dev', 'pw')).ok);
    assert.equal((await s.deps.apply.retry()).state, 'applied');
    assert.ok((await login(t, broker.port, 'late', 'pw2')).ok);
  });

  it('an external 2.0 broker\'s version comes from $SYS/broker/version', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const dir = tempDir(t, 'mcm-ver-');
    chmodSync(dir, 0o755);
    const passwd = join(dir, 'passwd');
    const acl = join(dir, 'acl');
    writeFileSync(passwd, '');
    writeFileSync(acl, '');
    const broker = await startMosquitto(t, bin, { dir, lines: ['allow_anonymous false', `password_file ${passwd}`, `acl_file ${acl}`] });
    writeFileSync(join(dir, 'pid'), `${broker.pid}\n`);
    const s = await startTestServer(t, bin, {
      config: { mqtt: { port: broker.port }, mosquitto: { mode: 'external', password_file: passwd, acl_file: acl, reload: { strategy: 'signal', pid_file: join(dir, 'pid') } } },
    });
    await waitFor('$SYS/broker/version', () => s.applyLoop.status().broker.version !== null);
    assert.match(s.applyLoop.status().broker.version ?? '', /^2\.0\.\d+$/);
  });
});
