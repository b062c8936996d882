/**
 * The data dir of the start-up bench (bench/startup.bench.ts): a log of `total` events appended
 * through the real store (adapters/sqlite/event-store.ts, snapshots on as adapters/main.ts has
 * them: one each time the head crosses a multiple of 1,000, HMAC'd with secrets/snapshot.key).
 *
 * The mix: one admin, 50 roles, then `users` MqttUserCreated (one real `$7$` hash, reused) each
 * followed by its AclRuleAdded, then the rest as day-to-day changes (rule topics changed, users
 * described, password changes, role grants and revocations, disable/enable pairs). The last 999
 * events are appended by a store that writes no snapshot, so a start reads the snapshot at
 * `total - 999` and folds a tail of 999 events: the most the server's setting ever leaves.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DomainEvent } from '../core/events.ts';
import { createAdminHasher } from '../adapters/http/auth/admin-hasher.ts';
import { createMosquittoHasher } from '../adapters/mosquitto/password-hash.ts';
import { createSecretStore } from '../adapters/secrets/secret-store.ts';
import { createSqliteEventStore, SNAPSHOT_KEY_NAME } from '../adapters/sqlite/event-store.ts';
import { openDatabase } from '../adapters/sqlite/open-database.ts';

export const TAIL = 999;
const ROLES = 50;
const BATCH = 100_000;

export const deviceName = (i: number): string => `device-${String(i).padStart(6, '0')}`;

/** The i-th day-to-day change (deterministic) over `users` users whose rule ids are 1..users. */
const change = (k: number, users: number, hash: string): DomainEvent => {
  const i = (k * 7919) % users;
  const username = deviceName(i);
  switch (k % 20) {
    case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 7:
      return { type: 'AclRuleChanged', data: { id: i + 1, topic: `devices/${username}/${k % 7}/#`, access: (['read', 'write', 'readwrite'] as const)[k % 3] ?? 'read', description: `site ${k % 97}` } };
    case 8: case 9: case 10: case 11:
      return { type: 'MqttUserDescribed', data: { username, description: `sensor ${username}, hall ${k % 31}, batch ${k}` } };
    case 12: case 13:
      return { type: 'MqttUserPasswordChanged', data: { username, passwordHash: hash } };
    case 14: case 15:
      return { type: 'RoleGranted', data: { username, role: `role-${k % ROLES}` } };
    case 16:
      return { type: 'RoleRevoked', data: { username, role: `role-${(k + 1) % ROLES}` } };
    case 17:
      return { type: 'MqttUserDisabled', data: { username } };
    default: // 18, 19: the user disabled just before (same i for k-1 and k) is enabled again
      return { type: 'MqttUserEnabled', data: { username: deviceName(((k - (k % 20) + 17) * 7919) % users) } };
  }
};

/** All events, in order, as a generator (1,000,000 events never sit in memory at once). */
const allEvents = function* (total: number, users: number, hash: string, adminHash: string): Generator<DomainEvent> {
  yield { type: 'AdminUserCreated', data: { username: 'admin', passwordHash: adminHash, role: 'admin' } };
  for (let r = 0; r < ROLES; r++) yield { type: 'RoleDefined', data: { role: `role-${r}`, description: `fleet ${r}` } };
  for (let i = 0; i < users; i++) {
    const username = deviceName(i);
    yield { type: 'MqttUserCreated', data: { username, passwordHash: hash, description: '', disabled: false } };
    yield { type: 'AclRuleAdded', data: { id: i + 1, principal: `user:${username}`, topic: `devices/${username}/#`, access: 'readwrite', description: '' } };
  }
  for (let k = 2 + ROLES + 2 * users; k <= total; k++) yield change(k, users, hash);
};

export type GeneratedDir = { dir: string; events: number; snapshotSeq: number; ms: number };

/** Creates a data dir (0755: the supervised broker's user must traverse it when run as root). */
export const generateDataDir = async (total: number, users: number, log: (l: string) => void): Promise<GeneratedDir> => {
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'mcm-bench-startup-'));
  chmodSync(dir, 0o755);
  const hash = await createMosquittoHasher().hash('device-password-0f3a9c', 101);
  const adminHash = await createAdminHasher({ cost: 10 }).hash('bench-admin-Pa55word');
  const snapshotKey = createSecretStore(dir).getOrCreate(SNAPSHOT_KEY_NAME, () => randomBytes(32));
  const db = openDatabase(join(dir, 'mcm.db'));
  const actor = { kind: 'cli', id: 'bench' } as const;
  const base = Date.parse('2026-01-01T00:00:00Z');
  try {
    const snapshotting = createSqliteEventStore({ db, snapshotKey });
    let store = snapshotting;
    let batch: DomainEvent[] = [];
    let appended = 0;
    const flush = (): void => {
      store.append(batch, { actor, at: new Date(base + appended * 1000).toISOString() });
      appended += batch.length;
      batch = [];
    };
    for (const event of allEvents(total, users, hash, adminHash)) {
      batch.push(event);
      // Batches end at total - TAIL (the last snapshot), then the tail goes through a store
      // that writes none, so the log ends 999 events past its newest snapshot.
      const cut = appended + batch.length === total - TAIL;
      if (batch.length === BATCH || cut) flush();
      if (cut) store = createSqliteEventStore({ db, snapshotKey, snapshotEvery: 0 });
      if (appended > 0 && appended % 100_000 === 0 && batch.length === 0) log(`  ${appended.toLocaleString('en')} events`);
    }
    if (batch.length > 0) flush();
    const snap = db.prepare('SELECT max(seq) AS seq FROM snapshots').get() as { seq: number | null };
    return { dir, events: store.headSeq(), snapshotSeq: snap.seq ?? 0, ms: performance.now() - started };
  } finally {
    db.close();
  }
};
