/** ui/data/broker-view.ts: the dashboard's broker picture from GET /status and the live stream. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { brokerVersion, EMPTY_BROKER_VIEW, fromStatus, statNumber, sysFigure, SYS_FIGURE_ROWS, withApplyStatus, withBrokerStats, withBrokerStatus, withSnapshot, type StatusResponse } from '../../ui/data/broker-view.ts';

const APPLY = { desired_seq: 3, applied_seq: 3, state: 'applied', last: { seq: 3, result: 'applied', latency_ms: 12, at: '2026-01-01T00:00:00.000Z' }, broker: { mode: 'supervised', up: true } } as const;
const STATUS: StatusResponse = {
  broker: { mode: 'supervised', up: true, version: 'mosquitto version 2.0.11', uptime_s: 10 },
  stats: { values: { 'clients/connected': 2, version: 'mosquitto version 2.0.11' }, updated_at: '2026-01-01T00:00:01.000Z' },
  observer: { state: 'up', connected: true, since: '2026-01-01T00:00:00.000Z', reason: null },
  clients: { connected: 2, overflow: 0, log_source: 'broker-log' },
  topics: { topics: 1, max_topics: 10, evicted: 0, messages: 3, bytes: 9 },
  apply: APPLY,
};

describe('ui/data broker-view', () => {
  it('builds from GET /status', () => {
    const v = fromStatus(STATUS);
    assert.deepEqual([v.up, v.mode, v.version, v.uptimeS, v.statsAt, v.apply?.state], [true, 'supervised', 'mosquitto version 2.0.11', 10, '2026-01-01T00:00:01.000Z', 'applied']);
    assert.equal(statNumber(v, 'clients/connected'), 2);
    assert.equal(statNumber(v, 'version'), null);
    assert.equal(fromStatus({ ...STATUS, stats: null, observer: null, broker: { ...STATUS.broker, up: null } }).up, null);
  });

  it('follows the snapshot, broker_status, broker_stats and apply_status', () => {
    let v = withSnapshot(EMPTY_BROKER_VIEW, {
      type: 'snapshot',
      status: { broker: { up: true, version: 'v2', uptime_s: 5, since: 'S', reason: null }, topics: STATUS.topics, apply: APPLY },
      stats: { values: { uptime: 5 }, updated_at: 'U' },
    });
    assert.deepEqual([v.up, v.version, v.uptimeS, v.since, v.statsAt, v.apply?.applied_seq], [true, 'v2', 5, 'S', 'U', 3]);
    v = withBrokerStatus(v, { type: 'broker_status', up: false, reason: 'connection refused', at: 'T' });
    assert.deepEqual([v.up, v.reason, v.since], [false, 'connection refused', 'T']);
    v = withBrokerStatus(v, { type: 'broker_status', up: true, at: 'T2' });
    assert.deepEqual([v.up, v.reason], [true, null]);
    v = withBrokerStats(v, { type: 'broker_stats', stats: { uptime: 20, version: 'v3', 'messages/received': 7 }, at: 'A' });
    assert.deepEqual([v.uptimeS, v.version, v.statsAt, statNumber(v, 'messages/received')], [20, 'v3', 'A', 7]);
    assert.equal(withBrokerStats(v, { type: 'broker_stats' }), v);
    v = withApplyStatus(v, { type: 'apply_status', status: { ...APPLY, state: 'failed', desired_seq: 4 } });
    assert.equal(v.apply?.state, 'failed');
    assert.equal(withApplyStatus(v, { type: 'apply_status' }), v);
  });

  it('shows the broker version from $SYS, else from the apply status (issue 11)', () => {
    assert.equal(brokerVersion(fromStatus(STATUS)), 'mosquitto version 2.0.11');
    const noSys = fromStatus({ ...STATUS, broker: { ...STATUS.broker, version: null }, apply: { ...APPLY, broker: { ...APPLY.broker, version: '2.1.2' } } });
    assert.equal(brokerVersion(noSys), 'mosquitto version 2.1.2');
    assert.equal(brokerVersion(EMPTY_BROKER_VIEW), null);
  });
});

describe('the broker figures on the dashboard (issue 16)', () => {
  it('reads each from $SYS, connected clients without MCM\'s own, null before the broker said', () => {
    const v = { ...EMPTY_BROKER_VIEW, stats: { 'clients/connected': 5, 'subscriptions/count': 12, 'retained messages/count': 3 }, figures: { publish_received: null, publish_sent: null, clients_connected: 3 } };
    assert.equal(sysFigure(v, 'clients/connected'), 3, "MCM's own connections left out");
    assert.equal(sysFigure(v, 'subscriptions/count'), 12);
    assert.equal(sysFigure(v, 'retained messages/count'), 3);
    assert.equal(sysFigure(v, 'publish/messages/dropped'), null);
    assert.equal(sysFigure({ ...v, figures: { ...v.figures, clients_connected: null } }, 'clients/connected'), 5);
    for (const row of SYS_FIGURE_ROWS) assert.match(row.meaning, new RegExp(`^\\$SYS/broker/${row.key.replace('/', '\\/')}: .{20,}`), row.label);
  });
});

