/** ui/data/rate-series.ts: rates from the broker's cumulative $SYS counters, for the dashboard charts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRateSeries, MESSAGE_COUNTERS } from '../../ui/data/rate-series.ts';

describe('ui/data rate-series', () => {
  it('turns two counter samples into a rate per second per key', () => {
    const s = createRateSeries(MESSAGE_COUNTERS);
    assert.equal(s.sample(10_000, { 'messages/received': 100, 'messages/sent': 50 }), false, 'the first sample is only a baseline');
    assert.equal(s.latest(), null);
    assert.equal(s.sample(20_000, { 'messages/received': 150, 'messages/sent': 70 }), true);
    assert.deepEqual(s.latest(), { t: 20_000, rates: [5, 2] });
    assert.deepEqual(s.data(), [[20], [5], [2]]);
  });

  it('ignores a repeated or older sample and samples without any of the counters', () => {
    const s = createRateSeries(MESSAGE_COUNTERS);
    s.sample(10_000, { 'messages/received': 100 });
    assert.equal(s.sample(10_000, { 'messages/received': 100 }), false, 'GET /status and the snapshot can carry the same sample');
    assert.equal(s.sample(5_000, { 'messages/received': 90 }), false);
    assert.equal(s.sample(15_000, { version: 'mosquitto version 2.0.11' }), false);
    assert.equal(s.size(), 0);
    assert.equal(s.sample(12_000, { 'messages/received': 110 }), true);
    assert.deepEqual(s.data(), [[12], [5], [null]], 'a key missing from the samples is a gap, not zero');
  });

  it('a counter that went down (broker restart) is a gap and a new baseline, never a negative rate', () => {
    const s = createRateSeries(['bytes/received']);
    s.sample(0, { 'bytes/received': 1000 });
    s.sample(10_000, { 'bytes/received': 2000 });
    s.sample(20_000, { 'bytes/received': 30 });
    s.sample(30_000, { 'bytes/received': 1030 });
    assert.deepEqual(s.data(), [[10, 20, 30], [100, null, 100]]);
  });

  it('keeps the last `capacity` points in order', () => {
    const s = createRateSeries(['messages/received'], 3);
    for (let i = 0; i <= 5; i++) s.sample(i * 1000, { 'messages/received': i * i });
    assert.equal(s.size(), 3);
    assert.deepEqual(s.data(), [[3, 4, 5], [5, 7, 9]]);
    assert.deepEqual(s.latest(), { t: 5000, rates: [9] });
    assert.throws(() => createRateSeries(['x'], 0), /capacity/);
  });
});
