/**
 * HTTP side of the metrics (DESIGN §8): request metrics labelled by route PATTERN (no raw ids),
 * sign-in attempts by result, and `GET /metrics` outside /api/v1 — public, or behind
 * `Authorization: Bearer <metrics.token>` when configured.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { handleCommand } from '../../core/handle-command.ts';
import { createMetrics } from '../../adapters/metrics/registry.ts';
import { HASH_A } from '../helpers/decider-spec.ts';
import { createTestApp, ROLE_USERS, TEST_PASSWORD } from '../helpers/http.ts';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

const sample = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('HTTP request metrics', () => {
  it('labels requests with the route pattern, never the raw path, and "unmatched" when no route answered', async (t) => {
    const h = await createTestApp(t, { deps: { metrics: createMetrics() } });
    const token = await h.tokenFor('auditor');
    handleCommand(h.deps, { type: 'CreateMqttUser', data: { username: 'secret-device-17', passwordHash: HASH_A } }, { actor: { kind: 'system', id: 'test' } });
    assert.equal((await h.request('GET', '/api/v1/mqtt-users/secret-device-17', { token })).status, 200);
    assert.equal((await h.request('GET', '/api/v1/mqtt-users/no-such-device', { token })).status, 404);
    assert.equal((await h.request('GET', '/api/v1/no/such/route/abc123', { token })).status, 404);
    assert.equal((await h.request('DELETE', '/api/v1/settings', { token })).status, 405);

    const text = (await h.request('GET', '/metrics')).text;
    assert.equal(sample(text, 'mcm_http_requests_total{method="GET",route="/api/v1/mqtt-users/:username",status="200"}'), 1);
    assert.equal(sample(text, 'mcm_http_requests_total{method="GET",route="/api/v1/mqtt-users/:username",status="404"}'), 1);
    assert.equal(sample(text, 'mcm_http_requests_total{method="GET",route="unmatched",status="404"}'), 1);
    assert.equal(sample(text, 'mcm_http_requests_total{method="DELETE",route="unmatched",status="405"}'), 1);
    assert.equal(sample(text, 'mcm_http_request_duration_seconds_count{method="GET",route="/api/v1/mqtt-users/:username"}'), 2);
    for (const raw of ['secret-device-17', 'no-such-device', 'abc123']) assert.equal(text.includes(raw), false, `${raw} is not a label`);
  });

  it('counts sign-in attempts by result', async (t) => {
    const h = await createTestApp(t, { deps: { metrics: createMetrics() } });
    assert.equal((await h.login(ROLE_USERS.viewer, TEST_PASSWORD)).status, 200);
    assert.equal((await h.login(ROLE_USERS.viewer, 'wrong-password-0123')).status, 401);
    assert.equal((await h.login('nobody-at-all', 'wrong-password-0123')).status, 401);
    const text = (await h.request('GET', '/metrics')).text;
    assert.equal(sample(text, 'mcm_login_attempts_total{result="success"}'), 1);
    assert.equal(sample(text, 'mcm_login_attempts_total{result="failure"}'), 2);
    assert.equal(text.includes('nobody-at-all'), false);
  });
});

describe('GET /metrics (DESIGN §8: none, or a bearer token when configured)', () => {
  it('is public when no token is configured, in the Prometheus text format', async (t) => {
    const h = await createTestApp(t, { deps: { metrics: createMetrics() } });
    const res = await h.request('GET', '/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(res.text, /^# TYPE mcm_http_requests_total counter$/m);
  });

  it('needs the configured token: none or a wrong one is 401, and a wrong one is not taken for a session token', async (t) => {
    const h = await createTestApp(t, {
      config: (c) => { c.metrics.token = METRICS_TOKEN; },
      deps: { metrics: createMetrics() },
    });
    const adminToken = await h.tokenFor('admin');
    const securityEvents = h.deps.securityLog.count();
    const none = await h.request('GET', '/metrics');
    assert.equal(none.status, 401);
    assert.equal(none.body.error.code, 'MCM_ERR_UNAUTHENTICATED');
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.equal((await h.request('GET', '/metrics', { token: `${METRICS_TOKEN}x` })).status, 401);
    assert.equal((await h.request('GET', '/metrics', { token: adminToken })).status, 401, 'an admin session is not the metrics token');
    assert.equal(h.deps.securityLog.count(), securityEvents, 'the JWT check never saw the metrics token');
    const ok = await h.request('GET', '/metrics', { token: METRICS_TOKEN });
    assert.equal(ok.status, 200);
    assert.match(ok.text, /mcm_http_requests_total\{method="GET",route="\/metrics",status="401"\} 3/);
  });

  it('does not exist when the app has no metrics', async (t) => {
    const h = await createTestApp(t);
    assert.equal((await h.request('GET', '/metrics')).status, 404);
  });
});
