/**
 * `$SYS` values parsed to numbers (reference §5), kept after 2.0.11 stops re-sending them, and
 * pushed as `broker_stats` at most once per throttle period.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLiveBus, type LiveMessage } from '../../adapters/live/live-bus.ts';
import { createSysStats, HISTORY_MS, parseStatValue } from '../../adapters/mqtt/sys-stats.ts';

const b = (s: string): Buffer => Buffer.from(s);

describe('parseStatValue [ref §5]', () => {
  it('turns uptime "N seconds" into N, counters and load averages into numbers, and keeps the version as text', () => {
    assert.equal(parseStatValue('uptime', '341 seconds'), 341);
    assert.equal(parseStatValue('clients/connected', '3'), 3);
    assert.equal(parseStatValue('load/messages/received/1min', '12.57'), 12.57);
    assert.equal(parseStatValue('version', 'mosquitto version 2.0.11'), 'mosquitto version 2.0.11');
    assert.equal(parseStatValue('timestamp', 'Tue, 11 Jan 2022'), 'Tue, 11 Jan 2022');
  });
});

describe('createSysStats', () => {
  it('keeps the last value of every key, including ones the broker stopped sending', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    let now = 1_000_000;
    const stats = createSysStats({ bus: createLiveBus(), now: () => now });
    stats.handle('$SYS/broker/version', b('mosquitto version 2.0.11'));
    stats.handle('$SYS/broker/uptime', b('12 seconds'));
    stats.handle('$SYS/broker/retained messages/count', b('4'));
    stats.handle('$SYS/broker/log/N', b('2026-01-01T00:00:00: New client connected …'));
    stats.handle('plant/temp', b('21'));
    now += 120_000; // longer than the 60 s expiry of 2.0.11: nothing re-sent, nothing forgotten
    const s = stats.snapshot();
    assert.equal(s.version, 'mosquitto version 2.0.11');
    assert.equal(s.uptime_s, 12);
    assert.deepEqual(s.values, { version: 'mosquitto version 2.0.11', uptime: 12, 'retained messages/count': 4 });
    stats.stop();
  });

  it('keeps the counters of every push for 15 minutes, oldest first, and forgets them for another broker (issue 16)', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    let now = 1_000_000;
    // One push per $SYS burst here (flush); a long throttle keeps the two keys in one push.
    const stats = createSysStats({ bus: createLiveBus(), now: () => now, throttleMs: 60_000 });
    for (let i = 1; i <= 100; i++) {
      stats.handle('$SYS/broker/bytes/received', b(String(i * 100)));
      stats.handle('$SYS/broker/clients/connected', b(String(i))); // not a rate counter: not kept
      stats.flush();
      now += 10_000; // Mosquitto's sys_interval
    }
    const all = stats.history();
    // 100 pushes over 1,000 s: those of the last 900 s are kept.
    assert.equal(all.length, HISTORY_MS / 10_000);
    assert.deepEqual(all.map((h) => h.values['bytes/received']), Array.from({ length: 90 }, (_, i) => (i + 11) * 100), 'oldest first, the oldest dropped');
    assert.deepEqual(Object.keys(all[0]?.values ?? {}), ['bytes/received']);
    assert.ok(all.every((h) => typeof h.at === 'string' && 'publish_received' in h.figures));
    assert.equal(stats.history(60_000).length, 6, 'the last minute only');
    stats.reset();
    assert.deepEqual(stats.history(), []);
    stats.stop();
  });

  it('pushes broker_stats at most once per throttle period, with the latest values', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    let now = 1_000_000;
    const bus = createLiveBus();
    const pushed: LiveMessage[] = [];
    bus.subscribe((m) => pushed.push(m), ['broker_stats']);
    const stats = createSysStats({ bus, now: () => now, throttleMs: 1000 });
    stats.handle('$SYS/broker/clients/connected', b('1'));
    assert.equal(pushed.length, 1, 'the first change goes out at once');
    stats.handle('$SYS/broker/clients/connected', b('2'));
    stats.handle('$SYS/broker/clients/connected', b('3'));
    assert.equal(pushed.length, 1);
    now += 1000;
    t.mock.timers.tick(1000);
    assert.equal(pushed.length, 2);
    assert.ok(pushed[1]?.type === 'broker_stats');
    assert.equal(pushed[1].stats['clients/connected'], 3);
    stats.handle('$SYS/broker/clients/connected', b('3'));
    now += 5000;
    t.mock.timers.tick(5000);
    assert.equal(pushed.length, 2, 'an unchanged value pushes nothing');
    stats.stop();
  });

  it('says when uptime goes backwards (the broker restarted)', () => {
    let restarts = 0;
    const stats = createSysStats({ bus: createLiveBus(), onRestart: () => { restarts++; } });
    stats.handle('$SYS/broker/uptime', b('100 seconds'));
    stats.handle('$SYS/broker/uptime', b('102 seconds'));
    stats.handle('$SYS/broker/uptime', b('1 seconds'));
    assert.equal(restarts, 1);
    stats.stop();
  });
});
