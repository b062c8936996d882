/**
 * `auth.oidc` in mcm.yaml (issue 17): off by default; the defaults under a partial object; the
 * client secret from an environment variable or secrets/, never from the file (refused by name);
 * https URLs (http only on loopback) and MCM's own callback path.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../adapters/config/load.ts';
import { oidcClientSecret } from '../../adapters/http/auth/oidc-client.ts';
import { createSecretStore } from '../../adapters/secrets/secret-store.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const yaml = (oidc: string): string => `auth:\n  oidc:\n${oidc.trim().split('\n').map((l) => `    ${l.trim()}`).join('\n')}\n`;
const BASE = `
issuer: https://keycloak.example.com/realms/plant
client_id: mcm
redirect_url: https://mcm.example.com/api/v1/auth/oidc/callback
role_mapping: { mcm-admins: admin, mcm-viewers: viewer }`;

const load = (dir: string, text: string, env: NodeJS.ProcessEnv = {}) => {
  const file = join(dir, 'mcm.yaml');
  writeFileSync(file, text);
  return loadConfig({ file, env, cwd: dir, mosquittoBinary: null });
};

const problemsOf = (fn: () => unknown): readonly string[] => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
  return assert.fail('expected a ConfigError');
};

describe('loadConfig: auth.oidc', () => {
  it('is off unless configured', (t) => {
    assert.equal(load(tempDir(t), '').config.auth.oidc, null);
  });

  it('fills in the defaults under a partial object', (t) => {
    const { config } = load(tempDir(t), yaml(`${BASE}\nclient_secret_env: MCM_OIDC_SECRET`), { MCM_OIDC_SECRET: 's3cret' });
    assert.deepEqual(config.auth.oidc, {
      issuer: 'https://keycloak.example.com/realms/plant', client_id: 'mcm',
      client_secret_env: 'MCM_OIDC_SECRET', client_secret_file: null,
      scopes: ['openid', 'profile', 'email'], groups_claim: 'groups', username_claim: 'preferred_username',
      role_mapping: { 'mcm-admins': 'admin', 'mcm-viewers': 'viewer' },
      create_users: true, password_login: true, display_name: 'single sign-on',
      redirect_url: 'https://mcm.example.com/api/v1/auth/oidc/callback',
    });
    assert.ok(!JSON.stringify(config).includes('s3cret'), 'the secret itself is not in the config');
  });

  it('refuses a literal client secret in the file, saying where it belongs', (t) => {
    const problems = problemsOf(() => load(tempDir(t), yaml(`${BASE}\nclient_secret: hunter2`)));
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /^\/auth\/oidc\/client_secret: a secret never sits in the config file: set client_secret_env .* or client_secret_file/);
  });

  it('needs exactly one secret source (whether it holds a secret is checked when the server starts: CLI commands don\'t need it)', (t) => {
    const dir = tempDir(t);
    assert.deepEqual(problemsOf(() => load(dir, yaml(BASE))), [
      '/auth/oidc: set exactly one of client_secret_env (an environment variable) and client_secret_file (a file in <data dir>/secrets/)',
    ]);
    assert.deepEqual(problemsOf(() => load(dir, yaml(`${BASE}\nclient_secret_env: S\nclient_secret_file: s.secret`))), [
      '/auth/oidc: set exactly one of client_secret_env (an environment variable) and client_secret_file (a file in <data dir>/secrets/)',
    ]);
    assert.equal(load(dir, yaml(`${BASE}\nclient_secret_env: MCM_OIDC_SECRET`)).config.auth.oidc?.client_secret_env, 'MCM_OIDC_SECRET');
  });

  it('refuses plain http except on loopback, a callback that is not MCM\'s, unknown roles and a scope list without openid', (t) => {
    const dir = tempDir(t);
    const env = { S: 'x' };
    const bad = yaml(`
issuer: http://keycloak.example.com/realms/plant
client_id: mcm
client_secret_env: S
redirect_url: https://mcm.example.com/login
role_mapping: { mcm-admins: root }
scopes: [profile]`);
    const problems = problemsOf(() => load(dir, bad, env));
    assert.ok(problems.some((p) => p.startsWith('/auth/oidc/role_mapping/mcm-admins: must be one of')), problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('/auth/oidc/scopes:')), problems.join('\n'));
    const urls = problemsOf(() => load(dir, bad.replace('root', 'admin').replace('[profile]', '[openid]'), env));
    assert.deepEqual(urls, [
      '/auth/oidc/issuer: must be an https URL (http only to a loopback host), got "http://keycloak.example.com/realms/plant"',
      '/auth/oidc/redirect_url: must be MCM\'s callback, https://<mcm host>/api/v1/auth/oidc/callback (got "https://mcm.example.com/login")',
    ]);
    const loopback = yaml(`${BASE.replace('https://keycloak.example.com', 'http://127.0.0.1:8081')}\nclient_secret_env: S`);
    assert.equal(load(dir, loopback, env).config.auth.oidc?.issuer, 'http://127.0.0.1:8081/realms/plant');
  });
});

describe('oidcClientSecret', () => {
  it('reads the variable or the file in secrets/, and says which one is missing', (t) => {
    const dir = tempDir(t);
    const secrets = createSecretStore(dir);
    const { config } = load(dir, yaml(`${BASE}\nclient_secret_file: oidc-client.secret`));
    const oidc = config.auth.oidc;
    assert.ok(oidc);
    assert.throws(() => oidcClientSecret(oidc, {}, secrets), /client_secret_file: .*oidc-client\.secret is missing or empty/);
    secrets.write('oidc-client.secret', 'from-file\n');
    assert.equal(oidcClientSecret(oidc, {}, secrets), 'from-file');
    const fromEnv = { ...oidc, client_secret_env: 'V', client_secret_file: null };
    assert.equal(oidcClientSecret(fromEnv, { V: 'from-env' }, secrets), 'from-env');
    assert.throws(() => oidcClientSecret(fromEnv, {}, secrets), /client_secret_env: the environment variable V is not set/);
  });
});
