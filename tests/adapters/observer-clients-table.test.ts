/**
 * The clients table (reference §5: rebuilt from connection log lines): live connections,
 * recent disconnects with reasons, live pushes, probe clients left out (DESIGN §6), emptied when
 * the broker restarts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLiveBus, type LiveMessage } from '../../adapters/live/live-bus.ts';
import { createClientsTable } from '../../adapters/observer/clients-table.ts';

const setup = (recentLimit?: number) => {
  const bus = createLiveBus();
  const pushed: LiveMessage[] = [];
  bus.subscribe((m) => pushed.push(m));
  let n = 0;
  const clock = { now: () => new Date(Date.UTC(2026, 0, 1, 0, 0, n++)).toISOString() };
  const table = createClientsTable({ bus, clock, ...(recentLimit === undefined ? {} : { recentLimit }) });
  return { table, pushed };
};

const CONNECT_A = "2026-11-25T04:34:23: New client connected from 127.0.0.1:50978 as dev (a) 1 (p2, c1, k60, u'alice').";
const CONNECT_B = '2026-11-25T04:34:23: New client connected from ::1:56118 as v5 client (p5, c0, k30).';

describe('clients table', () => {
  it('adds a client on its connect line and pushes client_connected', () => {
    const { table, pushed } = setup();
    assert.equal(table.ingestLine(CONNECT_A), true);
    assert.deepEqual(table.list(), [{
      client_id: 'dev (a) 1', username: 'alice', address: '127.0.0.1', port: 50978, protocol: 'mqtt v3.1.1',
      keepalive: 60, clean: true, connected_at: '2026-01-01T00:00:00.000Z', bridge: false,
    }]);
    assert.equal(pushed.length, 1);
    assert.equal(pushed[0]?.type, 'client_connected');
    assert.ok(pushed[0]?.type === 'client_connected');
    assert.equal(pushed[0].client.client_id, 'dev (a) 1');
  });

  it('removes it on its disconnect line, remembers why, and pushes client_disconnected', () => {
    const { table, pushed } = setup();
    table.ingestLine(CONNECT_A);
    table.ingestLine(CONNECT_B);
    table.ingestLine('2026-11-25T04:34:24: Client v5 client closed its connection.');
    assert.deepEqual(table.list().map((c) => c.client_id), ['dev (a) 1']);
    assert.deepEqual(table.recent().map((r) => [r.client_id, r.reason, r.address]), [['v5 client', 'connection closed', '::1']]);
    const last = pushed.at(-1);
    assert.deepEqual(last, { type: 'client_disconnected', client_id: 'v5 client', username: null, reason: 'connection closed', at: '2026-01-01T00:00:02.000Z' });
  });

  it('records a session take-over and keeps the new connection', () => {
    const { table } = setup();
    table.ingestLine("New client connected from 127.0.0.1:1 as dup (p1, c1, k60).");
    table.ingestLine('Client dup already connected, closing old connection.');
    table.ingestLine("New client connected from 127.0.0.1:2 as dup (p2, c1, k60).");
    assert.deepEqual(table.list().map((c) => [c.client_id, c.port, c.protocol]), [['dup', 2, 'mqtt v3.1.1']]);
    assert.deepEqual(table.recent().map((r) => [r.client_id, r.port, r.reason]), [['dup', 1, 'taken over by a new connection']]);
  });

  it('ignores disconnects of clients it never saw (refused logins) and pushes nothing for them', () => {
    const { table, pushed } = setup();
    table.ingestLine('Client ghost disconnected.');
    assert.deepEqual([table.size(), table.recent().length, pushed.length], [0, 0, 0]);
  });

  it("leaves MCM's probe clients out (DESIGN §6)", () => {
    const { table, pushed } = setup();
    table.ingestLine("New client connected from 127.0.0.1:3 as mcm-probe-0a1b2c (p5, c1, k30, u'mcm-service').");
    table.ingestLine('Client mcm-probe-0a1b2c disconnected.');
    assert.deepEqual([table.size(), table.recent().length, pushed.length], [0, 0, 0]);
  });

  it('empties the table when the broker starts again: every connection died with it', () => {
    const { table, pushed } = setup();
    table.ingestLine(CONNECT_A);
    table.ingestLine(CONNECT_B);
    table.ingestLine('2026-11-25T05:00:00: mosquitto version 2.0.11 starting');
    assert.equal(table.size(), 0);
    assert.deepEqual(pushed.filter((m) => m.type === 'client_disconnected').map((m) => m.type === 'client_disconnected' && m.reason), ['broker restarted', 'broker restarted']);
  });

  it('updates silently when replaying history, with the time the line gives', () => {
    const { table, pushed } = setup();
    table.ingestLine(CONNECT_A, { silent: true, at: '2025-12-31T23:00:00.000Z' });
    assert.equal(pushed.length, 0);
    assert.equal(table.get('dev (a) 1')?.connected_at, '2025-12-31T23:00:00.000Z');
  });

  it('keeps a bounded list of recent disconnects, newest first', () => {
    const { table } = setup(2);
    for (const id of ['c1', 'c2', 'c3']) {
      table.ingestLine(`New client connected from 127.0.0.1:1 as ${id} (p2, c1, k60).`);
      table.ingestLine(`Client ${id} disconnected.`);
    }
    assert.deepEqual(table.recent().map((r) => r.client_id), ['c3', 'c2']);
  });
});
