/**
 * Issue 15, external mode: an operator's mosquitto already runs the dynamic-security plugin,
 * with an admin made by `mosquitto_ctrl dynsec init` and clients of its own. MCM is given that
 * admin once (MCM_DYNSEC_ADMIN_USERNAME / _PASSWORD), sets up its service account, and then
 * manages only its own users and roles: the operator's entries are left exactly as they were.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mosquittoCtrl, requireDynsec } from '../helpers/dynsec-broker.ts';
import { startMosquitto } from '../helpers/mosquitto.ts';
import { startTestServer, testDataDir } from '../helpers/mcm-server.ts';
import { connectAs, login, publish } from '../helpers/mqtt-client.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const ctrl = mosquittoCtrl;

test('external broker with the plugin: MCM sets up its account with the operator\'s admin, then manages only its own entries', { timeout: 120_000 }, async (t) => {
  const env = requireDynsec(t);
  if (!env) return;
  // The operator's installation: `mosquitto_ctrl dynsec init`, and a device of their own.
  const dir = tempDir(t, 'mcm-ext-dynsec-');
  const file = join(dir, 'dynamic-security.json');
  const init = spawnSync('mosquitto_ctrl', ['dynsec', 'init', file, 'admin', 'admin-pw'], { encoding: 'utf8' });
  assert.equal(init.status, 0, init.stderr);
  const broker = await startMosquitto(t, env.bin, { dir, lines: ['allow_anonymous false', `plugin ${env.plugin}`, `plugin_opt_config_file ${file}`] });
  ctrl(broker.port, 'admin', 'admin-pw', 'createRole', 'legacy-role');
  ctrl(broker.port, 'admin', 'admin-pw', 'addRoleACL', 'legacy-role', 'publishClientSend', 'legacy/#', 'allow');
  ctrl(broker.port, 'admin', 'admin-pw', 'createClient', 'legacy-device', '-p', 'legacy-pw');
  ctrl(broker.port, 'admin', 'admin-pw', 'addClientRole', 'legacy-device', 'legacy-role');

  const s = await startTestServer(t, env.bin, {
    dataDir: testDataDir(t),
    config: {
      mqtt: { port: broker.port },
      mosquitto: { mode: 'external', backend: 'dynsec', reload: { strategy: 'none' }, probe: { interval_s: 3600 } },
      dynsec_admin: { username: 'admin', password: 'admin-pw' },
    },
  });
  assert.equal(s.applyLoop.status().state, 'applied', JSON.stringify(s.applyLoop.status()));
  assert.equal(s.applyLoop.status().broker.backend, 'dynsec');
  // The operator's admin password is used, never kept: not in the settings the server leaves for
  // the CLI, not in a security event.
  assert.doesNotMatch(readFileSync(join(s.dataDir, 'server-settings.json'), 'utf8'), /admin-pw/);
  assert.doesNotMatch(JSON.stringify(s.deps.securityLog.list({}).items), /admin-pw/);

  const o = await s.apply({ type: 'CreateMqttUser', data: { username: 'mcm-dev', passwordHash: await s.deps.mqttHasher.hash('mcm-dev-pw', 101) } });
  assert.equal(o.result, 'applied', o.reason);
  await s.apply({ type: 'AddAclRule', data: { principal: 'user:mcm-dev', topic: 'mcm/#', access: 'write' } });
  const dev = await connectAs(t, broker.port, 'mcm-dev', 'mcm-dev-pw');
  assert.equal(await publish(dev, 'mcm/1', 'x'), 'accepted');
  assert.equal(await publish(dev, 'legacy/1', 'x'), 'denied');

  // The operator's entries: untouched, still working, and listed once.
  const legacy = await connectAs(t, broker.port, 'legacy-device', 'legacy-pw');
  assert.equal(await publish(legacy, 'legacy/1', 'x'), 'accepted');
  assert.match(ctrl(broker.port, 'admin', 'admin-pw', 'listClients'), /legacy-device/);
  assert.match(ctrl(broker.port, 'admin', 'admin-pw', 'listRoles'), /legacy-role/);
  const foreign = s.deps.securityLog.list({ category: 'dynsec.foreign' }).items;
  assert.equal(foreign.length, 1);
  assert.match(foreign[0]!.message, /legacy-device/);
  // `dynsec init` lets clients receive by default; MCM's rules need a denying default, and says so.
  const defaults = s.deps.securityLog.list({ category: 'dynsec.default_access' }).items;
  assert.equal(defaults.length, 1);
  assert.match(defaults[0]!.message, /other clients now need explicit ACLs/);
  // An enforcement check leaves them alone too: they are not drift.
  const probe = await s.applyLoop.checkEnforcement('test');
  assert.equal(probe?.ok, true, JSON.stringify(probe));
  assert.equal(s.deps.securityLog.list({ category: 'dynsec.drift' }).items.length, 0);
  assert.equal((await login(t, broker.port, 'legacy-device', 'legacy-pw')).ok, true);

  // A change past MCM to one of MCM's own entries is drift, and undone.
  ctrl(broker.port, 'admin', 'admin-pw', 'addRoleACL', 'user:mcm-dev', 'publishClientSend', 'legacy/#', 'allow', '5');
  await s.applyLoop.checkEnforcement('test');
  assert.equal(s.deps.securityLog.list({ category: 'dynsec.drift' }).items.length, 1);
  const dev2 = await connectAs(t, broker.port, 'mcm-dev', 'mcm-dev-pw');
  assert.equal(await publish(dev2, 'legacy/1', 'x'), 'denied');
});

test('external broker with the plugin: without the admin, MCM says what to do', { timeout: 60_000 }, async (t) => {
  const env = requireDynsec(t);
  if (!env) return;
  const dir = tempDir(t, 'mcm-ext-dynsec-');
  const file = join(dir, 'dynamic-security.json');
  assert.equal(spawnSync('mosquitto_ctrl', ['dynsec', 'init', file, 'admin', 'admin-pw'], { encoding: 'utf8' }).status, 0);
  const broker = await startMosquitto(t, env.bin, { dir, lines: ['allow_anonymous false', `plugin ${env.plugin}`, `plugin_opt_config_file ${file}`] });
  const s = await startTestServer(t, env.bin, {
    config: { mqtt: { port: broker.port }, mosquitto: { mode: 'external', backend: 'dynsec', reload: { strategy: 'none' }, probe: { timeout_ms: 2000 } } },
  });
  const st = s.applyLoop.status();
  assert.equal(st.last?.result, 'failed');
  assert.match(st.last?.reason ?? '', /MCM's service account "mcm-service" is not an admin of this broker's plugin: start the server once with MCM_DYNSEC_ADMIN_USERNAME and MCM_DYNSEC_ADMIN_PASSWORD/);
  // Nothing was changed in the operator's plugin.
  assert.doesNotMatch(ctrl(broker.port, 'admin', 'admin-pw', 'listClients'), /mcm/);
});
