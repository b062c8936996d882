/**
 * `mcm import --conf` imports the broker configuration too (issue "Broker configuration as
 * events"): a hand-made mosquitto.conf with a plain listener, a websockets listener on `lo`, a TLS
 * listener, options, a bridge with a password and topic lines, and a line MCM does not manage.
 * After the import the state holds all of it, the certificates are stored in secrets/ with their
 * facts in the log, the bridge password is in secrets/ and nowhere in the event log, and the
 * unmanaged line is in the passthrough, flagged in the plan. A bad conf changes nothing.
 * POST /import takes the same conf with the files it names in conf_files, and refuses without them.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import type { EventEnvelope } from '../../core/events.ts';
import { acquireServerLock } from '../../adapters/cli/server-lock.ts';
import { createCertStore } from '../../adapters/certs/cert-store.ts';
import { issueCliToken } from '../../adapters/http/auth/cli-token.ts';
import type { ApplyStatus } from '../../adapters/http/deps.ts';
import { createBridgePasswords } from '../../adapters/secrets/bridge-passwords.ts';
import { createSecretStore } from '../../adapters/secrets/secret-store.ts';
import { createSqliteEventStore } from '../../adapters/sqlite/event-store.ts';
import { openDatabase } from '../../adapters/sqlite/open-database.ts';
import type { BrokerConfig } from '../../core/state.ts';
import { HASH_A, HASH_B } from '../helpers/decider-spec.ts';
import { runMcm, type CliRun } from '../helpers/cli.ts';
import { createTestApp } from '../helpers/http.ts';
import { makeCa, makeCert, type PkiFiles } from '../helpers/pki.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const PASSWD = `alice:${HASH_A}\nbob:${HASH_B}\n`;
const ACL = 'user alice\ntopic readwrite alice/#\n';
const BRIDGE_PASSWORD = 'Br1dge-Secret-Pw';

const CONF = [
  '# the plant broker',
  'per_listener_settings false',
  'allow_anonymous false',
  'password_file passwd',
  'acl_file acl',
  '',
  'listener 1883',
  'listener 9001 lo',
  'protocol websockets',
  'listener 8883',
  'certfile certs/localhost.crt',
  'keyfile certs/localhost.key',
  'cafile certs/plant-ca.crt',
  'require_certificate true',
  '',
  'persistence true',
  'autosave_interval 900',
  'max_queued_messages 5000',
  'log_type error',
  'log_type warning',
  'log_type notice',
  '',
  'connection edge',
  'address remote.example.com:8883',
  'remote_username plant-1',
  `remote_password ${BRIDGE_PASSWORD}`,
  'bridge_cafile certs/plant-ca.crt',
  'topic sensors/# out 1',
  'topic cmd/# in 0 "" site-1/',
  '',
  'frobnicate_widgets 7',
  '',
].join('\n');
const PASSTHROUGH_LINE = 31;

type World = {
  cwd: string;
  dataDir: string;
  pki: { ca: PkiFiles; server: PkiFiles };
  run(...args: string[]): Promise<CliRun>;
  events(): EventEnvelope[];
  state(): BrokerConfig;
  /** Every byte MCM wrote outside secrets/ (the event log, its WAL), as latin1 text. */
  loggedBytes(): string;
};

const world = (t: TestContext, conf = CONF): World => {
  const cwd = tempDir(t);
  const certs = join(cwd, 'certs');
  const ca = makeCa(certs, 'Plant CA');
  const server = makeCert(certs, { ca, cn: 'localhost' });
  writeFileSync(join(cwd, 'passwd'), PASSWD);
  writeFileSync(join(cwd, 'acl'), ACL);
  writeFileSync(join(cwd, 'mosquitto.conf'), conf);
  const dataDir = join(cwd, 'data');
  const env = { MCM_DATA_DIR: dataDir, MCM_MOSQUITTO_MODE: 'external' };
  const withStore = <T>(fn: (s: ReturnType<typeof createSqliteEventStore>) => T, empty: T): T => {
    if (!existsSync(join(dataDir, 'mcm.db'))) return empty;
    const db = openDatabase(join(dataDir, 'mcm.db'));
    try { return fn(createSqliteEventStore({ db, snapshotEvery: 0 })); } finally { db.close(); }
  };
  return {
    cwd, dataDir, pki: { ca, server },
    run: (...args) => runMcm(args, { cwd, env }),
    events: () => withStore((s) => s.read(), []),
    state: () => withStore((s) => s.state(), null as unknown as BrokerConfig),
    loggedBytes: () => (existsSync(dataDir)
      ? readdirSync(dataDir).filter((n) => n !== 'secrets').map((n) => { try { return readFileSync(join(dataDir, n)).toString('latin1'); } catch { return ''; } }).join('\n')
      : ''),
  };
};

describe('mcm import --conf with listeners, TLS, options, a bridge and an unmanaged line', () => {
  it('--plan shows the broker configuration, the certificates and the passthrough line (flagged), and writes nothing', async (t) => {
    const w = world(t);
    const r = await w.run('import', '--conf', 'mosquitto.conf', '--plan');
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stdout, /broker configuration \(from mosquitto\.conf\):\n  listeners \(3\):\n    mqtt-1883: port 1883 mqtt on every interface\n    ws-9001: port 9001 websockets on interface lo\n    tls-8883: port 8883 mqtt on every interface, TLS tls-8883-cert \(from tlsv1\.2, CA tls-8883-ca, client certificates required\)\n/);
    assert.match(r.stdout, /  options: autosave_interval 900, log_type error warning notice, max_queued_messages 5000, persistence true\n/);
    assert.match(r.stdout, /    edge → remote\.example\.com:8883 \(2 topics, user plant-1 with password, TLS CA tls-8883-ca\)\n/);
    assert.match(r.stdout, /    tls-8883-cert: CN=localhost, until \d{4}-\d\d-\d\d, with its key\n    tls-8883-ca: CA CN=Plant CA/);
    assert.match(r.stdout, /  passthrough \(1, not managed by MCM: kept verbatim at the end of mosquitto\.conf\):\n    frobnicate_widgets 7\n/);
    assert.match(r.stdout, new RegExp(`mosquitto_conf:${PASSTHROUGH_LINE} +passthrough: frobnicate_widgets is not a Mosquitto 2\\.0/2\\.1 directive MCM knows`));
    assert.match(r.stdout, /\+ passthrough frobnicate_widgets 7 \(line 31\)/);
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(BRIDGE_PASSWORD));
    assert.equal(existsSync(w.dataDir), false, 'planning writes nothing, not even secrets');

    const json = await w.run('import', '--conf', 'mosquitto.conf', '--plan', '--json');
    const plan = JSON.parse(json.stdout);
    assert.equal(plan.broker_config.changes, true);
    assert.equal(plan.broker_config.config.bridges[0].remotePasswordRef, 'bridge-pw.pending');
    assert.deepEqual(plan.broker_config.config.passthrough, ['frobnicate_widgets 7']);
    assert.ok(plan.warnings.some((x: { code: string; line: number }) => x.code === 'passthrough' && x.line === PASSTHROUGH_LINE));
    assert.doesNotMatch(json.stdout, new RegExp(BRIDGE_PASSWORD));
  });

  it('--yes records listeners, options, bridge and certificates in one batch; secrets stay in secrets/; a second --plan exits 0', async (t) => {
    const w = world(t);
    const r = await w.run('import', '--conf', 'mosquitto.conf', '--yes');
    assert.equal(r.code, 0, r.stderr);

    const s = w.state();
    const config = s.brokerConfig;
    assert.deepEqual(config?.listeners.map((l) => [l.name, l.port, l.protocol, l.address, l.bindInterface]), [
      ['mqtt-1883', 1883, 'mqtt', null, null], ['ws-9001', 9001, 'websockets', null, 'lo'], ['tls-8883', 8883, 'mqtt', null, null],
    ]);
    assert.deepEqual(config?.listeners[2]?.tls, { certificate: 'tls-8883-cert', ca: 'tls-8883-ca', minVersion: 'tlsv1.2', requireCertificate: true, useIdentityAsUsername: false });
    assert.deepEqual(config?.options, { autosave_interval: 900, log_type: ['error', 'warning', 'notice'], max_queued_messages: 5000, persistence: true });
    assert.deepEqual(config?.passthrough, ['frobnicate_widgets 7']);
    const bridge = config?.bridges[0];
    assert.equal(bridge?.name, 'edge');
    assert.deepEqual(bridge?.addresses, [{ host: 'remote.example.com', port: 8883 }]);
    assert.deepEqual(bridge?.topics, [
      { pattern: 'sensors/#', direction: 'out', qos: 1, localPrefix: '', remotePrefix: '' },
      { pattern: 'cmd/#', direction: 'in', qos: 0, localPrefix: '', remotePrefix: 'site-1/' },
    ]);
    assert.deepEqual(bridge?.tls, { ca: 'tls-8883-ca', certificate: null, version: null });
    assert.match(bridge?.remotePasswordRef ?? '', /^bridge-pw\.[0-9a-f]{16}$/);

    const secrets = createSecretStore(w.dataDir);
    assert.equal(createBridgePasswords(secrets).read(bridge?.remotePasswordRef ?? ''), BRIDGE_PASSWORD);
    const stored = createCertStore(secrets).read('tls-8883-cert');
    assert.match(stored?.cert ?? '', /-----BEGIN CERTIFICATE-----/);
    assert.match(stored?.key ?? '', /-----BEGIN PRIVATE KEY-----/);
    assert.equal(createCertStore(secrets).read('tls-8883-ca')?.key, null);
    assert.deepEqual(Object.keys(s.certificates ?? {}).sort(), ['tls-8883-ca', 'tls-8883-cert']);
    assert.equal(s.certificates?.['tls-8883-ca']?.isCa, true);
    assert.equal(s.certificates?.['tls-8883-cert']?.hasKey, true);
    assert.equal(s.users['alice']?.passwordHash, HASH_A, 'the users came in the same import');

    const events = w.events();
    assert.deepEqual(events.filter((e) => e.type === 'CertificateAdded' || e.type === 'BrokerConfigChanged').map((e) => e.type), ['CertificateAdded', 'CertificateAdded', 'BrokerConfigChanged']);
    assert.equal(events.at(-1)?.type, 'BrokerFilesAdopted', 'the adoption record ends the batch');
    for (const e of events) assert.equal(e.actor.kind, 'import');
    assert.doesNotMatch(JSON.stringify(events), new RegExp(BRIDGE_PASSWORD), 'no plaintext bridge password in any event');
    assert.doesNotMatch(JSON.stringify(events), /PRIVATE KEY/);
    assert.doesNotMatch(w.loggedBytes(), new RegExp(BRIDGE_PASSWORD), 'nor anywhere in the database files');

    const list = await w.run('events', 'list', '--json');
    assert.equal(list.code, 0, list.stderr);
    assert.doesNotMatch(list.stdout, new RegExp(BRIDGE_PASSWORD));

    const again = await w.run('import', '--conf', 'mosquitto.conf', '--plan');
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /no change: MCM's broker configuration is this already/);
    assert.match(again.stdout, /nothing to import/);
  });

  it('refuses a conf the broker or MCM cannot take, naming each line, and changes nothing', async (t) => {
    const bad = CONF.replace('listener 1883', 'listener 0').replace('protocol websockets', 'protocol mqttsn').replace('require_certificate true', 'mount_point plant/');
    const w = world(t, bad);
    const r = await w.run('import', '--conf', 'mosquitto.conf', '--yes');
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /^mcm import: /);
    assert.match(r.stderr, /\n  mosquitto_conf:7  invalid listener port "0"/);
    assert.match(r.stderr, /\n  mosquitto_conf:9  protocol "mqttsn" on listener 9001: MCM manages mqtt and websockets listeners/);
    assert.match(r.stderr, /\n  mosquitto_conf:14  mount_point on listener 8883 is not managed by MCM/);
    assert.deepEqual(w.events(), []);
    assert.equal(existsSync(join(w.dataDir, 'secrets')), false);
  });

  it('refuses an expired certificate on the line that names it, and changes nothing', async (t) => {
    const w = world(t);
    makeCert(join(w.cwd, 'certs'), { ca: w.pki.ca, cn: 'old', notBefore: '2020-01-01T00:00:00Z', notAfter: '2020-01-02T00:00:00Z' });
    writeFileSync(join(w.cwd, 'mosquitto.conf'), CONF.replace('certfile certs/localhost.crt', 'certfile certs/old.crt').replace('keyfile certs/localhost.key', 'keyfile certs/old.key'));
    const r = await w.run('import', '--conf', 'mosquitto.conf', '--plan');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\n  mosquitto_conf:11  certs\/old\.crt with key certs\/old\.key: the certificate expired on 2020-01-02/);
    const missing = world(t, CONF.replace('keyfile certs/localhost.key', 'keyfile certs/nope.key'));
    const m = await missing.run('import', '--conf', 'mosquitto.conf', '--plan');
    assert.equal(m.code, 1);
    assert.match(m.stderr, /\n  mosquitto_conf:12  cannot read .*certs\/nope\.key: no such file/);
  });
});

describe('POST /api/v1/import with a mosquitto_conf', () => {
  it('refuses a conf with TLS whose files were not sent, naming them; with conf_files it plans and applies', async (t) => {
    const w = world(t);
    const h = await createTestApp(t);
    const token = await h.tokenFor('admin');
    const base = { password_file: PASSWD, acl_file: ACL, mosquitto_conf: CONF };
    const refused = await h.request('POST', '/api/v1/import', { token, body: { mode: 'plan', ...base } });
    assert.equal(refused.status, 400, refused.text);
    assert.equal(refused.body.error.code, 'MCM_ERR_IMPORT_INVALID');
    assert.deepEqual(refused.body.error.details.map((d: { line: number }) => d.line), [11, 12, 13]);
    assert.match(refused.body.error.details[0].message, /certs\/localhost\.crt was not sent: the server never reads files a posted mosquitto\.conf names/);

    const confFiles = {
      'certs/localhost.crt': w.pki.server.certPem, 'certs/localhost.key': w.pki.server.keyPem, 'certs/plant-ca.crt': w.pki.ca.certPem,
    };
    const plan = await h.request('POST', '/api/v1/import', { token, body: { mode: 'plan', ...base, conf_files: confFiles } });
    assert.equal(plan.status, 200, plan.text);
    assert.equal(plan.body.broker_config.changes, true);
    assert.deepEqual(plan.body.broker_config.config.listeners.map((l: { name: string }) => l.name), ['mqtt-1883', 'ws-9001', 'tls-8883']);
    assert.ok(plan.body.warnings.some((x: { code: string }) => x.code === 'broker_config_not_rendered'), 'external mode: recorded, rendered once supervised');

    const applied = await h.request('POST', '/api/v1/import', { token, body: { mode: 'apply', ...base, conf_files: confFiles, expected_seq: plan.body.seq } });
    assert.equal(applied.status, 200, applied.text);
    const ref = h.store.state().brokerConfig?.bridges[0]?.remotePasswordRef ?? '';
    assert.equal(createBridgePasswords(h.deps.secrets).read(ref), BRIDGE_PASSWORD);
    assert.equal(createCertStore(h.deps.secrets).read('tls-8883-cert')?.cert.includes('BEGIN CERTIFICATE'), true);
    assert.doesNotMatch(JSON.stringify(h.store.read()), new RegExp(BRIDGE_PASSWORD));
  });
});

describe('mcm import --conf through a running server', () => {
  it('sends the included confs and TLS files with the conf, and the server plans with them (it reads no path itself)', async (t) => {
    const status = (): ApplyStatus => ({
      desired_seq: 0, applied_seq: 0, state: 'applied', last: null, broker: { mode: 'external', up: true, version: '2.0.11' },
    });
    const h = await createTestApp(t, { users: false, deps: { apply: { status, retry: async () => status() } } });
    const lock = acquireServerLock(h.dataDir, { pid: process.pid, url: h.baseUrl });
    t.after(() => lock.release());
    issueCliToken(h.deps.secrets);
    const w = world(t, CONF.replace('frobnicate_widgets 7', 'include_dir conf.d'));
    mkdirSync(join(w.cwd, 'conf.d'));
    writeFileSync(join(w.cwd, 'conf.d', 'limits.conf'), 'max_inflight_messages 40\n');
    const r = await runMcm(['import', '--conf', 'mosquitto.conf', '--plan', '--json'], { cwd: w.cwd, env: { MCM_DATA_DIR: h.dataDir } });
    assert.equal(r.code, 2, r.stderr);
    const plan = JSON.parse(r.stdout);
    assert.equal(plan.broker_config.config.options.max_inflight_messages, 40);
    assert.equal(plan.broker_config.certificates.length, 2);
    assert.equal(h.eventCount(), 0);
  });
});
