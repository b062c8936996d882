/**
 * Prometheus metrics (DESIGN §3 prom-client; STYLE: `mcm_` prefix, base units, `_total` for
 * counters). A PRIVATE registry per createMetrics call (no default global registry: two servers
 * in one process never share counters). Label cardinality is bounded by construction: no topic,
 * client id or username ever becomes a label; every label value comes from a fixed set
 * (labels.ts), the router's route pattern, or is bucketed to "other".
 *
 * Fed three ways:
 *   - the LiveBus (`bus`): broker_status → mcm_broker_up, reconnects; security_event → by category;
 *   - explicit hooks: observeHttp (http-middleware.ts), recordApply, recordSchemaValidation,
 *     recordWebhookDelivery, recordLoginAttempt, wsDropped, and `processor` (an observer
 *     MessageProcessor counting messages and bytes with plain integer adds, hot path);
 *   - sources read lazily at scrape time (prom-client collect callbacks): headSeq, wsClients,
 *     topicsTracked, topicsEvicted (cumulative), brokerUp, mqttClients, malformed and
 *     processorFailures (cumulative counts the observer side keeps), certificates (expiry).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { LiveBus } from '../live/live-bus.ts';
import type { MessageProcessor } from '../live/observed-message.ts';
import {
  APPLY_RESULTS, bucket, httpMethodLabel, LOGIN_RESULTS, MALFORMED_KINDS, SCHEMA_RESULTS, securityCategoryLabel, WEBHOOK_RESULTS,
  type ApplyResultLabel, type LoginResult, type MalformedKind, type SchemaResult, type WebhookResult,
} from './labels.ts';

export type MetricsSources = {
  /** Seq of the last event in the log. */
  headSeq?: () => number;
  wsClients?: () => number;
  topicsTracked?: () => number;
  /** Cumulative count of topics evicted from the bounded topic tree. */
  topicsEvicted?: () => number;
  /** When given, wins over the last broker_status seen on the bus. */
  brokerUp?: () => boolean | null;
  /** Cumulative counts of observed messages MCM could not read, by kind (labels.ts MALFORMED_KINDS). */
  malformed?: () => Readonly<Record<MalformedKind, number>>;
  /** Cumulative count of observed messages a processor threw on (a bug, never a crash). */
  processorFailures?: () => number;
  /** MQTT clients connected to the broker, MCM's own connections (observer, probes) left out. */
  mqttClients?: () => number;
  /** The broker's TLS certificates (state.certificates): one expiry series per name. */
  certificates?: () => readonly Readonly<{ name: string; notAfter: string }>[];
};

export type CreateMetricsDeps = Readonly<{
  bus?: LiveBus | null;
  sources?: MetricsSources;
  /** Also export prom-client's process metrics (CPU, RSS, event loop lag) as mcm_process_*… */
  processMetrics?: boolean;
}>;

export type HttpObservation = Readonly<{ method: string; route: string; status: number; durationS: number }>;

export type Metrics = {
  registry: Registry;
  contentType: string;
  /** The text exposition (Prometheus 0.0.4 format). */
  render(): Promise<string>;
  observeHttp(o: HttpObservation): void;
  recordApply(result: string, latencyMs: number | null): void;
  recordSchemaValidation(result: SchemaResult, n?: number): void;
  recordWebhookDelivery(result: WebhookResult | string): void;
  recordLoginAttempt(result: LoginResult): void;
  recordSecurityEvent(category: string): void;
  wsDropped(n: number): void;
  /** Counts every observed message and its payload bytes (add it to the observer's processors). */
  processor: MessageProcessor;
  /** Sets or replaces lazily read sources (e.g. the ws hub, built after the metrics). */
  setSources(sources: MetricsSources): void;
  /** Leaves the bus. */
  stop(): void;
};

/** Seconds; HTTP handlers are mostly fast, bcrypt logins ~0.25 s at cost 12. */
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seconds from append to confirmed apply: debounce + write + reload + probes. */
const APPLY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60];

/**
 * prom-client's default metrics as `mcm_*`, minus the gauges it names `_total`
 * (`nodejs_active_handles_total`, `…_requests_total`, `…_resources_total`): in Prometheus a
 * `_total` suffix means a counter, and `promtool check metrics` rejects them (issue 12). Each is
 * the sum of its per-type gauge, which stays: `sum(mcm_nodejs_active_handles)` is the total.
 * Any other non-counter `_total` a later prom-client adds is dropped the same way.
 */
const registerProcessMetrics = (registry: Registry): void => {
  collectDefaultMetrics({ register: registry, prefix: 'mcm_' });
  for (const metric of registry.getMetricsAsArray()) {
    const { name, type } = metric as unknown as { name: string; type: string };
    if (name.endsWith('_total') && type !== 'counter') registry.removeSingleMetric(name);
  }
};

export const createMetrics = (deps: CreateMetricsDeps = {}): Metrics => {
  const registry = new Registry();
  const registers = [registry];
  const sources: MetricsSources = { ...deps.sources };
  if (deps.processMetrics) registerProcessMetrics(registry);

  const httpRequests = new Counter({
    name: 'mcm_http_requests_total', help: 'HTTP requests by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const, registers,
  });
  const httpDuration = new Histogram({
    name: 'mcm_http_request_duration_seconds', help: 'HTTP request duration by method and route pattern.',
    labelNames: ['method', 'route'] as const, buckets: HTTP_BUCKETS, registers,
  });

  let lastBrokerUp: boolean | null = null;
  new Gauge({
    name: 'mcm_broker_up', help: '1 when the observer is connected to the broker, 0 when not.', registers,
    collect() {
      const up = sources.brokerUp ? sources.brokerUp() : lastBrokerUp;
      this.set(up ? 1 : 0);
    },
  });
  const reconnects = new Counter({ name: 'mcm_observer_reconnects_total', help: 'Times the observer came back up after the broker was down.', registers });

  // Hot path: plain integer adds per message; the counters catch up at scrape time.
  let messages = 0;
  let bytes = 0;
  const deltaCounter = (name: string, help: string, read: () => number): void => {
    let reported = 0;
    new Counter({
      name, help, registers,
      collect() {
        const now = read();
        // A source that restarted from zero (a new topic tree) starts a new baseline.
        if (now < reported) reported = 0;
        if (now > reported) this.inc(now - reported);
        reported = now;
      },
    });
  };
  deltaCounter('mcm_messages_observed_total', 'MQTT messages the observer received (MCM probe traffic excluded).', () => messages);
  deltaCounter('mcm_bytes_observed_total', 'Payload bytes of the MQTT messages the observer received.', () => bytes);
  new Gauge({
    name: 'mcm_topics_tracked', help: 'Topics in the bounded topic tree.', registers,
    collect() { this.set(sources.topicsTracked?.() ?? 0); },
  });
  deltaCounter('mcm_topics_evicted_total', 'Topics evicted from the topic tree (least recently seen first).', () => sources.topicsEvicted?.() ?? 0);
  deltaCounter('mcm_observer_processor_failures_total', 'Observed messages a processor (topic tree, JSON schemas, Sparkplug) failed on; counted, never fatal.',
    () => sources.processorFailures?.() ?? 0);
  const malformedReported: Record<string, number> = {};
  const malformed = new Counter({
    name: 'mcm_observer_malformed_messages_total',
    help: 'Observed messages MCM could not read, by kind: sparkplug_payload (not a Sparkplug B payload, or a STATE payload that is neither JSON nor ONLINE/OFFLINE), sparkplug_topic (in the spBv1.0 namespace but not a Sparkplug topic).',
    labelNames: ['kind'] as const, registers,
    collect() {
      const now = sources.malformed?.();
      for (const kind of MALFORMED_KINDS) {
        const n = now?.[kind] ?? 0;
        // As deltaCounter: a source that restarted from zero starts a new baseline.
        const reported = n < (malformedReported[kind] ?? 0) ? 0 : malformedReported[kind] ?? 0;
        if (n > reported) this.inc({ kind }, n - reported);
        malformedReported[kind] = n;
      }
    },
  });
  for (const kind of MALFORMED_KINDS) malformed.inc({ kind }, 0);

  const schemaValidations = new Counter({
    name: 'mcm_schema_validations_total', help: 'JSON schema evaluations of observed payloads by result.',
    labelNames: ['result'] as const, registers,
  });
  const applyResults = new Counter({
    name: 'mcm_apply_results_total', help: 'Apply attempts by result (applied, written, failed).',
    labelNames: ['result'] as const, registers,
  });
  const applyLatency = new Histogram({
    name: 'mcm_apply_latency_seconds', help: 'Time from the triggering append to the recorded apply result.',
    buckets: APPLY_BUCKETS, registers,
  });
  new Gauge({
    name: 'mcm_event_log_seq', help: 'Seq of the last event in the event log (the log size).', registers,
    collect() { this.set(sources.headSeq?.() ?? 0); },
  });
  new Gauge({
    name: 'mcm_mqtt_clients_connected',
    help: "MQTT clients connected to the broker (from its connection log), MCM's own connections (observer, probes, service account) left out.",
    registers,
    collect() { this.set(sources.mqttClients?.() ?? 0); },
  });
  new Gauge({
    name: 'mcm_ws_clients', help: 'Connected live (WebSocket) clients.', registers,
    collect() { this.set(sources.wsClients?.() ?? 0); },
  });
  // One series per stored certificate: names are the operator's, few and bounded by the state.
  new Gauge({
    name: 'mcm_certificate_expiry_timestamp_seconds', help: "The broker's TLS certificates by name: notAfter as Unix seconds.",
    labelNames: ['name'] as const, registers,
    collect() {
      this.reset();
      for (const c of sources.certificates?.() ?? []) {
        const ms = Date.parse(c.notAfter);
        if (Number.isFinite(ms)) this.set({ name: c.name }, Math.floor(ms / 1000));
      }
    },
  });
  const wsDrops = new Counter({ name: 'mcm_ws_dropped_messages_total', help: 'Live messages not sent to slow ws clients (coalesced or refused).', registers });
  const webhookDeliveries = new Counter({
    name: 'mcm_webhook_deliveries_total', help: 'Webhook delivery attempts by result.',
    labelNames: ['result'] as const, registers,
  });
  const loginAttempts = new Counter({
    name: 'mcm_login_attempts_total', help: 'Admin sign-in attempts (password and MFA steps) by result.',
    labelNames: ['result'] as const, registers,
  });
  const securityEvents = new Counter({
    name: 'mcm_security_events_total', help: 'Security events by category (fixed set; others bucketed).',
    labelNames: ['category'] as const, registers,
  });

  // Zero series for the fixed label sets, so dashboards and rate() see them before the first event.
  for (const r of SCHEMA_RESULTS) schemaValidations.inc({ result: r }, 0);
  for (const r of APPLY_RESULTS) applyResults.inc({ result: r }, 0);
  for (const r of WEBHOOK_RESULTS) webhookDeliveries.inc({ result: r }, 0);
  for (const r of LOGIN_RESULTS) loginAttempts.inc({ result: r }, 0);

  const recordSecurityEvent = (category: string): void => securityEvents.inc({ category: securityCategoryLabel(category) });

  const unsubscribe = deps.bus
    ? deps.bus.subscribe((m) => {
      if (m.type === 'broker_status') {
        if (m.up && lastBrokerUp === false) reconnects.inc();
        lastBrokerUp = m.up;
      } else if (m.type === 'security_event') {
        recordSecurityEvent(m.category);
      }
    }, ['broker_status', 'security_event'])
    : () => {};

  return {
    registry,
    get contentType() { return registry.contentType; },
    render: () => registry.metrics(),
    observeHttp: (o) => {
      const method = httpMethodLabel(o.method);
      httpRequests.inc({ method, route: o.route, status: String(o.status) });
      httpDuration.observe({ method, route: o.route }, o.durationS);
    },
    recordApply: (result, latencyMs) => {
      applyResults.inc({ result: bucket<ApplyResultLabel>(APPLY_RESULTS, result) });
      if (latencyMs !== null && Number.isFinite(latencyMs) && latencyMs >= 0) applyLatency.observe(latencyMs / 1000);
    },
    recordSchemaValidation: (result, n = 1) => schemaValidations.inc({ result: bucket<SchemaResult>(SCHEMA_RESULTS, result) }, n),
    recordWebhookDelivery: (result) => webhookDeliveries.inc({ result: bucket<WebhookResult>(WEBHOOK_RESULTS, result) }),
    recordLoginAttempt: (result) => loginAttempts.inc({ result: bucket<LoginResult>(LOGIN_RESULTS, result) }),
    recordSecurityEvent,
    wsDropped: (n) => { if (n > 0) wsDrops.inc(n); },
    processor: {
      name: 'metrics',
      process: (msg) => {
        messages += 1;
        bytes += msg.payload.length;
      },
    },
    setSources: (s) => { Object.assign(sources, s); },
    stop: unsubscribe,
  };
};
