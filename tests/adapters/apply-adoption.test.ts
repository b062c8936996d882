/**
 * Never destroy what MCM did not write (issue 11, DESIGN §10 "Ownership"): an external broker
 * already runs on a hand-made password_file (two devices, made with mosquitto_passwd) and
 * acl_file. MCM started beside it writes nothing, says `adoption_required` everywhere, and only
 * replaces the files once they are adopted (an import's BrokerFilesAdopted, or
 * `--force-takeover`) — keeping each original as `<file>.pre-mcm` — never world-readable.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { brokerFileOwnership, keepOriginal } from '../../adapters/files/write-rendered-file.ts';
import { handleCommand } from '../../core/handle-command.ts';
import { statusCommand, type StatusReport } from '../../adapters/cli/commands/status.ts';
import { requireMosquitto, startMosquitto, type Broker } from '../helpers/mosquitto.ts';
import { startTestServer, type TestServer } from '../helpers/mcm-server.ts';
import { createTestApp } from '../helpers/http.ts';
import { connectAs, login, publish } from '../helpers/mqtt-client.ts';
import { freePort } from '../helpers/ports.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const mode = (p: string): number => statSync(p).mode & 0o777;

type Foreign = { dir: string; passwd: string; acl: string; pidFile: string; broker: Broker; original: { passwd: Buffer; acl: Buffer } };

/** The operator's broker as the issue found it: mosquitto_passwd-made users, a hand-written ACL, 0644 files. */
const foreignBroker = async (t: TestContext, bin: string, opts: { stayRoot?: boolean } = {}): Promise<Foreign> => {
  const dir = tempDir(t, 'mcm-adopt-');
  chmodSync(dir, 0o755);
  const passwd = join(dir, 'passwd');
  const acl = join(dir, 'acl');
  execFileSync('mosquitto_passwd', ['-c', '-b', passwd, 'dev1', 'pw-one']);
  execFileSync('mosquitto_passwd', ['-b', passwd, 'dev2', 'pw-two']);
  chmodSync(passwd, 0o644);
  writeFileSync(acl, '# devices\nuser dev1\ntopic readwrite dev/1/#\n\nuser dev2\ntopic readwrite dev/2/#\n');
  chmodSync(acl, 0o644);
  const broker = await startMosquitto(t, bin, { dir, lines: ['allow_anonymous false', `password_file ${passwd}`, `acl_file ${acl}`], ...(opts.stayRoot === false ? { stayRoot: false } : {}) });
  const pidFile = join(dir, 'mosquitto.pid');
  writeFileSync(pidFile, `${broker.pid}\n`);
  return { dir, passwd, acl, pidFile, broker, original: { passwd: readFileSync(passwd), acl: readFileSync(acl) } };
};

const startBeside = (t: TestContext, bin: string, f: Foreign, forceTakeover = false): Promise<TestServer> => startTestServer(t, bin, {
  config: {
    mqtt: { port: f.broker.port },
    mosquitto: { mode: 'external', password_file: f.passwd, acl_file: f.acl, reload: { strategy: 'signal', pid_file: f.pidFile } },
  },
  forceTakeover,
});

const devicesLogIn = async (t: TestContext, port: number): Promise<void> => {
  assert.ok((await login(t, port, 'dev1', 'pw-one')).ok, 'dev1 logs in');
  assert.ok((await login(t, port, 'dev2', 'pw-two')).ok, 'dev2 logs in');
  assert.equal((await login(t, port, 'dev1', 'wrong')).ok, false);
};

describe('external mode beside foreign files', () => {
  it('start: the files stay byte-identical, every device still logs in, state adoption_required, /readyz 503', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const f = await foreignBroker(t, bin);
    const s = await startBeside(t, bin, f);

    assert.deepEqual(readFileSync(f.passwd), f.original.passwd, 'password_file byte-identical');
    assert.deepEqual(readFileSync(f.acl), f.original.acl, 'acl_file byte-identical');
    assert.equal(mode(f.passwd), 0o644, 'not even its mode is touched');
    assert.deepEqual(s.applyLoop.stats(), { applies: 1, writes: 0, reloads: 0 }, 'nothing written, no reload sent');
    assert.equal(existsSync(`${f.passwd}.pre-mcm`), false);
    await devicesLogIn(t, f.broker.port);

    const st = s.applyLoop.status();
    assert.equal(st.state, 'adoption_required');
    assert.deepEqual(st.adoption?.files, [
      { file: 'password_file', path: f.passwd, sha256: sha(f.original.passwd) },
      { file: 'acl_file', path: f.acl, sha256: sha(f.original.acl) },
    ]);
    const events = s.deps.securityLog.list({ category: 'files.adoption_required' }).items;
    assert.equal(events.length, 1);
    assert.equal(events[0]?.severity, 'warning');
    assert.match(events[0]?.message ?? '', /password_file .* and acl_file .* were not written by MCM.*`mcm import`/);
    assert.equal(s.deps.securityLog.count({ category: 'apply.failed' }) + s.deps.securityLog.count({ category: 'broker.unreachable' }), 0, 'no failure alarms');
    assert.equal(await s.applyLoop.checkEnforcement('periodic'), null, 'no probe against the operator\'s broker');

    // Over HTTP: /readyz names the reason; /apply-status carries the files.
    const h = await createTestApp(t, { deps: { readiness: s.deps.readiness, apply: s.deps.apply } });
    const ready = await h.request('GET', '/readyz');
    assert.equal(ready.status, 503);
    assert.match(ready.body.reasons[0], /^adoption required: .*mcm import/);
    const res = await h.request('GET', '/api/v1/apply-status', { token: await h.tokenFor('viewer') });
    assert.equal(res.body.state, 'adoption_required');
    assert.equal(res.body.adoption.files.length, 2);
    assert.equal(res.body.broker.mode, 'external');
    assert.ok('version' in res.body.broker);
  });

  it('a packaged broker that reads as user mosquitto still reads the replaced files (root:root 0644 → 0640 with its group), devices log in', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    if (process.getuid?.() !== 0) {
      if (process.env['CI'] === 'true') throw new Error('needs root (CI runs as root)');
      t.skip('needs root: the broker drops to user mosquitto only when started as root');
      return;
    }
    const f = await foreignBroker(t, bin, { stayRoot: false });
    const s = await startBeside(t, bin, f);
    const lines = f.original.passwd.toString('utf8').trim().split('\n').map((l) => l.split(':') as [string, string]);
    const clock = { now: () => new Date().toISOString() };
    const actor = { kind: 'import' as const, id: `files:${f.passwd},${f.acl}` };
    for (const [username, passwordHash] of lines) {
      handleCommand({ store: s.store, clock }, { type: 'CreateMqttUser', data: { username, passwordHash } }, { actor });
      handleCommand({ store: s.store, clock }, { type: 'AddAclRule', data: { principal: `user:${username}`, topic: `dev/${username.slice(3)}/#`, access: 'readwrite' } }, { actor });
    }
    const [adopted] = s.store.append([{ type: 'BrokerFilesAdopted', data: { how: 'import', files: [
      { file: 'password_file', sha256: sha(f.original.passwd), path: f.passwd },
      { file: 'acl_file', sha256: sha(f.original.acl), path: f.acl },
    ] } }], { actor, at: clock.now() });
    const o = await s.applyLoop.waitForGeneration(adopted?.seq ?? 0, 8000);
    assert.equal(o.result, 'applied', o.reason);
    const gid = statSync(f.passwd).gid;
    assert.equal(mode(f.passwd), 0o640);
    assert.equal(gid, statSync(f.acl).gid);
    assert.notEqual(gid, 0, 'given the broker\'s group, not left root-only');
    await devicesLogIn(t, f.broker.port);
  });

  it('after BrokerFilesAdopted for those hashes the apply replaces them: .pre-mcm originals (0600), new files never world-readable', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const f = await foreignBroker(t, bin);
    const s = await startBeside(t, bin, f);
    assert.equal(s.applyLoop.status().state, 'adoption_required');

    // What an import does (its planning is core's): the users with their hashes byte for byte and
    // their rules, then BrokerFilesAdopted for the exact bytes planned on — one batch.
    const lines = f.original.passwd.toString('utf8').trim().split('\n').map((l) => l.split(':') as [string, string]);
    const clock = { now: () => new Date().toISOString() };
    const actor = { kind: 'import' as const, id: `files:${f.passwd},${f.acl}` };
    for (const [username, passwordHash] of lines) {
      handleCommand({ store: s.store, clock }, { type: 'CreateMqttUser', data: { username, passwordHash } }, { actor });
      handleCommand({ store: s.store, clock }, { type: 'AddAclRule', data: { principal: `user:${username}`, topic: `dev/${username.slice(3)}/#`, access: 'readwrite' } }, { actor });
    }
    const [adopted] = s.store.append([{ type: 'BrokerFilesAdopted', data: { how: 'import', files: [
      { file: 'password_file', sha256: sha(f.original.passwd), path: f.passwd },
      { file: 'acl_file', sha256: sha(f.original.acl), path: f.acl },
    ] } }], { actor, at: clock.now() });
    const o = await s.applyLoop.waitForGeneration(adopted?.seq ?? 0, 8000);
    assert.equal(o.result, 'applied', o.reason);
    assert.equal(s.applyLoop.status().state, 'applied');
    assert.equal(s.deps.readiness().ready, true);

    for (const [path, original] of [[f.passwd, f.original.passwd], [f.acl, f.original.acl]] as const) {
      assert.deepEqual(readFileSync(`${path}.pre-mcm`), original, `${path}.pre-mcm holds the original bytes`);
      assert.equal(mode(`${path}.pre-mcm`), 0o600);
      assert.notDeepEqual(readFileSync(path), original, 'replaced by MCM\'s render');
      assert.ok([0o640, 0o600].includes(mode(path)), `${path} is ${mode(path).toString(8)}`);
      assert.equal(mode(path) & 0o007, 0, 'never world-readable, though the old file was 0644');
    }
    assert.match(readFileSync(f.passwd, 'utf8'), /^mcm-service:/m);
    await devicesLogIn(t, f.broker.port);
    const dev1 = await connectAs(t, f.broker.port, 'dev1', 'pw-one');
    assert.equal(await publish(dev1, 'dev/1/temp', '21'), 'accepted');
    assert.equal(await publish(dev1, 'dev/2/temp', '21'), 'denied');

    // A later change replaces the files again; the originals are never overwritten.
    const later = await s.apply({ type: 'CreateMqttUser', data: { username: 'dev3', passwordHash: await s.hash('pw-three') } });
    assert.equal(later.result, 'applied');
    assert.deepEqual(readFileSync(`${f.passwd}.pre-mcm`), f.original.passwd);
    assert.ok((await login(t, f.broker.port, 'dev3', 'pw-three')).ok);
  });

  it('mcm server --force-takeover adopts the foreign files found at start and replaces them (originals kept)', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const f = await foreignBroker(t, bin);
    const s = await startBeside(t, bin, f, true);
    assert.equal(s.applyLoop.status().state, 'applied');
    const taken = s.store.read().filter((e) => e.type === 'BrokerFilesAdopted');
    assert.equal(taken.length, 1);
    assert.deepEqual(taken[0]?.actor, { kind: 'system', id: 'force-takeover' });
    assert.deepEqual(taken[0]?.data, { how: 'takeover', files: [
      { file: 'password_file', sha256: sha(f.original.passwd), path: f.passwd },
      { file: 'acl_file', sha256: sha(f.original.acl), path: f.acl },
    ] });
    assert.deepEqual(readFileSync(`${f.passwd}.pre-mcm`), f.original.passwd);
    assert.deepEqual(readFileSync(`${f.acl}.pre-mcm`), f.original.acl);
    assert.equal(mode(`${f.acl}.pre-mcm`), 0o600);
    assert.equal(mode(f.passwd) & 0o007, 0);
    // A takeover imports nothing: the devices are gone until imported (that is what the flag says).
    assert.equal((await login(t, f.broker.port, 'dev1', 'pw-one')).ok, false);
    assert.equal(s.deps.securityLog.count({ category: 'files.adoption_required' }), 0);
  });

  it('`mcm status` shows adoption_required from the running server; `mcm server --force-takeover` (npm start -- --force-takeover) takes over', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const f = await foreignBroker(t, bin);
    const dataDir = tempDir(t, 'mcm-takeover-');
    const configPath = join(dataDir, 'mcm.yaml');
    writeFileSync(configPath, [
      'mosquitto:', '  mode: external', `  password_file: ${f.passwd}`, `  acl_file: ${f.acl}`,
      '  reload:', '    strategy: signal', `    pid_file: ${f.pidFile}`, '',
    ].join('\n'));
    const env = { MCM_CONFIG: configPath, MCM_DATA_DIR: dataDir, MCM_MQTT_PORT: String(f.broker.port), MCM_HTTP_PORT: String(await freePort()), MCM_LOG_LEVEL: 'info' };
    const SERVER = fileURLToPath(new URL('../helpers/run-server-command.ts', import.meta.url));
    const run = async (args: string[]): Promise<{ out: () => string; stop: () => Promise<number | null> }> => {
      const child = spawn(process.execPath, [SERVER, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      t.after(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
      let out = '';
      child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
      child.stderr.on('data', (b: Buffer) => { out += b.toString(); });
      const end = Date.now() + 20_000;
      while (!out.includes('MCM running') && child.exitCode === null && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      assert.match(out, /MCM running/);
      return {
        out: () => out,
        stop: () => { child.kill('SIGTERM'); return new Promise((r) => child.once('exit', (c) => r(c))); },
      };
    };
    const io = (lines: string[]) => ({ stdout: (x: string) => { lines.push(x); }, stderr: (x: string) => { lines.push(x); }, env, cwd: dataDir });

    const plain = await run([]);
    assert.match(plain.out(), /"state":"adoption_required"/);
    assert.match(plain.out(), /were not written by MCM.*mcm import/, 'a log line names mcm import');
    const json: string[] = [];
    assert.equal(await statusCommand.run(['--json'], io(json)), 0);
    const report = JSON.parse(json.join('')) as StatusReport;
    assert.equal(report.state, 'adoption_required');
    assert.deepEqual(report.adoption?.files.map((x) => x.file), ['password_file', 'acl_file']);
    assert.ok('version' in report.broker);
    const human: string[] = [];
    await statusCommand.run([], io(human));
    assert.match(human.join(''), /ADOPTION REQUIRED/);
    assert.match(human.join(''), /^adoption {6}password_file .* were not written by MCM.*`mcm import`/m);
    assert.match(human.join(''), /^version {7}/m);
    assert.equal(await plain.stop(), 0);
    assert.deepEqual(readFileSync(f.passwd), f.original.passwd, 'still untouched');

    const forced = await run(['--force-takeover']);
    assert.match(forced.out(), /--force-takeover: taking over password_file .* and acl_file/);
    assert.match(forced.out(), /"state":"applied"/);
    assert.deepEqual(readFileSync(`${f.passwd}.pre-mcm`), f.original.passwd);
    assert.equal(await forced.stop(), 0, forced.out());
  });
});

describe('.pre-mcm copies', () => {
  it('are made exclusively with mode 0600 and never overwritten', (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'passwd');
    writeFileSync(file, 'first\n', { mode: 0o644 });
    assert.equal(keepOriginal(file), `${file}.pre-mcm`);
    assert.equal(mode(`${file}.pre-mcm`), 0o600);
    writeFileSync(file, 'second\n');
    assert.equal(keepOriginal(file), null);
    assert.equal(readFileSync(`${file}.pre-mcm`, 'utf8'), 'first\n');
  });
});

describe('modes of the rendered files [issue 11: never world-readable]', () => {
  it('0640 through the group the broker read the old file through, else 0600; a new file 0640', (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'f');
    assert.deepEqual(brokerFileOwnership(join(dir, 'missing'), null), { mode: 0o640 });
    writeFileSync(file, 'x');
    const root = process.getuid?.() === 0;
    const { uid, gid } = statSync(file);
    chmodSync(file, 0o644);
    assert.deepEqual(brokerFileOwnership(file, null), { mode: 0o640, ...(root ? { uid } : {}), gid });
    chmodSync(file, 0o600);
    assert.equal(brokerFileOwnership(file, null).mode, 0o600);
    // Read only through "other" (e.g. root-owned 0604 read by mosquitto): the broker's group takes over.
    chmodSync(file, 0o604);
    if (root) assert.deepEqual(brokerFileOwnership(file, 4242), { mode: 0o640, uid, gid: 4242 });
    assert.equal(brokerFileOwnership(file, null).mode, 0o600, 'no broker account known: owner only');
  });

  it('root:root 0644 read by a broker account outside group root: 0640 with the broker\'s group, so it can still read it', (t) => {
    const dir = tempDir(t);
    const file = join(dir, 'f');
    writeFileSync(file, 'x');
    chmodSync(file, 0o644);
    const { uid, gid } = statSync(file);
    const mosquitto = { uid: 4242, gid: 4343, groups: [4343] };
    const root = process.getuid?.() === 0;
    // Group-readable, but the broker is not in that group: it read the old file through "other".
    if (root) assert.deepEqual(brokerFileOwnership(file, mosquitto), { mode: 0o640, uid, gid: 4343 });
    // In the group: keeps it.
    assert.deepEqual(brokerFileOwnership(file, { uid: 4242, gid: 4343, groups: [4343, gid] }), { mode: 0o640, ...(root ? { uid } : {}), gid });
    // The broker owns it: keeps it.
    assert.equal(brokerFileOwnership(file, { uid, gid: 4343, groups: [4343] }).mode, 0o640);
  });
});
