/**
 * WebSocket frames and handshakes built by hand (RFC 6455 §4-5), for sending what the `ws`
 * client never would: unmasked or reserved-bit frames, reserved opcodes, fragmented or oversized
 * control frames, invalid UTF-8 text, length headers that promise terabytes, and handshakes that
 * are not handshakes at all.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

export type FrameSpec = {
  fin?: boolean;
  /** RSV1-3 as bits 0b100, 0b010, 0b001. */
  rsv?: number;
  opcode: number;
  /** Clients must mask (RFC 6455 §5.1); false sends an unmasked frame. */
  mask?: boolean;
  payload?: Buffer;
  /** Declared payload length when it should differ from the payload's. */
  declaredLength?: number;
};

export const frame = (f: FrameSpec): Buffer => {
  const payload = f.payload ?? Buffer.alloc(0);
  const mask = f.mask ?? true;
  const len = f.declaredLength ?? payload.length;
  const head: number[] = [((f.fin ?? true) ? 0x80 : 0) | ((f.rsv ?? 0) << 4) | (f.opcode & 0x0f)];
  let ext = Buffer.alloc(0);
  if (len < 126) head.push((mask ? 0x80 : 0) | len);
  else if (len < 65_536) {
    head.push((mask ? 0x80 : 0) | 126);
    ext = Buffer.alloc(2);
    ext.writeUInt16BE(len);
  } else {
    head.push((mask ? 0x80 : 0) | 127);
    ext = Buffer.alloc(8);
    ext.writeBigUInt64BE(BigInt(len));
  }
  if (!mask) return Buffer.concat([Buffer.from(head), ext, payload]);
  const key = randomBytes(4);
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i++) masked[i] = (masked[i] as number) ^ (key[i % 4] as number);
  return Buffer.concat([Buffer.from(head), ext, key, masked]);
};

export const handshake = (opts: { host: string; path: string; protocols?: string; extra?: string[]; key?: string; version?: string; method?: string }): string => [
  `${opts.method ?? 'GET'} ${opts.path} HTTP/1.1`,
  `Host: ${opts.host}`,
  'Upgrade: websocket',
  'Connection: Upgrade',
  `Sec-WebSocket-Key: ${opts.key ?? randomBytes(16).toString('base64')}`,
  `Sec-WebSocket-Version: ${opts.version ?? '13'}`,
  ...(opts.protocols === undefined ? [] : [`Sec-WebSocket-Protocol: ${opts.protocols}`]),
  ...(opts.extra ?? []),
  '', '',
].join('\r\n');

export type RawWsOutcome = {
  /** HTTP status of the handshake answer, null when none came. */
  status: number | null;
  /** The close code the server sent, null when it sent none. */
  closeCode: number | null;
  /** The server closed the TCP connection within the wait. */
  closedByServer: boolean;
  /** Text frames the server sent (JSON messages). */
  texts: string[];
};

/** Parses server frames (never masked) out of `buf`; returns the rest. */
const readFrames = (buf: Buffer, onFrame: (opcode: number, payload: Buffer) => void): Buffer => {
  let off = 0;
  for (;;) {
    if (buf.length - off < 2) break;
    const b1 = buf[off + 1] as number;
    let len = b1 & 0x7f;
    let p = off + 2;
    if (len === 126) {
      if (buf.length - p < 2) break;
      len = buf.readUInt16BE(p);
      p += 2;
    } else if (len === 127) {
      if (buf.length - p < 8) break;
      len = Number(buf.readBigUInt64BE(p));
      p += 8;
    }
    if (buf.length - p < len) break;
    onFrame((buf[off] as number) & 0x0f, buf.subarray(p, p + len));
    off = p + len;
  }
  return buf.subarray(off);
};

/**
 * Sends `request` (a handshake or anything else), and, once a 101 came, `frames`; collects the
 * answer until the server closes or `waitMs` passes (then hangs up itself).
 */
export type RawWsOptions = {
  waitMs?: number;
  /** Stop waiting as soon as this holds (checked after each text frame). */
  doneWhen?: (o: RawWsOutcome) => boolean;
  /** Answer the server's close frame (default true); false plays a peer that never does. */
  answerClose?: boolean;
};

export const rawWs = (port: number, request: Buffer | string, frames: Buffer[] = [], options: RawWsOptions | number = {}): Promise<RawWsOutcome> =>
  new Promise((resolve) => {
    const opts: RawWsOptions = typeof options === 'number' ? { waitMs: options } : options;
    const waitMs = opts.waitMs ?? 3000;
    const socket: Socket = connect({ host: '127.0.0.1', port });
    const out: RawWsOutcome = { status: null, closeCode: null, closedByServer: false, texts: [] };
    let head: Buffer = Buffer.alloc(0);
    let upgraded = false;
    let rest: Buffer = Buffer.alloc(0);
    let done = false;
    const finish = (byServer: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      out.closedByServer = byServer;
      socket.destroy();
      resolve(out);
    };
    const timer = setTimeout(() => finish(false), waitMs);
    const onFrames = (b: Buffer): void => {
      rest = readFrames(Buffer.concat([rest, b]), (opcode, payload) => {
        if (opcode === 0x8) {
          out.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
          // Answer it as a well-behaved peer does (RFC 6455 §5.5.1); the server then closes the TCP connection.
          if (opts.answerClose !== false && !socket.destroyed) socket.write(frame({ opcode: 0x8, payload: payload.subarray(0, 2) }));
        } else if (opcode === 0x1) {
          out.texts.push(payload.toString('utf8'));
          if (opts.doneWhen?.(out)) finish(false);
        }
      });
    };
    socket.on('data', (b: Buffer) => {
      if (upgraded) {
        onFrames(b);
        return;
      }
      head = Buffer.concat([head, b]);
      const end = head.indexOf('\r\n\r\n');
      if (out.status === null) {
        const m = /^HTTP\/1\.[01] (\d{3})/.exec(head.toString('latin1'));
        if (m) out.status = Number(m[1]);
      }
      if (end >= 0 && out.status === 101) {
        upgraded = true;
        const after = head.subarray(end + 4);
        for (const f of frames) socket.write(f);
        if (after.length > 0) onFrames(after);
      }
    });
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('connect', () => socket.write(request));
  });
