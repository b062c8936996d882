/**
 * The differential test (Issue "Foundation"): files rendered from one state are loaded by a real
 * Mosquitto 2.0.11, and on every case the broker must do exactly what `explain` predicts
 * (DESIGN §5: explain must agree with the real broker). Each case also states the rule it
 * exercises (reference §2.2–§2.4), so a failure says which of broker, expectation or explain moved.
 *
 * Write checks: MQTT v5 publish QoS 1; PUBACK 0x87 (135) = denied, 0 = allowed [ref §2.4].
 * Read checks: subscribe (never refused by acl_file [ref §2.4]), the service account publishes
 * QoS 1, delivered within 700 ms = allowed. `$SYS` reads use the retained `$SYS/broker/version`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { pbkdf2Sync, createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Access, AclRule, Principal } from '../../core/acl-types.ts';
import { buildAclModel } from '../../core/acl-model.ts';
import { explain } from '../../core/explain.ts';
import { initialState, type BrokerConfig } from '../../core/state.ts';
import { renderAclFile } from '../../projections/acl-file.ts';
import { checkAclFile } from '../../projections/acl-file-check.ts';
import { renderPasswordFile } from '../../projections/password-file.ts';
import { checkPasswordFile } from '../../projections/password-file-check.ts';
import { parsePasswordFile } from '../../core/import/parse-password-file.ts';
import { pool, readAllowed as readDelivered, v5Options, writeAllowed } from '../helpers/broker-decisions.ts';
import { requireMosquitto, startMosquitto, type Broker } from '../helpers/mosquitto.ts';
import { freePort } from '../helpers/ports.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const SERVICE = { username: 'mcm-service', password: 'svc-Pa55-differential' };
const GENERATION = 42;
const READ_WAIT_MS = 700;

/** Plaintext passwords of the users below (test data only: the state holds `$7$` hashes). */
const PASSWORDS: Record<string, string> = {
  alice: 's3cret-Pa55',
  'bob smith': 'pässwörd with spaces',
  'sensor-01': 'sensor-01-pw',
  carol: 'carol-pw',
  dave: 'dave-pw',
  frank: 'frank-pw',
  gina: 'gina-pw',
  henry: 'henry-pw',
};
const DISABLED = new Set(['carol']);

/** `$7$101$…` with a salt derived from the name: deterministic, and the broker's own format [ref §1.2]. */
const hash7 = (username: string, password: string): string => {
  const salt = createHash('sha256').update(username).digest().subarray(0, 12);
  const hash = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, 101, 64, 'sha512');
  return `$7$101$${salt.toString('base64')}$${hash.toString('base64')}`;
};

const buildState = (): BrokerConfig => {
  const s = initialState();
  s.settings.allowAnonymous = true;
  s.generation = GENERATION;
  const roles: Record<string, string[]> = { alice: ['monitoring'], 'bob smith': ['sensors'], 'sensor-01': ['sensors'] };
  for (const [username, password] of Object.entries(PASSWORDS)) {
    s.users[username] = {
      username, passwordHash: hash7(username, password), description: '', disabled: DISABLED.has(username),
      roles: roles[username] ?? [], createdAt: '', updatedAt: '',
    };
  }
  for (const name of ['monitoring', 'sensors']) s.roles[name] = { name, description: '', createdAt: '', updatedAt: '' };
  const rules: [Principal, Access, string][] = [
    ['role:monitoring', 'read', '$SYS/#'],
    ['role:monitoring', 'read', 'sensors/#'],
    ['role:sensors', 'write', 'sensors/+/telemetry'],
    ['role:sensors', 'deny', 'sensors/secret/#'],
    ['user:alice', 'readwrite', 'home/alice/#'],
    ['user:alice', 'deny', 'home/alice/private/#'],
    ['user:bob smith', 'readwrite', 'home/shared/#'],
    ['user:sensor-01', 'readwrite', 'sensors/sensor-01/#'],
    ['user:carol', 'readwrite', '#'],
    ['user:frank', 'read', 'devices/frank-dev/#'],
    ['user:frank', 'read', 'x/#'],
    ['user:gina', 'deny', 'devices/gina-dev/#'],
    ['user:henry', 'read', '#'],
    ['anonymous', 'read', 'public/#'],
    ['anonymous', 'deny', 'public/secret'],
    ['anonymous', 'write', 'public/anon-inbox'],
    ['pattern', 'readwrite', 'devices/%c/#'],
    ['pattern', 'deny', 'devices/%c/locked'],
    ['pattern', 'read', 'users/%u/inbox'],
    ['pattern', 'deny', 'x/%u/private'],
    ['pattern', 'readwrite', 'shared/%u/%c'],
  ];
  rules.forEach(([principal, access, topic], i) => {
    const rule: AclRule = { id: i + 1, principal, access, topic, description: '', createdAt: '', updatedAt: '' };
    s.rules[String(rule.id)] = rule;
  });
  s.nextRuleId = rules.length + 1;
  return s;
};

type Case = { name: string; username: string | null; clientid: string; topic: string; action: 'read' | 'write'; expected: boolean };
const c = (username: string | null, clientid: string, action: 'read' | 'write', topic: string, expected: boolean, why: string): Case =>
  ({ name: `${username ?? '(anonymous)'} [${clientid}] ${action} ${topic} → ${expected ? 'allowed' : 'denied'}: ${why}`, username, clientid, topic, action, expected });

const CASES: Case[] = [
  c('alice', 'alice-1', 'write', 'home/alice/notes', true, 'direct allow [ref §2.2]'),
  c('alice', 'alice-1', 'read', 'home/alice/notes', true, 'direct readwrite grants read'),
  c('alice', 'alice-1', 'write', 'home/alice/private/diary', false, 'deny beats an allow in the same list [ref §2.2]'),
  c('alice', 'alice-1', 'read', 'home/alice/private/diary', false, 'deny beats an allow in the same list [ref §2.2]'),
  c('alice', 'alice-1', 'read', 'sensors/room1/temp', true, 'role-derived rule [DESIGN §6]'),
  c('alice', 'alice-1', 'write', 'sensors/room1/temp', false, 'role rule is read-only and no pattern grants it'),
  c('alice', 'alice-1', 'read', '$SYS/broker/version', true, 'explicit $SYS/# rule from a role [ref §2.3]'),
  c('alice', 'alice-1', 'write', '$SYS/broker/test', false, '$SYS writes are always refused [ref §2.3]'),
  c('alice', 'alice-1', 'read', 'users/alice/inbox', true, 'patterns apply to users with a block too [ref §2.2]'),
  c('alice', 'alice-1', 'read', 'public/news', false, 'anonymous rules are not a default for named users [ref §2.2]'),
  c('alice', 'alice+x', 'write', 'home/alice/notes', true, "user list is checked before the dangerous-id check [ref §2.3]"),
  c('alice', 'alice+x', 'read', 'users/alice/inbox', false, "client id with '+' is denied at the patterns [ref §2.3]"),
  c('bob smith', 'bob-1', 'write', 'sensors/room1/telemetry', true, 'role-derived write'),
  c('bob smith', 'bob-1', 'write', 'sensors/secret/telemetry', false, 'role deny beats role allow in the flattened list [ref §2.2]'),
  c('bob smith', 'bob-1', 'read', 'sensors/room1/telemetry', false, 'write-only rule does not grant read'),
  c('bob smith', 'bob-1', 'write', 'home/shared/doc', true, 'username with a space [ref §1.3]'),
  c('bob smith', 'bob-1', 'read', 'users/bob smith/inbox', true, '%u substitutes a name with a space'),
  c('sensor-01', 'sensor-01', 'write', 'sensors/sensor-01/telemetry', true, 'direct and role allows'),
  c('sensor-01', 'sensor-01', 'read', 'sensors/sensor-01/cmd', true, 'direct readwrite'),
  c('sensor-01', 'sensor-01', 'write', 'sensors/sensor-02/cmd', false, 'nothing grants another sensor'),
  c('sensor-01', 'sensor-01', 'write', 'devices/sensor-01/state', true, 'falls through to %c pattern'),
  c('dave', 'dave-dev', 'write', 'devices/dave-dev/state', true, 'no user block: only patterns apply [ref §2.2]'),
  c('dave', 'dave-dev', 'write', 'devices/dave-dev/locked', false, 'pattern deny beats pattern allow [ref §2.3]'),
  c('dave', 'dave-dev', 'read', 'users/dave/inbox', true, '%u pattern'),
  c('dave', 'dave-dev', 'write', 'users/dave/inbox', false, '%u pattern is read-only'),
  c('dave', 'dave-dev', 'read', 'users/alice/inbox', false, "%u is the client's own name only"),
  c('dave', 'dave-dev', 'write', 'shared/dave/dave-dev', true, '%u and %c in one pattern'),
  c('dave', 'dave-dev', 'write', 'shared/dave/other', false, '%c is the own client id only'),
  c('dave', 'dave-dev', 'read', 'home/alice/notes', false, "another user's block does not apply"),
  c('dave', 'site/a', 'write', 'devices/site/a/x', true, "a '/' in the client id crosses levels [ref §2.3]"),
  c('dave', 'site/a', 'write', 'devices/site/x', false, "the substituted filter is devices/site/a/#"),
  c('dave', 'bad+id', 'read', 'users/dave/inbox', false, "client id with '+' is denied everything with patterns present [ref §2.3]"),
  c('frank', 'frank-dev', 'write', 'devices/frank-dev/t', true, 'wrong access in the user list falls through to patterns [ref §2.3]'),
  c('frank', 'frank-dev', 'read', 'devices/frank-dev/t', true, 'user list read'),
  c('frank', 'frank-dev', 'read', 'x/frank/private', true, 'user list allow is found before a pattern deny [ref §2.3]'),
  c('frank', 'frank-dev', 'write', 'x/frank/private', false, 'read-only user rule falls through to the pattern deny'),
  c('gina', 'gina-dev', 'write', 'devices/gina-dev/t', false, 'user deny beats a pattern allow [ref §2.3]'),
  c('gina', 'gina-dev', 'read', 'users/gina/inbox', true, '%u pattern after a non-matching user deny'),
  c('henry', 'henry-1', 'read', 'any/topic', true, 'topic read #'),
  c('henry', 'henry-1', 'read', '$SYS/broker/version', false, "'#' does not cover $SYS [ref §2.3]"),
  c('henry', 'henry-1', 'write', 'any/topic', false, 'read # does not grant write'),
  c(null, 'anon-1', 'read', 'public/news', true, 'anonymous list [ref §2.2]'),
  c(null, 'anon-1', 'read', 'public/secret', false, 'anonymous deny beats anonymous allow [ref §2.2]'),
  c(null, 'anon-1', 'write', 'public/news', false, 'anonymous read-only'),
  c(null, 'anon-1', 'write', 'public/anon-inbox', true, 'anonymous write'),
  c(null, 'anon-1', 'write', 'devices/anon-1/x', true, '%c patterns apply to anonymous clients [ref §2.2]'),
  c(null, 'anon-1', 'read', 'users/anon-1/inbox', false, '%u patterns are skipped without a username [ref §2.3]'),
  c(null, 'anon-1', 'read', 'home/alice/notes', false, 'user blocks do not apply to anonymous clients'),
  c(SERVICE.username, 'mcm-observer', 'write', 'any/thing', true, 'service account readwrite # [DESIGN §6]'),
  c(SERVICE.username, 'mcm-observer', 'write', '$SYS/broker/test', false, '$SYS writes are refused even for the service account [ref §2.3]'),
  c(SERVICE.username, 'mcm-observer', 'write', `$mcm/probe/${GENERATION}`, true, 'the per-generation probe line [DESIGN §6]'),
  c(SERVICE.username, 'mcm-observer', 'write', '$mcm/canary', false, "'#' never matches '$' topics: the canary is refused [DESIGN §6]"),
  c(SERVICE.username, 'mcm-observer', 'read', '$SYS/broker/version', true, 'service account reads $SYS/#'),
  c(SERVICE.username, 'mcm-observer', 'read', `$mcm/probe/${GENERATION}`, true, 'service account reads $mcm/#'),
];

const baseOptions = v5Options;

/**
 * startMosquitto resolves on "Opening … listen socket", which is logged BEFORE listen(); connecting
 * right then was refused now and then. "… running" is logged once the listeners are up.
 */
const listening = (broker: Broker): Promise<void> => broker.waitForLog(/mosquitto version \S+ running/, 5000);


test('a real mosquitto enforces the rendered files exactly as explain predicts [ref §2.3, DESIGN §5]', async (t: TestContext) => {
  const bin = requireMosquitto(t);
  if (!bin) return;
  const dir = tempDir(t, 'mcm-differential-');
  const state = buildState();
  const serviceHash = hash7(SERVICE.username, SERVICE.password);
  const model = buildAclModel(state, { serviceAccount: SERVICE.username, generation: GENERATION });
  const passwordText = renderPasswordFile(state, { serviceAccount: { username: SERVICE.username, passwordHash: serviceHash } });
  const aclText = renderAclFile(model, { generation: GENERATION });
  // The runner's rule: a render that fails its check never reaches the broker.
  assert.deepEqual(checkPasswordFile(passwordText), []);
  assert.deepEqual(checkAclFile(aclText), []);
  const passwordFile = join(dir, 'passwd');
  const aclFile = join(dir, 'acl');
  writeFileSync(passwordFile, passwordText);
  writeFileSync(aclFile, aclText);
  const broker = await startMosquitto(t, bin, { dir, lines: ['allow_anonymous true', `password_file ${passwordFile}`, `acl_file ${aclFile}`] });
  await listening(broker);
  const url = `mqtt://127.0.0.1:${broker.port}`;

  const clients: MqttClient[] = [];
  t.after(async () => { await Promise.all(clients.map((cl) => cl.endAsync(true))); });
  const connect = async (opts: IClientOptions): Promise<MqttClient> => {
    const client = await mqtt.connectAsync(url, opts);
    clients.push(client);
    return client;
  };
  /** CONNACK result: null when accepted, else the reason code the broker refused with. */
  const tryLogin = async (opts: IClientOptions): Promise<number | null> => {
    try {
      const client = await connect(opts);
      await client.endAsync();
      return null;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      assert.equal(typeof code, 'number', `expected a CONNACK refusal, got ${String(err)}`);
      return code as number;
    }
  };
  const canConnect = (username: string | null): boolean =>
    explain(model, state, { username, clientid: 'x', topic: 'a', action: 'read' }, { serviceAccount: SERVICE.username }).can_connect;

  await t.test('logins: every rendered user with its password, never with a wrong one; disabled and unknown users refused [ref §1.1]', async (t) => {
    const logins: [string, string][] = [...Object.entries(PASSWORDS), [SERVICE.username, SERVICE.password]];
    for (const [username, password] of logins) {
      const enabled = !DISABLED.has(username);
      await t.test(`${username} with its password is ${enabled ? 'accepted' : 'refused (disabled)'}`, async () => {
        const code = await tryLogin({ ...baseOptions(`login-${username}`), username, password });
        assert.equal(code === null, enabled, `CONNACK reason ${code}`);
        assert.equal(canConnect(username), enabled, 'explain.can_connect agrees');
      });
      await t.test(`${username} with a wrong password is refused`, async () => {
        const code = await tryLogin({ ...baseOptions(`login-${username}`), username, password: `${password}x` });
        assert.ok(code === 134 || code === 135, `CONNACK reason ${code} (expected 0x86 or 0x87)`);
      });
    }
    await t.test('an unknown username is refused', async () => {
      const code = await tryLogin({ ...baseOptions('login-unknown'), username: 'nobody', password: 'x' });
      assert.ok(code === 134 || code === 135, `CONNACK reason ${code}`);
      assert.equal(canConnect('nobody'), false);
    });
    await t.test('an anonymous client is accepted (allow_anonymous true) [ref §3.6]', async () => {
      assert.equal(await tryLogin(baseOptions('login-anon')), null);
      assert.equal(canConnect(null), true);
    });
  });

  await t.test(`at least 40 ACL cases: broker decision = expectation = explain (${CASES.length} cases)`, { concurrency: 6 }, async (t) => {
    assert.ok(CASES.length >= 40);
    const publisher = await connect({ ...baseOptions('mcm-publisher'), username: SERVICE.username, password: SERVICE.password });
    // Subscribing is never refused by acl_file: the READ check happens at delivery [ref §2.4]; the
    // service account publishes the probe message (tests/helpers/broker-decisions.ts).
    const readAllowed = (client: MqttClient, topic: string): Promise<boolean> => readDelivered(client, publisher, topic, READ_WAIT_MS);

    // One connection per (username, client id): two connections with one id would take over each other.
    const groups = new Map<string, Case[]>();
    for (const k of CASES) {
      const key = `${k.username ?? ''}\u0000${k.clientid}`;
      groups.set(key, [...(groups.get(key) ?? []), k]);
    }
    const tasks = [...groups.values()].map((cases) => async (): Promise<void> => {
      const first = cases[0] as Case;
      const opts: IClientOptions = { ...baseOptions(first.clientid) };
      if (first.username !== null) {
        opts.username = first.username;
        opts.password = first.username === SERVICE.username ? SERVICE.password : PASSWORDS[first.username];
      }
      const client = await connect(opts);
      for (const k of cases) {
        await t.test(k.name, async () => {
          const predicted = explain(model, state, { username: k.username ?? undefined, clientid: k.clientid, topic: k.topic, action: k.action }, { serviceAccount: SERVICE.username });
          const actual = k.action === 'write' ? await writeAllowed(client, k.topic) : await readAllowed(client, k.topic);
          assert.equal(actual, k.expected, `broker said ${actual ? 'allowed' : 'denied'}`);
          assert.equal(predicted.allowed, actual, `explain disagrees with the broker: ${predicted.reason}`);
        });
      }
      await client.endAsync();
    });
    await pool(6, tasks);
  });
});

test('every line checkAclFile calls fatal makes mosquitto refuse to start (exit 3) [ref §2.1, §3.4]', async (t: TestContext) => {
  const bin = requireMosquitto(t);
  if (!bin) return;
  const dir = tempDir(t, 'mcm-acl-fatal-');
  const port = await freePort();
  const fatal: [string, string][] = [
    ['a comment not in column 1', 'topic read ok\n  # note\n'],
    ['a TAB as separator', 'topic read ok\ntopic\tread\tfoo\n'],
    ['an upper-case keyword', 'topic read ok\nTOPIC read foo\n'],
    ['an unknown keyword', 'topic read ok\nacl read foo\n'],
    ['a bare "user"', 'topic read ok\nuser\n'],
    ['an invalid access word', 'topic read ok\ntopic readd x\n'],
    ['"topic" without a topic', 'topic read ok\ntopic\n'],
    ['"#" not last', 'topic read ok\ntopic read a/#/b\n'],
    ['"+" inside a level', 'topic read ok\ntopic read a+/b\n'],
    ['an inline comment', 'topic read ok\npattern read foo # note\n'],
    ['more than 200 "/"', `topic read ok\ntopic read ${'a/'.repeat(201)}a\n`],
    ['a topic longer than 65535 bytes', `topic read ok\ntopic read ${'é'.repeat(32768)}\n`],
    ['a byte order mark', '\uFEFFtopic read ok\ntopic read fine\n'],
  ];
  for (const [name, text] of fatal) {
    await t.test(name, () => {
      const line = name === 'a byte order mark' ? 1 : 2;
      const problems = checkAclFile(text);
      assert.ok(problems.some((p) => p.line === line && /fatal/.test(p.message)), `checkAclFile: ${JSON.stringify(problems)}`);
      const acl = join(dir, 'acl');
      const conf = join(dir, 'mosquitto.conf');
      writeFileSync(acl, text);
      writeFileSync(conf, [...(process.getuid?.() === 0 ? ['user root'] : []), `listener ${port} 127.0.0.1`, 'allow_anonymous true', `acl_file ${acl}`, 'log_dest stderr', ''].join('\n'));
      // A file the broker accepts keeps it running until the timeout kills it (status null).
      const r = spawnSync(bin, ['-c', conf], { timeout: 5000, encoding: 'utf8' });
      assert.equal(r.status, 3, `mosquitto exit status (stderr: ${r.stderr})`);
    });
  }
});

test('the lines checkAclFile reports as non-fatal are accepted by mosquitto, and only MCM refuses them [ref §2.1]', async (t: TestContext) => {
  const bin = requireMosquitto(t);
  if (!bin) return;
  const dir = tempDir(t, 'mcm-acl-nonfatal-');
  const text = 'topic read a\r\ntopic read b \ntopic  read c\ntopic read  d\n  topic read e\ntopic f\ntopic read g\u0001\n' +
    `topic read ${'a/'.repeat(200)}a\ntopic read ${'é'.repeat(32767)}a\n`;
  const problems = checkAclFile(text);
  assert.deepEqual(problems.map((p) => p.line), [1, 2, 3, 4, 5, 6, 7]);
  assert.ok(problems.every((p) => !/fatal/.test(p.message)), JSON.stringify(problems));
  const acl = join(dir, 'acl');
  writeFileSync(acl, text);
  const broker = await startMosquitto(t, bin, { dir, lines: ['allow_anonymous true', `acl_file ${acl}`] });
  await listening(broker);
  assert.ok(!/Error/.test(broker.log()), broker.log());
});

test('password lines checkPasswordFile reports are the ones the broker removes, and those users cannot log in [ref §1.1]', async (t: TestContext) => {
  const bin = requireMosquitto(t);
  if (!bin) return;
  const dir = tempDir(t, 'mcm-passwd-bad-');
  const password = 's3cret-Pa55';
  const salt = 'XKm0/ruYS/eOrtlr';
  const hash = 'inRGfPMzec7uMWnXImeyhIxXW7aCqWkK6swGkFbduAfuxktrNQnfl4PozSrkZVETuXyLXXN79ndKVLAobuKFgw==';
  const bad: [string, string, RegExp][] = [
    ['plain', `plain:${password}`, /Invalid password hash type for user plain/],
    ['iter0', `iter0:$7$0$${salt}$${hash}`, /Invalid hash iterations for user iter0/],
    ['salt9', `salt9:$7$101$XKm0/ruYS/eO$${hash}`, /Unable to decode password salt for user salt9/],
    ['unpadded', `unpadded:$7$101$${salt}$${hash.slice(0, -2)}`, /Unable to decode password for user unpadded/],
    ['urlsafe', `urlsafe:$7$101$${salt}$_${hash.slice(1)}`, /Unable to decode password for user urlsafe/],
  ];
  const text = `alice:$7$101$${salt}$${hash}\n${bad.map(([, line]) => `${line}\n`).join('')}`;
  const problems = checkPasswordFile(text);
  // A salt of another length (line 4) is what 2.1 writes and reads (reference §8): MCM keeps such an
  // imported hash byte for byte, so the checker lets it through; a 2.0 broker drops the line (only
  // that user cannot log in), which the import plan and doctor warn about (hash_unreadable_by_2_0).
  assert.deepEqual([...new Set(problems.map((p) => p.line))], [2, 3, 5, 6], JSON.stringify(problems));
  assert.deepEqual(parsePasswordFile(text, { serviceAccount: 'mcm-service', brokerLine: '2.0' }).warnings
    .filter((w) => w.code === 'hash_unreadable_by_2_0').map((w) => w.line), [4]);
  const passwd = join(dir, 'passwd');
  writeFileSync(passwd, text);
  const broker = await startMosquitto(t, bin, { dir, lines: ['allow_anonymous false', `password_file ${passwd}`] });
  await listening(broker);
  const url = `mqtt://127.0.0.1:${broker.port}`;
  const login = async (username: string): Promise<boolean> => {
    try {
      const client = await mqtt.connectAsync(url, { ...baseOptions(`pw-${username}`), username, password });
      await client.endAsync(true);
      return true;
    } catch {
      return false;
    }
  };
  assert.equal(await login('alice'), true, 'the good line still works');
  for (const [username, , logged] of bad) {
    await t.test(`${username}: removed with a log line and refused at login`, async () => {
      assert.match(broker.log(), logged);
      assert.equal(await login(username), false);
    });
  }
});

test('the golden files load in mosquitto without an error, and their users log in [DESIGN §6]', async (t: TestContext) => {
  const bin = requireMosquitto(t);
  if (!bin) return;
  const dir = tempDir(t, 'mcm-golden-');
  const passwd = join(dir, 'passwd');
  const acl = join(dir, 'acl');
  writeFileSync(passwd, readFileSync(new URL('../../fixtures/expected/basic.password_file', import.meta.url)));
  writeFileSync(acl, readFileSync(new URL('../../fixtures/expected/basic.acl_file', import.meta.url)));
  const broker = await startMosquitto(t, bin, { dir, lines: ['allow_anonymous true', `password_file ${passwd}`, `acl_file ${acl}`] });
  await listening(broker);
  assert.doesNotMatch(broker.log(), /Error/);
  // Plaintexts of fixtures/events/basic.jsonl (the fixed service account's is mcm-service-fixed-pw).
  for (const [username, password] of [['mcm-service', 'mcm-service-fixed-pw'], ['alice', 's3cret-Pa55'], ['bob smith', 'pässwörd with spaces'], ['dave', 'dave-pw-1000'], ['sensor-01', 'sensor-01-pw']]) {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { ...baseOptions(`golden-${username}`), username, password });
    await client.endAsync(true);
  }
  await assert.rejects(mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { ...baseOptions('golden-carol'), username: 'carol', password: 'carol-pw' }), 'carol is disabled');
});
