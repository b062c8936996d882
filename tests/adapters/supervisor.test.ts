import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { createBrokerLog, isBrokerErrorLine, parseBrokerLogLine } from '../../adapters/mosquitto/broker-log.ts';
import { assertReachable, brokerAccountWhenRoot, isRoot, prepareBrokerDirs, type BrokerAccount } from '../../adapters/mosquitto/permissions.ts';
import { createSupervisor, type Supervisor, type SupervisorLogger } from '../../adapters/mosquitto/supervisor.ts';
import { renderMosquittoConf } from '../../projections/mosquitto-conf.ts';
import { requireMosquitto } from '../helpers/mosquitto.ts';
import { freePort } from '../helpers/ports.ts';
import { tempDir } from '../helpers/temp-dir.ts';

type Setup = { dir: string; confPath: string; pidFile: string; port: number };

/** A broker dir laid out as the server does it (reference §4: files readable by the broker's user). */
const setup = async (t: TestContext): Promise<Setup> => {
  const root = tempDir(t, 'mcm-sup-');
  chmodSync(root, 0o755);
  const dir = join(root, 'mosquitto');
  const persistenceDir = join(dir, 'persistence');
  const account = isRoot() ? brokerAccountWhenRoot() : null;
  prepareBrokerDirs({ dir, persistenceDir }, account);
  for (const f of ['passwd', 'acl']) {
    writeFileSync(join(dir, f), '', { mode: 0o640 });
    if (account) chmodSync(join(dir, f), 0o644);
  }
  const port = await freePort();
  const confPath = join(dir, 'mosquitto.conf');
  writeFileSync(confPath, renderMosquittoConf({
    passwordFile: join(dir, 'passwd'), aclFile: join(dir, 'acl'), allowAnonymous: false, host: '127.0.0.1', port, persistenceDir,
  }), { mode: 0o644 });
  return { dir, confPath, pidFile: join(dir, 'supervised.pid'), port };
};

const recordingLogger = () => {
  const entries: { level: string; obj: Record<string, unknown>; msg?: string }[] = [];
  const logger: SupervisorLogger = {
    info: (obj, msg) => { entries.push({ level: 'info', obj: obj as Record<string, unknown>, ...(msg ? { msg } : {}) }); },
    warn: (obj, msg) => { entries.push({ level: 'warn', obj: obj as Record<string, unknown>, ...(msg ? { msg } : {}) }); },
    error: (obj, msg) => { entries.push({ level: 'error', obj: obj as Record<string, unknown>, ...(msg ? { msg } : {}) }); },
  };
  return { logger, entries };
};

const supervise = (t: TestContext, bin: string, s: Setup, extra: Partial<Parameters<typeof createSupervisor>[0]> = {}): Supervisor => {
  const sup = createSupervisor({ binary: bin, confPath: s.confPath, host: '127.0.0.1', port: s.port, pidFile: s.pidFile, ...extra });
  t.after(() => sup.stop());
  return sup;
};

const waitFor = async (what: string, check: () => boolean, ms = 8000): Promise<void> => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

const alive = (pid: number): boolean => { try { process.kill(pid, 0); return true; } catch { return false; } };

/** The pid of a running `<binary> -c <conf>` (by /proc), or 0. */
const startingBroker = (binary: string, confPath: string): number => {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let cmd: string;
    try { cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8'); } catch { continue; }
    // `sh <script> -c <conf>` before the exec, `<binary> -c <conf>` after it.
    const argv = cmd.split('\0');
    if (argv.includes(binary) && argv.at(-3) === '-c' && argv.at(-2) === confPath) return Number(name);
  }
  return 0;
};

describe('broker log', () => {
  it('parses the timestamp prefix and keeps partial lines until they complete', () => {
    const log = createBrokerLog({ capacity: 3 });
    const seen: string[] = [];
    log.onLine((l) => seen.push(l.message));
    log.write('2026-11-25T03:48:18: Reloading con');
    assert.deepEqual(seen, []);
    log.write('fig.\n2026-11-25T03:48:18: Error opening acl file "/x".\nno prefix\n');
    assert.deepEqual(seen, ['Reloading config.', 'Error opening acl file "/x".', 'no prefix']);
    assert.equal(log.tail(1)[0]?.time, null);
    assert.equal(log.since(1)[0]?.time, '2026-11-25T03:48:18');
  });

  it('is bounded: old lines are dropped, indexes keep counting', () => {
    const log = createBrokerLog({ capacity: 2 });
    for (let i = 0; i < 5; i++) log.write(`line ${i}\n`);
    assert.deepEqual(log.tail(10).map((l) => [l.index, l.message]), [[3, 'line 3'], [4, 'line 4']]);
    assert.equal(log.mark(), 5);
  });

  it('treats "Error…" messages as reload errors and lower-case client errors as not [ref §3.4]', () => {
    assert.ok(isBrokerErrorLine(parseBrokerLogLine('2026-11-25T03:48:18: Error: Unable to open acl_file "/x".', 0)));
    assert.ok(isBrokerErrorLine(parseBrokerLogLine('2026-11-25T03:48:18: Error opening acl file "/x".', 0)));
    assert.ok(!isBrokerErrorLine(parseBrokerLogLine('2026-11-25T03:48:18: Socket error on client x, disconnecting.', 0)));
  });
});

describe('supervisor (real mosquitto)', () => {
  it('starts the broker, streams its stderr log lines live, reloads with SIGHUP, stops it', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const s = await setup(t);
    const sup = supervise(t, bin, s);
    const lines: string[] = [];
    sup.log.onLine((l) => lines.push(l.message));
    await sup.start();
    assert.ok(sup.isUp());
    const pid = sup.pid();
    assert.ok(pid && alive(pid));
    assert.equal(readFileSync(s.pidFile, 'utf8').trim(), String(pid));
    assert.ok(lines.some((l) => l === `Opening ipv4 listen socket on port ${s.port}.`), lines.join('\n'));
    const mark = sup.log.mark();
    sup.reload();
    await waitFor('Reloading config.', () => sup.log.since(mark).some((l) => l.message === 'Reloading config.'));
    await sup.stop();
    assert.equal(sup.isUp(), false);
    assert.equal(alive(pid), false);
    assert.equal(existsSync(s.pidFile), false);
    assert.throws(() => sup.reload(), /not running/);
  });

  it('restarts a SIGKILLed broker with doubling backoff delays', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const s = await setup(t);
    const { logger, entries } = recordingLogger();
    const sup = supervise(t, bin, s, { logger, backoff: { initialMs: 100, maxMs: 1000, stableMs: 60_000 } });
    const started: number[] = [];
    sup.onStarted(({ restarts }) => started.push(restarts));
    await sup.start();
    for (let i = 1; i <= 3; i++) {
      const pid = sup.pid();
      assert.ok(pid);
      process.kill(pid, 'SIGKILL');
      await waitFor(`restart ${i}`, () => sup.restarts() === i && sup.isUp());
      assert.notEqual(sup.pid(), pid);
    }
    assert.deepEqual(started, [0, 1, 2, 3]);
    const delays = entries.filter((e) => e.obj['delayMs'] !== undefined).map((e) => e.obj['delayMs']);
    assert.deepEqual(delays, [100, 200, 400]);
  });

  it('refuses to reload a broker that has just died, before its exit is handled (no SIGHUP to a zombie)', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const s = await setup(t);
    const sup = supervise(t, bin, s, { backoff: { initialMs: 60_000 } });
    await sup.start();
    const pid = sup.pid();
    assert.ok(pid);
    process.kill(pid, 'SIGKILL');
    // Still this tick: the exit event cannot have been handled; wait for the kernel to make it a zombie.
    const stateOf = (): string => { const st = readFileSync(`/proc/${pid}/stat`, 'utf8'); return st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3); };
    const until = Date.now() + 2000;
    while (stateOf() !== 'Z' && Date.now() < until) { /* spin: no await, so the exit stays unhandled */ }
    assert.equal(stateOf(), 'Z');
    assert.equal(sup.isUp(), true, 'the exit is not handled yet');
    assert.throws(() => sup.reload(), /not running \(it has just exited\)/);
  });

  it('refuses a port already in use with a message naming MCM_MQTT_PORT', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const s = await setup(t);
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(s.port, '127.0.0.1', r));
    t.after(() => new Promise<void>((r) => blocker.close(() => r())));
    const sup = supervise(t, bin, s);
    await assert.rejects(sup.start(), new RegExp(`port ${s.port} on 127\\.0\\.0\\.1 is already in use.*MCM_MQTT_PORT`));
    assert.equal(sup.isUp(), false);
  });

  it('stops a broker orphaned by a killed MCM (same conf, pid from our pid file) before starting', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const s = await setup(t);
    const orphan = spawn(bin, ['-c', s.confPath], { stdio: 'ignore', detached: true });
    t.after(() => { try { orphan.kill('SIGKILL'); } catch { /* gone */ } });
    writeFileSync(s.pidFile, `${orphan.pid}\n`);
    await new Promise((r) => setTimeout(r, 300));
    const sup = supervise(t, bin, s);
    await sup.start();
    assert.ok(sup.isUp());
    assert.notEqual(sup.pid(), orphan.pid);
    await waitFor('orphan gone', () => orphan.exitCode !== null || orphan.signalCode !== null);
  });

  it('waits for a broker that is busy (loading a big acl_file) past the start timeout, and fails one that idles (issue 14)', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const s = await setup(t);
    // Mosquitto prints nothing while it loads its files, on one core (reference §3.1, §10): a
    // stand-in spins 3 s in the same process (exec keeps the pid), then execs the real broker.
    const busy = join(s.dir, '..', 'busy-mosquitto');
    writeFileSync(busy, `#!/bin/bash\nend=$((SECONDS + 3))\nwhile [ $SECONDS -lt $end ]; do :; done\nexec ${bin} "$@"\n`, { mode: 0o755 });
    const started = Date.now();
    const sup = supervise(t, busy, s, { startTimeoutMs: 1500 });
    await sup.start();
    assert.ok(sup.isUp());
    assert.ok(Date.now() - started >= 1500, 'it was given longer than the start timeout');
    await sup.stop();

    const idle = join(s.dir, '..', 'idle-mosquitto');
    writeFileSync(idle, `#!/bin/sh\nsleep 4\nexec ${bin} "$@"\n`, { mode: 0o755 });
    const sup2 = supervise(t, idle, s, { startTimeoutMs: 1500 });
    await assert.rejects(sup2.start(), /without using the CPU/);
  });

  it('names the broker in the pid file as soon as it is spawned: an MCM killed during the broker start leaves no unnamed orphan', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const s = await setup(t);
    // A broker slow to report "running" (exec keeps the pid), so the kill lands inside the start.
    // SIGPIPE ignored (inherited through exec) stands for a broker already past its own signal
    // set-up: one killed earlier dies of SIGPIPE on its first log line to the dead MCM's pipe.
    const slow = join(s.dir, '..', 'slow-mosquitto');
    writeFileSync(slow, `#!/bin/sh\ntrap '' PIPE\nsleep 0.8\nexec ${bin} "$@"\n`, { mode: 0o755 });
    const supervisorTs = new URL('../../adapters/mosquitto/supervisor.ts', import.meta.url).href;
    const script = `import { createSupervisor } from ${JSON.stringify(supervisorTs)};
      createSupervisor(${JSON.stringify({ binary: slow, confPath: s.confPath, host: '127.0.0.1', port: s.port, pidFile: s.pidFile })}).start();`;
    const mcm = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
    let orphanPid = 0;
    t.after(() => {
      if (mcm.exitCode === null && mcm.signalCode === null) mcm.kill('SIGKILL');
      for (const pid of [orphanPid, startingBroker(bin, s.confPath), startingBroker(slow, s.confPath)]) if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
    });
    const pidFileNames = (pid: number): boolean => { try { return readFileSync(s.pidFile, 'utf8').trim() === String(pid); } catch { return false; } };
    await waitFor('the pid file to name the starting broker', () => (orphanPid = startingBroker(slow, s.confPath)) !== 0 && pidFileNames(orphanPid));
    assert.ok(readFileSync(`/proc/${orphanPid}/cmdline`, 'utf8').includes(slow), 'named while still starting (before "running")');
    mcm.kill('SIGKILL'); // MCM dies while its broker is still starting
    // The orphan finishes starting on its own and holds the port.
    await waitFor('the orphan listening', () => {
      try { return readFileSync(`/proc/${orphanPid}/cmdline`, 'utf8').startsWith(bin); } catch { return false; }
    });
    await new Promise((r) => setTimeout(r, 300));
    const sup = supervise(t, bin, s);
    await sup.start();
    assert.ok(sup.isUp());
    assert.notEqual(sup.pid(), orphanPid);
    await waitFor('orphan gone', () => !alive(orphanPid));
  });

  it('reports a broker that exits at start with its log lines', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const s = await setup(t);
    writeFileSync(s.confPath, `${readFileSync(s.confPath, 'utf8')}no_such_option 1\n`);
    await assert.rejects(supervise(t, bin, s).start(), /mosquitto exited during start[\s\S]*Unknown configuration variable/);
  });
});

describe('broker file permissions when MCM runs as root [ref §4]', () => {
  const stranger: BrokerAccount = { user: 'mosquitto', uid: 54321, gid: 54321, groups: [54321] };

  it('names the first directory the broker user cannot search, with the fix', (t) => {
    const root = tempDir(t);
    chmodSync(root, 0o755);
    const locked = join(root, 'locked');
    mkdirSync(join(locked, 'data'), { recursive: true });
    chmodSync(locked, 0o700);
    assert.throws(() => assertReachable(join(locked, 'data'), stranger),
      { message: `mosquitto (user mosquitto) cannot reach ${locked}: chmod o+x ${locked} or set MCM_DATA_DIR to a directory it can reach` });
    chmodSync(locked, 0o701);
    assertReachable(join(locked, 'data'), stranger);
  });

  it('lays out the broker dir 0750 group mosquitto and a persistence dir the broker user owns', (t) => {
    const account = brokerAccountWhenRoot();
    if (!isRoot() || !account) { t.skip('needs root and a mosquitto account'); return; }
    const root = tempDir(t);
    chmodSync(root, 0o755);
    const dir = join(root, 'mosquitto');
    const persistenceDir = join(dir, 'persistence');
    prepareBrokerDirs({ dir, persistenceDir }, account);
    const d = statSync(dir);
    assert.equal(d.mode & 0o777, 0o750);
    assert.equal(d.gid, account.gid);
    const p = statSync(persistenceDir);
    assert.equal(p.uid, account.uid);
  });
});
