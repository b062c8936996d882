/**
 * One writer per database, not per process (issue "second hardening round"): CLI processes that
 * write to one server-less data dir at the same time each decide inside the database's write
 * transaction, on the state with the others' events folded in. Before, each decided on the state
 * it loaded at start: ten `mcm acl add` all took rule id 7 and nine rules silently vanished from
 * the folded state; two `mcm users add alice` both "created" alice, the second resetting her.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cliWorld } from '../helpers/cli.ts';
import { fold } from '../../core/evolve.ts';

const HASH = '$7$101$XKm0/ruYS/eOrtlr$inRGfPMzec7uMWnXImeyhIxXW7aCqWkK6swGkFbduAfuxktrNQnfl4PozSrkZVETuXyLXXN79ndKVLAobuKFgw==';

test('given a data dir with user alice, when 10 `mcm acl add` run at once, then there are 10 distinct rules', async (t) => {
  const world = cliWorld(t, [{ type: 'CreateMqttUser', data: { username: 'alice', passwordHash: HASH } }]);
  const runs = await Promise.all(Array.from({ length: 10 }, (_, i) =>
    world.run('acl', 'add', '--principal', 'user:alice', '--topic', `plant/line-${i}/#`, '--access', 'read')));
  for (const r of runs) assert.equal(r.code, 0, r.stderr);
  const state = world.state();
  const rules = Object.values(state.rules);
  assert.equal(rules.length, 10, JSON.stringify(rules));
  assert.equal(new Set(rules.map((r) => r.id)).size, 10, 'every rule has its own id');
  assert.deepEqual(rules.map((r) => r.topic).sort(), Array.from({ length: 10 }, (_, i) => `plant/line-${i}/#`).sort());
  // The log itself folds to the same: no two AclRuleAdded events share an id.
  const added = world.events().filter((e) => e.type === 'AclRuleAdded').map((e) => (e.data as { id: number }).id);
  assert.equal(new Set(added).size, 10);
  assert.equal(Object.keys(fold(world.events()).rules).length, 10);
});

test('given an empty data dir, when two `mcm users add alice` run at once, then one succeeds and the other gets a conflict', async (t) => {
  const world = cliWorld(t);
  const runs = await Promise.all([
    world.run('users', 'add', 'alice', '--password', 'first-Pa55word', '--description', 'first'),
    world.run('users', 'add', 'alice', '--password', 'second-Pa55word', '--description', 'second'),
  ]);
  const codes = runs.map((r) => r.code).sort();
  assert.deepEqual(codes, [0, 1], runs.map((r) => r.stderr).join('\n'));
  const refused = runs.find((r) => r.code === 1);
  assert.match(refused?.stderr ?? '', /MCM_ERR_MQTT_USER_EXISTS/);
  const created = world.events().filter((e) => e.type === 'MqttUserCreated');
  assert.equal(created.length, 1, 'alice was created once');
});
