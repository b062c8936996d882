/**
 * `mcm events verify` checks the snapshots too (issue "second hardening round": integrity): a
 * snapshot is only a start-up cache, but one edited to add an admin would be folded into the
 * state unseen if nothing covered its content. Each carries an HMAC keyed by
 * secrets/snapshot.key; verify names an edited one and exits 1.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import { createSecretStore } from '../../adapters/secrets/secret-store.ts';
import { createSqliteEventStore, SNAPSHOT_KEY_NAME } from '../../adapters/sqlite/event-store.ts';
import { openDatabase } from '../../adapters/sqlite/open-database.ts';
import { cliWorld } from '../helpers/cli.ts';
import { HASH_A } from '../helpers/decider-spec.ts';

test('given snapshots written with the server key, verify passes; after one is edited, verify names it and exits 1', async (t) => {
  const world = cliWorld(t);
  const key = createSecretStore(world.dataDir).getOrCreate(SNAPSHOT_KEY_NAME, () => randomBytes(32));
  const db = openDatabase(join(world.dataDir, 'mcm.db'));
  const store = createSqliteEventStore({ db, snapshotEvery: 2, snapshotKey: key });
  for (let i = 0; i < 5; i++) {
    store.append([{ type: 'MqttUserCreated', data: { username: `dev-${i}`, passwordHash: HASH_A, description: '', disabled: false } }], { actor: { kind: 'system', id: 'test' }, at: '2026-12-07T00:00:00.000Z' });
  }
  const newest = db.prepare('SELECT seq, state FROM snapshots ORDER BY seq DESC LIMIT 1').get() as { seq: number; state: string };
  db.close();

  const ok = await world.run('events', 'verify');
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /snapshots? match their HMAC/);

  const edit = openDatabase(join(world.dataDir, 'mcm.db'));
  edit.prepare('UPDATE snapshots SET state = ? WHERE seq = ?').run(newest.state.replace('"dev-0"', '"mallory"'), newest.seq);
  edit.close();
  const bad = await world.run('events', 'verify', '--json');
  assert.equal(bad.code, 1);
  const out = JSON.parse(bad.stdout) as { ok: boolean; snapshots: { bad: { seq: number; reason: string }[] } };
  assert.equal(out.ok, true, 'the event chain itself is intact');
  assert.deepEqual(out.snapshots.bad.map((b) => b.seq), [newest.seq]);
  assert.match(out.snapshots.bad[0]?.reason ?? '', /HMAC/);
});
