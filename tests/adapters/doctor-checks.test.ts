import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it, type TestContext } from 'node:test';
import type { Config } from '../../adapters/config/config.ts';
import { defaultConfig } from '../../adapters/config/defaults.ts';
import { checkBrokerFiles } from '../../adapters/doctor/check-broker-files.ts';
import { checkDataDirWritable, checkFreeSpace } from '../../adapters/doctor/check-data-dir.ts';
import { checkEventLog } from '../../adapters/doctor/check-database.ts';
import { checkHttps } from '../../adapters/doctor/check-https.ts';
import { parseMosquittoVersion, versionNote } from '../../adapters/doctor/check-mosquitto.ts';
import { checkReload } from '../../adapters/doctor/check-reload.ts';
import { lookupAccount } from '../../adapters/mosquitto/permissions.ts';
import { createSqliteEventStore } from '../../adapters/sqlite/event-store.ts';
import { openDatabase } from '../../adapters/sqlite/open-database.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const config = (patch: (c: Config) => void = () => {}): Config => {
  const c = defaultConfig({ mosquittoBinary: null });
  patch(c);
  return c;
};

const ENV = { PATH: process.env['PATH'] ?? '/usr/bin:/bin' };

describe('doctor: mosquitto version notes [reference §8]', () => {
  it('reads the version from `mosquitto -h`', () => {
    assert.deepEqual(parseMosquittoVersion('mosquitto version 2.0.11\n\nmosquitto is an MQTT v5.0/v3.1.1/v3.1 broker.'), { major: 2, minor: 0, patch: 11, text: '2.0.11' });
    assert.equal(parseMosquittoVersion('something else'), null);
  });

  it('1.x is refused; 2.0 notes fail-open on reload; 2.1 notes the deprecated options and argon2id; 3.x is untested', () => {
    assert.equal(versionNote({ major: 1, minor: 6, patch: 9, text: '1.6.9' }).ok, false);
    const v20 = versionNote({ major: 2, minor: 0, patch: 11, text: '2.0.11' });
    assert.equal(v20.ok, true);
    assert.match(v20.note, /fails open on a bad reload/);
    assert.match(v20.note, /before 2\.0\.16 it does not warn about file permissions/);
    assert.doesNotMatch(versionNote({ major: 2, minor: 0, patch: 18, text: '2.0.18' }).note, /2\.0\.16/);
    const v21 = versionNote({ major: 2, minor: 1, patch: 2, text: '2.1.2' });
    assert.equal(v21.ok, true);
    assert.match(v21.note, /deprecated .*password-file\/acl-file plugins/);
    assert.match(v21.note, /exit on reload/);
    assert.match(v21.note, /argon2id/);
    assert.equal(versionNote({ major: 3, minor: 0, patch: 0, text: '3.0.0' }).ok, false);
  });
});

describe('doctor: data dir and free space', () => {
  it('free space: fails under 64 MiB, warns under 512 MiB, passes above', (t) => {
    const dir = tempDir(t);
    const at = (bytes: number) => checkFreeSpace(dir, () => ({ bavail: bytes / 4096, bsize: 4096 }));
    assert.equal(at(32 * 1024 * 1024).status, 'fail');
    assert.match(at(32 * 1024 * 1024).detail, /only 32\.0 MiB free/);
    assert.equal(at(256 * 1024 * 1024).status, 'warn');
    assert.equal(at(8 * 1024 * 1024 * 1024).status, 'pass');
  });

  it('a data dir that cannot be created (its path runs through a file) fails with the fix', (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'file'), '');
    const r = checkDataDirWritable(join(dir, 'file', 'data'));
    assert.equal(r.status, 'fail');
    assert.match(r.detail, /does not exist and .*file is not writable/);
    assert.match(r.hint!, /MCM_DATA_DIR/);
    assert.equal(checkDataDirWritable(dir).status, 'pass');
  });
});

describe('doctor: event log [DESIGN §4]', () => {
  const logWith = (t: TestContext, n: number): string => {
    const dir = tempDir(t);
    const db = openDatabase(join(dir, 'mcm.db'));
    const store = createSqliteEventStore({ db });
    for (let i = 0; i < n; i++) store.append([{ type: 'RoleDefined', data: { role: `r${i}`, description: '' } }], { actor: { kind: 'cli', id: 't' }, at: '2026-01-01T00:00:00.000Z' });
    db.close();
    return dir;
  };

  it('an intact log passes; no log yet passes and says it will be created', (t) => {
    const r = checkEventLog(logWith(t, 3));
    assert.equal(r.status, 'pass');
    assert.match(r.detail, /3 events, head seq 3/);
    assert.match(checkEventLog(tempDir(t)).detail, /no event log .* yet/);
  });

  it('an edited row fails, naming the first bad seq and how to recover', (t) => {
    const dir = logWith(t, 3);
    const db = new DatabaseSync(join(dir, 'mcm.db'));
    db.exec(`UPDATE events SET data = replace(data, 'r1', 'rX') WHERE seq = 2`);
    db.close();
    const r = checkEventLog(dir);
    assert.equal(r.status, 'fail');
    assert.match(r.detail, /hash chain broken at seq 2: hash mismatch/);
    assert.match(r.hint!, /mcm backup restore/);
  });

  it('a file that is not a database fails', (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'mcm.db'), 'not sqlite at all, just text'.repeat(100));
    const r = checkEventLog(dir);
    assert.equal(r.status, 'fail');
    assert.match(r.detail, /not a database/);
  });
});

describe('doctor: reload strategy [DESIGN §6]', () => {
  const signal = (pidFile: string | null) => config((c) => { c.mosquitto.mode = 'external'; c.mosquitto.reload.strategy = 'signal'; c.mosquitto.reload.pid_file = pidFile; });

  it('signal: a live pid passes; a missing pid file, a dead pid and pid 1 fail with the fix', async (t) => {
    const dir = tempDir(t);
    const pidFile = join(dir, 'mosquitto.pid');
    writeFileSync(pidFile, `${process.pid}\n`);
    assert.equal((await checkReload(signal(pidFile), ENV)).status, 'pass');

    const missing = await checkReload(signal(join(dir, 'nope.pid')), ENV);
    assert.equal(missing.status, 'fail');
    assert.match(missing.detail, /cannot read the pid file .*nope\.pid: ENOENT/);
    assert.match(missing.hint!, /pid_file/);

    const child = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => child.once('exit', r));
    writeFileSync(pidFile, String(child.pid));
    const dead = await checkReload(signal(pidFile), ENV);
    assert.equal(dead.status, 'fail');
    assert.match(dead.detail, new RegExp(`no process ${child.pid}`));
    assert.match(dead.hint!, /pid: "service:mosquitto"/);

    writeFileSync(pidFile, '1');
    const init = await checkReload(signal(pidFile), ENV);
    assert.equal(init.status, 'fail');
    assert.match(init.hint!, /init: true/);
  });

  it('command: found on PATH passes without running it; a missing command fails', async () => {
    const ok = await checkReload(config((c) => { c.mosquitto.mode = 'external'; c.mosquitto.reload.strategy = 'command'; c.mosquitto.reload.command = ['true', 'reload']; }), ENV);
    assert.equal(ok.status, 'pass');
    assert.match(ok.detail, /\/true reload \(found; not run/);
    const missing = await checkReload(config((c) => { c.mosquitto.mode = 'external'; c.mosquitto.reload.strategy = 'command'; c.mosquitto.reload.command = ['no-such-reloader-xyz']; }), ENV);
    assert.equal(missing.status, 'fail');
    assert.match(missing.detail, /no-such-reloader-xyz not found on PATH/);
  });

  it('none is a warning: nothing is ever confirmed applied', async () => {
    const r = await checkReload(config((c) => { c.mosquitto.mode = 'external'; c.mosquitto.reload.strategy = 'none'; }), ENV);
    assert.equal(r.status, 'warn');
    assert.match(r.detail, /no change is ever confirmed as applied/);
  });

  it('docker: asks the Engine API about the container (ping, inspect) and never signals it', async (t) => {
    const dir = tempDir(t);
    const socket = join(dir, 'docker.sock');
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      if (req.url === '/_ping') { res.end('OK'); return; }
      const m = /^\/containers\/([^/]+)\/json$/.exec(req.url ?? '');
      if (m && m[1] === 'broker') { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ State: { Running: true } })); return; }
      if (m && m[1] === 'stopped') { res.end(JSON.stringify({ State: { Running: false } })); return; }
      res.statusCode = 404;
      res.end('{"message":"No such container"}');
    });
    await new Promise<void>((r) => server.listen(socket, r));
    t.after(() => new Promise<void>((r) => server.close(() => r())));
    const docker = (container: string | null, sock = socket) => config((c) => {
      c.mosquitto.mode = 'external'; c.mosquitto.reload.strategy = 'docker'; c.mosquitto.reload.docker = { socket: sock, container };
    });
    assert.equal((await checkReload(docker('broker'), ENV)).status, 'pass');
    assert.match((await checkReload(docker('stopped'), ENV)).detail, /container "stopped" is not running/);
    assert.match((await checkReload(docker('ghost'), ENV)).detail, /no container "ghost"/);
    const unreachable = await checkReload(docker('broker', join(dir, 'missing.sock')), ENV);
    assert.equal(unreachable.status, 'fail');
    assert.match(unreachable.detail, /cannot reach the Docker Engine API .*ENOENT/);
    assert.ok(seen.every((r) => r.startsWith('GET ')), `only GETs: ${seen.join(', ')}`);
  });
});

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

describe('doctor: HTTPS certificate', { skip: !hasOpenssl && 'openssl not installed' }, () => {
  const makeCert = (t: TestContext, days: number): { cert: string; key: string; otherKey: string } => {
    const dir = tempDir(t, 'mcm-cert-');
    const p = (n: string) => join(dir, n);
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    execFileSync('openssl', ['req', '-x509', ...ec, '-keyout', p('key.pem'), '-out', p('cert.pem'), '-days', String(days), '-subj', '/CN=mcm.test'], { stdio: 'pipe' });
    execFileSync('openssl', ['req', '-x509', ...ec, '-keyout', p('other.pem'), '-out', p('other-cert.pem'), '-days', '1', '-subj', '/CN=other'], { stdio: 'pipe' });
    return { cert: p('cert.pem'), key: p('key.pem'), otherKey: p('other.pem') };
  };
  const tls = (cert: string, key: string) => config((c) => { c.http.tls.cert = cert; c.http.tls.key = key; });
  const DAY = 24 * 60 * 60 * 1000;

  it('valid for a year: pass; within 30 days of expiry: warn; expired or not yet valid: fail', (t) => {
    const { cert, key } = makeCert(t, 400);
    const now = new Date();
    assert.equal(checkHttps(tls(cert, key), now).status, 'pass');
    const soon = checkHttps(tls(cert, key), new Date(now.getTime() + 390 * DAY));
    assert.equal(soon.status, 'warn');
    assert.match(soon.detail, /expires in \d+ days/);
    const expired = checkHttps(tls(cert, key), new Date(now.getTime() + 500 * DAY));
    assert.equal(expired.status, 'fail');
    assert.match(expired.detail, /CN=mcm\.test\) expired on /);
    assert.match(expired.hint!, /renew/);
    assert.match(checkHttps(tls(cert, key), new Date(now.getTime() - 2 * DAY)).detail, /is not valid before/);
  });

  it('a key that is not the certificate\'s fails; an unreadable certificate fails', (t) => {
    const { cert, otherKey } = makeCert(t, 30);
    const r = checkHttps(tls(cert, otherKey));
    assert.equal(r.status, 'fail');
    assert.match(r.detail, /is not the private key of/);
    assert.match(checkHttps(tls(join(tempDir(t), 'none.pem'), otherKey)).detail, /cannot read the certificate/);
  });

  it('without TLS: skipped on loopback, a warning on any other address', () => {
    assert.equal(checkHttps(config()).status, 'skip');
    const open = checkHttps(config((c) => { c.http.host = '0.0.0.0'; }));
    assert.equal(open.status, 'warn');
    assert.match(open.hint!, /reverse proxy/);
  });
});

describe('doctor: broker files readable by the broker user [reference §4]', () => {
  it('external mode: a file the local mosquitto user cannot read is reported with the chgrp fix', (t) => {
    const account = lookupAccount('mosquitto');
    if (!account || process.getuid?.() !== 0) { t.skip('needs root and a local mosquitto account'); return; }
    const dir = tempDir(t);
    chmodSync(dir, 0o755);
    const files = join(dir, 'files');
    mkdirSync(files, { mode: 0o755 });
    writeFileSync(join(files, 'passwd'), '', { mode: 0o600 });
    writeFileSync(join(files, 'acl'), '', { mode: 0o644 });
    const c = config((x) => {
      x.data_dir = join(dir, 'data');
      x.mosquitto.mode = 'external';
      x.mosquitto.password_file = join(files, 'passwd');
      x.mosquitto.acl_file = join(files, 'acl');
    });
    const r = checkBrokerFiles(c);
    assert.equal(r.status, 'warn');
    assert.match(r.detail, /password_file: the broker's user mosquitto cannot read .*passwd/);
    assert.doesNotMatch(r.detail, /acl_file/);
    assert.match(r.hint!, /chgrp mosquitto .*passwd && chmod 0640/);
    chmodSync(join(files, 'passwd'), 0o644);
    assert.equal(checkBrokerFiles(c).status, 'pass');
  });

  it('supervised as root: the data dir the server will give to the broker group passes; a 0700 parent above it fails', (t) => {
    if (process.getuid?.() !== 0 || !lookupAccount('mosquitto')) { t.skip('needs root and a local mosquitto account'); return; }
    const dir = tempDir(t);
    const data = join(dir, 'data');
    mkdirSync(data, { mode: 0o750 });
    const supervised = config((x) => { x.data_dir = data; x.mosquitto.mode = 'supervised'; x.mosquitto.reload.strategy = 'supervised'; });
    chmodSync(dir, 0o755);
    assert.equal(checkBrokerFiles(supervised).status, 'pass');
    chmodSync(dir, 0o700);
    const r = checkBrokerFiles(supervised);
    assert.equal(r.status, 'fail');
    assert.match(r.detail, new RegExp(`cannot reach .* \\(${dir} is not searchable\\)`));
    assert.match(r.hint!, new RegExp(`chmod o\\+x ${dir}`));
  });
});
