/**
 * Issue 15: the desired dynamic-security model from the event log, its plugin file, and the plan
 * that moves the plugin's state to it — given events, when the plugin holds X, then these commands.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pbkdf2Sync } from 'node:crypto';
import type { DomainEvent } from '../../core/events.ts';
import type { BrokerConfig } from '../../core/state.ts';
import { ev, given as spec } from '../helpers/decider-spec.ts';
import { buildDynsecModel, DEFAULT_ACL_ACCESS, type DynsecModel } from '../../projections/dynsec-model.ts';
import { dynsecPasswordFields, renderDynsecJson } from '../../projections/dynsec-json.ts';
import { planDynsec, type DynsecActual } from '../../projections/dynsec-plan.ts';
import { renderMosquittoConf } from '../../projections/mosquitto-conf.ts';

const HASH = '$7$101$AAAAAAAAAAAAAAAA$' + Buffer.alloc(64, 1).toString('base64');

const given = (events: readonly DomainEvent[]): BrokerConfig => structuredClone(spec(events).state);

const model = (s: BrokerConfig): DynsecModel => buildDynsecModel(s, { serviceAccount: 'mcm-service', serviceAccountHash: HASH });

const base = (): DomainEvent[] => [
  ev.userCreated('alice', { passwordHash: HASH, description: 'd' }),
  ev.roleDefined('sensors'),
  ev.ruleAdded(1, 'user:alice', 'a/#', 'readwrite'),
  ev.ruleAdded(2, 'user:alice', 'a/secret', 'deny'),
  ev.ruleAdded(3, 'role:sensors', 's/+', 'write'),
  ev.granted('alice', 'sensors'),
];
const state = given(base());

test('the model: a user\'s own rules are its own role, checked before its granted roles; a deny before an allow', () => {
  const m = model(state);
  const alice = m.clients.find((c) => c.username === 'alice');
  assert.deepEqual(alice?.roles, [{ rolename: 'user:alice', priority: 1 }, { rolename: 'sensors', priority: 0 }]);
  const own = m.roles.find((r) => r.rolename === 'user:alice');
  assert.deepEqual(own?.acls, [
    { acltype: 'publishClientReceive', topic: 'a/#', priority: 0, allow: true },
    { acltype: 'publishClientReceive', topic: 'a/secret', priority: 1, allow: false },
    { acltype: 'publishClientSend', topic: 'a/#', priority: 0, allow: true },
    { acltype: 'publishClientSend', topic: 'a/secret', priority: 1, allow: false },
    { acltype: 'subscribePattern', topic: 'a/#', priority: 0, allow: true },
    { acltype: 'subscribePattern', topic: 'a/secret', priority: 1, allow: false },
  ]);
  assert.deepEqual(m.roles.find((r) => r.rolename === 'sensors')?.acls, [{ acltype: 'publishClientSend', topic: 's/+', priority: 0, allow: true }]);
  assert.deepEqual(m.defaultACLAccess, DEFAULT_ACL_ACCESS);
  assert.equal(m.anonymousGroup, 'mcm:anonymous');
  // The probe's own client holds the probe role; the service account (observer, admin) does not, so no apply kicks it.
  assert.deepEqual(m.clients.find((c) => c.username === 'mcm-service')?.roles, [{ rolename: 'mcm:service', priority: 0 }]);
  assert.deepEqual(m.clients.find((c) => c.username === 'mcm-service:probe')?.roles, [{ rolename: 'mcm:probe', priority: 0 }]);
  assert.deepEqual(m.unsupported, []);
});

test('the model: a pattern rule is unsupported, with the reason', () => {
  const s = given([ev.ruleAdded(7, 'pattern', 'dev/%c/#', 'write')]);
  assert.deepEqual(model(s).unsupported, [{ rule: 7, reason: 'rule 7 (pattern dev/%c/#): the dynamic-security plugin of Mosquitto 2.0 has no %c/%u patterns' }]);
});

const actualOf = (m: DynsecModel): DynsecActual => ({
  defaultACLAccess: m.defaultACLAccess,
  clients: m.clients.map((c) => ({ username: c.username, textdescription: c.textdescription, disabled: c.disabled, roles: c.roles, groups: [] })),
  roles: m.roles, groups: m.groups, anonymousGroup: m.anonymousGroup,
});

test('the plan: a plugin already holding the model gets no command', () => {
  const m = model(state);
  assert.deepEqual(planDynsec(actualOf(m), m, () => 'keep'), { commands: [], differences: [], missingPasswords: [] });
});

test('the plan: from the plugin a fresh `mosquitto_ctrl dynsec init` leaves, roles come before the clients that hold them and foreign entries go last', () => {
  const fresh: DynsecActual = {
    defaultACLAccess: { publishClientSend: false, publishClientReceive: true, subscribe: false, unsubscribe: true },
    clients: [{ username: 'admin', textdescription: '', disabled: false, roles: [{ rolename: 'admin', priority: -1 }], groups: [] }],
    roles: [{ rolename: 'admin', textdescription: '', acls: [] }], groups: [], anonymousGroup: '',
  };
  const plan = planDynsec(fresh, model(state), (c) => `pw-of-${c.username}`);
  const names = plan.commands.map((c) => `${c.command} ${String(c.username ?? c.rolename ?? c.groupname ?? '')}`.trim());
  assert.deepEqual(names, [
    'setDefaultACLAccess',
    'createRole mcm:anonymous', 'createRole mcm:probe', 'createRole mcm:service', 'createRole sensors', 'createRole user:alice',
    'createGroup mcm:anonymous', 'setAnonymousGroup mcm:anonymous',
    'createClient alice', 'createClient mcm-service', 'createClient mcm-service:probe',
    'deleteClient admin', 'deleteRole admin',
  ]);
  const alice = plan.commands.find((c) => c.command === 'createClient' && c.username === 'alice');
  assert.equal(alice?.password, 'pw-of-alice');
});

test('the plan: a changed role is replaced whole; a disabled user is disabled (the plugin kicks it); a password without plaintext is reported missing', () => {
  const before = model(state);
  const after = model(given([
    ev.userCreated('alice', { passwordHash: HASH, description: 'd', disabled: true }),
    ev.roleDefined('sensors'),
    ev.ruleAdded(3, 'role:sensors', 's/#', 'read'),
    ev.granted('alice', 'sensors'),
  ]));
  const plan = planDynsec(actualOf(before), after, (c) => (c.username === 'alice' ? null : 'keep'));
  assert.deepEqual(plan.missingPasswords, ['alice']);
  const cmds = plan.commands.map((c) => `${c.command} ${String(c.username ?? c.rolename ?? '')}`);
  assert.ok(cmds.includes('modifyRole sensors'));
  assert.ok(cmds.includes('modifyClient alice'));
  assert.ok(cmds.includes('disableClient alice'));
  assert.ok(cmds.includes('deleteRole user:alice'));
  assert.ok(cmds.indexOf('modifyClient alice') < cmds.indexOf('deleteRole user:alice'), 'a role is deleted only once no client holds it');
});

test('the plugin file: MCM\'s $7$ hash is the plugin\'s password, salt and iterations (same PBKDF2-SHA512)', () => {
  const salt = Buffer.from('0123456789ab');
  const key = pbkdf2Sync('pw', salt, 101, 64, 'sha512');
  const hash = `$7$101$${salt.toString('base64')}$${key.toString('base64')}`;
  assert.deepEqual(dynsecPasswordFields(hash), { password: key.toString('base64'), salt: salt.toString('base64'), iterations: 101 });
  assert.equal(dynsecPasswordFields('$6$abc$def'), null);
  const json = renderDynsecJson(model(state));
  const parsed = JSON.parse(json.text) as { clients: { username: string; password?: string; roles: unknown[] }[]; anonymousGroup: string };
  assert.equal(parsed.clients.find((c) => c.username === 'alice')?.password, Buffer.alloc(64, 1).toString('base64'));
  assert.equal(parsed.anonymousGroup, 'mcm:anonymous');
  assert.deepEqual(json.withoutPassword, []);
});

test('mosquitto.conf with the dynsec backend: the plugin and its file replace password_file and acl_file', () => {
  const conf = renderMosquittoConf({
    passwordFile: '/d/passwd', aclFile: '/d/acl', allowAnonymous: false, host: '127.0.0.1', port: 1883, persistenceDir: '/d/p',
    dynsec: { plugin: '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so', configFile: '/d/p/dynamic-security.json' },
  });
  assert.match(conf, /^per_listener_settings false\nallow_anonymous false\nplugin \/usr\/lib\/x86_64-linux-gnu\/mosquitto_dynamic_security\.so\nplugin_opt_config_file \/d\/p\/dynamic-security\.json\n/m);
  assert.doesNotMatch(conf, /password_file|acl_file/);
});
