/**
 * The quick start in a root-only home (issue "second hardening round", daily use): cloned into
 * /root as root, `npm start` stopped with "mosquitto cannot reach /root": a root-started broker
 * drops to user mosquitto before reading its files, and /root (0700) blocks it (reference §4).
 * Now the broker's files go to a directory that user can reach, `<data_dir>/mosquitto` links
 * there, and the supervised broker starts and enforces. Root only (CI runs as root).
 */
import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import mqtt from 'mqtt';
import { brokerAccountWhenRoot } from '../../adapters/mosquitto/permissions.ts';
import { requireMosquitto } from '../helpers/mosquitto.ts';
import { startTestServer } from '../helpers/mcm-server.ts';

test('a data dir under a 0700 directory: the supervised broker (running as user mosquitto) starts and enforces', async (t) => {
  const bin = requireMosquitto(t);
  if (!bin) return;
  if (process.getuid?.() !== 0 || brokerAccountWhenRoot() === null) {
    if (process.env['CI'] === 'true') throw new Error('this test needs root and a mosquitto account (CI runs as root)');
    t.skip('needs root and a mosquitto account');
    return;
  }
  const home = mkdtempSync(join(tmpdir(), 'mcm-roothome-'));
  chmodSync(home, 0o700); // like /root
  const fallback = mkdtempSync(join(tmpdir(), 'mcm-brokers-'));
  chmodSync(fallback, 0o755);
  t.after(() => { rmSync(home, { recursive: true, force: true }); rmSync(fallback, { recursive: true, force: true }); });
  const dataDir = join(home, 'mcm', 'data');
  mkdirSync(dataDir, { recursive: true });

  const server = await startTestServer(t, bin, { dataDir, testing: { brokerFallbackRoot: join(fallback, 'brokers') } });
  const link = join(dataDir, 'mosquitto');
  assert.ok(lstatSync(link).isSymbolicLink(), `${link} links to the reachable directory`);
  assert.ok(realpathSync(link).startsWith(join(fallback, 'brokers')), realpathSync(link));

  const hash = await server.hash('dev-1-Pa55word');
  const out = await server.apply({ type: 'CreateMqttUser', data: { username: 'dev-1', passwordHash: hash } });
  assert.equal(out.result, 'applied', out.reason);
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.port}`, { username: 'dev-1', password: 'dev-1-Pa55word', reconnectPeriod: 0, connectTimeout: 5000 });
  await client.endAsync();
  await assert.rejects(mqtt.connectAsync(`mqtt://127.0.0.1:${server.port}`, { username: 'dev-1', password: 'wrong', reconnectPeriod: 0, connectTimeout: 5000 }));
});
