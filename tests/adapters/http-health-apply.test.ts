/**
 * Health endpoints (public, outside /api/v1) and the apply status (DESIGN §6, §8).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DatabaseSync } from 'node:sqlite';
import type { ApplyStatus } from '../../adapters/http/deps.ts';
import { readiness } from '../../adapters/http/routes/health.ts';
import { createTestApp } from '../helpers/http.ts';

describe('/healthz, /livez, /readyz', () => {
  it('answer 200 without a token while the process, database and broker are fine', async (t) => {
    const h = await createTestApp(t, { users: false });
    for (const path of ['/healthz', '/livez']) {
      const res = await h.request('GET', path);
      assert.equal(res.status, 200, path);
      assert.deepEqual(res.body, { status: 'ok' });
    }
    const ready = await h.request('GET', '/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body, { status: 'ready', reasons: [] });
  });

  it('/readyz answers 503 with the reasons when the broker is not ready', async (t) => {
    const h = await createTestApp(t, { users: false, deps: { readiness: () => ({ ready: false, reasons: ['broker: not connected'] }) } });
    const res = await h.request('GET', '/readyz');
    assert.equal(res.status, 503);
    assert.deepEqual(res.body, { status: 'not_ready', reasons: ['broker: not connected'] });
    assert.equal((await h.request('GET', '/healthz')).status, 200, 'the process itself is still up');
  });

  it('counts a database that cannot be queried as not ready, naming it', () => {
    const broken = { prepare: () => { throw new Error('database is closed'); } } as unknown as DatabaseSync;
    assert.deepEqual(readiness({ db: broken }), { ready: false, reasons: ['database: database is closed'] });
    const both = readiness({ db: broken, readiness: () => ({ ready: false, reasons: [] }) });
    assert.deepEqual(both.reasons, ['database: database is closed', 'not ready']);
  });
});

describe('/apply-status', () => {
  it('computes a pending status from the store when no apply loop runs', async (t) => {
    const h = await createTestApp(t);
    const op = await h.tokenFor('operator');
    await h.request('POST', '/api/v1/mqtt-users', { token: op, body: { username: 'alice' } });
    const res = await h.request('GET', '/api/v1/apply-status', { token: await h.tokenFor('viewer') });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      desired_seq: h.store.state().generation, applied_seq: 0, state: 'pending', last: null, broker: { mode: 'none', up: false, version: null },
    });
    assert.ok(res.body.desired_seq > 0);
  });

  it('reports the apply loop\'s status and re-runs it on POST /apply-status/retry', async (t) => {
    let retries = 0;
    const applied: ApplyStatus = {
      desired_seq: 7, applied_seq: 7, state: 'applied',
      last: { seq: 7, result: 'applied', latency_ms: 12.5, at: '2026-01-01T00:00:00.000Z' }, broker: { mode: 'supervised', up: true },
    };
    const h = await createTestApp(t, {
      deps: { apply: { status: () => ({ ...applied, state: retries > 0 ? 'applied' : 'failed' }), retry: async () => { retries += 1; return applied; } } },
    });
    const before = await h.request('GET', '/api/v1/apply-status', { token: await h.tokenFor('viewer') });
    assert.equal(before.body.state, 'failed');
    const retry = await h.request('POST', '/api/v1/apply-status/retry', { token: await h.tokenFor('operator') });
    assert.equal(retry.status, 200);
    assert.deepEqual(retry.body, applied);
    assert.equal(retries, 1);
  });
});
