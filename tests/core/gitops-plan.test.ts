/**
 * GitOps plan (core/gitops-plan.ts) and batches (core/handle-batch.ts): the diff between a state
 * and a bundle as commands decide accepts in one batch, and as a readable plan that says who
 * gains or loses which topic access.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Command } from '../../core/commands.ts';
import { DomainError } from '../../core/errors.ts';
import type { DomainEvent } from '../../core/events.ts';
import { fold, type Recorded } from '../../core/evolve.ts';
import { emptyBrokerConfig, type Bridge, type BrokerConfigModel, type Listener } from '../../core/broker-config/model.ts';
import { bundleProblems, emptyBundle, sortBundle, type GitopsBundle } from '../../core/gitops-bundle.ts';
import { formatPlan, planBundle, type PlanChange, type PlanOptions } from '../../core/gitops-plan.ts';
import { decideBatch, simulateBatch } from '../../core/handle-batch.ts';
import { initialState, type BrokerConfig } from '../../core/state.ts';
import { exportBundle } from '../../projections/gitops-export.ts';
import { deepFreeze, ev, HASH_A, HASH_B, record } from '../helpers/decider-spec.ts';

const SERVICE = 'mcm-service';
const OPTS = { serviceAccount: SERVICE };

const stateOf = (events: readonly DomainEvent[]): BrokerConfig => deepFreeze(fold(record(events)));
const basicState = (): BrokerConfig => deepFreeze(fold(readFileSync(new URL('../../fixtures/events/basic.jsonl', import.meta.url), 'utf8')
  .split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Recorded)));

/** The bundle of `state`, changed by `edit` (a deep copy: the export itself is never touched). */
const edited = (state: BrokerConfig, edit: (b: GitopsBundle) => void): GitopsBundle => {
  const b = structuredClone(exportBundle(state));
  edit(b);
  return b;
};

/** Plans, applies the plan as one batch to a copy, and checks the result is exactly the bundle. */
const planAndApply = (state: BrokerConfig, bundle: GitopsBundle) => {
  const plan = planBundle(state, bundle, OPTS);
  const after = simulateBatch(plan.commands, state).state;
  assert.deepEqual(exportBundle(after), sortBundle(bundle), 'applying the plan yields exactly the bundle');
  assert.deepEqual(planBundle(after, bundle, OPTS).commands, [], 'a second plan has nothing to do');
  return plan;
};

const types = (commands: readonly Command[]): string[] => commands.map((c) => c.type);
const ofType = <T extends PlanChange['type']>(changes: readonly PlanChange[], type: T) =>
  changes.filter((c): c is Extract<PlanChange, { type: T }> => c.type === type);

describe('planBundle: nothing to do', () => {
  it('an empty bundle against an empty state plans nothing, and says so', () => {
    const plan = planBundle(initialState(), emptyBundle(), OPTS);
    assert.deepEqual(plan, { commands: [], changes: [] });
    assert.equal(formatPlan(plan.changes), 'No changes: the configuration already matches.\n');
  });

  it('the export of a state plans nothing against that state (no ids compared, only names)', () => {
    const state = basicState();
    assert.deepEqual(planBundle(state, exportBundle(state), OPTS), { commands: [], changes: [] });
  });

  it('the order of entries and of a user\'s roles in the bundle is not a change', () => {
    const state = basicState();
    const b = edited(state, (x) => { x.users.reverse(); x.acls.reverse(); x.roles.reverse(); });
    assert.deepEqual(planBundle(state, b, OPTS).commands, []);
  });
});

describe('planBundle: building a configuration from nothing', () => {
  it('defines roles before the users granted them, and adds user rules after the users exist', () => {
    const plan = planAndApply(initialState(), exportBundle(basicState()));
    const t = types(plan.commands);
    assert.equal(t[0], 'ChangeSettings');
    const lastDefine = t.lastIndexOf('DefineRole');
    const firstCreate = t.indexOf('CreateMqttUser');
    const firstAdd = t.indexOf('AddAclRule');
    assert.ok(lastDefine < firstCreate && t.lastIndexOf('CreateMqttUser') < firstAdd, t.join(', '));
    const carol = plan.commands.find((c) => c.type === 'CreateMqttUser' && c.data.username === 'carol');
    assert.deepEqual(carol?.data, { username: 'carol', passwordHash: basicState().users['carol']?.passwordHash, description: '', roles: [], disabled: true },
      'the exported hash is used as is: the password stays what it was');
  });
});

describe('planBundle: users', () => {
  it('a different password_hash becomes ChangeMqttUserPassword with that hash: "password rotated"', () => {
    const state = stateOf([ev.userCreated('alice', { passwordHash: HASH_A })]);
    const plan = planAndApply(state, edited(state, (b) => { (b.users[0] as GitopsBundle['users'][number]).password_hash = HASH_B; }));
    assert.deepEqual(plan.commands, [{ type: 'ChangeMqttUserPassword', data: { username: 'alice', passwordHash: HASH_B } }]);
    assert.equal(ofType(plan.changes, 'user_changed')[0]?.password_rotated, true);
    assert.match(formatPlan(plan.changes), /~ user "alice": password rotated\n/);
  });

  it('description, roles and disabled become one UpdateMqttUser; a disabled user loses all its access', () => {
    const state = stateOf([
      ev.roleDefined('ops'), ev.roleDefined('viewers'), ev.userCreated('bob'), ev.granted('bob', 'ops'),
      ev.ruleAdded(1, 'role:viewers', 'plant/#', 'read'), ev.ruleAdded(2, 'user:bob', 'bob/#', 'readwrite'),
    ]);
    const plan = planAndApply(state, edited(state, (b) => {
      const bob = b.users[0] as GitopsBundle['users'][number];
      bob.description = 'night shift';
      bob.roles = ['viewers'];
      bob.disabled = true;
    }));
    assert.deepEqual(plan.commands, [{ type: 'UpdateMqttUser', data: { username: 'bob', description: 'night shift', roles: ['viewers'], disabled: true } }]);
    const text = formatPlan(plan.changes);
    assert.match(text, /~ user "bob": description "" → "night shift"; roles \+viewers -ops; disabled\n/);
    assert.match(text, /user "bob" loses readwrite on bob\/#\n/);
  });

  it('a removed user is deleted with its direct rules in the same command (no separate RemoveAclRule)', () => {
    const state = stateOf([ev.userCreated('erin'), ev.ruleAdded(1, 'user:erin', 'home/erin/#', 'read'), ev.ruleAdded(2, 'anonymous', 'pub/#', 'read')]);
    const plan = planAndApply(state, edited(state, (b) => { b.users = []; b.acls = b.acls.filter((a) => a.principal !== 'user:erin'); }));
    assert.deepEqual(plan.commands, [{ type: 'DeleteMqttUser', data: { username: 'erin' } }]);
    assert.equal(formatPlan(plan.changes), [
      'Users:\n  - user "erin"\n',
      'ACL rules:\n  - user:erin read home/erin/#\n',
      'Access:\n  user "erin" loses read on home/erin/#\n',
      'Plan: 0 to add, 0 to change, 2 to remove.\n',
    ].join('\n'));
  });

  it('refuses MCM\'s service account as a user, like the HTTP API (MCM_ERR_GITOPS_INVALID)', () => {
    const b = emptyBundle();
    b.users.push({ username: SERVICE, password_hash: HASH_A, description: '', disabled: false, roles: [] });
    assert.throws(() => planBundle(initialState(), b, OPTS), (e: DomainError) =>
      e.code === 'MCM_ERR_GITOPS_INVALID' && e.details[0]?.['path'] === '/users/0/username');
  });
});

describe('planBundle: roles', () => {
  it('a role no longer in the bundle is revoked from its users first, then deleted (decide refuses a role in use)', () => {
    const state = stateOf([ev.roleDefined('old'), ev.userCreated('u'), ev.granted('u', 'old'), ev.ruleAdded(1, 'role:old', 'x/#', 'read')]);
    const plan = planAndApply(state, edited(state, (b) => { b.roles = []; (b.users[0] as GitopsBundle['users'][number]).roles = []; }));
    assert.deepEqual(types(plan.commands), ['UpdateMqttUser', 'DeleteRole']);
    assert.match(formatPlan(plan.changes), /- role "old"\n[^]*~ user "u": roles -old\n[^]*user "u" loses read on x\/#\n/);
  });

  it('changed role rules become one UpdateRole; every holder of the role gains the access, on one line', () => {
    const state = stateOf([ev.roleDefined('sensors'), ev.userCreated('s1'), ev.userCreated('s2'), ev.granted('s1', 'sensors'), ev.granted('s2', 'sensors'),
      ev.ruleAdded(1, 'role:sensors', 'plant/+/temp', 'read', 'temps')]);
    const plan = planAndApply(state, edited(state, (b) => {
      const role = b.roles[0] as GitopsBundle['roles'][number];
      role.rules = [{ topic: 'plant/+/temp', access: 'readwrite', description: 'temps' }, { topic: 'plant/#', access: 'write', description: '' }];
    }));
    assert.deepEqual(types(plan.commands), ['UpdateRole']);
    const text = formatPlan(plan.changes);
    assert.match(text, /~ role "sensors": \+ write plant\/#; \+ readwrite plant\/\+\/temp; - read plant\/\+\/temp\n/);
    // readwrite on plant/+/temp adds write, but write on plant/# covers it: only the broader gain shows.
    assert.match(text, /users "s1", "s2" gain write on plant\/#\n/);
  });

  it('a rule added under a broader one the user already has is no access change [ref §2.2]', () => {
    const state = stateOf([ev.userCreated('a'), ev.ruleAdded(1, 'user:a', 'a/#', 'readwrite')]);
    const plan = planAndApply(state, edited(state, (b) => { b.acls.push({ principal: 'user:a', topic: 'a/b', access: 'read', description: '' }); }));
    assert.deepEqual(types(plan.commands), ['AddAclRule']);
    assert.deepEqual(ofType(plan.changes, 'access_changed'), []);
  });
});

describe('planBundle: ACL rules, schemas and settings', () => {
  it('a description change is ChangeAclRule on the existing id, not remove + add', () => {
    const state = stateOf([ev.ruleAdded(7, 'pattern', 'users/%u/inbox', 'read')]);
    const plan = planAndApply(state, edited(state, (b) => { (b.acls[0] as GitopsBundle['acls'][number]).description = 'inbox'; }));
    assert.deepEqual(plan.commands, [{ type: 'ChangeAclRule', data: { id: 7, description: 'inbox' } }]);
    assert.match(formatPlan(plan.changes), /~ pattern read users\/%u\/inbox: description "" → "inbox"\n/);
  });

  it('anonymous and pattern access changes are reported for those subjects, and settings first', () => {
    const state = stateOf([ev.ruleAdded(1, 'anonymous', 'public/#', 'read')]);
    const plan = planAndApply(state, edited(state, (b) => {
      b.settings.allow_anonymous = true;
      b.acls = [{ principal: 'pattern', topic: 'devices/%c/#', access: 'readwrite', description: '' }];
    }));
    assert.deepEqual(types(plan.commands), ['ChangeSettings', 'RemoveAclRule', 'AddAclRule']);
    assert.equal(formatPlan(plan.changes), [
      'Settings:\n  ~ allow_anonymous: false → true\n',
      'ACL rules:\n  - anonymous read public/#\n  + pattern readwrite devices/%c/#\n',
      'Access:\n  anonymous clients lose read on public/#\n  pattern rules (every client) gain readwrite on devices/%c/#\n',
      'Plan: 1 to add, 1 to change, 1 to remove.\n',
    ].join('\n'));
  });

  it('schemas are matched by name: changed, attached, detached; key order is not a change', () => {
    const state = stateOf([
      { type: 'SchemaAttached', data: { id: 1, name: 'temp', topicFilter: 't/#', schema: { type: 'object', required: ['v'] }, enabled: true, description: '' } },
      { type: 'SchemaAttached', data: { id: 2, name: 'gone', topicFilter: 'g/#', schema: true, enabled: true, description: '' } },
    ]);
    const same = edited(state, (b) => { (b.schemas.find((s) => s.name === 'temp') as GitopsBundle['schemas'][number]).schema = { required: ['v'], type: 'object' }; });
    assert.deepEqual(planBundle(state, same, OPTS).commands, []);
    const plan = planAndApply(state, edited(state, (b) => {
      b.schemas = [
        { name: 'temp', topic_filter: 't/#', enabled: false, description: '', schema: { type: 'object' } },
        { name: 'new', topic_filter: 'n/#', enabled: true, description: 'x', schema: false },
      ];
    }));
    assert.deepEqual(types(plan.commands), ['DetachSchema', 'ChangeSchema', 'AttachSchema']);
    assert.deepEqual(ofType(plan.changes, 'schema_changed')[0]?.fields, ['schema', 'enabled']);
  });
});

describe('planBundle: an inconsistent bundle is refused whole, every problem listed', () => {
  it('names each problem by its JSON pointer: undefined role, unknown user, duplicates, bad filter and hash', () => {
    const b = emptyBundle();
    b.users.push({ username: 'a', password_hash: 'plain-text', description: '', disabled: false, roles: ['nope'] });
    b.users.push({ username: 'a', password_hash: HASH_A, description: '', disabled: false, roles: [] });
    b.acls.push({ principal: 'user:ghost', topic: 'a/#/b', access: 'read', description: '' });
    b.acls.push({ principal: 'role:r' as 'pattern', topic: 'x', access: 'read', description: '' });
    b.settings.hash_iterations = 0;
    let err: DomainError | undefined;
    try { planBundle(initialState(), b, OPTS); } catch (e) { err = e as DomainError; }
    assert.equal(err?.code, 'MCM_ERR_GITOPS_INVALID');
    assert.deepEqual(err?.details.map((d) => d['path']), [
      '/settings/hash_iterations', '/users/0/password_hash', '/users/0/roles/0', '/users/1/username',
      '/acls/0/principal', '/acls/0/topic', '/acls/1/principal',
    ]);
    assert.match(String(err?.details[2]?.['message']), /role "nope" is not defined in roles\.yaml/);
  });
});

describe('decideBatch / simulateBatch', () => {
  it('decides each command against the state the earlier ones leave (a role defined, then granted)', () => {
    const events = decideBatch([
      { type: 'DefineRole', data: { name: 'r', rules: [{ topic: 'a', access: 'read' }] } },
      { type: 'CreateMqttUser', data: { username: 'u', passwordHash: HASH_A, roles: ['r'] } },
      { type: 'AddAclRule', data: { principal: 'user:u', topic: 'b', access: 'write' } },
    ], stateOf([]));
    assert.deepEqual(events.map((e) => e.type), ['RoleDefined', 'AclRuleAdded', 'MqttUserCreated', 'RoleGranted', 'AclRuleAdded']);
    assert.deepEqual(events.filter((e) => e.type === 'AclRuleAdded').map((e) => (e.data as { id: number }).id), [1, 2], 'ids continue across commands');
  });

  it('a refused item fails the whole batch, naming the item, and leaves the given state alone', () => {
    const state = stateOf([ev.userCreated('u')]);
    assert.throws(() => decideBatch([
      { type: 'DefineRole', data: { name: 'r' } },
      { type: 'CreateMqttUser', data: { username: 'u', passwordHash: HASH_A } },
    ], state), (e: DomainError) =>
      e.code === 'MCM_ERR_MQTT_USER_EXISTS' && /^item 2 of 2 \(CreateMqttUser "u"\) was refused, so nothing was changed: /.test(e.message) &&
      e.details[0]?.['index'] === 1);
    assert.equal(Object.keys(state.roles).length, 0);
  });
});

describe('planBundle: the broker configuration (broker.yaml)', () => {
  const FP = Array.from({ length: 32 }, () => 'AB').join(':');
  const cert = (name: string, o: { isCa?: boolean; hasKey?: boolean } = {}): DomainEvent => ({
    type: 'CertificateAdded',
    data: { name, fingerprint: FP, subject: `CN=${name}`, issuer: 'CN=ca', notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2027-01-01T00:00:00.000Z', subjectAltName: '', isCa: o.isCa ?? false, hasKey: o.hasKey ?? true, ca: null },
  });
  const tlsListener = (o: Partial<Listener> = {}): Listener => ({
    name: 'tls', port: 8883, protocol: 'mqtt', address: '0.0.0.0', bindInterface: null, maxConnections: null,
    tls: { certificate: 'server', ca: 'plant-ca', minVersion: 'tlsv1.2', requireCertificate: false, useIdentityAsUsername: false }, ...o,
  });
  const bridge = (o: Partial<Bridge> = {}): Bridge => ({
    name: 'cloud', addresses: [{ host: 'cloud.example', port: 8883 }], remoteUsername: 'plant', remotePasswordRef: 'bridge-pw.00000000000000aa',
    remoteClientId: null, tls: { ca: 'plant-ca', certificate: null, version: null },
    topics: [{ pattern: 'plant/#', direction: 'out', qos: 1, localPrefix: '', remotePrefix: '' }], cleansession: false, keepalive: 60, ...o,
  });
  const configured = (config: Partial<BrokerConfigModel>): DomainEvent => ({ type: 'BrokerConfigChanged', data: { config: { ...emptyBrokerConfig(), ...config } } });
  const PKI = [cert('plant-ca', { isCa: true, hasKey: false }), cert('server')];
  const rich = (): BrokerConfig => stateOf([...PKI, configured({
    listeners: [tlsListener(), tlsListener({ name: 'ws', port: 9001, protocol: 'websockets', address: null, bindInterface: 'lo', tls: null })],
    options: { max_inflight_messages: 40, sys_interval: 15 }, bridges: [bridge()], passthrough: ['# kept as it was', 'allow_zero_length_clientid false'],
  })]);
  const refused = (state: BrokerConfig, bundle: GitopsBundle, opts: PlanOptions = OPTS): DomainError => {
    let err: unknown;
    try { planBundle(state, bundle, opts); } catch (e) { err = e; }
    assert.ok(err instanceof DomainError && err.code === 'MCM_ERR_GITOPS_INVALID', String(err));
    return err;
  };

  it('the export of a configured broker plans nothing against it: certificates by name, the bridge password by reference', () => {
    const state = rich();
    const b = exportBundle(state);
    assert.deepEqual(b.broker, state.brokerConfig, 'exactly the model, in its own shape');
    assert.deepEqual(planBundle(state, b, OPTS), { commands: [], changes: [] });
    assert.doesNotMatch(JSON.stringify(b), /BEGIN|PRIVATE/, 'no PEM, no key');
  });

  it('a listener added in the bundle is one SetBrokerConfig with the whole configuration, shown as a restart', () => {
    const state = stateOf(PKI);
    const plan = planAndApply(state, edited(state, (b) => { b.broker.listeners.push(tlsListener()); }));
    assert.deepEqual(plan.commands, [{ type: 'SetBrokerConfig', data: { config: { ...emptyBrokerConfig(), listeners: [tlsListener()] } } }]);
    assert.deepEqual(plan.changes, [{ type: 'broker_added', what: 'listener tls', apply: 'restart' }]);
    assert.equal(formatPlan(plan.changes), [
      'Broker configuration:\n  + listener tls (restart)\n  the broker restarts to apply this: connected clients are disconnected and reconnect\n',
      'Plan: 1 to add, 0 to change, 0 to remove.\n',
    ].join('\n'));
  });

  it('a file may leave out defaults: the plan fills them in as the broker API does, and an unchanged configuration is no change', () => {
    const state = stateOf(PKI);
    const b = emptyBundle();
    b.broker.listeners.push({ name: 'tls', port: 8883, address: '0.0.0.0', tls: { certificate: 'server', ca: 'plant-ca' } });
    const plan = planBundle(state, b, OPTS);
    assert.deepEqual(plan.commands, [{ type: 'SetBrokerConfig', data: { config: { ...emptyBrokerConfig(), listeners: [tlsListener()] } } }]);
    const after = simulateBatch(plan.commands, state).state;
    assert.deepEqual(planBundle(after, b, OPTS).commands, []);
  });

  it('an option a reload applies is shown as a reload, without the restart warning; a removed option and passthrough lines too', () => {
    const state = rich();
    const plan = planAndApply(state, edited(state, (b) => {
      b.broker.options = { sys_interval: 30 };
      b.broker.passthrough = [];
    }));
    assert.deepEqual(types(plan.commands), ['SetBrokerConfig']);
    assert.match(formatPlan(plan.changes), /~ option sys_interval \(reload\)\n/);
    assert.match(formatPlan(plan.changes), /- option max_inflight_messages \(restart\)\n[^]*~ passthrough \(restart\)\n/);
    const reloadOnly = planAndApply(state, edited(state, (b) => { b.broker.options['sys_interval'] = 30; }));
    assert.doesNotMatch(formatPlan(reloadOnly.changes), /restarts/);
  });

  it('a missing broker.yaml is the empty configuration: every listener and bridge is shown as removed', () => {
    const state = rich();
    const plan = planAndApply(state, edited(state, (b) => { b.broker = emptyBundle().broker; }));
    assert.deepEqual(plan.commands, [{ type: 'SetBrokerConfig', data: { config: emptyBrokerConfig() } }]);
    assert.deepEqual(plan.changes.map((c) => formatPlan([c]).split('\n')[1]), [
      '  - listener tls (restart)', '  - listener ws (restart)', '  - option max_inflight_messages (restart)', '  - option sys_interval (reload)',
      '  - bridge cloud (restart)', '  ~ passthrough (restart)',
    ]);
  });

  it('listeners in another order are a change (mosquitto.conf is written in their order)', () => {
    const state = rich();
    const plan = planAndApply(state, edited(state, (b) => { b.broker.listeners.reverse(); }));
    assert.deepEqual(plan.changes, [{ type: 'broker_changed', what: 'order of listeners', apply: 'restart' }]);
  });

  it('refuses a certificate the data dir does not hold, once, with what to do', () => {
    const state = stateOf([cert('server')]);
    const err = refused(state, edited(state, (b) => { b.broker.listeners.push(tlsListener({ name: 'edge' })); }));
    assert.deepEqual(err.details, [{
      file: 'broker.yaml', section: 'broker', path: '/broker/listeners/0/tls/ca',
      message: 'certificate "plant-ca" (CA of listener edge) is not in this data dir: add it with mcm certs add',
    }]);
    assert.match(err.message, /broker\.yaml \/broker\/listeners\/0\/tls\/ca: certificate "plant-ca"/, 'the CLI prints the message: every problem is in it');
  });

  it('refuses what the data dir\'s certificates cannot do (a listener certificate without its key) and MCM\'s own ports', () => {
    const state = stateOf([cert('plant-ca', { isCa: true, hasKey: false }), cert('server', { hasKey: false })]);
    const err = refused(state, edited(state, (b) => { b.broker.listeners.push(tlsListener({ port: 1883 })); }), { ...OPTS, broker: { reservedPorts: [1883], version: '2.0' } });
    assert.deepEqual(err.details.map((d) => d['path']), ['/broker/listeners/0/port', '/broker/listeners/0/tls/certificate']);
    assert.match(String(err.details[1]?.['message']), /has no private key/);
  });

  it('a bridge password reference must be in the data dir: one the configuration uses, or one its secrets hold', () => {
    const state = stateOf(PKI);
    const bundle = edited(state, (b) => { b.broker.bridges.push(bridge()); });
    const err = refused(state, bundle);
    assert.equal(err.details[0]?.['path'], '/broker/bridges/0/remotePasswordRef');
    assert.match(String(err.details[0]?.['message']), /bridge password "bridge-pw\.00000000000000aa" \(bridge cloud\) is not in this data dir: a bundle cannot carry a password/);
    const secrets = new Set(['bridge-pw.00000000000000aa']);
    assert.deepEqual(types(planBundle(state, bundle, { ...OPTS, bridgePasswordExists: (ref) => secrets.has(ref) }).commands), ['SetBrokerConfig']);
    const renamed = edited(rich(), (b) => { (b.broker.bridges[0] as Bridge).name = 'cloud-2'; });
    assert.deepEqual(types(planBundle(rich(), renamed, OPTS).commands), ['SetBrokerConfig'], 'the reference the data dir uses resolves');
  });

  it('checks every value without the data dir first, each problem at its pointer (as the broker API refuses it)', () => {
    const b = emptyBundle();
    b.broker.listeners.push({ name: 'Bad Name', port: 0, colour: 'red' });
    b.broker.options['password_file'] = '/etc/x';
    b.broker.passthrough.push('listener 1884');
    const problems = bundleProblems(b, OPTS);
    assert.deepEqual(problems.map((p) => [p.section, p.path]), [
      ['broker', '/broker/listeners/0/colour'], ['broker', '/broker/listeners/0/name'], ['broker', '/broker/listeners/0/port'],
      ['broker', '/broker/options/password_file'], ['broker', '/broker/passthrough/0'],
    ]);
    assert.match(problems[3]?.message ?? '', /MCM sets it itself/);
  });

  it('refuses a bridge password in the bundle (it would be in Git), saying where to set it instead, without repeating it', () => {
    const b = emptyBundle();
    b.broker.bridges.push({ ...bridge({ remotePasswordRef: null }), remotePassword: 'hunter2-in-git' });
    const problems = bundleProblems(b, OPTS);
    assert.deepEqual(problems.map((p) => p.path), ['/broker/bridges/0/remotePassword']);
    assert.match(problems[0]?.message ?? '', /^a bundle cannot carry a bridge password \(it would be in Git\): set it on the target MCM/);
    assert.doesNotMatch(JSON.stringify(problems), /hunter2/);
  });
});
