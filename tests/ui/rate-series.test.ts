/** ui/data/rate-series.ts: rates from the broker's cumulative $SYS counters, for the dashboard charts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRateSeries } from '../../ui/data/rate-series.ts';

/** Any two cumulative counters (the series is generic; the dashboard's keys are in publish-rates.test.ts). */
const KEYS = ['messages/received', 'messages/sent'];

describe('ui/data rate-series', () => {
  it('turns two counter samples into a rate per second per key', () => {
    const s = createRateSeries(KEYS);
    assert.equal(s.sample(10_000, { 'messages/received': 100, 'messages/sent': 50 }), false, 'the first sample is only a baseline');
    assert.equal(s.latest(), null);
    assert.equal(s.sample(20_000, { 'messages/received': 150, 'messages/sent': 70 }), true);
    assert.deepEqual(s.latest(), { t: 20_000, rates: [5, 2] });
    assert.deepEqual(s.data(), [[20], [5], [2]]);
  });

  it('ignores a repeated or older sample and samples without any of the counters', () => {
    const s = createRateSeries(KEYS);
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

  it('a $SYS burst split over two samples a second apart is one point with the rate over the whole interval', () => {
    const s = createRateSeries(KEYS);
    s.sample(0, { 'messages/received': 100, 'messages/sent': 100 });
    // 10 s later: the uptime arrives first (counters still the old values), the counters a second after.
    assert.equal(s.sample(10_000, { 'messages/received': 100, 'messages/sent': 100 }), true);
    assert.deepEqual(s.latest(), { t: 10_000, rates: [0, 0] });
    assert.equal(s.sample(11_000, { 'messages/received': 210, 'messages/sent': 155 }), true);
    assert.equal(s.size(), 1);
    assert.deepEqual(s.latest(), { t: 11_000, rates: [10, 5] });
    s.sample(20_000, { 'messages/received': 210, 'messages/sent': 155 });
    s.sample(21_000, { 'messages/received': 310, 'messages/sent': 255 });
    assert.deepEqual(s.data(), [[11, 21], [10, 10], [5, 10]]);
  });

  it('the same values again within a second (GET /status, then the push of that update) add no point', () => {
    const s = createRateSeries(KEYS);
    s.sample(0, { 'messages/received': 1, 'messages/sent': 1 });
    assert.equal(s.sample(800, { 'messages/received': 1, 'messages/sent': 1 }), false);
    assert.equal(s.sample(10_000, { 'messages/received': 11, 'messages/sent': 21 }), true);
    assert.deepEqual(s.data(), [[10], [1], [2]]);
  });

  it('keeps the last `capacity` points in order', () => {
    const s = createRateSeries(['messages/received'], 3);
    for (let i = 0; i <= 5; i++) s.sample(i * 10_000, { 'messages/received': i * i * 10 });
    assert.equal(s.size(), 3);
    assert.deepEqual(s.data(), [[30, 40, 50], [5, 7, 9]]);
    assert.deepEqual(s.latest(), { t: 50_000, rates: [9] });
    assert.throws(() => createRateSeries(['x'], 0), /capacity/);
  });
});
