/**
 * MQTT 3.1.1 packets built by hand (OASIS MQTT 3.1.1 §2-3), for sending what no client library
 * will: invalid UTF-8 or NUL in a topic name [MQTT-1.5.3-1, -2], wildcards in a PUBLISH topic
 * [MQTT-3.3.2-2], QoS 3 [MQTT-3.3.1-4], a malformed Remaining Length, a second CONNECT
 * [MQTT-3.1.0-2], reserved packet types. The broker must close such a connection; what is
 * measured is that MCM's observer, on its own connection, never notices.
 */
import { connect, type Socket } from 'node:net';
import { field, remainingLength } from '../../adapters/mosquitto/raw-login.ts';

// Remaining Length (§2.2.3) and string fields (§1.5.3, raw bytes allowed): the probe's own.
export { field, remainingLength };

export const packet = (firstByte: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([firstByte]), remainingLength(body.length), body]);

export const connectPacket = (clientId: Buffer | string, username: string, password: string): Buffer =>
  packet(0x10, Buffer.concat([field('MQTT'), Buffer.from([4, 0xc2, 0, 60]), field(clientId), field(username), field(password)]));

/** PUBLISH (§3.3) with a raw topic; `flags` are the low nibble of the first byte (DUP, QoS, RETAIN). */
export const publishPacket = (topic: Buffer | string, payload: Buffer, flags = 0): Buffer => {
  const qos = (flags >> 1) & 3;
  return packet(0x30 | flags, Buffer.concat([field(topic), qos > 0 ? Buffer.from([0, 1]) : Buffer.alloc(0), payload]));
};

export type RawOutcome = {
  /** CONNACK return code, or null when none came. */
  connack: number | null;
  /** The broker closed the connection after the hostile bytes (within the wait). */
  closedByBroker: boolean;
};

/**
 * Connects, optionally sends CONNECT and waits for CONNACK, then writes `hostile` and waits up to
 * `waitMs` for the broker to close the connection (then hangs up itself).
 */
export const rawSession = (port: number, opts: { connect: Buffer | null; hostile: Buffer; waitMs?: number }): Promise<RawOutcome> =>
  new Promise((resolve) => {
    const waitMs = opts.waitMs ?? 2000;
    const socket: Socket = connect({ host: '127.0.0.1', port });
    let connack: number | null = null;
    let received = Buffer.alloc(0);
    let sentHostile = false;
    let done = false;
    let timer: NodeJS.Timeout | null = null;
    const finish = (closedByBroker: boolean): void => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      socket.destroy();
      resolve({ connack, closedByBroker });
    };
    const sendHostile = (): void => {
      sentHostile = true;
      socket.write(opts.hostile);
      timer = setTimeout(() => finish(false), waitMs);
    };
    socket.on('error', () => finish(sentHostile));
    socket.on('close', () => finish(sentHostile));
    socket.on('data', (b: Buffer) => {
      if (sentHostile || connack !== null) return;
      received = Buffer.concat([received, b]);
      if (received.length >= 4 && received[0] === 0x20) {
        connack = received[3] ?? null;
        if (timer) clearTimeout(timer);
        sendHostile();
      }
    });
    socket.on('connect', () => {
      if (opts.connect) {
        socket.write(opts.connect);
        timer = setTimeout(() => finish(false), waitMs);
      } else {
        sendHostile();
      }
    });
  });
