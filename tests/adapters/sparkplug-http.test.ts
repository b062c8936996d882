/**
 * `GET /api/v1/sparkplug/nodes` (viewer, DESIGN §8): the tracker's view, valid against
 * docs/openapi.yaml; 503 MCM_ERR_OBSERVER_UNAVAILABLE when the server runs without a tracker.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { problemsWith } from '../../adapters/http/validate.ts';
import { createLiveBus } from '../../adapters/live/live-bus.ts';
import { createSparkplugTracker } from '../../adapters/observer/sparkplug-tracker.ts';
import { createTestApp } from '../helpers/http.ts';

const fixture = (name: string): Buffer => Buffer.from(readFileSync(new URL(`../../fixtures/mqtt/${name}`, import.meta.url), 'utf8').trim(), 'base64');

describe('GET /api/v1/sparkplug/nodes', () => {
  it('lists tracked nodes with decoded metrics, in the documented shape', async (t) => {
    const tracker = createSparkplugTracker({ bus: createLiveBus(), clock: { now: () => new Date().toISOString() }, logger: pino({ level: 'silent' }) });
    const h = await createTestApp(t, { deps: { sparkplug: tracker } });
    const at = Date.now();
    // fixtures/mqtt: NBIRTH (bdSeq 7, Temperature alias 2 = 21.5, …), then NDATA (alias 2 = 22.25).
    tracker.process({ topic: 'spBv1.0/plant1/NBIRTH/edge1', payload: fixture('sparkplug-nbirth.b64'), qos: 0, retain: false, receivedAt: at });
    tracker.process({ topic: 'spBv1.0/plant1/NDATA/edge1', payload: fixture('sparkplug-ndata.b64'), qos: 0, retain: false, receivedAt: at });
    tracker.process({ topic: 'spBv1.0/STATE/scada', payload: Buffer.from('{"online":true,"timestamp":1}'), qos: 1, retain: true, receivedAt: at });

    const res = await h.request('GET', '/api/v1/sparkplug/nodes', { token: await h.tokenFor('viewer') });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(problemsWith('SparkplugNodeList', res.body), []);
    assert.equal(res.body.total, 1);
    const node = res.body.items[0];
    assert.equal(node.group, 'plant1');
    assert.equal(node.edge_node, 'edge1');
    assert.equal(node.state, 'online');
    assert.equal(node.bd_seq, 7);
    assert.equal(node.metrics.find((m: { name: string }) => m.name === 'Temperature').value, 22.25);
    assert.deepEqual(res.body.hosts.map((x: { host_id: string }) => x.host_id), ['scada']);
    assert.equal(res.body.counters.messages, 3);
  });

  it('answers 503 MCM_ERR_OBSERVER_UNAVAILABLE without a tracker', async (t) => {
    const h = await createTestApp(t);
    const res = await h.request('GET', '/api/v1/sparkplug/nodes', { token: await h.tokenFor('viewer') });
    assert.equal(res.status, 503);
    assert.equal(res.body.error.code, 'MCM_ERR_OBSERVER_UNAVAILABLE');
  });
});
