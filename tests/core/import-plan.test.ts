/**
 * planImport and the ImportBrokerFiles / TakeOverBrokerFiles deciders (issue 11): afterwards MCM's
 * rendered files decide every case as the imported files do, and planning the same files again
 * changes nothing (a fixpoint).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Command } from '../../core/commands.ts';
import type { DomainEvent } from '../../core/events.ts';
import { fold, type Recorded } from '../../core/evolve.ts';
import type { ImportInput } from '../../core/import/import-types.ts';
import { planImport } from '../../core/import/plan-import.ts';
import { initialState, type BrokerConfig } from '../../core/state.ts';
import { renderAclFileFromState } from '../../projections/acl-file.ts';
import { renderPasswordFile } from '../../projections/password-file.ts';
import { AT, HASH_A, HASH_B, ev, given } from '../helpers/decider-spec.ts';

const SA = 'mcm-service';
const sha = (c: string): string => c.repeat(64);
const input = (o: { pw?: string; acl?: string; allowAnonymous?: boolean; owned?: ImportInput['owned'] }): ImportInput => ({
  ...(o.pw === undefined ? {} : { passwordFile: { text: o.pw, sha256: sha('a'), path: '/etc/mosquitto/passwd' } }),
  ...(o.acl === undefined ? {} : { aclFile: { text: o.acl, sha256: sha('b'), path: '/etc/mosquitto/acl' } }),
  ...(o.allowAnonymous === undefined ? {} : { allowAnonymous: o.allowAnonymous }),
  serviceAccount: SA, brokerLine: '2.0', owned: o.owned ?? ['password_file', 'acl_file'],
});
const importing = (o: Parameters<typeof input>[0]): Command => ({ type: 'ImportBrokerFiles', data: input(o) });
const apply = (state: BrokerConfig, events: readonly DomainEvent[]): BrokerConfig =>
  fold(events.map((e, i) => ({ ...e, seq: state.seq + i + 1, at: AT }) as Recorded), structuredClone(state));

describe('ImportBrokerFiles', () => {
  describe('given an empty MCM', () => {
    it('creates every user with its hash byte for byte and every rule, then records the files as adopted', () => {
      given([]).when(importing({ pw: `alice:${HASH_A}\n`, acl: 'topic read public/#\nuser alice\n# her house\ntopic home/alice/#\n', owned: [] })).then([
        { type: 'MqttUserCreated', data: { username: 'alice', passwordHash: HASH_A, description: '', disabled: false } },
        { type: 'AclRuleAdded', data: { id: 1, principal: 'anonymous', topic: 'public/#', access: 'read', description: '' } },
        { type: 'AclRuleAdded', data: { id: 2, principal: 'user:alice', topic: 'home/alice/#', access: 'readwrite', description: 'her house' } },
        {
          type: 'BrokerFilesAdopted',
          data: { how: 'import', files: [{ file: 'password_file', sha256: sha('a'), path: '/etc/mosquitto/passwd' }, { file: 'acl_file', sha256: sha('b'), path: '/etc/mosquitto/acl' }] },
        },
      ]);
    });

    it('creates a user that has only an ACL block without a password line (it cannot log in, as today)', () => {
      const { plan, events } = planImport(input({ pw: '', acl: '# sensor gateway\nuser gw\ntopic read #\n' }), initialState());
      assert.deepEqual(events[0], { type: 'MqttUserCreated', data: { username: 'gw', passwordHash: '', description: 'sensor gateway', disabled: false } });
      assert.equal(plan.summary.users_without_password, 1);
      assert.deepEqual(plan.warnings.map((w) => [w.line, w.code]), [[2, 'user_without_password']]);
    });
  });

  describe('given MCM users, roles and rules', () => {
    const world = [
      ev.userCreated('alice'), ev.userCreated('bob'), ev.userCreated('carol', { disabled: true }), ev.userCreated('dave'),
      ev.roleDefined('sensors'), ev.granted('alice', 'sensors'), ev.granted('dave', 'sensors'),
      ev.ruleAdded(1, 'role:sensors', 's/#', 'read'), ev.ruleAdded(2, 'role:sensors', 'cmd/#', 'write'),
      ev.ruleAdded(3, 'user:bob', 'b/#', 'readwrite'), ev.ruleAdded(4, 'user:bob', 'b/x', 'read'), ev.ruleAdded(5, 'user:bob', 'old/#', 'read'),
    ];

    it('changes a hash, enables a disabled user and disables an enabled user in neither file', () => {
      given(world).when(importing({ pw: `alice:${HASH_B}\ncarol:${HASH_A}\nbob:${HASH_A}\n` })).then([
        { type: 'MqttUserPasswordChanged', data: { username: 'alice', passwordHash: HASH_B } },
        { type: 'MqttUserEnabled', data: { username: 'carol' } },
        { type: 'MqttUserDisabled', data: { username: 'dave' } },
      ]);
    });

    it('drops the password of an MCM user the files name only in the acl_file', () => {
      given(world).when(importing({ pw: `alice:${HASH_A}\n`, acl: 'user alice\ntopic read s/#\ntopic write cmd/#\nuser bob\ntopic b/#\ntopic read b/x\ntopic read old/#\n' })).then([
        { type: 'MqttUserPasswordChanged', data: { username: 'bob', passwordHash: '' } },
        { type: 'MqttUserDisabled', data: { username: 'dave' } },
      ]);
    });

    it('changes nothing for lists that reduce to the same lines: a role granting what the file says is as good as direct rules', () => {
      const acl = 'user alice\ntopic write cmd/#\ntopic read s/#\ntopic read s/a\nuser bob\ntopic readwrite b/#\ntopic read old/#\nuser dave\ntopic read s/#\ntopic write cmd/#\n';
      given(world).when(importing({ acl })).then([]);
    });

    it('revokes a role whose rules the file does not all grant; what it still grants comes back as a direct rule', () => {
      given(world).when(importing({ acl: 'user alice\ntopic read s/#\nuser bob\ntopic b/#\ntopic read old/#\nuser dave\ntopic read s/#\ntopic write cmd/#\n' })).then([
        { type: 'RoleRevoked', data: { username: 'alice', role: 'sensors' } },
        { type: 'AclRuleAdded', data: { id: 6, principal: 'user:alice', topic: 's/#', access: 'read', description: '' } },
      ]);
    });

    it("removes the direct rules the file does not grant, keeps the ones the file's lines cover, adds what is missing", () => {
      given(world).when(importing({ acl: 'user alice\ntopic read s/#\ntopic write cmd/#\nuser bob\ntopic b/#\ntopic deny b/secret\nuser dave\ntopic read s/#\ntopic write cmd/#\n' })).then([
        { type: 'AclRuleRemoved', data: { id: 5 } },
        { type: 'AclRuleAdded', data: { id: 6, principal: 'user:bob', topic: 'b/secret', access: 'deny', description: '' } },
      ]);
    });

    it('without a password file keeps every password; users without a block lose their rules', () => {
      given(world).when(importing({ acl: 'user alice\ntopic read s/#\ntopic write cmd/#\n' })).then([
        { type: 'AclRuleRemoved', data: { id: 3 } }, { type: 'AclRuleRemoved', data: { id: 4 } }, { type: 'AclRuleRemoved', data: { id: 5 } },
        { type: 'RoleRevoked', data: { username: 'dave', role: 'sensors' } },
      ]);
    });

    it('takes allow_anonymous from a mosquitto.conf', () => {
      given(world).when(importing({ pw: `alice:${HASH_A}\nbob:${HASH_A}\ndave:${HASH_A}\n`, allowAnonymous: true })).then([
        { type: 'AnonymousAccessChanged', data: { allowed: true } },
      ]);
    });
  });

  describe('adoption', () => {
    it('records only the files MCM does not own and has not adopted with these bytes', () => {
      const first = planImport(input({ pw: '', acl: '', owned: ['acl_file'] }), initialState());
      assert.deepEqual(first.events, [{ type: 'BrokerFilesAdopted', data: { how: 'import', files: [{ file: 'password_file', sha256: sha('a'), path: '/etc/mosquitto/passwd' }] } }]);
      assert.equal(first.plan.changes, true, 'adopting is a change: MCM may replace the file only after it');
      const again = planImport(input({ pw: '', acl: '', owned: [] }), apply(initialState(), first.events));
      assert.deepEqual(again.plan.adopt.map((a) => a.file), ['acl_file']);
    });
  });

  describe('refusal', () => {
    it('refuses the whole import with every bad line of both files, and changes nothing', () => {
      const e = given([ev.userCreated('alice')]).when(importing({ pw: `alice:plain\nbob:${HASH_A}\n`, acl: 'user bob\ntopic\tread x\nTOPIC read y\n' }))
        .thenThrows('MCM_ERR_IMPORT_INVALID');
      assert.deepEqual(e.details.map((d) => [d['file'], d['line']]), [['password_file', 1], ['acl_file', 2], ['acl_file', 3]]);
      assert.match(e.message, /^3 lines cannot be imported, so nothing was changed: password_file line 1: /);
    });

    it('lists at most 1,000 problems and says how many there are', () => {
      const e = given([]).when(importing({ pw: 'x:y\n'.repeat(1500) })).thenThrows('MCM_ERR_IMPORT_INVALID');
      assert.equal(e.details.length, 1000);
      assert.match(e.message, /^1500 lines .*and 1499 more; the first 1000 are listed/);
    });

    it('refuses an input of the wrong shape with MCM_ERR_VALIDATION', () => {
      given([]).when({ type: 'ImportBrokerFiles', data: { serviceAccount: SA, brokerLine: '2.0' } }).thenThrows('MCM_ERR_VALIDATION');
      given([]).when({ type: 'ImportBrokerFiles', data: { ...input({ pw: '' }), passwordFile: { text: '', sha256: 'nope' } } }).thenThrows('MCM_ERR_VALIDATION');
    });
  });

  describe('the plan for large files', () => {
    it('caps the differences at the limit (50 by default), counts them all and keeps every warning', () => {
      const pw = Array.from({ length: 120 }, (_, i) => `# device ${i}\nd${i}:${HASH_A}\n`).join('');
      const { plan } = planImport(input({ pw }), initialState());
      assert.equal(plan.differences.length, 50);
      assert.equal(plan.differences_total, 120);
      assert.equal(plan.warnings.length, 120);
      assert.deepEqual(plan.differences[0], { file: 'password_file', line: 2, text: '+ user d0 (password from line 2)' });
      assert.equal(planImport(input({ pw }), initialState(), { limit: 5 }).plan.differences.length, 5);
    });
  });
});

describe('the import fixpoint: planning the same files again after applying changes nothing', () => {
  const corpus = (name: string): string => readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'import', 'corpus', name), 'utf8');

  it('holds for the corpus (every construct of both files)', () => {
    const files = input({ pw: corpus('passwd'), acl: corpus('acl'), allowAnonymous: true, owned: [] });
    const first = planImport(files, initialState());
    assert.equal(first.plan.changes, true);
    const again = planImport(files, apply(initialState(), first.events));
    assert.equal(again.plan.changes, false, JSON.stringify(again.plan.differences));
    assert.deepEqual(again.events, []);
  });

  it("holds for MCM's own render of a state made through the API: roles, patterns, denies, disabled and passwordless users", () => {
    const state = given([
      ev.userCreated('alice'), ev.userCreated('bob', { passwordHash: HASH_B }), ev.userCreated('off', { disabled: true }), ev.userCreated('gw', { passwordHash: '' }),
      ev.userCreated('idle', { passwordHash: '' }), ev.roleDefined('ro'), ev.granted('alice', 'ro'), ev.granted('bob', 'ro'),
      ev.ruleAdded(1, 'role:ro', 'r/#', 'read'), ev.ruleAdded(2, 'user:alice', 'r/x', 'deny'), ev.ruleAdded(3, 'user:bob', 'r/+/y', 'write'),
      ev.ruleAdded(4, 'anonymous', 'pub/#', 'read'), ev.ruleAdded(5, 'pattern', 'dev/%c/#', 'readwrite'), ev.ruleAdded(6, 'pattern', 'dev/%c/lock', 'deny'),
      ev.ruleAdded(7, 'user:gw', '#', 'read'), ev.ruleAdded(8, 'user:off', 'o/#', 'read'),
    ]).state;
    const pw = renderPasswordFile(state, { serviceAccount: { username: SA, passwordHash: HASH_A } });
    const acl = renderAclFileFromState(state, { serviceAccount: SA, generation: state.generation });
    const { plan, events } = planImport(input({ pw, acl }), state);
    assert.deepEqual(events, [], JSON.stringify(plan.differences));
    assert.deepEqual(plan.warnings.map((w) => w.code), ['service_account_skipped', 'service_account_skipped', 'pattern_client_id_2_1', 'pattern_client_id_2_1']);
  });
});

describe('TakeOverBrokerFiles', () => {
  it('records the files found on disk as MCM\'s to replace', () => {
    const files = [{ file: 'acl_file' as const, sha256: sha('c'), path: '/etc/mosquitto/acl' }];
    given([]).when({ type: 'TakeOverBrokerFiles', data: { files } }).then([{ type: 'BrokerFilesAdopted', data: { files, how: 'takeover' } }]);
  });

  it('refuses no files, an unknown file or a malformed sha256 with MCM_ERR_VALIDATION', () => {
    for (const files of [[], [{ file: 'mosquitto_conf', sha256: sha('c'), path: null }], [{ file: 'acl_file', sha256: 'x', path: null }]]) {
      given([]).when({ type: 'TakeOverBrokerFiles', data: { files } } as unknown as Command).thenThrows('MCM_ERR_VALIDATION');
    }
  });
});
