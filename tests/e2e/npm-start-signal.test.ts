/**
 * Daily use (issue "second hardening round"): `kill <pid of npm start>` must stop everything npm
 * start started — the server and its supervised broker — and free the ports and the lock. Before,
 * the start script ran the server under `sh -c "… && node … server"`: npm passed the SIGTERM to
 * the shell, the shell died, and the server and its mosquitto went on holding ports and the lock.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { requireMosquitto } from '../helpers/mosquitto.ts';
import { freePort } from '../helpers/ports.ts';
import { testDataDir } from '../helpers/mcm-server.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

const alive = (pid: number): boolean => {
  try { process.kill(pid, 0); return true; } catch { return false; }
};

const portOpen = (port: number): Promise<boolean> => new Promise((resolve) => {
  const s = createConnection({ host: '127.0.0.1', port });
  s.once('connect', () => { s.destroy(); resolve(true); });
  s.once('error', () => resolve(false));
});

/** Polls `cond` every 50 ms until it holds or `timeoutMs` passes (a generous bound, not a timing assertion). */
const until = async (cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

test('SIGTERM to the pid of `npm start` stops the server and its supervised broker, and frees the ports and the lock', async (t) => {
  const bin = requireMosquitto(t);
  if (!bin) return;
  const dataDir = testDataDir(t);
  const httpPort = await freePort();
  const mqttPort = await freePort();
  const npm = spawn('npm', ['start'], {
    cwd: root,
    env: {
      ...process.env,
      MCM_DATA_DIR: dataDir, MCM_HTTP_PORT: String(httpPort), MCM_MQTT_PORT: String(mqttPort),
      MCM_MOSQUITTO_MODE: 'supervised', MCM_LOG_LEVEL: 'warn', MCM_ADMIN_PASSWORD: 'npm-start-Pa55word',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  npm.stdout.on('data', (d: Buffer) => { output += d.toString(); });
  npm.stderr.on('data', (d: Buffer) => { output += d.toString(); });
  const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
  const lockPath = join(dataDir, 'server.lock');
  const brokerPidPath = join(dataDir, 'mosquitto', 'supervised.pid');
  let serverPid = -1;
  let brokerPid = -1;
  t.after(() => {
    for (const pid of [npm.pid ?? -1, serverPid, brokerPid]) if (pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL');
  });

  await until(async () => existsSync(lockPath) && existsSync(brokerPidPath) && (await portOpen(httpPort)) && (await portOpen(mqttPort)), 60_000, `npm start to serve (output: ${output})`);
  serverPid = (JSON.parse(readFileSync(lockPath, 'utf8')) as { pid: number }).pid;
  brokerPid = Number(readFileSync(brokerPidPath, 'utf8').trim());
  assert.ok(alive(serverPid) && alive(brokerPid));
  assert.notEqual(serverPid, npm.pid, 'npm runs the server as a child');

  process.kill(npm.pid ?? -1, 'SIGTERM');
  await exited;
  await until(() => !alive(serverPid) && !alive(brokerPid), 15_000, 'the server and the broker to stop');
  assert.equal(await portOpen(httpPort), false, 'the HTTP port is free');
  assert.equal(await portOpen(mqttPort), false, 'the MQTT port is free');
  assert.equal(existsSync(lockPath), false, 'the lock is released');
});
