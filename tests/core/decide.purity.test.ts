/** decide as a whole: pure, total, and in agreement with evolve. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Command, CommandType } from '../../core/commands.ts';
import { decide } from '../../core/decide.ts';
import { DomainError } from '../../core/errors.ts';
import type { DomainEvent } from '../../core/events.ts';
import { evolve, fold } from '../../core/evolve.ts';
import { initialState, type BrokerConfig } from '../../core/state.ts';
import { AT, BCRYPT_B, HASH_B, bcrypt, deepFreeze, ev, record } from '../helpers/decider-spec.ts';

/** A sealed secret's shape (adapters/secrets/crypto-box.ts), never opened by core. */
const SEALED = 'v1.aXY=.dGFn.Y3Q=';
const codes = Array.from({ length: 10 }, (_, i) => bcrypt(i));

const CERT = {
  name: 'x', fingerprint: Array.from({ length: 32 }, () => 'AB').join(':'), subject: 'CN=x', issuer: 'CN=ca',
  notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2027-01-01T00:00:00.000Z', subjectAltName: '', isCa: false, hasKey: true, ca: null as string | null,
};
const world: DomainEvent[] = [
  ev.roleDefined('ops'), ev.roleDefined('idle'), ev.userCreated('alice'), ev.userCreated('bob'), ev.granted('alice', 'ops'),
  ev.ruleAdded(1, 'user:alice', 'a/#', 'read'), ev.ruleAdded(2, 'role:ops', 'ops/#', 'readwrite'), ev.ruleAdded(3, 'role:idle', 'i', 'read'),
  { type: 'SchemaAttached', data: { id: 1, name: 's', topicFilter: 'a/#', schema: { type: 'object' }, enabled: true, description: '' } },
  ev.adminCreated('root'), ev.adminCreated('eve', 'admin'),
  { type: 'MfaEnrolmentStarted', data: { username: 'root', secretCiphertext: 'ct', recoveryCodeHashes: codes } },
  { type: 'MfaEnabled', data: { username: 'root' } },
  // A re-setup in progress, so EnableMfa (its verification) has something to enable.
  { type: 'MfaEnrolmentStarted', data: { username: 'root', secretCiphertext: 'ct-re', recoveryCodeHashes: codes } },
  { type: 'WebhookCreated', data: { id: 1, url: 'https://hooks.example.com/mcm', events: ['apply_failed'], secretCiphertext: SEALED, enabled: true, description: '' } },
  { type: 'CertificateAdded', data: { ...CERT, name: 'ca', isCa: true, hasKey: false } },
  { type: 'CertificateAdded', data: { ...CERT, name: 'spare', ca: 'ca' } },
  { type: 'ApiTokenCreated', data: { name: 'ci', tokenId: '0123456789abcdef', secretHash: `hmac-sha256$${'a'.repeat(64)}`, role: 'operator', owner: 'eve', expiresAt: null } },
  { type: 'BrokerConfigChanged', data: { config: {
    listeners: [{ name: 'plain', port: 1884, protocol: 'mqtt', address: null, bindInterface: null, tls: null, maxConnections: null }],
    options: {}, passthrough: [],
    bridges: [{ name: 'up', addresses: [{ host: 'h', port: 1883 }], remoteUsername: null, remotePasswordRef: null, remoteClientId: null, tls: null, topics: [{ pattern: '#', direction: 'out', qos: 0, localPrefix: '', remotePrefix: '' }], cleansession: false, keepalive: 60 }],
  } } },
];

/** One command of every type that succeeds against `world`. */
const commands: Record<CommandType, Command> = {
  CreateMqttUser: { type: 'CreateMqttUser', data: { username: 'carol', passwordHash: HASH_B, roles: ['ops'], description: 'c' } },
  ChangeMqttUserPassword: { type: 'ChangeMqttUserPassword', data: { username: 'alice', passwordHash: HASH_B } },
  UpdateMqttUser: { type: 'UpdateMqttUser', data: { username: 'alice', roles: ['idle'], disabled: true, description: 'x' } },
  DeleteMqttUser: { type: 'DeleteMqttUser', data: { username: 'alice' } },
  DefineRole: { type: 'DefineRole', data: { name: 'new', rules: [{ topic: 'n/#', access: 'read' }] } },
  UpdateRole: { type: 'UpdateRole', data: { name: 'ops', description: 'd', rules: [{ topic: 'o/#', access: 'write' }] } },
  DeleteRole: { type: 'DeleteRole', data: { name: 'idle' } },
  GrantRole: { type: 'GrantRole', data: { username: 'bob', role: 'ops' } },
  RevokeRole: { type: 'RevokeRole', data: { username: 'alice', role: 'ops' } },
  AddAclRule: { type: 'AddAclRule', data: { principal: 'pattern', topic: 'dev/%c/#', access: 'readwrite' } },
  ChangeAclRule: { type: 'ChangeAclRule', data: { id: 1, access: 'deny' } },
  RemoveAclRule: { type: 'RemoveAclRule', data: { id: 2 } },
  AttachSchema: { type: 'AttachSchema', data: { name: 't', topicFilter: 't/#', schema: { type: 'number' } } },
  ChangeSchema: { type: 'ChangeSchema', data: { id: 1, schema: { type: 'array' }, enabled: false } },
  DetachSchema: { type: 'DetachSchema', data: { id: 1 } },
  ChangeSettings: { type: 'ChangeSettings', data: { allowAnonymous: true, hashIterations: 202 } },
  CreateAdminUser: { type: 'CreateAdminUser', data: { username: 'op', passwordHash: BCRYPT_B, role: 'operator' } },
  UpdateAdminUser: { type: 'UpdateAdminUser', data: { username: 'eve', role: 'viewer', passwordHash: BCRYPT_B } },
  DeleteAdminUser: { type: 'DeleteAdminUser', data: { username: 'eve' } },
  StartMfaEnrolment: { type: 'StartMfaEnrolment', data: { username: 'eve', secretCiphertext: 'ct2', recoveryCodeHashes: codes } },
  EnableMfa: { type: 'EnableMfa', data: { username: 'root', secretCiphertext: 'ct-re' } },
  DisableMfa: { type: 'DisableMfa', data: { username: 'root' } },
  UseRecoveryCode: { type: 'UseRecoveryCode', data: { username: 'root', index: 0, codeHash: codes[0] as string } },
  SignInWithSso: { type: 'SignInWithSso', data: { username: 'sso-ann', issuer: 'https://idp.example', subject: 'ann', role: 'viewer', createUsers: true } },
  SignOutAdminUser: { type: 'SignOutAdminUser', data: { username: 'eve', sessionId: 'jti-1', expiresAt: '2027-01-01T00:00:00.000Z' } },
  PublishMessage: { type: 'PublishMessage', data: { topic: 'plant/1', qos: 1, retain: false, bytes: 2, payloadSha256: 'a'.repeat(64) } },
  ClearRetained: { type: 'ClearRetained', data: { topic: 'plant/1' } },
  CreateWebhook: { type: 'CreateWebhook', data: { url: 'https://hooks.example.com/x', events: ['broker_down'], secretCiphertext: SEALED } },
  UpdateWebhook: { type: 'UpdateWebhook', data: { id: 1, enabled: false } },
  RotateWebhookSecret: { type: 'RotateWebhookSecret', data: { id: 1, secretCiphertext: SEALED } },
  DeleteWebhook: { type: 'DeleteWebhook', data: { id: 1 } },
  ImportBrokerFiles: {
    type: 'ImportBrokerFiles',
    data: {
      passwordFile: { text: `alice:${HASH_B}\ndave:${HASH_B}\n`, sha256: 'a'.repeat(64), path: '/etc/mosquitto/passwd' },
      aclFile: { text: 'user alice\ntopic read a/#\nuser dave\ntopic dave/#\n', sha256: 'b'.repeat(64), path: null },
      allowAnonymous: false, serviceAccount: 'mcm-service', brokerLine: '2.0', owned: [],
    },
  },
  SetBrokerConfig: { type: 'SetBrokerConfig', data: { config: { listeners: [], options: { persistence: true } } } },
  SetBrokerListener: { type: 'SetBrokerListener', data: { listener: { name: 'ws', port: 9002, protocol: 'websockets', bindInterface: 'lo' } } },
  RemoveBrokerListener: { type: 'RemoveBrokerListener', data: { name: 'plain' } },
  SetBrokerBridge: { type: 'SetBrokerBridge', data: { bridge: { name: 'up', addresses: [{ host: 'h2', port: 1883 }], topics: [{ pattern: 'a/#', direction: 'in' }] } } },
  RemoveBrokerBridge: { type: 'RemoveBrokerBridge', data: { name: 'up' } },
  AddCertificate: { type: 'AddCertificate', data: { ...CERT, name: 'server', ca: 'ca' } },
  RemoveCertificate: { type: 'RemoveCertificate', data: { name: 'spare' } },
  CreateApiToken: { type: 'CreateApiToken', data: { name: 'deploy', tokenId: 'fedcba9876543210', secretHash: `hmac-sha256$${'b'.repeat(64)}`, role: 'viewer', owner: 'eve', expiresAt: '2027-01-01T00:00:00.000Z' } },
  RevokeApiToken: { type: 'RevokeApiToken', data: { name: 'ci' } },
  TakeOverBrokerFiles: { type: 'TakeOverBrokerFiles', data: { files: [{ file: 'password_file', sha256: 'c'.repeat(64), path: '/etc/mosquitto/passwd' }] } },
};

const decideOrError = (command: Command, state: BrokerConfig): DomainEvent[] | DomainError => {
  try {
    return decide(command, state);
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
};

describe('decide', () => {
  it('never mutates its input state: every command type against a deep-frozen state', () => {
    const state = fold(record(world));
    const before = JSON.stringify(state);
    deepFreeze(state);
    for (const command of Object.values(commands)) {
      const events = decide(command, state); // a write to a frozen object throws in strict mode
      assert.ok(events.length > 0, `${command.type} should emit events in this world`);
    }
    assert.equal(JSON.stringify(state), before);
  });

  it('is deterministic: the same command and state give the same events', () => {
    const state = deepFreeze(fold(record(world)));
    for (const command of Object.values(commands)) assert.deepStrictEqual(decide(command, state), decide(command, state));
  });

  it('is total: any garbage in a field gives events or a DomainError, never a TypeError', () => {
    const state = deepFreeze(fold(record(world)));
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    const garbage: unknown[] = [undefined, null, 0, -1, 1.5, Number.NaN, '', 'x', '__proto__', {}, [], [null], true, { toString: 1 }, 10n, cyclic, Symbol('s')];
    let cases = 0;
    for (const command of Object.values(commands)) {
      for (const field of Object.keys(command.data)) {
        for (const g of garbage) {
          const broken = { type: command.type, data: { ...command.data, [field]: g } } as Command;
          const out = decideOrError(broken, state);
          assert.ok(Array.isArray(out) || out instanceof DomainError, `${command.type}.${field} = ${typeof g}`);
          cases++;
        }
      }
    }
    assert.ok(cases > 500);
  });

  it('refuses an unknown command type or a missing data object with MCM_ERR_VALIDATION', () => {
    for (const bad of [{ type: 'LaunchRocket', data: {} }, { type: 'CreateMqttUser' }, { type: 'CreateMqttUser', data: null }]) {
      const out = decideOrError(bad as unknown as Command, initialState());
      assert.ok(out instanceof DomainError && out.code === 'MCM_ERR_VALIDATION');
    }
  });

  it('agrees with evolve: a session of commands folds into the expected state and rule ids', () => {
    const state = initialState();
    let seq = 0;
    const run = (command: Command): DomainEvent[] => {
      const events = decide(command, state);
      for (const e of events) evolve(state, { ...e, seq: ++seq, at: AT } as typeof e & { seq: number; at: string });
      return events;
    };
    run({ type: 'DefineRole', data: { name: 'sensors', rules: [{ topic: 's/#', access: 'read' }, { topic: 's/cmd', access: 'deny' }] } });
    run({ type: 'CreateMqttUser', data: { username: 'dev1', passwordHash: HASH_B, roles: ['sensors'] } });
    assert.deepEqual(run({ type: 'AddAclRule', data: { principal: 'user:dev1', topic: 'dev1/#', access: 'readwrite' } }).map((e) => e.data), [
      { id: 3, principal: 'user:dev1', topic: 'dev1/#', access: 'readwrite', description: '' },
    ]);
    run({ type: 'UpdateRole', data: { name: 'sensors', rules: [{ topic: 's/#', access: 'read' }, { topic: 's/status', access: 'write' }] } });
    assert.deepEqual(Object.values(state.rules).map((r) => [r.id, r.principal, r.access, r.topic]), [
      [1, 'role:sensors', 'read', 's/#'], [3, 'user:dev1', 'readwrite', 'dev1/#'], [4, 'role:sensors', 'write', 's/status'],
    ]);
    assert.throws(() => decide({ type: 'DeleteRole', data: { name: 'sensors' } }, state), /granted to 1 user: dev1/);
    run({ type: 'DeleteMqttUser', data: { username: 'dev1' } });
    run({ type: 'DeleteRole', data: { name: 'sensors' } });
    assert.deepEqual(state.rules, {});
    assert.deepEqual(state.users, {});
    assert.deepEqual(state.roles, {});
    assert.equal(state.nextRuleId, 5);
  });
});
