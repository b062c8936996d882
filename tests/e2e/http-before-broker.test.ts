/**
 * Issue 14, start-up: the API answers as soon as the event log is open — before the supervised
 * broker runs and before the first apply — with `/readyz` saying "starting" until both are done.
 * A write accepted in that window is in the log and enforced by the first apply.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startHttp } from '../../adapters/http/start-http.ts';
import { startServer, type ServerDeps } from '../../adapters/main.ts';
import { createLogger } from '../../adapters/logging/logger.ts';
import { requireMosquitto } from '../helpers/mosquitto.ts';
import { testConfig, testDataDir } from '../helpers/mcm-server.ts';
import { login } from '../helpers/mqtt-client.ts';
import { freePort } from '../helpers/ports.ts';

const ADMIN = { username: 'root-admin', password: 'correct horse battery staple' };

type Seen = { brokerUp: boolean; healthz: number; readyz: number; readyBody: { ready?: boolean; reasons?: string[] }; created: number };

const call = async (base: string, method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
};

describe('start-up order', () => {
  it('serves /healthz and accepts writes before the broker starts; /readyz waits for the first apply', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const dataDir = testDataDir(t);
    const config = await testConfig(bin, dataDir, {
      http: { port: await freePort() }, auth: { bcrypt_cost: 4 }, bootstrap_admin: { username: ADMIN.username, password: ADMIN.password },
    });
    let seen: Seen | null = null;
    let base = '';
    const server = await startServer({
      config, logger: createLogger({ level: 'silent' }),
      // Runs where `mcm server` starts its HTTP API: everything here happens before the broker runs.
      http: async (deps: ServerDeps) => {
        const http = await startHttp(deps);
        base = http.url;
        const healthz = await call(base, 'GET', '/healthz');
        const readyz = await call(base, 'GET', '/readyz');
        const token = (await call(base, 'POST', '/api/v1/auth/login', undefined, ADMIN)).body.token as string;
        const created = await call(base, 'POST', '/api/v1/mqtt-users', token, { username: 'early-bird', password: 'early-Pa55word' });
        seen = { brokerUp: deps.supervisor?.isUp() ?? true, healthz: healthz.status, readyz: readyz.status, readyBody: readyz.body as Seen['readyBody'], created: created.status };
        return http;
      },
    });
    t.after(() => server.stop());
    const early = seen as Seen | null;
    assert.ok(early, 'the HTTP hook ran');
    assert.equal(early.brokerUp, false, 'the hook ran before the supervised broker started');
    assert.equal(early.healthz, 200);
    assert.equal(early.readyz, 503);
    assert.match(early.readyBody.reasons?.join(' ') ?? '', /starting/);
    assert.equal(early.created, 201, 'a write is accepted while the broker starts');

    assert.equal((await call(base, 'GET', '/readyz')).status, 200, 'ready once startServer has returned');
    const st = server.applyLoop.status();
    assert.equal(st.applied_seq, st.desired_seq, 'the first apply covered the early write');
    assert.equal((await login(t, config.mqtt.port, 'early-bird', 'early-Pa55word')).ok, true, 'the user created before the broker ran is enforced');
  });
});
