/** ui/data/live-clients.ts: the connected-client table and the connect/disconnect feed. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createClientsModel, type ClientRow } from '../../ui/data/live-clients.ts';

const c = (id: string, at = '2026-01-01T00:00:00.000Z'): ClientRow =>
  ({ client_id: id, username: `u-${id}`, address: '127.0.0.1', port: 5000, protocol: 'mqtt v5', keepalive: 60, clean: true, connected_at: at });
const t = (s: number): string => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

describe('ui/data live-clients', () => {
  it('loads, then follows connects and disconnects; the feed is newest first', () => {
    const m = createClientsModel();
    assert.equal(m.loaded(), false);
    m.beginLoad();
    m.finishLoad([c('b'), c('a')], [{ client_id: 'old', username: null, address: null, port: null, reason: 'closed', connected_at: null, disconnected_at: t(1) }]);
    assert.equal(m.loaded(), true);
    assert.deepEqual(m.rows().map((r) => r.client_id), ['a', 'b']);
    m.connected(c('c'), t(5));
    m.disconnected('a', 'u-a', 'keepalive timeout', t(6));
    assert.deepEqual(m.rows().map((r) => r.client_id), ['b', 'c']);
    assert.equal(m.size(), 2);
    // Seeded with the connects of the clients loaded and the recent disconnects, then live.
    assert.deepEqual(m.feed().map((f) => [f.kind, f.client_id, f.reason]), [
      ['disconnected', 'a', 'keepalive timeout'], ['connected', 'c', null], ['disconnected', 'old', 'closed'], ['connected', 'a', null], ['connected', 'b', null],
    ]);
    assert.equal(m.feed()[0]?.address, '127.0.0.1', 'a disconnect keeps the address the table knew');
  });

  it('events that arrive while GET /clients is in flight are replayed on top of its answer', () => {
    const m = createClientsModel();
    m.beginLoad();
    m.connected(c('new'), t(2));
    m.disconnected('gone', null, 'closed', t(3));
    // The answer was computed before both events.
    m.finishLoad([c('gone'), c('stay')], []);
    assert.deepEqual(m.rows().map((r) => r.client_id), ['new', 'stay']);
    assert.deepEqual(m.feed().map((f) => `${f.kind} ${f.client_id}`), ['disconnected gone', 'connected new', 'connected stay', 'connected gone'],
      'replaying adds no duplicate feed entries');
    // A client's own live connect and its connected_at in a later load are one entry.
    m.beginLoad();
    m.finishLoad([c('new', t(2)), c('stay')], []);
    assert.equal(m.feed().length, 4);
  });

  it('a snapshot during a load wins over the older answer', () => {
    const m = createClientsModel();
    m.beginLoad();
    m.snapshot([c('x')]);
    m.connected(c('y'), t(4));
    m.finishLoad([c('stale')], []);
    assert.deepEqual(m.rows().map((r) => r.client_id), ['x', 'y']);
    m.abortLoad();
    m.snapshot([]);
    assert.equal(m.size(), 0);
  });

  it('bounds the feed', () => {
    const m = createClientsModel(3);
    for (let i = 0; i < 10; i++) m.connected(c(`c${i}`), t(i));
    assert.deepEqual(m.feed().map((f) => f.client_id), ['c9', 'c8', 'c7']);
    assert.equal(m.size(), 10);
  });
});
