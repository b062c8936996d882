/**
 * Connection log lines → connect / disconnect events (reference §5, §9: "most parsers break on IPv6
 * addresses, missing usernames and client ids with spaces"). Every line below was printed by the
 * installed mosquitto 2.0.11 (or is its source format, src/loop.c, with the same shape).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConnectionLine, parseConnectionMessage, protocolName } from '../../adapters/mqtt/connection-log.ts';

describe('parseConnectionLine: connects', () => {
  it('reads address, port, client id with spaces and parentheses, protocol, clean, keepalive and username [ref §5]', () => {
    const e = parseConnectionLine("2026-11-25T04:34:23: New client connected from 127.0.0.1:50978 as dev (a) 1 (p2, c1, k60, u'alice').");
    assert.deepEqual(e, {
      kind: 'connected', bridge: false, address: '127.0.0.1', port: 50978, clientId: 'dev (a) 1',
      protocolLevel: 2, protocol: 'mqtt v3.1.1', clean: true, keepalive: 60, username: 'alice',
    });
  });

  it('reads an IPv6 client without a username, persistent session, MQTT v5 (the broker prints no brackets)', () => {
    const e = parseConnectionLine('2026-11-25T04:34:23: New client connected from ::1:56118 as v5 client (p5, c0, k30).');
    assert.deepEqual(e, {
      kind: 'connected', bridge: false, address: '::1', port: 56118, clientId: 'v5 client',
      protocolLevel: 5, protocol: 'mqtt v5', clean: false, keepalive: 30, username: null,
    });
  });

  it('reads a websockets client (IPv4-mapped IPv6 address, no "New connection" line) with a quote in the username', () => {
    const e = parseConnectionLine("2026-11-25T04:34:24: New client connected from ::ffff:127.0.0.1:58278 as wsclient (p2, c1, k60, u'o'brien').");
    assert.equal(e?.kind, 'connected');
    assert.ok(e?.kind === 'connected');
    assert.equal(e.address, '::ffff:127.0.0.1');
    assert.equal(e.port, 58278);
    assert.equal(e.clientId, 'wsclient');
    assert.equal(e.username, "o'brien");
  });

  it('keeps a client id that itself looks like the tail of the line, and one with "as" and colons in it', () => {
    const e = parseConnectionMessage("New client connected from 10.0.0.7:1883 as a as b:1 (p9) (x (p1, c1, k0, u'u (p2, c1, k60)').");
    assert.ok(e?.kind === 'connected');
    assert.equal(e.clientId, 'a as b:1 (p9) (x');
    assert.equal(e.username, 'u (p2, c1, k60)');
    assert.equal(e.protocol, 'mqtt v3.1');
    assert.equal(e.keepalive, 0);
  });

  it('marks bridges', () => {
    const e = parseConnectionMessage("New bridge connected from 192.0.2.1:4000 as edge.bridge (p2, c0, k60, u'bridge').");
    assert.ok(e?.kind === 'connected');
    assert.equal(e.bridge, true);
  });

  it('names the protocol from mosquitto\'s enum, not the CONNECT version byte (p1 v3.1, p2 v3.1.1, p5 v5)', () => {
    assert.equal(protocolName(1), 'mqtt v3.1');
    assert.equal(protocolName(2), 'mqtt v3.1.1');
    assert.equal(protocolName(5), 'mqtt v5');
    assert.equal(protocolName(4), 'unknown (p4)');
  });
});

describe('parseConnectionLine: disconnects', () => {
  const cases: [string, string, string][] = [
    ['Client dev (a) 1 disconnected.', 'dev (a) 1', 'disconnected'],
    ['Client v5 client closed its connection.', 'v5 client', 'connection closed'],
    ['Client ka has exceeded timeout, disconnecting.', 'ka', 'keepalive timeout'],
    ['Client dup already connected, closing old connection.', 'dup', 'taken over by a new connection'],
    ['Client x y disconnected, not authorised.', 'x y', 'not authorised'],
    ['Client z disconnected due to protocol error.', 'z', 'protocol error'],
    ['Socket error on client sensor (7), disconnecting.', 'sensor (7)', 'socket error'],
    // An id that ends like another line's suffix still parses to the whole id.
    ['Client a closed its connection disconnected.', 'a closed its connection', 'disconnected'],
  ];
  for (const [message, clientId, reason] of cases) {
    it(`"${message}" → ${clientId}: ${reason}`, () => {
      assert.deepEqual(parseConnectionLine(`2026-11-25T04:34:23: ${message}`), { kind: 'disconnected', clientId, reason });
    });
  }

  it('ignores refused logins, which the broker prints as <unknown> (never in the table)', () => {
    assert.equal(parseConnectionLine('2026-11-25T04:34:39: Client <unknown> disconnected, not authorised.'), null);
    assert.equal(parseConnectionLine('Socket error on client <unknown>, disconnecting.'), null);
  });
});

describe('parseConnectionLine: other lines and prefixes', () => {
  it('turns the broker starting or stopping into lifecycle events', () => {
    assert.deepEqual(parseConnectionLine('2026-11-25T04:34:14: mosquitto version 2.0.11 starting'), { kind: 'broker_started', version: '2.0.11' });
    assert.deepEqual(parseConnectionLine('1764045254: mosquitto version 2.0.11 terminating'), { kind: 'broker_stopped', version: '2.0.11' });
  });

  it('ignores lines that are not about connections', () => {
    for (const line of [
      '2026-11-25T04:34:23: New connection from 127.0.0.1:50978 on port 18931.',
      '2026-11-25T04:34:23: Sending CONNACK to dev (a) 1 (0, 0)',
      '2026-11-25T04:34:23: sys-watch 0 $SYS/broker/log/#',
      '2026-11-25T04:34:14: Opening ipv6 listen socket on port 18932.',
      'Client',
      '',
    ]) assert.equal(parseConnectionLine(line), null, line);
  });

  it('reads lines with the default epoch prefix (log files), without a prefix, and with a custom strftime prefix', () => {
    const msg = "New client connected from 127.0.0.1:1 as c (p2, c1, k60, u'u').";
    for (const line of [`1764045254: ${msg}`, msg, `Tue Nov 25 04:34:23 2026: ${msg}`, `[2026-11-25 04:34:23]: ${msg}`]) {
      const e = parseConnectionLine(line);
      assert.ok(e?.kind === 'connected', line);
      assert.equal(e.clientId, 'c');
    }
  });

  it('never reads client-controlled text inside another line as a connection line (subscribe lines, will topics)', () => {
    for (const line of [
      // log_type subscribe: "<client id> <qos> <topic>", here with a crafted topic
      '2026-11-25T04:34:23: sneaky 0 a: New client connected from 1.2.3.4:1 as fake (p2, c1, k60).',
      '1764045254: sneaky 0 x: Client victim disconnected.',
      // log_type debug: the will topic on its own line, after a tab
      '2026-11-25T04:34:23: \tNew client connected from 1.2.3.4:1 as fake (p2, c1, k60).',
      'Tue Nov 25 04:34:23 2026: sneaky 0 b: Client victim disconnected.',
    ]) assert.equal(parseConnectionLine(line), null, line);
  });

  it('reads a `$SYS/broker/log/N` payload (log_dest topic), which carries the timestamp too', () => {
    const e = parseConnectionLine('2026-11-25T04:34:23: Client dev (a) 1 disconnected.');
    assert.deepEqual(e, { kind: 'disconnected', clientId: 'dev (a) 1', reason: 'disconnected' });
  });
});
