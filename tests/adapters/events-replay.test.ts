import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import type { DomainEvent } from '../../core/events.ts';
import { fold } from '../../core/evolve.ts';
import { eventsCommand } from '../../adapters/cli/commands/events.ts';
import { runCli } from '../../adapters/cli/run-cli.ts';
import { createMosquittoHasher } from '../../adapters/mosquitto/password-hash.ts';
import { loadServiceAccount } from '../../adapters/mosquitto/service-account.ts';
import { createSecretStore } from '../../adapters/secrets/secret-store.ts';
import { createSqliteEventStore } from '../../adapters/sqlite/event-store.ts';
import { openDatabase } from '../../adapters/sqlite/open-database.ts';
import { renderAclFileFromState } from '../../projections/acl-file.ts';
import { renderPasswordFile } from '../../projections/password-file.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const mcm = async (args: string[], opts: { cwd: string; dataDir?: string }): Promise<{ code: number; stdout: string; stderr: string }> => {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['events', 'replay', ...args], {
    stdout: (s) => { stdout += s; },
    stderr: (s) => { stderr += s; },
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', MCM_MOSQUITTO_MODE: 'external', ...(opts.dataDir ? { MCM_DATA_DIR: opts.dataDir } : {}) },
    cwd: opts.cwd,
  }, [eventsCommand]);
  return { code, stdout, stderr };
};

const ALICE = '$7$101$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo';
const BOB = '$7$101$Ym9ic2FsdGJvYnNhbHQ=$Ym9iaGFzaGJvYmhhc2g=';
const EVENTS: DomainEvent[] = [
  /* 1 */ { type: 'MqttUserCreated', data: { username: 'alice', passwordHash: ALICE, description: 'sensor', disabled: false } },
  /* 2 */ { type: 'AclRuleAdded', data: { id: 1, principal: 'user:alice', topic: 'plant/+/temp', access: 'write', description: '' } },
  /* 3 */ { type: 'AdminUserCreated', data: { username: 'root', passwordHash: '$2b$12$adminbcrypthashadminbcrypthashadminbcrypthash', role: 'admin' } },
  /* 4 */ { type: 'MfaEnrolmentStarted', data: { username: 'root', secretCiphertext: 'v1.ciphertext.of.totp', recoveryCodeHashes: ['$2b$12$code1', '$2b$12$code2'] } },
  /* 5 */ { type: 'MqttUserCreated', data: { username: 'bob', passwordHash: BOB, description: '', disabled: false } },
  /* 6 */ { type: 'MqttUserDisabled', data: { username: 'alice' } },
  /* 7 */ { type: 'MfaEnabled', data: { username: 'root' } },
  /* 8 */ { type: 'WebhookCreated', data: { id: 1, url: 'https://hooks.example/mcm', events: ['apply.failed'], secretCiphertext: 'v1.webhook.ciphertext', enabled: true, description: '' } },
  /* 9 */ { type: 'MfaEnrolmentStarted', data: { username: 'root', secretCiphertext: 'v1.pending.ciphertext', recoveryCodeHashes: ['$2b$12$pend1'] } },
];

/** A data dir holding EVENTS (one per seq) and, unless told otherwise, a service account. */
const dataDirWith = async (t: TestContext, opts: { serviceAccount?: boolean } = {}) => {
  const cwd = tempDir(t, 'mcm-replay-');
  const dataDir = join(cwd, 'data');
  const db = openDatabase(join(dataDir, 'mcm.db'));
  const store = createSqliteEventStore({ db });
  EVENTS.forEach((e, i) => store.append([e], { actor: { kind: 'cli', id: 'test' }, at: `2026-01-01T00:00:0${i}.000Z` }));
  const envelopes = store.read();
  db.close();
  const account = opts.serviceAccount === false
    ? null
    : await loadServiceAccount({ secrets: createSecretStore(dataDir), hasher: createMosquittoHasher(), username: 'mcm-service' });
  return { cwd, dataDir, envelopes, account };
};

describe('mcm events replay', { concurrency: 4 }, () => {
  it('writes password_file and acl_file exactly as rendered from the state folded up to SEQ [DESIGN §4 time travel]', async (t) => {
    const { cwd, dataDir, envelopes, account } = await dataDirWith(t);
    for (const seq of [0, 2, 5, 6]) {
      const out = join(cwd, `at-${seq}`);
      const r = await mcm(['--to', String(seq), '--out', out], { cwd, dataDir });
      assert.equal(r.code, 0, r.stderr);
      const state = fold(envelopes.filter((e) => e.seq <= seq));
      const sa = { username: 'mcm-service', passwordHash: account!.passwordHash };
      assert.equal(readFileSync(join(out, 'password_file'), 'utf8'), renderPasswordFile(state, { serviceAccount: sa }), `password_file at ${seq}`);
      assert.equal(readFileSync(join(out, 'acl_file'), 'utf8'), renderAclFileFromState(state, { serviceAccount: 'mcm-service', generation: state.generation }), `acl_file at ${seq}`);
      assert.match(r.stdout, new RegExp(`up to seq ${seq} \\(generation ${state.generation}\\)`));
    }
    // Spot checks of what those renders mean: alice is in the file until she is disabled at seq 6.
    assert.match(readFileSync(join(cwd, 'at-5', 'password_file'), 'utf8'), /^alice:\$7\$/m);
    assert.doesNotMatch(readFileSync(join(cwd, 'at-6', 'password_file'), 'utf8'), /^alice:/m);
    assert.match(readFileSync(join(cwd, 'at-2', 'acl_file'), 'utf8'), /^# generation 2$/m);
    assert.match(readFileSync(join(cwd, 'at-2', 'acl_file'), 'utf8'), /^user alice\ntopic write plant\/\+\/temp$/m);
    // Admin and MFA events do not move the generation (DESIGN §6).
    assert.match(readFileSync(join(cwd, 'at-5', 'acl_file'), 'utf8'), /^# generation 5$/m);
    assert.equal(readFileSync(join(cwd, 'at-0', 'password_file'), 'utf8'), `mcm-service:${account!.passwordHash}\n`);
  });

  it('state.json redacts admin password hashes and a pending MFA enrolment but keeps the MQTT $7$ hashes', async (t) => {
    const { cwd, dataDir } = await dataDirWith(t);
    const out = join(cwd, 'out');
    assert.equal((await mcm(['--to', '5', '--out', out], { cwd, dataDir })).code, 0);
    const text = readFileSync(join(out, 'state.json'), 'utf8');
    const state = JSON.parse(text) as {
      seq: number;
      users: Record<string, { passwordHash: string }>;
      adminUsers: Record<string, { passwordHash: string; mfa: { secretCiphertext: string | null; recoveryCodeHashes: string[]; pending: { secretCiphertext: string; recoveryCodeHashes: string[] } } }>;
    };
    assert.equal(state.seq, 5);
    assert.equal(state.users['alice']?.passwordHash, ALICE);
    assert.equal(state.users['bob']?.passwordHash, BOB);
    const root = state.adminUsers['root'];
    assert.equal(root?.passwordHash, '[redacted]');
    // Started, not verified: the secret is only staged, and "no active secret" stays visible as null.
    assert.equal(root?.mfa.secretCiphertext, null);
    assert.deepEqual(root?.mfa.pending, { secretCiphertext: '[redacted]', recoveryCodeHashes: ['[redacted]', '[redacted]'] });
    for (const secret of ['$2b$12$admin', 'v1.ciphertext', '$2b$12$code']) assert.ok(!text.includes(secret), secret);
  });

  it('state.json redacts the active TOTP secret, a re-enrolment in progress and webhook signing secrets', async (t) => {
    const { cwd, dataDir } = await dataDirWith(t);
    const out = join(cwd, 'out');
    assert.equal((await mcm(['--to', '9', '--out', out], { cwd, dataDir })).code, 0);
    const text = readFileSync(join(out, 'state.json'), 'utf8');
    const state = JSON.parse(text) as {
      settings: { hashIterations: number };
      adminUsers: Record<string, { mfa: { enabled: boolean; secretCiphertext: string; recoveryCodeHashes: string[]; pending: { secretCiphertext: string; recoveryCodeHashes: string[] } } }>;
      webhooks: Record<string, { url: string; secretCiphertext: string }>;
    };
    const mfa = state.adminUsers['root']?.mfa;
    assert.equal(mfa?.enabled, true);
    assert.equal(mfa?.secretCiphertext, '[redacted]');
    assert.deepEqual(mfa?.recoveryCodeHashes, ['[redacted]', '[redacted]']);
    assert.deepEqual(mfa?.pending, { secretCiphertext: '[redacted]', recoveryCodeHashes: ['[redacted]'] });
    assert.equal(state.webhooks['1']?.url, 'https://hooks.example/mcm');
    assert.equal(state.webhooks['1']?.secretCiphertext, '[redacted]');
    // Not a secret, though its name says "hash": the setting stays a number.
    assert.equal(typeof state.settings.hashIterations, 'number');
    for (const secret of ['v1.ciphertext', 'v1.pending', 'v1.webhook', '$2b$12$']) assert.ok(!text.includes(secret), secret);
  });

  it('the files hold hashes: DIR is created 0700 and the files 0600', async (t) => {
    const { cwd, dataDir } = await dataDirWith(t);
    const out = join(cwd, 'deep', 'out');
    assert.equal((await mcm(['--to', '1', '--out', out], { cwd, dataDir })).code, 0);
    assert.equal(statSync(out).mode & 0o777, 0o700);
    for (const f of ['password_file', 'acl_file', 'state.json']) assert.equal(statSync(join(out, f)).mode & 0o777, 0o600, f);
  });

  it('before the server created the service account: no line for it, a note says so, and nothing is created in the data dir', async (t) => {
    const { cwd, dataDir } = await dataDirWith(t, { serviceAccount: false });
    const out = join(cwd, 'out');
    const r = await mcm(['--to', '5', '--out', out], { cwd, dataDir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /note: no service account in .*secrets yet .*password_file has no line for "mcm-service"/);
    assert.equal(readFileSync(join(out, 'password_file'), 'utf8'), `alice:${ALICE}\nbob:${BOB}\n`);
    assert.match(readFileSync(join(out, 'acl_file'), 'utf8'), /^user mcm-service$/m);
    assert.equal(existsSync(join(dataDir, 'secrets')), false);
  });

  it('refuses to overwrite the files in DIR without --force (exit 1); --force replaces them', async (t) => {
    const { cwd, dataDir } = await dataDirWith(t);
    const out = join(cwd, 'out');
    mkdirSync(out);
    writeFileSync(join(out, 'acl_file'), 'mine');
    const r = await mcm(['--to', '2', '--out', out], { cwd, dataDir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /acl_file already exists; not overwriting \(use --force\)/);
    assert.deepEqual(readdirSync(out), ['acl_file']);
    assert.equal((await mcm(['--to', '2', '--out', out, '--force'], { cwd, dataDir })).code, 0);
    assert.match(readFileSync(join(out, 'acl_file'), 'utf8'), /^# generation 2$/m);
  });

  it('a seq beyond the end of the log, or no event log at all: a clear message, exit 1, nothing written', async (t) => {
    const { cwd, dataDir } = await dataDirWith(t);
    const beyond = await mcm(['--to', '10', '--out', join(cwd, 'x')], { cwd, dataDir });
    assert.equal(beyond.code, 1);
    assert.match(beyond.stderr, /seq 10 is beyond the end of the event log \(head seq 9\)/);
    assert.equal(existsSync(join(cwd, 'x')), false);
    const none = await mcm(['--to', '1', '--out', join(cwd, 'y')], { cwd, dataDir: join(cwd, 'empty') });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no event log at .*empty\/mcm\.db/);
    assert.equal(existsSync(join(cwd, 'empty')), false);
  });

  it('bad arguments: message and usage on stderr, exit 64', async (t) => {
    const cwd = tempDir(t);
    const cases: [string[], RegExp][] = [
      [['--out', 'x'], /--to SEQ is required/],
      [['--to', '1'], /--out DIR is required/],
      [['--to', 'abc', '--out', 'x'], /--to must be an integer >= 0, got "abc"/],
      [['--to', '1.5', '--out', 'x'], /--to must be an integer >= 0/],
      [['--to=-1', '--out', 'x'], /--to must be an integer >= 0, got "-1"/],
      [['--to', '1', '--out', 'x', 'extra'], /unexpected argument "extra"/],
      [['--to', '1', '--out', 'x', '--nope'], /Unknown option '--nope'/],
    ];
    for (const [args, message] of cases) {
      const r = await mcm(args, { cwd, dataDir: join(cwd, 'data') });
      assert.equal(r.code, 64, args.join(' '));
      assert.match(r.stderr, message, args.join(' '));
      assert.match(r.stderr, /\n\nUsage: mcm events replay --to SEQ --out DIR/, args.join(' '));
    }
  });

  it('is listed in `mcm events --help` and documents its files and exit codes', async (t) => {
    const cwd = tempDir(t);
    let out = '';
    await runCli(['events', '--help'], { stdout: (s) => { out += s; }, stderr: () => {}, env: {}, cwd }, [eventsCommand]);
    assert.match(out, /^ {2}replay +write the broker files and state as of a seq/m);
    const help = await mcm(['--help'], { cwd });
    assert.equal(help.code, 0);
    assert.match(help.stdout, /password_file .*\n.*acl_file .*\n.*state\.json/s);
    assert.match(help.stdout, /Exit status: 0 written; 1 .*64 bad arguments/s);
  });
});
