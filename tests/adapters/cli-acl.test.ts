/**
 * `mcm acl …` on the data dir (no server running: DESIGN §8), run as the real bin/mcm. The
 * server path is in cli-bridge.test.ts.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Command } from '../../core/commands.ts';
import { createMosquittoHasher } from '../../adapters/mosquitto/password-hash.ts';
import { cliWorld, type CliRun, type CliWorld } from '../helpers/cli.ts';

const HASH = await createMosquittoHasher().hash('seed-password', 101);

type Run = CliRun;

type World = CliWorld;
const world = cliWorld;

const user = (username: string, roles?: string[]): Command =>
  ({ type: 'CreateMqttUser', data: { username, passwordHash: HASH, ...(roles ? { roles } : {}) } });
const rule = (principal: string, topic: string, access: string, description?: string): Command =>
  ({ type: 'AddAclRule', data: { principal, topic, access, ...(description ? { description } : {}) } });

/** alice (direct rules), bob (role ops), a pattern rule. Rule ids 1..4. */
const SEED: Command[] = [
  { type: 'DefineRole', data: { name: 'ops' } },
  user('alice'),
  user('bob', ['ops']),
  rule('user:alice', 'plant/#', 'readwrite', 'plant floor'),
  rule('user:alice', 'plant/secret', 'deny'),
  rule('role:ops', 'ops/+/cmd', 'write'),
  rule('pattern', 'devices/%c/#', 'read'),
];

describe('mcm acl list / add / remove (on the data dir)', { concurrency: 4 }, () => {
  it('list: every rule by id; --principal filters; --json gives the API fields', async (t) => {
    const w = world(t, SEED);
    const r = await w.run('acl', 'list');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, [
      'ID  PRINCIPAL   ACCESS     TOPIC         DESCRIPTION',
      '1   user:alice  readwrite  plant/#       plant floor',
      '2   user:alice  deny       plant/secret',
      '3   role:ops    write      ops/+/cmd',
      '4   pattern     read       devices/%c/#',
      '',
    ].join('\n'));
    const only = await w.run('acl', 'list', '--principal', 'role:ops', '--json');
    assert.equal(only.code, 0, only.stderr);
    const rules = JSON.parse(only.stdout) as Record<string, unknown>[];
    assert.deepEqual(rules.map((x) => [x['id'], x['principal'], x['topic'], x['access'], x['description']]), [[3, 'role:ops', 'ops/+/cmd', 'write', '']]);
    const none = await w.run('acl', 'list', '--principal', 'user:nobody');
    assert.deepEqual([none.code, none.stdout], [0, 'no ACL rules\n']);
  });

  it('add: appends an AclRuleAdded with actor kind cli and prints the new id; --json the rule', async (t) => {
    const w = world(t, SEED);
    const r = await w.run('acl', 'add', '--principal', 'role:ops', '--topic', 'ops/#', '--access', 'read', '--description', 'dashboards');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'added ACL rule 5: role:ops read ops/#\n');
    assert.match(r.stderr, /^note: no MCM server is running/);
    const last = w.events().at(-1);
    assert.equal(last?.type, 'AclRuleAdded');
    assert.equal(last?.actor.kind, 'cli');
    assert.deepEqual(last?.data, { id: 5, principal: 'role:ops', topic: 'ops/#', access: 'read', description: 'dashboards' });

    const j = await w.run('acl', 'add', '--principal', 'anonymous', '--topic', 'public/#', '--access', 'read', '--json');
    assert.equal(j.code, 0, j.stderr);
    const added = JSON.parse(j.stdout) as Record<string, unknown>;
    assert.deepEqual([added['id'], added['principal'], added['topic'], added['access']], [6, 'anonymous', 'public/#', 'read']);
  });

  it('add refuses what the broker would reject, exit 1 with the code, nothing appended [ref §2]', async (t) => {
    const w = world(t, SEED);
    const cases: [string[], RegExp][] = [
      [['--principal', 'user:alice', '--topic', 'a/#/b', '--access', 'read'], /^mcm: MCM_ERR_TOPIC_FILTER_INVALID: /],
      [['--principal', 'user:alice', '--topic', 'a+/b', '--access', 'read'], /^mcm: MCM_ERR_TOPIC_FILTER_INVALID: /],
      [['--principal', 'user:nobody', '--topic', 'a', '--access', 'read'], /^mcm: MCM_ERR_MQTT_USER_NOT_FOUND: /],
      [['--principal', 'role:nope', '--topic', 'a', '--access', 'read'], /^mcm: MCM_ERR_ROLE_NOT_FOUND: /],
      [['--principal', 'user:alice', '--topic', 'plant/#', '--access', 'readwrite'], /^mcm: MCM_ERR_ACL_RULE_EXISTS: /],
    ];
    for (const [args, message] of cases) {
      const r = await w.run('acl', 'add', ...args);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
    }
    assert.equal(w.events().length, SEED.length + 1, 'nothing appended (bob\'s grant is the extra seed event)');
  });

  it('remove: the rule is gone; an unknown id is MCM_ERR_ACL_RULE_NOT_FOUND, exit 1', async (t) => {
    const w = world(t, SEED);
    const r = await w.run('acl', 'remove', '2');
    assert.deepEqual([r.code, r.stdout], [0, 'removed ACL rule 2\n']);
    assert.deepEqual(Object.keys(w.state().rules), ['1', '3', '4']);
    const again = await w.run('acl', 'remove', '2');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^mcm: MCM_ERR_ACL_RULE_NOT_FOUND: ACL rule 2 does not exist\n$/);
  });
});

describe('mcm acl with mosquitto.backend dynsec (on the data dir, issue 15)', () => {
  it('explain answers in the plugin\'s order; a pattern rule is refused with MCM_ERR_BACKEND_UNSUPPORTED, nothing appended', async (t) => {
    const w = world(t, SEED.filter((c) => !(c.type === 'AddAclRule' && c.data.principal === 'pattern')));
    writeFileSync(join(w.cwd, 'mcm.yaml'), 'mosquitto:\n  backend: dynsec\n');
    const r = await w.run('acl', 'explain', '--config', 'mcm.yaml', '--user', 'alice', '--topic', 'plant/secret', '--action', 'write');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^DENIED: denied by role "user:alice" \(publishClientSend "plant\/secret", priority 1\)/);
    const before = w.events().length;
    const refused = await w.run('acl', 'add', '--config', 'mcm.yaml', '--principal', 'pattern', '--topic', 'devices/%c/#', '--access', 'read');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /MCM_ERR_BACKEND_UNSUPPORTED/);
    assert.equal(w.events().length, before);
  });
});

describe('mcm acl explain (on the data dir) [DESIGN §5]', { concurrency: 4 }, () => {
  it('ALLOWED with the reason and the deciding rule, exit 0', async (t) => {
    const r = await world(t, SEED).run('acl', 'explain', '--user', 'alice', '--topic', 'plant/line1/temp', '--action', 'write');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.match(lines[0] ?? '', /^ALLOWED: allowed by "topic readwrite plant\/#" in user "alice"'s rules \(rule 1\)$/);
    assert.equal(lines[1], 'deciding rules:');
    assert.equal(lines[2], '  rule 1  user:alice  readwrite  plant/#  (direct)');
  });

  it('DENIED is an answer too: exit 0; a deny rule is named [ref §2.2]', async (t) => {
    const r = await world(t, SEED).run('acl', 'explain', '--user', 'alice', '--topic', 'plant/secret', '--action', 'read');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^DENIED: denied by "topic deny plant\/secret"/);
    assert.match(r.stdout, /^ {2}rule 2 {2}user:alice {2}deny {2}plant\/secret {2}\(direct\)$/m);
  });

  it('role rules, pattern rules with --clientid, --anonymous, and --json (the explain result)', async (t) => {
    const w = world(t, SEED);
    const viaRole = await w.run('acl', 'explain', '--user', 'bob', '--topic', 'ops/x/cmd', '--action', 'write', '--json');
    assert.equal(viaRole.code, 0, viaRole.stderr);
    const result = JSON.parse(viaRole.stdout) as { allowed: boolean; reason: string; matched: { id?: number; source: string }[]; can_connect: boolean; notes: string[] };
    assert.equal(result.allowed, true);
    assert.equal(result.can_connect, true);
    assert.deepEqual(result.matched.map((m) => [m.id, m.source]), [[3, 'role:ops']]);

    const pattern = await w.run('acl', 'explain', '--user', 'bob', '--clientid', 'dev-7', '--topic', 'devices/dev-7/t', '--action', 'read');
    assert.equal(pattern.code, 0, pattern.stderr);
    assert.match(pattern.stdout, /^ALLOWED: /);
    assert.match(pattern.stdout, /rule 4 {2}pattern {2}read {2}devices\/%c\/# {2}\(pattern\)/);

    const anon = await w.run('acl', 'explain', '--anonymous', '--topic', 'public/x', '--action', 'read');
    assert.equal(anon.code, 0, anon.stderr);
    assert.match(anon.stdout, /^DENIED: anonymous clients cannot connect: anonymous access is off/);
  });

  it('an unknown user is DENIED (cannot connect), exit 0; a topic with a wildcard is MCM_ERR_TOPIC_NAME_INVALID, exit 1', async (t) => {
    const w = world(t, SEED);
    const unknown = await w.run('acl', 'explain', '--user', 'ghost', '--topic', 'plant/1', '--action', 'read');
    assert.equal(unknown.code, 0);
    assert.match(unknown.stdout, /^DENIED: user "ghost" is not an MQTT user/);
    const wild = await w.run('acl', 'explain', '--user', 'alice', '--topic', 'plant/#', '--action', 'read');
    assert.equal(wild.code, 1);
    assert.match(wild.stderr, /^mcm: MCM_ERR_TOPIC_NAME_INVALID: /);
  });
});

describe('mcm acl: help and bad arguments', { concurrency: 4 }, () => {
  it('--help on the group and every subcommand prints its usage, exit 0', async (t) => {
    const w = world(t);
    const group = await w.run('acl', '--help');
    assert.equal(group.code, 0);
    for (const sub of ['list', 'add', 'remove', 'explain']) {
      assert.match(group.stdout, new RegExp(`^  ${sub} `, 'm'), sub);
      const r = await w.run('acl', sub, '--help');
      assert.equal(r.code, 0, sub);
      assert.match(r.stdout, new RegExp(`^Usage: mcm acl ${sub} `), sub);
    }
  });

  it('bad arguments: a clear message and the usage on stderr, exit 64, nothing changed', async (t) => {
    const w = world(t, SEED);
    const add = ['acl', 'add', '--principal', 'user:alice', '--topic', 'x'];
    const explain = ['acl', 'explain', '--user', 'alice', '--topic', 'x'];
    const cases: [string[], RegExp][] = [
      [['acl'], /acl: missing subcommand/],
      [['acl', 'list', '--principal', ''], /--principal must not be empty/],
      [['acl', 'add', '--topic', 'x', '--access', 'read'], /--principal is required/],
      [[...add], /--access is required/],
      [[...add, '--access', 'all'], /--access must be one of read, write, readwrite, deny, got "all"/],
      [['acl', 'add', '--principal', 'alice', '--topic', 'x', '--access', 'read'], /--principal must be user:<name>, role:<name>, anonymous or pattern, got "alice"/],
      [['acl', 'add', '--principal', 'user:alice', '--topic', '', '--access', 'read'], /--topic must not be empty/],
      [['acl', 'remove'], /missing ID/],
      [['acl', 'remove', '0'], /ID must be a positive integer, got "0"/],
      [['acl', 'remove', 'abc'], /ID must be a positive integer, got "abc"/],
      [['acl', 'remove', '1', '2'], /unexpected argument "2"/],
      [['acl', 'explain', '--topic', 'x', '--action', 'read'], /--user is required \(or --anonymous/],
      [[...explain, '--anonymous', '--action', 'read'], /give --user or --anonymous, not both/],
      [[...explain], /--action is required \(read or write\)/],
      [[...explain, '--action', 'subscribe'], /--action must be read or write, got "subscribe"/],
      [['acl', 'explain', '--user', 'alice', '--action', 'read'], /--topic is required/],
    ];
    for (const [args, message] of cases) {
      const r = await w.run(...args);
      assert.equal(r.code, 64, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout, '', args.join(' '));
      assert.match(r.stderr, message, args.join(' '));
      assert.match(r.stderr, /Usage: mcm acl/, args.join(' '));
    }
    assert.equal(w.events().length, SEED.length + 1);
  });
});
