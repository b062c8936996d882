/**
 * Whole-log reads don't stall the server (issue "second hardening round"): `GET /events/verify`
 * and `GET /state?at=` walk or fold every event up to the seq asked. They run on a worker thread
 * now, so requests that arrive meanwhile (probes, health checks, ws heartbeats — all on the event
 * loop) are answered before the long read ends. Measured by ordering, not by time: health checks
 * sent one after another while the read is in flight must complete while it is still in flight.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DomainEvent } from '../../core/events.ts';
import { createTestApp, type TestApp } from '../helpers/http.ts';

const HASH = '$7$101$XKm0/ruYS/eOrtlr$inRGfPMzec7uMWnXImeyhIxXW7aCqWkK6swGkFbduAfuxktrNQnfl4PozSrkZVETuXyLXXN79ndKVLAobuKFgw==';
const EVENTS = 60_000;

const bigLog = (h: TestApp): void => {
  for (let b = 0; b < EVENTS / 1000; b++) {
    const batch: DomainEvent[] = Array.from({ length: 1000 }, (_, i) => ({
      type: 'MqttUserCreated', data: { username: `dev-${b}-${i}`, passwordHash: HASH, description: 'x'.repeat(40), disabled: false },
    }));
    h.store.append(batch, { actor: { kind: 'system', id: 'test' }, at: '2026-12-07T00:00:00.000Z' });
  }
};

/** Health checks answered while `slow` is still pending. */
const answeredDuring = async (h: TestApp, slow: Promise<unknown>): Promise<number> => {
  let done = false;
  void slow.finally(() => { done = true; });
  let answered = 0;
  while (!done) {
    const r = await h.request('GET', '/healthz');
    assert.equal(r.status, 200);
    if (!done) answered++;
  }
  return answered;
};

describe('whole-log reads run off the event loop', () => {
  for (const path of ['/api/v1/events/verify', `/api/v1/state?at=${EVENTS - 1}`]) {
    it(`GET ${path.replace(/\?.*/, '?at=…')} on ${EVENTS.toLocaleString('en')} events: the server keeps answering meanwhile`, async (t) => {
      const h = await createTestApp(t);
      bigLog(h);
      const token = await h.tokenFor('auditor');
      const slow = h.request('GET', path, { token });
      const answered = await answeredDuring(h, slow);
      const r = await slow;
      assert.equal(r.status, 200, r.text);
      if (path.includes('verify')) assert.equal(r.body.ok, true);
      else assert.equal(r.body.seq, EVENTS - 1);
      assert.ok(answered >= 5, `only ${answered} health checks were answered while the read ran`);
    });
  }
});
