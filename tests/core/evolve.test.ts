import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '../../core/errors.ts';
import { EVENT_VERSION, type DomainEvent, type EventOf, type EventType } from '../../core/events.ts';
import { evolve, fold, type Recorded } from '../../core/evolve.ts';
import { cloneState, initialState } from '../../core/state.ts';
import { upcast } from '../../core/upcast.ts';
import { AT, BCRYPT_B, HASH_B, bcrypt, ev, record } from '../helpers/decider-spec.ts';

const at = (seq: number): string => `2026-02-01T00:00:${String(seq).padStart(2, '0')}.000Z`;
/** Records with distinct timestamps so createdAt/updatedAt can be told apart. */
const timed = (events: DomainEvent[]): Recorded[] => events.map((e, i) => ({ ...e, seq: i + 1, at: at(i + 1) }) as Recorded);

const codes = Array.from({ length: 10 }, (_, i) => bcrypt(i));

/** A log touching every event type. */
const everything: DomainEvent[] = [
  ev.roleDefined('ops', 'operators'),
  { type: 'RoleDescribed', data: { role: 'ops', description: 'ops team' } },
  ev.userCreated('alice', { description: 'a' }),
  ev.userCreated('bob'),
  ev.granted('alice', 'ops'),
  ev.ruleAdded(1, 'user:alice', 'a/#', 'read'),
  ev.ruleAdded(2, 'role:ops', 'ops/#', 'readwrite'),
  { type: 'AclRuleChanged', data: { id: 1, topic: 'a/+', access: 'write', description: 'changed' } },
  { type: 'MqttUserPasswordChanged', data: { username: 'bob', passwordHash: HASH_B } },
  { type: 'MqttUserDescribed', data: { username: 'bob', description: 'b' } },
  { type: 'MqttUserDisabled', data: { username: 'bob' } },
  { type: 'MqttUserEnabled', data: { username: 'bob' } },
  { type: 'RoleRevoked', data: { username: 'alice', role: 'ops' } },
  { type: 'AclRuleRemoved', data: { id: 2 } },
  { type: 'RoleDeleted', data: { role: 'ops' } },
  { type: 'SchemaAttached', data: { id: 1, name: 's', topicFilter: 'a/#', schema: { type: 'object' }, enabled: true, description: '' } },
  { type: 'SchemaChanged', data: { id: 1, name: 's2', topicFilter: 'b/#', schema: true, description: 'd' } },
  { type: 'SchemaDisabled', data: { id: 1 } },
  { type: 'SchemaEnabled', data: { id: 1 } },
  { type: 'SchemaAttached', data: { id: 2, name: 'x', topicFilter: '#', schema: false, enabled: false, description: '' } },
  { type: 'SchemaDetached', data: { id: 2 } },
  { type: 'AnonymousAccessChanged', data: { allowed: true } },
  { type: 'HashIterationsChanged', data: { iterations: 1000 } },
  ev.adminCreated('root'),
  ev.adminCreated('temp', 'viewer'),
  { type: 'AdminUserPasswordChanged', data: { username: 'root', passwordHash: BCRYPT_B } },
  { type: 'AdminUserRoleChanged', data: { username: 'temp', role: 'auditor' } },
  { type: 'AdminUserDisabled', data: { username: 'temp' } },
  { type: 'AdminUserEnabled', data: { username: 'temp' } },
  { type: 'AdminUserDeleted', data: { username: 'temp' } },
  { type: 'MfaEnrolmentStarted', data: { username: 'root', secretCiphertext: 'ct', recoveryCodeHashes: codes } },
  { type: 'MfaEnabled', data: { username: 'root' } },
  { type: 'MfaRecoveryCodeUsed', data: { username: 'root', index: 3 } },
  { type: 'MfaDisabled', data: { username: 'root' } },
  { type: 'SsoAdminUserCreated', data: { username: 'sso-ann', role: 'viewer', issuer: 'https://idp.example', subject: 'ann' } },
  { type: 'AdminUserLinked', data: { username: 'root', issuer: 'https://idp.example', subject: 'root' } },
  { type: 'AdminUserSignedOut', data: { username: 'root', sessionId: 'jti-1', expiresAt: '2027-01-01T00:00:00.000Z' } },
  { type: 'BrokerMessagePublished', data: { topic: 'plant/1', qos: 1, retain: true, bytes: 3, payloadSha256: 'b'.repeat(64) } },
  { type: 'RetainedMessageCleared', data: { topic: 'plant/1' } },
  { type: 'WebhookCreated', data: { id: 1, url: 'https://hooks.example.com/a', events: ['broker_down'], secretCiphertext: 'v1.aQ==.dA==.Yw==', enabled: true, description: '' } },
  { type: 'WebhookChanged', data: { id: 1, url: 'https://hooks.example.com/b', events: ['apply_failed', 'broker_down'], enabled: false, description: 'd' } },
  { type: 'WebhookSecretRotated', data: { id: 1, secretCiphertext: 'v1.aQ==.dA==.ZA==' } },
  { type: 'WebhookCreated', data: { id: 2, url: 'https://hooks.example.com/c', events: ['security_event'], secretCiphertext: 'v1.aQ==.dA==.Yw==', enabled: true, description: '' } },
  { type: 'WebhookDeleted', data: { id: 1 } },
  { type: 'BrokerFilesAdopted', data: { files: [{ file: 'acl_file', sha256: 'a'.repeat(64), path: '/etc/mosquitto/acl' }], how: 'import' } },
  { type: 'CertificateAdded', data: { name: 'old', fingerprint: 'AB', subject: 'CN=o', issuer: 'CN=o', notBefore: '2026-01-01T00:00:00Z', notAfter: '2027-01-01T00:00:00Z', subjectAltName: '', isCa: true, hasKey: false, ca: null } },
  { type: 'BrokerConfigChanged', data: { config: { listeners: [], options: { persistence: true }, bridges: [], passthrough: ['queue_qos0_messages true'] } } },
  { type: 'CertificateRemoved', data: { name: 'old' } },
  { type: 'ApiTokenCreated', data: { name: 'ci', tokenId: '0123456789abcdef', secretHash: `hmac-sha256$${'d'.repeat(64)}`, role: 'operator', owner: 'root', expiresAt: null } },
  { type: 'ApiTokenCreated', data: { name: 'gone', tokenId: 'fedcba9876543210', secretHash: `hmac-sha256$${'e'.repeat(64)}`, role: 'viewer', owner: null, expiresAt: '2027-01-01T00:00:00.000Z' } },
  { type: 'ApiTokenRevoked', data: { name: 'gone', reason: 'revoked' } },
  { type: 'MqttUserDeleted', data: { username: 'bob' } },
];

describe('fold', () => {
  it('covers every event type in the test log', () => {
    assert.deepEqual(new Set(everything.map((e) => e.type)), new Set(Object.keys(EVENT_VERSION) as EventType[]));
  });

  it('is deterministic: folding the same events twice gives deep-equal states', () => {
    assert.deepStrictEqual(fold(record(everything)), fold(record(everything)));
  });

  it('gives the same state from a JSON snapshot as from the start (snapshots are a cache, DESIGN §4)', () => {
    const events = record(everything);
    const full = fold(events);
    const snapshot = JSON.parse(JSON.stringify(fold(events.slice(0, 20)))) as ReturnType<typeof initialState>;
    assert.deepStrictEqual(fold(events.slice(20), snapshot), full);
  });

  it('folds into a fresh initial state by default and leaves the events untouched', () => {
    const events = record(everything);
    const before = JSON.stringify(events);
    const s = fold(events);
    assert.equal(JSON.stringify(events), before);
    assert.equal(s.seq, everything.length);
    assert.deepStrictEqual(fold([]), initialState());
  });
});

describe('evolve', () => {
  it('mutates the given state in place, returns it, and sets seq', () => {
    const s = initialState();
    const out = evolve(s, { ...ev.roleDefined('r'), seq: 7, at: AT } as Recorded);
    assert.equal(out, s);
    assert.equal(s.seq, 7);
  });

  it('moves the generation only on events that change the broker files (DESIGN §6)', () => {
    const s = fold(timed([ev.userCreated('alice'), ev.roleDefined('r'), { type: 'MqttUserDescribed', data: { username: 'alice', description: 'x' } }]));
    assert.equal(s.seq, 3);
    assert.equal(s.generation, 1);
    evolve(s, { ...ev.adminCreated('root'), seq: 4, at: AT } as Recorded);
    assert.equal(s.generation, 1);
    evolve(s, { type: 'AnonymousAccessChanged', data: { allowed: true }, seq: 5, at: AT });
    assert.equal(s.generation, 5);
  });

  it('takes createdAt/updatedAt from the recorded at', () => {
    const s = fold(timed([ev.userCreated('alice'), ev.roleDefined('r'), ev.granted('alice', 'r')]));
    assert.deepStrictEqual(s.users['alice'], {
      username: 'alice', passwordHash: ev.userCreated('alice').data.passwordHash, description: '', disabled: false,
      roles: ['r'], createdAt: at(1), updatedAt: at(3),
    });
    assert.deepStrictEqual(s.roles['r'], { name: 'r', description: '', createdAt: at(2), updatedAt: at(2) });
  });

  it('keeps a user\'s roles sorted and without duplicates', () => {
    const s = fold(record([ev.userCreated('u'), ...['m', 'b', 'z', 'a'].flatMap((r) => [ev.roleDefined(r), ev.granted('u', r)]), ev.granted('u', 'b')]));
    assert.deepEqual(s.users['u']?.roles, ['a', 'b', 'm', 'z']);
  });

  it('drops a deleted user together with its grants', () => {
    const s = fold(record([ev.roleDefined('r'), ev.userCreated('u'), ev.granted('u', 'r'), { type: 'MqttUserDeleted', data: { username: 'u' } }, ev.userCreated('u')]));
    assert.deepEqual(s.users['u']?.roles, []);
  });

  it('advances nextRuleId past the highest id and never moves it back', () => {
    const s = fold(record([ev.ruleAdded(1, 'anonymous', 'a', 'read'), ev.ruleAdded(5, 'anonymous', 'b', 'read'), { type: 'AclRuleRemoved', data: { id: 5 } }]));
    assert.equal(s.nextRuleId, 6);
    assert.deepEqual(Object.keys(s.rules), ['1']);
  });

  it('changes a rule\'s topic, access and description, keeping id, principal and createdAt', () => {
    const s = fold(timed([ev.ruleAdded(1, 'pattern', 'dev/%c/#', 'read'), { type: 'AclRuleChanged', data: { id: 1, topic: 'dev/%u/#', access: 'readwrite', description: 'd' } }]));
    assert.deepStrictEqual(s.rules['1'], {
      id: 1, principal: 'pattern', topic: 'dev/%u/#', access: 'readwrite', description: 'd', createdAt: at(1), updatedAt: at(2),
    });
  });

  it('folds schemas and advances nextSchemaId', () => {
    const s = fold(record(everything));
    assert.equal(s.nextSchemaId, 3);
    assert.deepStrictEqual(s.schemas['1'], { id: 1, name: 's2', topicFilter: 'b/#', schema: true, enabled: true, description: 'd', createdAt: AT, updatedAt: AT });
    assert.equal(s.schemas['2'], undefined);
  });

  it('folds settings', () => {
    assert.deepStrictEqual(fold(record(everything)).settings, { allowAnonymous: true, hashIterations: 1000 });
  });

  it('stores "__proto__" and "constructor" as ordinary own entries', () => {
    const s = fold(record([ev.userCreated('__proto__'), ev.userCreated('constructor'), ev.roleDefined('__proto__'), ev.granted('__proto__', '__proto__')]));
    assert.equal(Object.getPrototypeOf(s.users), Object.prototype);
    assert.deepEqual(Object.keys(s.users), ['__proto__', 'constructor']);
    assert.deepEqual(Object.getOwnPropertyDescriptor(s.users, '__proto__')?.value.roles, ['__proto__']);
    assert.deepStrictEqual(JSON.parse(JSON.stringify(s)), cloneState(s));
    assert.deepEqual(Object.keys(cloneState(s).users), ['__proto__', 'constructor']);
    const gone = fold(record([{ type: 'MqttUserDeleted', data: { username: '__proto__' } }]), s);
    assert.deepEqual(Object.keys(gone.users), ['constructor']);
  });

  it('ignores events about entities that are not there instead of failing the fold', () => {
    const s = fold(record([
      { type: 'MqttUserDisabled', data: { username: 'ghost' } }, ev.granted('ghost', 'r'),
      { type: 'AclRuleChanged', data: { id: 9, topic: 'a', access: 'read', description: '' } },
      { type: 'SchemaEnabled', data: { id: 9 } }, { type: 'MfaEnabled', data: { username: 'ghost' } },
      { type: 'RoleDescribed', data: { role: 'ghost', description: 'x' } },
    ]));
    assert.deepStrictEqual({ ...s, seq: 0, generation: 0 }, initialState());
  });
});

describe('evolve: admin users and MFA', () => {
  const tokenVersion = (events: DomainEvent[]): number | undefined => fold(record([ev.adminCreated('root'), ...events])).adminUsers['root']?.tokenVersion;

  it('starts tokenVersion at 1 with MFA off', () => {
    assert.deepStrictEqual(fold(record([ev.adminCreated('root', 'operator')])).adminUsers['root'], {
      username: 'root', passwordHash: ev.adminCreated('root').data.passwordHash, role: 'operator', disabled: false, tokenVersion: 1,
      mfa: { enabled: false, secretCiphertext: null, recoveryCodeHashes: [], pending: null }, createdAt: AT, updatedAt: AT,
    });
  });

  it('bumps tokenVersion on password, role, disabled/enabled, MfaEnabled and MfaDisabled (DESIGN §9)', () => {
    assert.equal(tokenVersion([{ type: 'AdminUserPasswordChanged', data: { username: 'root', passwordHash: BCRYPT_B } }]), 2);
    assert.equal(tokenVersion([{ type: 'AdminUserRoleChanged', data: { username: 'root', role: 'viewer' } }]), 2);
    assert.equal(tokenVersion([{ type: 'AdminUserDisabled', data: { username: 'root' } }, { type: 'AdminUserEnabled', data: { username: 'root' } }]), 3);
    const started: DomainEvent = { type: 'MfaEnrolmentStarted', data: { username: 'root', secretCiphertext: 'ct', recoveryCodeHashes: codes } };
    assert.equal(tokenVersion([started]), 1);
    assert.equal(tokenVersion([started, { type: 'MfaEnabled', data: { username: 'root' } }]), 2);
    assert.equal(tokenVersion([started, { type: 'MfaEnabled', data: { username: 'root' } }, { type: 'MfaRecoveryCodeUsed', data: { username: 'root', index: 0 } }]), 2);
    assert.equal(tokenVersion([started, { type: 'MfaEnabled', data: { username: 'root' } }, { type: 'MfaDisabled', data: { username: 'root' } }]), 3);
  });

  it('stages a started enrolment; only its verification (MfaEnabled) makes it the active secret', () => {
    const s = fold(record([ev.adminCreated('root'), { type: 'MfaEnrolmentStarted', data: { username: 'root', secretCiphertext: 'ct-1', recoveryCodeHashes: codes } }]));
    assert.deepStrictEqual(s.adminUsers['root']?.mfa, { enabled: false, secretCiphertext: null, recoveryCodeHashes: [], pending: { secretCiphertext: 'ct-1', recoveryCodeHashes: codes } });
    fold(record([{ type: 'MfaEnabled', data: { username: 'root' } }], 3), s);
    assert.deepStrictEqual(s.adminUsers['root']?.mfa, { enabled: true, secretCiphertext: 'ct-1', recoveryCodeHashes: codes, pending: null });
  });

  it('keeps the old secret and codes active during a re-setup until the new secret verifies (no lock-out)', () => {
    const s = fold(record([
      ev.adminCreated('root'),
      { type: 'MfaEnrolmentStarted', data: { username: 'root', secretCiphertext: 'ct-1', recoveryCodeHashes: codes } },
      { type: 'MfaEnabled', data: { username: 'root' } },
      { type: 'MfaEnrolmentStarted', data: { username: 'root', secretCiphertext: 'ct-2', recoveryCodeHashes: codes.slice().reverse() } },
    ]));
    assert.equal(s.adminUsers['root']?.mfa.enabled, true);
    assert.equal(s.adminUsers['root']?.mfa.secretCiphertext, 'ct-1', 'the old authenticator still works');
    assert.deepEqual(s.adminUsers['root']?.mfa.recoveryCodeHashes, codes);
    assert.equal(s.adminUsers['root']?.mfa.pending?.secretCiphertext, 'ct-2');
    fold(record([{ type: 'MfaEnabled', data: { username: 'root' } }], 5), s);
    assert.equal(s.adminUsers['root']?.mfa.secretCiphertext, 'ct-2');
    assert.deepEqual(s.adminUsers['root']?.mfa.recoveryCodeHashes, codes.slice().reverse());
    assert.equal(s.adminUsers['root']?.mfa.pending, null);
  });

  it('marks a used recovery code null without touching the event\'s array', () => {
    const started: EventOf<'MfaEnrolmentStarted'> = { type: 'MfaEnrolmentStarted', data: { username: 'root', secretCiphertext: 'ct', recoveryCodeHashes: [...codes] } };
    const s = fold(record([ev.adminCreated('root'), started, { type: 'MfaEnabled', data: { username: 'root' } }, { type: 'MfaRecoveryCodeUsed', data: { username: 'root', index: 2 } }]));
    assert.equal(s.adminUsers['root']?.mfa.recoveryCodeHashes[2], null);
    assert.equal(s.adminUsers['root']?.mfa.recoveryCodeHashes[3], codes[3]);
    assert.deepEqual(started.data.recoveryCodeHashes, codes);
  });

  it('clears the secret and codes on MfaDisabled, and removes a deleted admin user', () => {
    const s = fold(record(everything));
    assert.deepStrictEqual(s.adminUsers['root']?.mfa, { enabled: false, secretCiphertext: null, recoveryCodeHashes: [], pending: null });
    assert.equal(s.adminUsers['temp'], undefined);
  });
});

describe('upcast', () => {
  it('returns version-1 payloads of every type unchanged', () => {
    for (const e of everything) assert.equal(upcast(e.type, 1, e.data), e.data);
  });

  it('refuses unknown types and versions with MCM_ERR_EVENT_UNKNOWN', () => {
    for (const [type, version] of [['UserTeleported', 1], ['MqttUserCreated', 2], ['MqttUserCreated', 0], ['MqttUserCreated', 1.5], ['toString', 1]] as const) {
      assert.throws(() => upcast(type, version, {}), (e: unknown) => e instanceof DomainError && e.code === 'MCM_ERR_EVENT_UNKNOWN' && e.message.includes(type));
    }
  });
});

describe('evolve BrokerFilesAdopted', () => {
  it('records per file the sha256 MCM may replace, how, and the seq; a later adoption of the same file replaces it', () => {
    const state = fold(record([
      { type: 'BrokerFilesAdopted', data: { files: [{ file: 'password_file', sha256: 'a'.repeat(64), path: '/p' }, { file: 'acl_file', sha256: 'b'.repeat(64), path: null }], how: 'import' } },
      { type: 'BrokerFilesAdopted', data: { files: [{ file: 'acl_file', sha256: 'c'.repeat(64), path: '/a' }], how: 'takeover' } },
    ]));
    assert.deepEqual(state.adoptedFiles, {
      password_file: { sha256: 'a'.repeat(64), path: '/p', how: 'import', seq: 1 },
      acl_file: { sha256: 'c'.repeat(64), path: '/a', how: 'takeover', seq: 2 },
    });
  });
});
