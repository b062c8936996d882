/**
 * `mcm certs list|add|remove` (issue 13), run as bin/mcm the way an operator does: on a data dir
 * with no server (the same add/remove path as the route, actor `cli`), and through a running
 * server's API. Certificates made by openssl (tests/helpers/pki.ts).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { certSecretNames } from '../../adapters/certs/cert-store.ts';
import { acquireServerLock } from '../../adapters/cli/server-lock.ts';
import { issueCliToken } from '../../adapters/http/auth/cli-token.ts';
import { cliWorld, runMcm } from '../helpers/cli.ts';
import { createTestApp } from '../helpers/http.ts';
import { makeCa, makeCert, type PkiFiles } from '../helpers/pki.ts';

let dir: string;
let root: PkiFiles;
let server: PkiFiles;
let client: PkiFiles;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'mcm-cli-pki-'));
  root = makeCa(dir, 'MCM Test Root');
  server = makeCert(dir, { ca: root, cn: 'localhost' });
  client = makeCert(dir, { ca: root, cn: 'sensor-1', client: true });
});
after(() => rmSync(dir, { recursive: true, force: true }));

const files = (dataDir: string, name: string): boolean[] =>
  [certSecretNames(name).cert, certSecretNames(name).key].map((f) => existsSync(join(dataDir, 'secrets', f)));

describe('mcm certs (on the data dir)', { concurrency: 4 }, () => {
  it('the form the issue names: `mcm certs add --cert F --key F --ca F` stores the CA from its file and names both after their files', async (t: TestContext) => {
    const w = cliWorld(t);
    const add = await w.run('certs', 'add', '--cert', server.cert, '--key', server.key, '--ca', root.cert, '--json');
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stderr, /stored the CA from .* as mcm-test-root/);
    const stored = JSON.parse(add.stdout) as { name: string; ca: string };
    assert.deepEqual([stored.name, stored.ca], ['localhost', 'mcm-test-root']);
    // The same CA file again is the stored CA, not a second copy.
    const again = await w.run('certs', 'add', 'device', '--cert', client.cert, '--key', client.key, '--ca', root.cert, '--json');
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /stored the CA/);
    const list = JSON.parse((await w.run('certs', 'list', '--json')).stdout) as { name: string }[];
    assert.deepEqual(list.map((c) => c.name), ['device', 'localhost', 'mcm-test-root']);
  });

  it('add checks and stores the certificate (actor cli), list shows it, remove deletes it and its files', async (t: TestContext) => {
    const w = cliWorld(t);
    const add = await w.run('certs', 'add', 'root', '--cert', root.cert);
    assert.equal(add.code, 0, add.stderr);
    const srv = await w.run('certs', 'add', 'server', '--cert', server.cert, '--key', server.key, '--ca', 'root');
    assert.equal(srv.code, 0, srv.stderr);
    assert.match(srv.stdout, /^stored certificate server \(CN=localhost; with key; expires .*, in 36[45] days\)\nfingerprint SHA-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}\n$/);
    assert.match(srv.stderr, /no MCM server is running/);
    assert.deepEqual(files(w.dataDir, 'server'), [true, true]);
    const last = w.events().at(-1);
    assert.equal(last?.type, 'CertificateAdded');
    assert.equal(last?.actor.kind, 'cli');

    const json = await w.run('certs', 'list', '--json');
    assert.equal(json.code, 0, json.stderr);
    const listed = JSON.parse(json.stdout) as { name: string; has_key: boolean; ca: string | null; uses: string[] }[];
    assert.deepEqual(listed.map((c) => [c.name, c.has_key, c.ca, c.uses]), [['root', false, null, ['certificate server']], ['server', true, 'root', []]]);
    assert.doesNotMatch(json.stdout, /PRIVATE KEY/);
    const table = await w.run('certs', 'list');
    assert.match(table.stdout, /^NAME +SUBJECT +EXPIRES +KEY +CA +USED BY\n/);
    assert.match(table.stdout, /\nserver +CN=localhost +\d{4}-\d\d-\d\d \(36[45]d\) +yes +root +-\n/);

    const inUse = await w.run('certs', 'remove', 'root');
    assert.equal(inUse.code, 1);
    assert.match(inUse.stderr, /MCM_ERR_CERTIFICATE_IN_USE: certificate root is used by certificate server/);
    const removed = await w.run('certs', 'remove', 'server');
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(removed.stdout, 'removed certificate server\n');
    assert.deepEqual(files(w.dataDir, 'server'), [false, false]);
    assert.deepEqual(Object.keys(w.state().certificates ?? {}), ['root']);
  });

  it('a key of another certificate is refused (exit 1): nothing stored, nothing appended', async (t) => {
    const w = cliWorld(t);
    const res = await w.run('certs', 'add', 'server', '--cert', server.cert, '--key', client.key);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /MCM_ERR_CERTIFICATE_INVALID: the private key does not belong to the certificate "CN=localhost"/);
    assert.doesNotMatch(res.stderr, /PRIVATE KEY/);
    assert.deepEqual(files(w.dataDir, 'server'), [false, false]);
    assert.deepEqual(w.events(), []);
  });

  it('an existing name needs --replace; usage errors exit 64; an unreadable file exits 1', async (t) => {
    const w = cliWorld(t);
    assert.equal((await w.run('certs', 'add', 'server', '--cert', server.cert, '--key', server.key)).code, 0);
    const again = await w.run('certs', 'add', 'server', '--cert', client.cert, '--key', client.key);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /MCM_ERR_CERTIFICATE_EXISTS/);
    const replaced = await w.run('certs', 'add', 'server', '--cert', client.cert, '--key', client.key, '--replace', '--json');
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.equal(JSON.parse(replaced.stdout).subject, 'CN=sensor-1');
    assert.equal((await w.run('certs', 'add', 'x')).code, 64);
    assert.equal((await w.run('certs', 'add', '--cert')).code, 64, '--cert needs a file');
    assert.equal((await w.run('certs', 'frobnicate')).code, 64);
    const missing = await w.run('certs', 'add', 'x', '--cert', join(dir, 'nope.crt'));
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read --cert .*nope\.crt: ENOENT/);
    const help = await w.run('certs', '--help');
    assert.equal(help.code, 0);
    assert.match(help.stdout, /list +list TLS certificates\n +add +check and store/);
  });
});

describe('mcm certs (through a running server)', () => {
  it('adds, lists and removes through the API, recorded with actor cli', async (t) => {
    const h = await createTestApp(t, { users: false });
    const lock = acquireServerLock(h.dataDir, { pid: process.pid, url: h.baseUrl });
    t.after(() => lock.release());
    issueCliToken(h.deps.secrets);
    const cwd = mkdtempSync(join(tmpdir(), 'mcm-cli-cwd-'));
    t.after(() => rmSync(cwd, { recursive: true, force: true }));
    writeFileSync(join(cwd, 'server.crt'), server.certPem);
    writeFileSync(join(cwd, 'server.key'), server.keyPem);
    const run = (...args: string[]) => runMcm(args, { cwd, env: { MCM_DATA_DIR: h.dataDir } });

    const add = await run('certs', 'add', 'server', '--cert', 'server.crt', '--key', 'server.key');
    assert.equal(add.code, 0, add.stderr);
    assert.doesNotMatch(add.stderr, /no MCM server is running/);
    assert.equal(h.store.read().at(-1)?.actor.kind, 'cli');
    assert.deepEqual(files(h.dataDir, 'server'), [true, true]);
    const list = await run('certs', 'list', '--json');
    assert.deepEqual((JSON.parse(list.stdout) as { name: string }[]).map((c) => c.name), ['server']);
    const bad = await run('certs', 'add', 'other', '--cert', 'server.crt', '--key', client.key);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /MCM_ERR_CERTIFICATE_INVALID/);
    const removed = await run('certs', 'remove', 'server');
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual(files(h.dataDir, 'server'), [false, false]);
  });
});
