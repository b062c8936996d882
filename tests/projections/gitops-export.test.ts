/**
 * GitOps export (projections/gitops-export.ts) and its YAML files (adapters/gitops/yaml-files.ts):
 * a deterministic picture of the configuration — sorted, no ids, no timestamps — pinned by a
 * golden dir, and read back strictly.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { DomainEvent } from '../../core/events.ts';
import { fold, type Recorded } from '../../core/evolve.ts';
import { emptyBundle } from '../../core/gitops-bundle.ts';
import { exportBundle } from '../../projections/gitops-export.ts';
import { GITOPS_FILE_NAMES, parseGitopsFiles, renderGitopsFiles, type GitopsFileProblem } from '../../adapters/gitops/yaml-files.ts';
import { ev, HASH_A, HASH_B, record } from '../helpers/decider-spec.ts';

const root = new URL('../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');
const basic = () => fold(read('fixtures/events/basic.jsonl').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Recorded));
const GOLDEN = 'fixtures/expected/basic.gitops/';
const OPTS = { serviceAccount: 'mcm-service' };

const problemsOf = (files: Record<string, string>): GitopsFileProblem[] => {
  const r = parseGitopsFiles(files, OPTS);
  assert.equal(r.ok, false, 'the files must be refused');
  return r.ok ? [] : r.problems;
};

describe('exportBundle', () => {
  it('renders fixtures/events/basic.jsonl exactly as the golden dir fixtures/expected/basic.gitops/', () => {
    const files = renderGitopsFiles(exportBundle(basic()));
    assert.deepEqual(Object.keys(files).sort(), readdirSync(new URL(GOLDEN, root)).sort());
    for (const name of GITOPS_FILE_NAMES) assert.equal(files[name], read(`${GOLDEN}${name}`), name);
  });

  it('holds users with their hashes, roles with their rules, other rules by principal — no ids, no admin users', () => {
    const b = exportBundle(basic());
    assert.deepEqual(b.users.map((u) => u.username), ['alice', 'bob smith', 'carol', 'dave', 'sensor-01'], 'erin was deleted; sorted by name');
    assert.equal(b.users.find((u) => u.username === 'carol')?.disabled, true, 'disabled users are exported (only the broker files drop them)');
    assert.match(b.users[0]?.password_hash ?? '', /^\$7\$101\$XKm0/, 'the rotated hash');
    assert.deepEqual(b.roles.map((r) => [r.name, r.rules.map((x) => `${x.access} ${x.topic}`)]), [
      ['monitoring', ['read $SYS/#', 'read sensors/#']],
      ['sensors', ['write sensors/+/telemetry', 'deny sensors/secret/#']],
    ]);
    assert.ok(b.acls.every((a) => !a.principal.startsWith('role:')));
    const text = JSON.stringify(b);
    assert.doesNotMatch(text, /"id"|createdAt|updatedAt|\$2b\$/, 'no ids, timestamps or admin bcrypt hashes');
  });

  it('is the same for two logs that reach the same configuration by different paths (ids differ)', () => {
    const one: DomainEvent[] = [
      ev.roleDefined('r'), ev.ruleAdded(1, 'role:r', 'a/#', 'read'), ev.userCreated('u', { passwordHash: HASH_A }), ev.granted('u', 'r'),
      ev.ruleAdded(2, 'user:u', 'b', 'write'), ev.ruleAdded(3, 'anonymous', 'c', 'read'),
    ];
    const two: DomainEvent[] = [
      ev.ruleAdded(1, 'anonymous', 'junk', 'deny'), ev.ruleAdded(2, 'anonymous', 'c', 'read'), { type: 'AclRuleRemoved', data: { id: 1 } },
      ev.userCreated('u', { passwordHash: HASH_B }), ev.ruleAdded(5, 'user:u', 'b', 'write'), ev.roleDefined('r'),
      ev.ruleAdded(9, 'role:r', 'a/#', 'read'), ev.granted('u', 'r'),
      { type: 'MqttUserPasswordChanged', data: { username: 'u', passwordHash: HASH_A } },
    ];
    assert.deepEqual(renderGitopsFiles(exportBundle(fold(record(two)))), renderGitopsFiles(exportBundle(fold(record(one)))));
  });
});

describe('GitOps YAML files', () => {
  it('read back to the bundle they were written from, and write again to the same bytes', () => {
    const files = renderGitopsFiles(exportBundle(basic()));
    const r = parseGitopsFiles(files, OPTS);
    assert.ok(r.ok);
    assert.deepEqual(r.bundle, exportBundle(basic()));
    assert.deepEqual(renderGitopsFiles(r.bundle), files);
  });

  it('never fold a line (lineWidth 0): every $7$ hash stays on its own line', () => {
    const users = renderGitopsFiles(exportBundle(basic()))['users.yaml'] ?? '';
    for (const u of exportBundle(basic()).users) assert.ok(users.includes(`    password_hash: ${u.password_hash}\n`), u.username);
  });

  it('keep names YAML would read as other types as strings ("true", "123", "null", "- x", "#"), and odd keys as keys', () => {
    const b = emptyBundle();
    b.roles.push({ name: '__proto__', description: 'null', rules: [{ topic: '#', access: 'read', description: '' }] });
    for (const name of ['true', '123', 'null', '0x10', '~', '- x', '[x]', '{y}', '*z', "'q'"]) b.users.push({ username: name, password_hash: HASH_A, description: '1e3', disabled: false, roles: ['__proto__'] });
    b.schemas.push({ name: 's', topic_filter: 'a/#', enabled: true, description: '', schema: JSON.parse('{"__proto__":{"type":"string"},"d":"l1\\n  l2  \\n","n":[1.5,-0,1e21,null]}') as unknown });
    const files = renderGitopsFiles(b);
    const r = parseGitopsFiles(files, OPTS);
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(r.bundle.users.map((u) => u.username), ["'q'", '*z', '- x', '0x10', '123', '[x]', 'null', 'true', '{y}', '~']);
    assert.equal(Object.getPrototypeOf(r.bundle.schemas[0]?.schema), Object.prototype, 'a "__proto__" key stays a key');
    assert.deepEqual(renderGitopsFiles(r.bundle), files);
  });

  it('treat a missing file as that section empty (settings as in a new data dir)', () => {
    const r = parseGitopsFiles({ 'roles.yaml': 'version: 1\nroles:\n  - name: r\n' }, OPTS);
    assert.ok(r.ok);
    assert.deepEqual(r.bundle, { ...emptyBundle(), roles: [{ name: 'r', description: '', rules: [] }] });
  });

  it('refuse unknown keys, wrong types and a missing version, each with file, line and path', () => {
    const problems = problemsOf({
      'users.yaml': `version: 1\nusers:\n  - username: a\n    pasword_hash: ${HASH_A}\n    disabled: "no"\n`,
      'settings.yaml': 'settings:\n  allow_anonymous: true\n',
    });
    assert.deepEqual(problems, [
      { file: 'settings.yaml', line: 1, path: '', message: 'missing required key "version"' },
      { file: 'users.yaml', line: 3, path: '/users/0', message: 'missing required key "password_hash"' },
      { file: 'users.yaml', line: 4, path: '/users/0/pasword_hash', message: 'unknown key "pasword_hash"' },
      { file: 'users.yaml', line: 5, path: '/users/0/disabled', message: 'must be boolean' },
    ]);
  });

  it('refuse YAML syntax errors and duplicate keys with their line, and unknown file names', () => {
    const problems = problemsOf({ 'acls.yaml': 'version: 1\nversion: 1\nacls: []\n', 'roles.yaml': 'version: 1\nroles: [\n', 'user.yaml': 'version: 1\n' });
    assert.equal(problems[0]?.file, 'user.yaml');
    assert.match(problems[0]?.message ?? '', /unknown GitOps file/);
    assert.deepEqual(problems.slice(1).map((p) => [p.file, p.line]), [['roles.yaml', 3], ['acls.yaml', 2]]);
    assert.ok(problems.slice(1).every((p) => p.message.startsWith('YAML: ')));
  });

  it('refuse what the core refuses, located in the file: bad topic filter, undefined role, schema that does not compile', () => {
    const problems = problemsOf({
      'users.yaml': `version: 1\nusers:\n  - username: u\n    password_hash: ${HASH_A}\n    roles: [ops]\n`,
      'acls.yaml': 'version: 1\nacls:\n  - principal: user:u\n    topic: a/#/b\n    access: read\n',
      'schemas.yaml': 'version: 1\nschemas:\n  - name: s\n    topic_filter: t\n    schema: {type: 12}\n',
    });
    assert.deepEqual(problems.map((p) => [p.file, p.line, p.path]), [
      ['users.yaml', 5, '/users/0/roles/0'],
      ['acls.yaml', 4, '/acls/0/topic'],
      ['schemas.yaml', 5, '/schemas/0/schema'],
    ]);
    assert.match(problems[0]?.message ?? '', /role "ops" is not defined in roles\.yaml/);
    assert.match(problems[2]?.message ?? '', /does not compile/);
  });
});

describe('broker.yaml', () => {
  const configured = (): DomainEvent[] => [
    { type: 'CertificateAdded', data: { name: 'server', fingerprint: Array.from({ length: 32 }, () => 'AB').join(':'), subject: 'CN=server', issuer: 'CN=server', notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2027-01-01T00:00:00.000Z', subjectAltName: '', isCa: true, hasKey: true, ca: null } },
    { type: 'BrokerConfigChanged', data: { config: {
      listeners: [{ name: 'tls', port: 8883, protocol: 'mqtt', address: null, bindInterface: null, tls: { certificate: 'server', ca: null, minVersion: 'tlsv1.3', requireCertificate: false, useIdentityAsUsername: false }, maxConnections: 500 }],
      options: { sys_interval: 15, log_type: ['websockets'] },
      bridges: [{ name: 'cloud', addresses: [{ host: 'cloud.example', port: 8883 }], remoteUsername: 'plant', remotePasswordRef: 'bridge-pw.00000000000000aa', remoteClientId: null,
        tls: { ca: 'server', certificate: null, version: null }, topics: [{ pattern: 'plant/#', direction: 'out', qos: 1, localPrefix: '', remotePrefix: '' }], cleansession: false, keepalive: 60 }],
      passthrough: ['allow_zero_length_clientid false'],
    } } },
  ];

  it('holds the configuration in the model\'s shape, name first, with certificates by name and the bridge password by reference', () => {
    const text = renderGitopsFiles(exportBundle(fold(record(configured()))))['broker.yaml'] ?? '';
    assert.match(text, /\nbroker:\n {2}listeners:\n {4}- name: tls\n {6}port: 8883\n/);
    assert.match(text, /\n {8}certificate: server\n/);
    assert.match(text, /\n {6}remotePasswordRef: bridge-pw\.00000000000000aa\n/);
    assert.match(text, /\n {2}options:\n {4}log_type:\n {6}- websockets\n {4}sys_interval: 15\n/);
    assert.doesNotMatch(text, /BEGIN|PRIVATE|remotePassword:/, 'never a PEM, a key or a password');
  });

  it('reads back to the bundle it was written from, and writes again to the same bytes', () => {
    const files = renderGitopsFiles(exportBundle(fold(record(configured()))));
    const r = parseGitopsFiles(files, OPTS);
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(r.bundle, exportBundle(fold(record(configured()))));
    assert.deepEqual(renderGitopsFiles(r.bundle), files);
  });

  it('missing is the empty configuration; its problems are located in the file (unknown keys, values the broker API refuses)', () => {
    const r = parseGitopsFiles({ 'settings.yaml': 'version: 1\nsettings: {}\n' }, OPTS);
    assert.ok(r.ok);
    assert.deepEqual(r.bundle.broker, { listeners: [], options: {}, bridges: [], passthrough: [] });
    const problems = problemsOf({
      'broker.yaml': 'version: 1\nbroker:\n  listeners:\n    - name: tls\n      port: 70000\n      colour: red\n  options:\n    sys_interval: 0\n  bridge: []\n',
    });
    assert.deepEqual(problems.map((p) => [p.file, p.line, p.path]), [
      ['broker.yaml', 9, '/broker/bridge'],
    ], 'the shape first: nothing else is checked until it is right');
    const values = problemsOf({ 'broker.yaml': 'version: 1\nbroker:\n  listeners:\n    - name: tls\n      port: 70000\n      colour: red\n  options:\n    sys_interval: 0\n' });
    assert.deepEqual(values.map((p) => [p.file, p.line, p.path]), [
      ['broker.yaml', 5, '/broker/listeners/0/port'], ['broker.yaml', 6, '/broker/listeners/0/colour'], ['broker.yaml', 8, '/broker/options/sys_interval'],
    ]);
    assert.match(values[0]?.message ?? '', /port must be a TCP port/);
  });
});
