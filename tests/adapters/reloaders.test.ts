import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  createCommandReloader, createDockerReloader, createExternalReloader, createNoReloader, createSignalReloader,
  createSupervisedReloader,
} from '../../adapters/mosquitto/reloaders.ts';
import { startFakeDocker } from '../helpers/fake-docker.ts';
import { requireMosquitto, startMosquitto } from '../helpers/mosquitto.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const RELOADING = 'Reloading config.';
const count = (log: string, text: string): number => log.split(text).length - 1;

describe('signal reloader', () => {
  it('sends SIGHUP to the pid in the pid file, and mosquitto reloads [ref §3.1]', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const dir = tempDir(t);
    const broker = await startMosquitto(t, bin, { dir });
    const pidFile = join(dir, 'mosquitto.pid');
    writeFileSync(pidFile, `${broker.pid}\n`);
    const before = count(broker.log(), RELOADING);
    await createSignalReloader({ pidFile }).reload();
    await broker.waitForLog(RELOADING, 5000);
    assert.equal(count(broker.log(), RELOADING), before + 1);
  });

  it('says clearly when the pid file is missing', async (t) => {
    const pidFile = join(tempDir(t), 'none.pid');
    await assert.rejects(createSignalReloader({ pidFile }).reload(), new RegExp(`cannot read mosquitto pid file ${pidFile}`));
  });

  it('says clearly when the pid is dead', async (t) => {
    const pidFile = join(tempDir(t), 'dead.pid');
    writeFileSync(pidFile, '2147483646\n');
    await assert.rejects(createSignalReloader({ pidFile }).reload(), /mosquitto is not running: no process 2147483646/);
  });

  it('refuses a pid file without a pid, and a missing pid_file setting', async (t) => {
    const pidFile = join(tempDir(t), 'junk.pid');
    writeFileSync(pidFile, 'hello\n');
    await assert.rejects(createSignalReloader({ pidFile }).reload(), /does not hold a pid/);
    await assert.rejects(createSignalReloader({ pidFile: null }).reload(), /needs mosquitto.reload.pid_file/);
  });
});

describe('command reloader', () => {
  it('runs the argv without a shell: metacharacters are passed literally', async (t) => {
    const dir = tempDir(t);
    const target = join(dir, 'out; touch pwned');
    await createCommandReloader({
      argv: [process.execPath, '-e', 'require("node:fs").writeFileSync(process.argv[1], "reloaded")', target],
    }).reload();
    assert.ok(existsSync(target), 'the argument reached the program as one literal string');
    assert.deepEqual(readdirSync(dir).sort(), ['out; touch pwned'], 'no shell ran "touch pwned"');
  });

  it('reports a non-zero exit with the program\'s stderr', async () => {
    await assert.rejects(
      createCommandReloader({ argv: [process.execPath, '-e', 'console.error("no broker here"); process.exit(3)'] }).reload(),
      /failed \(exit 3\): no broker here/,
    );
  });

  it('kills a command that hangs after the timeout', async () => {
    await assert.rejects(
      createCommandReloader({ argv: [process.execPath, '-e', 'setTimeout(() => {}, 60000)'], timeoutMs: 300 }).reload(),
      /timed out after 300 ms/,
    );
  });

  it('names a missing program and an empty argv', async () => {
    await assert.rejects(createCommandReloader({ argv: ['/nonexistent/reload-mosquitto'] }).reload(), /not found: \/nonexistent\/reload-mosquitto/);
    await assert.rejects(createCommandReloader({ argv: [] }).reload(), /needs mosquitto.reload.command/);
  });
});

describe('docker reloader (fake Engine API on a unix socket)', () => {
  it('POSTs /containers/<id>/kill?signal=SIGHUP and the broker in the "container" reloads', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const dir = tempDir(t);
    const broker = await startMosquitto(t, bin, { dir });
    const docker = await startFakeDocker(t, dir, { mosquitto: broker.pid });
    const from = broker.log().length;
    await createDockerReloader({ socket: docker.socket, container: 'mosquitto' }).reload();
    assert.deepEqual(docker.requests, [{ method: 'POST', url: '/containers/mosquitto/kill?signal=SIGHUP' }]);
    await broker.waitForLog(RELOADING, 5000, from);
  });

  it('passes the Engine API error message through (404 no such container, 409 not running)', async (t) => {
    const dir = tempDir(t);
    const docker = await startFakeDocker(t, dir, { gone: 2147483646 });
    await assert.rejects(createDockerReloader({ socket: docker.socket, container: 'nope' }).reload(), /HTTP 404\): No such container: nope/);
    await assert.rejects(createDockerReloader({ socket: docker.socket, container: 'gone' }).reload(), /HTTP 409\): Container gone is not running/);
  });

  it('encodes the container name into one path segment', async (t) => {
    const docker = await startFakeDocker(t, tempDir(t), {});
    await assert.rejects(createDockerReloader({ socket: docker.socket, container: '../../info' }).reload(), /HTTP 404/);
    assert.equal(docker.requests[0]?.url, '/containers/..%2F..%2Finfo/kill?signal=SIGHUP');
  });

  it('says clearly when the socket is missing or no container is configured', async (t) => {
    const socket = join(tempDir(t), 'missing.sock');
    await assert.rejects(createDockerReloader({ socket, container: 'x' }).reload(), new RegExp(`cannot reach the docker Engine API at ${socket}`));
    await assert.rejects(createDockerReloader({ socket, container: null }).reload(), /needs mosquitto.reload.docker.container/);
  });
});

describe('none and supervised reloaders', () => {
  it('none never signals and says it cannot confirm (applies are only "written") [DESIGN §6]', async () => {
    const r = createNoReloader();
    assert.equal(r.confirms, false);
    await r.reload();
  });

  it('supervised calls the supervisor, and its error surfaces', async () => {
    let calls = 0;
    await createSupervisedReloader({ reload: () => { calls++; } }).reload();
    assert.equal(calls, 1);
    await assert.rejects(createSupervisedReloader({ reload: () => { throw new Error('the supervised mosquitto is not running'); } }).reload(), /not running/);
  });

  it('createExternalReloader picks the configured strategy', () => {
    const cfg = { pid_file: null, command: [], docker: { socket: '/x', container: null } };
    for (const strategy of ['signal', 'command', 'docker', 'none'] as const) {
      assert.equal(createExternalReloader({ ...cfg, strategy }).strategy, strategy);
    }
    assert.throws(() => createExternalReloader({ ...cfg, strategy: 'supervised' }), /needs mosquitto.mode supervised/);
  });
});
