/**
 * The ws snapshot built from the observing side (DESIGN §7: on connect, status, stats and clients
 * come first).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLiveBus } from '../../adapters/live/live-bus.ts';
import { createObserverApi, observerSnapshot } from '../../adapters/mqtt/observer-api.ts';
import { createClientsTable } from '../../adapters/observer/clients-table.ts';
import { createTopicTree } from '../../adapters/observer/topic-tree.ts';

describe('observerSnapshot', () => {
  it('carries the broker state, the $SYS values and the connected clients', () => {
    const clients = createClientsTable({ bus: createLiveBus(), clock: { now: () => '2026-01-01T00:00:00.000Z' } });
    clients.ingestLine("New client connected from ::1:5000 as sensor 1 (p5, c1, k30, u'alice').");
    const api = createObserverApi({
      observer: {
        connected: () => true,
        publish: async () => {},
        statsHistory: () => [],
        stats: () => ({ version: 'mosquitto version 2.0.11', uptime_s: 42, values: { uptime: 42, 'clients/connected': 2 }, figures: { publish_received: null, publish_sent: null, clients_connected: 1 }, updated_at: '2026-01-01T00:00:00.000Z' }),
        status: () => ({ state: 'up', connected: true, since: '2026-01-01T00:00:00.000Z', reason: null, client_id: 'mcm-observer-x', broker: 'mqtt://127.0.0.1:1883', reconnects: 0, messages: 0, bytes: 0, processor_failures: {} }),
      },
      clients,
      topics: createTopicTree({ maxTopics: 10, historyDepth: 0 }),
      logSource: 'broker-log',
    });
    const s = observerSnapshot(api);
    assert.deepEqual(s.status['broker'], { up: true, version: 'mosquitto version 2.0.11', uptime_s: 42, since: '2026-01-01T00:00:00.000Z', reason: null });
    assert.deepEqual(s.stats, { values: { uptime: 42, 'clients/connected': 2 }, figures: { publish_received: null, publish_sent: null, clients_connected: 1 }, updated_at: '2026-01-01T00:00:00.000Z' });
    assert.deepEqual(s.clients.map((c) => (c as { client_id: string }).client_id), ['sensor 1']);
  });
});
