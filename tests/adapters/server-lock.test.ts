import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { isDomainError } from '../../core/errors.ts';
import {
  acquireServerLock, assertNoServer, readServerInfo, SERVER_LOCK_ERROR_CODES, serverLockPath,
} from '../../adapters/cli/server-lock.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const URL_A = 'http://127.0.0.1:8080';

/** A live process that is not this one (killed in t.after). */
const liveProcess = (t: TestContext): ChildProcess => {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  t.after(() => { child.kill('SIGKILL'); });
  return child;
};

/** The pid of a process that has exited. */
const deadPid = async (): Promise<number> => {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  const pid = child.pid as number;
  await new Promise((resolve) => child.on('exit', resolve));
  return pid;
};

const writeLock = (dataDir: string, content: unknown): void => {
  writeFileSync(serverLockPath(dataDir), typeof content === 'string' ? content : JSON.stringify(content));
};

const serverRunning = (pid: number) => (e: unknown): boolean => {
  assert.ok(isDomainError(e), String(e));
  assert.equal(e.code, SERVER_LOCK_ERROR_CODES.SERVER_RUNNING);
  assert.match(e.message, new RegExp(`pid ${pid}\\b`));
  return true;
};

describe('acquireServerLock [DESIGN §8: one writer per data dir]', () => {
  it('creates <data_dir>/server.lock holding {pid, url, started_at}; release() removes it', (t) => {
    const dir = join(tempDir(t), 'data'); // created when missing
    const lock = acquireServerLock(dir, { pid: process.pid, url: URL_A });
    const path = join(dir, 'server.lock');
    assert.equal(lock.path, path);
    const content = JSON.parse(readFileSync(path, 'utf8')) as { pid: number; url: string; started_at: string };
    assert.deepEqual({ pid: content.pid, url: content.url }, { pid: process.pid, url: URL_A });
    assert.ok(!Number.isNaN(Date.parse(content.started_at)), content.started_at);
    assert.equal(statSync(path).mode & 0o022, 0, 'not writable by group or others');
    lock.release();
    assert.equal(existsSync(path), false);
    lock.release(); // idempotent
  });

  it('setUrl records the url chosen at listen time; readers see the new one', (t) => {
    const dir = tempDir(t);
    const lock = acquireServerLock(dir, { pid: process.pid, url: 'http://127.0.0.1:0' });
    t.after(() => lock.release());
    lock.setUrl('http://127.0.0.1:41234');
    assert.deepEqual(readServerInfo(dir), { pid: process.pid, url: 'http://127.0.0.1:41234' });
    assert.equal(lock.content().url, 'http://127.0.0.1:41234');
    lock.release();
    assert.equal(existsSync(lock.path), false, 'release still recognises its lock after setUrl');
    assert.throws(() => lock.setUrl('http://127.0.0.1:1'), /no longer held/);
  });

  it('refuses while another live process holds the lock, naming its pid; the lock is untouched', (t) => {
    const dir = tempDir(t);
    const holder = liveProcess(t);
    const held = { pid: holder.pid, url: URL_A, started_at: new Date().toISOString() };
    writeLock(dir, held);
    assert.throws(() => acquireServerLock(dir, { pid: process.pid, url: 'http://127.0.0.1:9' }), serverRunning(holder.pid as number));
    assert.deepEqual(JSON.parse(readFileSync(serverLockPath(dir), 'utf8')), held);
  });

  it('refuses a second acquire by this same process (the first lock is live)', (t) => {
    const dir = tempDir(t);
    const first = acquireServerLock(dir, { pid: process.pid, url: URL_A });
    t.after(() => first.release());
    assert.throws(() => acquireServerLock(dir, { pid: process.pid, url: URL_A }), serverRunning(process.pid));
  });

  it('replaces a stale lock whose pid is dead (the server crashed)', async (t) => {
    const dir = tempDir(t);
    const pid = await deadPid();
    writeLock(dir, { pid, url: 'http://127.0.0.1:1', started_at: '2020-01-01T00:00:00.000Z' });
    const lock = acquireServerLock(dir, { pid: process.pid, url: URL_A });
    t.after(() => lock.release());
    assert.equal((JSON.parse(readFileSync(lock.path, 'utf8')) as { pid: number }).pid, process.pid);
  });

  it('removes the temp files of processes killed while taking the lock, and only theirs', async (t) => {
    const dataDir = tempDir(t);
    const live = liveProcess(t);
    const dead = `server.lock.${await deadPid()}.0a1b2c3d4e5f.tmp`;
    const alive = `server.lock.${live.pid}.0a1b2c3d4e5f.tmp`;
    for (const name of [dead, alive, 'server.lock.notes.tmp']) writeFileSync(join(dataDir, name), '{}');
    acquireServerLock(dataDir, { pid: process.pid, url: URL_A }).release();
    assert.equal(existsSync(join(dataDir, dead)), false, 'a dead process\'s temp lock is removed');
    assert.equal(existsSync(join(dataDir, alive)), true, 'a live process may still be linking it');
    assert.equal(existsSync(join(dataDir, 'server.lock.notes.tmp')), true);
  });

  it('replaces a lock naming this pid but written before this process started (a restarted container\'s pid 1)', (t) => {
    const dir = tempDir(t);
    writeLock(dir, { pid: process.pid, url: URL_A, started_at: new Date(performance.timeOrigin - 60_000).toISOString() });
    const lock = acquireServerLock(dir, { pid: process.pid, url: 'http://127.0.0.1:8081' });
    t.after(() => lock.release());
    assert.equal((JSON.parse(readFileSync(lock.path, 'utf8')) as { url: string }).url, 'http://127.0.0.1:8081');
  });

  it('replaces a lock file that holds no lock (garbage)', (t) => {
    const dir = tempDir(t);
    writeLock(dir, 'not json');
    const lock = acquireServerLock(dir, { pid: process.pid, url: URL_A });
    t.after(() => lock.release());
    assert.equal((JSON.parse(readFileSync(lock.path, 'utf8')) as { pid: number }).pid, process.pid);
  });

  it('release() leaves a lock that is no longer its own alone', (t) => {
    const dir = tempDir(t);
    const lock = acquireServerLock(dir, { pid: process.pid, url: URL_A });
    const other = { pid: process.pid, url: URL_A, started_at: '2999-01-01T00:00:00.000Z' };
    writeLock(dir, other);
    lock.release();
    assert.deepEqual(JSON.parse(readFileSync(serverLockPath(dir), 'utf8')), other);
  });

  it('of several processes racing for one data dir, exactly one gets the lock', async (t) => {
    const dir = tempDir(t);
    const script = `
      import { acquireServerLock } from ${JSON.stringify(new URL('../../adapters/cli/server-lock.ts', import.meta.url).href)};
      let r = 'won';
      try { acquireServerLock(process.argv[1], { pid: process.pid, url: 'http://x' }); } catch (e) { r = e.code ?? String(e); }
      process.stdout.write(r + '\\n');
      process.stdin.resume(); // stay alive, holding the lock, until the test closes stdin
    `;
    const children = Array.from({ length: 4 }, () => spawn(process.execPath, ['--input-type=module', '-e', script, dir], { stdio: ['pipe', 'pipe', 'inherit'] }));
    t.after(() => { for (const c of children) c.kill('SIGKILL'); });
    const results = await Promise.all(children.map((c) => new Promise<string>((resolve) => {
      let out = '';
      c.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.endsWith('\n')) resolve(out.trim());
      });
    })));
    for (const c of children) c.stdin?.end();
    assert.deepEqual(results.filter((r) => r === 'won').length, 1, results.join(', '));
    assert.deepEqual(results.filter((r) => r !== 'won'), Array(3).fill(SERVER_LOCK_ERROR_CODES.SERVER_RUNNING));
  });
});

describe('readServerInfo and assertNoServer', () => {
  it('no lock file: no server; assertNoServer passes', (t) => {
    const dir = tempDir(t);
    assert.equal(readServerInfo(dir), null);
    assertNoServer(dir);
  });

  it('a live holder: {pid, url}; assertNoServer throws MCM_ERR_SERVER_RUNNING', (t) => {
    const dir = tempDir(t);
    const holder = liveProcess(t);
    writeLock(dir, { pid: holder.pid, url: URL_A, started_at: new Date().toISOString() });
    assert.deepEqual(readServerInfo(dir), { pid: holder.pid, url: URL_A });
    assert.throws(() => assertNoServer(dir), serverRunning(holder.pid as number));
  });

  it('a dead pid or a garbage lock: no server', async (t) => {
    const dir = tempDir(t);
    writeLock(dir, { pid: await deadPid(), url: URL_A, started_at: new Date().toISOString() });
    assert.equal(readServerInfo(dir), null);
    assertNoServer(dir);
    writeLock(dir, '{"pid": "12"}');
    assert.equal(readServerInfo(dir), null);
  });
});
