/**
 * evaluateDynsec / canConnect on small hand-built models: which rule decides and how it is
 * reported. The broker itself is the judge in tests/adapters/dynsec-differential.test.ts; these
 * pin the decision details (decidedBy, reason) that the differential test does not look at.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initialState } from '../../core/state.ts';
import type { AclRule } from '../../core/acl-types.ts';
import { canConnect, evaluateDynsec, subPatternCovers } from '../../projections/dynsec-eval.ts';
import { buildDynsecModel, DEFAULT_ACL_ACCESS, type DynsecAcl, type DynsecModel } from '../../projections/dynsec-model.ts';

const acl = (acltype: DynsecAcl['acltype'], topic: string, allow: boolean, priority = 0): DynsecAcl => ({ acltype, topic, allow, priority });

const MODEL: DynsecModel = {
  defaultACLAccess: DEFAULT_ACL_ACCESS,
  clients: [
    { username: 'alice', textdescription: '', disabled: false, passwordHash: '$7$101$x$y', roles: [{ rolename: 'zz', priority: 0 }, { rolename: 'aa', priority: 0 }, { rolename: 'low', priority: -5 }] },
    { username: 'bob', textdescription: '', disabled: false, passwordHash: '$7$101$x$y', roles: [] },
    { username: 'carol', textdescription: '', disabled: true, passwordHash: '$7$101$x$y', roles: [] },
    { username: 'dave', textdescription: '', disabled: false, passwordHash: '', roles: [] },
  ],
  roles: [
    { rolename: 'aa', textdescription: '', acls: [acl('publishClientSend', 'tie/#', false)] },
    { rolename: 'zz', textdescription: '', acls: [
      acl('publishClientSend', 'tie/#', true), acl('publishClientSend', 'a/+', true), acl('publishClientSend', 'a/#', false),
      acl('publishClientSend', 'b/#', false, 1), acl('publishClientSend', 'b/x', true, 2),
      acl('subscribePattern', 's/#', false, 9), acl('subscribeLiteral', 's/ok', true),
    ] },
    { rolename: 'low', textdescription: '', acls: [acl('publishClientSend', 'g/#', true), acl('publishClientSend', '$SYS/#', true), acl('publishClientSend', '$share/#', true)] },
    { rolename: 'g-deny', textdescription: '', acls: [acl('publishClientSend', 'g/#', false), acl('publishClientSend', 'h/#', false)] },
    { rolename: 'g-allow', textdescription: '', acls: [acl('publishClientSend', 'h/#', true)] },
    { rolename: 'anon', textdescription: '', acls: [acl('publishClientReceive', 'public/#', true)] },
  ],
  groups: [
    { groupname: 'zeta', roles: [{ rolename: 'g-allow', priority: 99 }], clients: ['alice', 'bob'] },
    { groupname: 'alpha', roles: [{ rolename: 'g-deny', priority: 0 }], clients: ['alice', 'bob'] },
    { groupname: 'guests', roles: [{ rolename: 'anon', priority: 0 }], clients: [] },
  ],
  anonymousGroup: 'guests',
  unsupported: [],
};
const alice = { username: 'alice' };
const PERMISSIVE: DynsecModel = { ...MODEL, defaultACLAccess: { publishClientSend: true, publishClientReceive: true, subscribe: true, unsubscribe: true } };

describe('evaluateDynsec', () => {
  it('names the role, where it came from and the ACL that decided', () => {
    assert.deepEqual(evaluateDynsec(MODEL, alice, 'publish', 'a/x'), {
      allowed: true,
      decidedBy: { kind: 'acl', rolename: 'zz', via: 'client', acl: acl('publishClientSend', 'a/+', true) },
      reason: 'allowed by role "zz" (publishClientSend "a/+", priority 0)',
    });
  });

  it('breaks a tie between roles of equal priority by rolename, not by listing order (rolelist.c)', () => {
    const d = evaluateDynsec(MODEL, alice, 'publish', 'tie/1');
    assert.equal(d.allowed, false);
    assert.deepEqual(d.decidedBy, { kind: 'acl', rolename: 'aa', via: 'client', acl: acl('publishClientSend', 'tie/#', false) });
  });

  it('walks a role\'s ACLs by priority, and keeps the listed order between equal priorities (roles.c)', () => {
    assert.equal(evaluateDynsec(MODEL, alice, 'publish', 'b/x').allowed, true); // priority 2 beats the deny at 1
    assert.equal(evaluateDynsec(MODEL, alice, 'publish', 'b/y').allowed, false);
    assert.equal(evaluateDynsec(MODEL, alice, 'publish', 'a/x').allowed, true); // 'a/+' is listed before 'a/#'
    assert.equal(evaluateDynsec(MODEL, alice, 'publish', 'a/x/y').reason, 'denied by role "zz" (publishClientSend "a/#", priority 0)');
  });

  it('checks the client\'s roles before any group, whatever the priorities (acl.c acl_check)', () => {
    assert.deepEqual(evaluateDynsec(MODEL, alice, 'publish', 'g/1').decidedBy, { kind: 'acl', rolename: 'low', via: 'client', acl: acl('publishClientSend', 'g/#', true) });
  });

  it('checks groups by name (all memberships have priority -1), not by their roles\' priority (grouplist.c)', () => {
    const d = evaluateDynsec(MODEL, { username: 'bob' }, 'publish', 'h/1');
    assert.deepEqual(d, {
      allowed: false,
      decidedBy: { kind: 'acl', rolename: 'g-deny', via: 'group:alpha', acl: acl('publishClientSend', 'h/#', false) },
      reason: 'denied by role "g-deny" of group "alpha" (publishClientSend "h/#", priority 0)',
    });
  });

  it('falls through to the default access when nothing matches', () => {
    assert.deepEqual(evaluateDynsec(MODEL, { username: 'bob' }, 'publish', 'x'), {
      allowed: false, decidedBy: { kind: 'default', key: 'publishClientSend' },
      reason: 'denied by the default access (publishClientSend: false): no ACL matches',
    });
    assert.deepEqual(evaluateDynsec(MODEL, { username: 'bob' }, 'unsubscribe', 'x').decidedBy, { kind: 'default', key: 'unsubscribe' });
    assert.equal(evaluateDynsec(PERMISSIVE, { username: 'bob' }, 'receive', 'x').allowed, true);
  });

  it('never lets a $CONTROL… topic fall through to an allowing default (a prefix test)', () => {
    for (const topic of ['$CONTROL/dynamic-security/v1', '$CONTROLLER/x']) {
      assert.deepEqual(evaluateDynsec(PERMISSIVE, { username: 'bob' }, 'publish', topic).decidedBy, { kind: 'control-topic', key: 'publishClientSend' });
      assert.equal(evaluateDynsec(PERMISSIVE, { username: 'bob' }, 'subscribe', topic).allowed, false);
    }
    assert.equal(evaluateDynsec(PERMISSIVE, { username: 'bob' }, 'publish', '$CONTRO').allowed, true);
  });

  it('uses the anonymous group for a client without username, and nothing else', () => {
    assert.deepEqual(evaluateDynsec(MODEL, { anonymous: true }, 'receive', 'public/news'), {
      allowed: true,
      decidedBy: { kind: 'acl', rolename: 'anon', via: 'group:guests', acl: acl('publishClientReceive', 'public/#', true) },
      reason: 'allowed by role "anon" of the anonymous group "guests" (publishClientReceive "public/#", priority 0)',
    });
    // An anonymous group the plugin doesn't have (or one without roles) leaves the default access.
    assert.deepEqual(evaluateDynsec({ ...PERMISSIVE, anonymousGroup: 'missing' }, { anonymous: true }, 'receive', 'public/news').decidedBy, { kind: 'default', key: 'publishClientReceive' });
  });

  it('denies a username the plugin does not know, even when the default access allows (the plugin defers)', () => {
    assert.deepEqual(evaluateDynsec(PERMISSIVE, { username: 'mallory' }, 'publish', 'x').decidedBy, { kind: 'unknown-client' });
  });

  it('applies the broker\'s own $SYS and $share rules before the plugin (security.c acl__check_dollar)', () => {
    assert.deepEqual(evaluateDynsec(MODEL, alice, 'publish', '$SYS/broker/x').decidedBy, { kind: 'broker', rule: 'sys-publish' });
    assert.deepEqual(evaluateDynsec(MODEL, alice, 'publish', '$SYSTEM/x').decidedBy, { kind: 'broker', rule: 'sys-publish' });
    assert.equal(evaluateDynsec(MODEL, alice, 'publish', '$SYS/broker/connection/b1/state').allowed, true); // by role "low"
    assert.deepEqual(evaluateDynsec(MODEL, alice, 'publish', '$share/g/x').decidedBy, { kind: 'broker', rule: 'share-topic' });
    assert.deepEqual(evaluateDynsec(PERMISSIVE, alice, 'receive', '$share/g/x').decidedBy, { kind: 'broker', rule: 'share-topic' });
    assert.equal(evaluateDynsec(PERMISSIVE, alice, 'subscribe', '$share/g/x').allowed, true);
  });

  it('subscribe: a role\'s literal ACL is looked up before its patterns, whatever the priorities (acl.c)', () => {
    assert.deepEqual(evaluateDynsec(MODEL, alice, 'subscribe', 's/ok').decidedBy, { kind: 'acl', rolename: 'zz', via: 'client', acl: acl('subscribeLiteral', 's/ok', true) });
    assert.equal(evaluateDynsec(MODEL, alice, 'subscribe', 's/other').allowed, false);
    assert.equal(evaluateDynsec(MODEL, alice, 'subscribe', 's/+').allowed, false);
  });
});

describe('subPatternCovers (sub_matching.c sub_acl_check)', () => {
  const cases: [string, string, boolean][] = [
    ['#', '$SYS/#', true], ['#', '#', true], ['+/#', '$SYS/#', true], ['+/#', '#', true],
    ['a/#', 'a', true], ['a/#', 'a/#', true], ['a/#', 'a/+', true], ['a/#', '#', false],
    ['a/+', 'a/b', true], ['a/+', 'a/+', true], ['a/+', 'a/#', false], ['a/b', 'a/+', false],
    ['a/+/c', 'a/b', false], ['+', '#', false], ['/#', '+', false], ['/#', '/+', true],
    ['foo/+/bar/#', 'foo/baz/bar/+', true], ['foo/+/bar/#', 'foo/baz/+/#', false],
  ];
  for (const [pattern, filter, expected] of cases) {
    it(`"${pattern}" ${expected ? 'covers' : 'does not cover'} "${filter}"`, () => assert.equal(subPatternCovers(pattern, filter), expected));
  }
});

describe('canConnect', () => {
  it('refuses disabled, password-less and unknown clients, and anonymous ones unless allow_anonymous', () => {
    assert.equal(canConnect(MODEL, alice).ok, true);
    assert.deepEqual(canConnect(MODEL, { username: 'carol' }), { ok: false, reason: 'client "carol" is disabled: the login is refused' });
    assert.equal(canConnect(MODEL, { username: 'dave' }).ok, false);
    assert.equal(canConnect(MODEL, { username: 'mallory' }).ok, false);
    assert.equal(canConnect(MODEL, { anonymous: true }).ok, false);
    assert.deepEqual(canConnect(MODEL, { anonymous: true }, { allowAnonymous: true }), { ok: true, reason: 'anonymous clients may connect (allow_anonymous true) and get the rights of group "guests"' });
  });
});

describe('on the model MCM builds (buildDynsecModel)', () => {
  it('a user\'s own deny (role user:<name>, priority 1) decides before its MCM role\'s allow', () => {
    const s = initialState();
    s.users.alice = { username: 'alice', passwordHash: '$7$101$x$y', description: '', disabled: false, roles: ['sensors'], createdAt: '', updatedAt: '' };
    s.roles.sensors = { name: 'sensors', description: '', createdAt: '', updatedAt: '' };
    const rules: AclRule[] = [
      { id: 1, principal: 'role:sensors', access: 'readwrite', topic: 'sensors/#', description: '', createdAt: '', updatedAt: '' },
      { id: 2, principal: 'user:alice', access: 'deny', topic: 'sensors/secret/#', description: '', createdAt: '', updatedAt: '' },
    ];
    for (const r of rules) s.rules[String(r.id)] = r;
    const model = buildDynsecModel(s, { serviceAccount: 'mcm-service', serviceAccountHash: '$7$101$x$y' });
    assert.equal(evaluateDynsec(model, alice, 'publish', 'sensors/a').reason, 'allowed by role "sensors" (publishClientSend "sensors/#", priority 0)');
    assert.equal(evaluateDynsec(model, alice, 'receive', 'sensors/secret/x').reason, 'denied by role "user:alice" (publishClientReceive "sensors/secret/#", priority 1)');
    // MCM's service account reads $SYS explicitly: '#' never matches a '$' topic.
    assert.equal(evaluateDynsec(model, { username: 'mcm-service' }, 'receive', '$SYS/broker/uptime').allowed, true);
    // Only the probe's own client may publish under $mcm/probe/, and no one the canary.
    assert.equal(evaluateDynsec(model, { username: 'mcm-service:probe' }, 'publish', '$mcm/probe/1').reason, 'allowed by role "mcm:probe" (publishClientSend "$mcm/probe/#", priority 0)');
    assert.equal(evaluateDynsec(model, { username: 'mcm-service' }, 'publish', '$mcm/probe/1').allowed, false);
    assert.equal(evaluateDynsec(model, { username: 'mcm-service:probe' }, 'publish', '$mcm/canary').allowed, false);
  });
});
