/**
 * The import differential test (issue "Adopt an existing Mosquitto", must-show 1): a real
 * Mosquitto 2.0.11 decides every case on hand-made files (fixtures/import/corpus: every construct
 * of the acl_file grammar, hashes of every form), MCM imports them, and a real broker running
 * the files MCM renders from the imported state must decide every case identically — logins,
 * deliveries (read) and publishes (write), patterns, denies, anonymous clients. Each case also
 * states what the broker does and why (reference §1, §2), so a failure says which side moved.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { DomainEvent } from '../../core/events.ts';
import { fold, type Recorded } from '../../core/evolve.ts';
import type { ImportInput } from '../../core/import/import-types.ts';
import { planImport } from '../../core/import/plan-import.ts';
import { initialState, type BrokerConfig } from '../../core/state.ts';
import { renderAclFileFromState } from '../../projections/acl-file.ts';
import { checkAclFile } from '../../projections/acl-file-check.ts';
import { renderPasswordFile } from '../../projections/password-file.ts';
import { checkPasswordFile } from '../../projections/password-file-check.ts';
import { pool, readAllowed, tryLogin, v5Options, writeAllowed } from '../helpers/broker-decisions.ts';
import { requireMosquitto, startMosquitto } from '../helpers/mosquitto.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const CORPUS = join(import.meta.dirname, '..', '..', 'fixtures', 'import', 'corpus');
const SERVICE = { username: 'mcm-service', passwordHash: '$7$101$XKm0/ruYS/eOrtlr$inRGfPMzec7uMWnXImeyhIxXW7aCqWkK6swGkFbduAfuxktrNQnfl4PozSrkZVETuXyLXXN79ndKVLAobuKFgw==' };

/** The corpus's passwords (fixtures/import/corpus/README.md). */
const PASSWORDS: Record<string, string> = {
  alice: 's3cret-Pa55',
  'bob smith': 'pässwörd with spaces',
  'sensor-01': 'sensor-01-pw',
  dave: 'dave-pw',
  ops: 'ops-pw',
  frank: 'frank-pw',
  gina: 'gina-pw',
  iter1000: 'x',
  legacy: 'legacy-pass',
  User: 'password',
  argon: 'argon-pw',
  aclonly: 'anything',
};

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

type Login = { kind: 'login'; name: string; username: string | null; password?: string; expected: boolean };
type Acl = { kind: 'acl'; name: string; username: string | null; clientid: string; action: 'read' | 'write'; topic: string; expected: boolean };
type Case = Login | Acl;

const login = (username: string | null, expected: boolean, why: string, password?: string): Login => ({
  kind: 'login', username, expected,
  password: password ?? (username === null ? undefined : PASSWORDS[username]),
  name: `login ${username ?? '(anonymous)'}${password !== undefined ? ' (wrong password)' : ''} → ${expected ? 'accepted' : 'refused'}: ${why}`,
});
const acl = (username: string | null, clientid: string, action: 'read' | 'write', topic: string, expected: boolean, why: string): Acl => ({
  kind: 'acl', username, clientid, action, topic, expected,
  name: `${username ?? '(anonymous)'} [${clientid}] ${action} "${topic}" → ${expected ? 'allowed' : 'denied'}: ${why}`,
});

const CASES: Case[] = [
  login('alice', true, '$7$ line written by mosquitto_passwd [ref §1.2]'),
  login('alice', false, 'a wrong password is refused', 'wrong'),
  login('bob smith', true, 'a name with a space and a UTF-8 password [ref §1.3]'),
  login('iter1000', true, '$7$ with 1000 iterations, kept byte for byte'),
  login('legacy', true, 'legacy $6$ line, kept byte for byte [ref §1.2]'),
  login('dave', true, 'a user with no ACL block still logs in'),
  login('User', false, 'a 64-byte-salt $7$ line: a 2.0 broker drops it, before and after import [ref §8]'),
  login('argon', false, 'argon2id: a 2.0 broker drops it, before and after import [ref §8]'),
  login('aclonly', false, 'a user with only an ACL block has no password line [ref §1.1]'),
  login('nobody', false, 'an unknown user', 'x'),
  login(null, true, 'anonymous clients (allow_anonymous true)'),
  acl(null, 'anon-1', 'read', 'public/news', true, 'the anonymous section [ref §2.2]'),
  acl(null, 'anon-1', 'read', 'public/secret', false, 'deny beats allow in the anonymous list [ref §2.2]'),
  acl(null, 'anon-1', 'write', 'public/anon-inbox', true, 'a missing access word means readwrite [ref §2.1]'),
  acl(null, 'anon-1', 'read', 'public/anon-inbox', true, 'a missing access word means readwrite [ref §2.1]'),
  acl(null, 'anon-1', 'write', 'public/news', false, 'anonymous read-only'),
  acl(null, 'anon-1', 'write', 'devices/anon-1/x', true, '%c patterns apply to anonymous clients [ref §2.2]'),
  acl(null, 'anon-1', 'read', 'home/alice/notes', false, 'user blocks do not apply to anonymous clients'),
  acl('alice', 'alice-1', 'write', 'home/alice/notes', true, 'user block allow'),
  acl('alice', 'alice-1', 'write', 'home/alice/private/diary', false, 'deny beats allow in one list [ref §2.2]'),
  acl('alice', 'alice-1', 'read', 'sensors/room1/temp', true, 'the second "user alice" block is merged [ref §2.2]'),
  acl('alice', 'alice-1', 'read', 'users/alice/inbox', true, 'a pattern inside a user block applies to everyone [ref §2.2]'),
  acl('alice', 'alice-1', 'read', 'public/news', false, 'the anonymous section is not a default for named users [ref §2.2]'),
  acl('dave', 'dave-dev', 'read', 'users/dave/inbox', true, "alice's block's pattern applies to dave too [ref §2.2]"),
  acl('dave', 'dave-dev', 'write', 'devices/dave-dev/state', true, 'no user block: patterns only [ref §2.2]'),
  acl('dave', 'dave-dev', 'write', 'devices/dave-dev/locked', false, 'pattern deny beats pattern allow [ref §2.3]'),
  acl('dave', 'dave-dev', 'write', 'shared/dave/dave-dev', true, '%u and %c in one pattern'),
  acl('dave', 'dave-dev', 'write', 'shared/dave/other', false, '%c is the own client id only'),
  acl('dave', 'site/a', 'write', 'devices/site/a/x', true, "2.0 substitutes a client id with '/' as raw text [ref §2.3]"),
  acl('bob smith', 'bob-1', 'read', 'space topic/with spaces', true, 'a topic with spaces [ref §2.1]'),
  acl('bob smith', 'bob-1', 'write', 'home/shared/doc', true, 'write-only rule'),
  acl('bob smith', 'bob-1', 'read', 'home/shared/doc', false, 'write-only rule does not grant read'),
  acl('bob smith', 'bob-1', 'write', 'read', true, '"topic read" alone is topic "read" with readwrite [ref §2.1]'),
  acl('bob smith', 'bob-1', 'read', 'users/bob smith/inbox', true, '%u substitutes a name with a space'),
  acl('sensor-01', 'sensor-01', 'write', 'sensors/sensor-01/t', true, 'user block readwrite'),
  acl('sensor-01', 'sensor-01', 'read', '%u/literal', true, '%u is literal text in a topic line [ref §2.2]'),
  acl('sensor-01', 'sensor-01', 'read', 'sensor-01/literal', false, 'no substitution in topic lines [ref §2.2]'),
  acl('frank', 'frank-dev', 'write', 'devices/frank-dev/t', true, 'wrong access in the user list falls through to patterns [ref §2.3]'),
  acl('frank', 'frank-dev', 'read', 'x/frank/private', true, 'the user list is checked before a pattern deny [ref §2.3]'),
  acl('frank', 'frank-dev', 'write', 'x/frank/private', false, 'a read-only user rule falls through to the pattern deny'),
  acl('gina', 'gina-dev', 'write', 'devices/gina-dev/t', false, 'a user deny beats a pattern allow [ref §2.3]'),
  acl('ops', 'ops-1', 'read', '$SYS/broker/version', true, 'an explicit $SYS/# rule [ref §2.3]'),
  acl('ops', 'ops-1', 'write', 'any/topic', true, 'topic readwrite #'),
  acl('legacy', 'legacy-1', 'write', 'legacy/a', true, 'the $6$ user has its block'),
  acl('iter1000', 'iter-1', 'write', 'iter/a', true, 'write-only block'),
  acl('iter1000', 'iter-1', 'read', 'iter/a', false, 'write-only block does not grant read'),
];

type Decisions = Map<string, boolean>;

/** Starts a broker on the given files and asks it every case. */
const decide = async (t: TestContext, bin: string, dir: string, passwordText: string, aclText: string): Promise<Decisions> => {
  const passwordFile = join(dir, 'passwd');
  const aclFile = join(dir, 'acl');
  writeFileSync(passwordFile, passwordText);
  writeFileSync(aclFile, aclText);
  const broker = await startMosquitto(t, bin, { dir, lines: ['allow_anonymous true', `password_file ${passwordFile}`, `acl_file ${aclFile}`] });
  const url = `mqtt://127.0.0.1:${broker.port}`;
  const out: Decisions = new Map();
  const clients: MqttClient[] = [];
  try {
    for (const k of CASES) {
      if (k.kind !== 'login') continue;
      const opts: IClientOptions = { ...v5Options(`login-${out.size}`) };
      if (k.username !== null) { opts.username = k.username; opts.password = k.password ?? ''; }
      out.set(k.name, (await tryLogin(url, opts)) === null);
    }
    const connect = async (username: string | null, clientid: string): Promise<MqttClient> => {
      const opts: IClientOptions = { ...v5Options(clientid) };
      if (username !== null) { opts.username = username; opts.password = PASSWORDS[username] ?? ''; }
      const client = await mqtt.connectAsync(url, opts);
      clients.push(client);
      return client;
    };
    const publisher = await connect('ops', 'ops-publisher');
    // One connection per (username, client id): two connections with one id take over each other.
    const groups = new Map<string, Acl[]>();
    for (const k of CASES) {
      if (k.kind !== 'acl') continue;
      const key = `${k.username ?? ''}\u0000${k.clientid}`;
      groups.set(key, [...(groups.get(key) ?? []), k]);
    }
    await pool(6, [...groups.values()].map((cases) => async () => {
      const first = cases[0] as Acl;
      const client = await connect(first.username, first.clientid);
      for (const k of cases) {
        out.set(k.name, k.action === 'write' ? await writeAllowed(client, k.topic) : await readAllowed(client, publisher, k.topic));
      }
    }));
  } finally {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await broker.stop();
  }
  return out;
};

const recorded = (events: readonly DomainEvent[]): Recorded[] =>
  events.map((e, i) => ({ ...e, seq: i + 1, at: '2026-12-07T00:00:00.000Z' }) as Recorded);

test('a broker on the files MCM renders after an import decides every case as the original files did [issue 11]', async (t: TestContext) => {
  const bin = requireMosquitto(t);
  if (!bin) return;
  assert.ok(CASES.length >= 30, `${CASES.length} cases`);
  const originalPasswd = readFileSync(join(CORPUS, 'passwd'), 'utf8');
  const originalAcl = readFileSync(join(CORPUS, 'acl'), 'utf8');

  const input: ImportInput = {
    passwordFile: { text: originalPasswd, sha256: sha256(originalPasswd), path: '/etc/mosquitto/passwd' },
    aclFile: { text: originalAcl, sha256: sha256(originalAcl), path: '/etc/mosquitto/acl' },
    allowAnonymous: true,
    serviceAccount: SERVICE.username,
    brokerLine: '2.0',
  };
  const { plan, events } = planImport(input, initialState(), { limit: 10 });
  assert.equal(plan.changes, true);
  assert.equal(plan.summary.users_without_password, 1, 'aclonly');
  assert.ok(plan.warnings.some((w) => w.code === 'hash_unreadable_by_2_0' && w.line !== undefined), JSON.stringify(plan.warnings));
  const state: BrokerConfig = fold(recorded(events));

  await t.test('every hash is kept byte for byte', () => {
    for (const line of originalPasswd.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const [username, hash] = [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)];
      assert.equal(state.users[username]?.passwordHash, hash, username);
    }
  });

  const renderedPasswd = renderPasswordFile(state, { serviceAccount: SERVICE });
  const renderedAcl = renderAclFileFromState(state, { serviceAccount: SERVICE.username, generation: state.generation });
  await t.test("MCM's render passes its own checks (the runner writes nothing else) [DESIGN §6]", () => {
    assert.deepEqual(checkPasswordFile(renderedPasswd), []);
    assert.deepEqual(checkAclFile(renderedAcl), []);
  });

  await t.test('importing the render again changes nothing (a second plan is empty)', () => {
    const again = planImport({
      ...input,
      passwordFile: { text: renderedPasswd, sha256: sha256(renderedPasswd) },
      aclFile: { text: renderedAcl, sha256: sha256(renderedAcl) },
      owned: ['password_file', 'acl_file'],
    }, state, {});
    assert.equal(again.plan.changes, false, JSON.stringify(again.plan.differences));
  });

  const before = await decide(t, bin, tempDir(t, 'mcm-import-before-'), originalPasswd, originalAcl);
  const after = await decide(t, bin, tempDir(t, 'mcm-import-after-'), renderedPasswd, renderedAcl);
  for (const k of CASES) {
    await t.test(k.name, () => {
      assert.equal(before.get(k.name), k.expected, 'the original files: the broker did not do what the case says');
      assert.equal(after.get(k.name), before.get(k.name), "the broker on MCM's render decided differently from the original files");
    });
  }
});
