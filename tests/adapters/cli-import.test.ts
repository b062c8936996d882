/**
 * `mcm import` as an operator runs it (bin/mcm in a child process; issue "Adopt an existing
 * Mosquitto"): --plan exit codes (0 nothing, 2 changes, 1 invalid files with line numbers),
 * --yes on a data dir (created when missing) and through a running server, a second --plan
 * after an import exits 0, --conf with include_dir and 2.1's plugin form, --json, 64 for bad
 * arguments. One ImportBrokerFiles batch with actor {kind: import, id: files:<paths>}.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import type { EventEnvelope } from '../../core/events.ts';
import { acquireServerLock } from '../../adapters/cli/server-lock.ts';
import { issueCliToken } from '../../adapters/http/auth/cli-token.ts';
import type { ApplyStatus } from '../../adapters/http/deps.ts';
import { createSqliteEventStore } from '../../adapters/sqlite/event-store.ts';
import { openDatabase } from '../../adapters/sqlite/open-database.ts';
import { HASH_A, HASH_B } from '../helpers/decider-spec.ts';
import { runMcm, type CliRun } from '../helpers/cli.ts';
import { createTestApp } from '../helpers/http.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const PASSWD = `alice:${HASH_A}\nbob:${HASH_B}\n`;
const ACL = 'topic read public/#\n\nuser alice\ntopic readwrite alice/#\n\nuser bob\ntopic read bob/+\n';

/** A cwd with the broker's files and an empty data dir path; external mode (no binary version asked). */
const world = (t: TestContext, files: Record<string, string> = { passwd: PASSWD, acl: ACL }) => {
  const cwd = tempDir(t);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(cwd, name, '..'), { recursive: true });
    writeFileSync(join(cwd, name), text);
  }
  const dataDir = join(cwd, 'data');
  const env = { MCM_DATA_DIR: dataDir, MCM_MOSQUITTO_MODE: 'external' };
  const run = (...args: string[]): Promise<CliRun> => runMcm(args, { cwd, env });
  const events = (): EventEnvelope[] => {
    if (!existsSync(join(dataDir, 'mcm.db'))) return [];
    const db = openDatabase(join(dataDir, 'mcm.db'));
    try { return createSqliteEventStore({ db, snapshotEvery: 0 }).read(); } finally { db.close(); }
  };
  return { cwd, dataDir, run, events };
};

describe('mcm import --plan', () => {
  it('exits 2 and prints counts, differences and warnings when the files would change MCM; nothing is written', async (t) => {
    const w = world(t);
    const r = await w.run('import', '--password-file', 'passwd', '--acl-file', 'acl', '--plan');
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stdout, /^import plan \(on seq 0; broker version unknown: judged for both 2\.0 and 2\.1\)\n/);
    assert.match(r.stdout, new RegExp(`  password_file: ${join(w.cwd, 'passwd')}  sha256 [0-9a-f]{16}…  to adopt\n`));
    assert.match(r.stdout, /in the files: 2 users, 3 ACL rules\n/);
    assert.match(r.stdout, /  users: 2 created\n/);
    assert.match(r.stdout, /\+ user alice/);
    assert.match(r.stdout, /adopt: password_file, acl_file/);
    assert.equal(existsSync(join(w.dataDir, 'mcm.db')), false, 'planning creates no event log');
  });

  it('exits 1 on a malformed line, naming the file and line; nothing is written', async (t) => {
    const w = world(t, { passwd: `alice:${HASH_A}\nbob:plaintext-password\n`, acl: ACL });
    const r = await w.run('import', '--password-file', 'passwd', '--acl-file', 'acl', '--plan');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^mcm import: /);
    assert.match(r.stderr, /\n  password_file:2  /);
    assert.equal(r.stdout, '');
    assert.equal(existsSync(join(w.dataDir, 'mcm.db')), false);
    const tab = world(t, { passwd: PASSWD, acl: 'user alice\ntopic\tread alice/#\n' });
    const bad = await tab.run('import', '--password-file', 'passwd', '--acl-file', 'acl', '--yes');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /\n  acl_file:2  /);
    assert.deepEqual(tab.events(), []);
  });

  it('exits 1 for a missing file and 64 for bad arguments', async (t) => {
    const w = world(t);
    const missing = await w.run('import', '--password-file', 'nope', '--plan');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read .*nope: no such file/);
    assert.equal((await w.run('import', '--plan', '--yes')).code, 64);
    assert.equal((await w.run('import', '--bogus')).code, 64);
    assert.equal((await w.run('import', '--password-file', '')).code, 64);
    assert.equal((await w.run('import', '--timeout', '0')).code, 64);
  });
});

describe('mcm import on a data dir (no server running)', () => {
  it('--yes creates the event log and appends one batch with actor import; a second --plan exits 0', async (t) => {
    const w = world(t);
    const r = await w.run('import', '--password-file', 'passwd', '--acl-file', 'acl', '--yes');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /imported: \d+ events appended as one batch \(seq 1-\d+\)\n$/);
    assert.match(r.stderr, /note: created a new event log/);
    const events = w.events();
    assert.ok(events.length > 0);
    const id = `files:${join(w.cwd, 'passwd')},${join(w.cwd, 'acl')}`;
    for (const e of events) assert.deepEqual([e.actor.kind, e.actor.id], ['import', id], e.type);
    assert.equal(events.at(-1)?.type, 'BrokerFilesAdopted');
    assert.ok(events.some((e) => e.type === 'MqttUserCreated' && e.data.username === 'alice' && e.data.passwordHash === HASH_A), 'hash kept byte for byte');

    const again = await w.run('import', '--password-file', 'passwd', '--acl-file', 'acl', '--plan');
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /nothing to import/);
    const yes = await w.run('import', '--password-file', 'passwd', '--acl-file', 'acl', '--yes');
    assert.equal(yes.code, 0);
    assert.equal(w.events().length, events.length, 'nothing appended the second time');
  });

  it('without file options reads the configured files (mosquitto.password_file / acl_file)', async (t) => {
    const w = world(t);
    writeFileSync(join(w.cwd, 'mcm.yaml'), `mosquitto:\n  mode: external\n  password_file: ${join(w.cwd, 'passwd')}\n  acl_file: ${join(w.cwd, 'acl')}\n  reload:\n    strategy: none\n`);
    const r = await w.run('import', '--config', 'mcm.yaml', '--plan', '--json');
    assert.equal(r.code, 2, r.stderr);
    const plan = JSON.parse(r.stdout);
    assert.deepEqual(plan.files.map((f: { file: string; path: string }) => [f.file, f.path]), [['password_file', join(w.cwd, 'passwd')], ['acl_file', join(w.cwd, 'acl')]]);
  });

  it('without a terminal and without --yes refuses, changing nothing', async (t) => {
    const w = world(t);
    const r = await w.run('import', '--password-file', 'passwd');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /there is no terminal to confirm on/);
    assert.deepEqual(w.events(), []);
  });
});

describe('mcm import --conf', () => {
  it('follows include_dir (.conf files, in name order) and reads 2.1\'s plugin form and allow_anonymous', async (t) => {
    const w = world(t, {
      'etc/passwd': PASSWD,
      'etc/acl': ACL,
      'etc/mosquitto.conf': 'listener 1883\ninclude_dir conf.d\n',
      'etc/conf.d/10-auth.conf': 'plugin /usr/lib/mosquitto_password_file.so\nplugin_opt_password_file /nowhere/passwd\n',
      'etc/conf.d/20-auth.conf': 'allow_anonymous true\nplugin /usr/lib/mosquitto_acl_file.so\nplugin_opt_acl_file acl\n',
      'etc/conf.d/README': 'plugin_opt_password_file /not/read\n',
    });
    // 10-auth.conf is read (README is not: only *.conf), and the file it names must exist.
    const missing = await w.run('import', '--conf', 'etc/mosquitto.conf', '--plan');
    assert.equal(missing.code, 1, missing.stdout);
    assert.match(missing.stderr, /cannot read \/nowhere\/passwd: no such file/);
    writeFileSync(join(w.cwd, 'etc/conf.d/10-auth.conf'), `plugin /usr/lib/mosquitto_password_file.so\nplugin_opt_password_file ${join(w.cwd, 'etc/passwd')}\n`);
    const r = await w.run('import', '--conf', 'etc/mosquitto.conf', '--plan', '--json');
    assert.equal(r.code, 2, r.stderr);
    const plan = JSON.parse(r.stdout);
    assert.deepEqual(plan.files.map((f: { path: string }) => f.path), [join(w.cwd, 'etc/passwd'), join(w.cwd, 'etc/acl')]);
    assert.equal(plan.summary.users_in_files, 2);
    assert.equal(plan.summary.allow_anonymous_changed, true);

    const applied = await w.run('import', '--conf', 'etc/mosquitto.conf', '--yes', '--json');
    assert.equal(applied.code, 0, applied.stderr);
    const out = JSON.parse(applied.stdout);
    assert.ok(out.events_count > 0);
    assert.ok(w.events().some((e) => e.type === 'AnonymousAccessChanged'));
    assert.equal((await w.run('import', '--conf', 'etc/mosquitto.conf', '--plan')).code, 0);
  });

  it('refuses a second password file in an included conf (MCM manages one of each)', async (t) => {
    const w = world(t, { passwd: PASSWD, other: PASSWD, 'mosquitto.conf': 'password_file passwd\ninclude_dir d\n', 'd/x.conf': 'password_file other\n' });
    const r = await w.run('import', '--conf', 'mosquitto.conf', '--plan');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /a second password file .*other/);
  });

  it('exits 1 when the conf names neither file', async (t) => {
    const w = world(t, { 'mosquitto.conf': 'listener 1883\n' });
    const r = await w.run('import', '--conf', 'mosquitto.conf', '--plan');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /names neither a password file nor an ACL file/);
  });
});

describe('mcm import --json', () => {
  it('prints the plan as one JSON document, and invalid files as {error} with every line', async (t) => {
    const w = world(t);
    const r = await w.run('import', '--password-file', 'passwd', '--acl-file', 'acl', '--plan', '--json');
    assert.equal(r.code, 2);
    const plan = JSON.parse(r.stdout);
    assert.equal(plan.seq, 0);
    assert.equal(plan.changes, true);
    assert.equal(plan.broker_version, null);
    assert.equal(plan.summary.users_created, 2);
    assert.ok(Array.isArray(plan.differences) && plan.differences_total >= plan.differences.length);
    assert.deepEqual(plan.adopt.map((a: { file: string }) => a.file), ['password_file', 'acl_file']);

    const bad = world(t, { passwd: `alice:${HASH_A}\n:nouser\nbob\n`, acl: ACL });
    const e = await bad.run('import', '--password-file', 'passwd', '--plan', '--json');
    assert.equal(e.code, 1);
    const err = JSON.parse(e.stdout).error;
    assert.equal(err.code, 'MCM_ERR_IMPORT_INVALID');
    assert.deepEqual(err.details.map((d: { file: string; line: number }) => [d.file, d.line]), [['password_file', 2], ['password_file', 3]]);
  });
});

describe('mcm import through a running server [DESIGN §8]', () => {
  it('plans and applies through POST /import with actor import, then waits for the broker', async (t) => {
    let applied = 0;
    let generation = (): number => 0;
    const status = (): ApplyStatus => ({
      desired_seq: generation(),
      applied_seq: applied,
      state: 'applied',
      last: { seq: applied, result: 'applied', latency_ms: 1.5, at: new Date().toISOString() },
      broker: { mode: 'external', up: true, version: '2.1.2' },
    });
    const h = await createTestApp(t, { users: false, deps: { apply: { status, retry: async () => status() } } });
    generation = () => h.store.state().generation;
    // The apply loop catches up a moment after the append.
    const unsubscribe = h.store.onAppend(() => { setTimeout(() => { applied = h.store.state().generation; }, 50); });
    t.after(unsubscribe);
    const lock = acquireServerLock(h.dataDir, { pid: process.pid, url: h.baseUrl });
    t.after(() => lock.release());
    issueCliToken(h.deps.secrets);
    const cwd = tempDir(t);
    writeFileSync(join(cwd, 'passwd'), PASSWD);
    writeFileSync(join(cwd, 'acl'), ACL);
    const run = (...args: string[]) => runMcm(args, { cwd, env: { MCM_DATA_DIR: h.dataDir } });

    const plan = await run('import', '--password-file', 'passwd', '--acl-file', 'acl', '--plan');
    assert.equal(plan.code, 2, plan.stderr);
    assert.match(plan.stdout, /broker mosquitto 2\.1\.2/);
    assert.equal(h.eventCount(), 0);

    const r = await run('import', '--password-file', 'passwd', '--acl-file', 'acl', '--yes');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /imported: \d+ events appended as one batch/);
    assert.match(r.stdout, /broker: generation \d+ applied and enforced in 1\.5 ms\n$/);
    assert.equal(r.stderr, '', 'the server applies it: no "no server" note');
    const events = h.store.read();
    const id = `files:${join(cwd, 'passwd')},${join(cwd, 'acl')} by cli:`;
    for (const e of events) {
      assert.equal(e.actor.kind, 'import');
      assert.ok(e.actor.id.startsWith(id), e.actor.id);
    }
    assert.equal(events.at(-1)?.type, 'BrokerFilesAdopted');
    assert.equal((await run('import', '--password-file', 'passwd', '--acl-file', 'acl', '--plan')).code, 0);

    // Invalid files come back from the server with their lines.
    writeFileSync(join(cwd, 'acl'), 'user alice\ntopic rw alice/#\n');
    const bad = await run('import', '--acl-file', 'acl', '--yes');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /\n  acl_file:2  /);
    assert.equal(h.store.read().length, events.length);
  });
});
