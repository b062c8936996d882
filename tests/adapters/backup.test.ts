import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it, type TestContext } from 'node:test';
import type { DomainEvent } from '../../core/events.ts';
import { backupCommand } from '../../adapters/cli/commands/backup.ts';
import { eventsCommand } from '../../adapters/cli/commands/events.ts';
import { runCli } from '../../adapters/cli/run-cli.ts';
import { createBackup } from '../../adapters/backup/create-backup.ts';
import { restoreBackup } from '../../adapters/backup/restore-backup.ts';
import { createTarWriter, readTarEntries, readTarEntry, type TarWriter } from '../../adapters/backup/tar.ts';
import { createSecretStore } from '../../adapters/secrets/secret-store.ts';
import { createSqliteEventStore } from '../../adapters/sqlite/event-store.ts';
import { openDatabase } from '../../adapters/sqlite/open-database.ts';
import { tempDir } from '../helpers/temp-dir.ts';

type Run = { code: number; stdout: string; stderr: string };

/** Runs the CLI in-process with only the commands under test and a clean environment. */
const mcm = async (args: string[], opts: { cwd: string; env?: Record<string, string> }): Promise<Run> => {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: (s) => { stdout += s; },
    stderr: (s) => { stderr += s; },
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', MCM_MOSQUITTO_MODE: 'external', ...opts.env },
    cwd: opts.cwd,
  }, [backupCommand, eventsCommand]);
  return { code, stdout, stderr };
};

const HASH = '$7$101$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo';
const user = (name: string): DomainEvent => ({ type: 'MqttUserCreated', data: { username: name, passwordHash: HASH, description: '', disabled: false } });

/** A data dir with `count` events and two secrets. */
const seeded = (t: TestContext, count = 3): { cwd: string; dataDir: string; env: Record<string, string> } => {
  const cwd = tempDir(t, 'mcm-backup-');
  const dataDir = join(cwd, 'data');
  const db = openDatabase(join(dataDir, 'mcm.db'));
  const store = createSqliteEventStore({ db });
  for (let i = 0; i < count; i++) store.append([user(`u${i}`)], { actor: { kind: 'cli', id: 'test' }, at: `2026-01-01T00:00:0${i % 10}.000Z` });
  db.close();
  const secrets = createSecretStore(dataDir);
  secrets.write('jwt.secret', Buffer.from('jwt-secret-bytes'));
  secrets.write('service-account.key', Buffer.alloc(32, 7));
  secrets.write('cli.token', 'per-start token');
  return { cwd, dataDir, env: { MCM_DATA_DIR: dataDir } };
};

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Writes a tar by hand, for archives `mcm backup create` would never produce. */
const writeTar = (path: string, build: (w: TarWriter) => void): void => {
  const fd = openSync(path, 'wx', 0o600);
  try {
    const w = createTarWriter(fd);
    build(w);
    w.finish();
  } finally {
    closeSync(fd);
  }
};

describe('mcm backup create', { concurrency: 4 }, () => {
  it('writes a 0600 tar with the manifest first, the database and the secrets, and warns that it is sensitive [DESIGN §4]', async (t) => {
    const { cwd, dataDir, env } = seeded(t);
    const r = await mcm(['backup', 'create', '--output', 'b.tar'], { cwd, env });
    assert.equal(r.code, 0, r.stderr);
    const file = join(cwd, 'b.tar');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.match(r.stdout, /WARNING: .*b\.tar is sensitive/);
    assert.match(r.stdout, /seq 3, head [0-9a-f]{64}/);

    const entries = readTarEntries(file);
    assert.deepEqual(entries.map((e) => e.name), ['manifest.json', 'mcm.db', 'secrets/', 'secrets/jwt.secret', 'secrets/service-account.key']);
    const manifest = JSON.parse(readTarEntry(file, entries[0]!, 1e6).toString()) as Record<string, unknown>;
    const live = new DatabaseSync(join(dataDir, 'mcm.db'), { readOnly: true });
    const head = live.prepare('SELECT seq, hash FROM chain_head').get() as { seq: number; hash: string };
    live.close();
    assert.equal(manifest['format'], 'mcm-backup');
    assert.equal(manifest['seq'], 3);
    assert.equal(manifest['head_hash'], head.hash);
    assert.equal(manifest['mcm_version'], (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version);
    assert.match(String(manifest['sensitive']), /SENSITIVE/);
    const db = manifest['database'] as { sha256: string; size: number };
    assert.equal(db.sha256, sha(readTarEntry(file, entries[1]!, 1e9)));
    assert.deepEqual((manifest['secrets'] as { path: string; sha256: string }[]).map((s) => [s.path, s.sha256]), [
      ['secrets/jwt.secret', sha(Buffer.from('jwt-secret-bytes'))],
      ['secrets/service-account.key', sha(Buffer.alloc(32, 7))],
    ]);
    // No temp files left beside the output.
    assert.deepEqual(readdirSync(cwd).sort(), ['b.tar', 'data']);
  });

  it('is a plain ustar archive that the system tar lists and extracts', async (t) => {
    const { cwd, env } = seeded(t);
    assert.equal((await mcm(['backup', 'create', '-o', 'b.tar'], { cwd, env })).code, 0);
    const list = spawnSync('tar', ['tf', join(cwd, 'b.tar')], { encoding: 'utf8' });
    if (list.error) { t.skip('no tar binary'); return; }
    assert.equal(list.status, 0, list.stderr);
    assert.deepEqual(list.stdout.trim().split('\n'), ['manifest.json', 'mcm.db', 'secrets/', 'secrets/jwt.secret', 'secrets/service-account.key']);
    const out = join(cwd, 'x');
    mkdirSync(out);
    assert.equal(spawnSync('tar', ['xf', join(cwd, 'b.tar'), '-C', out]).status, 0);
    assert.equal(readFileSync(join(out, 'secrets/jwt.secret'), 'utf8'), 'jwt-secret-bytes');
    const db = new DatabaseSync(join(out, 'mcm.db'), { readOnly: true });
    assert.equal((db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n, 3);
    db.close();
  });

  it('refuses to overwrite an existing output without --force (exit 1, MCM_ERR_BACKUP_OUTPUT_EXISTS), replaces it with --force', async (t) => {
    const { cwd, env } = seeded(t);
    writeFileSync(join(cwd, 'b.tar'), 'precious');
    const r = await mcm(['backup', 'create', '--output', 'b.tar'], { cwd, env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /MCM_ERR_BACKUP_OUTPUT_EXISTS: .*b\.tar already exists/);
    assert.equal(readFileSync(join(cwd, 'b.tar'), 'utf8'), 'precious');
    const forced = await mcm(['backup', 'create', '--output', 'b.tar', '--force', '--json'], { cwd, env });
    assert.equal(forced.code, 0, forced.stderr);
    const out = JSON.parse(forced.stdout) as { output: string; manifest: { seq: number }; warning: string };
    assert.equal(out.manifest.seq, 3);
    assert.match(out.warning, /sensitive/);
    assert.equal(readTarEntries(join(cwd, 'b.tar'))[0]?.name, 'manifest.json');
  });

  it('names a data dir without a database and writes nothing (exit 1, MCM_ERR_NO_DATABASE)', async (t) => {
    const cwd = tempDir(t);
    const r = await mcm(['backup', 'create', '--output', 'b.tar'], { cwd, env: { MCM_DATA_DIR: join(cwd, 'nothing') } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /MCM_ERR_NO_DATABASE: no event log at .*nothing\/mcm\.db/);
    assert.equal(existsSync(join(cwd, 'b.tar')), false);
    assert.equal(existsSync(join(cwd, 'nothing')), false);
  });

  it('refuses to archive a database whose hash chain is broken (exit 1, MCM_ERR_BACKUP_CORRUPT) [DESIGN §4]', async (t) => {
    const { cwd, dataDir, env } = seeded(t);
    const db = new DatabaseSync(join(dataDir, 'mcm.db'));
    db.exec(`UPDATE events SET data = replace(data, 'u1', 'evil') WHERE seq = 2`);
    db.close();
    const r = await mcm(['backup', 'create', '--output', 'b.tar'], { cwd, env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /MCM_ERR_BACKUP_CORRUPT: .*hash chain broken at seq 2/);
    assert.deepEqual(readdirSync(cwd).sort(), ['data']);
  });

  it('an output directory that does not exist is named (exit 1)', async (t) => {
    const { cwd, env } = seeded(t);
    const r = await mcm(['backup', 'create', '--output', 'no/such/dir/b.tar'], { cwd, env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot write .*b\.tar: the directory .*no\/such\/dir does not exist/);
  });

  it('bad arguments: message and usage on stderr, exit 64', async (t) => {
    const cwd = tempDir(t);
    for (const args of [['backup', 'create'], ['backup', 'create', '--output'], ['backup', 'create', '-o', 'x', '--bogus'], ['backup', 'create', '-o', 'x', 'extra'], ['backup'], ['backup', 'nope']]) {
      const r = await mcm(args, { cwd });
      assert.equal(r.code, 64, args.join(' '));
      assert.match(r.stderr, /^mcm: .+\n\nUsage: mcm backup/, args.join(' '));
    }
    const missing = await mcm(['backup', 'create'], { cwd });
    assert.match(missing.stderr, /--output FILE is required/);
  });

  it('--help documents the format, the sensitivity and the exit codes', async (t) => {
    const r = await mcm(['backup', 'create', '--help'], { cwd: tempDir(t) });
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Usage: mcm backup create --output FILE/);
    assert.match(r.stdout, /tar archive/);
    assert.match(r.stdout, /SENSITIVE/);
    assert.match(r.stdout, /Exit status: 0 written; 1 .*; 64 bad arguments/s);
  });
});

describe('mcm backup restore', { concurrency: 4 }, () => {
  const backupOf = async (t: TestContext): Promise<{ cwd: string; file: string; dataDir: string }> => {
    const s = seeded(t);
    assert.equal((await mcm(['backup', 'create', '-o', 'b.tar'], { cwd: s.cwd, env: s.env })).code, 0);
    return { cwd: s.cwd, file: join(s.cwd, 'b.tar'), dataDir: s.dataDir };
  };

  it('restores into a fresh data dir: same events and chain head, the secrets 0600 in a 0700 dir, cli.token not carried over', async (t) => {
    const { cwd, file, dataDir } = await backupOf(t);
    const target = join(cwd, 'restored');
    const r = await mcm(['backup', 'restore', '--input', file], { cwd, env: { MCM_DATA_DIR: target } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /seq 3, head [0-9a-f]{64} \(chain verified\)/);
    // Nothing else left behind: no temp dir, no journal files.
    assert.deepEqual(readdirSync(target).sort(), ['mcm.db', 'secrets']);
    const verify = await mcm(['events', 'verify', '--json'], { cwd, env: { MCM_DATA_DIR: target } });
    assert.equal(verify.code, 0);
    const src = new DatabaseSync(join(dataDir, 'mcm.db'), { readOnly: true });
    const dst = new DatabaseSync(join(target, 'mcm.db'), { readOnly: true });
    assert.deepEqual(dst.prepare('SELECT * FROM events ORDER BY seq').all(), src.prepare('SELECT * FROM events ORDER BY seq').all());
    src.close();
    dst.close();
    assert.equal(statSync(join(target, 'secrets')).mode & 0o777, 0o700);
    assert.equal(statSync(join(target, 'secrets/jwt.secret')).mode & 0o777, 0o600);
    assert.deepEqual(readFileSync(join(target, 'secrets/service-account.key')), Buffer.alloc(32, 7));
    assert.equal(existsSync(join(target, 'secrets/cli.token')), false);
  });

  it('refuses to replace an existing database without --force (exit 1, MCM_ERR_RESTORE_TARGET_EXISTS) and changes nothing', async (t) => {
    const { cwd, file, dataDir } = await backupOf(t);
    const before = readFileSync(join(dataDir, 'mcm.db'));
    const r = await mcm(['backup', 'restore', '--input', file], { cwd, env: { MCM_DATA_DIR: dataDir } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /MCM_ERR_RESTORE_TARGET_EXISTS: .*mcm\.db already exists.*--force/);
    assert.deepEqual(readFileSync(join(dataDir, 'mcm.db')), before);
  });

  it('with --force moves the previous database, its stale -wal/-shm and secrets to replaced-<time>/ and swaps the backup in', async (t) => {
    const { cwd, file } = await backupOf(t);
    const other = seeded(t, 5);
    writeFileSync(join(other.dataDir, 'mcm.db-wal'), 'stale wal from another database');
    writeFileSync(join(other.dataDir, 'mcm.db-shm'), 'stale shm');
    const r = await mcm(['backup', 'restore', '--input', file, '--force', '--json'], { cwd, env: other.env });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { seq: number; replaced_dir: string };
    assert.equal(out.seq, 3);
    assert.match(out.replaced_dir, /replaced-\d{4}-\d\d-\d\dT/);
    assert.deepEqual(readdirSync(out.replaced_dir).sort(), ['mcm.db', 'mcm.db-shm', 'mcm.db-wal', 'secrets']);
    assert.deepEqual(readdirSync(other.dataDir).filter((n) => n.startsWith('mcm.db')), ['mcm.db']);
    const verify = await mcm(['events', 'verify', '--json'], { cwd, env: other.env });
    assert.equal(verify.code, 0, verify.stderr);
    assert.equal((JSON.parse(verify.stdout) as { head: number }).head, 3);
  });

  it('refuses while mcm server runs on the data dir (exit 1, MCM_ERR_SERVER_RUNNING)', async (t) => {
    const { cwd, file } = await backupOf(t);
    const target = join(cwd, 'running');
    mkdirSync(target);
    // A live process other than this one stands in for the server.
    writeFileSync(join(target, 'server.lock'), JSON.stringify({ pid: process.ppid, url: 'http://127.0.0.1:8080', started_at: new Date().toISOString() }));
    const r = await mcm(['backup', 'restore', '--input', file], { cwd, env: { MCM_DATA_DIR: target } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`MCM_ERR_SERVER_RUNNING: mcm server is running on .*running \\(pid ${process.ppid}, http://127.0.0.1:8080\\): stop it first`));
    assert.deepEqual(readdirSync(target), ['server.lock']);
    // A lock left by a server that is gone does not block.
    writeFileSync(join(target, 'server.lock'), JSON.stringify({ pid: 2 ** 22 + 12345, url: 'http://127.0.0.1:8080', started_at: '2026-01-01T00:00:00.000Z' }));
    assert.equal((await mcm(['backup', 'restore', '--input', file], { cwd, env: { MCM_DATA_DIR: target } })).code, 0);
  });

  it('a damaged backup is refused before anything changes: flipped byte, truncation, foreign file (exit 1, MCM_ERR_BACKUP_INVALID)', async (t) => {
    const { cwd, file } = await backupOf(t);
    const bytes = readFileSync(file);
    const entries = readTarEntries(file);
    const dbEntry = entries.find((e) => e.name === 'mcm.db')!;
    const flipped = Buffer.from(bytes);
    flipped[dbEntry.offset + 200] = (flipped[dbEntry.offset + 200] ?? 0) ^ 0xff;
    writeFileSync(join(cwd, 'flipped.tar'), flipped);
    writeFileSync(join(cwd, 'truncated.tar'), bytes.subarray(0, dbEntry.offset + 1000));
    writeFileSync(join(cwd, 'foreign.tar'), 'this is not a tar file at all'.repeat(40));
    const cases: [string, RegExp][] = [
      ['flipped.tar', /mcm\.db: sha256 [0-9a-f]{64} does not match the manifest/],
      ['truncated.tar', /data runs past the end of the archive \(truncated\?\)/],
      ['foreign.tar', /not a readable MCM backup/],
      ['missing.tar', /no such file/],
    ];
    for (const [name, message] of cases) {
      const target = join(cwd, `t-${name}`);
      const r = await mcm(['backup', 'restore', '--input', name], { cwd, env: { MCM_DATA_DIR: target } });
      assert.equal(r.code, 1, name);
      assert.match(r.stderr, /MCM_ERR_BACKUP_INVALID: /, name);
      assert.match(r.stderr, message, name);
      assert.equal(existsSync(join(target, 'mcm.db')), false, name);
      assert.deepEqual(existsSync(target) ? readdirSync(target) : [], [], `${name}: no temp dir left`);
    }
  });

  it('entries the manifest does not list (e.g. ../ paths) or links are refused, never extracted', async (t) => {
    const { cwd, file } = await backupOf(t);
    const entries = readTarEntries(file);
    const repack = (name: string, extra: (w: TarWriter) => void): string => {
      const out = join(cwd, name);
      writeTar(out, (w) => {
        for (const e of entries) {
          if (e.type === 'directory') w.addDirectory(e.name, 0o700, 0);
          else w.addBuffer(e.name, readTarEntry(file, e, 1e9), 0o600, 0);
        }
        extra(w);
      });
      return out;
    };
    const evil = repack('evil.tar', (w) => w.addBuffer('../../etc/evil', Buffer.from('x'), 0o600, 0));
    const target = join(cwd, 'evil-target');
    const r = await mcm(['backup', 'restore', '--input', evil], { cwd, env: { MCM_DATA_DIR: target } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /MCM_ERR_BACKUP_INVALID: unexpected entry "\.\.\/\.\.\/etc\/evil": not listed in the manifest/);
    assert.equal(existsSync(join(cwd, '..', '..', 'etc', 'evil')), false);
    // A symlink header (type '2') is rejected by the reader.
    const link = Buffer.from(readFileSync(evil));
    const last = readTarEntries(evil).at(-1)!;
    const header = last.offset - 512;
    link[header + 156] = '2'.charCodeAt(0);
    link.fill(0x20, header + 148, header + 156);
    let sum = 0;
    for (let i = header; i < header + 512; i++) sum += link[i] ?? 0;
    link.write(`${sum.toString(8).padStart(6, '0')}\0 `, header + 148, 'latin1');
    writeFileSync(join(cwd, 'link.tar'), link);
    const rl = await mcm(['backup', 'restore', '--input', 'link.tar'], { cwd, env: { MCM_DATA_DIR: join(cwd, 'link-target') } });
    assert.equal(rl.code, 1);
    assert.match(rl.stderr, /type '2' is not a regular file or directory/);
  });

  it('a database whose chain is broken is refused even when the manifest matches it (exit 1, MCM_ERR_BACKUP_CORRUPT)', async (t) => {
    const s = seeded(t);
    // `backup create` refuses a broken chain, so the archive is built by hand around a tampered
    // copy of a good snapshot, with a manifest that matches the tampered bytes.
    const good = join(s.cwd, 'good.tar');
    createBackup({ dataDir: s.dataDir, output: good, mcmVersion: 'test', now: '2026-01-01T00:00:00.000Z' });
    const entries = readTarEntries(good);
    const dbBytes = readTarEntry(good, entries[1]!, 1e9);
    const tamperedPath = join(s.cwd, 'tampered.db');
    writeFileSync(tamperedPath, dbBytes);
    const db = new DatabaseSync(tamperedPath);
    db.exec(`UPDATE events SET data = replace(data, 'u2', 'evil') WHERE seq = 3`);
    db.close();
    const tampered = readFileSync(tamperedPath);
    const manifest = JSON.parse(readTarEntry(good, entries[0]!, 1e6).toString()) as { database: { size: number; sha256: string } };
    manifest.database = { ...manifest.database, size: tampered.length, sha256: sha(tampered) };
    const out = join(s.cwd, 'bad.tar');
    writeTar(out, (w) => {
      w.addBuffer('manifest.json', Buffer.from(JSON.stringify(manifest)), 0o600, 0);
      w.addBuffer('mcm.db', tampered, 0o600, 0);
      w.addDirectory('secrets', 0o700, 0);
      for (const e of entries.slice(3)) w.addBuffer(e.name, readTarEntry(good, e, 1e6), 0o600, 0);
    });
    const target = join(s.cwd, 'bad-target');
    const r = await mcm(['backup', 'restore', '--input', out], { cwd: s.cwd, env: { MCM_DATA_DIR: target } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /MCM_ERR_BACKUP_CORRUPT: .*hash chain broken at seq 3: hash mismatch/);
    assert.equal(existsSync(join(target, 'mcm.db')), false);
  });

  it('a manifest whose seq or head does not match the database is refused (exit 1, MCM_ERR_BACKUP_INVALID)', async (t) => {
    const s = seeded(t);
    const good = join(s.cwd, 'good.tar');
    createBackup({ dataDir: s.dataDir, output: good, mcmVersion: 'test', now: '2026-01-01T00:00:00.000Z' });
    const entries = readTarEntries(good);
    const manifest = JSON.parse(readTarEntry(good, entries[0]!, 1e6).toString()) as { seq: number };
    manifest.seq = 2;
    const out = join(s.cwd, 'liar.tar');
    writeTar(out, (w) => {
      w.addBuffer('manifest.json', Buffer.from(JSON.stringify(manifest)), 0o600, 0);
      for (const e of entries.slice(1)) {
        if (e.type === 'directory') w.addDirectory(e.name, 0o700, 0);
        else w.addBuffer(e.name, readTarEntry(good, e, 1e9), 0o600, 0);
      }
    });
    assert.throws(() => restoreBackup({ dataDir: join(s.cwd, 'liar-target'), input: out, now: '2026-01-01T00:00:00.000Z' }),
      (e: Error & { code?: string }) => e.code === 'MCM_ERR_BACKUP_INVALID' && /manifest says seq 2 .* but the database ends at seq 3/.test(e.message));
  });

  it('bad arguments: message and usage on stderr, exit 64', async (t) => {
    const cwd = tempDir(t);
    for (const args of [['backup', 'restore'], ['backup', 'restore', '--input'], ['backup', 'restore', '-i', 'x', '--nope'], ['backup', 'restore', '-i', 'x', 'y']]) {
      const r = await mcm(args, { cwd });
      assert.equal(r.code, 64, args.join(' '));
      assert.match(r.stderr, /^mcm: .+\n\nUsage: mcm backup restore/, args.join(' '));
    }
    assert.match((await mcm(['backup', 'restore'], { cwd })).stderr, /--input FILE is required/);
  });

  it('restored files belong to the data dir owner when run as root', async (t) => {
    if (process.getuid?.() !== 0) { t.skip('needs root to chown'); return; }
    const { cwd, file } = await backupOf(t);
    const target = join(cwd, 'owned');
    mkdirSync(target);
    chmodSync(target, 0o750);
    chownSync(target, 4321, 4321);
    assert.equal((await mcm(['backup', 'restore', '-i', file], { cwd, env: { MCM_DATA_DIR: target } })).code, 0);
    for (const p of ['mcm.db', 'secrets', 'secrets/jwt.secret']) assert.equal(statSync(join(target, p)).uid, 4321, p);
  });
});
