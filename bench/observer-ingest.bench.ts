/**
 * Observer ingest (Issue 5): messages/s through MCM's observer pipeline — mqtt.js, the topic tree,
 * JSON schema validation (schemas on) and Sparkplug B tracking — next to the broker's delivery
 * ceiling measured in the same run by a bare mqtt.js subscriber that only counts. Target: the
 * observer reaches at least 80% of the bare subscriber. Then memory: 100,000 distinct topics
 * through the observer stay within config.observer.max_topics, evictions counted, RSS printed.
 *
 * One mosquitto; the publisher writes pre-encoded QoS 0 PUBLISH packets on a raw socket from this
 * process; each subscriber runs in its own child process (this file with `--sub <mode>`), so the
 * publisher and the measured subscriber never share an event loop. The subscriber holds its
 * event loop until the publisher is done (the broker queues the run: no queue limits), then
 * drains it: messages/s is its own capacity against what the broker can deliver, whatever the
 * publisher's speed. Bare and observer alternate over ROUNDS rounds; the median ratio is reported.
 *
 *   node bench/observer-ingest.bench.ts                (also: node bench/run.ts observer-ingest)
 *   BENCH_MESSAGES=400000 node bench/observer-ingest.bench.ts
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { MessageProcessor } from '../adapters/live/observed-message.ts';
import type { Bench, BenchResult } from './bench.ts';
import { field, packet } from './reliability/mqtt-raw.ts';

const SUB_FLAG = '--sub';
const ROUNDS = 3;
const TARGET_RATIO = 0.8;
const TOPICS = 1000;
const MEMORY_TOPICS = 100_000;
const MAX_TOPICS = 10_000;
const SPARKPLUG_EVERY = 20; // 5 % of the messages are Sparkplug NDATA
const here = fileURLToPath(new URL('.', import.meta.url));

type Mode = 'bare' | 'observer';
/** live: measured while the publishers write; drain: a queued backlog, emptied as fast as possible. */
type Method = 'live' | 'drain';
type SubResult = { count: number; first_ms: number; last_ms: number; rss_mb: number; heap_mb: number; tree?: { topics: number; evicted: number; max_topics: number }; pipeline?: string[]; failures?: Record<string, number> };

// ---------------------------------------------------------------- MQTT packets (MQTT 3.1.1 §3.1, §3.3)

const connectPacket = (clientId: string): Buffer => packet(0x10, Buffer.concat([field('MQTT'), Buffer.from([4, 0x02, 0, 60]), field(clientId)]));

const publishPacket = (topic: string, payload: Buffer): Buffer => packet(0x30, Buffer.concat([field(topic), payload]));

const fixture = (name: string): Buffer | null => {
  try {
    return Buffer.from(readFileSync(join(here, '..', 'fixtures', 'mqtt', name), 'utf8').trim(), 'base64');
  } catch {
    return null;
  }
};

/**
 * The mixed workload: JSON readings on `distinct` topics (validated by a schema), and with
 * `sparkplug` every SPARKPLUG_EVERY-th message a Sparkplug NDATA from one of 50 edge nodes.
 */
const workload = (distinct: number, sparkplug: boolean): Buffer[] => {
  const ndata = sparkplug ? fixture('sparkplug-ndata.b64') : null;
  const packets: Buffer[] = [];
  for (let i = 0; i < distinct; i++) {
    if (ndata && i % SPARKPLUG_EVERY === 0) packets.push(publishPacket(`spBv1.0/bench/NDATA/edge${i % 50}`, ndata));
    else packets.push(publishPacket(`bench/line${i % 40}/sensor${i}/json`, Buffer.from(JSON.stringify({ v: i % 1000, unit: 'C', ok: true }))));
  }
  return packets;
};

/** `count` packets over `connections` sockets in parallel (the prelude goes first, on the first one). */
const publish = async (port: number, packets: Buffer[], count: number, prelude: Buffer[] = [], connections = 1): Promise<void> => {
  if (prelude.length > 0) await publishOne(port, prelude, prelude.length, 0);
  const per = Math.ceil(count / connections);
  await Promise.all(Array.from({ length: connections }, (_, k) => publishOne(port, packets, Math.min(per, count - k * per), k * per)));
};

/** Writes `count` packets (cycling through `packets` from `offset`) as fast as the socket takes them. */
const publishOne = async (port: number, packets: Buffer[], count: number, offset: number): Promise<void> => {
  const sock: Socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
  sock.setNoDelay(true);
  sock.write(connectPacket(`bench-pub-${process.pid}-${offset}`));
  await new Promise<void>((resolve) => sock.once('data', () => resolve())); // CONNACK
  let i = 0;
  while (i < count) {
    const batch: Buffer[] = [];
    let size = 0;
    while (i < count && size < 64 * 1024) {
      const p = packets[(offset + i) % packets.length] as Buffer;
      batch.push(p);
      size += p.length;
      i++;
    }
    if (!sock.write(Buffer.concat(batch, size))) await new Promise((r) => sock.once('drain', r));
  }
  sock.write(Buffer.from([0xe0, 0])); // DISCONNECT
  await new Promise<void>((r) => sock.end(r));
};

// ---------------------------------------------------------------- the subscriber side (child process)

const subscriber = async (mode: Mode, method: Method, port: number, expect: number, dataDir: string): Promise<void> => {
  const mqtt = (await import('mqtt')).default;
  let count = 0;
  let start = 0;
  let last = 0;
  let onMessage: (topic: string, payload: Buffer, packet: { qos: 0 | 1 | 2; retain: boolean }) => void;
  let extra: () => Partial<SubResult> = () => ({});
  let client: { end(force: boolean, cb: () => void): void };

  const done = (): void => {
    const mem = process.memoryUsage();
    const result: SubResult = { count, first_ms: start, last_ms: last, rss_mb: Math.round(mem.rss / 1048576), heap_mb: Math.round(mem.heapUsed / 1048576), ...extra() };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    client.end(true, () => process.exit(0));
  };
  let idle: NodeJS.Timeout | null = null;
  const tick = (): void => {
    if (count === 0 && method === 'live') start = performance.now();
    count++;
    last = performance.now();
    if (count >= expect) done();
    else if (count === 1 || count % 1000 === 0) {
      if (idle) clearTimeout(idle);
      idle = setTimeout(done, 5000); // messages dropped somewhere: report what arrived
    }
  };

  if (mode === 'bare') {
    // The yardstick: same protocol and subscription as the observer, and only a counter.
    const c = mqtt.connect({ host: '127.0.0.1', port, protocolVersion: 5, clean: true, reconnectPeriod: 0, clientId: `bench-bare-${process.pid}` });
    client = c;
    onMessage = (topic) => { if (topic.charCodeAt(0) !== 36) tick(); };
    c.on('message', onMessage as never);
    await new Promise<void>((r) => c.once('connect', () => r()));
    await c.subscribeAsync({ '#': { qos: 2, rap: true }, '$SYS/#': { qos: 0 } });
  } else {
    const { createLiveBus } = await import('../adapters/live/live-bus.ts');
    const { createObservation } = await import('../adapters/mqtt/observation.ts');
    const { defaultConfig } = await import('../adapters/config/defaults.ts');
    const { openDatabase } = await import('../adapters/sqlite/open-database.ts');
    const { createSqliteEventStore } = await import('../adapters/sqlite/event-store.ts');
    const { handleCommand } = await import('../core/handle-command.ts');
    const config = defaultConfig({ mosquittoBinary: null });
    config.mqtt.port = port;
    config.observer.max_topics = MAX_TOPICS;
    const clock = { now: () => new Date().toISOString() };
    const bus = createLiveBus();
    const logger = { info() {}, warn() {}, error() {}, debug() {} };
    const processors: MessageProcessor[] = [];
    const pipeline = ['topic-tree'];
    // The other processors, when they exist (written in parallel with this bench).
    try {
      const { createSchemaValidator } = await import('../adapters/observer/schema-validator.ts');
      const db = openDatabase(join(dataDir, 'mcm.db'));
      const store = createSqliteEventStore({ db });
      const actor = { actor: { kind: 'system' as const, id: 'bench' } };
      handleCommand({ store, clock }, {
        type: 'AttachSchema',
        data: { name: 'reading', topicFilter: 'bench/+/+/json', schema: { type: 'object', required: ['v', 'unit'], properties: { v: { type: 'number', minimum: 0 }, unit: { enum: ['C', 'F'] }, ok: { type: 'boolean' } } } },
      }, actor);
      handleCommand({ store, clock }, { type: 'AttachSchema', data: { name: 'other', topicFilter: 'elsewhere/#', schema: { type: 'object' } } }, actor);
      processors.push(createSchemaValidator({ store, bus, clock, logger }));
      pipeline.push('json-schemas (2 schemas, 1 matching)');
    } catch (e) {
      pipeline.push(`json-schemas unavailable: ${(e as Error).message}`);
    }
    try {
      const { createSparkplugTracker } = await import('../adapters/observer/sparkplug-tracker.ts');
      processors.push(createSparkplugTracker({ bus, clock, logger }));
      pipeline.push('sparkplug');
    } catch (e) {
      pipeline.push(`sparkplug unavailable: ${(e as Error).message}`);
    }
    // Counted after the whole pipeline ran: the last processor in line.
    processors.push({ name: 'bench-counter', process: () => tick() });
    const obs = createObservation({
      config, serviceAccount: { username: 'bench', password: 'bench' }, bus, clock, logger, brokerLog: null, processors,
    });
    client = { end: (_f, cb) => { void obs.stop().then(cb); } };
    extra = () => ({ tree: obs.tree.stats(), pipeline, failures: obs.observer.status().processor_failures });
    await obs.start();
    await new Promise<void>((resolve) => {
      const off = bus.subscribe((m) => { if (m.type === 'broker_status' && m.up) { off(); resolve(); } }, ['broker_status']);
    });
  }
  process.stdout.write('ready\n');
  if (method === 'live') return;
  // drain: block the event loop until the publisher is done, so the broker queues the whole run;
  // what is measured next is how fast this subscriber drains it (its own capacity), whatever the
  // publisher's or the broker's live speed.
  const go = join(dataDir, `go-${process.pid}`);
  const nap = new Int32Array(new SharedArrayBuffer(4));
  while (!existsSync(go)) Atomics.wait(nap, 0, 0, 5);
  start = performance.now();
};

// ---------------------------------------------------------------- the orchestrator

type Round = { mode: Mode; method: Method; rate: number; count: number; result: SubResult };

const runSubscriber = async (mode: Mode, method: Method, port: number, expect: number, dataDir: string, feed: () => Promise<void>): Promise<SubResult> => {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), SUB_FLAG, mode, method, String(port), String(expect), dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const it = lines[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const r = await it.next();
    if (r.done) throw new Error(`${mode} subscriber exited early`);
    return r.value as string;
  };
  if ((await next()) !== 'ready') throw new Error(`${mode} subscriber did not start`);
  await feed();
  writeFileSync(join(dataDir, `go-${child.pid}`), '');
  const result = JSON.parse(await next()) as SubResult;
  await new Promise((r) => child.once('exit', r));
  return result;
};

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });

const startBroker = async (dir: string): Promise<{ port: number; stop(): Promise<void> }> => {
  const { findMosquitto } = await import('../adapters/config/defaults.ts');
  const bin = findMosquitto();
  if (!bin) throw new Error('mosquitto is not installed: run `npm run setup`');
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, [
    'per_listener_settings false',
    ...(process.getuid?.() === 0 ? ['user root'] : []),
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence false',
    'log_dest stderr',
    'log_type error',
    // Deliver everything: no per-client queue limits for the measured subscriber.
    'max_queued_messages 0',
    'max_queued_bytes 0',
    'sys_interval 10',
    '',
  ].join('\n'));
  const child = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (b: Buffer) => { err += b.toString(); });
  const until = Date.now() + 5000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > until || child.exitCode !== null) throw new Error(`mosquitto did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, stop: () => new Promise<void>((r) => { child.once('exit', () => r()); child.kill('SIGTERM'); }) };
};

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};

type MethodResult = { bare_rates: number[]; observer_rates: number[]; bare_rate: number; observer_rate: number; ratio: number; undelivered: { bare: number; observer: number } };

export type ObserverIngestResult = {
  messages: number;
  publishers: number;
  /** The target: messages/s while publishers write, against the bare subscriber's (the broker's delivery ceiling). */
  live: MethodResult;
  /** Informational: each subscriber draining a queued backlog (its own capacity). */
  drain: MethodResult;
  pipeline: string[];
  memory: { topics_published: number; tree_topics: number; max_topics: number; evicted: number; rss_mb: number; heap_mb: number; within_bound: boolean };
  pass: boolean;
};

export const run = async (opts: { messages?: number; publishers?: number; log?: (l: string) => void } = {}): Promise<ObserverIngestResult> => {
  const messages = opts.messages ?? Number(process.env['BENCH_MESSAGES'] ?? 200_000);
  const publishers = opts.publishers ?? Number(process.env['BENCH_PUBLISHERS'] ?? 2);
  const log = opts.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'mcm-bench-observer-'));
  const broker = await startBroker(dir);
  try {
    const packets = workload(TOPICS, true);
    const nbirth = fixture('sparkplug-nbirth.b64');
    const prelude = nbirth ? Array.from({ length: 50 }, (_, i) => publishPacket(`spBv1.0/bench/NBIRTH/edge${i}`, nbirth)) : [];
    const expect = messages + prelude.length;
    const rounds: Round[] = [];
    let pipeline: string[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      for (const method of ['live', 'drain'] as const) {
        for (const mode of ['bare', 'observer'] as const) {
          const result = await runSubscriber(mode, method, broker.port, expect, dir, () => publish(broker.port, packets, messages, prelude, publishers));
          const rate = Math.round(result.count / ((result.last_ms - result.first_ms) / 1000));
          if (result.pipeline) pipeline = result.pipeline;
          rounds.push({ mode, method, rate, count: result.count, result });
          log(`observer-ingest: round ${r + 1} ${method} ${mode}: ${rate} msg/s (${result.count}/${expect} received, rss ${result.rss_mb} MB)`);
        }
      }
    }
    const summarise = (method: Method): MethodResult => {
      const of = (mode: Mode) => rounds.filter((x) => x.method === method && x.mode === mode);
      const bare = of('bare').map((x) => x.rate);
      const obs = of('observer').map((x) => x.rate);
      return {
        bare_rates: bare,
        observer_rates: obs,
        bare_rate: median(bare),
        observer_rate: median(obs),
        ratio: median(bare.map((b, i) => (obs[i] ?? 0) / b)),
        undelivered: { bare: Math.max(...of('bare').map((x) => expect - x.count)), observer: Math.max(...of('observer').map((x) => expect - x.count)) },
      };
    };
    const live = summarise('live');
    const drain = summarise('drain');

    log(`observer-ingest: ${MEMORY_TOPICS} distinct topics through the observer (max_topics ${MAX_TOPICS})…`);
    const distinct = workload(MEMORY_TOPICS, false);
    const mem = await runSubscriber('observer', 'live', broker.port, MEMORY_TOPICS, dir, () => publish(broker.port, distinct, MEMORY_TOPICS, [], publishers));
    const tree = mem.tree ?? { topics: -1, evicted: -1, max_topics: MAX_TOPICS };
    const withinBound = tree.topics >= 0 && tree.topics <= MAX_TOPICS && tree.evicted >= mem.count - MAX_TOPICS;
    return {
      messages, publishers, live, drain, pipeline,
      memory: { topics_published: MEMORY_TOPICS, tree_topics: tree.topics, max_topics: tree.max_topics, evicted: tree.evicted, rss_mb: mem.rss_mb, heap_mb: mem.heap_mb, within_bound: withinBound },
      pass: live.ratio >= TARGET_RATIO && withinBound,
    };
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
};

const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;

const bench: Bench = {
  name: 'observer-ingest',
  description: 'messages/s through the observer (tree, JSON schemas, Sparkplug) vs a bare counting mqtt.js subscriber; 100,000 topics within max_topics',
  async run(log): Promise<BenchResult> {
    const r = await run({ log });
    return {
      table: {
        columns: ['case', 'bare msg/s', 'observer msg/s', 'observer/bare', 'target', 'result'],
        rows: [
          ['live: while publishers write (broker delivery ceiling)', r.live.bare_rate, r.live.observer_rate, pct(r.live.ratio), `≥ ${pct(TARGET_RATIO)}`, r.live.ratio >= TARGET_RATIO ? 'ok' : 'MISS'],
          ['drain: a queued backlog (subscriber capacity)', r.drain.bare_rate, r.drain.observer_rate, pct(r.drain.ratio), '—', '—'],
          [`${MEMORY_TOPICS} distinct topics`, '—', `${r.memory.tree_topics} kept, ${r.memory.evicted} evicted, rss ${r.memory.rss_mb} MB (heap ${r.memory.heap_mb} MB)`, '—', `≤ ${MAX_TOPICS} topics`, r.memory.within_bound ? 'ok' : 'MISS'],
        ],
      },
      data: { ...r, at: new Date().toISOString(), node: process.version },
      pass: r.pass,
      notes: [
        `Pipeline: ${r.pipeline.join(', ')}; ${r.messages} QoS 0 messages per run on ${TOPICS} topics (JSON readings, ${Math.round(100 / SPARKPLUG_EVERY)}% Sparkplug NDATA) from ${r.publishers} publisher connections; ${ROUNDS} rounds, bare and observer alternating, medians shown.`,
        `Per-round msg/s — live bare: ${r.live.bare_rates.join(', ')}; live observer: ${r.live.observer_rates.join(', ')}; drain bare: ${r.drain.bare_rates.join(', ')}; drain observer: ${r.drain.observer_rates.join(', ')}.`,
        `Messages not delivered (max over rounds) — live: bare ${r.live.undelivered.bare}, observer ${r.live.undelivered.observer}; drain: bare ${r.drain.undelivered.bare}, observer ${r.drain.undelivered.observer}.`,
        'Publishers: pre-encoded PUBLISH packets on raw sockets in the parent; each subscriber in its own process; one mosquitto 2.0.11 on loopback with no queue limits.',
      ],
    };
  },
};

export default bench;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf(SUB_FLAG);
  if (i !== -1) {
    const [mode, method, port, expect, dataDir] = process.argv.slice(i + 1);
    await subscriber(mode as Mode, method as Method, Number(port), Number(expect), dataDir as string);
  } else {
    const result = await bench.run((l) => process.stderr.write(`${l}\n`));
    // Not run.ts's formatter: importing run.ts runs every bench.
    for (const row of [result.table.columns, ...result.table.rows]) process.stdout.write(`${row.join(' | ')}\n`);
    for (const n of result.notes ?? []) process.stdout.write(`note: ${n}\n`);
    process.exitCode = result.pass ? 0 : 1;
  }
}
