/**
 * The MQTT side of the load scenario in a worker thread (load-worker-rpc.ts): the publisher and
 * the plain subscriber whose lag is the baseline for the ws viewers'. On its own event loop, so
 * the writers' HTTP work in the main thread neither delays the publisher's clock nor is delayed
 * by 10,000+ messages/s.
 *
 * Commands: `connect`; `max` {prefix, topics, seconds} → the broker's maximum throughput;
 * `sustainable` {prefix, topics, stepS, startRate, maxRate, lagP50Ms, lagP99Ms} → its sustainable rate;
 * `start` {rate, prefix, topics}; `sent` → published so far; `stop` → {sent, received, lag};
 * `close`.
 */
import { isMainThread, workerData } from 'node:worker_threads';
import type { MqttClient } from 'mqtt';
import { connectMqtt, drained, endMqtt, lagSubscriber, measureBrokerMax, measureSustainable, startRatePublisher, type RatePublisher } from './load-publisher.ts';
import { serveRpc } from './load-worker-rpc.ts';

export type TrafficInput = { port: number; pub: { username: string; password: string }; sub: { username: string; password: string } };

const serve = (input: TrafficInput): void => {
  let pub: MqttClient | null = null;
  let subClient: MqttClient | null = null;
  let sub: Awaited<ReturnType<typeof lagSubscriber>> | null = null;
  let publisher: RatePublisher | null = null;
  const ready = (): { pub: MqttClient; sub: NonNullable<typeof sub> } => {
    if (!pub || !sub) throw new Error('connect first');
    return { pub, sub };
  };
  serveRpc({
    connect: async () => {
      pub = await connectMqtt(input.port, input.pub.username, input.pub.password, 'load-pub');
      subClient = await connectMqtt(input.port, input.sub.username, input.sub.password, 'load-sub');
      sub = await lagSubscriber(subClient, 'load/#');
      return null;
    },
    max: (a: { prefix: string; topics: number; seconds: number }) =>
      measureBrokerMax(ready().pub, ready().sub, { topicPrefix: a.prefix, topics: a.topics, seconds: a.seconds }),
    sustainable: (a: { prefix: string; topics: number; stepS: number; startRate: number; maxRate: number; lagP50Ms: number; lagP99Ms: number }) =>
      measureSustainable(ready().pub, ready().sub, { topicPrefix: a.prefix, ...a }),
    start: (a: { rate: number; prefix: string; topics: number }) => {
      const r = ready();
      r.sub.reset();
      publisher = startRatePublisher(r.pub, { rate: a.rate, topicPrefix: a.prefix, topics: a.topics });
      return null;
    },
    sent: () => publisher?.sent() ?? 0,
    stop: async () => {
      const sent = (await publisher?.stop()) ?? 0;
      publisher = null;
      await drained(ready().sub);
      return { sent, received: ready().sub.counted(), lag: ready().sub.lag() };
    },
    close: async () => {
      sub?.stop();
      for (const c of [pub, subClient]) if (c) await endMqtt(c);
      return null;
    },
  });
};

if (!isMainThread) serve(workerData as TrafficInput);
