/**
 * MCM's service account is reserved in the core (issue "second hardening round"), for every path
 * that builds commands — HTTP, CLI, GitOps, import — not checked again in each adapter: MCM
 * renders its password line and ACL block itself (DESIGN §6).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide } from '../../core/decide.ts';
import { isDomainError } from '../../core/errors.ts';
import { fold } from '../../core/evolve.ts';
import type { Command } from '../../core/commands.ts';
import { HASH_A, ev } from '../helpers/decider-spec.ts';

const SA = 'mcm-service';
const reserved = (e: unknown): boolean => isDomainError(e) && e.code === 'MCM_ERR_USERNAME_RESERVED';

describe('the service account name is reserved by decide', () => {
  // A log from before the rule may hold a user of that name: it must not be managed either.
  const state = fold([ev.userCreated(SA), ev.roleDefined('ops')].map((e, i) => ({ ...e, seq: i + 1, at: '2026-01-01T00:00:00.000Z' })));
  const commands: Command[] = [
    { type: 'CreateMqttUser', data: { username: SA, passwordHash: HASH_A } },
    { type: 'ChangeMqttUserPassword', data: { username: SA, passwordHash: HASH_A } },
    { type: 'UpdateMqttUser', data: { username: SA, description: 'x' } },
    { type: 'DeleteMqttUser', data: { username: SA } },
    { type: 'GrantRole', data: { username: SA, role: 'ops' } },
    { type: 'RevokeRole', data: { username: SA, role: 'ops' } },
    { type: 'AddAclRule', data: { principal: `user:${SA}`, topic: 'a/#', access: 'read' } },
  ];
  for (const c of commands) {
    it(`refuses ${c.type} on "${SA}" with MCM_ERR_USERNAME_RESERVED`, () => {
      assert.throws(() => decide(c, state, { serviceAccount: SA }), reserved);
    });
  }

  it("refuses the form of MCM's password-file marker user (mcm-pwfile-<16 hex>) too", () => {
    assert.throws(() => decide({ type: 'CreateMqttUser', data: { username: 'mcm-pwfile-0123456789abcdef', passwordHash: HASH_A } }, state, {}), reserved);
    assert.equal(decide({ type: 'CreateMqttUser', data: { username: 'mcm-pwfile-notes', passwordHash: HASH_A } }, state, {}).length, 1);
  });

  it('leaves other names alone', () => {
    assert.equal(decide({ type: 'CreateMqttUser', data: { username: 'alice', passwordHash: HASH_A } }, state, { serviceAccount: SA }).length, 1);
  });
});
