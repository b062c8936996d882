/**
 * A real mosquitto with the dynamic-security plugin, loaded from a DynsecModel: the model is
 * written as the plugin's JSON file (reference §6.2) before the broker starts, so no admin
 * commands are needed. In CI (CI=true) a missing binary or plugin fails the test, never skips it.
 */
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { DynsecModel } from '../../projections/dynsec-model.ts';
import { requireMosquitto, startMosquitto, type Broker } from './mosquitto.ts';
import { tempDir } from './temp-dir.ts';

const PLUGIN_CANDIDATES = [
  '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so',
  '/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so',
  '/usr/lib/mosquitto_dynamic_security.so',
  '/usr/local/lib/mosquitto_dynamic_security.so',
];

export type DynsecEnv = { bin: string; plugin: string };

/** The broker binary and the plugin, or null (test skipped) outside CI when either is missing. */
export const requireDynsec = (t: TestContext): DynsecEnv | null => {
  const bin = requireMosquitto(t);
  if (!bin) return null;
  const plugin = PLUGIN_CANDIDATES.find((p) => existsSync(p));
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

/** The plugin's JSON for a model: a `$7$` hash becomes its password, salt and iterations fields. */
export const dynsecConfigJson = (model: DynsecModel): unknown => ({
  defaultACLAccess: model.defaultACLAccess,
  clients: model.clients.map((c) => {
    const [, , iterations, salt, password] = c.passwordHash.split('$');
    return {
      username: c.username,
      ...(c.textdescription ? { textdescription: c.textdescription } : {}),
      ...(c.disabled ? { disabled: true } : {}),
      roles: c.roles.map((r) => ({ rolename: r.rolename, priority: r.priority })),
      ...(c.passwordHash ? { password, salt, iterations: Number(iterations) } : {}),
    };
  }),
  // Memberships carry no priority: the plugin's default, -1, for every group.
  groups: model.groups.map((g) => ({ groupname: g.groupname, roles: g.roles.map((r) => ({ ...r })), clients: g.clients.map((username) => ({ username })) })),
  roles: model.roles.map((r) => ({ rolename: r.rolename, ...(r.textdescription ? { textdescription: r.textdescription } : {}), acls: r.acls.map((a) => ({ ...a })) })),
  ...(model.anonymousGroup ? { anonymousGroup: model.anonymousGroup } : {}),
});

/** Starts mosquitto (free loopback port, temp dir, stopped in t.after) with the plugin holding `model`. */
export const startDynsecBroker = async (t: TestContext, env: DynsecEnv, model: DynsecModel, opts: { allowAnonymous: boolean }): Promise<Broker> => {
  const dir = tempDir(t, 'mcm-dynsec-');
  const file = join(dir, 'dynamic-security.json');
  writeFileSync(file, `${JSON.stringify(dynsecConfigJson(model), null, 2)}\n`);
  return startMosquitto(t, env.bin, {
    dir,
    lines: [`allow_anonymous ${opts.allowAnonymous}`, `plugin ${env.plugin}`, `plugin_opt_config_file ${file}`],
  });
};
