/**
 * Group commit (issue 14): commands submitted in one turn are decided in order and committed in
 * ONE write transaction; a refused one changes nothing for the others; a failure of the group
 * writes nothing and reaches every caller.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { createSqliteEventStore } from '../../adapters/sqlite/event-store.ts';
import { createGroupCommit } from '../../adapters/sqlite/group-commit.ts';
import { openDatabase } from '../../adapters/sqlite/open-database.ts';
import type { Command } from '../../core/commands.ts';
import { isDomainError } from '../../core/errors.ts';
import { fold } from '../../core/evolve.ts';
import { commandItem, handleCommand } from '../../core/handle-command.ts';
import { HASH_A } from '../helpers/decider-spec.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const clock = { now: () => '2026-12-07T00:00:00.000Z' };
const actor = { kind: 'system', id: 'test' } as const;

const setup = (t: TestContext) => {
  const db = openDatabase(join(tempDir(t), 'mcm.db'));
  t.after(() => db.close());
  const store = createSqliteEventStore({ db });
  let groups = 0;
  const counted = { transactGroup: <T>(items: Parameters<typeof store.transactGroup<T>>[0]) => { groups++; return store.transactGroup(items); } };
  handleCommand({ store, clock }, { type: 'CreateMqttUser', data: { username: 'alice', passwordHash: HASH_A } }, { actor });
  return { db, store, commits: createGroupCommit(counted), groups: () => groups };
};

const add = (topic: string, principal = 'user:alice'): Command => ({ type: 'AddAclRule', data: { principal, topic, access: 'read' } });

describe('group commit', () => {
  it('commits what arrives in one turn in one transaction, each decided on the state before it; a refused command changes nothing for the others', async (t) => {
    const { store, commits, groups } = setup(t);
    const deps = { store, clock };
    const head = store.headSeq();
    const results = await Promise.allSettled([
      commits.run(commandItem(deps, add('a/1'), { actor })),
      commits.run(commandItem(deps, add('a/1'), { actor })), // the same rule again: decided after the first, so refused
      commits.run(commandItem(deps, add('x', 'user:nobody'), { actor })), // refused: no such user
      commits.run(commandItem(deps, add('a/2'), { actor })),
    ]);
    assert.equal(groups(), 1, 'one transaction');
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    const reasons = results.map((r) => (r.status === 'rejected' && isDomainError(r.reason) ? r.reason.code : null));
    assert.deepEqual(reasons, [null, 'MCM_ERR_ACL_RULE_EXISTS', 'MCM_ERR_MQTT_USER_NOT_FOUND', null]);
    assert.equal(store.headSeq(), head + 2);
    assert.deepEqual(Object.values(store.state().rules).map((r) => r.topic), ['a/1', 'a/2']);
    assert.equal(store.verify().ok, true);
    // The live state is what a replay of the log gives.
    assert.deepEqual(fold(store.read()), store.state());
  });

  it('answers each caller with the state right after its own command, not the group end', async (t) => {
    const { store, commits } = setup(t);
    const deps = { store, clock };
    const seen = await Promise.all(['b/1', 'b/2', 'b/3'].map((topic) =>
      commits.run({ ...commandItem(deps, add(topic), { actor }), capture: (state) => Object.keys(state.rules).length })));
    assert.deepEqual(seen.map((s) => s.captured), [1, 2, 3]);
  });

  it('writes nothing of a group that fails, and every caller gets the failure', async (t) => {
    const { store, commits } = setup(t);
    const deps = { store, clock };
    const head = store.headSeq();
    const before = structuredClone(store.state());
    const results = await Promise.allSettled([
      commits.run(commandItem(deps, add('c/1'), { actor })),
      commits.run({ ...commandItem(deps, add('c/2'), { actor }), capture: () => { throw new Error('broken answer'); } }),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
    assert.equal(store.headSeq(), head);
    assert.deepEqual(store.state(), before);
    assert.equal(store.verify().ok, true);
  });
});
