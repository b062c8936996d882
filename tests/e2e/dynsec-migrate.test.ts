/**
 * Issue 15: `mcm migrate --to dynsec` and back `--to files`, on a real supervised broker each
 * way: the plan refuses what the target cannot express, the switch is the config file's
 * `mosquitto.backend`, and after each restart every user still logs in with its password and
 * its rules are enforced.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../adapters/cli/run-cli.ts';
import { loadConfig } from '../../adapters/config/load.ts';
import { requireMosquitto } from '../helpers/mosquitto.ts';
import { startTestServer, testDataDir } from '../helpers/mcm-server.ts';
import { connectAs, login, publish } from '../helpers/mqtt-client.ts';

const cli = async (args: string[], cwd: string) => {
  let out = '';
  let err = '';
  const code = await runCli(args, { stdout: (s) => { out += s; }, stderr: (s) => { err += s; }, env: {}, cwd });
  return { code, out, err };
};

test('mcm migrate: files → dynsec → files, every user still logs in and its rules hold', { timeout: 180_000 }, async (t) => {
  const bin = requireMosquitto(t);
  if (!bin) return;
  const dataDir = testDataDir(t);
  const configFile = join(dataDir, 'mcm.yaml');
  // An operator's file with a comment that must survive the edit.
  writeFileSync(configFile, `# my broker\ndata_dir: ${dataDir}\nmosquitto:\n  drift: restore # keep\n`);

  const files = await startTestServer(t, bin, { dataDir });
  const port = files.port;
  const users = [['ana', 'ana-password'], ['ben', 'ben-password']] as const;
  /** Each user logs in with its password; its rule holds and nothing more. */
  const everyUserWorks = async (backend: string): Promise<void> => {
    for (const [name, pw] of users) {
      const c = await connectAs(t, port, name, pw);
      assert.equal(await publish(c, `home/${name}/x`, '1'), 'accepted', `${name} on ${backend}`);
      assert.equal(await publish(c, 'home/other/x', '1'), 'denied');
      c.end(true);
    }
  };
  for (const [name, pw] of users) {
    await files.apply({ type: 'CreateMqttUser', data: { username: name, passwordHash: await files.hash(pw) } });
    await files.apply({ type: 'AddAclRule', data: { principal: `user:${name}`, topic: `home/${name}/#`, access: 'readwrite' } });
  }
  await files.apply({ type: 'AddAclRule', data: { principal: 'pattern', topic: 'dev/%c/#', access: 'write' } });
  const patternId = Object.values(files.store.state().rules).find((r) => r.principal === 'pattern')!.id;
  await files.stop();

  // A pattern rule cannot go to the plugin: refused, the config file untouched.
  const before = readFileSync(configFile, 'utf8');
  const refused = await cli(['migrate', '--to', 'dynsec', '--config', configFile], dataDir);
  assert.equal(refused.code, 1, refused.out + refused.err);
  assert.match(refused.out, /rule \d+ \(write dev\/%c\/#\) is a pattern rule/);
  assert.equal(readFileSync(configFile, 'utf8'), before);

  // Without it the plan goes through.
  const again = await startTestServer(t, bin, { dataDir, config: { mqtt: { port } } });
  await again.apply({ type: 'RemoveAclRule', data: { id: patternId } });
  await again.stop();
  const dry = await cli(['migrate', '--to', 'dynsec', '--dry-run', '--config', configFile], dataDir);
  assert.equal(dry.code, 0, dry.out + dry.err);
  assert.match(dry.out, /subscriptions are checked/);
  assert.equal(readFileSync(configFile, 'utf8'), before, '--dry-run changes nothing');
  const moved = await cli(['migrate', '--to', 'dynsec', '--config', configFile], dataDir);
  assert.equal(moved.code, 0, moved.out + moved.err);
  const edited = readFileSync(configFile, 'utf8');
  assert.match(edited, /^# my broker/);
  assert.match(edited, /drift: restore # keep/);
  assert.equal(loadConfig({ file: configFile, env: {}, cwd: dataDir }).config.mosquitto.backend, 'dynsec');

  const dynsec = await startTestServer(t, bin, { dataDir, config: { mqtt: { port }, mosquitto: { backend: 'dynsec' } } });
  assert.equal(dynsec.applyLoop.status().state, 'applied');
  assert.match(readFileSync(join(dataDir, 'mosquitto', 'mosquitto.conf'), 'utf8'), /mosquitto_dynamic_security\.so/);
  await everyUserWorks('dynsec');
  await dynsec.stop();

  const back = await cli(['migrate', '--to', 'files', '--config', configFile], dataDir);
  assert.equal(back.code, 0, back.out + back.err);
  assert.match(back.out, /subscriptions are no longer checked/);
  const filesAgain = await startTestServer(t, bin, { dataDir, config: { mqtt: { port }, mosquitto: { backend: 'files' } } });
  assert.equal(filesAgain.applyLoop.status().state, 'applied', JSON.stringify(filesAgain.applyLoop.status()));
  assert.doesNotMatch(readFileSync(join(dataDir, 'mosquitto', 'mosquitto.conf'), 'utf8'), /mosquitto_dynamic_security\.so/);
  await everyUserWorks('files');
  assert.equal((await login(t, port, 'ana', 'wrong')).ok, false);
});
