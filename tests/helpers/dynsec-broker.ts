/**
 * A real mosquitto with the dynamic-security plugin, loaded from a DynsecModel: the model is
 * written as the plugin's JSON file (reference §6.2) before the broker starts, so no admin
 * commands are needed. In CI (CI=true) a missing binary or plugin fails the test, never skips it.
 */
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { DynsecModel } from '../../projections/dynsec-model.ts';
import { renderDynsecJson } from '../../projections/dynsec-json.ts';
import { locateDynsecPlugin } from '../../adapters/dynsec/plugin-path.ts';
import { requireMosquitto, startMosquitto, type Broker } from './mosquitto.ts';
import { tempDir } from './temp-dir.ts';


export type DynsecEnv = { bin: string; plugin: string };

/** The broker binary and the plugin, or null (test skipped) outside CI when either is missing. */
export const requireDynsec = (t: TestContext): DynsecEnv | null => {
  const bin = requireMosquitto(t);
  if (!bin) return null;
  // Where MCM itself looks (adapters/dynsec/plugin-path.ts), beside the binary found.
  const plugin = locateDynsecPlugin(bin);
  if (plugin) return { bin, plugin };
  if (process.env.CI === 'true') throw new Error('mosquitto_dynamic_security.so is not installed: run `npm run setup`');
  t.skip('the mosquitto dynamic-security plugin is not installed (run npm run setup)');
  return null;
};

/** `$7$101$<salt>$<hash>` with a random 12-byte salt, as MCM stores it (reference §1.2). */
export const hashPassword = (password: string): string => {
  const salt = randomBytes(12);
  const hash = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, 101, 64, 'sha512');
  return `$7$101$${salt.toString('base64')}$${hash.toString('base64')}`;
};

/** Starts mosquitto (free loopback port, temp dir, stopped in t.after) with the plugin holding `model`. */
export const startDynsecBroker = async (t: TestContext, env: DynsecEnv, model: DynsecModel, opts: { allowAnonymous: boolean }): Promise<Broker> => {
  const dir = tempDir(t, 'mcm-dynsec-');
  const file = join(dir, 'dynamic-security.json');
  // The file MCM itself writes for a supervised broker (projections/dynsec-json.ts).
  writeFileSync(file, renderDynsecJson(model).text);
  return startMosquitto(t, env.bin, {
    dir,
    lines: [`allow_anonymous ${opts.allowAnonymous}`, `plugin ${env.plugin}`, `plugin_opt_config_file ${file}`],
  });
};

/** `mosquitto_ctrl dynsec ARGS` against a broker on loopback as `user`; fails the test when it fails; its output. */
export const mosquittoCtrl = (port: number, user: string, password: string, ...args: string[]): string => {
  const r = spawnSync('mosquitto_ctrl', ['-h', '127.0.0.1', '-p', String(port), '-u', user, '-P', password, 'dynsec', ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `mosquitto_ctrl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
