import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Access, Principal } from '../../core/acl-types.ts';
import { buildAclModel } from '../../core/acl-model.ts';
import { DomainError } from '../../core/errors.ts';
import { explain, whoCan, type ExplainQuery, type ExplainResult } from '../../core/explain.ts';
import { initialState, type BrokerConfig } from '../../core/state.ts';

const SA = 'mcm-service';
const AT = '2024-01-01T00:00:00.000Z';

type RuleSpec = [principal: Principal, access: Access, topic: string];

const stateWith = (users: Record<string, { roles?: string[]; disabled?: boolean }>, rules: RuleSpec[], allowAnonymous = true): BrokerConfig => {
  const s = initialState();
  s.settings.allowAnonymous = allowAnonymous;
  for (const [username, u] of Object.entries(users)) {
    s.users[username] = {
      username, passwordHash: '$7$101$x$y', description: '', disabled: u.disabled ?? false,
      roles: [...(u.roles ?? [])].sort(), createdAt: AT, updatedAt: AT,
    };
  }
  rules.forEach(([principal, access, topic], i) => {
    s.rules[String(i + 1)] = { id: i + 1, principal, access, topic, description: '', createdAt: AT, updatedAt: AT };
  });
  return s;
};

/** explain against the model built from the same state, as the API does it. */
const ask = (s: BrokerConfig, q: ExplainQuery): ExplainResult =>
  explain(buildAclModel(s, { serviceAccount: SA, generation: 9 }), s, q, { serviceAccount: SA });
const allowed = (s: BrokerConfig, q: ExplainQuery): boolean => ask(s, q).allowed;
const alice = (topic: string, action: 'read' | 'write', clientid: string | null = 'c1'): ExplainQuery => ({ username: 'alice', clientid, topic, action });

describe('explain: which list applies [ref §2.2]', () => {
  it('uses the anonymous list for clients without a username, and only for them [ref §2.2]', () => {
    const s = stateWith({ alice: {} }, [['anonymous', 'read', 'public/#'], ['user:alice', 'read', 'a/#']]);
    assert.equal(allowed(s, { topic: 'public/x', action: 'read', clientid: 'c' }), true);
    assert.equal(allowed(s, alice('public/x', 'read')), false);
    assert.equal(allowed(s, { topic: 'a/x', action: 'read', username: null, clientid: 'c' }), false);
  });

  it('gives a user without a block only the patterns [ref §2.2]', () => {
    const s = stateWith({ alice: {}, bob: {} }, [['user:bob', 'read', 'x'], ['pattern', 'read', 'home/%u/#']]);
    assert.equal(allowed(s, alice('home/alice/t', 'read')), true);
    assert.equal(allowed(s, alice('x', 'read')), false);
  });

  it('applies patterns to anonymous and named clients alike [ref §2.2]', () => {
    const s = stateWith({ alice: {} }, [['pattern', 'read', 'dev/%c/#']]);
    assert.equal(allowed(s, { topic: 'dev/c9/t', action: 'read', clientid: 'c9' }), true);
    assert.equal(allowed(s, alice('dev/c1/t', 'read')), true);
  });

  it('treats %c and %u in a topic line as literal text [ref §2.2]', () => {
    const s = stateWith({ alice: {} }, [['user:alice', 'read', 'dev/%c']]);
    assert.equal(allowed(s, alice('dev/c1', 'read')), false);
    assert.equal(allowed(s, alice('dev/%c', 'read')), true);
  });
});

describe('explain: the steps of the default ACL check [ref §2.3]', () => {
  it('denies every publish to $SYS, even with topic readwrite $SYS/# [ref §2.3]', () => {
    const s = stateWith({ alice: {} }, [['user:alice', 'readwrite', '$SYS/#']]);
    const r = ask(s, alice('$SYS/broker/x', 'write'));
    assert.equal(r.allowed, false);
    assert.match(r.reason, /\$SYS/);
    assert.deepEqual(r.matched, []);
    assert.equal(allowed(s, alice('$SYS/broker/x', 'read')), true);
  });

  it('applies the $SYS write refusal to any topic starting "$SYS" (a prefix test, as strncmp) [ref §2.3]', () => {
    const s = stateWith({ alice: {} }, [['user:alice', 'readwrite', '$SYSTEM/#']]);
    assert.equal(allowed(s, alice('$SYSTEM/x', 'write')), false);
    assert.equal(allowed(s, alice('$SYSTEM/x', 'read')), true);
  });

  it('lets $SYS/broker/connection/+/state writes through to the normal check (bridge state) [ref §2.3]', () => {
    const s = stateWith({ alice: {}, bob: {} }, [['user:alice', 'readwrite', '$SYS/#'], ['user:bob', 'read', '$SYS/#']]);
    assert.equal(allowed(s, alice('$SYS/broker/connection/b1/state', 'write')), true);
    assert.equal(allowed(s, { username: 'bob', clientid: 'b', topic: '$SYS/broker/connection/b1/state', action: 'write' }), false);
  });

  it('denies reading or writing any topic starting "$share" [ref §2.3]', () => {
    const s = stateWith({ alice: {} }, [['user:alice', 'readwrite', '$share/#'], ['user:alice', 'readwrite', '$sharex/#']]);
    for (const action of ['read', 'write'] as const) {
      const r = ask(s, alice('$share/g/a', action));
      assert.equal(r.allowed, false);
      assert.match(r.reason, /\$share/);
      assert.equal(allowed(s, alice('$sharex/a', action)), false);
    }
  });

  it('denies a client with no topic list when there are no patterns [ref §2.3]', () => {
    const s = stateWith({ alice: {}, bob: {} }, [['user:bob', 'readwrite', '#']]);
    const r = ask(s, alice('a', 'read'));
    assert.equal(r.allowed, false);
    assert.match(r.reason, /no ACL rules and there are no pattern rules/);
  });

  it('checks denies before allows within a list, whatever the order [ref §2.2]', () => {
    const s = stateWith({ alice: {} }, [['user:alice', 'readwrite', 'a/#'], ['user:alice', 'deny', 'a/secret']]);
    const r = ask(s, alice('a/secret', 'read'));
    assert.equal(r.allowed, false);
    assert.match(r.reason, /"topic deny a\/secret"/);
    assert.deepEqual(r.matched.map((m) => m.id), [2]);
    assert.equal(allowed(s, alice('a/public', 'read')), true);
  });

  it("skips entries without '$' for '$' topics: topic read # does not cover $SYS [ref §2.3]", () => {
    const s = stateWith({ alice: {} }, [['user:alice', 'read', '#'], ['user:alice', 'read', '+/broker/#']]);
    const r = ask(s, alice('$SYS/broker/version', 'read'));
    assert.equal(r.allowed, false);
    assert.ok(r.notes.some((n) => n.includes("'$'")));
    const s2 = stateWith({ alice: {} }, [['user:alice', 'read', '#'], ['user:alice', 'read', '$SYS/#']]);
    assert.equal(allowed(s2, alice('$SYS/broker/version', 'read')), true);
    assert.equal(allowed(s2, alice('$mcm/x', 'read')), false);
  });

  it('keeps scanning past an entry with the wrong access, into the patterns [ref §2.3]', () => {
    const s = stateWith({ alice: {} }, [['user:alice', 'read', 'dev/#'], ['pattern', 'write', 'dev/%c/#']]);
    const r = ask(s, alice('dev/c1/t', 'write'));
    assert.equal(r.allowed, true);
    assert.match(r.reason, /pattern write dev\/%c\/#/);
    assert.ok(r.notes.some((n) => n.includes('"topic read dev/#" matches but grants read, not write')));
    assert.equal(allowed(s, alice('dev/c2/t', 'write')), false);
  });

  it('uses the user list before patterns: pattern deny x/%u/private does not override topic readwrite x/# [ref §2.3]', () => {
    const s = stateWith({ alice: {} }, [['user:alice', 'readwrite', 'x/#'], ['pattern', 'deny', 'x/%u/private']]);
    const r = ask(s, alice('x/alice/private', 'write'));
    assert.equal(r.allowed, true);
    assert.deepEqual(r.matched.map((m) => m.id), [1]);
  });

  it('lets a user deny beat a pattern allow: topic deny dev/# blocks pattern readwrite dev/%c/# [ref §2.3]', () => {
    const s = stateWith({ alice: {} }, [['user:alice', 'deny', 'dev/#'], ['pattern', 'readwrite', 'dev/%c/#']]);
    assert.equal(allowed(s, alice('dev/c1/t', 'write')), false);
    assert.equal(allowed(s, { topic: 'dev/c1/t', action: 'write', clientid: 'c1' }), true); // anonymous: no user deny
  });

  it("substitutes %c as plain text: client id 'x/y' can write dev/x/y/t, client 'x' owns all of dev/x/ [ref §2.3]", () => {
    const s = stateWith({}, [['pattern', 'readwrite', 'dev/%c/#']]);
    const anon = (clientid: string, topic: string): ExplainQuery => ({ clientid, topic, action: 'write' });
    assert.equal(allowed(s, anon('x/y', 'dev/x/y/t')), true);
    assert.equal(allowed(s, anon('x', 'dev/x/y/t')), true);
    assert.equal(allowed(s, anon('y', 'dev/x/y/t')), false);
    const r = ask(s, anon('x/y', 'dev/x/y/t'));
    assert.match(r.reason, /\(as dev\/x\/y\/#\)/);
  });

  it('substitutes literally, even replacement-pattern characters like $& [ref §2.3]', () => {
    const s = stateWith({}, [['pattern', 'read', 'd/%c']]);
    assert.equal(allowed(s, { clientid: 'a$&b', topic: 'd/a$&b', action: 'read' }), true);
  });

  it('denies everything to a client id with + or # once any pattern exists [ref §2.3]', () => {
    const s = stateWith({ alice: {} }, [['user:alice', 'read', 'a'], ['pattern', 'read', 'dev/%c']]);
    const r = ask(s, alice('b', 'read', 'c+1'));
    assert.equal(r.allowed, false);
    assert.match(r.reason, /client id "c\+1" contains '\+' or '#'/);
    // … but only after the user's own list failed to decide (the check sits before the patterns).
    assert.equal(allowed(s, alice('a', 'read', 'c#1')), true);
    // … and never without patterns.
    const noPatterns = stateWith({ alice: {} }, [['user:alice', 'read', 'a/#']]);
    assert.equal(allowed(noPatterns, alice('a/x', 'read', 'c+1')), true);
  });

  it('denies everything to a dangerous username "plus+user" once any pattern exists [ref §2.3]', () => {
    const s = stateWith({ 'plus+user': {} }, [['pattern', 'readwrite', '#']]);
    const r = ask(s, { username: 'plus+user', clientid: 'c', topic: 't', action: 'write' });
    assert.equal(r.allowed, false);
    assert.match(r.reason, /username "plus\+user"/);
  });

  it('skips %u patterns for clients without a username [ref §2.3]', () => {
    const s = stateWith({ alice: {} }, [['pattern', 'read', 'home/%u/#'], ['pattern', 'read', '%u']]);
    assert.equal(allowed(s, alice('home/alice/x', 'read')), true);
    assert.equal(allowed(s, { clientid: 'c', topic: 'home/%u/x', action: 'read' }), false);
    assert.equal(allowed(s, { clientid: 'c', topic: '%u', action: 'read' }), false);
  });

  it('checks pattern denies before pattern allows [ref §2.3]', () => {
    const s = stateWith({}, [['pattern', 'readwrite', 'dev/%c/#'], ['pattern', 'deny', 'dev/%c/locked']]);
    const r = ask(s, { clientid: 'c', topic: 'dev/c/locked', action: 'write' });
    assert.equal(r.allowed, false);
    assert.deepEqual(r.matched.map((m) => m.id), [2]);
  });

  it('denies by default and says that no rule grants the action [ref §2.3]', () => {
    const s = stateWith({ alice: {} }, [['user:alice', 'read', 'a']]);
    const r = ask(s, alice('b', 'read'));
    assert.deepEqual([r.allowed, r.can_connect, r.matched], [false, true, []]);
    assert.match(r.reason, /no rule grants read on "b" to user "alice"/);
  });
});

describe('explain: connection, client id and the report', () => {
  it('refuses a username that is not an MQTT user: cannot connect [ref §3.6]', () => {
    const s = stateWith({ alice: {} }, [['pattern', 'readwrite', '#']]);
    const r = ask(s, { username: 'mallory', clientid: 'c', topic: 'a', action: 'read' });
    assert.deepEqual([r.allowed, r.can_connect], [false, false]);
    assert.match(r.reason, /"mallory" is not an MQTT user/);
    assert.ok(r.notes[0]?.startsWith('if it could connect, the ACL would say: allowed'));
  });

  it('does not mistake inherited object keys such as __proto__ for MQTT users', () => {
    const s = stateWith({}, [['pattern', 'readwrite', '#']]);
    assert.equal(ask(s, { username: '__proto__', clientid: 'c', topic: 'a', action: 'read' }).can_connect, false);
  });

  it('refuses a disabled user: absent from the password file [DESIGN §6]', () => {
    const s = stateWith({ alice: { disabled: true } }, [['user:alice', 'read', '#']]);
    const r = ask(s, alice('a', 'read'));
    assert.deepEqual([r.allowed, r.can_connect], [false, false]);
    assert.match(r.reason, /disabled/);
  });

  it('refuses anonymous clients when anonymous access is off [ref §3.6]', () => {
    const s = stateWith({}, [['anonymous', 'read', '#']], false);
    const r = ask(s, { topic: 'a', action: 'read', clientid: 'c' });
    assert.deepEqual([r.allowed, r.can_connect], [false, false]);
    assert.match(r.reason, /allow_anonymous false/);
  });

  it('treats an empty username as a username, not as anonymous (the broker looks it up) [ref §3.6]', () => {
    const s = stateWith({}, [['anonymous', 'read', '#']]);
    assert.equal(ask(s, { username: '', clientid: 'c', topic: 'a', action: 'read' }).can_connect, false);
  });

  it('lets the service account connect and use its own list [DESIGN §6]', () => {
    const s = stateWith({}, []);
    const q = (topic: string, action: 'read' | 'write'): ExplainQuery => ({ username: SA, clientid: 'mcm', topic, action });
    assert.equal(allowed(s, q('any/topic', 'write')), true);
    assert.equal(allowed(s, q('$SYS/broker/uptime', 'read')), true);
    assert.equal(allowed(s, q('$mcm/probe/9', 'write')), true);
    assert.equal(allowed(s, q('$mcm/probe/8', 'write')), false);
    assert.equal(allowed(s, q('$mcm/canary', 'write')), false);
    const r = ask(s, q('any/topic', 'write'));
    assert.deepEqual(r.matched.map((m) => m.source), ['service-account']);
  });

  it('skips %c patterns when no client id is given, and says so', () => {
    const s = stateWith({ alice: {} }, [['pattern', 'readwrite', 'dev/%c/#'], ['pattern', 'read', 'all/#']]);
    const r = ask(s, alice('dev/c1/x', 'write', null));
    assert.equal(r.allowed, false);
    assert.ok(r.notes.some((n) => n.includes('no client id given') && n.includes('dev/%c/#')));
    assert.equal(allowed(s, alice('all/x', 'read', null)), true);
    assert.equal(allowed(s, alice('dev/c1/x', 'write', '')), false); // '' gets a broker-generated id
  });

  it('reports in matched only the rules behind the deciding line that match the topic', () => {
    const s = stateWith({ alice: { roles: ['r'] } }, [['user:alice', 'read', 'a/#'], ['role:r', 'read', 'a/b'], ['role:r', 'read', 'a/c']]);
    const r = ask(s, alice('a/b', 'read'));
    assert.equal(r.allowed, true);
    assert.deepEqual(r.matched.map((m) => [m.id, m.source, m.topic]), [[1, 'direct', 'a/#'], [2, 'role:r', 'a/b']]);
    assert.match(r.reason, /"topic read a\/#" in user "alice"'s rules \(rule 1, rule 2 via role r\)/);
  });

  it('rejects an invalid topic or action with a DomainError', () => {
    const s = stateWith({}, []);
    assert.throws(() => ask(s, { topic: 'a/+', action: 'read' }), (e: unknown) => e instanceof DomainError && e.code === 'MCM_ERR_TOPIC_NAME_INVALID');
    assert.throws(() => ask(s, { topic: 'a', action: 'subscribe' as 'read' }), (e: unknown) => e instanceof DomainError && e.code === 'MCM_ERR_VALIDATION');
  });
});

describe('whoCan: which enabled users may read or write a topic', () => {
  const s = stateWith({ alice: { roles: ['ops'] }, bob: {}, carol: {}, dave: { disabled: true } }, [
    ['role:ops', 'readwrite', 'plant/#'],
    ['user:bob', 'read', 'plant/+/temp'],
    ['user:bob', 'deny', 'plant/secret/#'],
    ['user:dave', 'readwrite', '#'],
    ['pattern', 'read', 'home/%u/#'],
    ['pattern', 'write', 'dev/%c/#'],
    ['anonymous', 'read', 'plant/#'],
  ]);
  const model = buildAclModel(s, { serviceAccount: SA, generation: 1 });

  /** The operator's users: MCM's service account is listed too, marked (see below). */
  const theirs = (r: ReturnType<typeof whoCan>) => r.users.filter((u) => u.mcm_service_account !== true);

  it('lists the enabled users whose rules grant the action, with the deciding rules', () => {
    const r = whoCan(model, s, 'plant/a/temp', 'read', { serviceAccount: SA });
    assert.deepEqual(theirs(r).map((u) => [u.username, u.matched.map((m) => m.id)]), [['alice', [1]], ['bob', [2]]]);
    assert.equal(r.anonymous, true);
    assert.deepEqual(theirs(whoCan(model, s, 'plant/a/temp', 'write', { serviceAccount: SA })).map((u) => u.username), ['alice']);
  });

  it('honours denies and leaves out disabled users', () => {
    const r = whoCan(model, s, 'plant/secret/temp', 'read', { serviceAccount: SA });
    assert.deepEqual(theirs(r).map((u) => u.username), ['alice']);
  });

  it("lists MCM's service account too, last and marked as MCM's own, with the lines that let it [issue 12]", () => {
    const r = whoCan(model, s, 'plant/a/temp', 'write', { serviceAccount: SA });
    const last = r.users[r.users.length - 1];
    assert.equal(last?.username, SA);
    assert.equal(last?.mcm_service_account, true);
    assert.deepEqual(last?.matched.map((m) => [m.access, m.topic, m.source]), [['readwrite', '#', 'service-account']]);
    // '#' never matches '$' topics: only its own $mcm and $SYS lines let it near those [ref §2.3].
    assert.deepEqual(whoCan(model, s, '$SYS/broker/version', 'write', { serviceAccount: SA }).users, []);
  });

  it('evaluates %u patterns with each username', () => {
    assert.deepEqual(theirs(whoCan(model, s, 'home/carol/x', 'read', { serviceAccount: SA })).map((u) => u.username), ['carol']);
  });

  it('reports %c patterns that could match in depends_on_clientid, since the client id is unknown', () => {
    const r = whoCan(model, s, 'dev/x/y', 'write', { serviceAccount: SA });
    assert.deepEqual(theirs(r), []);
    assert.deepEqual(r.depends_on_clientid.map((p) => p.topic), ['dev/%c/#']);
    assert.match(r.patterns_note ?? '', /client id/);
    assert.deepEqual(whoCan(model, s, 'other/x', 'write', { serviceAccount: SA }).depends_on_clientid, []);
  });

  it('says anonymous clients cannot when anonymous access is off [ref §3.6]', () => {
    const off = stateWith({}, [['anonymous', 'read', '#']], false);
    const m = buildAclModel(off, { serviceAccount: SA, generation: 1 });
    assert.equal(whoCan(m, off, 'a', 'read', { serviceAccount: SA }).anonymous, false);
  });
});
