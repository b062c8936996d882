/**
 * The apply loop after faults (issue 8, "Faults"; bench/reliability/full-disk.ts, kill-mcm.ts):
 *
 * - an apply that fails on an error around it (its checkpoint refused by a locked or full
 *   database) is retried by the loop itself: nothing else would run it until the next change;
 * - files MCM wrote but could not confirm before a crash are its own, not "changed outside MCM":
 *   the next start must not raise a drift security event (and webhook) for them.
 */
import assert from 'node:assert/strict';
import { cpSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { ERROR_RETRY } from '../../adapters/apply/apply-loop.ts';
import { requireMosquitto } from '../helpers/mosquitto.ts';
import { startTestServer, testDataDir, type TestServer } from '../helpers/mcm-server.ts';
import { login } from '../helpers/mqtt-client.ts';

const waitFor = async (what: string, check: () => boolean, ms = 15_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('apply loop: recovery after faults', () => {
  it('an apply whose checkpoint a locked database refuses is retried by itself once the lock goes, with no new change', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    let s: TestServer | null = null;
    let armed = false;
    let other: DatabaseSync | null = null;
    const release = (): void => { if (other?.isOpen) { other.exec('COMMIT'); other.close(); } };
    t.after(release);
    s = await startTestServer(t, bin, {
      testing: {
        // After the files are written: another process takes the database's write lock, so the
        // checkpoint (and the failure record) cannot be written; it lets go a moment later.
        beforeReload: () => {
          if (!armed || !s) return;
          armed = false;
          other = new DatabaseSync(join(s.dataDir, 'mcm.db'));
          other.exec('BEGIN EXCLUSIVE');
          setTimeout(release, 300);
        },
      },
    });
    armed = true;
    const outcome = await s.apply({ type: 'CreateMqttUser', data: { username: 'retried', passwordHash: await s.hash('pw-retried') } });
    assert.equal(outcome.result, 'failed');
    assert.equal(outcome.errored, true, `failed on an error, not on the files: ${outcome.reason}`);
    assert.match(outcome.reason ?? '', /locked/);
    const head = s.store.headSeq();
    const server = s;
    await waitFor('the retried apply', () => server.applyLoop.status().state === 'applied', ERROR_RETRY.initialMs * 4 + 10_000);
    assert.equal(s.applyLoop.status().applied_seq, head);
    assert.equal(s.store.headSeq(), head, 'no new change was needed');
    assert.ok((await login(t, s.port, 'retried', 'pw-retried')).ok, 'the broker enforces the retried apply');
  });

  it('temp files that a crash in the middle of a write left beside the broker files are removed at the next start', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const dataDir = testDataDir(t);
    const first = await startTestServer(t, bin, { dataDir });
    await first.stop();
    const brokerDir = join(dataDir, 'mosquitto');
    const stale = ['.passwd.0123456789ab.tmp', '.acl.ba9876543210.tmp'];
    for (const name of [...stale, '.passwd.keep-me', 'notes.tmp']) writeFileSync(join(brokerDir, name), 'x');
    await startTestServer(t, bin, { dataDir, config: { mqtt: { port: first.port } } });
    const left = readdirSync(brokerDir);
    for (const name of stale) assert.equal(left.includes(name), false, `${name} removed`);
    for (const name of ['.passwd.keep-me', 'notes.tmp']) assert.ok(left.includes(name), `${name} is not MCM's: left alone`);
  });

  it('files written but not confirmed before a crash are not reported as changed outside MCM at the next start', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const crashDir = testDataDir(t);
    let s: TestServer | null = null;
    let armed = false;
    s = await startTestServer(t, bin, {
      testing: {
        // The crash image: the files of this apply are on disk, its checkpoint is not, and the
        // log has moved on by one more change (so the files are not the next render either).
        beforeReload: async () => {
          if (!armed || !s) return;
          armed = false;
          s.run({ type: 'CreateMqttUser', data: { username: 'third', passwordHash: await s.hash('pw-third') } });
          const skip = new Set(['server.lock', 'mcm.db-shm', 'supervised.pid', 'persistence']);
          cpSync(s.dataDir, crashDir, { recursive: true, filter: (src) => !skip.has(basename(src)) });
        },
      },
    });
    await s.apply({ type: 'CreateMqttUser', data: { username: 'first', passwordHash: await s.hash('pw-first') } });
    armed = true;
    await s.apply({ type: 'CreateMqttUser', data: { username: 'second', passwordHash: await s.hash('pw-second') } });
    await s.stop();

    const after = await startTestServer(t, bin, { dataDir: crashDir });
    assert.equal(after.deps.securityLog.count({ category: 'files.drift' }), 0, 'MCM\'s own unconfirmed write is not drift');
    const st = after.applyLoop.status();
    assert.equal(st.state, 'applied');
    assert.equal(st.applied_seq, after.store.state().generation);
    assert.ok((await login(t, after.port, 'third', 'pw-third')).ok);
  });
});
