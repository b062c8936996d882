/**
 * The Prometheus registry (DESIGN §3, §8 /metrics; STYLE: `mcm_` prefix, base units, `_total`
 * counters): a private registry per instance, every named instrument exposed, fed by the LiveBus,
 * explicit hooks and lazily read sources, and label values from fixed sets only (no topic or
 * client-id labels, however many distinct values come in).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { register as globalRegistry } from 'prom-client';
import { createLiveBus } from '../../adapters/live/live-bus.ts';
import { createMetrics } from '../../adapters/metrics/registry.ts';

const AT = '2026-01-01T00:00:00.000Z';

const INSTRUMENTS = [
  'mcm_http_requests_total', 'mcm_http_request_duration_seconds', 'mcm_broker_up', 'mcm_observer_reconnects_total',
  'mcm_messages_observed_total', 'mcm_bytes_observed_total', 'mcm_topics_tracked', 'mcm_topics_evicted_total',
  'mcm_schema_validations_total', 'mcm_apply_results_total', 'mcm_apply_latency_seconds', 'mcm_event_log_seq',
  'mcm_ws_clients', 'mcm_ws_dropped_messages_total', 'mcm_webhook_deliveries_total', 'mcm_login_attempts_total',
  'mcm_security_events_total', 'mcm_observer_malformed_messages_total', 'mcm_observer_processor_failures_total',
  'mcm_certificate_expiry_timestamp_seconds',
];

/** The value of one series in the text exposition (`name{labels} value`), or undefined. */
const sample = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

const seriesOf = (text: string, name: string): string[] => text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));

describe('metrics registry', () => {
  it('exposes every named instrument with HELP and TYPE, in a private registry', async () => {
    const metrics = createMetrics();
    const text = await metrics.render();
    for (const name of INSTRUMENTS) {
      assert.match(text, new RegExp(`^# HELP ${name} `, 'm'), name);
      assert.match(text, new RegExp(`^# TYPE ${name} (counter|gauge|histogram)$`, 'm'), name);
    }
    assert.match(metrics.contentType, /^text\/plain/);
    // No module singleton: the default global registry stays empty, two instances share nothing.
    assert.equal((await globalRegistry.metrics()).includes('mcm_'), false);
    const other = createMetrics();
    metrics.recordLoginAttempt('failure');
    assert.equal(sample(await metrics.render(), 'mcm_login_attempts_total{result="failure"}'), 1);
    assert.equal(sample(await other.render(), 'mcm_login_attempts_total{result="failure"}'), 0);
  });

  it('follows broker_status on the bus: up gauge, and a reconnect each time it comes back up after being down', async () => {
    const bus = createLiveBus();
    const metrics = createMetrics({ bus });
    assert.equal(sample(await metrics.render(), 'mcm_broker_up'), 0);
    for (const up of [true, false, true, true, false, true]) bus.publish({ type: 'broker_status', up, at: AT });
    const text = await metrics.render();
    assert.equal(sample(text, 'mcm_broker_up'), 1);
    assert.equal(sample(text, 'mcm_observer_reconnects_total'), 2, 'the first up is a connect, not a reconnect');
    metrics.stop();
    bus.publish({ type: 'broker_status', up: false, at: AT });
    assert.equal(sample(await metrics.render(), 'mcm_broker_up'), 1, 'stopped metrics no longer listen');
  });

  it('counts observed messages and payload bytes through its message processor, with no topic label', async () => {
    const metrics = createMetrics();
    for (let i = 0; i < 500; i++) {
      metrics.processor.process({ topic: `plant/device-${i}/temp`, payload: Buffer.alloc(10), qos: 0, retain: false, receivedAt: 0 });
    }
    const text = await metrics.render();
    assert.equal(sample(text, 'mcm_messages_observed_total'), 500);
    assert.equal(sample(text, 'mcm_bytes_observed_total'), 5000);
    assert.equal(text.includes('device-'), false);
    metrics.processor.process({ topic: 'x', payload: Buffer.alloc(1), qos: 0, retain: false, receivedAt: 0 });
    assert.equal(sample(await metrics.render(), 'mcm_messages_observed_total'), 501, 'counts keep adding up across scrapes');
  });

  it('reads gauges and cumulative counts from its sources at scrape time', async () => {
    let seq = 7;
    let evicted = 3;
    const metrics = createMetrics({ sources: { headSeq: () => seq, topicsTracked: () => 42, topicsEvicted: () => evicted } });
    metrics.setSources({ wsClients: () => 2 });
    let text = await metrics.render();
    assert.equal(sample(text, 'mcm_event_log_seq'), 7);
    assert.equal(sample(text, 'mcm_topics_tracked'), 42);
    assert.equal(sample(text, 'mcm_topics_evicted_total'), 3);
    assert.equal(sample(text, 'mcm_ws_clients'), 2);
    seq = 9;
    evicted = 10;
    text = await metrics.render();
    assert.equal(sample(text, 'mcm_event_log_seq'), 9);
    assert.equal(sample(text, 'mcm_topics_evicted_total'), 10);
    evicted = 1; // the source restarted from zero: its 1 is new, and the counter never goes down
    text = await metrics.render();
    assert.equal(sample(text, 'mcm_topics_evicted_total'), 11);
    evicted = 4;
    assert.equal(sample(await metrics.render(), 'mcm_topics_evicted_total'), 14);
  });

  it('counts malformed observed messages by kind and processor failures, read from the observer side at scrape time', async () => {
    const counts = { sparkplug_payload: 0, sparkplug_topic: 0 };
    let failures = 0;
    const metrics = createMetrics();
    let text = await metrics.render();
    // Zero series for every kind before the first one, so rate() sees them.
    assert.equal(sample(text, 'mcm_observer_malformed_messages_total{kind="sparkplug_payload"}'), 0);
    assert.equal(sample(text, 'mcm_observer_malformed_messages_total{kind="sparkplug_topic"}'), 0);
    metrics.setSources({ malformed: () => counts, processorFailures: () => failures });
    counts.sparkplug_payload = 5;
    counts.sparkplug_topic = 2;
    failures = 1;
    text = await metrics.render();
    assert.equal(sample(text, 'mcm_observer_malformed_messages_total{kind="sparkplug_payload"}'), 5);
    assert.equal(sample(text, 'mcm_observer_malformed_messages_total{kind="sparkplug_topic"}'), 2);
    assert.equal(sample(text, 'mcm_observer_processor_failures_total'), 1);
    counts.sparkplug_payload = 3; // a new tracker started from zero: its 3 are new
    assert.equal(sample(await metrics.render(), 'mcm_observer_malformed_messages_total{kind="sparkplug_payload"}'), 8);
  });

  it('records apply results with a latency histogram, and buckets unknown results as "other"', async () => {
    const metrics = createMetrics();
    metrics.recordApply('applied', 120);
    metrics.recordApply('applied', 800);
    metrics.recordApply('failed', 5_000);
    metrics.recordApply('exploded', null);
    const text = await metrics.render();
    assert.equal(sample(text, 'mcm_apply_results_total{result="applied"}'), 2);
    assert.equal(sample(text, 'mcm_apply_results_total{result="failed"}'), 1);
    assert.equal(sample(text, 'mcm_apply_results_total{result="other"}'), 1);
    assert.equal(sample(text, 'mcm_apply_latency_seconds_count'), 3);
    assert.equal(sample(text, 'mcm_apply_latency_seconds_bucket{le="0.25"}'), 1);
    assert.equal(sample(text, 'mcm_apply_latency_seconds_bucket{le="1"}'), 2);
    assert.ok(Math.abs(sample(text, 'mcm_apply_latency_seconds_sum')! - 5.92) < 1e-9);
  });

  it('keeps label cardinality bounded: security categories, webhook and schema results come from fixed sets', async () => {
    const bus = createLiveBus();
    const metrics = createMetrics({ bus });
    for (let i = 0; i < 300; i++) {
      bus.publish({ type: 'security_event', category: `auth.user-${i}`, severity: 'warning', message: 'm', at: AT });
      bus.publish({ type: 'security_event', category: `weird-${i}`, severity: 'info', message: 'm', at: AT });
      metrics.recordWebhookDelivery(`status-${i}`);
    }
    bus.publish({ type: 'security_event', category: 'files.drift', severity: 'critical', message: 'm', at: AT });
    metrics.recordWebhookDelivery('delivered');
    metrics.recordSchemaValidation('valid', 5);
    metrics.recordSchemaValidation('invalid');
    metrics.wsDropped(12);
    const text = await metrics.render();
    assert.deepEqual(seriesOf(text, 'mcm_security_events_total').sort(), [
      'mcm_security_events_total{category="auth.other"} 300',
      'mcm_security_events_total{category="files.drift"} 1',
      'mcm_security_events_total{category="other"} 300',
    ]);
    assert.equal(sample(text, 'mcm_webhook_deliveries_total{result="other"}'), 300);
    assert.equal(sample(text, 'mcm_webhook_deliveries_total{result="delivered"}'), 1);
    assert.equal(seriesOf(text, 'mcm_webhook_deliveries_total').length, 5, 'delivered, failed, dead_letter, refused, other');
    assert.equal(sample(text, 'mcm_schema_validations_total{result="valid"}'), 5);
    assert.equal(sample(text, 'mcm_schema_validations_total{result="invalid"}'), 1);
    assert.equal(sample(text, 'mcm_ws_dropped_messages_total'), 12);
    assert.equal(text.includes('user-'), false);
  });
});
