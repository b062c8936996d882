/**
 * API tokens end to end (issue 17), as a CI pipeline would use them: `mcm tokens create --json`
 * beside a running server, the token as `Authorization: Bearer` creating an MQTT user the real
 * broker then enforces, the same token on the live ws stream, and `mcm tokens revoke` ending
 * both at once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readServerInfo } from '../../adapters/cli/server-lock.ts';
import { startHttp } from '../../adapters/http/start-http.ts';
import { freePort } from '../helpers/ports.ts';
import { runMcm } from '../helpers/cli.ts';
import { startTestServer } from '../helpers/mcm-server.ts';
import { requireMosquitto } from '../helpers/mosquitto.ts';
import { login } from '../helpers/mqtt-client.ts';
import { bearer, openWs, wsUrl } from '../helpers/ws-client.ts';

test('a CI token made by `mcm tokens create` writes through the API, reaches the broker, streams live, and dies with `mcm tokens revoke`', async (t) => {
  const bin = requireMosquitto(t);
  if (!bin) return;
  const server = await startTestServer(t, bin, { config: { http: { port: await freePort() } } });
  const http = await startHttp(server.deps);
  t.after(() => http.close());
  const baseUrl = readServerInfo(server.dataDir)?.url;
  assert.ok(baseUrl, 'the server announces its url');
  const mcm = (...args: string[]) => runMcm(args, { cwd: server.dataDir, env: { MCM_DATA_DIR: server.dataDir } });

  const created = await mcm('tokens', 'create', '--name', 'ci-deploy', '--role', 'operator', '--expires', '90d', '--json');
  assert.equal(created.code, 0, created.stderr);
  const { name, token, role, expires_at: expiresAt } = JSON.parse(created.stdout) as { name: string; token: string; role: string; expires_at: string };
  assert.deepEqual([name, role], ['ci-deploy', 'operator']);
  assert.ok(Date.parse(expiresAt) > Date.now() + 89 * 86_400_000);

  const api = (method: string, path: string, body?: unknown) => fetch(`${baseUrl}/api/v1${path}`, {
    method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const ws = await openWs(t, wsUrl(baseUrl), bearer(token));
  await ws.waitFor((m) => m.type === 'snapshot');

  const res = await api('POST', '/mqtt-users', { username: 'sensor-7', password: 'Sensor-7-password' });
  assert.equal(res.status, 201, await res.text());
  const seq = Number(res.headers.get('etag')?.replace(/"/g, ''));
  const applied = await server.applyLoop.waitForGeneration(seq, 20_000);
  assert.equal(applied.result, 'applied', applied.reason);
  const mqtt = await login(t, server.port, 'sensor-7', 'Sensor-7-password');
  assert.ok(mqtt.ok, 'the broker enforces what the token created');
  if (mqtt.ok) mqtt.client.end(true);
  const recorded = server.store.read().at(-1);
  assert.deepEqual([recorded?.actor.kind, recorded?.actor.id], ['token', 'ci-deploy']);

  const listed = JSON.parse((await mcm('tokens', 'list', '--json')).stdout) as { name: string; last_used_ip: string | null; token?: string }[];
  assert.equal(listed[0]?.name, 'ci-deploy');
  assert.equal(listed[0]?.last_used_ip, '127.0.0.1');
  assert.equal(listed[0]?.token, undefined, 'never shown again');

  const revoked = await mcm('tokens', 'revoke', 'ci-deploy');
  assert.equal(revoked.code, 0, revoked.stderr);
  const closed = await ws.closed();
  assert.equal(closed.code, 4401, 'the open stream closes at once');
  assert.equal((await api('GET', '/mqtt-users')).status, 401, 'and the next request is refused');
  const again = await mcm('tokens', 'revoke', 'ci-deploy');
  assert.equal(again.code, 1);
  assert.match(again.stderr, /MCM_ERR_TOKEN_NOT_FOUND/);
});
