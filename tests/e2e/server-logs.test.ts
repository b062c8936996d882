/**
 * Logs a person and a machine can both use (issue "second hardening round", daily use):
 * JSON lines when stdout is not a terminal (here: a pipe), readable lines on a terminal
 * (pino-pretty), no line with a duplicate `pid` key (the broker's pid is `broker_pid`), and the
 * start-up lines say where the web UI is.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { logFormat } from '../../adapters/logging/logger.ts';
import { MCM_BIN } from '../helpers/cli.ts';
import { requireMosquitto } from '../helpers/mosquitto.ts';
import { freePort } from '../helpers/ports.ts';
import { testDataDir } from '../helpers/mcm-server.ts';
import { stopServerProcess } from '../helpers/stop-process.ts';

test('logFormat: pretty on a terminal, JSON elsewhere, MCM_LOG_FORMAT wins', () => {
  assert.equal(logFormat({}, true), 'pretty');
  assert.equal(logFormat({}, false), 'json');
  assert.equal(logFormat({ MCM_LOG_FORMAT: 'json' }, true), 'json');
  assert.equal(logFormat({ MCM_LOG_FORMAT: 'pretty' }, false), 'pretty');
});

test('mcm server on a pipe: JSON lines, one pid key each, and a start-up line naming the web UI URL', async (t) => {
  const bin = requireMosquitto(t);
  if (!bin) return;
  const dataDir = testDataDir(t);
  const httpPort = await freePort();
  const child = spawn(MCM_BIN, ['server'], {
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dataDir,
      MCM_DATA_DIR: dataDir, MCM_HTTP_PORT: String(httpPort), MCM_MQTT_PORT: String(await freePort()),
      MCM_MOSQUITTO_MODE: 'supervised', MCM_ADMIN_PASSWORD: 'server-logs-Pa55word',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.after(() => stopServerProcess(child, dataDir));
  let out = '';
  const uiLine = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no web UI line within 60 s:\n${out}`)), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.includes('web UI at'));
      if (line && out.includes('"MCM running"')) { clearTimeout(timer); resolve(line); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`mcm server exited (${code}):\n${out}`)); });
  });
  child.kill('SIGTERM');
  await exited;
  assert.match(uiLine, new RegExp(`"ui":"http://127\\.0\\.0\\.1:${httpPort}/"`));
  const lines = out.split('\n').filter((l) => l.trim() !== '');
  assert.ok(lines.length > 3);
  for (const line of lines) {
    assert.doesNotThrow(() => JSON.parse(line), `not a JSON line: ${line}`);
    assert.equal((line.match(/"pid":/g) ?? []).length, 1, `one pid key: ${line}`);
  }
  assert.ok(lines.some((l) => l.includes('"broker_pid":')), 'the supervised broker\'s pid is logged as broker_pid');
});
