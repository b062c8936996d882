/**
 * The incremental render (issue 14) is the full render, byte for byte, after any sequence of
 * commands; and a cached checker verdict is never reused for a block whose text changed.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { DomainEvent } from '../../core/events.ts';
import { fold } from '../../core/evolve.ts';
import { initialState, type BrokerConfig } from '../../core/state.ts';
import { JOURNAL_MAX, touchesOf } from '../../core/evolve/touches.ts';
import { renderAclFileFromState } from '../../projections/acl-file.ts';
import { checkAclFile } from '../../projections/acl-file-check.ts';
import { checkBlocks } from '../../projections/checked-blocks.ts';
import { CHUNK_SIZE, createIncrementalRenderer, type Block } from '../../projections/incremental-files.ts';
import { renderPasswordFile } from '../../projections/password-file.ts';
import { checkPasswordFile } from '../../projections/password-file-check.ts';
import { HASH_A, ev, record } from '../helpers/decider-spec.ts';
import { append, commandArb, PRELUDE, run, SA } from '../helpers/command-arb.ts';


const full = (state: BrokerConfig, generation: number) => ({
  password: renderPasswordFile(state, { serviceAccount: SA }),
  acl: renderAclFileFromState(state, { serviceAccount: SA.username, generation }),
});


/**
 * Chunks of one user (the per-user granularity the identity tests below speak of), of two and
 * three (users joining and leaving split and empty chunks), and the default.
 */
const CHUNK_SIZES = fc.constantFrom(1, 2, 3, CHUNK_SIZE);

describe('incremental render of password_file and acl_file (issue 14)', () => {
  it('equals the full render byte for byte after any sequence of commands, rendering at random points', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(commandArb, fc.boolean()), { maxLength: 40 }),
      CHUNK_SIZES,
      (steps, chunkSize) => {
        const state = initialState();
        // A start where most commands succeed: roles defined, users holding them.
        for (const command of PRELUDE) run(state, command);
        const renderer = createIncrementalRenderer({ serviceAccount: SA, chunkSize });
        for (const [command, renderNow] of steps) {
          run(state, command);
          if (!renderNow) continue;
          const got = renderer.render(state, state.generation);
          const want = full(state, state.generation);
          assert.equal(got.password, want.password);
          assert.equal(got.acl, want.acl);
          // The blocks are the file: joined as documented.
          assert.equal(got.passwordBlocks.map((b) => b.text).join(''), got.password);
          assert.equal(got.aclBlocks.map((b) => b.text).join('\n'), got.acl);
        }
        const last = renderer.render(state, state.generation + 7);
        assert.equal(last.acl, full(state, state.generation + 7).acl);
      },
    ), { numRuns: 500 });
  });

  it('equals the full render when warm-ups of any budget are interleaved with the commands (issue 14: start-up)', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(commandArb, fc.constantFrom('none', 'render', 'warm'), fc.integer({ min: 1, max: 3 })), { maxLength: 40 }),
      fc.boolean(),
      CHUNK_SIZES,
      (steps, warmFirst, chunkSize) => {
        const state = initialState();
        for (const command of PRELUDE) run(state, command);
        const renderer = createIncrementalRenderer({ serviceAccount: SA, chunkSize });
        // The server's start-up: warm before anything was rendered, while commands keep coming.
        if (warmFirst) renderer.warm(state, 1);
        for (const [command, action, budget] of steps) {
          run(state, command);
          if (action === 'warm') {
            const made = renderer.warm(state, budget);
            if (made) assert.ok(made.password.length + made.acl.length <= 2 * budget, 'at most `budget` users per call');
            continue;
          }
          if (action !== 'render') continue;
          const got = renderer.render(state, state.generation);
          const want = full(state, state.generation);
          assert.equal(got.password, want.password);
          assert.equal(got.acl, want.acl);
        }
        while (renderer.warm(state, 2) !== null) { /* to the end */ }
        const last = renderer.render(state, state.generation);
        assert.equal(last.password, full(state, state.generation).password);
        assert.equal(last.acl, full(state, state.generation).acl);
      },
    ), { numRuns: 500 });
  });

  it('reuses the blocks a warm-up made, as the same objects', () => {
    const state = fold(record([ev.userCreated('alice'), ev.userCreated('bob'), ev.ruleAdded(1, 'user:alice', 'a/#', 'read')]));
    const renderer = createIncrementalRenderer({ serviceAccount: SA, chunkSize: 1 });
    const made: Block[] = [];
    for (let m = renderer.warm(state, 1); m !== null; m = renderer.warm(state, 1)) made.push(...m.password, ...m.acl);
    assert.equal(made.length, 3, "alice's two blocks and bob's password line");
    const r = renderer.render(state, state.generation);
    for (const b of made) assert.ok(r.passwordBlocks.includes(b) || r.aclBlocks.includes(b), `${b.text.trim()} reused`);
  });

  it('reads the touches made during a warm-up of another state object, however far the old one was', () => {
    const renderer = createIncrementalRenderer({ serviceAccount: SA });
    const old = fold(record([ev.userCreated('alice'), ev.userCreated('bob')]));
    renderer.render(old, old.generation);
    for (let i = 1; i <= 20; i++) append(old, [ev.ruleAdded(i, 'user:bob', `x/${i}`, 'read')]);
    renderer.render(old, old.generation); // the renderer has read 20 journal entries of `old`
    const state = fold(record([ev.userCreated('alice'), ev.userCreated('bob')]));
    renderer.warm(state, 5);
    append(state, [ev.ruleAdded(1, 'user:alice', 'a/#', 'read')]); // alice's block was warmed without it
    assert.equal(renderer.render(state, state.generation).acl, full(state, state.generation).acl);
  });

  it('renders everything afresh for another state object (a replay, a reloaded store)', () => {
    const events = record([ev.userCreated('alice'), ev.ruleAdded(1, 'user:alice', 'a/#', 'read')]);
    const renderer = createIncrementalRenderer({ serviceAccount: SA });
    const first = fold(events);
    renderer.render(first, first.generation);
    // The same seq, different content: a cache keyed on seq alone would reuse alice's block.
    const second = fold(record([ev.userCreated('alice'), ev.ruleAdded(1, 'user:alice', 'b/#', 'write')]));
    assert.equal(renderer.render(second, second.generation).acl, full(second, second.generation).acl);
  });

  it('renders every user again when more touches came than the journal keeps', () => {
    const state = fold(record([ev.userCreated('alice'), ev.userCreated('bob'), ev.ruleAdded(1, 'user:bob', 'b/#', 'read')]));
    const renderer = createIncrementalRenderer({ serviceAccount: SA });
    renderer.render(state, state.generation);
    // Alice's first touch falls out of the journal behind a flood of touches to bob.
    append(state, [ev.ruleAdded(2, 'user:alice', 'a/#', 'read')]);
    for (let i = 0; i < JOURNAL_MAX / 2 + 10; i++) {
      append(state, [ev.ruleAdded(3 + 2 * i, 'user:bob', `x/${i}`, 'read'), { type: 'AclRuleRemoved', data: { id: 3 + 2 * i } }]);
    }
    assert.ok(touchesOf(state).journalBase > 0, 'the journal dropped its oldest entries');
    assert.equal(renderer.render(state, state.generation).acl, full(state, state.generation).acl);
  });

  it('reuses the blocks of untouched users as the same objects, and the password body when no line changed', () => {
    const state = fold(record([ev.userCreated('alice'), ev.userCreated('bob'), ev.ruleAdded(1, 'user:alice', 'a/#', 'read'), ev.ruleAdded(2, 'user:bob', 'b/#', 'read')]));
    const renderer = createIncrementalRenderer({ serviceAccount: SA, chunkSize: 1 });
    const before = renderer.render(state, state.generation);
    append(state, [ev.ruleAdded(3, 'user:bob', 'c', 'write')]);
    const after = renderer.render(state, state.generation);
    const block = (r: typeof before, user: string): Block | undefined => r.aclBlocks.find((b) => b.text.startsWith(`user ${user}\n`));
    assert.equal(block(after, 'alice'), block(before, 'alice'), "alice's block is the cached one");
    assert.notEqual(block(after, 'bob'), block(before, 'bob'), "bob's block was rendered again");
    assert.equal(after.password, before.password);
    assert.equal(after.acl, full(state, state.generation).acl);
  });
});

describe('block-wise checking with kept verdicts (issue 14)', () => {
  const aclCheck = (r: { acl: string; aclBlocks: readonly Block[] }) =>
    checkBlocks({ text: r.acl, blocks: r.aclBlocks, separator: '\n', checker: checkAclFile });
  const pwCheck = (r: { password: string; passwordBlocks: readonly Block[] }) =>
    checkBlocks({ text: r.password, blocks: r.passwordBlocks, separator: '', checker: checkPasswordFile, uniqueKeys: true });

  it('never reuses a verdict for a changed block: a block that turns bad is reported with its line in the file', () => {
    const state = fold(record([ev.userCreated('alice'), ev.userCreated('bob'), ev.ruleAdded(1, 'user:alice', 'a/#', 'read'), ev.ruleAdded(2, 'user:bob', 'b/#', 'read')]));
    const renderer = createIncrementalRenderer({ serviceAccount: SA, chunkSize: 1 });
    const good = renderer.render(state, state.generation);
    assert.deepEqual(aclCheck(good), []);
    assert.ok(good.aclBlocks.every((b) => b.ok), 'every block has a verdict now');
    // Below decide (which refuses it): a rule the broker's grammar rejects, in bob's block.
    append(state, [{ type: 'AclRuleChanged', data: { id: 2, topic: 'b/#/c', access: 'read', description: '' } }]);
    const bad = renderer.render(state, state.generation);
    const problems = aclCheck(bad);
    assert.equal(problems.length, 1);
    assert.deepEqual(problems, checkAclFile(bad.acl), 'the same findings as checking the whole file');
    assert.equal(bad.aclBlocks.find((b) => b.text.startsWith('user bob\n'))?.ok, false, 'the bad block keeps no verdict');
    // And back: the fixed block is checked again (a new block), then passes.
    append(state, [{ type: 'AclRuleChanged', data: { id: 2, topic: 'b/c', access: 'read', description: '' } }]);
    assert.deepEqual(aclCheck(renderer.render(state, state.generation)), []);
  });

  it('agrees with the whole-file checkers after any sequence, including events decide would refuse', () => {
    const rawArb: fc.Arbitrary<DomainEvent> = fc.oneof(
      fc.record({ id: fc.integer({ min: 1, max: 8 }), who: fc.constantFrom('user:alice', 'user:bob', 'role:r1', 'anonymous', 'pattern'), topic: fc.constantFrom('a/#', 'a/#/b', 'x+', 'ok', '$mcm/x', 'tab\there') })
        .map(({ id, who, topic }) => ev.ruleAdded(id, who as 'anonymous', topic, 'read')),
      fc.record({ id: fc.integer({ min: 1, max: 8 }), topic: fc.constantFrom('a/#', 'a/#/b', 'fine', 'trail ') })
        .map(({ id, topic }) => ({ type: 'AclRuleChanged', data: { id, topic, access: 'write', description: '' } }) as DomainEvent),
      fc.integer({ min: 1, max: 8 }).map((id) => ({ type: 'AclRuleRemoved', data: { id } }) as DomainEvent),
      fc.record({ username: fc.constantFrom('alice', 'bob', 'b\rad'), hash: fc.constantFrom(HASH_A, 'plaintext', '') })
        .map(({ username, hash }) => ev.userCreated(username, { passwordHash: hash })),
      fc.constantFrom('alice', 'bob').map((username) => ({ type: 'MqttUserDeleted', data: { username } }) as DomainEvent),
      fc.constantFrom('alice', 'bob').map((username) => ev.granted(username, 'r1')),
    );
    fc.assert(fc.property(fc.array(rawArb, { maxLength: 30 }), CHUNK_SIZES, (events, chunkSize) => {
      const state = initialState();
      const renderer = createIncrementalRenderer({ serviceAccount: SA, chunkSize });
      for (const e of events) {
        // evolve is total but the store only ever folds what decide produced: skip what it can't fold.
        if (e.type === 'AclRuleAdded' && Object.hasOwn(state.rules, String(e.data.id))) continue;
        if (e.type === 'MqttUserCreated' && Object.hasOwn(state.users, e.data.username)) continue;
        if (e.type !== 'MqttUserCreated' && e.type !== 'AclRuleAdded' && e.type !== 'AclRuleChanged' && e.type !== 'AclRuleRemoved' && !Object.hasOwn(state.users, (e.data as { username: string }).username)) continue;
        append(state, [e]);
        const r = renderer.render(state, state.generation);
        assert.equal(aclCheck(r).length === 0, checkAclFile(r.acl).length === 0, r.acl);
        assert.equal(pwCheck(r).length === 0, checkPasswordFile(r.password).length === 0, r.password);
      }
    }), { numRuns: 300 });
  });
});
