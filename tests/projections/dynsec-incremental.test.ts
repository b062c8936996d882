/**
 * Issue 15 on issue 14's terms: the incremental dynamic-security model equals the full model after
 * any sequence of commands, and says which entries changed, so an apply that plans only those
 * entries against what the plugin was last given sends exactly what a full diff would.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fold } from '../../core/evolve.ts';
import { initialState } from '../../core/state.ts';
import { buildDynsecModel, type DynsecModel } from '../../projections/dynsec-model.ts';
import { createDynsecModeler } from '../../projections/dynsec-incremental.ts';
import { planDynsec, type DynsecActual } from '../../projections/dynsec-plan.ts';
import { HASH_B } from '../helpers/decider-spec.ts';
import { commandArb, PRELUDE, run, SA } from '../helpers/command-arb.ts';

const OPTS = { serviceAccount: SA.username, serviceAccountHash: HASH_B };
const actualOf = (m: DynsecModel): DynsecActual => ({
  defaultACLAccess: m.defaultACLAccess, groups: m.groups, anonymousGroup: m.anonymousGroup, roles: m.roles,
  clients: m.clients.map((c) => ({ username: c.username, textdescription: c.textdescription, disabled: c.disabled, roles: c.roles, groups: [] })),
});
const subset = (m: DynsecModel, clients: ReadonlySet<string>, roles: ReadonlySet<string>): DynsecModel => ({
  ...m, clients: m.clients.filter((c) => clients.has(c.username)), roles: m.roles.filter((r) => roles.has(r.rolename)),
});

test('the incremental model is the full model after every command, and its change sets cover every difference', () => {
  fc.assert(fc.property(fc.array(fc.array(commandArb, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 12 }), (bursts) => {
    const state = fold([], initialState());
    for (const c of PRELUDE) run(state, c);
    const modeler = createDynsecModeler(OPTS);
    assert.equal(modeler.update(state).full, true);
    let before = buildDynsecModel(state, OPTS);
    assert.deepEqual(modeler.model(), before);
    for (const burst of bursts) {
      for (const c of burst) run(state, c);
      const change = modeler.update(state);
      assert.equal(change.full, false);
      const after = buildDynsecModel(state, OPTS);
      assert.deepEqual(modeler.model(), after);
      // Planning only the changed entries finds the same commands as planning everything.
      const whole = planDynsec(actualOf(before), after, () => 'keep').commands;
      const part = planDynsec(actualOf(subset(before, change.clients, change.roles)), subset(after, change.clients, change.roles), () => 'keep').commands;
      assert.deepEqual(part, whole);
      before = after;
    }
  }), { numRuns: 300 });
});
