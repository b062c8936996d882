/** ui/data/format.ts and roles.ts: what the screens print. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatAgo, formatBytes, formatCount, formatDuration, formatLatency, formatRate, formatTime, prettyJson, truncate } from '../../ui/data/format.ts';
import { needsRole, roleAtLeast } from '../../ui/data/roles.ts';

describe('ui/data format', () => {
  it('formats bytes, counts, rates, durations and latencies; unknown values are a dash', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(50 * 1024 * 1024), '50 MiB');
    assert.equal(formatBytes(null), '—');
    assert.equal(formatCount(1234567), '1,234,567');
    assert.equal(formatRate(0.25), '0.25/s');
    assert.equal(formatRate(1234), '1.2k/s');
    assert.equal(formatRate(Number.NaN), '—');
    assert.equal(formatDuration(3725), '1h 2m 5s');
    assert.equal(formatDuration(90061), '1d 1h 1m');
    assert.equal(formatDuration(-1), '—');
    assert.equal(formatLatency(25.4), '25 ms');
    assert.equal(formatLatency(1500), '1.50 s');
  });

  it('formats times in UTC and relative to now', () => {
    const now = Date.parse('2026-11-25T12:00:00Z');
    assert.equal(formatTime('2026-11-25T11:59:00.123Z'), '2026-11-25 11:59:00Z');
    assert.equal(formatAgo('2026-11-25T11:59:48Z', now), '12 s ago');
    assert.equal(formatAgo('2026-11-25T11:57:00Z', now), '3 min ago');
    assert.equal(formatAgo('2026-11-20T11:57:00Z', now), '2026-11-20 11:57:00Z');
    assert.equal(formatAgo('garbage', now), '—');
  });

  it('pretty-prints JSON payloads only, and truncates without splitting characters', () => {
    assert.equal(prettyJson('{"a":1}'), '{\n  "a": 1\n}');
    assert.equal(prettyJson('21.5'), null);
    assert.equal(prettyJson('{broken'), null);
    assert.equal(truncate('abcdef', 4), 'abc…');
    assert.equal(truncate('😀😀😀', 2), '😀…');
    assert.equal(truncate('ab', 4), 'ab');
  });

  it('orders roles viewer < auditor < operator < admin and explains a missing one', () => {
    assert.equal(roleAtLeast('operator', 'auditor'), true);
    assert.equal(roleAtLeast('auditor', 'operator'), false);
    assert.equal(roleAtLeast(null, 'viewer'), false);
    assert.equal(needsRole('admin', 'operator'), null);
    assert.equal(needsRole('viewer', 'operator'), 'needs the operator role (you are viewer)');
  });
});
