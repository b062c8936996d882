import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { DomainEvent } from '../../core/events.ts';
import { createSqliteEventStore } from '../../adapters/sqlite/event-store.ts';
import { openDatabase } from '../../adapters/sqlite/open-database.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { runMcm, type CliRun, type CliRunOptions } from '../helpers/cli.ts';
import { commandName } from '../../adapters/cli/run-cli.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MCM = join(ROOT, 'bin/mcm');
const EXAMPLE = readFileSync(join(ROOT, 'mcm.example.yaml'), 'utf8');
const PKG_VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

type Run = CliRun;

/**
 * Runs bin/mcm as a child process in `cwd`, with only PATH, HOME and the given variables (plus
 * NODE_V8_COVERAGE under c8, so the CLI's code counts towards coverage).
 */
const mcm = (args: string[], opts: CliRunOptions): Promise<CliRun> => runMcm(args, opts, MCM);

/** A temp dir holding a data dir with `events` appended through the real store. */
const dataDirWith = (t: TestContext, batches: DomainEvent[][]): { cwd: string; dataDir: string } => {
  const cwd = tempDir(t);
  const dataDir = join(cwd, 'data');
  const db = openDatabase(join(dataDir, 'mcm.db'));
  const store = createSqliteEventStore({ db });
  batches.forEach((events, i) => {
    store.append(events, { actor: { kind: 'cli', id: 'test' }, at: `2026-01-01T00:00:0${i}.000Z` });
  });
  db.close();
  return { cwd, dataDir };
};

const HASH = '$7$101$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo';
const EVENTS: DomainEvent[][] = [
  [{ type: 'MqttUserCreated', data: { username: 'alice', passwordHash: HASH, description: 'sensor', disabled: false } }],
  [{ type: 'RoleDefined', data: { role: 'ops', description: '' } }],
  [{ type: 'MfaEnrolmentStarted', data: { username: 'root', secretCiphertext: 'c1pher', recoveryCodeHashes: ['$2b$h1', '$2b$h2'] } }],
];

describe('mcm: help and usage errors', { concurrency: 4 }, () => {
  it('mcm --help lists every command and the exit codes, exit 0', async (t) => {
    const r = await mcm(['--help'], { cwd: tempDir(t) });
    assert.equal(r.code, 0);
    for (const line of ['config init', 'config validate', 'events list', 'events verify', 'version']) {
      assert.match(r.stdout, new RegExp(`^  ${line} `, 'm'), line);
    }
    for (const code of ['0', '1', '2', '64']) assert.match(r.stdout, new RegExp(`^  ${code} +\\S`, 'm'), `exit code ${code}`);
    assert.match(r.stdout, /MCM_DATA_DIR/);
  });

  it('--help on every command prints its usage on stdout, exit 0', async (t) => {
    const cwd = tempDir(t);
    for (const args of [['version'], ['config'], ['config', 'init'], ['config', 'validate'], ['events'], ['events', 'list'], ['events', 'verify']]) {
      const r = await mcm([...args, '--help'], { cwd });
      assert.equal(r.code, 0, args.join(' '));
      assert.match(r.stdout, new RegExp(`^Usage: mcm ${args.join(' ')} `), args.join(' '));
      assert.equal(r.stderr, '');
    }
    const viaHelp = await mcm(['help', 'events'], { cwd });
    assert.deepEqual([viaHelp.code, viaHelp.stdout.split('\n')[0]], [0, 'Usage: mcm events <subcommand> [options]']);
  });

  it('no command, an unknown command or an unknown global option: message + usage on stderr, exit 64 (EX_USAGE)', async (t) => {
    const cwd = tempDir(t);
    for (const [args, message] of [[[], 'no command given'], [['frobnicate'], 'unknown command "frobnicate"'], [['--bogus', 'version'], 'unknown option "--bogus"']] as const) {
      const r = await mcm([...args], { cwd });
      assert.equal(r.code, 64, args.join(' '));
      assert.equal(r.stdout, '');
      assert.ok(r.stderr.startsWith(`mcm: ${message}\n`), r.stderr);
      assert.match(r.stderr, /Usage: mcm \[--config FILE\] <command>/);
    }
  });

  it('mcm server loads only its own command (issue 14) and still answers --help and bad arguments like the rest', async (t) => {
    assert.deepEqual(
      [['server'], ['--config', 'x.yaml', 'server', '--help'], ['--config=x.yaml', 'server'], ['-c', 'x', 'users', 'list'], ['--help'], ['-V'], []].map(commandName),
      ['server', 'server', 'server', 'users', null, null, null],
    );
    const cwd = tempDir(t);
    const help = await mcm(['server', '--help'], { cwd });
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: mcm server \[--force-takeover\]/);
    const bad = await mcm(['server', '--bogus'], { cwd });
    assert.equal(bad.code, 64);
    assert.match(bad.stderr, /Unknown option '--bogus'/);
    assert.ok(bad.stderr.includes('Usage: mcm server'), bad.stderr);
  });

  it('bad arguments to a command: message + that command\'s usage on stderr, exit 64', async (t) => {
    const cwd = tempDir(t);
    const cases: [string[], RegExp, string][] = [
      [['version', '--bogus'], /Unknown option '--bogus'/, 'Usage: mcm version'],
      [['version', 'extra'], /unexpected argument "extra"/, 'Usage: mcm version'],
      [['config'], /config: missing subcommand \(init, validate\)/, 'Usage: mcm config <subcommand>'],
      [['config', 'frob'], /unknown subcommand "frob"/, 'Usage: mcm config <subcommand>'],
      [['config', 'init', '--output'], /argument missing/, 'Usage: mcm config init'],
      [['events', 'list', '--limit', 'abc'], /--limit must be an integer >= 1, got "abc"/, 'Usage: mcm events list'],
      [['events', 'list', '--after', '-1'], /--after/, 'Usage: mcm events list'],
      [['events', 'verify', '--json=yes'], /--json/, 'Usage: mcm events verify'],
    ];
    for (const [args, message, usage] of cases) {
      const r = await mcm(args, { cwd });
      assert.equal(r.code, 64, args.join(' '));
      assert.match(r.stderr, message, args.join(' '));
      assert.ok(r.stderr.includes(usage), `${args.join(' ')} → ${r.stderr}`);
    }
  });
});

describe('mcm version', { concurrency: 4 }, () => {
  it('prints the package version and the Node version it runs on (Node 24 from node_modules)', async (t) => {
    const r = await mcm(['version'], { cwd: tempDir(t) });
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `mcm ${PKG_VERSION} (node ${process.version})\n`);
  });

  it('--json, also as mcm --version --json', async (t) => {
    const cwd = tempDir(t);
    for (const args of [['version', '--json'], ['--version', '--json']]) {
      const r = await mcm(args, { cwd });
      assert.equal(r.code, 0);
      assert.deepEqual(JSON.parse(r.stdout), { mcm: PKG_VERSION, node: process.version });
    }
  });
});

describe('mcm config', { concurrency: 4 }, () => {
  it('init writes the documented example to ./mcm.yaml and refuses to overwrite it without --force', async (t) => {
    const cwd = tempDir(t);
    const first = await mcm(['config', 'init'], { cwd });
    assert.deepEqual([first.code, first.stdout], [0, `wrote ${join(cwd, 'mcm.yaml')}\n`]);
    assert.equal(readFileSync(join(cwd, 'mcm.yaml'), 'utf8'), EXAMPLE);

    writeFileSync(join(cwd, 'mcm.yaml'), 'http: { port: 1 }\n');
    const again = await mcm(['config', 'init'], { cwd });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists; not overwriting it \(use --force/);
    assert.equal(readFileSync(join(cwd, 'mcm.yaml'), 'utf8'), 'http: { port: 1 }\n', 'the file is untouched');

    const forced = await mcm(['config', 'init', '--force'], { cwd });
    assert.equal(forced.code, 0);
    assert.equal(readFileSync(join(cwd, 'mcm.yaml'), 'utf8'), EXAMPLE);
  });

  it('init --output writes elsewhere', async (t) => {
    const cwd = tempDir(t);
    const r = await mcm(['config', 'init', '--output', 'conf/other.yaml'], { cwd });
    assert.equal(r.code, 1, 'a missing parent directory is a clear failure');
    assert.match(r.stderr, /cannot write .*conf\/other\.yaml/);
    const ok = await mcm(['config', 'init', '-o', 'other.yaml'], { cwd });
    assert.equal(ok.code, 0);
    assert.equal(readFileSync(join(cwd, 'other.yaml'), 'utf8'), EXAMPLE);
  });

  it('validate with no file: valid built-in defaults, exit 0', async (t) => {
    const r = await mcm(['config', 'validate'], { cwd: tempDir(t) });
    assert.equal(r.code, 0);
    assert.equal(r.stdout, 'valid: built-in defaults (no config file)\n');
  });

  it('validate accepts the file config init wrote, given by --config before or after the command, or MCM_CONFIG', async (t) => {
    const cwd = tempDir(t);
    await mcm(['config', 'init'], { cwd });
    const expected = `valid: ${join(cwd, 'mcm.yaml')}\n`;
    for (const [args, env] of [
      [['config', 'validate', '--config', 'mcm.yaml'], {}],
      [['--config', 'mcm.yaml', 'config', 'validate'], {}],
      [['--config=mcm.yaml', 'config', 'validate'], {}],
      [['config', 'validate'], { MCM_CONFIG: 'mcm.yaml' }],
    ] as [string[], Record<string, string>][]) {
      const r = await mcm(args, { cwd, env });
      assert.deepEqual([r.code, r.stdout], [0, expected], args.join(' '));
    }
  });

  it('validate on a broken file lists every problem with its path, exit 1', async (t) => {
    const cwd = tempDir(t);
    writeFileSync(join(cwd, 'bad.yaml'), 'http:\n  port: "8080x"\n  colour: red\nmosquitto:\n  drift: ignore\nobserver: { max_topics: 0 }\n');
    const r = await mcm(['config', 'validate', '--config', 'bad.yaml'], { cwd, env: { MCM_MQTT_PORT: 'abc' } });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, [
      `invalid: ${join(cwd, 'bad.yaml')}: 5 problems`,
      '  - /http/colour: unknown key',
      '  - /http/port: must be integer',
      '  - /mosquitto/drift: must be one of "restore", "report"',
      '  - /observer/max_topics: must be >= 1',
      '  - MCM_MQTT_PORT: must be an integer from 1 to 65535 (got "abc")',
      '',
    ].join('\n'));
  });

  it('validate prints warnings on stderr and still exits 0', async (t) => {
    const cwd = tempDir(t);
    writeFileSync(join(cwd, 'mcm.yaml'), 'auth: { bcrypt_cost: 4 }\n');
    const r = await mcm(['config', 'validate', '-c', 'mcm.yaml'], { cwd });
    assert.equal(r.code, 0);
    assert.match(r.stderr, /^warning: auth\.bcrypt_cost 4 is below 12/);
    assert.equal(r.stdout, `valid: ${join(cwd, 'mcm.yaml')}\n`);
  });

  it('any other command refuses to run on an invalid configuration, listing the problems, exit 1', async (t) => {
    const cwd = tempDir(t);
    const r = await mcm(['events', 'list'], { cwd, env: { MCM_HTTP_PORT: 'abc', MCM_DATA_DIR: cwd } });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'mcm: invalid configuration:\n  - MCM_HTTP_PORT: must be an integer from 0 to 65535 (got "abc")\n');
  });

  it('validate names a missing --config file, exit 1', async (t) => {
    const cwd = tempDir(t);
    const r = await mcm(['config', 'validate', '--config', 'absent.yaml'], { cwd });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /config file: file not found: .*absent\.yaml/);
  });
});

describe('mcm events (on the data dir)', { concurrency: 4 }, () => {
  it('list prints every event with secret-ish payload fields redacted [DESIGN §4]', async (t) => {
    const { cwd, dataDir } = dataDirWith(t, EVENTS);
    const r = await mcm(['events', 'list'], { cwd, env: { MCM_DATA_DIR: dataDir } });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 4);
    assert.match(lines[0] ?? '', /^SEQ +AT +STREAM +TYPE +ACTOR +DATA$/);
    assert.match(lines[1] ?? '', /^1 +2026-01-01T00:00:00\.000Z +mqtt-user:alice +MqttUserCreated +cli:test +\{.*"passwordHash":"\[redacted\]"/);
    assert.match(lines[3] ?? '', /"recoveryCodeHashes":"\[redacted\]","secretCiphertext":"\[redacted\]"/);
    for (const secret of ['$7$', 'c1pher', '$2b$']) assert.ok(!r.stdout.includes(secret), `${secret} leaked`);
  });

  it('list --json gives envelopes with the chain hashes kept and the payload secrets redacted', async (t) => {
    const { cwd, dataDir } = dataDirWith(t, EVENTS);
    const r = await mcm(['events', 'list', '--json'], { cwd, env: { MCM_DATA_DIR: dataDir } });
    assert.equal(r.code, 0, r.stderr);
    const events = JSON.parse(r.stdout) as { seq: number; hash: string; data: Record<string, unknown> }[];
    assert.deepEqual(events.map((e) => e.seq), [1, 2, 3]);
    assert.deepEqual(events[0]?.data, { username: 'alice', passwordHash: '[redacted]', description: 'sensor', disabled: false });
    assert.match(events[0]?.hash ?? '', /^[0-9a-f]{64}$/);
  });

  it('list --after, --stream and --limit select events', async (t) => {
    const { cwd, dataDir } = dataDirWith(t, EVENTS);
    const seqs = async (...args: string[]): Promise<number[]> => {
      const r = await mcm(['events', 'list', '--json', ...args], { cwd, env: { MCM_DATA_DIR: dataDir } });
      assert.equal(r.code, 0, r.stderr);
      return (JSON.parse(r.stdout) as { seq: number }[]).map((e) => e.seq);
    };
    assert.deepEqual(await seqs('--after', '1'), [2, 3]);
    assert.deepEqual(await seqs('--limit', '2'), [1, 2]);
    assert.deepEqual(await seqs('--stream', 'role:ops'), [2]);
    assert.deepEqual(await seqs('--after', '3'), []);
    // Newest first: the last changes without paging through the whole log.
    assert.deepEqual(await seqs('--newest-first'), [3, 2, 1]);
    assert.deepEqual(await seqs('-r', '--limit', '2'), [3, 2]);
    assert.deepEqual(await seqs('-r', '--stream', 'role:ops'), [2]);
  });

  it('honours data_dir from a --config file, and MCM_DATA_DIR over it', async (t) => {
    const { cwd, dataDir } = dataDirWith(t, EVENTS);
    writeFileSync(join(cwd, 'mcm.yaml'), `data_dir: ${dataDir}\n`);
    const elsewhere = tempDir(t);
    const r = await mcm(['--config', join(cwd, 'mcm.yaml'), 'events', 'verify'], { cwd: elsewhere });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ok: 3 events, chain intact up to seq 3/);
    const envWins = await mcm(['--config', join(cwd, 'mcm.yaml'), 'events', 'verify'], { cwd: elsewhere, env: { MCM_DATA_DIR: 'other' } });
    assert.equal(envWins.code, 1);
    assert.match(envWins.stderr, new RegExp(`no event log at ${join(elsewhere, 'other', 'mcm.db')}`));
  });

  it('list and verify on a data dir without a database say so and create nothing, exit 1', async (t) => {
    const cwd = tempDir(t);
    const dataDir = join(cwd, 'empty');
    for (const sub of ['list', 'verify']) {
      const r = await mcm(['events', sub], { cwd, env: { MCM_DATA_DIR: dataDir } });
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`no event log at ${join(dataDir, 'mcm.db')}`));
    }
    assert.throws(() => readFileSync(join(dataDir, 'mcm.db')), /ENOENT/);
  });

  it('verify: an intact chain exits 0; --json gives the result', async (t) => {
    const { cwd, dataDir } = dataDirWith(t, EVENTS);
    const r = await mcm(['events', 'verify'], { cwd, env: { MCM_DATA_DIR: dataDir } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ok: 3 events, chain intact up to seq 3 \(head [0-9a-f]{64}\)\n$/);
    const j = await mcm(['events', 'verify', '--json'], { cwd, env: { MCM_DATA_DIR: dataDir } });
    assert.equal(j.code, 0);
    assert.deepEqual({ ...JSON.parse(j.stdout), head_hash: 'h' }, { ok: true, count: 3, head: 3, head_hash: 'h', snapshots: { checked: 0, bad: [] }, good_files: { checked: 0, bad: [] } });
  });

  it('verify: a row edited with raw SQL fails, naming the first broken seq, exit 1 [DESIGN §4]', async (t) => {
    const { cwd, dataDir } = dataDirWith(t, EVENTS);
    const db = new DatabaseSync(join(dataDir, 'mcm.db'));
    db.prepare("UPDATE events SET data = replace(data, 'ops', 'root') WHERE seq = 2").run();
    db.close();
    const r = await mcm(['events', 'verify'], { cwd, env: { MCM_DATA_DIR: dataDir } });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^event chain BROKEN at seq 2: hash mismatch/);
    const j = await mcm(['events', 'verify', '--json'], { cwd, env: { MCM_DATA_DIR: dataDir } });
    assert.equal(j.code, 1);
    assert.equal((JSON.parse(j.stdout) as { first_bad_seq: number }).first_bad_seq, 2);
  });

  it('verify: a deleted tail is caught by the chain head, exit 1 [DESIGN §4]', async (t) => {
    const { cwd, dataDir } = dataDirWith(t, EVENTS);
    const db = new DatabaseSync(join(dataDir, 'mcm.db'));
    db.prepare('DELETE FROM events WHERE seq = 3').run();
    db.close();
    const r = await mcm(['events', 'verify'], { cwd, env: { MCM_DATA_DIR: dataDir } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /BROKEN at seq 3: head mismatch/);
  });
});

describe('bin/mcm shim [DESIGN §3]', { concurrency: 3 }, () => {
  /** Runs `file` with exactly the given PATH. */
  const runWithPath = (file: string, args: string[], cwd: string, path: string): Promise<Run> =>
    new Promise((resolve, reject) => {
      const child = spawn(file, args, { cwd, env: { PATH: path } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });

  /** A copy of the shim in a fake project with node_modules but no project Node, and a fake `node` on PATH. */
  const fakeProject = (t: TestContext, nodeVersion: string): { shim: string; path: string } => {
    const dir = tempDir(t);
    mkdirSync(join(dir, 'bin'));
    mkdirSync(join(dir, 'node_modules'));
    mkdirSync(join(dir, 'adapters/cli'), { recursive: true });
    writeFileSync(join(dir, 'adapters/cli/main.ts'), '');
    copyFileSync(MCM, join(dir, 'bin/mcm'));
    chmodSync(join(dir, 'bin/mcm'), 0o755);
    const fakeBin = join(dir, 'fake-bin');
    mkdirSync(fakeBin);
    // Answers `node -p process.versions.node`; when run with a script, prints what it was asked to run.
    writeFileSync(join(fakeBin, 'node'), `#!/bin/sh\nif [ "$1" = -p ]; then echo ${nodeVersion}; else echo "ran $1"; fi\n`);
    chmodSync(join(fakeBin, 'node'), 0o755);
    return { shim: join(dir, 'bin/mcm'), path: `${fakeBin}:/usr/bin:/bin` };
  };

  it('runs through a symlink placed elsewhere (resolves the project dir from the real path)', async (t) => {
    const dir = tempDir(t);
    symlinkSync(MCM, join(dir, 'mcm'));
    const r = await runWithPath(join(dir, 'mcm'), ['version'], dir, '/usr/bin:/bin');
    assert.deepEqual([r.code, r.stdout], [0, `mcm ${PKG_VERSION} (node ${process.version})\n`]);
  });

  it('without the project Node, falls back to a node >= 22.18 on PATH', async (t) => {
    const { shim, path } = fakeProject(t, '22.18.0');
    const r = await runWithPath(shim, ['version'], tempDir(t), path);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ran .*\/adapters\/cli\/main\.ts\n$/);
  });

  it('refuses an older node on PATH and says what is needed, exit 1', async (t) => {
    const { shim, path } = fakeProject(t, '22.17.9');
    const r = await runWithPath(shim, ['version'], tempDir(t), path);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /needs Node\.js >= 22\.18 .* is 22\.17\.9/);
    assert.match(r.stderr, /npm run setup/);
  });
});
