/**
 * The rule index (core/evolve/rule-index.ts, issue 14): a principal's one rule is stored as it is,
 * an array only from the second. After any sequence of adds, changes and removals it lists
 * exactly the principal's rules in the state, as the same objects.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { DomainEvent } from '../../core/events.ts';
import { buildRuleIndexStep, rulesByPrincipal } from '../../core/evolve/rule-index.ts';
import { initialState } from '../../core/state.ts';
import { append } from '../helpers/command-arb.ts';
import { ev } from '../helpers/decider-spec.ts';

const PRINCIPALS = ['user:alice', 'user:bob', 'role:r'] as const;

describe('rule index', () => {
  it('lists exactly each principal\'s rules, as the state\'s objects, after any adds, changes and removals', () => {
    const op = fc.oneof(
      fc.record({ id: fc.integer({ min: 1, max: 6 }), who: fc.constantFrom(...PRINCIPALS), topic: fc.constantFrom('a', 'b/#', 'c/+') })
        .map(({ id, who, topic }) => ({ kind: 'add' as const, id, who, topic })),
      fc.record({ id: fc.integer({ min: 1, max: 6 }), topic: fc.constantFrom('x', 'y/#') }).map(({ id, topic }) => ({ kind: 'change' as const, id, topic })),
      fc.integer({ min: 1, max: 6 }).map((id) => ({ kind: 'remove' as const, id })),
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
      const state = initialState();
      rulesByPrincipal(state.rules, 'user:alice'); // the index exists from the start, and is kept current
      for (const o of ops) {
        const exists = Object.hasOwn(state.rules, String(o.id));
        let e: DomainEvent | null = null;
        if (o.kind === 'add' && !exists) e = ev.ruleAdded(o.id, o.who, o.topic, 'read');
        if (o.kind === 'change' && exists) e = { type: 'AclRuleChanged', data: { id: o.id, topic: o.topic, access: 'write', description: '' } };
        if (o.kind === 'remove' && exists) e = { type: 'AclRuleRemoved', data: { id: o.id } };
        if (e === null) continue;
        append(state, [e]);
        for (const p of PRINCIPALS) {
          const want = Object.values(state.rules).filter((r) => r.principal === p).sort((a, b) => a.id - b.id);
          const got = [...rulesByPrincipal(state.rules, p)].sort((a, b) => a.id - b.id);
          assert.equal(got.length, want.length, p);
          got.forEach((r, i) => assert.equal(r, want[i], `${p}: rule ${r.id} is the state's object`));
        }
      }
    }), { numRuns: 300 });
  });

  it('built in steps (the server\'s warm-up) while rules change, lists exactly the same as built at once (issue 14)', () => {
    const op = fc.oneof(
      fc.record({ id: fc.integer({ min: 1, max: 8 }), who: fc.constantFrom(...PRINCIPALS), topic: fc.constantFrom('a', 'b/#') })
        .map(({ id, who, topic }) => ({ kind: 'add' as const, id, who, topic })),
      fc.record({ id: fc.integer({ min: 1, max: 8 }), topic: fc.constantFrom('x', 'y/#') }).map(({ id, topic }) => ({ kind: 'change' as const, id, topic })),
      fc.integer({ min: 1, max: 8 }).map((id) => ({ kind: 'remove' as const, id })),
      fc.integer({ min: 1, max: 3 }).map((budget) => ({ kind: 'step' as const, budget })),
    );
    fc.assert(fc.property(fc.array(op, { minLength: 4, maxLength: 40 }), fc.integer({ min: 0, max: 8 }), (ops, rulesFirst) => {
      const state = initialState();
      append(state, Array.from({ length: rulesFirst }, (_, i) => ev.ruleAdded(100 + i, PRINCIPALS[i % 3] as (typeof PRINCIPALS)[number], `t/${i}`, 'read')));
      for (const o of ops) {
        if (o.kind === 'step') {
          buildRuleIndexStep(state.rules, o.budget);
          continue;
        }
        const exists = Object.hasOwn(state.rules, String(o.id));
        let e: DomainEvent | null = null;
        if (o.kind === 'add' && !exists) e = ev.ruleAdded(o.id, o.who, o.topic, 'read');
        if (o.kind === 'change' && exists) e = { type: 'AclRuleChanged', data: { id: o.id, topic: o.topic, access: 'write', description: '' } };
        if (o.kind === 'remove' && exists) e = { type: 'AclRuleRemoved', data: { id: o.id } };
        if (e !== null) append(state, [e]);
      }
      while (!buildRuleIndexStep(state.rules, 1)) { /* to the end */ }
      for (const p of PRINCIPALS) {
        const want = Object.values(state.rules).filter((r) => r.principal === p).sort((a, b) => a.id - b.id);
        const got = [...rulesByPrincipal(state.rules, p)].sort((a, b) => a.id - b.id);
        assert.deepEqual(got.map((r) => r.id), want.map((r) => r.id), p);
        got.forEach((r, i) => assert.equal(r, want[i], `${p}: rule ${r.id} is the state's object`));
      }
    }), { numRuns: 300 });
  });
});
