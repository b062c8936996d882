import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DomainEvent } from '../../core/events.ts';
import { fold } from '../../core/evolve.ts';
import type { BrokerConfig } from '../../core/state.ts';
import {
  createViewCache, filterAclRules, listAclRules, listJsonSchemas, listMqttUsers, listRoles, roleDetail, settingsView,
} from '../../projections/views.ts';
import { AT, ev, record } from '../helpers/decider-spec.ts';

const stateOf = (events: DomainEvent[]): BrokerConfig => fold(record(events));

const basic = (): BrokerConfig => stateOf([
  ev.userCreated('zoe', { description: 'last' }),
  ev.userCreated('alice', { description: 'first' }),
  ev.userCreated('Bob'),
  ev.roleDefined('sensors', 'sensor devices'),
  ev.roleDefined('admins'),
  ev.granted('zoe', 'sensors'),
  ev.granted('alice', 'sensors'),
  ev.ruleAdded(2, 'role:sensors', 'plant/+/temp', 'write'),
  ev.ruleAdded(1, 'user:alice', 'alice/#', 'readwrite', 'own tree'),
  ev.ruleAdded(3, 'anonymous', 'public/#', 'read'),
]);

describe('projections/views: API views of the desired state (DESIGN §8, snake_case)', () => {
  it('lists MQTT users sorted by username in code-unit order, without password hashes', () => {
    const users = listMqttUsers(basic());
    assert.deepEqual(users.map((u) => u.username), ['Bob', 'alice', 'zoe']);
    assert.deepEqual(users[1], {
      username: 'alice', description: 'first', roles: ['sensors'], disabled: false, created_at: AT, updated_at: AT,
    });
    assert.ok(!JSON.stringify(users).includes('$7$'), 'no hash in any view');
  });

  it('lists rules by id with snake_case timestamps, and filters them by exact principal and topic', () => {
    const rules = listAclRules(basic());
    assert.deepEqual(rules.map((r) => r.id), [1, 2, 3]);
    assert.deepEqual(rules[0], {
      id: 1, principal: 'user:alice', topic: 'alice/#', access: 'readwrite', description: 'own tree', created_at: AT, updated_at: AT,
    });
    assert.deepEqual(filterAclRules(rules, { principal: 'role:sensors' }).map((r) => r.id), [2]);
    assert.deepEqual(filterAclRules(rules, { topic: 'public/#' }).map((r) => r.id), [3]);
    assert.deepEqual(filterAclRules(rules, { principal: 'role:sensors', topic: 'public/#' }), []);
  });

  it('lists roles with the users they are granted to and their rule count; detail adds the rules', () => {
    const state = basic();
    assert.deepEqual(listRoles(state).map((r) => [r.name, r.users, r.rule_count]), [
      ['admins', [], 0],
      ['sensors', ['alice', 'zoe'], 1],
    ]);
    const detail = roleDetail(state, 'sensors');
    assert.equal(detail?.description, 'sensor devices');
    assert.deepEqual(detail?.rules.map((r) => r.topic), ['plant/+/temp']);
    assert.equal(roleDetail(state, 'nope'), null);
    assert.equal(roleDetail(state, '__proto__'), null, 'an inherited property is not a role');
  });

  it('shows JSON schemas and settings in snake_case', () => {
    const state = stateOf([
      { type: 'SchemaAttached', data: { id: 1, name: 'temp', topicFilter: 'plant/#', schema: { type: 'object' }, enabled: true, description: '' } },
      { type: 'AnonymousAccessChanged', data: { allowed: true } },
      { type: 'HashIterationsChanged', data: { iterations: 1000 } },
    ]);
    assert.deepEqual(listJsonSchemas(state), [{
      id: 1, name: 'temp', topic_filter: 'plant/#', schema: { type: 'object' }, enabled: true, description: '', created_at: AT, updated_at: AT,
    }]);
    assert.deepEqual(settingsView(state), { allow_anonymous: true, hash_iterations: 1000 });
  });
});

describe('projections/views: createViewCache', () => {
  it('returns the same sorted list while the state seq is unchanged, and a fresh one after an event', () => {
    const cache = createViewCache();
    const state = basic();
    const first = cache.mqttUsers(state);
    assert.equal(cache.mqttUsers(state), first, 'same seq → the cached array, no re-sort');
    fold(record([ev.userCreated('carol')], state.seq + 1), state); // the store folds in place
    const second = cache.mqttUsers(state);
    assert.notEqual(second, first);
    assert.deepEqual(second.map((u) => u.username), ['Bob', 'alice', 'carol', 'zoe']);
  });

  it('does not serve one state object\'s list for another with the same seq (time travel)', () => {
    const cache = createViewCache();
    const a = stateOf([ev.userCreated('a')]);
    const b = stateOf([ev.userCreated('b')]);
    assert.deepEqual(cache.mqttUsers(a).map((u) => u.username), ['a']);
    assert.deepEqual(cache.mqttUsers(b).map((u) => u.username), ['b']);
  });
});
