/**
 * The whole observing side in one factory, for adapters/main.ts: the clients table fed by the
 * connection-log source, the bounded topic tree, and the observer that hands each message to the
 * tree and to the other processors (JSON schemas, Sparkplug). `api` is HttpDeps.observer.
 * Start order: log source first (its replay fills the table), then the observer. Stop: the
 * observer first (no more messages), then the log source.
 */
import type { Clock } from '../../core/ports.ts';
import type { Config } from '../config/config.ts';
import type { LiveBus } from '../live/live-bus.ts';
import type { MessageProcessor } from '../live/observed-message.ts';
import type { Logger } from '../logging/logger.ts';
import type { BrokerLog } from '../mosquitto/broker-log.ts';
import { createClientsTable, type ClientsTable } from '../observer/clients-table.ts';
import { createTopicTree, type TopicTree } from '../observer/topic-tree.ts';
import { createLogSource, type LogSource } from './log-sources.ts';
import { createObserverApi, type ObserverApi } from './observer-api.ts';
import { createObserver, type Observer, type ObserverDeps } from './observer.ts';

export type ObservationDeps = Readonly<{
  config: Pick<Config, 'mqtt' | 'observer'>;
  serviceAccount: Readonly<{ username: string; password: string }>;
  bus: LiveBus;
  clock: Clock;
  logger: Pick<Logger, 'info' | 'warn' | 'error' | 'debug'>;
  /** The supervised broker's log (ServerDeps.brokerLog); null in external mode. */
  brokerLog: BrokerLog | null;
  /** Run after the topic tree, in this order (schema validator, Sparkplug). */
  processors?: readonly MessageProcessor[];
  /** Test knobs passed to the observer. */
  observer?: Partial<Pick<ObserverDeps, 'backoff' | 'now' | 'statsThrottleMs' | 'keepaliveS'>>;
}>;

export type Observation = {
  observer: Observer;
  clients: ClientsTable;
  tree: TopicTree;
  logSource: LogSource;
  api: ObserverApi;
  start(): Promise<void>;
  stop(): Promise<void>;
};

export const createObservation = (deps: ObservationDeps): Observation => {
  const { config, bus, clock, logger } = deps;
  // MCM's own connections stay out of every client count (DESIGN §6, issue 12).
  const clients = createClientsTable({ bus, clock, excludeUsernames: [deps.serviceAccount.username] });
  const tree = createTopicTree({ maxTopics: config.observer.max_topics, historyDepth: config.observer.history_depth });
  const logSource = createLogSource({ config, brokerLog: deps.brokerLog, clients, bus, clock, logger });
  const observer = createObserver({
    config,
    serviceAccount: deps.serviceAccount,
    bus,
    clock,
    logger,
    processors: [tree, ...(deps.processors ?? [])],
    sysLogLine: logSource.sysLogLine,
    // The observer itself counts even when its own connect line was missed (sys-topic mode).
    ownConnections: () => {
      const own = new Set(clients.own());
      if (observer.connected()) own.add(observer.status().client_id);
      return own.size;
    },
    ...deps.observer,
  });
  const api = createObserverApi({ observer, clients, topics: tree, logSource: logSource.kind });
  return {
    observer, clients, tree, logSource, api,
    async start() {
      await logSource.start();
      observer.start();
    },
    async stop() {
      await observer.stop();
      await logSource.stop();
    },
  };
};
