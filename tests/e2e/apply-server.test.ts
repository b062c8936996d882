/**
 * The server process around the apply loop: broker supervision, start-up catch-up, external
 * brokers, `mcm server` shutdown and `mcm status` (DESIGN §6, §8).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { statusCommand, type StatusReport } from '../../adapters/cli/commands/status.ts';
import type { ApplyOutcome } from '../../adapters/apply/apply-status.ts';
import { handleCommand } from '../../core/handle-command.ts';
import { createSqliteEventStore } from '../../adapters/sqlite/event-store.ts';
import { openDatabase } from '../../adapters/sqlite/open-database.ts';
import { requireMosquitto, startMosquitto } from '../helpers/mosquitto.ts';
import { startTestServer, testDataDir } from '../helpers/mcm-server.ts';
import { login } from '../helpers/mqtt-client.ts';
import { freePort } from '../helpers/ports.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { createMosquittoHasher } from '../../adapters/mosquitto/password-hash.ts';

const waitFor = async (what: string, check: () => boolean, ms = 8000): Promise<void> => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

const alive = (pid: number): boolean => { try { process.kill(pid, 0); return true; } catch { return false; } };

describe('supervised broker', () => {
  it('a SIGKILLed broker is restarted with backoff, the files re-applied and the probes pass', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const s = await startTestServer(t, bin, { testing: { backoff: { initialMs: 100 } } });
    await s.apply({ type: 'CreateMqttUser', data: { username: 'dev', passwordHash: await s.hash('pw') } });
    const sup = s.deps.supervisor;
    assert.ok(sup);
    const outcomes: ApplyOutcome[] = [];
    s.applyLoop.onOutcome((o) => outcomes.push(o));
    const pid = sup.pid();
    assert.ok(pid);
    process.kill(pid, 'SIGKILL');
    await waitFor('restart and a confirmed re-apply', () => sup.restarts() === 1 && outcomes.some((o) => o.result === 'applied' && o.reloaded));
    assert.notEqual(sup.pid(), pid);
    assert.equal(s.applyLoop.status().broker.up, true);
    assert.equal(s.applyLoop.status().state, 'applied');
    assert.ok((await login(t, s.port, 'dev', 'pw')).ok);
    assert.equal((await login(t, s.port, 'dev', 'nope')).ok, false);
  });
});

describe('supervised broker down during a change', () => {
  it('an apply that failed only because the broker was down is applied once it is back', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const s = await startTestServer(t, bin, { testing: { backoff: { initialMs: 1000 } } });
    const sup = s.deps.supervisor;
    assert.ok(sup);
    const pid = sup.pid();
    assert.ok(pid);
    process.kill(pid, 'SIGKILL');
    await waitFor('the broker to be seen down', () => !sup.isUp());
    const o = await s.apply({ type: 'CreateMqttUser', data: { username: 'late', passwordHash: await s.hash('pw') } });
    assert.equal(o.result, 'failed');
    assert.match(o.reason ?? '', /reload failed: the supervised mosquitto is not running/);
    assert.equal(s.applyLoop.status().state, 'failed');
    const applied = await s.applyLoop.waitForGeneration(o.generation, 8000).then(async function next(x): Promise<ApplyOutcome> {
      return x.result === 'applied' ? x : s.applyLoop.waitForGeneration(o.generation, 8000).then(next);
    });
    assert.equal(applied.result, 'applied');
    assert.equal(s.applyLoop.status().state, 'applied');
    assert.ok((await login(t, s.port, 'late', 'pw')).ok);
  });
});

describe('start-up', () => {
  it('catches up from the checkpoint: events appended while MCM was down are applied', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const dataDir = testDataDir(t);
    const first = await startTestServer(t, bin, { dataDir });
    await first.apply({ type: 'CreateMqttUser', data: { username: 'early', passwordHash: await first.hash('pw') } });
    const port = first.port;
    await first.stop();

    // While MCM is down: an event is appended (e.g. by `mcm` on the data dir).
    const db = openDatabase(join(dataDir, 'mcm.db'));
    const store = createSqliteEventStore({ db });
    const hash = await createMosquittoHasher().hash('pw2', 101);
    handleCommand({ store, clock: { now: () => new Date().toISOString() } }, { type: 'CreateMqttUser', data: { username: 'late', passwordHash: hash } }, { actor: { kind: 'cli', id: 't' } });
    db.close();

    const s = await startTestServer(t, bin, { dataDir, config: { mqtt: { port } } });
    const st = s.applyLoop.status();
    assert.equal(st.state, 'applied');
    assert.equal(st.applied_seq, s.store.state().generation);
    assert.ok((await login(t, s.port, 'late', 'pw2')).ok, 'the offline event is enforced');
    assert.ok((await login(t, s.port, 'early', 'pw')).ok);
    assert.equal(s.deps.securityLog.count({ category: 'files.drift' }), 0);
  });

  it('a file edited while MCM was down is not MCM\'s: left untouched, adoption_required, until taken over [issue 11]', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const dataDir = testDataDir(t);
    const first = await startTestServer(t, bin, { dataDir });
    await first.apply({ type: 'CreateMqttUser', data: { username: 'early', passwordHash: await first.hash('pw') } });
    const port = first.port;
    await first.stop();
    const acl = join(dataDir, 'mosquitto', 'acl');
    const edited = `${readFileSync(acl, 'utf8')}user intruder\ntopic readwrite #\n`;
    writeFileSync(acl, edited);

    const s = await startTestServer(t, bin, { dataDir, config: { mqtt: { port } } });
    const st = s.applyLoop.status();
    assert.equal(st.state, 'adoption_required');
    assert.deepEqual(st.adoption?.files.map((f) => [f.file, f.path]), [['acl_file', acl]]);
    assert.match(st.adoption?.message ?? '', /mcm import/);
    assert.equal(readFileSync(acl, 'utf8'), edited, 'the foreign file is byte-identical');
    assert.deepEqual(s.deps.readiness(), { ready: false, reasons: [`adoption required: ${st.adoption?.message}`] });
    const ev = s.deps.securityLog.list({ category: 'files.adoption_required' }).items;
    assert.equal(ev.length, 1);
    assert.match(ev[0]?.message ?? '', /acl_file .* was not written by MCM.*mcm import/);
    assert.equal(s.deps.securityLog.count({ category: 'files.drift' }), 0);
    // A change while adoption is required writes nothing either.
    const o = await s.apply({ type: 'CreateMqttUser', data: { username: 'later', passwordHash: await s.hash('pw') } });
    assert.equal(o.result, 'adoption_required');
    assert.equal(o.wrote, false);
    assert.equal(readFileSync(acl, 'utf8'), edited);
    assert.equal(s.deps.securityLog.count({ category: 'files.adoption_required' }), 1, 'one security event per content');

    // Taking the file over (what --force-takeover does) lets the next apply replace it.
    const sha = st.adoption?.files[0]?.sha256 ?? '';
    const taken = await s.apply({ type: 'TakeOverBrokerFiles', data: { files: [{ file: 'acl_file', sha256: sha, path: acl }] } });
    assert.equal(taken.result, 'applied');
    assert.equal(s.applyLoop.status().state, 'applied');
    assert.doesNotMatch(readFileSync(acl, 'utf8'), /intruder/);
    assert.equal(readFileSync(`${acl}.pre-mcm`, 'utf8'), edited, 'the original is kept');
    assert.equal(statSync(`${acl}.pre-mcm`).mode & 0o777, 0o600);
    assert.ok((await login(t, s.port, 'later', 'pw')).ok);
    assert.equal(s.deps.securityLog.count({ category: 'files.drift' }), 0, 'replacing an adopted file is not drift');
  });
});

describe('start-up with a changed configuration', () => {
  it('a new MCM_MQTT_PORT takes effect at the next start (listeners are restart-only) [ref §3.2]', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const dataDir = testDataDir(t);
    const first = await startTestServer(t, bin, { dataDir });
    await first.apply({ type: 'CreateMqttUser', data: { username: 'mover', passwordHash: await first.hash('pw') } });
    await first.stop();
    const port = await freePort();
    const s = await startTestServer(t, bin, { dataDir, config: { mqtt: { port } } });
    assert.equal(s.applyLoop.status().state, 'applied');
    assert.match(readFileSync(join(dataDir, 'mosquitto', 'mosquitto.conf'), 'utf8'), new RegExp(`^listener ${port} 127\\.0\\.0\\.1$`, 'm'));
    assert.ok((await login(t, port, 'mover', 'pw')).ok);
    assert.equal(s.deps.securityLog.count({ category: 'files.drift' }), 0, 'a config change is not drift');
  });
});

describe('external broker', () => {
  it('reload strategy signal: files at configured paths, SIGHUP via the pid file, confirmed by probes', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const dir = tempDir(t, 'mcm-ext-');
    chmodSync(dir, 0o755);
    const passwd = join(dir, 'passwd');
    const acl = join(dir, 'acl');
    writeFileSync(passwd, '', { mode: 0o644 });
    writeFileSync(acl, '', { mode: 0o644 });
    const broker = await startMosquitto(t, bin, { dir, lines: ['allow_anonymous false', `password_file ${passwd}`, `acl_file ${acl}`] });
    const pidFile = join(dir, 'mosquitto.pid');
    writeFileSync(pidFile, `${broker.pid}\n`);
    const s = await startTestServer(t, bin, {
      config: {
        mqtt: { port: broker.port },
        mosquitto: { mode: 'external', password_file: passwd, acl_file: acl, reload: { strategy: 'signal', pid_file: pidFile } },
      },
    });
    assert.equal(s.applyLoop.status().state, 'applied');
    const { version: _version, ...brokerStatus } = s.applyLoop.status().broker;
    assert.deepEqual(brokerStatus, { mode: 'external', up: true, reload: 'signal', backend: 'files' });
    const o = await s.apply({ type: 'CreateMqttUser', data: { username: 'ext', passwordHash: await s.hash('pw') } });
    assert.equal(o.result, 'applied');
    assert.ok((await login(t, broker.port, 'ext', 'pw')).ok);
    assert.equal(existsSync(join(s.dataDir, 'mosquitto', 'mosquitto.conf')), false, 'no mosquitto.conf in external mode');
    assert.equal(readFileSync(passwd).length > 0, true);
    // An empty file held nothing to lose: written, and no longer world-readable (it was 0644).
    assert.equal(statSync(passwd).mode & 0o777, 0o640);
    assert.equal(existsSync(`${passwd}.pre-mcm`), false);
  });

  it('reload strategy none: an apply is only ever "written", and says so [DESIGN §6]', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const dir = tempDir(t, 'mcm-none-');
    const s = await startTestServer(t, bin, {
      config: { mosquitto: { mode: 'external', password_file: join(dir, 'passwd'), acl_file: join(dir, 'acl'), reload: { strategy: 'none' } } },
    });
    const o = await s.apply({ type: 'CreateMqttUser', data: { username: 'w', passwordHash: await s.hash('pw') } });
    assert.equal(o.result, 'written');
    assert.match(o.reason ?? '', /reload strategy none/);
    const st = s.applyLoop.status();
    assert.equal(st.last?.result, 'written');
    assert.match(st.last?.reason ?? '', /not reloaded or confirmed/);
    assert.match(readFileSync(join(dir, 'passwd'), 'utf8'), /^w:\$7\$/m);
  });
});

describe('mcm server and mcm status', () => {
  const SERVER = fileURLToPath(new URL('../helpers/run-server-command.ts', import.meta.url));

  it('SIGTERM stops cleanly: exit 0, the child broker stopped; status reads the data dir', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const dataDir = testDataDir(t);
    const port = await freePort();
    // MCM_HTTP_PORT 0: the server command also serves HTTP; never the shared default 8080 in tests.
    const env = { ...process.env, MCM_DATA_DIR: dataDir, MCM_MQTT_PORT: String(port), MCM_HTTP_PORT: '0', MCM_MOSQUITTO_MODE: 'supervised', MCM_LOG_LEVEL: 'info', MCM_CONFIG: '' };
    const child = spawn(process.execPath, [SERVER], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
    let out = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { out += b.toString(); });
    await waitFor('MCM running', () => out.includes('MCM running'), 15_000);
    const brokerPid = Number(readFileSync(join(dataDir, 'mosquitto', 'supervised.pid'), 'utf8'));
    assert.ok(alive(brokerPid));

    const io = (lines: string[]) => ({ stdout: (s: string) => { lines.push(s); }, stderr: (s: string) => { lines.push(s); }, env: { MCM_DATA_DIR: dataDir, MCM_MQTT_PORT: String(port) }, cwd: dataDir });
    const json: string[] = [];
    assert.equal(await statusCommand.run(['--json'], io(json)), 0);
    const report = JSON.parse(json.join('')) as StatusReport;
    assert.equal(report.state, 'applied');
    assert.equal(report.broker.up, true);
    assert.equal(report.last?.result, 'applied');
    assert.equal(typeof report.last?.latency_ms, 'number');
    const human: string[] = [];
    await statusCommand.run([], io(human));
    assert.match(human.join(''), /applied seq\s+0\s+applied/);
    // Beside a running server, status reports the broker as the server sees it (its probes).
    assert.match(human.join(''), new RegExp(`supervised \\(reload supervised\\), up \\(as seen by the server pid ${child.pid}\\)`));
    assert.equal(report.broker.reported_by, `server pid ${child.pid}`);
    void port;

    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    assert.equal(code, 0, out);
    assert.equal(alive(brokerPid), false, 'the supervised broker was stopped');
    assert.match(out, /"msg":"stopped"/);

    const after: string[] = [];
    await statusCommand.run(['--json'], io(after));
    assert.equal((JSON.parse(after.join('')) as StatusReport).broker.up, false);
  });

  it('status without a data dir says where it looked', async (t) => {
    const dir = tempDir(t);
    const err: string[] = [];
    const code = await statusCommand.run([], { stdout: () => {}, stderr: (s) => { err.push(s); }, env: { MCM_DATA_DIR: join(dir, 'nope') }, cwd: dir });
    assert.equal(code, 1);
    assert.match(err.join(''), /no event log at .*nope\/mcm\.db/);
  });
});

