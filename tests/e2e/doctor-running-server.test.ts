/**
 * `mcm doctor` beside a running server uses that server's settings (issue "second hardening
 * round", daily use): the server was started with its broker on a non-default port (as
 * MCM_MQTT_PORT=21883 would), and doctor, run from another shell without that variable, must
 * check that broker, not 127.0.0.1:1883.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requireMosquitto } from '../helpers/mosquitto.ts';
import { runMcm } from '../helpers/cli.ts';
import { startTestServer } from '../helpers/mcm-server.ts';

test('given a server whose broker listens on a free port, when doctor runs with only MCM_DATA_DIR, then its broker check reaches that broker', async (t) => {
  const bin = requireMosquitto(t);
  if (!bin) return;
  const server = await startTestServer(t, bin);
  const r = await runMcm(['doctor', '--json'], { cwd: server.dataDir, env: { MCM_DATA_DIR: server.dataDir } });
  const out = JSON.parse(r.stdout) as { checks: { id: string; status: string; detail: string }[] };
  const config = out.checks.find((c) => c.id === 'config');
  const broker = out.checks.find((c) => c.id === 'broker');
  assert.match(config?.detail ?? '', /running server's settings/);
  assert.equal(broker?.status, 'pass', JSON.stringify(broker));
  assert.match(broker?.detail ?? '', new RegExp(`:${server.port}\\b`), 'the broker address doctor checked');
});
