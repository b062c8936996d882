/**
 * The whole path an operator uses (issue "REST API", must show): a user and an ACL rule created
 * over HTTP are enforced by a real supervised mosquitto once `GET /apply-status` says applied.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startHttp } from '../../adapters/http/start-http.ts';
import { requireMosquitto } from '../helpers/mosquitto.ts';
import { startTestServer } from '../helpers/mcm-server.ts';
import { connectAs, login, publish } from '../helpers/mqtt-client.ts';
import { freePort } from '../helpers/ports.ts';

const ADMIN = { username: 'root-admin', password: 'correct horse battery staple' };

type Json = Record<string, unknown>;

const api = async (base: string, method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; etag: string | null; body: Json }> => {
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, etag: res.headers.get('etag'), body: text ? (JSON.parse(text) as Json) : {} };
};

/** Polls apply-status until `seq` is applied (or failed); generous bound, not a timing assertion. */
const waitApplied = async (base: string, token: string, seq: number): Promise<Json> => {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const st = (await api(base, 'GET', '/apply-status', token)).body;
    if ((st.applied_seq as number) >= seq || st.state === 'failed') return st;
    if (Date.now() > deadline) throw new Error(`apply of seq ${seq} not confirmed: ${JSON.stringify(st)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('HTTP → event log → rendered files → mosquitto', () => {
  it('enforces a user and an ACL rule created over HTTP, and refuses them again once removed', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const httpPort = await freePort();
    const server = await startTestServer(t, bin, {
      config: { http: { port: httpPort }, auth: { bcrypt_cost: 4 }, bootstrap_admin: { username: ADMIN.username, password: ADMIN.password } },
    });
    const http = await startHttp(server.deps);
    t.after(() => http.close());
    const base = http.url;

    const login1 = await api(base, 'POST', '/auth/login', undefined, ADMIN);
    assert.equal(login1.status, 200);
    const token = login1.body.token as string;

    const created = await api(base, 'POST', '/mqtt-users', token, { username: 'line-7', password: 'press-Pa55word' });
    assert.equal(created.status, 201);
    const rule = await api(base, 'POST', '/acls', token, { principal: 'user:line-7', topic: 'plant/line7/#', access: 'write' });
    assert.equal(rule.status, 201);
    const seq = Number(JSON.parse(rule.etag ?? '"0"'));
    const st = await waitApplied(base, token, seq);
    assert.equal(st.state, 'applied', JSON.stringify(st));

    const device = await connectAs(t, server.port, 'line-7', 'press-Pa55word');
    assert.equal(await publish(device, 'plant/line7/speed', '12'), 'accepted', 'the rule grants write on plant/line7/#');
    assert.equal(await publish(device, 'plant/line8/speed', '12'), 'denied', 'nothing grants plant/line8');
    const wrong = await login(t, server.port, 'line-7', 'not-the-password');
    assert.equal(wrong.ok, false, 'a wrong password is refused');

    const removed = await api(base, 'DELETE', `/acls/${rule.body.id as number}`, token);
    assert.equal(removed.status, 204);
    const st2 = await waitApplied(base, token, Number(JSON.parse(removed.etag ?? '"0"')));
    assert.equal(st2.state, 'applied');
    assert.equal(await publish(device, 'plant/line7/speed', '13'), 'denied', 'revoked on the next message (reference §3.3)');

    // `mcm status` beside a running server asks it (its own env names no broker port at all).
    const env: NodeJS.ProcessEnv = { ...process.env, MCM_DATA_DIR: server.dataDir };
    delete env.MCM_MQTT_PORT;
    const { stdout } = await promisify(execFile)(join(import.meta.dirname, '../../bin/mcm'), ['status', '--json'], { env });
    const status = JSON.parse(stdout) as { broker: { up: boolean; mode: string; backend: string; reported_by?: string }; state: string };
    assert.equal(status.broker.up, true);
    assert.equal(status.broker.backend, 'files');
    assert.equal(status.broker.mode, 'supervised');
    assert.match(status.broker.reported_by ?? '', /^server pid \d+$/);
  });
});
