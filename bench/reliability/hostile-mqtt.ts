/**
 * Hostile MQTT traffic through a REAL mosquitto to a running MCM (issue 8): Sparkplug B garbage
 * (random bytes, truncated and bit-flipped protobuf, malformed spBv1.0 topics, STATE nonsense),
 * binary and invalid-UTF-8 payloads, payloads that fail a JSON schema, topics at the broker's
 * limits (65,535 bytes, 200 levels), multi-megabyte payloads, and raw connections that break the
 * protocol (invalid UTF-8 or NUL in topic names, wildcards in PUBLISH, QoS 3, a malformed
 * Remaining Length, a second CONNECT, random bytes).
 *
 * Then: the observer is still connected on the same connection (no reconnect), sees a later good
 * message, and has counted exactly what it could not read (Sparkplug decode errors and invalid
 * topics, schema violations: the expected numbers are computed here with the same decoder and
 * classifier), the counts show in /metrics, no processor failed, the broker was never restarted
 * and the API still answers.
 *
 *   node bench/reliability/hostile-mqtt.ts          (MCM_RELIABILITY_SCALE=ci for the short run)
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import { createSparkplugDecoder, hostOnline } from '../../adapters/observer/sparkplug-payload.ts';
import { classifySparkplugTopic, inSparkplugNamespace } from '../../adapters/observer/sparkplug-topic.ts';
import { createCleanups } from './cleanups.ts';
import { exactRow, figures, type FigureRow, type ReliabilityFigures, type ReliabilityOptions, runStandalone } from './figures.ts';
import { requireBroker, startHostileServer, until, type HostileServer } from './hostile-server.ts';
import { connectPacket, field, packet, publishPacket, rawSession, type RawOutcome } from './mqtt-raw.ts';

const SIZES = {
  full: { sparkplug: 1500, badTopics: 200, binary: 1000, json: 500, rawRandom: 200, bigPayloadsMb: [1, 8] },
  ci: { sparkplug: 300, badTopics: 50, binary: 200, json: 100, rawRandom: 40, bigPayloadsMb: [1] },
} as const;

const PASSWORD = 'hostile-device-password';
const fixture = (name: string): Buffer => Buffer.from(readFileSync(new URL(`../../fixtures/mqtt/${name}.b64`, import.meta.url), 'utf8').trim(), 'base64');

type Message = { topic: string; payload: Buffer; kind: string };

// ---- generators (seeded: the same seed sends the same bytes)

const SP_TYPES = ['NBIRTH', 'NDATA', 'NDEATH', 'NCMD', 'DBIRTH', 'DDATA', 'DDEATH', 'DCMD'] as const;

const sparkplugTopic = (): fc.Arbitrary<string> => fc.oneof(
  fc.tuple(fc.constantFrom(...SP_TYPES), fc.integer({ min: 0, max: 9 })).map(([type, n]) =>
    type.startsWith('N') ? `spBv1.0/hostile/${type}/edge-${n}` : `spBv1.0/hostile/${type}/edge-${n}/dev-${n}`),
  fc.constantFrom('spBv1.0/STATE/host-1', 'STATE/scada-1'),
);

/** Bytes a Sparkplug decoder must survive. */
const sparkplugGarbage = (): fc.Arbitrary<{ payload: Buffer; kind: string }> => {
  const bases = [fixture('sparkplug-nbirth'), fixture('sparkplug-ndata'), fixture('sparkplug-ndeath')];
  return fc.oneof(
    fc.uint8Array({ minLength: 0, maxLength: 300 }).map((b) => ({ payload: Buffer.from(b), kind: 'random bytes' })),
    fc.tuple(fc.constantFrom(...bases), fc.double({ min: 0, max: 1, noNaN: true })).map(([b, f]) => ({ payload: b.subarray(0, Math.floor(b.length * f)), kind: 'truncated protobuf' })),
    fc.tuple(fc.constantFrom(...bases), fc.nat(), fc.integer({ min: 0, max: 7 })).map(([b, at, bit]) => {
      const copy = Buffer.from(b);
      const i = at % copy.length;
      copy[i] = (copy[i] as number) ^ (1 << bit);
      return { payload: copy, kind: 'bit-flipped protobuf' };
    }),
    fc.constantFrom(
      // varint that never ends; a length-delimited field longer than the buffer; a group start; wire type 7
      { payload: Buffer.from([0x08, ...new Array(12).fill(0xff)]), kind: 'crafted protobuf' },
      { payload: Buffer.from([0x22, 0xff, 0xff, 0xff, 0x0f, 0x01]), kind: 'crafted protobuf' },
      { payload: Buffer.from([0x0b, 0x0b, 0x0b]), kind: 'crafted protobuf' },
      { payload: Buffer.from([0x0f, 0x00]), kind: 'crafted protobuf' },
      { payload: Buffer.from('{"timestamp": 1, "metrics": []}'), kind: 'JSON instead of protobuf' },
      { payload: Buffer.from('ONLINE'), kind: 'text' },
      { payload: Buffer.alloc(0), kind: 'empty' },
    ),
    // the real thing now and then, so sessions exist for the garbage to land in
    fc.constantFrom(...bases).map((b) => ({ payload: b, kind: 'valid' })),
  );
};

const badSparkplugTopic = (): fc.Arbitrary<string> => fc.oneof(
  fc.constantFrom('spBv1.0/hostile/NOPE/edge', 'spBv1.0//NDATA/edge', 'spBv1.0/hostile/NDATA', 'spBv1.0/hostile/DDATA/edge',
    'spBv1.0/hostile/NDATA/edge/extra', 'spBv1.0/hostile/DDATA/edge/dev/extra', 'spBv1.0/STATE', 'spBv1.0/STATE/a/b', 'spBv1.0/', 'spBv1.0/hostile'),
  fc.array(fc.string({ maxLength: 6, unit: 'grapheme-ascii' }).map((s) => s.replace(/[+#\u0000]/g, '_')), { minLength: 1, maxLength: 6 }).map((levels) => `spBv1.0/${levels.join('/')}`),
);

const binaryPayload = (): fc.Arbitrary<Buffer> => fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 2048 }).map((b) => Buffer.from(b)),
  fc.constantFrom(Buffer.from([0xc0, 0xaf]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xff, 0xfe, 0x00]), Buffer.from('\u0000'.repeat(64)), Buffer.from('é', 'latin1')),
);

/** Payloads that must fail {type: object, required: [v]}: not JSON, not UTF-8, or the wrong JSON. */
const jsonGarbage = (): fc.Arbitrary<Buffer> => fc.oneof(
  fc.constantFrom('{', '{"v":', '[1,2', 'nan', '{"v": 1,}', "{'v': 1}", '\uFEFF{"v": 1}', '[]', '42', '"v"', 'null', '{}', '{"w": 1}', `${'['.repeat(10_000)}${']'.repeat(10_000)}`)
    .map((s) => Buffer.from(s)),
  fc.uint8Array({ minLength: 1, maxLength: 200 }).map((b) => Buffer.concat([Buffer.from('{"v":'), Buffer.from(b)])),
  fc.jsonValue({ maxDepth: 3 }).filter((v) => v === null || typeof v !== 'object' || Array.isArray(v)).map((v) => Buffer.from(JSON.stringify(v))),
);

/** Named raw sessions: what breaks the protocol, and whether the broker must hang up. */
const rawCases = (): { name: string; connect: boolean; hostile: Buffer }[] => [
  { name: 'topic with invalid UTF-8 [MQTT-1.5.3-1]', connect: true, hostile: publishPacket(Buffer.from([0x61, 0x2f, 0xc0, 0xaf]), Buffer.from('x')) },
  { name: 'topic with U+0000 [MQTT-1.5.3-2]', connect: true, hostile: publishPacket(Buffer.from('a/\u0000/b'), Buffer.from('x')) },
  { name: 'topic with a UTF-16 surrogate encoded in UTF-8', connect: true, hostile: publishPacket(Buffer.from([0x61, 0xed, 0xa0, 0x80]), Buffer.from('x')) },
  { name: 'wildcard in a PUBLISH topic [MQTT-3.3.2-2]', connect: true, hostile: publishPacket('hostile/+/x', Buffer.from('x')) },
  { name: 'empty topic [MQTT-4.7.3-1]', connect: true, hostile: publishPacket('', Buffer.from('x')) },
  { name: 'QoS 3 [MQTT-3.3.1-4]', connect: true, hostile: publishPacket('hostile/raw', Buffer.from('x'), 0x06) },
  { name: 'malformed Remaining Length (5 bytes)', connect: true, hostile: Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f]) },
  { name: 'topic length beyond the packet', connect: true, hostile: Buffer.from([0x30, 0x04, 0x00, 0x40, 0x61, 0x62]) },
  { name: 'second CONNECT [MQTT-3.1.0-2]', connect: true, hostile: connectPacket('again', 'hostile', PASSWORD) },
  { name: 'reserved packet type 0', connect: true, hostile: Buffer.from([0x00, 0x00]) },
  { name: 'reserved packet type 15', connect: true, hostile: Buffer.from([0xf0, 0x00]) },
  { name: 'SUBSCRIBE with reserved flags [MQTT-3.8.1-1]', connect: true, hostile: packet(0x80, Buffer.concat([Buffer.from([0, 1]), field('#'), Buffer.from([0])])) },
  { name: 'PUBLISH before CONNECT [MQTT-3.1.0-1]', connect: false, hostile: publishPacket('hostile/raw', Buffer.from('x')) },
  { name: 'HTTP instead of MQTT', connect: false, hostile: Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n') },
  { name: 'CONNECT with an invalid UTF-8 client id', connect: false, hostile: connectPacket(Buffer.from([0xc0, 0xaf]), 'hostile', PASSWORD) },
];

// ---- the run

const connectClient = (port: number, clientId: string): Promise<MqttClient> =>
  new Promise((resolve, reject) => {
    const c = mqtt.connect({ host: '127.0.0.1', port, protocolVersion: 5, clientId, username: 'hostile', password: PASSWORD, reconnectPeriod: 0, connectTimeout: 5000 });
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });

const publishAll = async (c: MqttClient, messages: readonly Message[]): Promise<number> => {
  let refused = 0;
  // In windows: the broker acknowledges each QoS 1 publish; at most 200 in flight.
  for (let i = 0; i < messages.length; i += 200) {
    await Promise.all(messages.slice(i, i + 200).map((m) => c.publishAsync(m.topic, m.payload, { qos: 1 }).catch(() => { refused++; })));
  }
  return refused;
};

const metricValue = (text: string, series: string): number | null => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? null : Number(line.slice(series.length + 1));
};

export type HostileMqttOptions = ReliabilityOptions & Readonly<{ seed?: number }>;

export const hostileMqtt = async (options: HostileMqttOptions): Promise<ReliabilityFigures> => {
  const { log } = options;
  const size = SIZES[options.scale];
  const seed = options.seed ?? (Number(process.env['MCM_FUZZ_SEED']) || (Date.now() ^ (Math.random() * 0x7fffffff)) | 0);
  const bin = requireBroker();
  const cleanups = createCleanups();
  try {
    const h: HostileServer = await startHostileServer(cleanups, bin);
    const { deps } = h.server;
    await h.apply({ type: 'CreateMqttUser', data: { username: 'hostile', passwordHash: await h.hash(PASSWORD) } });
    await h.apply({ type: 'AddAclRule', data: { principal: 'user:hostile', topic: '#', access: 'readwrite' } });
    // Observe-only JSON schema: every payload sent below its filter fails it.
    const schema = await h.api('POST', '/api/v1/json-schemas', { name: 'hostile-json', topic_filter: 'hostile/json/#', schema: { type: 'object', required: ['v'] } });
    if (schema.status !== 201) throw new Error(`attaching the schema failed: ${schema.status} ${schema.text}`);
    const schemaId = schema.body.id as number;

    const sample = <T>(arb: fc.Arbitrary<T>, n: number, offset: number): T[] => (n === 0 ? [] : fc.sample(arb, { numRuns: n, seed: seed + offset }));
    const sparkplug = sample(fc.tuple(sparkplugTopic(), sparkplugGarbage()), size.sparkplug, 1).map(([topic, g]): Message => ({ topic, payload: g.payload, kind: g.kind }));
    const badTopics = sample(badSparkplugTopic(), size.badTopics, 2).map((topic): Message => ({ topic, payload: fixture('sparkplug-ndata'), kind: 'invalid Sparkplug topic' }));
    const binary = sample(fc.tuple(fc.integer({ min: 0, max: 49 }), binaryPayload()), size.binary, 3).map(([n, payload]): Message => ({ topic: `hostile/bin/${n}`, payload, kind: 'binary' }));
    const json = sample(fc.tuple(fc.integer({ min: 0, max: 9 }), jsonGarbage()), size.json, 4).map(([n, payload]): Message => ({ topic: `hostile/json/${n}`, payload, kind: 'schema violation' }));
    const huge: Message[] = [
      { topic: 'x'.repeat(65_535), payload: Buffer.from('max length topic'), kind: 'huge topic' },
      { topic: `hostile/${'é'.repeat(32_000)}`, payload: Buffer.from('64 KB of 2-byte characters'), kind: 'huge topic' },
      { topic: Array.from({ length: 200 }, (_, i) => `l${i}`).join('/'), payload: Buffer.from('200 levels'), kind: 'huge topic' },
      { topic: '/'.repeat(199), payload: Buffer.from('200 empty levels'), kind: 'huge topic' },
      ...size.bigPayloadsMb.map((mb): Message => ({ topic: `hostile/big/${mb}mb`, payload: Buffer.alloc(mb * 1024 * 1024, 0xab), kind: 'big payload' })),
    ];
    const all = [...sparkplug, ...badTopics, ...binary, ...json, ...huge];

    // What the observer must count, computed with the same decoder and classifier.
    const decode = createSparkplugDecoder();
    let expectDecodeErrors = 0;
    let expectSpMessages = 0;
    let expectInvalidTopics = 0;
    for (const m of all) {
      const t = classifySparkplugTopic(m.topic);
      if (t === null) {
        if (inSparkplugNamespace(m.topic)) expectInvalidTopics++;
        continue;
      }
      expectSpMessages++;
      if (t.kind === 'state') {
        if (hostOnline(m.payload) === null) expectDecodeErrors++;
        continue;
      }
      try { decode(m.payload); } catch { expectDecodeErrors++; }
    }
    const expectSchemaInvalid = json.filter((m) => m.payload.length > 0).length;

    const sp0 = deps.sparkplug.counters();
    const st0 = deps.observation.observer.status();
    const sc0 = deps.schemaValidator.stats(schemaId);
    const pid0 = deps.supervisor?.pid() ?? null;
    log(`hostile-mqtt: ${all.length} messages (${sparkplug.length} Sparkplug, ${badTopics.length} bad Sparkplug topics, ${binary.length} binary, ${json.length} schema violations, ${huge.length} at the limits), seed ${seed}`);

    const started = performance.now();
    const client = await connectClient(h.mqttPort, 'hostile-publisher');
    cleanups.add(() => client.endAsync(true));
    const refused = await publishAll(client, all);
    const publishMs = performance.now() - started;

    // Raw protocol violations, each on its own connection.
    const rawOutcomes: (RawOutcome & { name: string })[] = [];
    for (const r of rawCases()) {
      const outcome = await rawSession(h.mqttPort, { connect: r.connect ? connectPacket(`hostile-raw-${rawOutcomes.length}`, 'hostile', PASSWORD) : null, hostile: r.hostile });
      rawOutcomes.push({ name: r.name, ...outcome });
    }
    const randomStreams = sample(fc.uint8Array({ minLength: 1, maxLength: 64 }), size.rawRandom, 5);
    let randomClosed = 0;
    for (let i = 0; i < randomStreams.length; i += 10) {
      const outs = await Promise.all(randomStreams.slice(i, i + 10).map((bytes, j) =>
        rawSession(h.mqttPort, { connect: connectPacket(`hostile-rand-${i + j}`, 'hostile', PASSWORD), hostile: Buffer.from(bytes), waitMs: 500 })));
      randomClosed += outs.filter((o) => o.closedByBroker).length;
    }
    // MQTT 5: "this payload is UTF-8" (Payload Format Indicator 1) on bytes that are not.
    const pfi = await connectClient(h.mqttPort, 'hostile-pfi');
    const pfiOutcome = await pfi.publishAsync('hostile/pfi', Buffer.from([0xc0, 0xaf]), { qos: 1, properties: { payloadFormatIndicator: true } })
      .then(() => 'accepted', (e: Error & { code?: number }) => `refused (${e.code ?? e.message})`);
    await pfi.endAsync(true).catch(() => {});

    // A good message after all of it: seen, on the same observer connection.
    const sentinel = `still-here-${seed}`;
    await client.publishAsync('hostile/sentinel', sentinel, { qos: 1 });
    let seen = true;
    try {
      await until(() => deps.observation.tree.get('hostile/sentinel')?.last.preview === sentinel, 'the observer to see the good message', 30_000);
    } catch {
      seen = false;
    }
    const ingestMs = performance.now() - started;

    const sp1 = deps.sparkplug.counters();
    const st1 = deps.observation.observer.status();
    const sc1 = deps.schemaValidator.stats(schemaId);
    const failures = Object.values(st1.processor_failures).reduce((a, b) => a + b, 0) - Object.values(st0.processor_failures).reduce((a, b) => a + b, 0);
    const metricsRes = await fetch(`${h.http.url}/metrics`);
    const metricsText = await metricsRes.text();
    const metricPayload = metricValue(metricsText, 'mcm_observer_malformed_messages_total{kind="sparkplug_payload"}');
    const metricTopic = metricValue(metricsText, 'mcm_observer_malformed_messages_total{kind="sparkplug_topic"}');
    const status = await h.api('GET', '/api/v1/status');
    const nodes = await h.api('GET', '/api/v1/sparkplug/nodes');
    const topics = await h.api('GET', '/api/v1/topics?prefix=hostile&depth=2');
    const health = await fetch(`${h.http.url}/healthz`);

    const brokerClosedNamed = rawOutcomes.filter((o) => o.closedByBroker).length;
    const decodeErrors = sp1.decode_errors - sp0.decode_errors;
    const invalidTopics = sp1.invalid_topics - sp0.invalid_topics;
    const schemaInvalid = (sc1?.invalid_count ?? 0) - (sc0?.invalid_count ?? 0);
    const rows: FigureRow[] = [
      { figure: 'hostile messages through the broker', value: all.length, ok: all.length > 0 },
      { figure: 'observer sees a good message afterwards', value: seen ? 'yes' : 'no', target: 'yes', ok: seen },
      { figure: 'observer connected afterwards (same connection)', value: st1.connected ? 'yes' : 'no', target: 'yes', ok: st1.connected },
      exactRow('observer reconnects during the barrage', st1.reconnects - st0.reconnects, 0),
      exactRow('processor failures', failures, 0),
      exactRow('Sparkplug decode errors counted (expected: computed with the same decoder)', decodeErrors, expectDecodeErrors),
      exactRow('Sparkplug messages classified', sp1.messages - sp0.messages, expectSpMessages),
      exactRow('invalid Sparkplug topics counted', invalidTopics, expectInvalidTopics),
      exactRow('JSON schema violations counted', schemaInvalid, expectSchemaInvalid),
      exactRow('/metrics mcm_observer_malformed_messages_total{kind="sparkplug_payload"}', metricPayload ?? -1, sp1.decode_errors),
      exactRow('/metrics mcm_observer_malformed_messages_total{kind="sparkplug_topic"}', metricTopic ?? -1, sp1.invalid_topics),
      exactRow('publishes the broker refused (main client)', refused, 0),
      { figure: 'protocol-breaking connections the broker closed', value: `${brokerClosedNamed} of ${rawOutcomes.length}`, target: 'all', ok: brokerClosedNamed === rawOutcomes.length },
      // The rest sent an incomplete packet: the broker waits for more bytes (then for the keepalive).
      { figure: 'random-byte connections the broker closed at once', value: `${randomClosed} of ${randomStreams.length}`, ok: true },
      { figure: 'payload format indicator 1 on invalid UTF-8 (MQTT 5)', value: pfiOutcome, ok: true },
      { figure: 'supervised broker never restarted', value: deps.supervisor?.pid() === pid0 ? 'yes' : 'no', target: 'yes', ok: deps.supervisor?.pid() === pid0 },
      { figure: 'API answers afterwards (/healthz, /status, /topics, /sparkplug/nodes)', value: [health.status, status.status, topics.status, nodes.status].join(', '), target: '200, 200, 200, 200',
        ok: [health.status, status.status, topics.status, nodes.status].every((s) => s === 200) && status.body?.broker?.up === true },
      { figure: 'ingest: publish and observe everything (ms)', value: Math.round(ingestMs), ok: true },
      { figure: 'seed', value: seed, ok: true },
    ];
    const kinds: Record<string, number> = {};
    for (const m of all) kinds[m.kind] = (kinds[m.kind] ?? 0) + 1;
    return figures('hostile-mqtt', rows, {
      seed, kinds, publish_ms: Math.round(publishMs), ingest_ms: Math.round(ingestMs),
      raw: rawOutcomes, random_streams: { sent: randomStreams.length, closed_by_broker: randomClosed },
      sparkplug_counters: { before: sp0, after: sp1 }, schema_stats: sc1, payload_format_indicator: pfiOutcome,
    });
  } finally {
    await cleanups.run();
  }
};

if (import.meta.main) await runStandalone(hostileMqtt, (r) => [JSON.stringify(r.data['raw'])]);
