/**
 * The dashboard's message chart (issue 12): PUBLISH packets, not every MQTT packet. Mosquitto's
 * `$SYS/broker/messages/*` count CONNECT, PINGREQ and the rest too (reference §5); the chart
 * uses the `figures` the observer derives from `$SYS/broker/publish/messages/*`, with its own
 * copies left out (adapters/mqtt/sys-stats.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EMPTY_BROKER_VIEW, fromStatus, withBrokerStats, withSnapshot, type StatusResponse } from '../../ui/data/broker-view.ts';
import { createRateSeries, MESSAGE_COUNTERS } from '../../ui/data/rate-series.ts';

/** What the dashboard feeds the series (rateCounters): the $SYS values with the figures beside them. */
const rateCounters = (values: Record<string, number>, figures: Record<string, number>): Record<string, number> => ({ ...values, ...figures });

describe('dashboard PUBLISH rates', () => {
  it('charts the PUBLISH figures: connects and pings move $SYS messages/* but not the chart [ref §5]', () => {
    const s = createRateSeries(MESSAGE_COUNTERS);
    s.sample(0, rateCounters({ 'messages/received': 100, 'messages/sent': 100 }, { publish_received: 10, publish_sent: 4, clients_connected: 1 }));
    // Ten clients connected, pinged and left: every packet counted, no PUBLISH.
    s.sample(10_000, rateCounters({ 'messages/received': 150, 'messages/sent': 130 }, { publish_received: 10, publish_sent: 4, clients_connected: 1 }));
    assert.deepEqual(s.latest()?.rates, [0, 0]);
    // Then 50 publishes, each delivered to 2 subscribers.
    s.sample(20_000, rateCounters({ 'messages/received': 200, 'messages/sent': 230 }, { publish_received: 60, publish_sent: 104, clients_connected: 1 }));
    assert.deepEqual(s.latest()?.rates, [5, 10]);
    assert.deepEqual([...MESSAGE_COUNTERS], ['publish_received', 'publish_sent']);
  });

  it('keeps the figures from GET /status, the ws snapshot and broker_stats', () => {
    const status = {
      broker: { mode: 'external', up: true, version: 'mosquitto version 2.0.11', uptime_s: 5 },
      stats: { values: { uptime: 5 }, figures: { publish_received: 3, publish_sent: 0, clients_connected: 2 }, updated_at: 'U' },
      observer: null, clients: null, topics: null,
      apply: { desired_seq: 0, applied_seq: 0, state: 'applied', last: null, broker: { mode: 'external', up: true } },
    } as StatusResponse;
    let v = fromStatus(status);
    assert.deepEqual(v.figures, { publish_received: 3, publish_sent: 0, clients_connected: 2 });
    v = withSnapshot(EMPTY_BROKER_VIEW, { type: 'snapshot', stats: { values: {}, figures: { publish_received: 4, publish_sent: 1, clients_connected: 0 }, updated_at: 'V' } });
    assert.deepEqual(v.figures, { publish_received: 4, publish_sent: 1, clients_connected: 0 });
    v = withBrokerStats(v, { type: 'broker_stats', stats: { uptime: 9 }, figures: { publish_received: 9, publish_sent: 2, clients_connected: 3 }, at: 'A' });
    assert.deepEqual(v.figures, { publish_received: 9, publish_sent: 2, clients_connected: 3 });
  });
});
