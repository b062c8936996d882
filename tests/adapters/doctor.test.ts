import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { doctorCommand } from '../../adapters/cli/commands/doctor.ts';
import { runCli } from '../../adapters/cli/run-cli.ts';
import type { CheckResult } from '../../adapters/doctor/check-result.ts';
import { createMosquittoHasher } from '../../adapters/mosquitto/password-hash.ts';
import { loadServiceAccount } from '../../adapters/mosquitto/service-account.ts';
import { createSecretStore } from '../../adapters/secrets/secret-store.ts';
import { createSqliteEventStore } from '../../adapters/sqlite/event-store.ts';
import { openDatabase } from '../../adapters/sqlite/open-database.ts';
import { renderAclFileFromState } from '../../projections/acl-file.ts';
import { renderPasswordFile } from '../../projections/password-file.ts';
import { requireMosquitto, startMosquitto, type Broker } from '../helpers/mosquitto.ts';
import { freePort } from '../helpers/ports.ts';
import { tempDir } from '../helpers/temp-dir.ts';

type Doctor = { code: number; stdout: string; stderr: string; checks: Map<string, CheckResult> };

const doctor = async (cwd: string, configFile: string): Promise<Doctor> => {
  let stdout = '';
  let stderr = '';
  const io = { stdout: (s: string) => { stdout += s; }, stderr: (s: string) => { stderr += s; }, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' }, cwd };
  const code = await runCli(['--config', configFile, 'doctor'], io, [doctorCommand]);
  // The same run as JSON, for the statuses.
  let json = '';
  await runCli(['--config', configFile, 'doctor', '--json'], { ...io, stdout: (s: string) => { json += s; } }, [doctorCommand]);
  const parsed = JSON.parse(json) as { ok: boolean; checks: CheckResult[] };
  assert.equal(parsed.ok, code === 0, 'exit status and "ok" agree');
  return { code, stdout, stderr, checks: new Map(parsed.checks.map((c) => [c.id, c])) };
};

type Setup = { cwd: string; dataDir: string; brokerDir: string; passwordFile: string; aclFile: string; pidFile: string; password: string };

/**
 * A data dir with a few events and MCM's service account, and the broker files rendered from it
 * as MCM renders them, in a directory the broker's user can read (reference §4).
 */
const setup = async (t: TestContext, opts: { withServiceAccountInFile?: boolean } = {}): Promise<Setup> => {
  const cwd = tempDir(t, 'mcm-doctor-');
  chmodSync(cwd, 0o755);
  const dataDir = join(cwd, 'data');
  const db = openDatabase(join(dataDir, 'mcm.db'));
  const store = createSqliteEventStore({ db });
  store.append([{ type: 'MqttUserCreated', data: { username: 'alice', passwordHash: '$7$101$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo', description: '', disabled: false } }],
    { actor: { kind: 'cli', id: 'test' }, at: '2026-01-01T00:00:00.000Z' });
  const state = store.state();
  db.close();
  const account = await loadServiceAccount({ secrets: createSecretStore(dataDir), hasher: createMosquittoHasher(), username: 'mcm-service' });
  const brokerDir = join(cwd, 'broker');
  mkdirSync(brokerDir, { mode: 0o755 });
  const passwordFile = join(brokerDir, 'passwd');
  const aclFile = join(brokerDir, 'acl');
  const sa = opts.withServiceAccountInFile === false ? { username: 'someone-else', passwordHash: account.passwordHash } : account;
  writeFileSync(passwordFile, renderPasswordFile(state, { serviceAccount: sa }), { mode: 0o644 });
  writeFileSync(aclFile, renderAclFileFromState(state, { serviceAccount: 'mcm-service', generation: state.generation }), { mode: 0o644 });
  return { cwd, dataDir, brokerDir, passwordFile, aclFile, pidFile: join(brokerDir, 'mosquitto.pid'), password: account.password };
};

const startBroker = (t: TestContext, bin: string, s: Setup): Promise<Broker> =>
  startMosquitto(t, bin, {
    dir: s.brokerDir,
    lines: ['allow_anonymous false', `password_file ${s.passwordFile}`, `acl_file ${s.aclFile}`, `pid_file ${s.pidFile}`],
  });

/** MCM's config for an external broker on `port`, reloaded by signal through the broker's pid file. */
const writeConfig = (s: Setup, port: number, extra = ''): string => {
  const file = join(s.cwd, 'mcm.yaml');
  writeFileSync(file, `data_dir: ${s.dataDir}
mqtt:
  host: 127.0.0.1
  port: ${port}
${extra}mosquitto:
  mode: external
  password_file: ${s.passwordFile}
  acl_file: ${s.aclFile}
  reload:
    strategy: signal
    pid_file: ${s.pidFile}
`);
  return file;
};

const statuses = (d: Doctor): Record<string, string> => Object.fromEntries([...d.checks].map(([id, c]) => [id, c.status]));

describe('mcm doctor', { concurrency: 2 }, () => {
  it('against a healthy external broker: every check passes (https skipped on loopback), exit 0', { timeout: 60_000 }, async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const s = await setup(t);
    const broker = await startBroker(t, bin, s);
    const d = await doctor(s.cwd, writeConfig(s, broker.port));
    assert.equal(d.code, 0, d.stdout);
    const st = statuses(d);
    assert.notEqual(st['free-space'], 'fail');
    assert.deepEqual({ ...st, 'free-space': 'pass' }, {
      config: 'pass', 'data-dir': 'pass', 'free-space': 'pass', database: 'pass', mosquitto: 'pass',
      'broker-files': 'pass', versions: 'pass', broker: 'pass', reload: 'pass', https: 'skip',
    });
    assert.match(d.checks.get('broker')!.detail, new RegExp(`tcp ok to 127\\.0\\.0\\.1:${broker.port}, MQTT CONNECT as "mcm-service" accepted`));
    assert.match(d.checks.get('reload')!.detail, new RegExp(`signal: pid ${broker.pid} \\(from .*mosquitto\\.pid\\) is alive`));
    assert.match(d.checks.get('database')!.detail, /integrity ok, hash chain intact \(1 event, head seq 1\)/);
    assert.match(d.checks.get('mosquitto')!.detail, /mosquitto 2\.\d+\.\d+ at /);
    // One line per check, then the verdict.
    const lines = d.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 11);
    assert.match(lines[0]!, /^ok {4}config {8}valid \(.*mcm\.yaml\)$/);
    assert.equal(lines.at(-1), 'no problems found');
  });

  it('against a stopped broker: the broker check fails naming the tcp phase, with the fix; the reload check fails too; exit 1', { timeout: 60_000 }, async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const s = await setup(t);
    const broker = await startBroker(t, bin, s);
    const config = writeConfig(s, broker.port);
    await broker.stop();
    const d = await doctor(s.cwd, config);
    assert.equal(d.code, 1);
    const b = d.checks.get('broker')!;
    assert.equal(b.status, 'fail');
    assert.equal(b.phase, 'tcp');
    assert.equal(b.detail, `tcp: cannot connect to 127.0.0.1:${broker.port}: ECONNREFUSED`);
    assert.match(b.hint!, /start the broker, or make mqtt\.host\/mqtt\.port \(MCM_MQTT_HOST\/MCM_MQTT_PORT\) match its listener/);
    assert.match(d.stdout, new RegExp(`^FAIL  broker +tcp: cannot connect to 127\\.0\\.0\\.1:${broker.port}: ECONNREFUSED — fix: start the broker`, 'm'));
    // mosquitto removes its pid file on a clean exit: nothing left to signal.
    assert.equal(d.checks.get('reload')!.status, 'fail');
    assert.match(d.checks.get('reload')!.detail, /signal: cannot read the pid file .*mosquitto\.pid: ENOENT/);
    assert.equal(d.checks.get('database')!.status, 'pass');
    assert.match(d.stdout, /2 checks failed\n$/);
  });

  it('a broker that does not know the service account: the mqtt phase fails with the CONNACK reason', { timeout: 60_000 }, async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const s = await setup(t, { withServiceAccountInFile: false });
    const broker = await startBroker(t, bin, s);
    const d = await doctor(s.cwd, writeConfig(s, broker.port));
    assert.equal(d.code, 1);
    const b = d.checks.get('broker')!;
    assert.equal(b.phase, 'mqtt');
    assert.match(b.detail, /mqtt: 127\.0\.0\.1:\d+ refused MCM's service account "mcm-service": CONNACK 13[45] \((bad user name or password|not authorized)\)/);
    assert.match(b.hint!, /password_file/);
  });

  it('mqtt.tls.enabled against a plain listener: the tls phase fails', { timeout: 60_000 }, async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const s = await setup(t);
    const broker = await startBroker(t, bin, s);
    const d = await doctor(s.cwd, writeConfig(s, broker.port, '  tls:\n    enabled: true\n'));
    const b = d.checks.get('broker')!;
    assert.equal(b.status, 'fail');
    assert.equal(b.phase, 'tls');
    assert.match(b.detail, /^tls: handshake with 127\.0\.0\.1:\d+ failed: /);
  });

  it('an invalid configuration: only the config check, failing with every problem, exit 1', async (t) => {
    const cwd = tempDir(t);
    const file = join(cwd, 'bad.yaml');
    writeFileSync(file, 'mqtt:\n  port: 0\nnot_a_key: 1\n');
    const d = await doctor(cwd, file);
    assert.equal(d.code, 1);
    assert.deepEqual([...d.checks.keys()], ['config']);
    const c = d.checks.get('config')!;
    assert.equal(c.status, 'fail');
    assert.match(c.detail, /\/mqtt\/port/);
    assert.match(c.detail, /not_a_key: unknown key/);
    assert.match(c.hint!, /mcm config validate/);
  });

  it('bad arguments: message and usage on stderr, exit 64; --help lists the checks and exit codes', async (t) => {
    const cwd = tempDir(t);
    const run = async (args: string[]) => {
      let stdout = '';
      let stderr = '';
      const code = await runCli(args, { stdout: (s) => { stdout += s; }, stderr: (s) => { stderr += s; }, env: {}, cwd }, [doctorCommand]);
      return { code, stdout, stderr };
    };
    for (const args of [['doctor', 'extra'], ['doctor', '--verbose'], ['doctor', '--json=yes']]) {
      const r = await run(args);
      assert.equal(r.code, 64, args.join(' '));
      assert.match(r.stderr, /^mcm: .+\n\nUsage: mcm doctor/, args.join(' '));
    }
    const help = await run(['doctor', '--help']);
    assert.equal(help.code, 0);
    for (const id of ['config', 'data-dir', 'free-space', 'database', 'mosquitto', 'broker-files', 'versions', 'broker', 'reload', 'https']) {
      assert.match(help.stdout, new RegExp(`^  ${id} `, 'm'), id);
    }
    assert.match(help.stdout, /Exit status: 0 no check failed \(warnings allowed\); 1 a check failed; 64 bad arguments/);
  });

  it('never creates anything in a data dir that has no service account yet: the mqtt phase is not tried (warning)', { timeout: 60_000 }, async (t) => {
    const port = await freePort();
    const cwd = tempDir(t);
    const dataDir = join(cwd, 'fresh');
    const file = join(cwd, 'mcm.yaml');
    writeFileSync(file, `data_dir: ${dataDir}\nmqtt:\n  port: ${port}\nmosquitto:\n  mode: external\n  reload:\n    strategy: none\n`);
    const d = await doctor(cwd, file);
    assert.equal(d.checks.get('data-dir')!.status, 'pass');
    assert.match(d.checks.get('data-dir')!.detail, /does not exist yet; MCM creates it at first start/);
    assert.match(d.checks.get('database')!.detail, /no event log .* yet/);
    assert.equal(d.checks.get('reload')!.status, 'warn');
    assert.equal(d.checks.get('broker')!.phase, 'tcp');
    assert.equal(existsSync(dataDir), false);
  });
});
