/**
 * GitOps round trip on real SQLite event logs and real files: export → apply into an empty data
 * dir → export again gives identical bytes, for random operation sequences (fast-check), and the
 * broker sees the same files. Also: an apply is one atomic append with actor gitops.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import fc from 'fast-check';
import type { Command } from '../../core/commands.ts';
import { DomainError, isDomainError } from '../../core/errors.ts';
import { handleBatch } from '../../core/handle-batch.ts';
import { handleCommand } from '../../core/handle-command.ts';
import type { Clock } from '../../core/ports.ts';
import { renderAclFileFromState, stripGenerationLine } from '../../projections/acl-file.ts';
import { exportBundle } from '../../projections/gitops-export.ts';
import { renderPasswordFile } from '../../projections/password-file.ts';
import { applyGitops, planGitops } from '../../adapters/gitops/apply-bundle.ts';
import { GITOPS_FILE_NAMES, readGitopsDir, writeGitopsDir } from '../../adapters/gitops/yaml-files.ts';
import { createSqliteEventStore, type SqliteEventStore } from '../../adapters/sqlite/event-store.ts';
import { openDatabase } from '../../adapters/sqlite/open-database.ts';
import { HASH_A, HASH_B } from '../helpers/decider-spec.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const SERVICE = 'mcm-service';
const clock: Clock = { now: () => '2026-03-01T12:00:00.000Z' };
const ADMIN = { kind: 'admin', id: 'root' } as const;
const GITOPS = { kind: 'gitops', id: 'dir:/test' } as const;

const openStore = (dataDir: string): { store: SqliteEventStore; close(): void } => {
  const db = openDatabase(join(dataDir, 'mcm.db'));
  return { store: createSqliteEventStore({ db, snapshotEvery: 0 }), close: () => db.close() };
};

const readDir = (dir: string): Record<string, string> =>
  Object.fromEntries(GITOPS_FILE_NAMES.map((n) => [n, readFileSync(join(dir, n), 'utf8')]));

/** What the broker would be given: password_file and acl_file (the generation line aside). */
const brokerFiles = (store: SqliteEventStore): string[] => {
  const state = store.state();
  return [
    renderPasswordFile(state, { serviceAccount: { username: SERVICE, passwordHash: HASH_A } }),
    stripGenerationLine(renderAclFileFromState(state, { serviceAccount: SERVICE, generation: 0 })),
  ];
};

// Small pools, so random operations collide often (same user twice, rule already there, role in use).
const users = ['alice', 'bob smith', 'dev-01', '__proto__'];
const roles = ['ops', 'sensors', 'constructor'];
const topics = ['a/#', 'a/b', '+/x', '#', '$SYS/#', 'devices/%c/#', 'users/%u/in', 'sp ace/t'];
const descriptions = ['', 'x', 'a: b', 'ünïcode', '# not a comment', '"quoted"'];
const schemas: unknown[] = [true, false, { type: 'object' }, { type: 'string', maxLength: 3 }, { required: ['v'], properties: { v: { type: 'number' } } }];

const user = fc.constantFrom(...users);
const role = fc.constantFrom(...roles);
const topic = fc.constantFrom(...topics);
const access = fc.constantFrom('read', 'write', 'readwrite', 'deny');
const description = fc.constantFrom(...descriptions);
const hash = fc.constantFrom(HASH_A, HASH_B);
const id = fc.integer({ min: 1, max: 25 });
const principal = fc.oneof(fc.constantFrom('anonymous', 'pattern'), user.map((u) => `user:${u}`), role.map((r) => `role:${r}`));
const rules = fc.array(fc.record({ topic, access, description }), { maxLength: 3 });

/** Weighted so that things get created more often than they are removed or fail. */
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ username: user, passwordHash: hash, description, roles: fc.subarray(roles, { maxLength: 1 }), disabled: fc.boolean() })
    .map((data): Command => ({ type: 'CreateMqttUser', data })) },
  { weight: 1, arbitrary: fc.record({ username: user, passwordHash: hash }).map((data): Command => ({ type: 'ChangeMqttUserPassword', data })) },
  { weight: 2, arbitrary: fc.record({ username: user, description, roles: fc.subarray(roles), disabled: fc.boolean() }, { requiredKeys: ['username'] })
    .map((data): Command => ({ type: 'UpdateMqttUser', data })) },
  { weight: 1, arbitrary: user.map((username): Command => ({ type: 'DeleteMqttUser', data: { username } })) },
  { weight: 4, arbitrary: fc.record({ name: role, description, rules }).map((data): Command => ({ type: 'DefineRole', data })) },
  { weight: 2, arbitrary: fc.record({ name: role, description, rules }, { requiredKeys: ['name'] }).map((data): Command => ({ type: 'UpdateRole', data })) },
  { weight: 1, arbitrary: role.map((name): Command => ({ type: 'DeleteRole', data: { name } })) },
  { weight: 3, arbitrary: fc.record({ username: user, role }).map((data): Command => ({ type: 'GrantRole', data })) },
  { weight: 6, arbitrary: fc.record({ principal, topic, access, description }).map((data): Command => ({ type: 'AddAclRule', data })) },
  { weight: 2, arbitrary: fc.record({ id, topic, access, description }, { requiredKeys: ['id'] }).map((data): Command => ({ type: 'ChangeAclRule', data })) },
  { weight: 1, arbitrary: id.map((i): Command => ({ type: 'RemoveAclRule', data: { id: i } })) },
  { weight: 2, arbitrary: fc.record({ name: fc.constantFrom('temp', 'hum'), topicFilter: topic, schema: fc.constantFrom(...schemas), enabled: fc.boolean(), description })
    .map((data): Command => ({ type: 'AttachSchema', data })) },
  { weight: 1, arbitrary: fc.record({ id: fc.integer({ min: 1, max: 6 }), topicFilter: topic, schema: fc.constantFrom(...schemas), enabled: fc.boolean() }, { requiredKeys: ['id'] })
    .map((data): Command => ({ type: 'ChangeSchema', data })) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 6 }).map((i): Command => ({ type: 'DetachSchema', data: { id: i } })) },
  { weight: 1, arbitrary: fc.record({ allowAnonymous: fc.boolean(), hashIterations: fc.constantFrom(101, 1000) }, { requiredKeys: [] })
    .map((data): Command => ({ type: 'ChangeSettings', data })) },
  // The broker configuration (broker.yaml): listeners without TLS need nothing from the data dir.
  { weight: 2, arbitrary: fc.record({ name: fc.constantFrom('a', 'b', 'c'), port: fc.constantFrom(8883, 8884), maxConnections: fc.constantFrom(null, 10) })
    .map((listener): Command => ({ type: 'SetBrokerListener', data: { listener } })) },
  { weight: 1, arbitrary: fc.constantFrom('a', 'b').map((name): Command => ({ type: 'RemoveBrokerListener', data: { name } })) },
  { weight: 1, arbitrary: fc.record({ options: fc.record({ sys_interval: fc.constantFrom(5, 15), persistence: fc.boolean() }, { requiredKeys: [] }), passthrough: fc.subarray(['# kept', 'allow_zero_length_clientid false']) })
    .map((config): Command => ({ type: 'SetBrokerConfig', data: { config } })) },
);

/** Operation sequences long enough to build something worth exporting. */
const sequence = (max: number) => fc.array(command, { minLength: 5, maxLength: max, size: 'max' });

/** Runs `commands` through handleCommand (the one write path); refused ones are skipped. */
const runAll = (store: SqliteEventStore, commands: readonly Command[]): void => {
  for (const c of commands) {
    try {
      handleCommand({ store, clock }, c, { actor: ADMIN });
    } catch (e) {
      if (!isDomainError(e)) throw e;
    }
  }
};

describe('GitOps round trip', () => {
  it('export → apply into an empty data dir → export gives identical bytes, for random operation sequences', (t: TestContext) => {
    const root = tempDir(t, 'mcm-gitops-rt-');
    let run = 0;
    fc.assert(fc.property(sequence(60), (commands) => {
      run += 1;
      const base = join(root, String(run));
      mkdirSync(base);
      const a = openStore(join(base, 'a'));
      const b = openStore(join(base, 'b'));
      try {
        runAll(a.store, commands);
        const dirA = join(base, 'export-a');
        writeGitopsDir(dirA, exportBundle(a.store.state()));
        const read = readGitopsDir(dirA, { serviceAccount: SERVICE });
        assert.ok(read.ok, JSON.stringify(read));
        const deps = (store: SqliteEventStore) => ({ store, clock, serviceAccount: SERVICE });
        assert.equal(planGitops(deps(a.store), read.bundle).commands_count, 0, 'the export of a log plans nothing against that log');
        const out = applyGitops(deps(b.store), read.bundle, { actor: GITOPS });
        assert.equal(b.store.read().length, out.events_count, 'one batch: every event of the apply, nothing else');
        const dirB = join(base, 'export-b');
        writeGitopsDir(dirB, exportBundle(b.store.state()));
        assert.deepEqual(readDir(dirB), readDir(dirA));
        assert.deepEqual(brokerFiles(b.store), brokerFiles(a.store), 'the broker is given the same files');
        assert.equal(planGitops(deps(b.store), read.bundle).commands_count, 0, 'applying again changes nothing');
      } finally {
        a.close();
        b.close();
      }
    }), { numRuns: 60 });
  });

  it('brings a data dir that has drifted anywhere back to the files, in one apply', (t: TestContext) => {
    const root = tempDir(t, 'mcm-gitops-rt-');
    let run = 0;
    fc.assert(fc.property(sequence(40), sequence(40), (wanted, drift) => {
      run += 1;
      const a = openStore(join(root, `${run}-a`));
      const b = openStore(join(root, `${run}-b`));
      try {
        runAll(a.store, wanted);
        runAll(b.store, drift);
        const bundle = exportBundle(a.store.state());
        applyGitops({ store: b.store, clock, serviceAccount: SERVICE }, bundle, { actor: GITOPS });
        assert.deepEqual(exportBundle(b.store.state()), bundle);
        assert.deepEqual(brokerFiles(b.store), brokerFiles(a.store));
      } finally {
        a.close();
        b.close();
      }
    }), { numRuns: 60 });
  });
});

describe('GitOps round trip: broker.yaml between data dirs', () => {
  const certificate: Command = {
    type: 'AddCertificate',
    data: { name: 'server', fingerprint: Array.from({ length: 32 }, () => 'AB').join(':'), subject: 'CN=broker', issuer: 'CN=broker', notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2027-01-01T00:00:00.000Z', subjectAltName: 'DNS:broker', isCa: false, hasKey: true, ca: null },
  };

  it('names the certificate only: a data dir without it refuses the whole apply and appends nothing; once added there, it applies', (t: TestContext) => {
    const root = tempDir(t, 'mcm-gitops-rt-');
    const a = openStore(join(root, 'a'));
    const b = openStore(join(root, 'b'));
    t.after(() => { a.close(); b.close(); });
    runAll(a.store, [certificate, { type: 'SetBrokerListener', data: { listener: { name: 'tls', port: 8883, tls: { certificate: 'server' } } } }]);
    assert.equal(a.store.headSeq(), 2, 'the setup was accepted');
    const dir = join(root, 'export');
    writeGitopsDir(dir, exportBundle(a.store.state()));
    assert.doesNotMatch(readFileSync(join(dir, 'broker.yaml'), 'utf8'), /BEGIN|fingerprint/, 'no PEM, no certificate facts: a name');
    const read = readGitopsDir(dir, { serviceAccount: SERVICE });
    assert.ok(read.ok, JSON.stringify(read));
    runAll(b.store, [{ type: 'DefineRole', data: { name: 'ops' } }]);
    const deps = (store: SqliteEventStore) => ({ store, clock, serviceAccount: SERVICE });
    assert.throws(() => applyGitops(deps(b.store), read.bundle, { actor: GITOPS }), (e: DomainError) =>
      e.code === 'MCM_ERR_GITOPS_INVALID' && e.details.length === 1 && e.details[0]?.['path'] === '/broker/listeners/0/tls/certificate' &&
      /certificate "server" \(listener tls\) is not in this data dir: add it with mcm certs add/.test(String(e.details[0]?.['message'])));
    assert.equal(b.store.headSeq(), 1, 'nothing appended: not even the role removal');
    runAll(b.store, [certificate]);
    const out = applyGitops(deps(b.store), read.bundle, { actor: GITOPS });
    assert.deepEqual(b.store.read({ after: 2 }).map((e) => e.type), ['RoleDeleted', 'BrokerConfigChanged']);
    assert.equal(out.events_count, 2);
    assert.deepEqual(b.store.state().brokerConfig, a.store.state().brokerConfig);
  });

  it("checks listeners against MCM's own ports when given them, as the broker API does", (t: TestContext) => {
    const s = openStore(tempDir(t));
    t.after(() => s.close());
    const bundle = exportBundle(s.store.state());
    bundle.broker.listeners.push({ name: 'dup', port: 1883 });
    const deps = { store: s.store, clock, serviceAccount: SERVICE, broker: { reservedPorts: [1883], version: '2.0' as const } };
    assert.throws(() => planGitops(deps, bundle), (e: DomainError) => e.code === 'MCM_ERR_GITOPS_INVALID' && /MCM's own listener/.test(e.message));
    assert.throws(() => applyGitops(deps, bundle, { actor: GITOPS }), (e: DomainError) => e.code === 'MCM_ERR_GITOPS_INVALID');
    assert.equal(s.store.headSeq(), 0);
  });
});

describe('handleBatch on the SQLite event log', () => {
  it('appends all events of all commands in one transaction, with the gitops actor and one `at`', (t: TestContext) => {
    const s = openStore(tempDir(t));
    t.after(() => s.close());
    runAll(s.store, [{ type: 'CreateMqttUser', data: { username: 'x', passwordHash: HASH_A } }]);
    const result = handleBatch({ store: s.store, clock }, [
      { type: 'DefineRole', data: { name: 'r', rules: [{ topic: 'a/#', access: 'read' }] } },
      { type: 'CreateMqttUser', data: { username: 'u', passwordHash: HASH_B, roles: ['r'] } },
    ], { actor: GITOPS });
    assert.deepEqual(result.events.map((e) => [e.seq, e.type, e.actor.kind]), [
      [2, 'RoleDefined', 'gitops'], [3, 'AclRuleAdded', 'gitops'], [4, 'MqttUserCreated', 'gitops'], [5, 'RoleGranted', 'gitops'],
    ]);
    assert.equal(result.seq, 5);
    assert.ok(s.store.verify().ok);
  });

  it('appends nothing when any item is refused, and names the item', (t: TestContext) => {
    const s = openStore(tempDir(t));
    t.after(() => s.close());
    assert.throws(() => handleBatch({ store: s.store, clock }, [
      { type: 'DefineRole', data: { name: 'r' } },
      { type: 'GrantRole', data: { username: 'ghost', role: 'r' } },
    ], { actor: GITOPS }), (e: DomainError) => e.code === 'MCM_ERR_MQTT_USER_NOT_FOUND' && e.message.includes('item 2 of 2 (GrantRole "ghost")'));
    assert.equal(s.store.headSeq(), 0);
    assert.deepEqual(s.store.state().roles, {});
  });

  it('refuses a batch planned on an older seq once anything changed (MCM_ERR_STALE_STREAM), appending nothing', (t: TestContext) => {
    const s = openStore(tempDir(t));
    t.after(() => s.close());
    runAll(s.store, [{ type: 'DefineRole', data: { name: 'a' } }, { type: 'DefineRole', data: { name: 'b' } }]);
    assert.throws(() => handleBatch({ store: s.store, clock }, [{ type: 'DefineRole', data: { name: 'c' } }], { actor: GITOPS, expectedSeq: 1 }),
      (e: DomainError) => e.code === 'MCM_ERR_STALE_STREAM');
    assert.equal(s.store.headSeq(), 2);
    handleBatch({ store: s.store, clock }, [{ type: 'DefineRole', data: { name: 'c' } }], { actor: GITOPS, expectedSeq: 2 });
    assert.equal(s.store.headSeq(), 3);
  });
});
