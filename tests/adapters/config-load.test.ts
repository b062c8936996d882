import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { defaultConfig, findExecutable, MOSQUITTO_NOT_FOUND_WARNING } from '../../adapters/config/defaults.ts';
import { ConfigError, configFileValidator, loadConfig, type LoadConfigOptions } from '../../adapters/config/load.ts';
import { configFileSchema } from '../../adapters/config/schema.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const EXAMPLE = new URL('../../mcm.example.yaml', import.meta.url);
const BIN = '/opt/test/mosquitto';

/** loadConfig with a fixed broker binary and an empty environment, unless the test says otherwise. */
const load = (opts: LoadConfigOptions = {}) => loadConfig({ env: {}, mosquittoBinary: BIN, ...opts });

const problemsOf = (fn: () => unknown): readonly string[] => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.problems;
  }
  assert.fail('expected a ConfigError');
};

const writeYaml = (dir: string, name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('loadConfig: built-in defaults', () => {
  it('needs no config file: every value has a default [DESIGN §8]', (t) => {
    const cwd = tempDir(t);
    const { config, warnings, source } = load({ cwd });
    assert.equal(source, null);
    assert.deepEqual(warnings, []);
    assert.equal(config.data_dir, join(cwd, 'data'));
    assert.equal(config.log_level, 'info');
    assert.deepEqual([config.http.host, config.http.port], ['127.0.0.1', 8080]);
    assert.deepEqual([config.mqtt.host, config.mqtt.port], ['127.0.0.1', 1883]);
    assert.equal(config.mqtt.service_account.username, 'mcm-service');
    assert.deepEqual(
      [config.mosquitto.mode, config.mosquitto.binary, config.mosquitto.reload.strategy],
      ['supervised', BIN, 'supervised'],
    );
    assert.equal(config.mosquitto.drift, 'restore');
    assert.deepEqual(config.mosquitto.probe, { timeout_ms: 5000, interval_s: 60 });
    assert.equal(config.mosquitto.debounce_ms, 25);
    assert.equal(config.mosquitto.plugin_dir, null);
    assert.deepEqual(
      [config.auth.jwt_ttl_s, config.auth.bcrypt_cost, config.auth.lockout],
      [3600, 12, { max_failures: 6, max_failures_per_address: 30, window_s: 900, max_delay_s: 15 }],
    );
    assert.equal(config.http.body_limit_bytes, 1024 * 1024);
    assert.deepEqual(config.observer, { max_topics: 10000, history_depth: 20, log_file: null });
    assert.deepEqual(config.webhooks, { allow_private: false, max_attempts: 8, retention_days: 7, max_pending: 10_000 });
    assert.deepEqual(config.security_events, { retention_days: 90, max_rows: 100_000, aggregate_window_s: 60 });
    assert.deepEqual(config.bootstrap_admin, { username: null, password: null });
  });

  it('falls back to external mode with reload "none" and a warning when no mosquitto binary exists', (t) => {
    const { config, warnings } = load({ cwd: tempDir(t), mosquittoBinary: null });
    assert.equal(config.mosquitto.mode, 'external');
    assert.equal(config.mosquitto.reload.strategy, 'none');
    assert.deepEqual(warnings, [MOSQUITTO_NOT_FOUND_WARNING]);
  });

  it('finds mosquitto in an sbin directory that is not on PATH (Debian: /usr/sbin) [ref §4]', (t) => {
    const sbin = tempDir(t);
    const bin = join(sbin, 'mosquitto');
    writeFileSync(bin, '#!/bin/sh\n');
    chmodSync(bin, 0o755);
    assert.equal(findExecutable('mosquitto', '/nonexistent-dir', [sbin]), bin);
    chmodSync(bin, 0o644);
    assert.equal(findExecutable('mosquitto', '/nonexistent-dir', [sbin]), null, 'a non-executable file is not a binary');
  });

  it('checks nothing without a file, which is sound: the file schema accepts the empty file (issue 14: no Ajv at such a start)', (t) => {
    const validate = configFileValidator();
    assert.equal(validate({}), true, JSON.stringify(validate.errors));
    // An empty file is read, parsed and checked: the same configuration as no file at all.
    assert.deepEqual(load({ file: writeYaml(tempDir(t), 'empty.yaml', '') }).config, load().config);
  });

  it('defaultConfig() returns a fresh object each call, so callers cannot share mutations', () => {
    const a = defaultConfig({ mosquittoBinary: BIN });
    a.http.port = 1;
    assert.equal(defaultConfig({ mosquittoBinary: BIN }).http.port, 8080);
  });
});

describe('loadConfig: the YAML file', () => {
  it('merges a partial file over the defaults, key by key', (t) => {
    const dir = tempDir(t);
    const file = writeYaml(dir, 'mcm.yaml', 'http:\n  port: 9090\nauth:\n  lockout:\n    max_failures: 3\n');
    const { config, source } = load({ file, cwd: dir });
    assert.equal(source, file);
    assert.equal(config.http.port, 9090);
    assert.equal(config.http.host, '127.0.0.1', 'siblings keep their defaults');
    assert.deepEqual(config.auth.lockout, { max_failures: 3, max_failures_per_address: 30, window_s: 900, max_delay_s: 15 });
  });

  it('treats an empty file (or one with only comments) as all defaults', (t) => {
    const dir = tempDir(t);
    const file = writeYaml(dir, 'mcm.yaml', '# nothing yet\n');
    assert.deepEqual(load({ file, cwd: dir }).config, load({ cwd: dir }).config);
  });

  it('lists EVERY problem with its path: unknown keys at any depth, wrong types, out-of-range values', (t) => {
    const dir = tempDir(t);
    const file = writeYaml(dir, 'bad.yaml', [
      'extra: 1',
      'http:',
      '  port: abc',
      '  tls: { client_auth: sometimes, colour: blue }',
      'mqtt: { port: 0 }',
      'mosquitto:',
      '  mode: embedded',
      '  probe: { timeout_ms: 1.5 }',
      'metrics: { token: short }',
      'bootstrap_admin: { username: root }',
    ].join('\n'));
    const problems = problemsOf(() => load({ file, cwd: dir }));
    for (const expected of [
      '/extra: unknown key',
      '/bootstrap_admin: unknown key',
      '/http/port: must be integer',
      '/http/tls/colour: unknown key',
      '/http/tls/client_auth: must be one of "none", "optional", "required"',
      '/mqtt/port: must be >= 1',
      '/mosquitto/mode: must be one of "supervised", "external"',
      '/mosquitto/probe/timeout_ms: must be integer',
      '/metrics/token: must NOT have fewer than 16 characters',
    ]) assert.ok(problems.includes(expected), `missing ${JSON.stringify(expected)} in\n${problems.join('\n')}`);
  });

  it('reports a YAML syntax error and duplicate keys as problems', (t) => {
    const dir = tempDir(t);
    const broken = writeYaml(dir, 'broken.yaml', 'http:\n  port: [1, 2\n');
    assert.match(problemsOf(() => load({ file: broken, cwd: dir })).join('\n'), /^YAML: /);
    const dup = writeYaml(dir, 'dup.yaml', 'http:\n  port: 1\n  port: 2\n');
    assert.match(problemsOf(() => load({ file: dup, cwd: dir })).join('\n'), /YAML: .*unique/i);
  });

  it('a missing file is an error naming it, whether from --config or MCM_CONFIG', (t) => {
    const dir = tempDir(t);
    assert.deepEqual(problemsOf(() => load({ file: 'nope.yaml', cwd: dir })), [`config file: file not found: ${join(dir, 'nope.yaml')}`]);
    assert.deepEqual(
      problemsOf(() => load({ env: { MCM_CONFIG: 'gone.yaml' }, cwd: dir })),
      [`MCM_CONFIG: file not found: ${join(dir, 'gone.yaml')}`],
    );
  });

  it('reads MCM_CONFIG, and an explicit file wins over it [DESIGN §8]', (t) => {
    const dir = tempDir(t);
    const fromEnv = writeYaml(dir, 'env.yaml', 'http: { port: 1111 }\n');
    const explicit = writeYaml(dir, 'explicit.yaml', 'http: { port: 2222 }\n');
    assert.equal(load({ env: { MCM_CONFIG: fromEnv }, cwd: dir }).config.http.port, 1111);
    const both = load({ file: explicit, env: { MCM_CONFIG: fromEnv }, cwd: dir });
    assert.deepEqual([both.config.http.port, both.source], [2222, explicit]);
  });

  it('resolves relative paths against the working directory', (t) => {
    const dir = tempDir(t);
    writeYaml(dir, 'mcm.yaml', 'data_dir: state\nmosquitto:\n  password_file: broker/passwd\n  binary: ./bin/mosquitto\n');
    const { config, source } = load({ file: 'mcm.yaml', cwd: dir });
    assert.equal(source, join(dir, 'mcm.yaml'));
    assert.equal(config.data_dir, join(dir, 'state'));
    assert.equal(config.mosquitto.password_file, join(dir, 'broker/passwd'));
    assert.equal(config.mosquitto.acl_file, null, 'null keeps meaning "under data_dir"');
    assert.equal(config.mosquitto.binary, join(dir, 'bin/mosquitto'));
  });

  it('checks rules between keys: the reload strategy must fit the mode and have what it needs', (t) => {
    const dir = tempDir(t);
    const cases: [string, string][] = [
      ['mosquitto: { mode: supervised, reload: { strategy: signal, pid_file: /run/m.pid } }', '/mosquitto/reload/strategy: must be "supervised" when mosquitto.mode is "supervised"'],
      ['mosquitto: { mode: external, reload: { strategy: supervised } }', '/mosquitto/reload/strategy: "supervised" needs mosquitto.mode "supervised"'],
      ['mosquitto: { mode: external, reload: { strategy: none }, backend: dynsec, conf_fragment: /etc/mosquitto/conf.d/mcm.conf }', '/mosquitto/backend: with "dynsec" and an external broker MCM does not write its mosquitto.conf'],
      ['mosquitto: { backend: plugin }', '/mosquitto/backend'],
      ['mosquitto: { mode: external, reload: { strategy: signal } }', '/mosquitto/reload/pid_file: required when reload.strategy is "signal"'],
      ['mosquitto: { mode: external, reload: { strategy: command } }', '/mosquitto/reload/command: required'],
      ['mosquitto: { mode: external, reload: { strategy: docker } }', '/mosquitto/reload/docker/container: required'],
      ['http: { tls: { cert: c.pem } }', '/http/tls: cert and key must be set together'],
      ['http: { tls: { cert: c.pem, key: k.pem, client_auth: required } }', '/http/tls/client_ca: required when client_auth is "required"'],
    ];
    for (const [yaml, expected] of cases) {
      const file = writeYaml(dir, 'mcm.yaml', yaml);
      const problems = problemsOf(() => load({ file, cwd: dir }));
      assert.ok(problems.some((p) => p.startsWith(expected)), `${yaml}\n→ ${problems.join('\n')}`);
    }
  });

  it('an external broker with a complete reload strategy is valid', (t) => {
    const dir = tempDir(t);
    const file = writeYaml(dir, 'mcm.yaml', 'mosquitto:\n  mode: external\n  reload: { strategy: command, command: [systemctl, reload, mosquitto] }\n');
    const { config, warnings } = load({ file, cwd: dir });
    assert.deepEqual(config.mosquitto.reload.command, ['systemctl', 'reload', 'mosquitto']);
    assert.deepEqual(warnings, []);
  });

  it('warns about a bcrypt cost below 12 [DESIGN §9] and a non-loopback HTTP listener without TLS', (t) => {
    const dir = tempDir(t);
    const file = writeYaml(dir, 'mcm.yaml', 'auth: { bcrypt_cost: 4 }\nhttp: { host: 0.0.0.0 }\n');
    const { warnings } = load({ file, cwd: dir });
    assert.equal(warnings.length, 2);
    assert.match(warnings[0] ?? '', /bcrypt_cost 4 is below 12/);
    assert.match(warnings[1] ?? '', /0\.0\.0\.0 is not loopback/);
  });
});

describe('loadConfig: environment variables win over the file [DESIGN §8]', () => {
  const FILE = 'data_dir: from-file\nlog_level: warn\nhttp: { host: 10.0.0.1, port: 1000 }\nmqtt: { host: broker, port: 1001 }\n';

  it('applies every variable', (t) => {
    const dir = tempDir(t);
    const file = writeYaml(dir, 'mcm.yaml', FILE);
    const { config } = load({
      file,
      cwd: dir,
      env: {
        MCM_DATA_DIR: '/srv/mcm', MCM_HTTP_HOST: '0.0.0.0', MCM_HTTP_PORT: '0', MCM_MOSQUITTO_MODE: 'external',
        MCM_MQTT_HOST: 'mqtt.local', MCM_MQTT_PORT: '8883', MCM_LOG_LEVEL: 'debug',
        MCM_ADMIN_USERNAME: 'root', MCM_ADMIN_PASSWORD: 'correct horse',
      },
    });
    assert.equal(config.data_dir, '/srv/mcm');
    assert.deepEqual([config.http.host, config.http.port], ['0.0.0.0', 0]);
    assert.deepEqual([config.mqtt.host, config.mqtt.port], ['mqtt.local', 8883]);
    assert.equal(config.log_level, 'debug');
    assert.equal(config.mosquitto.mode, 'external');
    assert.equal(config.mosquitto.reload.strategy, 'none', 'the strategy follows a mode chosen by the environment');
    assert.deepEqual(config.bootstrap_admin, { username: 'root', password: 'correct horse' });
  });

  it('a relative MCM_DATA_DIR resolves against the working directory; an empty variable counts as unset', (t) => {
    const dir = tempDir(t);
    assert.equal(load({ cwd: dir, env: { MCM_DATA_DIR: 'here' } }).config.data_dir, join(dir, 'here'));
    assert.equal(load({ cwd: dir, env: { MCM_DATA_DIR: '', MCM_HTTP_PORT: '' } }).config.http.port, 8080);
    assert.equal(load({ cwd: dir, env: { MCM_DATA_DIR: '' } }).config.data_dir, join(dir, 'data'));
  });

  it('MCM_ADMIN_PASSWORD alone bootstraps the user "admin"', (t) => {
    const { config } = load({ cwd: tempDir(t), env: { MCM_ADMIN_PASSWORD: 'pw' } });
    assert.deepEqual(config.bootstrap_admin, { username: 'admin', password: 'pw' });
  });

  it('MCM_DYNSEC_ADMIN_USERNAME and _PASSWORD: the external plugin\'s admin, both or neither', (t) => {
    const { config } = load({ cwd: tempDir(t), env: { MCM_DYNSEC_ADMIN_USERNAME: 'admin', MCM_DYNSEC_ADMIN_PASSWORD: 'pw' } });
    assert.deepEqual(config.dynsec_admin, { username: 'admin', password: 'pw' });
    assert.deepEqual(load({ cwd: tempDir(t) }).config.dynsec_admin, { username: null, password: null });
    const problems = problemsOf(() => load({ cwd: tempDir(t), env: { MCM_DYNSEC_ADMIN_USERNAME: 'admin' } }));
    assert.ok(problems.some((p) => p.includes('MCM_DYNSEC_ADMIN_USERNAME and MCM_DYNSEC_ADMIN_PASSWORD must be set together')), problems.join('; '));
    // Never from the file: a password does not sit in a config file.
    const dir = tempDir(t);
    assert.ok(problemsOf(() => load({ cwd: dir, file: writeYaml(dir, 'mcm.yaml', 'dynsec_admin: { username: a, password: b }\n') })).length > 0);
  });

  it('bad values are errors naming the variable, all listed together with the file problems', (t) => {
    const dir = tempDir(t);
    const file = writeYaml(dir, 'mcm.yaml', 'http: { port: -1 }\n');
    const problems = problemsOf(() => load({
      file,
      cwd: dir,
      env: { MCM_HTTP_PORT: 'abc', MCM_MQTT_PORT: '70000', MCM_MOSQUITTO_MODE: 'x', MCM_LOG_LEVEL: 'loud' },
    }));
    assert.deepEqual(problems, [
      '/http/port: must be >= 0',
      'MCM_HTTP_PORT: must be an integer from 0 to 65535 (got "abc")',
      'MCM_MOSQUITTO_MODE: must be one of supervised, external (got "x")',
      'MCM_MQTT_PORT: must be an integer from 1 to 65535 (got "70000")',
      'MCM_LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent (got "loud")',
    ]);
  });

  it('MCM_MOSQUITTO_MODE=supervised without a binary warns that mosquitto.binary must be set', (t) => {
    const { config, warnings } = load({ cwd: tempDir(t), mosquittoBinary: null, env: { MCM_MOSQUITTO_MODE: 'supervised' } });
    assert.deepEqual([config.mosquitto.mode, config.mosquitto.reload.strategy], ['supervised', 'supervised']);
    assert.match(warnings.join('\n'), /no executable mosquitto binary was found.*set mosquitto\.binary/);
  });
});

describe('mcm.example.yaml', () => {
  it('validates and equals the built-in defaults', (t) => {
    const cwd = tempDir(t);
    const example = load({ file: EXAMPLE.pathname, cwd });
    assert.deepEqual(example.warnings, []);
    assert.deepEqual(example.config, load({ cwd }).config);
    const without = load({ file: EXAMPLE.pathname, cwd, mosquittoBinary: null });
    assert.equal(without.config.mosquitto.mode, 'external', 'the machine-dependent keys are left to detection');
  });

  it('documents every key of the schema', () => {
    const text = readFileSync(EXAMPLE, 'utf8');
    const missing: string[] = [];
    const walk = (schema: unknown, path: string[]): void => {
      const props = (schema as { properties?: Record<string, unknown> }).properties;
      if (!props) return;
      for (const [key, sub] of Object.entries(props)) {
        // A key line, possibly commented out: "  key:" or "  # key:".
        if (!new RegExp(`^\\s*(#\\s*)?${key}:`, 'm').test(text)) missing.push([...path, key].join('.'));
        walk(sub, [...path, key]);
      }
    };
    walk(configFileSchema, []);
    assert.deepEqual(missing, []);
    // The uncommented part is itself a valid partial config (parsed directly, no defaults).
    assert.equal(typeof parse(text), 'object');
  });
});
