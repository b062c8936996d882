/**
 * Parses Mosquitto 2.0 connection log lines into connect / disconnect events. Mosquitto 2.0 has
 * no query for connected clients, so everyone rebuilds the set from these lines (reference §5,
 * §9). The formats are the broker's own (src/handle_connect.c, src/loop.c `do_disconnect`,
 * 2.0.11) and were checked against the installed broker:
 *
 *   New client connected from 127.0.0.1:50978 as dev (a) 1 (p2, c1, k60, u'alice').
 *   New client connected from ::1:56118 as v5 client (p5, c0, k30).            (IPv6, no brackets)
 *   New client connected from ::ffff:127.0.0.1:58278 as ws (p2, c1, k60, u'o'brien').  (websockets)
 *   Client dev (a) 1 disconnected.  ·  Client x closed its connection.
 *   Client x has exceeded timeout, disconnecting.  ·  Client x already connected, closing old connection.
 *   Client x disconnected, not authorised.  ·  Socket error on client x, disconnecting.
 *   Client <unknown> disconnected, not authorised.   (a refused login: never connected)
 *
 * Client ids and usernames may hold spaces, parentheses and quotes, so every pattern is anchored
 * at both ends and the variable parts are matched greedily between fixed delimiters: the address
 * has no space (it ends at the last `:<port>` before " as "), the id runs to the last " (p",
 * the username to the final "')." of the line.
 */
import { parseBrokerLogLine } from '../mosquitto/broker-log.ts';

export type ConnectEvent = Readonly<{
  kind: 'connected';
  clientId: string;
  username: string | null;
  address: string;
  port: number;
  /** Mosquitto's protocol enum (`pN`): 1 MQTT v3.1, 2 v3.1.1, 3 MQTT-SN, 5 v5 (mosquitto.h). */
  protocolLevel: number;
  protocol: string;
  keepalive: number;
  clean: boolean;
  bridge: boolean;
}>;

export type DisconnectEvent = Readonly<{ kind: 'disconnected'; clientId: string; reason: string }>;

/** The broker process started or stopped: every connection it had is gone. */
export type BrokerLifecycleEvent = Readonly<{ kind: 'broker_started' | 'broker_stopped'; version: string }>;

export type ConnectionEvent = ConnectEvent | DisconnectEvent | BrokerLifecycleEvent;

/** `enum mosquitto__protocol` in mosquitto 2.0 (lib/mosquitto_internal.h): not the CONNECT version byte. */
export const protocolName = (level: number): string => {
  switch (level) {
    case 1: return 'mqtt v3.1';
    case 2: return 'mqtt v3.1.1';
    case 3: return 'mqtt-sn';
    case 5: return 'mqtt v5';
    default: return `unknown (p${level})`;
  }
};

const CONNECTED = /^New (client|bridge) connected from (\S+):(\d+) as (.+) \(p(\d+), c([01]), k(\d+)(?:, u'(.*)')?\)\.$/s;

/** Suffixes of `Client <id> …` lines and the reason each stands for (src/loop.c, 2.0.11). */
const CLIENT_SUFFIXES: readonly (readonly [string, string])[] = [
  [' disconnected.', 'disconnected'],
  [' closed its connection.', 'connection closed'],
  [' disconnected, not authorised.', 'not authorised'],
  [' disconnected, no longer authorised.', 'no longer authorised'],
  [' has exceeded timeout, disconnecting.', 'keepalive timeout'],
  [' already connected, closing old connection.', 'taken over by a new connection'],
  [' been disconnected by administrative action.', 'administrative action'],
  [' disconnected due to malformed packet.', 'malformed packet'],
  [' disconnected due to protocol error.', 'protocol error'],
  [' disconnected due to oversize packet.', 'oversize packet'],
  [' disconnected due to oversize payload.', 'oversize payload'],
  [' disconnected due to out of memory.', 'out of memory'],
  [' disconnected due to QoS too high or retain not supported.', 'qos or retain not supported'],
];

const SOCKET_ERROR = /^Socket error on client (.+), disconnecting\.$/s;
const LIFECYCLE = /^mosquitto version (\S+) (starting|terminating)$/;

/** What the broker prints for a client it never identified (a refused CONNECT). */
export const UNKNOWN_CLIENT = '<unknown>';

/** Parses the message part of a line (after the timestamp); null for every other line. */
export const parseConnectionMessage = (message: string): ConnectionEvent | null => {
  const first = message.charCodeAt(0);
  if (first === 78 /* N */) {
    const m = CONNECTED.exec(message);
    if (!m) return null;
    const level = Number(m[5]);
    return {
      kind: 'connected',
      bridge: m[1] === 'bridge',
      address: m[2] as string,
      port: Number(m[3]),
      clientId: m[4] as string,
      protocolLevel: level,
      protocol: protocolName(level),
      clean: m[6] === '1',
      keepalive: Number(m[7]),
      username: m[8] ?? null,
    };
  }
  if (first === 67 /* C */ && message.startsWith('Client ')) {
    for (const [suffix, reason] of CLIENT_SUFFIXES) {
      if (message.length > 7 + suffix.length && message.endsWith(suffix)) {
        const clientId = message.slice(7, message.length - suffix.length);
        return clientId === UNKNOWN_CLIENT ? null : { kind: 'disconnected', clientId, reason };
      }
    }
    return null;
  }
  if (first === 83 /* S */) {
    const m = SOCKET_ERROR.exec(message);
    if (!m || m[1] === UNKNOWN_CLIENT) return null;
    return { kind: 'disconnected', clientId: m[1] as string, reason: 'socket error' };
  }
  if (first === 109 /* m */) {
    const m = LIFECYCLE.exec(message);
    if (!m) return null;
    return { kind: m[2] === 'starting' ? 'broker_started' : 'broker_stopped', version: m[1] as string };
  }
  return null;
};

/**
 * Parses a whole log line: the supervised broker's `%Y-%m-%dT%H:%M:%S: ` prefix, the default
 * epoch-seconds prefix of a log file, a `$SYS/broker/log/N` payload, or another
 * log_timestamp_format (free-form) that ends at the line's first ": ".
 * Only the text right after the timestamp is parsed, anchored at both ends: log lines carry
 * client-controlled text (client ids, topics in subscribe lines), which must never be read as a
 * line of its own.
 */
export const parseConnectionLine = (line: string): ConnectionEvent | null => {
  const raw = line.endsWith('\n') ? line.trimEnd() : line;
  const parsed = parseBrokerLogLine(raw, 0);
  const direct = parseConnectionMessage(parsed.message);
  if (direct || parsed.time !== null) return direct;
  // No known timestamp: either none at all (parsed above) or a custom one ending at the first ": ".
  const colon = raw.indexOf(': ');
  return colon > 0 && colon < 64 ? parseConnectionMessage(raw.slice(colon + 2)) : null;
};
