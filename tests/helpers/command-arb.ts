/**
 * Random command sequences over a small name space (issue 14, 15): incremental projections are
 * property-tested against their full counterparts with these.
 */
import fc from 'fast-check';
import type { Command } from '../../core/commands.ts';
import { decide } from '../../core/decide.ts';
import { DomainError } from '../../core/errors.ts';
import type { DomainEvent } from '../../core/events.ts';
import { evolve } from '../../core/evolve.ts';
import type { BrokerConfig } from '../../core/state.ts';
import { AT, HASH_A, HASH_B } from './decider-spec.ts';

export const SA = { username: 'mcm-service', passwordHash: HASH_A };
export const CTX = { serviceAccount: SA.username };

/** Folds `events` into `state` in place, as the store does, from seq `state.seq + 1`. */
export const append = (state: BrokerConfig, events: readonly DomainEvent[]): void => {
  for (const e of events) evolve(state, { ...e, seq: state.seq + 1, at: AT } as Parameters<typeof evolve>[1]);
};

export const names = ['alice', 'bob', '__proto__', 'Émile'];
export const roles = ['r1', 'r2'];
export const principals = [...names.map((n) => `user:${n}`), ...roles.map((r) => `role:${r}`), 'anonymous', 'pattern'];
export const topics = ['a/#', 'a/b', 'a/+', '#', 'x/%u/#', 'x/%c', 'sensors/+/temp', 'b'];
export const accesses = ['read', 'write', 'readwrite', 'deny'];

export const nameArb = fc.constantFrom(...names);
export const roleArb = fc.constantFrom(...roles);
export const commandArb: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ username: nameArb, hash: fc.constantFrom(HASH_A, HASH_B), disabled: fc.boolean(), roles: fc.subarray(roles) })
    .map(({ username, hash, disabled, roles: r }) => ({ type: 'CreateMqttUser', data: { username, passwordHash: hash, disabled, roles: r } })),
  fc.record({ username: nameArb, hash: fc.constantFrom(HASH_A, HASH_B) })
    .map(({ username, hash }) => ({ type: 'ChangeMqttUserPassword', data: { username, passwordHash: hash } })),
  fc.record({ username: nameArb, disabled: fc.boolean(), description: fc.constantFrom('', 'x') })
    .map((d) => ({ type: 'UpdateMqttUser', data: d })),
  fc.record({ username: nameArb, roles: fc.subarray(roles) }).map((d) => ({ type: 'UpdateMqttUser', data: d })),
  nameArb.map((username) => ({ type: 'DeleteMqttUser', data: { username } })),
  roleArb.map((name) => ({ type: 'DefineRole', data: { name } })),
  roleArb.map((name) => ({ type: 'DeleteRole', data: { name } })),
  fc.record({ username: nameArb, role: roleArb }).map((d) => ({ type: 'GrantRole', data: d })),
  fc.record({ username: nameArb, role: roleArb }).map((d) => ({ type: 'RevokeRole', data: d })),
  fc.record({ principal: fc.constantFrom(...principals), topic: fc.constantFrom(...topics), access: fc.constantFrom(...accesses) })
    .map((d) => ({ type: 'AddAclRule', data: d })),
  fc.record({ id: fc.integer({ min: 1, max: 30 }), topic: fc.constantFrom(...topics), access: fc.constantFrom(...accesses) })
    .map((d) => ({ type: 'ChangeAclRule', data: d })),
  fc.integer({ min: 1, max: 30 }).map((id) => ({ type: 'RemoveAclRule', data: { id } })),
  fc.boolean().map((allowAnonymous) => ({ type: 'ChangeSettings', data: { allowAnonymous } })),
) as fc.Arbitrary<Command>;

export const PRELUDE: Command[] = [
  { type: 'DefineRole', data: { name: 'r1' } },
  { type: 'DefineRole', data: { name: 'r2' } },
  { type: 'CreateMqttUser', data: { username: 'alice', passwordHash: HASH_A, roles: ['r1'] } },
  { type: 'CreateMqttUser', data: { username: 'bob', passwordHash: HASH_B, roles: ['r1', 'r2'] } },
  { type: 'AddAclRule', data: { principal: 'role:r1', topic: 'a/b', access: 'read' } },
];

/** Runs `command` through decide; a refused command changes nothing (as on every path). */
export const run = (state: BrokerConfig, command: Command): void => {
  try {
    append(state, decide(command, state, CTX));
  } catch (e) {
    if (!(e instanceof DomainError)) throw e;
  }
};
