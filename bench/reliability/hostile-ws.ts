/**
 * Hostile clients on the live channel `/api/v1/broker/events` of a running MCM (issue 8):
 *
 * - frames after a good handshake: binary and non-JSON text (closed 1003, adapters/ws/hub.ts),
 *   invalid UTF-8 (1007), frames over the hub's 64 KiB limit or announcing terabytes (1009),
 *   protocol violations: unmasked, reserved bits or opcodes, fragmented or oversized control
 *   frames, bad close frames (1002, RFC 6455 §7.4.1), plus random frames from fast-check;
 * - JSON that is not a request (`{}`, wrong types, bad filters, too many): an error message,
 *   the connection stays usable (client-messages.ts);
 * - garbage on the upgrade itself: not HTTP, no key, a bad version, no or a forged token, the
 *   wrong method, path or Upgrade, oversized or truncated heads, and random handshake headers.
 *
 * Meanwhile a witness client stays connected: afterwards it still receives (a topic message and an
 * admin change), HTTP still answers, and the hub holds no leftover client.
 *
 *   node bench/reliability/hostile-ws.ts          (MCM_RELIABILITY_SCALE=ci for the short run)
 */
import fc from 'fast-check';
import WebSocket from 'ws';
import { CLOSE_CODES, CLOSE_GRACE_MS, DEFAULT_WS_HUB_OPTIONS, WS_PATH } from '../../adapters/ws/hub.ts';
import { createCleanups } from './cleanups.ts';
import { exactRow, figures, type FigureRow, type ReliabilityFigures, type ReliabilityOptions, runStandalone } from './figures.ts';
import { requireBroker, startHostileServer, until } from './hostile-server.ts';
import { frame, handshake, rawWs, type FrameSpec, type RawWsOutcome } from './ws-raw.ts';

const SIZES = { full: { randomFrames: 600, randomHandshakes: 300 }, ci: { randomFrames: 120, randomHandshakes: 60 } } as const;

/** RFC 6455 §7.4.1: protocol error, unsupported data, invalid payload data, message too big. */
const PROTOCOL_ERROR = 1002;
const INVALID_PAYLOAD = 1007;
const ALLOWED_CLOSE_CODES = new Set([PROTOCOL_ERROR, CLOSE_CODES.UNSUPPORTED_DATA, INVALID_PAYLOAD, CLOSE_CODES.TOO_BIG]);

type FrameCase = { name: string; frames: Buffer[]; expect: number | 'open' };

const text = (s: string | Buffer): Buffer => (typeof s === 'string' ? Buffer.from(s) : s);
const closePayload = (code: number, reason = ''): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code);
  return Buffer.concat([b, Buffer.from(reason)]);
};

const frameCases = (): FrameCase[] => {
  const over = DEFAULT_WS_HUB_OPTIONS.maxPayloadBytes + 1;
  return [
    { name: 'binary frame', frames: [frame({ opcode: 0x2, payload: Buffer.from([1, 2, 3]) })], expect: CLOSE_CODES.UNSUPPORTED_DATA },
    { name: 'text that is not JSON', frames: [frame({ opcode: 0x1, payload: text('subscribe plant/#') })], expect: CLOSE_CODES.UNSUPPORTED_DATA },
    { name: 'text with invalid UTF-8', frames: [frame({ opcode: 0x1, payload: Buffer.from([0x7b, 0xc0, 0xaf, 0x7d]) })], expect: INVALID_PAYLOAD },
    { name: `text frame of ${over} bytes`, frames: [frame({ opcode: 0x1, payload: Buffer.alloc(over, 0x20) })], expect: CLOSE_CODES.TOO_BIG },
    { name: 'length header announcing 1 TiB', frames: [frame({ opcode: 0x1, payload: Buffer.alloc(16), declaredLength: 2 ** 40 })], expect: CLOSE_CODES.TOO_BIG },
    { name: 'fragments adding up past the limit', frames: [frame({ opcode: 0x1, fin: false, payload: Buffer.alloc(40_000, 0x20) }), frame({ opcode: 0x0, payload: Buffer.alloc(40_000, 0x20) })], expect: CLOSE_CODES.TOO_BIG },
    { name: 'unmasked frame [RFC 6455 §5.1]', frames: [frame({ opcode: 0x1, mask: false, payload: text('{}') })], expect: PROTOCOL_ERROR },
    { name: 'RSV1 set without an extension', frames: [frame({ opcode: 0x1, rsv: 0b100, payload: text('{}') })], expect: PROTOCOL_ERROR },
    { name: 'reserved opcode 0x3', frames: [frame({ opcode: 0x3, payload: text('x') })], expect: PROTOCOL_ERROR },
    { name: 'reserved control opcode 0xB', frames: [frame({ opcode: 0xb })], expect: PROTOCOL_ERROR },
    { name: 'fragmented ping [RFC 6455 §5.5]', frames: [frame({ opcode: 0x9, fin: false })], expect: PROTOCOL_ERROR },
    { name: 'ping with 126 bytes [RFC 6455 §5.5]', frames: [frame({ opcode: 0x9, payload: Buffer.alloc(126) })], expect: PROTOCOL_ERROR },
    { name: 'continuation without a start', frames: [frame({ opcode: 0x0, payload: text('{}') })], expect: PROTOCOL_ERROR },
    { name: 'new text frame inside a fragmented one', frames: [frame({ opcode: 0x1, fin: false, payload: text('{') }), frame({ opcode: 0x1, payload: text('}') })], expect: PROTOCOL_ERROR },
    { name: 'close with code 999', frames: [frame({ opcode: 0x8, payload: closePayload(999) })], expect: PROTOCOL_ERROR },
    { name: 'close with a 1-byte body', frames: [frame({ opcode: 0x8, payload: Buffer.from([3]) })], expect: PROTOCOL_ERROR },
    { name: 'close with an invalid UTF-8 reason', frames: [frame({ opcode: 0x8, payload: Buffer.concat([closePayload(1000), Buffer.from([0xc0, 0xaf])]) })], expect: INVALID_PAYLOAD },
    // JSON that is no request: answered with an error message, the connection stays.
    { name: 'JSON {} (not a request)', frames: [frame({ opcode: 0x1, payload: text('{}') })], expect: 'open' },
    { name: 'subscribe with a number', frames: [frame({ opcode: 0x1, payload: text('{"subscribe": 5}') })], expect: 'open' },
    { name: 'subscribe with bad filters', frames: [frame({ opcode: 0x1, payload: text('{"subscribe": ["a/#/b", "sport+", "\\u0000"]}') })], expect: 'open' },
    { name: 'subscribe with 101 filters', frames: [frame({ opcode: 0x1, payload: text(JSON.stringify({ subscribe: Array.from({ length: 101 }, (_, i) => `t/${i}`) })) })], expect: 'open' },
    { name: '__proto__ request', frames: [frame({ opcode: 0x1, payload: text('{"__proto__": {"subscribe": ["#"]}}') })], expect: 'open' },
    { name: 'JSON nested 10,000 levels', frames: [frame({ opcode: 0x1, payload: text(`${'['.repeat(10_000)}${']'.repeat(10_000)}`) })], expect: 'open' },
  ];
};

/** Random frames: any opcode, reserved bits, masking, payload, sometimes a lying length. */
const randomFrame = (): fc.Arbitrary<FrameSpec> => fc.record({
  fin: fc.boolean(),
  rsv: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 7 }) }),
  opcode: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(0x0, 0x1, 0x2, 0x8, 0x9, 0xa) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 15 }) }),
  mask: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  payload: fc.oneof(
    fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
    fc.jsonValue({ maxDepth: 3 }).map((v) => Buffer.from(JSON.stringify(v))),
    fc.constantFrom(Buffer.from('{"subscribe":["#"]}'), Buffer.from('{"unsubscribe":["#"]}'), Buffer.alloc(70_000, 0x41)),
  ),
}, { requiredKeys: ['opcode'] }).chain((f) => fc.oneof(
  { weight: 9, arbitrary: fc.constant<FrameSpec>(f) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 ** 31 }).map((declaredLength): FrameSpec => ({ ...f, declaredLength })) },
));

export type HostileWsOptions = ReliabilityOptions & Readonly<{ seed?: number }>;

export const hostileWs = async (options: HostileWsOptions): Promise<ReliabilityFigures> => {
  const { log } = options;
  const size = SIZES[options.scale];
  const seed = options.seed ?? (Number(process.env['MCM_FUZZ_SEED']) || (Date.now() ^ (Math.random() * 0x7fffffff)) | 0);
  const bin = requireBroker();
  const cleanups = createCleanups();
  try {
    const h = await startHostileServer(cleanups, bin);
    const port = Number(new URL(h.http.url).port);
    const host = `127.0.0.1:${port}`;
    const good = `mcm.v1, bearer.${h.token}`;
    const wsUrl = `${h.http.url.replace(/^http/, 'ws')}${WS_PATH}`;

    // The witness: connected through all of it, narrowed to hostile/#.
    const witnessMessages: { type?: string; topic?: string; stream?: string }[] = [];
    const witness = new WebSocket(wsUrl, ['mcm.v1', `bearer.${h.token}`]);
    cleanups.add(() => witness.terminate());
    witness.on('message', (d) => { witnessMessages.push(JSON.parse(d.toString()) as never); });
    let witnessClosed: number | null = null;
    witness.on('close', (code) => { witnessClosed = code; });
    await new Promise<void>((resolve, reject) => { witness.once('open', () => resolve()); witness.once('error', reject); });
    witness.send(JSON.stringify({ subscribe: ['hostile/#'] }));
    await until(() => witnessMessages.some((m) => m.type === 'subscriptions'), 'the witness subscription');
    log(`hostile-ws: ${frameCases().length} named frame cases, ${size.randomFrames} random frames, ${size.randomHandshakes} random handshakes, seed ${seed}`);

    // ---- frames after a good handshake
    const named: { name: string; expect: number | 'open'; got: RawWsOutcome; ok: boolean }[] = [];
    for (const c of frameCases()) {
      const followUp = c.expect === 'open' ? [frame({ opcode: 0x1, payload: text('{"subscribe":["still/#"]}') })] : [];
      const answered = (o: RawWsOutcome): boolean => o.texts.some((t) => t.includes('"type":"error"')) && o.texts.some((t) => t.includes('still/#'));
      const got = await rawWs(port, handshake({ host, path: WS_PATH, protocols: good }), [...c.frames, ...followUp], c.expect === 'open' ? { waitMs: 5000, doneWhen: answered } : 5000);
      const ok = c.expect === 'open'
        ? got.status === 101 && got.closeCode === null && answered(got)
        : got.status === 101 && got.closeCode === c.expect && got.closedByServer;
      named.push({ name: c.name, expect: c.expect, got, ok });
    }

    const frames = fc.sample(fc.array(randomFrame(), { minLength: 1, maxLength: 4 }), { numRuns: size.randomFrames, seed });
    const randomCodes: Record<string, number> = {};
    let randomBadCodes = 0;
    for (let i = 0; i < frames.length; i += 20) {
      const batch = frames.slice(i, i + 20);
      const outs = await Promise.all(batch.map((fs) => rawWs(port, handshake({ host, path: WS_PATH, protocols: good }), fs.map(frame), 800)));
      outs.forEach((o, j) => {
        const key = o.status !== 101 ? `http ${o.status}` : o.closeCode === null ? 'open' : String(o.closeCode);
        randomCodes[key] = (randomCodes[key] ?? 0) + 1;
        // A close the client sent first is echoed (its code, or none: 1005).
        const echoed = new Set<number>((batch[j] ?? []).filter((f) => (f.opcode & 0x0f) === 0x8).map((f) => ((f.payload?.length ?? 0) >= 2 ? (f.payload as Buffer).readUInt16BE(0) : 1005)));
        if (o.status !== 101 || (o.closeCode !== null && !ALLOWED_CLOSE_CODES.has(o.closeCode) && !echoed.has(o.closeCode))) randomBadCodes++;
      });
    }

    // A peer that never answers the close frame: the hub cuts it off after CLOSE_GRACE_MS (ws alone would wait 30 s).
    const t0 = performance.now();
    const unanswered = await rawWs(port, handshake({ host, path: WS_PATH, protocols: good }), [frame({ opcode: 0x2, payload: Buffer.from([1]) })], { waitMs: 40_000, answerClose: false });
    const unansweredCloseS = Math.round((performance.now() - t0) / 100) / 10;
    const unansweredOk = unanswered.closeCode === CLOSE_CODES.UNSUPPORTED_DATA && unanswered.closedByServer && unansweredCloseS * 1000 <= CLOSE_GRACE_MS + 1000;

    // ---- garbage on the upgrade
    const badKey = 'not-a-16-byte-key';
    const upgrades: { name: string; request: string | Buffer; expect: (o: RawWsOutcome) => boolean; waitMs?: number }[] = [
      { name: 'bytes that are not HTTP', request: Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0xff, 0x00, 0x0d, 0x0a, 0x0d, 0x0a]), expect: (o) => o.status === 400 || (o.status === null && o.closedByServer) },
      { name: 'no Sec-WebSocket-Key', request: handshake({ host, path: WS_PATH, protocols: good }).replace(/Sec-WebSocket-Key: .*\r\n/, ''), expect: (o) => o.status === 400 },
      { name: 'a key that is not 16 bytes', request: handshake({ host, path: WS_PATH, protocols: good, key: badKey }), expect: (o) => o.status === 400 },
      // ws speaks versions 13 and 8 (hybi-10); anything else is refused.
      { name: 'Sec-WebSocket-Version 7', request: handshake({ host, path: WS_PATH, protocols: good, version: '7' }), expect: (o) => o.status === 400 || o.status === 426 },
      { name: 'Sec-WebSocket-Version 99999999999999999999', request: handshake({ host, path: WS_PATH, protocols: good, version: '99999999999999999999' }), expect: (o) => o.status === 400 || o.status === 426 },
      { name: 'no token', request: handshake({ host, path: WS_PATH, protocols: 'mcm.v1' }), expect: (o) => o.status === 401 },
      { name: 'a forged token', request: handshake({ host, path: WS_PATH, protocols: 'mcm.v1, bearer.eyJhbGciOiJub25lIn0.eyJzdWIiOiJob3N0aWxlLWFkbWluIn0.' }), expect: (o) => o.status === 401 },
      { name: 'a good token without mcm.v1', request: handshake({ host, path: WS_PATH, protocols: `bearer.${h.token}` }), expect: (o) => o.status === 400 },
      { name: 'another path', request: handshake({ host, path: '/api/v1/broker/events/../../healthz', protocols: good }), expect: (o) => o.status === 404 },
      { name: 'POST upgrade', request: handshake({ host, path: WS_PATH, protocols: good, method: 'POST' }), expect: (o) => o.status !== null && o.status >= 400 && o.status < 500 },
      { name: 'Upgrade: h2c', request: handshake({ host, path: WS_PATH, protocols: good }).replace('Upgrade: websocket', 'Upgrade: h2c'), expect: (o) => o.status !== null && o.status >= 400 && o.status < 500 },
      { name: 'a 20 KiB header', request: handshake({ host, path: WS_PATH, protocols: good, extra: [`X-Pad: ${'a'.repeat(20_480)}`] }), expect: (o) => o.status === 431 || (o.status === null && o.closedByServer) },
      { name: 'Content-Length and Transfer-Encoding together', request: handshake({ host, path: WS_PATH, protocols: good, extra: ['Content-Length: 5', 'Transfer-Encoding: chunked'] }), expect: (o) => o.status === 400 },
      { name: 'a handshake cut in half', request: handshake({ host, path: WS_PATH, protocols: good }).slice(0, 60), expect: (o) => o.status === null || o.status === 408 || o.status === 400, waitMs: 800 },
      { name: 'two upgrades in one write', request: handshake({ host, path: WS_PATH, protocols: good }) + handshake({ host, path: WS_PATH, protocols: good }), expect: (o) => o.status === 101 },
    ];
    const upgradeOutcomes: { name: string; got: RawWsOutcome; ok: boolean }[] = [];
    for (const u of upgrades) {
      const got = await rawWs(port, u.request, [], u.waitMs ?? 3000);
      upgradeOutcomes.push({ name: u.name, got, ok: u.expect(got) });
    }

    // Random handshakes: headers dropped, repeated or replaced with junk.
    const headerJunk = fc.oneof(fc.string({ maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, ' ')), fc.constantFrom('', 'websocket', 'Upgrade', '13', 'mcm.v1', `bearer.${h.token}`, 'a'.repeat(4000)));
    const randomUpgrades = fc.sample(fc.record({
      drop: fc.subarray(['Upgrade', 'Connection', 'Sec-WebSocket-Key', 'Sec-WebSocket-Version', 'Sec-WebSocket-Protocol', 'Host']),
      junk: fc.array(fc.tuple(fc.constantFrom('Upgrade', 'Connection', 'Sec-WebSocket-Key', 'Sec-WebSocket-Version', 'Sec-WebSocket-Protocol', 'Sec-WebSocket-Extensions', 'Origin'), headerJunk), { maxLength: 3 }),
      path: fc.constantFrom(WS_PATH, `${WS_PATH}?x=1`, `${WS_PATH}/`, '/API/V1/BROKER/EVENTS', `${WS_PATH}%00`, '*'),
    }), { numRuns: size.randomHandshakes, seed: seed + 1 });
    const randomUpgradeStatuses: Record<string, number> = {};
    let randomUpgrade5xx = 0;
    for (let i = 0; i < randomUpgrades.length; i += 10) {
      const outs = await Promise.all(randomUpgrades.slice(i, i + 10).map((r) => {
        const lines = handshake({ host, path: r.path, protocols: good }).split('\r\n').filter((l) => !r.drop.some((d) => l.startsWith(`${d}:`)));
        lines.splice(1, 0, ...r.junk.map(([k, v]) => `${k}: ${v}`));
        return rawWs(port, lines.join('\r\n'), [], 800);
      }));
      for (const o of outs) {
        const key = o.status === null ? (o.closedByServer ? 'closed' : 'no answer') : String(o.status);
        randomUpgradeStatuses[key] = (randomUpgradeStatuses[key] ?? 0) + 1;
        if (o.status !== null && o.status >= 500) randomUpgrade5xx++;
      }
    }

    // ---- the server is unaffected
    const witnessBefore = witnessMessages.length;
    const pub = await h.api('POST', '/api/v1/broker/publish', { topic: 'hostile/witness', payload: 'still here' });
    const user = await h.api('POST', '/api/v1/mqtt-users', { username: 'witness-check' });
    let witnessOk = true;
    try {
      await until(() => witnessMessages.slice(witnessBefore).some((m) => m.type === 'topic_message' && m.topic === 'hostile/witness'), 'the witness to get the topic message');
      await until(() => witnessMessages.slice(witnessBefore).some((m) => m.type === 'event_appended'), 'the witness to get the admin change');
    } catch {
      witnessOk = false;
    }
    let leftover = -1;
    try {
      await until(async () => {
        const m = /^mcm_ws_clients (\d+)$/m.exec(await (await fetch(`${h.http.url}/metrics`)).text());
        leftover = m ? Number(m[1]) - 1 : -1;
        return leftover === 0;
      }, 'attacking clients to be gone', 10_000);
    } catch { /* reported below */ }
    const health = await fetch(`${h.http.url}/healthz`);

    const namedBad = named.filter((n) => !n.ok);
    const upgradeBad = upgradeOutcomes.filter((u) => !u.ok);
    const rows: FigureRow[] = [
      { figure: 'named hostile frame cases answered as documented (close code or error message)', value: `${named.length - namedBad.length} of ${named.length}`, target: 'all', ok: namedBad.length === 0 },
      exactRow('random frame sequences closed with a code outside 1002/1003/1007/1009', randomBadCodes, 0),
      { figure: 'hostile upgrade requests refused as expected', value: `${upgradeOutcomes.length - upgradeBad.length} of ${upgradeOutcomes.length}`, target: 'all', ok: upgradeBad.length === 0 },
      exactRow('random handshakes answered 5xx', randomUpgrade5xx, 0),
      { figure: 'witness client still connected and receiving', value: witnessOk && witnessClosed === null ? 'yes' : 'no', target: 'yes', ok: witnessOk && witnessClosed === null },
      exactRow('leftover ws clients (attackers not cleaned up)', leftover, 0),
      { figure: 'HTTP answers afterwards (/healthz, publish, create user)', value: [health.status, pub.status, user.status].join(', '), target: '200, 200, 201', ok: health.status === 200 && pub.status === 200 && user.status === 201 },
      { figure: 'socket kept after a close frame the peer never answers (s)', value: unansweredCloseS, target: `<= ${(CLOSE_GRACE_MS + 1000) / 1000}`, ok: unansweredOk },
      { figure: 'random frame outcomes', value: Object.entries(randomCodes).map(([k, v]) => `${k}: ${v}`).join(', '), ok: true },
      { figure: 'random handshake answers', value: Object.entries(randomUpgradeStatuses).map(([k, v]) => `${k}: ${v}`).join(', '), ok: true },
      { figure: 'seed', value: seed, ok: true },
    ];
    return figures('hostile-ws', rows, {
      seed,
      named: named.map((n) => ({ name: n.name, expect: n.expect, status: n.got.status, close_code: n.got.closeCode, closed_by_server: n.got.closedByServer, ok: n.ok })),
      upgrades: upgradeOutcomes.map((u) => ({ name: u.name, status: u.got.status, closed_by_server: u.got.closedByServer, ok: u.ok })),
      random_frames: randomCodes, random_handshakes: randomUpgradeStatuses,
    });
  } finally {
    await cleanups.run();
  }
};

if (import.meta.main) await runStandalone(hostileWs, (r) => [...(r.data['named'] as { ok: boolean }[]), ...(r.data['upgrades'] as { ok: boolean }[])].filter((n) => !n.ok).map((n) => `   ${JSON.stringify(n)}`));
