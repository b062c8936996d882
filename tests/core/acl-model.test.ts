import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Access, Principal } from '../../core/acl-types.ts';
import { buildAclModel, type AclEntry, type AclModel, type AclSource } from '../../core/acl-model.ts';
import { explain } from '../../core/explain.ts';
import { filterCovers } from '../../core/topic-match.ts';
import { initialState, type BrokerConfig } from '../../core/state.ts';

const SA = 'mcm-service';
const AT = '2024-01-01T00:00:00.000Z';

type RuleSpec = [principal: Principal, access: Access, topic: string];
type UserSpec = { roles?: string[]; disabled?: boolean };

/** A plain BrokerConfig as core/state.ts describes it; rule ids are 1, 2, … in the given order. */
const stateWith = (users: Record<string, UserSpec>, rules: RuleSpec[], allowAnonymous = true): BrokerConfig => {
  const s = initialState();
  s.settings.allowAnonymous = allowAnonymous;
  for (const [username, u] of Object.entries(users)) {
    s.users[username] = {
      username, passwordHash: '$7$101$x$y', description: '', disabled: u.disabled ?? false,
      roles: [...(u.roles ?? [])].sort(), createdAt: AT, updatedAt: AT,
    };
    for (const role of u.roles ?? []) s.roles[role] = { name: role, description: '', createdAt: AT, updatedAt: AT };
  }
  rules.forEach(([principal, access, topic], i) => {
    const id = i + 1;
    s.rules[String(id)] = { id, principal, access, topic, description: '', createdAt: AT, updatedAt: AT };
  });
  s.nextRuleId = rules.length + 1;
  return s;
};

const build = (s: BrokerConfig, generation = 7): AclModel => buildAclModel(s, { serviceAccount: SA, generation });
const lines = (entries: AclEntry[] | undefined): string[] => (entries ?? []).map((e) => `${e.access} ${e.topic}`);
const ids = (sources: AclSource[]): (number | undefined)[] => sources.map((s) => s.id);

describe('buildAclModel: lists the broker will hold [ref §2.2]', () => {
  it('puts anonymous rules in the anonymous list only [ref §2.2]', () => {
    const m = build(stateWith({ alice: {} }, [['anonymous', 'read', 'public/#'], ['user:alice', 'read', 'a/#']]));
    assert.deepEqual(lines(m.anonymous), ['read public/#']);
    assert.deepEqual(m.anonymous[0]?.sources, [{ id: 1, principal: 'anonymous', topic: 'public/#', access: 'read', source: 'anonymous' }]);
    assert.deepEqual(lines(m.users.get('alice')), ['read a/#']);
  });

  it('flattens direct rules and the rules of every granted role into one list per user [DESIGN §6]', () => {
    const m = build(stateWith({ alice: { roles: ['ops', 'sensors'] } }, [
      ['role:sensors', 'read', 'sensors/#'],
      ['user:alice', 'write', 'alice/out'],
      ['role:ops', 'readwrite', 'ops/+/cmd'],
      ['role:unused', 'read', 'nobody/#'],
    ]));
    assert.deepEqual(lines(m.users.get('alice')), ['write alice/out', 'readwrite ops/+/cmd', 'read sensors/#']);
    const sources = m.users.get('alice')?.flatMap((e) => e.sources);
    assert.deepEqual(sources?.map((s) => [s.id, s.source]), [[2, 'direct'], [3, 'role:ops'], [1, 'role:sensors']]);
  });

  it('gives disabled users and users without rules no list: same as no block [ref §2.2]', () => {
    const m = build(stateWith({ off: { disabled: true }, empty: {}, on: {} }, [['user:off', 'read', '#'], ['user:on', 'read', 'x']]));
    assert.deepEqual([...m.users.keys()], [SA, 'on']);
  });

  it('keeps patterns in their own list, never merged into user lists [ref §2.2]', () => {
    const m = build(stateWith({ alice: {} }, [['pattern', 'readwrite', 'dev/%c/#'], ['user:alice', 'readwrite', 'dev/%c/#']]));
    assert.deepEqual(lines(m.patterns), ['readwrite dev/%c/#']);
    assert.deepEqual(lines(m.users.get('alice')), ['readwrite dev/%c/#']);
    assert.equal(m.patterns[0]?.sources[0]?.source, 'pattern');
  });

  it("adds the service account's list: readwrite #, read $SYS/#, read $mcm/#, write $mcm/probe/<generation> [DESIGN §6]", () => {
    const m = build(initialState(), 42);
    assert.deepEqual(lines(m.users.get(SA)), ['readwrite #', 'read $SYS/#', 'read $mcm/#', 'write $mcm/probe/42']);
    for (const s of m.users.get(SA)?.flatMap((e) => e.sources) ?? []) {
      assert.equal(s.source, 'service-account');
      assert.equal(s.principal, `user:${SA}`);
      assert.equal(s.id, undefined);
    }
  });

  it('lets the service account win over an MQTT user of the same name [DESIGN §6]', () => {
    const m = build(stateWith({ [SA]: {} }, [[`user:${SA}`, 'deny', '#']]));
    assert.deepEqual(lines(m.users.get(SA)), ['readwrite #', 'read $SYS/#', 'read $mcm/#', 'write $mcm/probe/7']);
  });

  it('sorts users by username (code-unit order, locale-free)', () => {
    const m = build(stateWith({ zed: {}, Bob: {}, alice: {} }, [['user:zed', 'read', 'z'], ['user:Bob', 'read', 'b'], ['user:alice', 'read', 'a']]));
    assert.deepEqual([...m.users.keys()], ['Bob', 'alice', SA, 'zed']);
  });
});

describe('buildAclModel: fewer lines, same decisions [ref §10]', () => {
  it('puts denies first, then allows, each sorted by topic then access [ref §2.2]', () => {
    const m = build(stateWith({ a: {} }, [
      ['user:a', 'write', 'b'], ['user:a', 'deny', 'z/1'], ['user:a', 'read', 'a'], ['user:a', 'deny', 'y/1'], ['user:a', 'read', 'b'],
    ]));
    assert.deepEqual(lines(m.users.get('a')), ['deny y/1', 'deny z/1', 'read a', 'read b', 'write b']);
  });

  it('merges exact duplicates and keeps every source', () => {
    const m = build(stateWith({ a: { roles: ['r'] } }, [['user:a', 'read', 'x/y'], ['role:r', 'read', 'x/y']]));
    assert.deepEqual(lines(m.users.get('a')), ['read x/y']);
    assert.deepEqual(ids(m.users.get('a')?.[0]?.sources ?? []), [1, 2]);
  });

  it('drops an allow covered by a broader allow and moves its sources there', () => {
    const m = build(stateWith({ a: {} }, [['user:a', 'read', 'x/y'], ['user:a', 'read', 'x/#'], ['user:a', 'read', 'x/+/z']]));
    assert.deepEqual(lines(m.users.get('a')), ['read x/#']);
    assert.deepEqual(ids(m.users.get('a')?.[0]?.sources ?? []).sort(), [1, 2, 3]);
  });

  it('lets readwrite cover read and write on a covered topic, but not the other way round', () => {
    const m = build(stateWith({ a: {} }, [['user:a', 'read', 'x/#'], ['user:a', 'readwrite', 'x/#'], ['user:a', 'write', 'x/1'], ['user:a', 'readwrite', 'y/1'], ['user:a', 'read', 'y/#']]));
    assert.deepEqual(lines(m.users.get('a')), ['readwrite x/#', 'read y/#', 'readwrite y/1']);
  });

  it('drops an allow covered by a deny: denies are checked first, so it could never apply [ref §2.2]', () => {
    const m = build(stateWith({ a: {} }, [['user:a', 'readwrite', 'x/secret/key'], ['user:a', 'deny', 'x/secret/#'], ['user:a', 'readwrite', 'x/#']]));
    assert.deepEqual(lines(m.users.get('a')), ['deny x/secret/#', 'readwrite x/#']);
  });

  it('drops a deny covered by another deny', () => {
    const m = build(stateWith({ a: {} }, [['user:a', 'deny', 'x/1'], ['user:a', 'deny', 'x/+'], ['user:a', 'read', 'y']]));
    assert.deepEqual(lines(m.users.get('a')), ['deny x/+', 'read y']);
    assert.deepEqual(ids(m.users.get('a')?.[0]?.sources ?? []).sort(), [1, 2]);
  });

  it("never lets '#' cover '$' topics: read # and read $SYS/# both stay [ref §2.3]", () => {
    const m = build(stateWith({ a: {} }, [['user:a', 'read', '#'], ['user:a', 'read', '$SYS/#']]));
    assert.deepEqual(lines(m.users.get('a')), ['read #', 'read $SYS/#']);
  });

  it("keeps the shorter of two equivalent filters ('#' over '+/#')", () => {
    const m = build(stateWith({ a: {} }, [['user:a', 'read', '+/#'], ['user:a', 'read', '#']]));
    assert.deepEqual(lines(m.users.get('a')), ['read #']);
  });

  it("does not let '+/x' cover pattern '%c/x': a client id may hold '/' or start with '$' [ref §2.3]", () => {
    const m = build(stateWith({}, [['pattern', 'read', '+/x'], ['pattern', 'read', '%c/x'], ['pattern', 'read', '#'], ['pattern', 'read', '%u/y']]));
    assert.deepEqual(lines(m.patterns), ['read #', 'read %c/x', 'read %u/y']);
  });

  it('lets a pattern P/# cover patterns under the same text prefix P [ref §2.3]', () => {
    const m = build(stateWith({}, [['pattern', 'readwrite', 'dev/%c/#'], ['pattern', 'read', 'dev/%c/status'], ['pattern', 'write', 'dev/%c'], ['pattern', 'deny', 'dev/%c/x/#'], ['pattern', 'read', 'dev/%c/x/y']]));
    assert.deepEqual(lines(m.patterns), ['deny dev/%c/x/#', 'readwrite dev/%c/#']);
  });

  it('shares one list between users with the same roles, without leaking direct rules', () => {
    const m = build(stateWith({ a: { roles: ['r'] }, b: { roles: ['r'] }, c: { roles: ['r'] } }, [['role:r', 'read', 'r/#'], ['user:c', 'write', 'c/1']]));
    assert.deepEqual(lines(m.users.get('a')), ['read r/#']);
    assert.deepEqual(lines(m.users.get('b')), ['read r/#']);
    assert.deepEqual(lines(m.users.get('c')), ['write c/1', 'read r/#']);
  });

  it('is deterministic whatever the rule order', () => {
    const rules: RuleSpec[] = [['user:a', 'read', 'q'], ['user:a', 'deny', 'p/#'], ['user:a', 'write', 'q/#'], ['user:a', 'read', 'b/+']];
    const forward = build(stateWith({ a: {} }, rules));
    const backward = build(stateWith({ a: {} }, [...rules].reverse()));
    assert.deepEqual(lines(forward.users.get('a')), lines(backward.users.get('a')));
  });
});

/** The model without any reduction: one entry per rule, denies first, as the broker would load it. */
const rawModel = (s: BrokerConfig): AclModel => {
  const reduced = build(s);
  const raw = (list: AclEntry[]): AclEntry[] => {
    const all = list.flatMap((e) => e.sources.map((src) => ({ access: src.access, topic: src.topic, sources: [src] })));
    return [...all.filter((e) => e.access === 'deny'), ...all.filter((e) => e.access !== 'deny')];
  };
  return {
    anonymous: raw(reduced.anonymous),
    users: new Map([...reduced.users].map(([u, l]) => [u, raw(l)])),
    patterns: raw(reduced.patterns),
  };
};

describe('buildAclModel: reduction properties [ref §2.3, §10]', () => {
  const level = fc.constantFrom('a', 'b', '', '$a', '+', '%c', '%u', 'x%c');
  const filter = fc
    .tuple(fc.array(level, { minLength: 1, maxLength: 3 }), fc.boolean())
    .map(([l, hash]) => (hash ? [...l, '#'] : l).join('/'));
  const rule = fc.tuple(
    fc.constantFrom<Principal>('user:u1', 'user:u2', 'role:r', 'anonymous', 'pattern'),
    fc.constantFrom<Access>('read', 'write', 'readwrite', 'deny'),
    filter,
  );
  const topic = fc.array(fc.constantFrom('a', 'b', '', '$a', 'c1', 'u1', 'xc1', 'x'), { minLength: 1, maxLength: 4 }).map((l) => l.join('/')).filter((t) => t.length > 0);
  const query = fc.record({
    username: fc.constantFrom(null, 'u1', 'u2', SA),
    clientid: fc.constantFrom('c1', 'a/b', '$a', 'u1', 'x'),
    topic,
    action: fc.constantFrom<'read' | 'write'>('read', 'write'),
  });

  it('leaves no line that another line of the same list makes redundant', () => {
    const plain = fc.tuple(fc.constantFrom<Access>('read', 'write', 'readwrite', 'deny'), filter.filter((f) => !f.includes('%')));
    fc.assert(
      fc.property(fc.array(plain, { maxLength: 15 }), (specs) => {
        const list = build(stateWith({ u: {} }, specs.map(([access, topic]) => ['user:u', access, topic] as RuleSpec))).users.get('u') ?? [];
        return list.every((e) =>
          list.every((f) => {
            if (f === e) return true;
            if (f.access === 'deny') return !filterCovers(f.topic, e.topic);
            return e.access === 'deny' || !((f.access === e.access || f.access === 'readwrite') && filterCovers(f.topic, e.topic));
          }),
        );
      }),
      { numRuns: 3000 },
    );
  });

  it('explain gives the same answer on the reduced and the unreduced lists', () => {
    fc.assert(
      fc.property(fc.array(rule, { maxLength: 12 }), fc.array(query, { minLength: 1, maxLength: 10 }), (rules, queries) => {
        const s = stateWith({ u1: { roles: ['r'] }, u2: {} }, rules.filter(([p, , t]) => p === 'pattern' || !t.includes('%')));
        const reduced = build(s);
        const raw = rawModel(s);
        for (const q of queries) {
          const a = explain(reduced, s, q, { serviceAccount: SA });
          const b = explain(raw, s, q, { serviceAccount: SA });
          if (a.allowed !== b.allowed) return false;
        }
        return true;
      }),
      { numRuns: 3000 },
    );
  });
});
