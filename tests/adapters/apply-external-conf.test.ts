/**
 * External mode with `mosquitto.conf_fragment` (issue "Broker configuration as events"): MCM
 * writes the listeners and limits it manages into a file the operator's own mosquitto.conf reads
 * with include_dir; a reload-only change is a SIGHUP, a listener is a run of the configured
 * restart command; the new listener then answers. A fragment MCM did not write is never touched.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { requireMosquitto } from '../helpers/mosquitto.ts';
import { startTestServer } from '../helpers/mcm-server.ts';
import { freePort } from '../helpers/ports.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const pidOf = (pidFile: string): number => Number(readFileSync(pidFile, 'utf8').trim());

/** Daemonised brokers running `conf`. */
const brokersOf = (conf: string): number[] => readdirSync('/proc').filter((d) => /^\d+$/.test(d)).flatMap((d) => {
  try { return readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').includes(conf) ? [Number(d)] : []; } catch { return []; }
});

/** An operator's broker: its own mosquitto.conf with include_dir, run as a daemon with a pid file. */
const operatorBroker = (t: TestContext, bin: string, port: number) => {
  const dir = tempDir(t, 'mcm-ext-conf-');
  chmodSync(dir, 0o755);
  const confD = join(dir, 'conf.d');
  mkdirSync(confD, { mode: 0o755 });
  const pidFile = join(dir, 'mosquitto.pid');
  const conf = join(dir, 'mosquitto.conf');
  for (const f of ['passwd', 'acl']) writeFileSync(join(dir, f), '', { mode: 0o644 });
  writeFileSync(conf, [
    'per_listener_settings false',
    ...(process.getuid?.() === 0 ? ['user root'] : []),
    `pid_file ${pidFile}`,
    'allow_anonymous false',
    `password_file ${join(dir, 'passwd')}`,
    `acl_file ${join(dir, 'acl')}`,
    `listener ${port} 127.0.0.1`,
    'log_dest none',
    'persistence false',
    `include_dir ${confD}`,
    '',
  ].join('\n'));
  const restart = join(dir, 'restart.sh');
  writeFileSync(restart, `#!/bin/sh\nPID=$(cat ${pidFile})\nkill -TERM "$PID"\nwhile kill -0 "$PID" 2>/dev/null; do sleep 0.05; done\nexec ${bin} -d -c ${conf}\n`, { mode: 0o755 });
  execFileSync(bin, ['-d', '-c', conf], { stdio: 'ignore' });
  // By command line, not pid file: the temp dir (and its pid file) may be gone first, and the
  // restart command replaces the process.
  t.after(() => { for (const pid of brokersOf(conf)) { try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ } } });
  return { dir, confD, pidFile, conf, restart, fragment: join(confD, 'mcm.conf') };
};

const wsConnects = (t: TestContext, port: number, username: string, password: string): Promise<boolean> =>
  new Promise((resolve) => {
    const c = mqtt.connect(`ws://127.0.0.1:${port}/mqtt`, { username, password, protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000 });
    t.after(() => { c.end(true); });
    c.once('connect', () => resolve(true));
    c.once('error', () => resolve(false));
  });

describe('external mode: the broker configuration as an include_dir fragment', () => {
  it('writes the fragment, reloads for a reload-only option, runs the restart command for a listener, and the listener answers', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const port = await freePort();
    const b = operatorBroker(t, bin, port);
    for (let i = 0; i < 100 && !existsSync(b.pidFile); i++) await new Promise((r) => setTimeout(r, 50));
    const server = await startTestServer(t, bin, { config: {
      mqtt: { port },
      mosquitto: {
        mode: 'external', password_file: join(b.dir, 'passwd'), acl_file: join(b.dir, 'acl'),
        reload: { strategy: 'signal', pid_file: b.pidFile }, conf_fragment: b.fragment, restart_command: [b.restart],
      },
    } });
    await server.apply({ type: 'CreateMqttUser', data: { username: 'browser', passwordHash: await server.hash('browser-Pa55word') } });

    // Reload-only: the broker keeps its pid.
    const pid0 = pidOf(b.pidFile);
    const o1 = await server.apply({ type: 'SetBrokerConfig', data: { config: { options: { sys_interval: 20 } } } });
    assert.equal(o1.result, 'applied', o1.reason);
    assert.equal(o1.restarted, undefined);
    assert.equal(pidOf(b.pidFile), pid0);
    assert.match(readFileSync(b.fragment, 'utf8'), /^sys_interval 20$/m);
    assert.doesNotMatch(readFileSync(b.fragment, 'utf8'), /password_file|allow_anonymous|persistence_location/, 'the fragment holds only what MCM manages');

    // A listener: restart command, then every listener is probed.
    const wsPort = await freePort();
    const o2 = await server.apply({ type: 'SetBrokerListener', data: { listener: { name: 'browsers', port: wsPort, protocol: 'websockets', bindInterface: 'lo' } } }, 30_000);
    assert.equal(o2.result, 'applied', o2.reason);
    assert.equal(o2.restarted, true);
    assert.notEqual(pidOf(b.pidFile), pid0, 'restarted by the restart command');
    assert.equal(await wsConnects(t, wsPort, 'browser', 'browser-Pa55word'), true);
    assert.equal(readFileSync(b.conf, 'utf8').includes('browsers'), false, "the operator's own mosquitto.conf is untouched");
  });

  it('never overwrites a fragment it did not write: the server refuses to start and says why', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const port = await freePort();
    const b = operatorBroker(t, bin, port);
    writeFileSync(b.fragment, 'listener 9999\n');
    await assert.rejects(startTestServer(t, bin, { config: {
      mqtt: { port }, mosquitto: { mode: 'external', password_file: join(b.dir, 'passwd'), acl_file: join(b.dir, 'acl'), reload: { strategy: 'signal', pid_file: b.pidFile }, conf_fragment: b.fragment },
    } }), /was not written by MCM/);
    assert.equal(readFileSync(b.fragment, 'utf8'), 'listener 9999\n');
  });
});

describe('external mode: a whole mosquitto.conf MCM writes (mosquitto.conf_file)', () => {
  it('renders the file the broker is started with; a listener runs the restart command and answers; the operator file is refused', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const port = await freePort();
    const dir = tempDir(t, 'mcm-ext-file-');
    chmodSync(dir, 0o755);
    const persistence = join(dir, 'persistence');
    mkdirSync(persistence, { mode: 0o777 });
    chmodSync(persistence, 0o777);
    for (const f of ['passwd', 'acl']) writeFileSync(join(dir, f), '', { mode: 0o644 });
    const conf = join(dir, 'mcm-mosquitto.conf');
    // The broker is found by its exact command line (pgrep -x -f), so the scripts never match themselves.
    const match = `pgrep -x -f "${bin} -d -c ${conf}"`;
    const restart = join(dir, 'restart.sh');
    writeFileSync(restart, `#!/bin/sh\nfor p in $(${match}); do kill -TERM "$p"; while kill -0 "$p" 2>/dev/null; do sleep 0.05; done; done\nexec ${bin} -d -c ${conf}\n`, { mode: 0o755 });
    const reload = join(dir, 'reload.sh');
    writeFileSync(reload, `#!/bin/sh\nkill -HUP $(${match})\n`, { mode: 0o755 });
    t.after(() => { for (const pid of brokersOf(conf)) { try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ } } });

    const server = await startTestServer(t, bin, { config: {
      mqtt: { port },
      mosquitto: {
        mode: 'external', password_file: join(dir, 'passwd'), acl_file: join(dir, 'acl'), conf_file: conf, persistence_dir: persistence,
        reload: { strategy: 'command', command: [reload] }, restart_command: [restart],
      },
    } });
    const text = readFileSync(conf, 'utf8');
    assert.match(text, new RegExp(`^listener ${port} 127\\.0\\.0\\.1$`, 'm'), "MCM's own listener");
    assert.match(text, new RegExp(`^password_file ${join(dir, 'passwd')}$`, 'm'));
    assert.equal(statSync(conf).mode & 0o007, 0, 'never world-readable');
    // The operator starts the broker on the file MCM wrote (as root it drops to mosquitto, which
    // reads the files through their group: MCM writes them root:mosquitto 0640).
    execFileSync(bin, ['-d', '-c', conf], { stdio: 'ignore' });
    const retried = await server.applyLoop.retry();
    assert.equal(retried?.result, 'applied', retried?.reason);

    await server.apply({ type: 'CreateMqttUser', data: { username: 'browser', passwordHash: await server.hash('browser-Pa55word') } });
    const wsPort = await freePort();
    const o = await server.apply({ type: 'SetBrokerListener', data: { listener: { name: 'browsers', port: wsPort, protocol: 'websockets', bindInterface: 'lo' } } }, 30_000);
    assert.equal(o.result, 'applied', o.reason);
    assert.equal(o.restarted, true);
    assert.equal(await wsConnects(t, wsPort, 'browser', 'browser-Pa55word'), true);
    assert.match(readFileSync(conf, 'utf8'), /^# listener browsers$/m);

    const other = join(dir, 'operator.conf');
    writeFileSync(other, 'listener 1883\n');
    await assert.rejects(startTestServer(t, bin, { config: { mqtt: { port: await freePort() }, mosquitto: { mode: 'external', conf_file: other, password_file: join(dir, 'p2'), acl_file: join(dir, 'a2'), reload: { strategy: 'none' } } } }), /was not written by MCM/);
  });
});
