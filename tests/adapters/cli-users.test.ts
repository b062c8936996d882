/**
 * `mcm users …` on the data dir (no server running: DESIGN §8), run as the real bin/mcm. The
 * server path is in cli-bridge.test.ts.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Command } from '../../core/commands.ts';
import type { EventEnvelope } from '../../core/events.ts';
import type { BrokerConfig } from '../../core/state.ts';
import { createMosquittoHasher } from '../../adapters/mosquitto/password-hash.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { cliWorld, runMcm, type CliRun, type CliRunOptions, type CliWorld } from '../helpers/cli.ts';

const MCM = fileURLToPath(new URL('../../bin/mcm', import.meta.url));
const HASH = await createMosquittoHasher().hash('seed-password', 101);

type Run = CliRun;

const mcm = (args: string[], opts: CliRunOptions): Promise<CliRun> => runMcm(args, opts, MCM);

type World = CliWorld;
const world = cliWorld;

const user = (username: string, extra: Partial<{ description: string; roles: string[]; disabled: boolean }> = {}): Command =>
  ({ type: 'CreateMqttUser', data: { username, passwordHash: HASH, ...extra } });
const role = (name: string): Command => ({ type: 'DefineRole', data: { name } });

const GENERATED = /^generated password \(shown only this once\): ([A-Za-z0-9_-]{24})$/m;
const NOTE = /^note: no MCM server is running on .*: the change is in the event log; the broker's files are rendered and the broker reloaded when the server starts$/m;

/** Every byte under the data dir (db, WAL, snapshots): a plaintext password must be in none of it. */
const dataDirBytes = (dir: string): string =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name)).toString('latin1'))
    .join('\n');

describe('mcm users add (on the data dir)', { concurrency: 4 }, () => {
  it('without a password option: generates one, prints it once, stores only its $7$ hash; actor kind cli [DESIGN §4, §8]', async (t) => {
    const w = world(t);
    const r = await w.run('users', 'add', 'alice');
    assert.equal(r.code, 0, r.stderr);
    const password = GENERATED.exec(r.stdout)?.[1];
    assert.ok(password, r.stdout);
    assert.equal(r.stdout, `created MQTT user "alice"\ngenerated password (shown only this once): ${password}\n`);
    assert.match(r.stderr, NOTE);
    const alice = w.state().users['alice'];
    assert.ok(alice);
    assert.match(alice.passwordHash, /^\$7\$101\$/);
    assert.equal(await createMosquittoHasher().verify(password, alice.passwordHash), true);
    assert.ok(!dataDirBytes(w.dataDir).includes(password), 'the plaintext password is stored nowhere');
    const [created] = w.events();
    assert.deepEqual(created?.actor, { kind: 'cli', id: userInfo().username });

    const list = await w.run('users', 'list');
    assert.ok(!list.stdout.includes(password), 'never shown again');
  });

  it('--password P, with --role (repeatable) and --description', async (t) => {
    const w = world(t, [role('ops'), role('sensors')]);
    const r = await w.run('users', 'add', 'bob', '--password', 'p4ss word', '--role', 'sensors', '--role', 'ops', '--description', 'line 3');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'created MQTT user "bob" with roles ops, sensors\n');
    const bob = w.state().users['bob'];
    assert.deepEqual([bob?.roles, bob?.description, bob?.disabled], [['ops', 'sensors'], 'line 3', false]);
    assert.equal(await createMosquittoHasher().verify('p4ss word', bob?.passwordHash ?? ''), true);
  });

  it('--password-stdin reads the password, dropping one trailing newline', async (t) => {
    const w = world(t);
    const r = await mcm(['users', 'add', 'carol', '--password-stdin'], { cwd: w.cwd, env: { MCM_DATA_DIR: w.dataDir }, stdin: 's3cret pass\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'created MQTT user "carol"\n', 'nothing generated, nothing printed');
    const hash = w.state().users['carol']?.passwordHash ?? '';
    assert.equal(await createMosquittoHasher().verify('s3cret pass', hash), true);
    assert.equal(await createMosquittoHasher().verify('s3cret pass\n', hash), false);
  });

  it('--json prints the user and the generated password', async (t) => {
    const w = world(t);
    const r = await w.run('users', 'add', 'dave', '--json');
    assert.equal(r.code, 0, r.stderr);
    const body = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual({ ...body, password: 'x', created_at: 't', updated_at: 't' }, {
      username: 'dave', description: '', roles: [], disabled: false, password: 'x', created_at: 't', updated_at: 't',
    });
    assert.match(String(body['password']), /^[A-Za-z0-9_-]{24}$/);
  });

  it('refusals exit 1 with the MCM_ERR_* code and change nothing: existing user, unknown role, invalid name, reserved service account', async (t) => {
    const w = world(t, [user('alice')]);
    const cases: [string[], RegExp][] = [
      [['alice'], /^mcm: MCM_ERR_MQTT_USER_EXISTS: MQTT user "alice" already exists\n$/],
      [['bob', '--role', 'nope'], /^mcm: MCM_ERR_ROLE_NOT_FOUND: role "nope" does not exist\n$/],
      [['a/b'], /^mcm: MCM_ERR_USERNAME_INVALID: username must not contain "\/"/],
      [['mcm-service'], /^mcm: MCM_ERR_USERNAME_RESERVED: "mcm-service" is MCM's service account/],
      [['bob', '--description', 'bad\u0007bell'], /^mcm: MCM_ERR_DESCRIPTION_INVALID: /],
    ];
    for (const [args, message] of cases) {
      const r = await w.run('users', 'add', ...args);
      assert.equal(r.code, 1, args.join(' '));
      assert.equal(r.stdout, '', args.join(' '));
      assert.match(r.stderr, message, args.join(' '));
    }
    assert.equal(w.events().length, 1, 'nothing appended');
  });

  it('the reserved name follows config mqtt.service_account.username (--config)', async (t) => {
    const w = world(t);
    writeFileSync(join(w.cwd, 'mcm.yaml'), `data_dir: ${w.dataDir}\nmqtt:\n  service_account:\n    username: observer\n`);
    const r = await mcm(['users', 'add', 'observer', '--config', 'mcm.yaml'], { cwd: w.cwd });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /MCM_ERR_USERNAME_RESERVED: "observer"/);
    const ok = await mcm(['--config', 'mcm.yaml', 'users', 'add', 'mcm-service', '--password', 'x'], { cwd: w.cwd });
    assert.equal(ok.code, 0, ok.stderr);
  });

  it('an empty password on stdin is refused (MCM_ERR_VALIDATION, exit 1)', async (t) => {
    const w = world(t);
    for (const stdin of ['', '\n']) {
      const r = await mcm(['users', 'add', 'erin', '--password-stdin'], { cwd: w.cwd, env: { MCM_DATA_DIR: w.dataDir }, stdin });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^mcm: MCM_ERR_VALIDATION: the password read from standard input is empty\n$/);
    }
    assert.equal(w.events().length, 0);
  });
});

describe('mcm users list, passwd, disable, enable, delete (on the data dir)', { concurrency: 4 }, () => {
  it('list: a table sorted by name, --json the API fields, never a hash', async (t) => {
    const w = world(t, [role('ops'), user('zed', { description: 'last' }), user('amy', { roles: ['ops'], disabled: true })]);
    const r = await w.run('users', 'list');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, [
      'USERNAME  STATUS    ROLES  DESCRIPTION',
      'amy       disabled  ops',
      'zed       enabled   -      last',
      '',
    ].join('\n'));
    assert.equal(r.stderr, '', 'reading changes nothing, so no note');
    const j = await w.run('users', 'list', '--json');
    const users = JSON.parse(j.stdout) as Record<string, unknown>[];
    assert.deepEqual(users.map((u) => [u['username'], u['disabled'], u['roles']]), [['amy', true, ['ops']], ['zed', false, []]]);
    assert.ok(!j.stdout.includes('$7$'));
  });

  it('list on an empty log says so', async (t) => {
    const r = await world(t).run('users', 'list');
    assert.deepEqual([r.code, r.stdout], [0, 'no MQTT users\n']);
  });

  it('passwd: generated (printed once), given, or from stdin; unknown user → MCM_ERR_MQTT_USER_NOT_FOUND', async (t) => {
    const w = world(t, [user('alice')]);
    const hasher = createMosquittoHasher();
    const gen = await w.run('users', 'passwd', 'alice');
    assert.equal(gen.code, 0, gen.stderr);
    const password = GENERATED.exec(gen.stdout)?.[1] ?? '';
    assert.equal(gen.stdout, `changed the password of MQTT user "alice"\ngenerated password (shown only this once): ${password}\n`);
    assert.equal(await hasher.verify(password, w.state().users['alice']?.passwordHash ?? ''), true);
    assert.ok(!dataDirBytes(w.dataDir).includes(password));

    const given = await w.run('users', 'passwd', 'alice', '--password', 'given-1');
    assert.deepEqual([given.code, given.stdout], [0, 'changed the password of MQTT user "alice"\n']);
    assert.equal(await hasher.verify('given-1', w.state().users['alice']?.passwordHash ?? ''), true);

    const piped = await mcm(['users', 'passwd', 'alice', '--password-stdin', '--json'], { cwd: w.cwd, env: { MCM_DATA_DIR: w.dataDir }, stdin: 'piped-2\r\n' });
    assert.deepEqual([piped.code, JSON.parse(piped.stdout)], [0, { username: 'alice' }]);
    assert.equal(await hasher.verify('piped-2', w.state().users['alice']?.passwordHash ?? ''), true);

    const missing = await w.run('users', 'passwd', 'nobody');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^mcm: MCM_ERR_MQTT_USER_NOT_FOUND: MQTT user "nobody" does not exist\n$/);
    assert.deepEqual(w.events().filter((e) => e.type === 'MqttUserPasswordChanged').length, 3);
  });

  it('disable and enable toggle the user; doing it twice changes nothing more', async (t) => {
    const w = world(t, [user('alice')]);
    const off = await w.run('users', 'disable', 'alice');
    assert.deepEqual([off.code, off.stdout], [0, 'MQTT user "alice" is disabled\n']);
    assert.equal(w.state().users['alice']?.disabled, true);
    const again = await w.run('users', 'disable', 'alice');
    assert.equal(again.code, 0);
    assert.equal(again.stderr, '', 'nothing written, so no note');
    const on = await w.run('users', 'enable', 'alice');
    assert.deepEqual([on.code, on.stdout], [0, 'MQTT user "alice" is enabled\n']);
    assert.deepEqual(w.events().map((e) => e.type), ['MqttUserCreated', 'MqttUserDisabled', 'MqttUserEnabled']);
    const missing = await w.run('users', 'enable', 'nobody');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /MCM_ERR_MQTT_USER_NOT_FOUND/);
  });

  it('delete removes the user and its direct ACL rules in one append [DESIGN §5]', async (t) => {
    const w = world(t, [user('alice'), { type: 'AddAclRule', data: { principal: 'user:alice', topic: 'a/#', access: 'read' } }]);
    const r = await w.run('users', 'delete', 'alice');
    assert.deepEqual([r.code, r.stdout], [0, 'deleted MQTT user "alice" and its direct ACL rules\n']);
    assert.deepEqual([w.state().users, w.state().rules], [{}, {}]);
    const last = w.events().slice(-2);
    assert.deepEqual(last.map((e) => [e.type, e.seq]), [['AclRuleRemoved', 3], ['MqttUserDeleted', 4]]);
    const again = await w.run('users', 'delete', 'alice');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /MCM_ERR_MQTT_USER_NOT_FOUND/);
  });

  it('on a data dir without a database, reads and changes to existing users refuse with MCM_ERR_NO_EVENT_LOG and create nothing', async (t) => {
    const cwd = tempDir(t);
    for (const args of [['users', 'list'], ['users', 'disable', 'alice'], ['users', 'passwd', 'alice', '--password', 'x-Pa55word-long']]) {
      const r = await mcm(args, { cwd, env: { MCM_DATA_DIR: join(cwd, 'nothing') } });
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, /^mcm: MCM_ERR_NO_EVENT_LOG: no event log at .*nothing\/mcm\.db/);
    }
    assert.deepEqual(readdirSync(cwd), []);
  });

  it('on a data dir the server never created, `users add` and `acl add` create the event log (a scripted install before the first start)', async (t) => {
    const cwd = tempDir(t);
    const env = { MCM_DATA_DIR: join(cwd, 'fresh') };
    const added = await mcm(['users', 'add', 'alice', '--password', 'alice-Pa55word-long'], { cwd, env });
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stderr, /created a new event log at .*fresh\/mcm\.db/);
    const rule = await mcm(['acl', 'add', '--principal', 'user:alice', '--topic', 'a/#', '--access', 'read'], { cwd, env });
    assert.equal(rule.code, 0, rule.stderr);
    const list = await mcm(['users', 'list', '--json'], { cwd, env });
    assert.deepEqual((JSON.parse(list.stdout) as { username: string }[]).map((u) => u.username), ['alice']);
  });
});

describe('mcm users: help and bad arguments', { concurrency: 4 }, () => {
  it('--help on the group and every subcommand prints its usage, exit 0', async (t) => {
    const w = world(t);
    const group = await w.run('users', '--help');
    assert.equal(group.code, 0);
    for (const sub of ['list', 'add', 'passwd', 'disable', 'enable', 'delete']) {
      assert.match(group.stdout, new RegExp(`^  ${sub} `, 'm'), sub);
      const r = await w.run('users', sub, '--help');
      assert.equal(r.code, 0, sub);
      assert.match(r.stdout, new RegExp(`^Usage: mcm users ${sub} `), sub);
    }
    const top = await w.run('--help');
    for (const line of ['users list', 'users add', 'users passwd', 'users disable', 'users enable', 'users delete']) {
      assert.match(top.stdout, new RegExp(`^  ${line} `, 'm'), line);
    }
  });

  it('bad arguments: a clear message and the usage on stderr, exit 64, nothing changed', async (t) => {
    const w = world(t, [user('alice')]);
    const cases: [string[], RegExp][] = [
      [['users'], /users: missing subcommand/],
      [['users', 'frob'], /unknown subcommand "frob"/],
      [['users', 'add'], /missing NAME \(the MQTT username\)/],
      [['users', 'add', ''], /NAME \(the MQTT username\) must not be empty/],
      [['users', 'add', 'a', 'b'], /unexpected argument "b"/],
      [['users', 'add', 'bob', '--password', 'x', '--password-stdin'], /give --password or --password-stdin, not both/],
      [['users', 'add', 'bob', '--password', ''], /--password must not be empty/],
      [['users', 'add', 'bob', '--password', 'x'.repeat(1025)], /--password must be at most 1024 characters/],
      [['users', 'add', 'bob', '--role'], /argument missing/],
      [['users', 'add', 'bob', '--role', 'ops', '--role', ''], /--role must not be empty/],
      [['users', 'add', 'bob', '--colour', 'red'], /Unknown option '--colour'/],
      [['users', 'passwd'], /missing NAME/],
      [['users', 'disable'], /missing NAME/],
      [['users', 'enable', 'a', 'b'], /unexpected argument "b"/],
      [['users', 'delete', '--json'], /Unknown option '--json'/],
      [['users', 'list', 'extra'], /unexpected argument "extra"/],
    ];
    for (const [args, message] of cases) {
      const r = await w.run(...args);
      assert.equal(r.code, 64, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout, '', args.join(' '));
      assert.match(r.stderr, message, args.join(' '));
      assert.match(r.stderr, /Usage: mcm users/, args.join(' '));
    }
    assert.equal(w.events().length, 1);
  });
});
