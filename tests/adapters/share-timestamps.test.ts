/** shareTimestamps (adapters/memory/share-timestamps.ts, issue 14): one string per distinct time, nothing else changed. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { collectGarbage } from '../../adapters/memory/collect-garbage.ts';
import { shareTimestamps } from '../../adapters/memory/share-timestamps.ts';
import { fold } from '../../core/evolve.ts';
import type { BrokerConfig } from '../../core/state.ts';
import { ev, record } from '../helpers/decider-spec.ts';

it('leaves the state equal to what it was', () => {
  const events = record([ev.userCreated('alice'), ev.userCreated('bob'), ev.ruleAdded(1, 'user:alice', 'a/#', 'read'), ev.roleDefined('ops')]);
  const state = JSON.parse(JSON.stringify(fold(events))) as BrokerConfig;
  const before = JSON.stringify(state);
  assert.equal(shareTimestamps(state), 1, 'record() gives every event the same time');
  assert.equal(JSON.stringify(state), before);
});

it('frees the copies a snapshot\'s JSON made of equal timestamps', () => {
  const users: Record<string, unknown> = {};
  for (let i = 0; i < 100_000; i++) {
    const at = `2026-01-0${1 + (i % 3)}T00:00:00.000Z`;
    users[`u${i}`] = { username: `u${i}`, passwordHash: '', description: '', disabled: false, roles: [], createdAt: at, updatedAt: at };
  }
  // Parsed, as a snapshot is read: 200,000 string objects of 3 values.
  const state = JSON.parse(JSON.stringify({ ...fold([]), users })) as BrokerConfig;
  collectGarbage();
  const held = process.memoryUsage().heapUsed;
  assert.equal(shareTimestamps(state), 3);
  collectGarbage();
  const freed = held - process.memoryUsage().heapUsed;
  assert.ok(freed > 4 * 2 ** 20, `freed ${(freed / 2 ** 20).toFixed(1)} MiB of about 8 MiB of copies`);
  assert.equal(Object.keys(state.users).length, 100_000);
});
