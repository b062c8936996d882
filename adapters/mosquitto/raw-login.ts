/**
 * One MQTT v5 CONNECT on a bare socket, answered by the broker's CONNACK: the probe's login checks
 * (refused logins, the password file's marker) need only that answer. An mqtt.js client per check
 * costs about half a millisecond of CPU to set up and tear down, four of them per apply, on the
 * path from the reload to "applied" (issue 14). Packet layout: MQTT 5.0 §3.1 (CONNECT) and §3.2
 * (CONNACK); reason codes of 0x80 and above refuse the connection (§3.2.2.2).
 */
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export type LoginOutcome =
  | { kind: 'accepted' }
  | { kind: 'refused'; code: number }
  | { kind: 'unreachable'; message: string }
  | { kind: 'timeout' };

export type RawLoginTarget = Readonly<{
  host: string;
  port: number;
  tls?: Readonly<{ ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean }> | null;
}>;

export type RawCredentials = Readonly<{ clientId: string; username?: string; password?: string }>;

/** Socket errors that mean nothing answers at that address (the probe's login checks too). */
export const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EPIPE']);

/**
 * A UTF-8 string or binary data field: two-byte length, then the bytes (§1.5.4, §1.5.6). Raw
 * bytes are taken as they are (the reliability bench sends invalid UTF-8 on purpose).
 */
export const field = (s: string | Buffer): Buffer => {
  const bytes = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  const out = Buffer.alloc(2 + bytes.length);
  out.writeUInt16BE(bytes.length, 0);
  bytes.copy(out, 2);
  return out;
};

/** Variable byte integer (§1.5.5), the Remaining Length of every packet. */
export const remainingLength = (n: number): Buffer => {
  const out: number[] = [];
  let rest = n;
  do {
    let digit = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) digit |= 0x80;
    out.push(digit);
  } while (rest > 0);
  return Buffer.from(out);
};

/** CONNECT, protocol level 5, clean start, keep alive 30 s, no properties, no will. */
export const connectPacket = (c: RawCredentials): Buffer => {
  const flags = 0x02 | (c.username !== undefined ? 0x80 : 0) | (c.password !== undefined ? 0x40 : 0);
  const body = Buffer.concat([
    field('MQTT'), Buffer.from([5, flags, 0, 30]), remainingLength(0),
    field(c.clientId),
    ...(c.username !== undefined ? [field(c.username)] : []),
    ...(c.password !== undefined ? [field(c.password)] : []),
  ]);
  return Buffer.concat([Buffer.from([0x10]), remainingLength(body.length), body]);
};

/** DISCONNECT, normal disconnection: an accepted check leaves without a "connection lost" line in the broker's log. */
const DISCONNECT = Buffer.from([0xe0, 0x00]);

/**
 * The reason code of a complete CONNACK at the start of `buf`, null while incomplete, or an error
 * when the broker sent something else first.
 */
export const connackReason = (buf: Buffer): number | null | Error => {
  if (buf.length === 0) return null;
  if (buf[0] !== 0x20) return new Error(`expected CONNACK, got packet type 0x${(buf[0] ?? 0).toString(16)}`);
  let len = 0;
  let mul = 1;
  let i = 1;
  for (;; i++) {
    const b = buf[i];
    if (b === undefined) return null;
    len += (b & 0x7f) * mul;
    mul *= 128;
    if ((b & 0x80) === 0) break;
    if (i >= 4) return new Error('malformed CONNACK length');
  }
  if (len < 2) return new Error('CONNACK too short');
  const code = buf[i + 2];
  return code === undefined ? null : code;
};

/** One login attempt; resolves (never rejects) with what the broker answered. Always closes the socket. */
export const rawLogin = (target: RawLoginTarget, creds: RawCredentials, timeoutMs: number): Promise<LoginOutcome> =>
  new Promise((resolve) => {
    const where = `${target.host}:${target.port}`;
    const packet = connectPacket(creds);
    let socket: Socket;
    let done = false;
    let received: Buffer = Buffer.alloc(0);
    const finish = (outcome: LoginOutcome): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (outcome.kind === 'accepted') socket.end(DISCONNECT);
      else socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ kind: 'timeout' }), Math.max(1, timeoutMs));
    const send = (): void => { socket.write(packet); };
    if (target.tls) {
      const t = target.tls;
      socket = tlsConnect({
        host: target.host, port: target.port, ca: t.ca, cert: t.cert, key: t.key, rejectUnauthorized: t.rejectUnauthorized ?? true,
        // SNI takes a host name only (RFC 6066 §3).
        ...(isIP(target.host) === 0 ? { servername: target.host } : {}),
      }, send);
    } else {
      socket = netConnect({ host: target.host, port: target.port }, send);
    }
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      const code = connackReason(received);
      if (code === null) return;
      if (code instanceof Error) finish({ kind: 'unreachable', message: `${where}: ${code.message}` });
      else finish(code >= 0x80 ? { kind: 'refused', code } : { kind: 'accepted' });
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      finish({ kind: 'unreachable', message: typeof e.code === 'string' && UNREACHABLE.has(e.code) ? `${e.code} ${where}` : e.message });
    });
    // Closed before CONNACK: the broker dropped the connection without a reason code (or shut down).
    socket.on('close', () => finish({ kind: 'unreachable', message: `connection to ${where} closed before CONNACK` }));
  });
