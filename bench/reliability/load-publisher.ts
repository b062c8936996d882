/**
 * MQTT traffic for the load scenario: the broker's maximum throughput (a flooding QoS 0
 * publisher and one subscriber) and its sustainable rate (the highest rate the subscriber takes
 * without lagging or losing), both measured in the same run before the load; a publisher at a
 * fixed rate whose payloads carry their send time (`{"t": <wall ms>, "n": <count>}`); and a
 * plain MQTT subscriber whose lag is the baseline for the ws viewers' lag.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { newHistogram, quantile, record, type Histogram } from './load-stats.ts';

const wallNow = (): number => performance.timeOrigin + performance.now();

export const connectMqtt = (port: number, username: string, password: string, clientId: string): Promise<MqttClient> =>
  new Promise((resolve, reject) => {
    const client = mqtt.connect({ host: '127.0.0.1', port, protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 10_000, clientId, username, password, clean: true });
    client.once('connect', () => resolve(client));
    client.once('error', (e) => { client.end(true); reject(new Error(`MQTT login as ${username}: ${e.message}`)); });
  });

export const endMqtt = (client: MqttClient): Promise<void> => new Promise((resolve) => client.end(false, {}, () => resolve()));

/** A subscriber that counts the messages under `filter` and records their lag. */
export const lagSubscriber = async (client: MqttClient, filter: string): Promise<{ counted(): number; lag: () => Histogram; reset(): void; stop(): void }> => {
  let lag = newHistogram();
  let count = 0;
  const prefix = filter.replace(/#$/, '');
  const onMessage = (topic: string, payload: Buffer): void => {
    if (!topic.startsWith(prefix)) return;
    count++;
    const m = /"t":([0-9.]+)/.exec(payload.toString('latin1', 0, 64));
    if (m) record(lag, wallNow() - Number(m[1]));
  };
  client.on('message', onMessage);
  await client.subscribeAsync(filter, { qos: 0 });
  return {
    counted: () => count,
    lag: () => lag,
    reset: () => { lag = newHistogram(); count = 0; },
    stop: () => { client.off('message', onMessage); },
  };
};

const payloadOf = (n: number): string => `{"t":${wallNow().toFixed(3)},"n":${n}}`;

/**
 * Floods QoS 0 messages for `seconds` (at most `window` unwritten at a time, so the socket, not
 * a queue in this process, sets the pace) and returns what the subscriber received per second
 * over the last `seconds - 1` (the first second is warmup).
 */
export const measureBrokerMax = async (pub: MqttClient, sub: { counted(): number; reset(): void }, opts: { topicPrefix: string; topics: number; seconds: number }): Promise<{ msgs_per_s: number; sent: number }> => {
  const WINDOW = 256;
  let outstanding = 0;
  let sent = 0;
  let stop = false;
  let wake: (() => void) | null = null;
  const written = (): void => {
    outstanding--;
    if (wake && outstanding < WINDOW / 2) { const w = wake; wake = null; w(); }
  };
  const flood = (async () => {
    while (!stop) {
      while (outstanding < WINDOW && !stop) {
        outstanding++;
        sent++;
        pub.publish(`${opts.topicPrefix}${sent % opts.topics}`, payloadOf(sent), { qos: 0 }, written);
      }
      await new Promise<void>((r) => { wake = r; setTimeout(() => { if (wake === r) { wake = null; r(); } }, 50); });
    }
  })();
  await new Promise((r) => setTimeout(r, 1000));
  sub.reset();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, (opts.seconds - 1) * 1000));
  const got = sub.counted();
  const dt = (performance.now() - t0) / 1000;
  stop = true;
  await flood;
  await drained(sub);
  return { msgs_per_s: Math.round(got / dt), sent };
};

/** Resolves once the subscriber's count has not moved for half a second (at most 15 s): the backlog is through. */
export const drained = async (sub: { counted(): number }): Promise<void> => {
  const deadline = performance.now() + 15_000;
  let last = -1;
  while (sub.counted() !== last && performance.now() < deadline) {
    last = sub.counted();
    await new Promise((r) => setTimeout(r, 500));
  }
};

export type RatePublisher = { sent(): number; stop(): Promise<number> };

/**
 * Publishes `rate` messages/s (QoS 0) round-robin over `topics` topics, in small batches every
 * 10 ms. A stalled event loop is not caught up in one burst: each tick sends at most 50 ms worth.
 */
export const startRatePublisher = (pub: MqttClient, opts: { rate: number; topicPrefix: string; topics: number }): RatePublisher => {
  let sent = 0;
  let due = 0;
  let last = performance.now();
  const tick = (): void => {
    const now = performance.now();
    due = Math.min(due + ((now - last) / 1000) * opts.rate, opts.rate * 0.05);
    last = now;
    while (due >= 1) {
      due--;
      sent++;
      pub.publish(`${opts.topicPrefix}${sent % opts.topics}`, payloadOf(sent), { qos: 0 });
    }
  };
  const timer = setInterval(tick, 10);
  return {
    sent: () => sent,
    stop: async () => {
      clearInterval(timer);
      return sent;
    },
  };
};

export type RateStep = { rate: number; sent: number; received: number; p50_ms: number | null; p99_ms: number | null; ok: boolean };

/**
 * "Increase until the subscriber lags or loses": `stepS` seconds at each rate, doubling from
 * `startRate` (then one step at 1.5× the last good rate); a step is good when the subscriber got
 * at least 99% of it and its lag stayed within `lagP50Ms` at the median and `lagP99Ms` at p99.
 * The median is the "lags" test (a subscriber that falls behind falls behind for every message);
 * the loose p99 only keeps out a rate where it falls behind now and then, so one scheduling hiccup
 * of a noisy machine does not end the search. Returns the last good rate (the start rate when
 * none was: reported as such) and every step.
 */
export const measureSustainable = async (
  pub: MqttClient,
  sub: { counted(): number; lag(): Histogram; reset(): void },
  opts: { topicPrefix: string; topics: number; stepS: number; startRate: number; maxRate: number; lagP50Ms: number; lagP99Ms: number },
): Promise<{ rate: number; steps: RateStep[] }> => {
  const steps: RateStep[] = [];
  const step = async (rate: number): Promise<boolean> => {
    sub.reset();
    const publisher = startRatePublisher(pub, { rate, topicPrefix: opts.topicPrefix, topics: opts.topics });
    await new Promise((r) => setTimeout(r, opts.stepS * 1000));
    const sent = await publisher.stop();
    await drained(sub);
    const received = sub.counted();
    const [p50, p99] = [quantile(sub.lag(), 0.5), quantile(sub.lag(), 0.99)];
    const ok = received >= 0.99 * sent && p50 !== null && p99 !== null && p50 <= opts.lagP50Ms && p99 <= opts.lagP99Ms;
    const r1 = (v: number | null): number | null => (v === null ? null : Math.round(v * 10) / 10);
    steps.push({ rate, sent, received, p50_ms: r1(p50), p99_ms: r1(p99), ok });
    return ok;
  };
  let good = 0;
  for (let rate = opts.startRate; rate <= opts.maxRate; rate *= 2) {
    if (!(await step(rate))) break;
    good = rate;
  }
  if (good > 0 && good < opts.maxRate && (await step(Math.round(good * 1.5)))) good = Math.round(good * 1.5);
  return { rate: good || opts.startRate, steps };
};
