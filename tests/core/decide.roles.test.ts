import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ev, given } from '../helpers/decider-spec.ts';

describe('DefineRole', () => {
  it('defines a role and adds its rules with consecutive ids from nextRuleId (principal role:<name>)', () => {
    given([ev.userCreated('u'), ev.ruleAdded(1, 'user:u', 'x', 'read'), ev.ruleAdded(2, 'user:u', 'y', 'read')])
      .when({ type: 'DefineRole', data: { name: 'sensors-ro', description: 'read sensors', rules: [
        { topic: 'sensors/#', access: 'read' },
        { topic: 'sensors/+/cmd', access: 'deny', description: 'no commands' },
      ] } })
      .then([
        { type: 'RoleDefined', data: { role: 'sensors-ro', description: 'read sensors' } },
        { type: 'AclRuleAdded', data: { id: 3, principal: 'role:sensors-ro', topic: 'sensors/#', access: 'read', description: '' } },
        { type: 'AclRuleAdded', data: { id: 4, principal: 'role:sensors-ro', topic: 'sensors/+/cmd', access: 'deny', description: 'no commands' } },
      ]);
  });

  it('defines a role without rules', () => {
    given([]).when({ type: 'DefineRole', data: { name: 'empty' } }).then([{ type: 'RoleDefined', data: { role: 'empty', description: '' } }]);
  });

  it('collapses duplicates of the same (topic, access) in one request, keeping the first', () => {
    given([]).when({ type: 'DefineRole', data: { name: 'r', rules: [
      { topic: 'a', access: 'read', description: 'first' }, { topic: 'a', access: 'write' }, { topic: 'a', access: 'read', description: 'second' },
    ] } }).then([
      { type: 'RoleDefined', data: { role: 'r', description: '' } },
      { type: 'AclRuleAdded', data: { id: 1, principal: 'role:r', topic: 'a', access: 'read', description: 'first' } },
      { type: 'AclRuleAdded', data: { id: 2, principal: 'role:r', topic: 'a', access: 'write', description: '' } },
    ]);
  });

  it('refuses an invalid name with MCM_ERR_ROLE_NAME_INVALID and an existing one with MCM_ERR_ROLE_EXISTS', () => {
    given([]).when({ type: 'DefineRole', data: { name: 'bad name' } }).thenThrows('MCM_ERR_ROLE_NAME_INVALID');
    given([]).when({ type: 'DefineRole', data: { name: '' } }).thenThrows('MCM_ERR_ROLE_NAME_INVALID');
    given([ev.roleDefined('r')]).when({ type: 'DefineRole', data: { name: 'r' } }).thenThrows('MCM_ERR_ROLE_EXISTS');
  });

  it('refuses a rule with a bad topic filter [ref §2.1] or access word, naming the rule\'s index', () => {
    const err = given([]).when({ type: 'DefineRole', data: { name: 'r', rules: [{ topic: 'ok', access: 'read' }, { topic: 'a/#/b', access: 'read' }] } })
      .thenThrows('MCM_ERR_TOPIC_FILTER_INVALID');
    assert.equal(err.details[0]?.['field'], 'rules[1].topic');
    const err2 = given([]).when({ type: 'DefineRole', data: { name: 'r', rules: [{ topic: 'a', access: 'all' as 'read' }] } }).thenThrows('MCM_ERR_ACCESS_INVALID');
    assert.equal(err2.details[0]?.['field'], 'rules[0].access');
  });

  it('refuses rules that are not a list of objects with MCM_ERR_VALIDATION', () => {
    given([]).when({ type: 'DefineRole', data: { name: 'r', rules: {} as [] } }).thenThrows('MCM_ERR_VALIDATION');
    given([]).when({ type: 'DefineRole', data: { name: 'r', rules: ['a/#'] as unknown as [] } }).thenThrows('MCM_ERR_VALIDATION');
  });
});

describe('UpdateRole', () => {
  const world = [
    ev.roleDefined('r', 'old'),
    ev.ruleAdded(1, 'role:r', 'a', 'read', 'keep me'),
    ev.ruleAdded(2, 'role:r', 'b', 'write'),
    ev.ruleAdded(3, 'role:r', 'c', 'deny'),
    ev.roleDefined('other'),
    ev.ruleAdded(4, 'role:other', 'z', 'read'),
  ];

  it('replaces the rule set: kept rules keep their ids, others are removed and added', () => {
    given(world).when({ type: 'UpdateRole', data: { name: 'r', description: 'new', rules: [
      { topic: 'a', access: 'read' },
      { topic: 'c', access: 'deny', description: 'now described' },
      { topic: 'd', access: 'readwrite' },
      { topic: 'b', access: 'read' },
    ] } }).then([
      { type: 'RoleDescribed', data: { role: 'r', description: 'new' } },
      { type: 'AclRuleRemoved', data: { id: 2 } },
      { type: 'AclRuleChanged', data: { id: 3, topic: 'c', access: 'deny', description: 'now described' } },
      { type: 'AclRuleAdded', data: { id: 5, principal: 'role:r', topic: 'd', access: 'readwrite', description: '' } },
      { type: 'AclRuleAdded', data: { id: 6, principal: 'role:r', topic: 'b', access: 'read', description: '' } },
    ]);
  });

  it('keeps a kept rule\'s description when the request gives none', () => {
    given(world).when({ type: 'UpdateRole', data: { name: 'r', rules: [{ topic: 'a', access: 'read' }, { topic: 'b', access: 'write' }, { topic: 'c', access: 'deny' }] } })
      .then([]);
  });

  it('removes every rule for rules: [] and leaves other roles alone', () => {
    given(world).when({ type: 'UpdateRole', data: { name: 'r', rules: [] } }).then([
      { type: 'AclRuleRemoved', data: { id: 1 } }, { type: 'AclRuleRemoved', data: { id: 2 } }, { type: 'AclRuleRemoved', data: { id: 3 } },
    ]);
  });

  it('changes only the description when rules are not given; same description is a no-op', () => {
    given(world).when({ type: 'UpdateRole', data: { name: 'r', description: 'x' } }).then([{ type: 'RoleDescribed', data: { role: 'r', description: 'x' } }]);
    given(world).when({ type: 'UpdateRole', data: { name: 'r', description: 'old' } }).then([]);
  });

  it('refuses an unknown role with MCM_ERR_ROLE_NOT_FOUND and bad rules before emitting anything', () => {
    given(world).when({ type: 'UpdateRole', data: { name: 'nope', description: 'x' } }).thenThrows('MCM_ERR_ROLE_NOT_FOUND');
    given(world).when({ type: 'UpdateRole', data: { name: 'r', description: 'x', rules: [{ topic: 'a+', access: 'read' }] } }).thenThrows('MCM_ERR_TOPIC_FILTER_INVALID');
  });
});

describe('DeleteRole', () => {
  it('removes the role\'s rules in the same append, then the role', () => {
    given([ev.roleDefined('r'), ev.ruleAdded(1, 'role:r', 'a', 'read'), ev.ruleAdded(2, 'anonymous', 'b', 'read'), ev.ruleAdded(3, 'role:r', 'c', 'write')])
      .when({ type: 'DeleteRole', data: { name: 'r' } })
      .then([{ type: 'AclRuleRemoved', data: { id: 1 } }, { type: 'AclRuleRemoved', data: { id: 3 } }, { type: 'RoleDeleted', data: { role: 'r' } }]);
  });

  it('is refused while granted, naming the users, with MCM_ERR_ROLE_IN_USE', () => {
    const err = given([
      ev.roleDefined('ops'), ev.userCreated('c'), ev.userCreated('a'), ev.userCreated('b'), ev.userCreated('d'),
      ev.granted('c', 'ops'), ev.granted('a', 'ops'), ev.granted('b', 'ops'),
    ]).when({ type: 'DeleteRole', data: { name: 'ops' } }).thenThrows('MCM_ERR_ROLE_IN_USE');
    assert.match(err.message, /^role "ops" is granted to 3 users: a, b, c/);
    assert.deepEqual(err.details, [{ role: 'ops', users: ['a', 'b', 'c'] }]);
  });

  it('says "1 user" for one grant and shortens long lists in the message, not in the details', () => {
    const one = given([ev.roleDefined('r'), ev.userCreated('a'), ev.granted('a', 'r')]).when({ type: 'DeleteRole', data: { name: 'r' } }).thenThrows('MCM_ERR_ROLE_IN_USE');
    assert.match(one.message, /granted to 1 user: a/);
    const names = Array.from({ length: 25 }, (_, i) => `u${String(i).padStart(2, '0')}`);
    const many = given([ev.roleDefined('r'), ...names.flatMap((n) => [ev.userCreated(n), ev.granted(n, 'r')])])
      .when({ type: 'DeleteRole', data: { name: 'r' } }).thenThrows('MCM_ERR_ROLE_IN_USE');
    assert.match(many.message, /u09 and 15 more/);
    assert.equal((many.details[0]?.['users'] as string[]).length, 25);
  });

  it('refuses an unknown role with MCM_ERR_ROLE_NOT_FOUND', () => {
    given([]).when({ type: 'DeleteRole', data: { name: 'r' } }).thenThrows('MCM_ERR_ROLE_NOT_FOUND');
  });
});
