/**
 * Decider specifications (STYLE §2.4 principle 9):
 *   given([events]).when(command).then([expected events])
 *   given([events]).when(command).thenThrows('MCM_ERR_…')
 * `given` folds the events with seq 1.. and a fixed `at`, then deep-freezes the state, so every
 * spec also proves that decide never mutates its input. Don't `await` a spec: `then` is a method.
 */
import assert from 'node:assert/strict';
import type { Access, Principal } from '../../core/acl-types.ts';
import type { Command } from '../../core/commands.ts';
import { decide } from '../../core/decide.ts';
import { DomainError } from '../../core/errors.ts';
import type { DomainEvent, EventOf } from '../../core/events.ts';
import { fold, type Recorded } from '../../core/evolve.ts';
import type { AdminRole, BrokerConfig } from '../../core/state.ts';

/** The `at` of every event folded by `given`. */
export const AT = '2026-01-02T03:04:05.000Z';

/** A valid `$7$` hash field (reference §1.5 vector 1, user alice). */
export const HASH_A = '$7$101$XKm0/ruYS/eOrtlr$inRGfPMzec7uMWnXImeyhIxXW7aCqWkK6swGkFbduAfuxktrNQnfl4PozSrkZVETuXyLXXN79ndKVLAobuKFgw==';
/** Another valid `$7$` hash field (reference §1.5 vector 2, user "bob smith"). */
export const HASH_B = '$7$101$pWu5sQhWrFRdXtac$fvy0YxvFLI7jkiFMQ0Kq46MtpJgVcUbWGxEdh4lgRe6FDCHw9U2c95AJSEmnd2lL47luNmza0qC484qdtboB7A==';
/** bcrypt-shaped hashes (`$2b$12$` + 53 chars). */
export const BCRYPT_A = `$2b$12$${'a'.repeat(22)}${'A'.repeat(31)}`;
export const BCRYPT_B = `$2b$12$${'b'.repeat(22)}${'B'.repeat(31)}`;
export const bcrypt = (n: number): string => `$2b$10$${String(n).padStart(22, '0')}${'x'.repeat(31)}`;

/** Builders for the events most specs start from. */
export const ev = {
  userCreated: (username: string, o: { passwordHash?: string; description?: string; disabled?: boolean } = {}): EventOf<'MqttUserCreated'> => ({
    type: 'MqttUserCreated',
    data: { username, passwordHash: o.passwordHash ?? HASH_A, description: o.description ?? '', disabled: o.disabled ?? false },
  }),
  roleDefined: (role: string, description = ''): EventOf<'RoleDefined'> => ({ type: 'RoleDefined', data: { role, description } }),
  granted: (username: string, role: string): EventOf<'RoleGranted'> => ({ type: 'RoleGranted', data: { username, role } }),
  ruleAdded: (id: number, principal: Principal, topic: string, access: Access, description = ''): EventOf<'AclRuleAdded'> => ({
    type: 'AclRuleAdded', data: { id, principal, topic, access, description },
  }),
  adminCreated: (username: string, role: AdminRole = 'admin', passwordHash = BCRYPT_A): EventOf<'AdminUserCreated'> => ({
    type: 'AdminUserCreated', data: { username, passwordHash, role },
  }),
} as const;

/** Events as the store would record them: seq 1.., the fixed AT. */
export const record = (events: readonly DomainEvent[], firstSeq = 1): Recorded[] =>
  events.map((e, i) => ({ ...e, seq: firstSeq + i, at: AT }) as Recorded);

export const deepFreeze = <T>(value: T): T => {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
};

export type Spec = Readonly<{
  /** The events decide returns, in order. */
  then: (expected: readonly DomainEvent[]) => DomainEvent[];
  /** decide throws a DomainError with this code; returns it for further assertions. */
  thenThrows: (code: string) => DomainError;
}>;

export const given = (events: readonly DomainEvent[] = []) => {
  const state: BrokerConfig = deepFreeze(fold(record(events)));
  return {
    state,
    when: (command: Command): Spec => ({
      then: (expected) => {
        const actual = decide(command, state);
        assert.deepStrictEqual(actual, expected);
        return actual;
      },
      thenThrows: (code) => {
        let caught: unknown;
        try {
          const events = decide(command, state);
          assert.fail(`expected ${code}, but decide returned ${JSON.stringify(events)}`);
        } catch (e) {
          caught = e;
        }
        assert.ok(caught instanceof DomainError, `expected a DomainError ${code}, got ${String(caught)}`);
        assert.equal(caught.code, code, `expected ${code}, got ${caught.code}: ${caught.message}`);
        assert.ok(caught.message.length > 0);
        return caught;
      },
    }),
  };
};
