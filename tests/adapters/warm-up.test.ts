/**
 * The start-up warm-up (issue 14): the first render of a large state is spread over turns of the
 * event loop, so other work (an HTTP request, an append) runs in between, and what the appends
 * changed is in the render that follows.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createBrokerFiles } from '../../adapters/apply/broker-files.ts';
import { warmUp } from '../../adapters/apply/warm-up.ts';
import { evolve, fold } from '../../core/evolve.ts';
import type { DomainEvent } from '../../core/events.ts';
import type { BrokerConfig } from '../../core/state.ts';
import { renderAclFileFromState } from '../../projections/acl-file.ts';
import { AT, ev, record } from '../helpers/decider-spec.ts';

const HASH = '$7$101$XKm0/ruYS/eOrtlr$inRGfPMzec7uMWnXImeyhIxXW7aCqWkK6swGkFbduAfuxktrNQnfl4PozSrkZVETuXyLXXN79ndKVLAobuKFgw==';
const own = () => ({ mode: 0o600 });
const SA = { username: 'mcm-service', passwordHash: HASH };

const brokerFiles = () => createBrokerFiles({
  passwordFile: { name: 'password_file', path: '/d/passwd', ownership: own },
  aclFile: { name: 'acl_file', path: '/d/acl', ownership: own },
  conf: null,
  serviceAccount: SA,
});

const append = (state: BrokerConfig, events: readonly DomainEvent[]): void => {
  for (const e of events) evolve(state, { ...e, seq: state.seq + 1, at: AT } as Parameters<typeof evolve>[1]);
};

describe('warmUp (issue 14: the API answers while the server starts)', () => {
  it('yields between turns, and the render after it has what was appended meanwhile', async () => {
    const users = 2000;
    const events: DomainEvent[] = [];
    for (let i = 0; i < users; i++) {
      events.push(ev.userCreated(`dev-${i}`, { passwordHash: HASH }), ev.ruleAdded(i + 1, `user:dev-${i}`, `plant/${i}/#`, 'write'));
    }
    const state = fold(record(events));
    const files = brokerFiles();
    let turns = 0;
    let appended = false;
    const others = setInterval(() => {
      turns++;
      // An API write between two turns: a user early in the order, long warmed by now.
      if (turns === 3) { append(state, [ev.ruleAdded(users + 1, 'user:dev-0', 'late/#', 'read')]); appended = true; }
    }, 0);
    try {
      await warmUp(files, () => state, 100);
    } finally {
      clearInterval(others);
    }
    assert.ok(appended && turns >= 3, `other work ran during the warm-up (${turns} timer turns)`);
    const rendered = files.render(state, state.generation);
    assert.equal(rendered.get('acl_file'), renderAclFileFromState(state, { serviceAccount: SA.username, generation: state.generation }));
    assert.ok((rendered.get('acl_file') ?? '').includes('user dev-0\ntopic read late/#\ntopic write plant/0/#\n'), 'the rule added during the warm-up is rendered');
    assert.deepEqual(files.validate(rendered), []);
  });

  it('leaves a block the checker refuses without a verdict, so validate reports it with its line', async () => {
    // A password hash the broker cannot read (reference §1.1): rendered, never passed.
    const state = fold(record([ev.userCreated('ok-user', { passwordHash: HASH }), ev.userCreated('bad-user', { passwordHash: '$7$broken' })]));
    const files = brokerFiles();
    await warmUp(files, () => state, 1);
    const problems = files.validate(files.render(state, state.generation));
    assert.equal(problems.length, 1, problems.join('; '));
    assert.match(problems[0] ?? '', /password_file .*line 1/);
  });
});
