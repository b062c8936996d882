/**
 * Issue 15: `mosquitto.backend: dynsec`. A real supervised mosquitto 2.0.11 with the
 * dynamic-security plugin; MCM reconciles the plugin over `$CONTROL/dynamic-security/v1` and
 * proves each change with the probe. Every assertion is a real MQTT login, publish or subscribe.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import type { DomainEvent } from '../../core/events.ts';
import { requireMosquitto } from '../helpers/mosquitto.ts';
import { startTestServer, type TestServer } from '../helpers/mcm-server.ts';
import { closes, connectAs, login, publish } from '../helpers/mqtt-client.ts';
import { readPluginState } from '../../adapters/dynsec/read-plugin-state.ts';
import { mosquittoCtrl } from '../helpers/dynsec-broker.ts';
import { createDynsecControl } from '../../adapters/dynsec/dynsec-control.ts';
import { planDynsec } from '../../projections/dynsec-plan.ts';
import { buildDynsecModel } from '../../projections/dynsec-model.ts';
import { explainDynsec } from '../../projections/dynsec-explain.ts';

/** The granted QoS, or 135 for a refused subscription (mqtt.js reports SUBACK 0x87 as "Not authorized"). */
const subscribe = (c: MqttClient, filter: string): Promise<number> =>
  new Promise((resolve, reject) => c.subscribe(filter, { qos: 1 }, (err, granted) => {
    if (!err) resolve(granted?.[0]?.qos ?? -1);
    else if (/not authori[sz]ed/i.test(err.message)) resolve(135);
    else reject(err);
  }));

/** A hash made the way HTTP and the CLI make it while the server runs (through the courier). */
const courierHash = (s: TestServer, pw: string): Promise<string> => s.deps.mqttHasher.hash(pw, s.store.state().settings.hashIterations);

const pluginState = async (s: TestServer) => {
  const control = createDynsecControl({ target: s.deps.probeTarget, timeoutMs: 5000 });
  try {
    return await readPluginState(control);
  } finally {
    control.close();
  }
};

/** `mosquitto_ctrl dynsec …` as MCM's service account, the plugin's admin: a change made past MCM. */
const ctrl = (s: TestServer, ...args: string[]): string => mosquittoCtrl(s.port, s.deps.serviceAccount.username, s.deps.serviceAccount.password, ...args);

test('dynsec backend: users, roles and rules are enforced by the plugin, without a reload', { timeout: 120_000 }, async (t) => {
  const bin = requireMosquitto(t);
  if (!bin) return;
  const s = await startTestServer(t, bin, { config: { mosquitto: { backend: 'dynsec' } } });
  const conf = readFileSync(join(s.dataDir, 'mosquitto', 'mosquitto.conf'), 'utf8');
  assert.match(conf, /^plugin \/.*mosquitto_dynamic_security\.so$/m);
  assert.doesNotMatch(conf, /^(password_file|acl_file) /m);
  assert.equal(s.applyLoop.status().broker.backend, 'dynsec');

  const created = await s.apply({ type: 'CreateMqttUser', data: { username: 'alice', passwordHash: await courierHash(s, 'alice-pw') } });
  assert.equal(created.result, 'applied', created.reason);
  assert.equal(created.reloaded, false);
  assert.notEqual(created.restarted, true, 'a password MCM just hashed is sent to the plugin, no restart');
  await s.apply({ type: 'AddAclRule', data: { principal: 'user:alice', topic: 'a/#', access: 'readwrite' } });
  const alice = await connectAs(t, s.port, 'alice', 'alice-pw');
  assert.equal(await publish(alice, 'a/1', 'x'), 'accepted');
  assert.equal(await publish(alice, 'b/1', 'x'), 'denied', 'default access denies sending');
  assert.equal(await subscribe(alice, 'a/#'), 1);
  assert.equal(await subscribe(alice, 'b/#'), 135, 'the plugin checks subscriptions (SUBACK 0x87)');

  // A deny in the user's own rules is checked before its allows.
  const deny = await s.apply({ type: 'AddAclRule', data: { principal: 'user:alice', topic: 'a/secret', access: 'deny' } });
  assert.equal(deny.result, 'applied', deny.reason);
  assert.equal(await publish(alice, 'a/secret', 'x'), 'denied');
  assert.equal(await publish(alice, 'a/2', 'x'), 'accepted');

  // Roles: a role's rules reach every user granted it.
  s.run({ type: 'DefineRole', data: { name: 'sensors' } });
  await s.apply({ type: 'AddAclRule', data: { principal: 'role:sensors', topic: 's/+/temp', access: 'write' } });
  await s.apply({ type: 'CreateMqttUser', data: { username: 'bob', passwordHash: await courierHash(s, 'bob-pw'), roles: ['sensors'] } });
  const bob = await connectAs(t, s.port, 'bob', 'bob-pw');
  assert.equal(await publish(bob, 's/1/temp', '21'), 'accepted');
  assert.equal(await publish(bob, 'a/1', 'x'), 'denied');
  const revoked = await s.apply({ type: 'RevokeRole', data: { username: 'bob', role: 'sensors' } });
  assert.equal(revoked.result, 'applied', revoked.reason);
  // modifyClient makes the plugin kick the client; a new connection has no rights now.
  const bob2 = await connectAs(t, s.port, 'bob', 'bob-pw');
  assert.equal(await publish(bob2, 's/1/temp', '21'), 'denied');

  // Explain answers as the plugin decides (its own order), and agrees with the broker.
  const model = () => buildDynsecModel(s.store.state(), { serviceAccount: s.deps.serviceAccount.username, serviceAccountHash: s.deps.serviceAccount.passwordHash });
  for (const [who, client] of [['alice', alice], ['bob', bob2]] as const) {
    for (const topic of ['a/1', 'a/secret', 'a/secret/x', 'b/1', 's/1/temp', 's/x', '$SYS/x', '$mcm/probe/1']) {
      const said = explainDynsec(model(), s.store.state(), { username: who, topic, action: 'write' }, { serviceAccount: s.deps.serviceAccount.username });
      assert.equal(await publish(client, topic, 'x'), said.allowed ? 'accepted' : 'denied', `${who} write ${topic}: explain said ${said.reason}`);
    }
  }
  const why = explainDynsec(model(), s.store.state(), { username: 'alice', topic: 'a/secret', action: 'write' }, { serviceAccount: s.deps.serviceAccount.username });
  assert.equal(why.reason, 'denied by role "user:alice" (publishClientSend "a/secret", priority 1)');
  assert.deepEqual(why.matched.map((m) => [m.principal, m.topic, m.access]), [['user:alice', 'a/secret', 'deny']]);

  // Password change, disable, delete.
  await s.apply({ type: 'ChangeMqttUserPassword', data: { username: 'alice', passwordHash: await courierHash(s, 'alice-pw-2') } });
  assert.equal((await login(t, s.port, 'alice', 'alice-pw')).ok, false);
  assert.equal((await login(t, s.port, 'alice', 'alice-pw-2')).ok, true);
  const connected = await connectAs(t, s.port, 'alice', 'alice-pw-2');
  const kicked = closes(connected, 5000);
  await s.apply({ type: 'UpdateMqttUser', data: { username: 'alice', disabled: true } });
  assert.equal(await kicked, true, 'the plugin disconnects a client it disables (reference §6.3)');
  assert.equal((await login(t, s.port, 'alice', 'alice-pw-2')).ok, false, 'a disabled client is refused');
  await s.apply({ type: 'UpdateMqttUser', data: { username: 'alice', disabled: false } });
  assert.equal((await login(t, s.port, 'alice', 'alice-pw-2')).ok, true);
  await s.apply({ type: 'DeleteMqttUser', data: { username: 'alice' } });
  assert.equal((await login(t, s.port, 'alice', 'alice-pw-2')).ok, false, 'a deleted client is refused');

  const st = await pluginState(s);
  assert.deepEqual(st.clients.map((c) => c.username).sort(), ['bob', s.deps.serviceAccount.username, `${s.deps.serviceAccount.username}:probe`].sort());
  // What the plugin reports back is exactly the model: no difference is left to send again.
  assert.deepEqual(planDynsec(st, model(), () => 'keep').differences, []);
  assert.ok(!st.roles.some((r) => r.rolename === 'user:alice'), 'a deleted user\'s own role goes with it');
  assert.equal(s.applyLoop.stats().reloads, 0, 'the dynsec backend never reloads the broker');
});

test('dynsec backend: a password MCM has no plaintext for reaches the plugin through its file and a restart; MCM restarts keep every user', { timeout: 120_000 }, async (t) => {
  const bin = requireMosquitto(t);
  if (!bin) return;
  const s = await startTestServer(t, bin, { config: { mosquitto: { backend: 'dynsec' } } });
  // The helper's own hasher stands for a hash made while the server was stopped (`mcm users` on the log).
  const o = await s.apply({ type: 'CreateMqttUser', data: { username: 'carol', passwordHash: await s.hash('carol-pw') } }, 20_000);
  assert.equal(o.result, 'applied', o.reason);
  assert.equal(o.restarted, true);
  assert.equal((await login(t, s.port, 'carol', 'carol-pw')).ok, true);
  assert.equal((await login(t, s.port, 'carol', 'wrong')).ok, false);

  // A bulk change (3,000 new users with a rule each) goes as one plugin file and one restart, not
  // 6,000 commands each making the plugin rewrite its whole file.
  const hash = await s.hash('bulk-pw');
  const events: DomainEvent[] = [];
  let id = s.store.state().nextRuleId;
  for (let i = 0; i < 3000; i++) {
    events.push({ type: 'MqttUserCreated', data: { username: `bulk-${i}`, passwordHash: hash, description: '', disabled: false } });
    events.push({ type: 'AclRuleAdded', data: { id: id++, principal: `user:bulk-${i}`, topic: `bulk/${i}/#`, access: 'write', description: '' } });
  }
  const [last] = s.store.append(events, { actor: { kind: 'cli', id: 'test' }, at: new Date().toISOString() }).slice(-1);
  const bulk = await s.applyLoop.waitForGeneration(last!.seq, 60_000);
  assert.equal(bulk.result, 'applied', bulk.reason);
  assert.equal(bulk.restarted, true);
  const b = await connectAs(t, s.port, 'bulk-2999', 'bulk-pw');
  assert.equal(await publish(b, 'bulk/2999/x', '1'), 'accepted');
  assert.equal(await publish(b, 'bulk/1/x', '1'), 'denied');
  b.end(true);

  await s.stop();
  const again = await startTestServer(t, bin, { dataDir: s.dataDir, config: { mosquitto: { backend: 'dynsec' }, mqtt: { port: s.port } } });
  assert.equal(again.applyLoop.status().state, 'applied');
  assert.equal((await login(t, again.port, 'carol', 'carol-pw')).ok, true, 'the broker starts on the plugin file MCM writes from the log');
  // A new hash with no plaintext (as `mcm users passwd` on a stopped server leaves it) is known to
  // differ from what the plugin holds, and reaches it through the file.
  const changed = await again.apply({ type: 'ChangeMqttUserPassword', data: { username: 'carol', passwordHash: await again.hash('carol-pw-2') } }, 20_000);
  assert.equal(changed.result, 'applied', changed.reason);
  assert.equal(changed.restarted, true);
  assert.equal((await login(t, again.port, 'carol', 'carol-pw-2')).ok, true);
  assert.equal((await login(t, again.port, 'carol', 'carol-pw')).ok, false, 'the old password no longer works');
});

test('dynsec backend: a change made with mosquitto_ctrl is reported and undone (drift: restore)', { timeout: 120_000 }, async (t) => {
  const bin = requireMosquitto(t);
  if (!bin) return;
  const s = await startTestServer(t, bin, { config: { mosquitto: { backend: 'dynsec', drift: 'restore' } } });
  await s.apply({ type: 'CreateMqttUser', data: { username: 'dave', passwordHash: await courierHash(s, 'dave-pw') } });
  await s.apply({ type: 'AddAclRule', data: { principal: 'user:dave', topic: 'd/#', access: 'write' } });
  ctrl(s, 'createClient', 'eve', '-p', 'eve-pw');
  ctrl(s, 'addRoleACL', 'user:dave', 'publishClientSend', 'x/#', 'allow', '5');
  const dave = await connectAs(t, s.port, 'dave', 'dave-pw');
  assert.equal(await publish(dave, 'x/1', 'x'), 'accepted', 'the manual change is in force until MCM sees it');

  const probe = await s.applyLoop.checkEnforcement('test');
  assert.equal(probe?.ok, true, JSON.stringify(probe));
  const events = s.deps.securityLog.list({ category: 'dynsec.drift' }).items;
  assert.equal(events.length, 1);
  assert.match(events[0]!.message, /client eve is not in MCM/);
  assert.match(events[0]!.message, /role user:dave differs/);
  const st = await pluginState(s);
  assert.ok(!st.clients.some((c) => c.username === 'eve'), 'the foreign client is deleted');
  assert.equal((await login(t, s.port, 'eve', 'eve-pw')).ok, false);
  const dave2 = await connectAs(t, s.port, 'dave', 'dave-pw');
  assert.equal(await publish(dave2, 'x/1', 'x'), 'denied', 'the role is MCM\'s again');
  assert.equal(await publish(dave2, 'd/1', 'x'), 'accepted');
});

test('dynsec backend: drift: report leaves the change and says so; a pattern rule is refused with its reason', { timeout: 120_000 }, async (t) => {
  const bin = requireMosquitto(t);
  if (!bin) return;
  const s = await startTestServer(t, bin, { config: { mosquitto: { backend: 'dynsec', drift: 'report' } } });
  await s.apply({ type: 'CreateMqttUser', data: { username: 'frank', passwordHash: await courierHash(s, 'frank-pw') } });
  ctrl(s, 'createClient', 'eve', '-p', 'eve-pw');
  await s.applyLoop.checkEnforcement('test');
  assert.equal(s.deps.securityLog.list({ category: 'dynsec.drift' }).items.length, 1);
  assert.ok((await pluginState(s)).clients.some((c) => c.username === 'eve'), 'report mode changes nothing');
  await s.applyLoop.checkEnforcement('test again');
  assert.equal(s.deps.securityLog.list({ category: 'dynsec.drift' }).items.length, 1, 'one drift is one event');

  const p = await s.apply({ type: 'AddAclRule', data: { principal: 'pattern', topic: 'dev/%c/#', access: 'write' } });
  assert.equal(p.result, 'failed');
  assert.match(p.reason ?? '', /dynamic-security plugin of Mosquitto 2\.0 has no %c\/%u patterns/);
  assert.equal((await login(t, s.port, 'frank', 'frank-pw')).ok, true, 'the plugin keeps the last applied state');
});
