import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ACCESS_VALUES } from '../../core/acl-types.ts';
import { ev, given } from '../helpers/decider-spec.ts';

const world = [ev.userCreated('alice'), ev.roleDefined('ops'), ev.ruleAdded(1, 'user:alice', 'a/#', 'read')];

describe('AddAclRule', () => {
  const principals = ['user:alice', 'role:ops', 'anonymous', 'pattern'] as const;
  for (const principal of principals) {
    it(`adds a rule for ${principal} with id = nextRuleId`, () => {
      given(world).when({ type: 'AddAclRule', data: { principal, topic: 'x/+/y', access: 'readwrite', description: 'd' } })
        .then([{ type: 'AclRuleAdded', data: { id: 2, principal, topic: 'x/+/y', access: 'readwrite', description: 'd' } }]);
    });
  }

  it('keeps counting after removed rules: ids are never reused', () => {
    given([...world, ev.ruleAdded(7, 'anonymous', 'q', 'read'), { type: 'AclRuleRemoved', data: { id: 7 } }])
      .when({ type: 'AddAclRule', data: { principal: 'anonymous', topic: 'q', access: 'read' } })
      .then([{ type: 'AclRuleAdded', data: { id: 8, principal: 'anonymous', topic: 'q', access: 'read', description: '' } }]);
  });

  for (const access of ACCESS_VALUES) {
    it(`accepts the access word "${access}" [ref §2.1]`, () => {
      assert.equal(given(world).when({ type: 'AddAclRule', data: { principal: 'anonymous', topic: 't', access } }).then([
        { type: 'AclRuleAdded', data: { id: 2, principal: 'anonymous', topic: 't', access, description: '' } },
      ]).length, 1);
    });
  }

  for (const access of ['READ', 'Read', 'rw', 'subscribe', 'all', 'none', '', ' read', 'read ', 'readwrite\n', 'allow']) {
    it(`refuses the access word ${JSON.stringify(access)} with MCM_ERR_ACCESS_INVALID, listing the allowed words`, () => {
      const err = given(world).when({ type: 'AddAclRule', data: { principal: 'anonymous', topic: 't', access } }).thenThrows('MCM_ERR_ACCESS_INVALID');
      assert.deepEqual(err.details[0]?.['allowed'], ['read', 'write', 'readwrite', 'deny']);
    });
  }

  it('refuses a non-string access with MCM_ERR_ACCESS_INVALID', () => {
    given(world).when({ type: 'AddAclRule', data: { principal: 'anonymous', topic: 't', access: 1 as unknown as string } }).thenThrows('MCM_ERR_ACCESS_INVALID');
  });

  for (const topic of ['a/#/b', 'a+/b', 'a/b#', '', ' a']) {
    it(`refuses the topic filter ${JSON.stringify(topic)} with MCM_ERR_TOPIC_FILTER_INVALID [ref §2.1]`, () => {
      given(world).when({ type: 'AddAclRule', data: { principal: 'anonymous', topic, access: 'read' } }).thenThrows('MCM_ERR_TOPIC_FILTER_INVALID');
    });
  }

  it('allows %u and %c in a non-pattern rule: the broker treats them as literal text [ref §2.2]', () => {
    given(world).when({ type: 'AddAclRule', data: { principal: 'user:alice', topic: 'dev/%u/#', access: 'read' } })
      .then([{ type: 'AclRuleAdded', data: { id: 2, principal: 'user:alice', topic: 'dev/%u/#', access: 'read', description: '' } }]);
  });

  it('refuses a principal naming an unknown user with MCM_ERR_MQTT_USER_NOT_FOUND, an unknown role with MCM_ERR_ROLE_NOT_FOUND', () => {
    given(world).when({ type: 'AddAclRule', data: { principal: 'user:bob', topic: 't', access: 'read' } }).thenThrows('MCM_ERR_MQTT_USER_NOT_FOUND');
    given(world).when({ type: 'AddAclRule', data: { principal: 'role:dev', topic: 't', access: 'read' } }).thenThrows('MCM_ERR_ROLE_NOT_FOUND');
    given(world).when({ type: 'AddAclRule', data: { principal: 'user:constructor', topic: 't', access: 'read' } }).thenThrows('MCM_ERR_MQTT_USER_NOT_FOUND');
  });

  for (const principal of ['alice', 'user:', 'user:a/b', 'user: alice', 'role:', 'role:a b', 'group:x', 'Anonymous', 'patterns', 'USER:alice', '', 42, null]) {
    it(`refuses the principal ${JSON.stringify(principal)} with MCM_ERR_PRINCIPAL_INVALID`, () => {
      given(world).when({ type: 'AddAclRule', data: { principal: principal as string, topic: 't', access: 'read' } }).thenThrows('MCM_ERR_PRINCIPAL_INVALID');
    });
  }

  it('refuses the same (principal, topic, access) twice with MCM_ERR_ACL_RULE_EXISTS, naming the existing rule', () => {
    const err = given(world).when({ type: 'AddAclRule', data: { principal: 'user:alice', topic: 'a/#', access: 'read', description: 'dup' } })
      .thenThrows('MCM_ERR_ACL_RULE_EXISTS');
    assert.equal(err.details[0]?.['id'], 1);
    assert.match(err.message, /rule 1/);
  });

  it('allows the same topic with another access word or for another principal', () => {
    given(world).when({ type: 'AddAclRule', data: { principal: 'user:alice', topic: 'a/#', access: 'deny' } })
      .then([{ type: 'AclRuleAdded', data: { id: 2, principal: 'user:alice', topic: 'a/#', access: 'deny', description: '' } }]);
    given(world).when({ type: 'AddAclRule', data: { principal: 'anonymous', topic: 'a/#', access: 'read' } })
      .then([{ type: 'AclRuleAdded', data: { id: 2, principal: 'anonymous', topic: 'a/#', access: 'read', description: '' } }]);
  });

  it('refuses a bad description with MCM_ERR_DESCRIPTION_INVALID', () => {
    given(world).when({ type: 'AddAclRule', data: { principal: 'anonymous', topic: 't', access: 'read', description: 'a\rb' } }).thenThrows('MCM_ERR_DESCRIPTION_INVALID');
  });
});

describe('ChangeAclRule', () => {
  const w = [...world, ev.ruleAdded(2, 'user:alice', 'b', 'write', 'old')];

  it('changes topic, access and description, keeping the principal', () => {
    given(w).when({ type: 'ChangeAclRule', data: { id: 2, topic: 'b/#', access: 'readwrite', description: 'new' } })
      .then([{ type: 'AclRuleChanged', data: { id: 2, topic: 'b/#', access: 'readwrite', description: 'new' } }]);
  });

  it('fills fields not given from the current rule', () => {
    given(w).when({ type: 'ChangeAclRule', data: { id: 2, access: 'deny' } })
      .then([{ type: 'AclRuleChanged', data: { id: 2, topic: 'b', access: 'deny', description: 'old' } }]);
  });

  it('is a no-op ([]) when nothing changes', () => {
    given(w).when({ type: 'ChangeAclRule', data: { id: 2, topic: 'b', access: 'write', description: 'old' } }).then([]);
    given(w).when({ type: 'ChangeAclRule', data: { id: 2 } }).then([]);
  });

  it('refuses to make it equal to another rule of the principal with MCM_ERR_ACL_RULE_EXISTS', () => {
    given(w).when({ type: 'ChangeAclRule', data: { id: 2, topic: 'a/#', access: 'read' } }).thenThrows('MCM_ERR_ACL_RULE_EXISTS');
  });

  it('validates like AddAclRule', () => {
    given(w).when({ type: 'ChangeAclRule', data: { id: 2, topic: '#/a' } }).thenThrows('MCM_ERR_TOPIC_FILTER_INVALID');
    given(w).when({ type: 'ChangeAclRule', data: { id: 2, access: 'full' } }).thenThrows('MCM_ERR_ACCESS_INVALID');
    given(w).when({ type: 'ChangeAclRule', data: { id: 2, description: 'x'.repeat(2000) } }).thenThrows('MCM_ERR_DESCRIPTION_INVALID');
  });

  it('refuses an unknown id with MCM_ERR_ACL_RULE_NOT_FOUND and a non-integer id with MCM_ERR_VALIDATION', () => {
    given(w).when({ type: 'ChangeAclRule', data: { id: 99, access: 'read' } }).thenThrows('MCM_ERR_ACL_RULE_NOT_FOUND');
    given(w).when({ type: 'ChangeAclRule', data: { id: 1.5, access: 'read' } }).thenThrows('MCM_ERR_VALIDATION');
    given(w).when({ type: 'ChangeAclRule', data: { id: '1' as unknown as number, access: 'read' } }).thenThrows('MCM_ERR_VALIDATION');
  });
});

describe('RemoveAclRule', () => {
  it('removes an existing rule, whatever its principal', () => {
    given(world).when({ type: 'RemoveAclRule', data: { id: 1 } }).then([{ type: 'AclRuleRemoved', data: { id: 1 } }]);
  });
  it('refuses an unknown id with MCM_ERR_ACL_RULE_NOT_FOUND', () => {
    const err = given(world).when({ type: 'RemoveAclRule', data: { id: 2 } }).thenThrows('MCM_ERR_ACL_RULE_NOT_FOUND');
    assert.equal(err.message, 'ACL rule 2 does not exist');
  });
});

describe('the $mcm topic tree (MCM\'s enforcement probe, DESIGN §6)', () => {
  it('refuses rules whose first level is $mcm in AddAclRule, ChangeAclRule, DefineRole and UpdateRole with MCM_ERR_TOPIC_FILTER_INVALID', () => {
    const w = [ev.userCreated('alice'), ev.roleDefined('ops'), ev.ruleAdded(1, 'user:alice', 'a', 'read')];
    for (const topic of ['$mcm', '$mcm/#', '$mcm/probe/7']) {
      given(w).when({ type: 'AddAclRule', data: { principal: 'user:alice', topic, access: 'read' } }).thenThrows('MCM_ERR_TOPIC_FILTER_INVALID');
      given(w).when({ type: 'ChangeAclRule', data: { id: 1, topic } }).thenThrows('MCM_ERR_TOPIC_FILTER_INVALID');
      given(w).when({ type: 'DefineRole', data: { name: 'x', rules: [{ topic, access: 'write' }] } }).thenThrows('MCM_ERR_TOPIC_FILTER_INVALID');
      given(w).when({ type: 'UpdateRole', data: { name: 'ops', rules: [{ topic, access: 'write' }] } }).thenThrows('MCM_ERR_TOPIC_FILTER_INVALID');
    }
  });

  it('still accepts $mcmx and a deeper $mcm level', () => {
    given([]).when({ type: 'AddAclRule', data: { principal: 'anonymous', topic: '$mcmx/a', access: 'read' } })
      .then([{ type: 'AclRuleAdded', data: { id: 1, principal: 'anonymous', topic: '$mcmx/a', access: 'read', description: '' } }]);
    given([]).when({ type: 'AddAclRule', data: { principal: 'anonymous', topic: 'a/$mcm', access: 'read' } })
      .then([{ type: 'AclRuleAdded', data: { id: 1, principal: 'anonymous', topic: 'a/$mcm', access: 'read', description: '' } }]);
  });
});
