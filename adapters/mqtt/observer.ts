/**
 * The observer (DESIGN §7): one mqtt.js connection as MCM's service account, subscribed to `#`
 * and `$SYS/#`. `$SYS/broker/…` values feed the broker stats, `$SYS/broker/log/…` lines go to the
 * connection-log source (when the broker has `log_dest topic`), and every other message is handed
 * to each processor (topic tree, JSON schemas, Sparkplug) and pushed live as `topic_message`.
 * MCM's own probe traffic (`$mcm/…`) is never processed (DESIGN §6).
 *
 * - MQTT v5, subscribing to `#` with QoS 2 and retain-as-published, so the tree sees each
 *   message's real QoS and retain flag (with v3.1.1 the broker clears retain on live delivery and
 *   the subscription QoS caps the QoS seen). `#` never matches `$` topics, hence `$SYS/#`.
 * - Reconnects with exponential backoff (capped, with jitter); every up/down transition is
 *   published as `broker_status` with a reason.
 * - The hot path stays cheap: no allocation beyond the ObservedMessage and the live message, ISO
 *   timestamps cached per millisecond, a processor that throws is counted, never fatal.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type * as Mqtt from 'mqtt';
import { lazyModule } from '../modules/lazy-module.ts';
import type { IClientOptions, MqttClient } from 'mqtt';
import type { Clock } from '../../core/ports.ts';
import type { Config } from '../config/config.ts';
import type { LiveBus } from '../live/live-bus.ts';
import type { MessageProcessor, ObservedMessage } from '../live/observed-message.ts';
import type { Logger } from '../logging/logger.ts';
import { quickPreview } from './payload-preview.ts';
import { createSysStats, type SysHistorySample, type SysStatsSnapshot } from './sys-stats.ts';

/** Loaded with the first connection, not with the server (issue 14). */
const mqtt = lazyModule<typeof Mqtt>('mqtt');

export const OBSERVER_CLIENT_PREFIX = 'mcm-observer-';
const MCM_TOPICS = '$mcm/';
const SYS_TOPICS = '$SYS/';
const SYS_LOG = '$SYS/broker/log/';
const SYS_LOG_SUBSCRIPTIONS = '$SYS/broker/log/M/';

export type ObserverState = 'idle' | 'connecting' | 'up' | 'down' | 'stopped';

export type ObserverStatus = Readonly<{
  state: ObserverState;
  connected: boolean;
  /** When the current state began (ISO). */
  since: string | null;
  /** Why the connection is down (the last error), null while up. */
  reason: string | null;
  client_id: string;
  broker: string;
  reconnects: number;
  messages: number;
  bytes: number;
  /** Messages a processor threw on, by processor name. */
  processor_failures: Readonly<Record<string, number>>;
}>;

export type PublishOptions = Readonly<{ qos: 0 | 1 | 2; retain: boolean; timeoutMs?: number }>;

export type Observer = {
  start(): void;
  stop(): Promise<void>;
  status(): ObserverStatus;
  connected(): boolean;
  stats(): SysStatsSnapshot;
  /** The rates history of the last `sinceMs` (at most 15 minutes), oldest first (sys-stats.ts). */
  statsHistory(sinceMs?: number): SysHistorySample[];
  /**
   * Publishes as the service account on the observer's connection; resolves when the broker has
   * acknowledged it (PUBACK / PUBCOMP for QoS 1 / 2, written to the socket for QoS 0).
   */
  publish(topic: string, payload: Buffer, options: PublishOptions): Promise<void>;
  /**
   * The broker is known to be back (the supervisor restarted it): connect now instead of at the
   * end of the current backoff delay, and start the backoff afresh. No-op while up or connecting.
   */
  reconnectNow(): void;
};

export type ObserverDeps = Readonly<{
  config: Pick<Config, 'mqtt'>;
  serviceAccount: Readonly<{ username: string; password: string }>;
  bus: LiveBus;
  clock: Clock;
  logger: Pick<Logger, 'info' | 'warn' | 'error' | 'debug'>;
  processors: readonly MessageProcessor[];
  /** `$SYS/broker/log/…` payloads (log-sources.ts, sys-topic mode); null: ignored. */
  sysLogLine?: ((line: string) => void) | null;
  /** ms since the epoch, for ObservedMessage.receivedAt (default Date.now). */
  now?: () => number;
  backoff?: Readonly<{ initialMs?: number; maxMs?: number }>;
  keepaliveS?: number;
  /** Bytes of payload in each live `topic_message` preview. */
  livePreviewBytes?: number;
  statsThrottleMs?: number;
  /** MCM's own connections to the broker right now (this observer, probes): left out of `clients/connected`. */
  ownConnections?: () => number;
}>;

export class ObserverUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ObserverUnavailableError';
  }
}

const tlsOptions = (tls: Config['mqtt']['tls']): Partial<IClientOptions> => ({
  ...(tls.ca ? { ca: readFileSync(tls.ca) } : {}),
  ...(tls.cert ? { cert: readFileSync(tls.cert) } : {}),
  ...(tls.key ? { key: readFileSync(tls.key) } : {}),
  rejectUnauthorized: tls.reject_unauthorized,
});

export const createObserver = (deps: ObserverDeps): Observer => {
  const { bus, logger } = deps;
  const mq = deps.config.mqtt;
  const now = deps.now ?? Date.now;
  const initialMs = deps.backoff?.initialMs ?? 500;
  const maxMs = deps.backoff?.maxMs ?? 30_000;
  const previewBytes = deps.livePreviewBytes ?? 256;
  const processors = [...deps.processors];
  const sysLogLine = deps.sysLogLine ?? null;
  const clientId = `${OBSERVER_CLIENT_PREFIX}${randomBytes(4).toString('hex')}`;
  const broker = `${mq.tls.enabled ? 'mqtts' : 'mqtt'}://${mq.host}:${mq.port}`;
  const stats = createSysStats({
    bus, now,
    ...(deps.statsThrottleMs === undefined ? {} : { throttleMs: deps.statsThrottleMs }),
    ...(deps.ownConnections ? { ownConnections: deps.ownConnections } : {}),
  });

  let client: MqttClient | null = null;
  let state: ObserverState = 'idle';
  let since: string | null = null;
  let reason: string | null = null;
  let lastError: string | null = null;
  let everUp = false;
  let reconnects = 0;
  let attempt = 0;
  let timer: NodeJS.Timeout | null = null;
  let messages = 0;
  let bytes = 0;
  /** Every PUBLISH delivered to this observer, `$SYS` and `$mcm` included: its share of `publish/messages/sent`. */
  let publishesIn = 0;
  const failures: Record<string, number> = Object.fromEntries(processors.map((p) => [p.name, 0]));
  const lastFailureLog = new Map<string, number>();
  let isoMs = -1;
  let isoText = '';

  const isoAt = (ms: number): string => {
    if (ms !== isoMs) {
      isoMs = ms;
      isoText = new Date(ms).toISOString();
    }
    return isoText;
  };

  /** Publishes transitions only: repeated failures while down say nothing new. */
  const transition = (next: 'up' | 'down', why: string | null): void => {
    if (next === 'down' && state === 'down') {
      reason = why;
      return;
    }
    state = next;
    since = deps.clock.now();
    reason = why;
    bus.publish({ type: 'broker_status', up: next === 'up', ...(why ? { reason: why } : {}), at: since });
  };

  const processorFailed = (p: MessageProcessor, e: unknown): void => {
    failures[p.name] = (failures[p.name] ?? 0) + 1;
    const t = now();
    if (t - (lastFailureLog.get(p.name) ?? -Infinity) >= 60_000) {
      lastFailureLog.set(p.name, t);
      logger.warn({ processor: p.name, err: e instanceof Error ? e.message : String(e), failures: failures[p.name] }, 'message processor failed');
    }
  };

  const onMessage = (topic: string, payload: Buffer, packet: { qos: 0 | 1 | 2; retain: boolean }): void => {
    const ownBefore = publishesIn++;
    if (topic.charCodeAt(0) === 36 /* $ */) {
      if (topic.startsWith(SYS_TOPICS)) {
        // Connection lines come on log/N and log/E; log/M/(un)subscribe lines carry client text only.
        if (topic.startsWith(SYS_LOG)) {
          if (!topic.startsWith(SYS_LOG_SUBSCRIPTIONS)) sysLogLine?.(payload.toString('utf8'));
        }
        else stats.handle(topic, payload, ownBefore);
        return;
      }
      if (topic.startsWith(MCM_TOPICS)) return;
    }
    messages++;
    bytes += payload.length;
    const receivedAt = now();
    const message: ObservedMessage = { topic, payload, qos: packet.qos, retain: packet.retain, receivedAt };
    for (let i = 0; i < processors.length; i++) {
      const p = processors[i] as MessageProcessor;
      try {
        p.process(message);
      } catch (e) {
        processorFailed(p, e);
      }
    }
    const preview = quickPreview(payload, previewBytes);
    bus.publish({
      type: 'topic_message', topic, qos: packet.qos, retain: packet.retain, bytes: payload.length,
      preview: preview.text, preview_kind: preview.kind, at: isoAt(receivedAt),
    });
  };

  const schedule = (): void => {
    if (state === 'stopped' || timer) return;
    const base = Math.min(maxMs, initialMs * 2 ** Math.min(attempt - 1, 30));
    // ±20 % jitter so several MCMs (or a restarting broker's clients) don't reconnect in lockstep.
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    timer = setTimeout(() => {
      timer = null;
      connect();
    }, delay);
    timer.unref();
  };

  const connect = (): void => {
    if (state === 'stopped') return;
    attempt++;
    if (state !== 'up' && state !== 'down') state = 'connecting';
    lastError = null;
    let options: IClientOptions;
    try {
      options = {
        protocol: mq.tls.enabled ? 'mqtts' : 'mqtt',
        host: mq.host,
        port: mq.port,
        protocolVersion: 5,
        clientId,
        username: deps.serviceAccount.username,
        password: deps.serviceAccount.password,
        clean: true,
        keepalive: deps.keepaliveS ?? 30,
        reconnectPeriod: 0, // our own backoff below
        connectTimeout: 10_000,
        ...(mq.tls.enabled ? tlsOptions(mq.tls) : {}),
      };
    } catch (e) {
      transition('down', `cannot read the TLS files: ${(e as Error).message}`);
      schedule();
      return;
    }
    const c = mqtt().connect(options);
    client = c;
    c.on('message', onMessage as unknown as (topic: string, payload: Buffer, packet: unknown) => void);
    c.on('error', (e: Error) => { lastError = e.message; });
    c.on('connect', () => {
      if (client !== c) return;
      c.subscribe({ '#': { qos: 2, rap: true }, '$SYS/#': { qos: 0 } }, (err, granted) => {
        if (client !== c) return;
        const refused = granted?.filter((g) => g.qos > 2) ?? [];
        if (err || refused.length > 0) {
          const why = err ? err.message : `subscription refused: ${refused.map((g) => g.topic).join(', ')}`;
          logger.error({ err: why }, 'observer subscription failed');
          lastError = why;
          c.end(true);
          return;
        }
        if (everUp) reconnects++;
        everUp = true;
        attempt = 0;
        logger.info({ broker, client_id: clientId }, 'observer connected');
        transition('up', null);
      });
    });
    c.on('close', () => {
      if (client !== c) return;
      client = null;
      c.removeAllListeners('message');
      c.end(true);
      if (state === 'stopped') return;
      const why = lastError ?? (state === 'up' ? 'connection lost' : 'connection closed');
      if (state === 'up') logger.warn({ broker, reason: why }, 'observer disconnected');
      transition('down', why);
      if (attempt === 0) attempt = 1;
      schedule();
    });
  };

  return {
    start() {
      if (state !== 'idle') return;
      connect();
    },
    async stop() {
      state = 'stopped';
      since = deps.clock.now();
      if (timer) clearTimeout(timer);
      timer = null;
      stats.stop();
      const c = client;
      client = null;
      if (c) await new Promise<void>((r) => c.end(true, () => r()));
    },
    status: () => ({
      state, connected: state === 'up', since, reason, client_id: clientId, broker, reconnects, messages, bytes,
      processor_failures: { ...failures },
    }),
    reconnectNow() {
      // Only while waiting out a delay: a connect in flight finishes on its own.
      if (state !== 'down' || timer === null) return;
      clearTimeout(timer);
      timer = null;
      attempt = 0;
      connect();
    },
    connected: () => state === 'up' && client !== null && client.connected,
    stats: () => stats.snapshot(),
    statsHistory: (sinceMs) => stats.history(sinceMs),
    publish(topic, payload, options) {
      const c = client;
      if (state !== 'up' || c === null || !c.connected) {
        return Promise.reject(new ObserverUnavailableError(`the observer is not connected to the broker (${reason ?? state})`));
      }
      const timeoutMs = options.timeoutMs ?? 10_000;
      return new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new ObserverUnavailableError(`the broker did not acknowledge the publish within ${timeoutMs} ms`)), timeoutMs);
        c.publish(topic, payload, { qos: options.qos, retain: options.retain }, (err) => {
          clearTimeout(t);
          if (err) reject(err);
          else resolve();
        });
      });
    },
  };
};
