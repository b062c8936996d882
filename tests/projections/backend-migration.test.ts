/**
 * Issue 15: the plan of `mcm migrate` — given the log, when switching to a backend, then what is
 * refused and where the two evaluation orders decide differently.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filtersIntersect, planBackendMigration } from '../../projections/backend-migration.ts';
import { ev, given } from '../helpers/decider-spec.ts';

test('filtersIntersect: some topic matches both', () => {
  const yes = [['a/#', 'a/b'], ['a/+', 'a/b'], ['+/b', 'a/+'], ['a/#', 'a'], ['#', 'x/y'], ['a/+/c', 'a/b/#'], ['$SYS/#', '$SYS/x']];
  const no = [['a/b', 'a/c'], ['a/+', 'a/b/c'], ['#', '$SYS/x'], ['+/x', '$SYS/x'], ['a', 'a/b']];
  for (const [a, b] of yes) assert.equal(filtersIntersect(a!, b!), true, `${a} ∩ ${b}`);
  for (const [a, b] of no) assert.equal(filtersIntersect(a!, b!), false, `${a} ∩ ${b}`);
});

const state = given([
  ev.userCreated('ana'), ev.userCreated('ben'),
  ev.roleDefined('ops'), ev.roleDefined('zz-locked'),
  ev.granted('ana', 'zz-locked'), ev.granted('ben', 'ops'), ev.granted('ben', 'zz-locked'),
  ev.ruleAdded(1, 'user:ana', 'plant/#', 'write'),
  ev.ruleAdded(2, 'role:zz-locked', 'plant/secret', 'deny'),
  ev.ruleAdded(3, 'role:ops', 'plant/+', 'read'),
  ev.ruleAdded(4, 'pattern', 'dev/%c/#', 'write'),
]).state;

test('to dynsec: pattern rules are refused; an earlier allow overlapping a later deny is named', () => {
  const p = planBackendMigration(state, 'dynsec', 'mcm-service');
  assert.deepEqual(p.refusals, ['rule 4 (write dev/%c/#) is a pattern rule: the dynamic-security plugin of Mosquitto 2.0 has no %c/%u substitution; replace it with user or role rules']);
  assert.deepEqual(p.changes.slice(1), [
    'user ana: its own rule 1 (write plant/#) and role zz-locked\'s rule 2 (deny plant/secret) overlap: the plugin checks the allow first, so the user gains access the ACL file denied',
    'user ben: role ops\'s rule 3 (read plant/+) and role zz-locked\'s rule 2 (deny plant/secret) overlap: the plugin checks the allow first, so the user gains access the ACL file denied',
  ]);
  assert.match(p.changes[0]!, /^subscriptions are checked/);
  assert.deepEqual(p.counts, { users: 2, roles: 2, rules: 4 });
});

test('to files: nothing is refused; the same overlaps now go the deny\'s way', () => {
  const p = planBackendMigration(state, 'files', 'mcm-service');
  assert.deepEqual(p.refusals, []);
  assert.match(p.changes[0]!, /^subscriptions are no longer checked/);
  assert.match(p.changes[1]!, /the ACL file checks the deny first/);
});
