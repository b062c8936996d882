/**
 * adapters/mqtt/sys-stats.ts figures (issue 12): PUBLISH counts with MCM's observer's own copies
 * taken out of `publish/messages/sent`, and `clients/connected` minus MCM's own connections.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLiveBus } from '../../adapters/live/live-bus.ts';
import { createSysStats } from '../../adapters/mqtt/sys-stats.ts';

const msg = (key: string, v: number): [string, Buffer] => [`$SYS/broker/${key}`, Buffer.from(String(v))];

describe('sys-stats figures', () => {
  it('publish_sent: the counter minus the observer\'s share, from 0 at the first sample, a new baseline on a restart', () => {
    let own = 0;
    const s = createSysStats({ bus: createLiveBus(), ownConnections: () => own });
    assert.deepEqual(s.snapshot().figures, { publish_received: null, publish_sent: null, clients_connected: null });
    s.handle(...msg('publish/messages/sent', 500), 40);
    assert.equal(s.snapshot().figures.publish_sent, 0);
    // 30 more sent, 12 of them to the observer.
    s.handle(...msg('publish/messages/sent', 530), 52);
    assert.equal(s.snapshot().figures.publish_sent, 18);
    // A copy for the observer counted after the read shows up first: held, never backwards.
    s.handle(...msg('publish/messages/sent', 531), 54);
    assert.equal(s.snapshot().figures.publish_sent, 18);
    s.handle(...msg('publish/messages/sent', 540), 55);
    assert.equal(s.snapshot().figures.publish_sent, 25);
    // The broker restarted: the counter went back.
    s.handle(...msg('publish/messages/sent', 3), 60);
    assert.equal(s.snapshot().figures.publish_sent, 0);
    s.handle(...msg('publish/messages/received', 7));
    s.handle(...msg('clients/connected', 5));
    own = 2;
    assert.deepEqual(s.snapshot().figures, { publish_received: 7, publish_sent: 0, clients_connected: 3 });
    own = 9;
    assert.equal(s.snapshot().figures.clients_connected, 0, 'never below zero');
  });
});
