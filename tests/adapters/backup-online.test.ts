import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readServiceAccount } from '../../adapters/backup/read-service-account.ts';
import { backupCommand } from '../../adapters/cli/commands/backup.ts';
import { eventsCommand } from '../../adapters/cli/commands/events.ts';
import { runCli } from '../../adapters/cli/run-cli.ts';
import { createMosquittoHasher } from '../../adapters/mosquitto/password-hash.ts';
import { loadServiceAccount } from '../../adapters/mosquitto/service-account.ts';
import { createSecretStore } from '../../adapters/secrets/secret-store.ts';
import { createSqliteEventStore } from '../../adapters/sqlite/event-store.ts';
import { openDatabase } from '../../adapters/sqlite/open-database.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NODE = process.execPath;

const mcm = async (args: string[], dataDir: string, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> => {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: (s) => { stdout += s; },
    stderr: (s) => { stderr += s; },
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', MCM_MOSQUITTO_MODE: 'external', MCM_DATA_DIR: dataDir },
    cwd,
  }, [backupCommand, eventsCommand]);
  return { code, stdout, stderr };
};

/**
 * A separate process appending through the real event store as fast as it can (users, and ACL
 * rules for them, so both rendered files change), printing `ACK <seq>` after each commit, until
 * SIGTERM. It is a second SQLite connection, as `mcm server` would be.
 */
const WRITER = `
const root = process.env.MCM_ROOT;
const { openDatabase } = await import(root + 'adapters/sqlite/open-database.ts');
const { createSqliteEventStore } = await import(root + 'adapters/sqlite/event-store.ts');
const db = openDatabase(process.env.MCM_TEST_DB);
const store = createSqliteEventStore({ db, snapshotEvery: 40 });
const hash = '$7$101$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo';
let stop = false;
process.on('SIGTERM', () => { stop = true; });
for (let i = 0; !stop; i++) {
  const event = i % 3 === 2
    ? { type: 'AclRuleAdded', data: { id: store.state().nextRuleId, principal: 'user:w' + (i - 1), topic: 'plant/' + i + '/#', access: 'read', description: '' } }
    : { type: 'MqttUserCreated', data: { username: 'w' + i, passwordHash: hash, description: '', disabled: false } };
  const [rec] = store.append([event], { actor: { kind: 'cli', id: 'writer' }, at: new Date().toISOString() });
  process.stdout.write('ACK ' + rec.seq + '\\n');
  await new Promise((r) => setImmediate(r));
}
db.close();
process.stdout.write('DONE\\n');
`;

type Writer = { child: ChildProcess; acked(): number; waitFor(seq: number): Promise<void>; stop(): Promise<void> };

const startWriter = (t: TestContext, dbPath: string): Writer => {
  const child = spawn(NODE, ['--input-type=module', '-e', WRITER], {
    env: { ...process.env, MCM_ROOT: ROOT, MCM_TEST_DB: dbPath },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let last = 0;
  let err = '';
  const waiters = new Set<() => void>();
  let buf = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const l of lines) if (l.startsWith('ACK ')) last = Number(l.slice(4));
    for (const w of [...waiters]) w();
  });
  child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  return {
    child,
    acked: () => last,
    waitFor: (seq) => new Promise((resolve, reject) => {
      if (last >= seq) { resolve(); return; }
      const timer = setTimeout(() => { waiters.delete(w); reject(new Error(`writer did not reach seq ${seq} (at ${last}): ${err}`)); }, 30_000);
      const w = (): void => { if (last >= seq) { clearTimeout(timer); waiters.delete(w); resolve(); } };
      waiters.add(w);
      void exited.then(() => { if (last < seq) { clearTimeout(timer); reject(new Error(`writer exited at seq ${last}: ${err}`)); } });
    }),
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      assert.equal(child.exitCode, 0, `writer failed: ${err}`);
    },
  };
};

describe('mcm backup create while the event log is being written', () => {
  it('snapshots one commit: the restored log verifies and replays to the same files as the source at the manifest seq [DESIGN §4]', { timeout: 120_000 }, async (t) => {
    const cwd = tempDir(t, 'mcm-online-');
    const src = join(cwd, 'src');
    const dst = join(cwd, 'dst');
    // The source has a database and a service account (so the password file has its line).
    const db = openDatabase(join(src, 'mcm.db'));
    createSqliteEventStore({ db }).append([{ type: 'RoleDefined', data: { role: 'ops', description: 'seed' } }], { actor: { kind: 'cli', id: 't' }, at: '2026-01-01T00:00:00.000Z' });
    db.close();
    const account = await loadServiceAccount({ secrets: createSecretStore(src), hasher: createMosquittoHasher(), username: 'mcm-service' });

    const writer = startWriter(t, join(src, 'mcm.db'));
    await writer.waitFor(40);
    const ackedBefore = writer.acked();
    const created = await mcm(['backup', 'create', '--output', 'live.tar', '--json'], src, cwd);
    assert.equal(created.code, 0, created.stderr);
    const { manifest } = JSON.parse(created.stdout) as { manifest: { seq: number; head_hash: string } };
    // Keep writing after the snapshot, so the source moves past it. The writer reports its acks
    // asynchronously, so under load the snapshot may hold commits it has not reported yet: wait
    // for 20 beyond whichever is further.
    await writer.waitFor(Math.max(writer.acked(), manifest.seq) + 20);
    await writer.stop();

    assert.ok(manifest.seq >= ackedBefore, `snapshot seq ${manifest.seq} includes every commit acknowledged before the backup (${ackedBefore})`);
    const verifiedSource = await mcm(['events', 'verify', '--json'], src, cwd);
    assert.equal(verifiedSource.code, 0, verifiedSource.stderr);
    const sourceHead = (JSON.parse(verifiedSource.stdout) as { head: number }).head;
    assert.ok(sourceHead > manifest.seq, `the writer kept going (source head ${sourceHead} > snapshot ${manifest.seq})`);

    const restored = await mcm(['backup', 'restore', '--input', join(cwd, 'live.tar')], dst, cwd);
    assert.equal(restored.code, 0, restored.stderr);
    const verified = await mcm(['events', 'verify', '--json'], dst, cwd);
    assert.equal(verified.code, 0, verified.stderr);
    const { snapshots, good_files: goodFiles, ...chain } = JSON.parse(verified.stdout) as { snapshots: { bad: unknown[] }; good_files: { bad: unknown[] } };
    assert.deepEqual(goodFiles.bad, [], 'the restored last-known-good files match their HMAC');
    assert.deepEqual(chain, { ok: true, count: manifest.seq, head: manifest.seq, head_hash: manifest.head_hash });
    assert.deepEqual(snapshots.bad, [], 'the restored snapshots match their HMAC (the key came along in secrets/)');

    // The secrets came along: the same service account opens in the restored data dir.
    assert.equal((await readServiceAccount(dst, 'mcm-service'))?.password, account.password);

    // What MCM renders from the restored log is what it rendered from the source at that seq.
    const at = String(manifest.seq);
    assert.equal((await mcm(['events', 'replay', '--to', at, '--out', join(cwd, 'from-src')], src, cwd)).code, 0);
    const fromDst = await mcm(['events', 'replay', '--to', at, '--out', join(cwd, 'from-dst')], dst, cwd);
    assert.equal(fromDst.code, 0, fromDst.stderr);
    for (const f of ['password_file', 'acl_file', 'state.json']) {
      assert.equal(readFileSync(join(cwd, 'from-dst', f), 'utf8'), readFileSync(join(cwd, 'from-src', f), 'utf8'), f);
    }
    const passwd = readFileSync(join(cwd, 'from-dst', 'password_file'), 'utf8');
    assert.ok(passwd.includes(`mcm-service:${account.passwordHash}\n`), 'the service account line is in the replayed password file');
    assert.ok(passwd.split('\n').length > 20, 'the replayed files hold the writer\'s users');
    assert.match(readFileSync(join(cwd, 'from-dst', 'acl_file'), 'utf8'), /^topic read plant\/\d+\/#$/m);
  });
});
