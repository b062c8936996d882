/**
 * The webhook dispatcher end to end (issue 5 "Must show"): real SQLite file, real HTTP receiver
 * on 127.0.0.1 (so config webhooks.allow_private is true unless a test is about refusing it).
 * The signature verifies; with the receiver down deliveries are retried with backoff and arrive
 * once it is back, also across an MCM restart; dead letter after N attempts; private targets
 * get nothing sent, even when DNS changes after the webhook was accepted.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { describe, it, type TestContext } from 'node:test';
import { pino } from 'pino';
import { createLiveBus, type LiveBus, type LiveMessage } from '../../adapters/live/live-bus.ts';
import { createSecretStore, type SecretStore } from '../../adapters/secrets/secret-store.ts';
import { createSqliteEventStore, type SqliteEventStore } from '../../adapters/sqlite/event-store.ts';
import { openDatabase } from '../../adapters/sqlite/open-database.ts';
import {
  backoffDelayMs, createWebhookDispatcher, verifySignature, type WebhookDeliveryResult, type WebhookDispatcher, type WebhookDispatcherDeps,
} from '../../adapters/webhooks/dispatcher.ts';
import { createHttpTransport } from '../../adapters/webhooks/http-transport.ts';
import type { Delivery } from '../../adapters/webhooks/outbox.ts';
import { sealWebhookSecret } from '../../adapters/webhooks/webhook-secret.ts';
import { handleCommand } from '../../core/handle-command.ts';
import type { Clock } from '../../core/ports.ts';
import { HASH_A } from '../helpers/decider-spec.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { eventually, startReceiver } from './webhook-receiver.ts';

const SECRET = 'test-webhook-secret-0123456789abcdefghijklmn';
const clock: Clock = { now: () => new Date().toISOString() };
const actor = { kind: 'system', id: 'test' } as const;
const securityEvent = (message = 'bad login'): LiveMessage =>
  ({ type: 'security_event', category: 'auth.login_failed', severity: 'warning', message, at: clock.now() });

type World = {
  dir: string;
  db: DatabaseSync;
  store: SqliteEventStore;
  secrets: SecretStore;
  bus: LiveBus;
  dispatcher: WebhookDispatcher;
  results: WebhookDeliveryResult[];
  /** Closes the dispatcher and the database (an MCM shutdown). */
  close(): Promise<void>;
};

type Options = Partial<Omit<WebhookDispatcherDeps, 'db' | 'store' | 'bus' | 'secrets' | 'clock' | 'logger' | 'config'>> & {
  allowPrivate?: boolean;
  maxAttempts?: number;
  /** Reopen this data dir (a restart) instead of a fresh one. */
  dir?: string;
  onResult?: (r: WebhookDeliveryResult, w: World) => void;
};

const open = (t: TestContext, opts: Options = {}): World => {
  const dir = opts.dir ?? tempDir(t, 'mcm-webhooks-');
  const db = openDatabase(join(dir, 'mcm.db'));
  const store = createSqliteEventStore({ db });
  const secrets = createSecretStore(dir);
  const bus = createLiveBus();
  const results: WebhookDeliveryResult[] = [];
  const { allowPrivate = true, maxAttempts = 10, onResult, dir: _dir, ...rest } = opts;
  const world = { dir, db, store, secrets, bus, results } as World;
  world.dispatcher = createWebhookDispatcher({
    db, store, bus, secrets, clock,
    logger: pino({ level: 'silent' }),
    config: { webhooks: { allow_private: allowPrivate, max_attempts: maxAttempts } },
    retry: { baseMs: 50, capMs: 400 },
    random: () => 1, // the top of the jitter range: delays are exactly 50, 100, 200, 400 ms
    metrics: { webhookDelivery: (r) => { results.push(r); onResult?.(r, world); } },
    ...rest,
  });
  let closed = false;
  world.close = async () => {
    if (closed) return;
    closed = true;
    await world.dispatcher.stop();
    db.close();
  };
  t.after(() => world.close());
  return world;
};

const createHook = (w: World, url: string, events: string[], opts: { enabled?: boolean } = {}): number => {
  const e = handleCommand({ store: w.store, clock }, {
    type: 'CreateWebhook',
    data: { url, events, secretCiphertext: sealWebhookSecret(w.secrets, SECRET), ...opts },
  }, { actor }).events[0];
  assert.ok(e?.type === 'WebhookCreated');
  return e.data.id;
};

const deliveries = (w: World, hookId: number): Delivery[] => w.dispatcher.outbox.list(hookId, { limit: 100 }).items;
const only = (w: World, hookId: number): Delivery => {
  const all = deliveries(w, hookId);
  assert.equal(all.length, 1, JSON.stringify(all));
  return all[0] as Delivery;
};

describe('webhook dispatcher: delivery and signature', () => {
  it('POSTs {id, type, at, data} with X-MCM-Event, X-MCM-Delivery and a signature that verifies (verifySignature and an independent HMAC)', async (t) => {
    const r = await startReceiver(t);
    const w = open(t);
    const hook = createHook(w, r.url(), ['security_event']);
    w.dispatcher.start();
    const msg = securityEvent();
    w.bus.publish(msg);
    const [req] = await r.waitFor(1);
    assert.ok(req);

    assert.equal(req.method, 'POST');
    assert.equal(req.path, '/hook');
    assert.equal(req.headers['content-type'], 'application/json');
    assert.equal(req.headers['x-mcm-event'], 'security_event');
    const body = JSON.parse(req.body);
    assert.deepEqual(Object.keys(body).sort(), ['at', 'data', 'id', 'type']);
    assert.equal(body.type, 'security_event');
    assert.deepEqual(body.data, msg);
    assert.equal(req.headers['x-mcm-delivery'], String(body.id));

    const header = req.headers['x-mcm-signature'];
    assert.equal(typeof header, 'string');
    assert.equal(verifySignature(SECRET, header as string, req.body, 300), true);
    const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header as string);
    assert.ok(m, header as string);
    assert.equal(m[2], createHmac('sha256', SECRET).update(`${m[1]}.${req.body}`).digest('hex'), 'independent HMAC-SHA256 of "<t>.<body>"');
    assert.ok(Math.abs(Number(m[1]) - Date.now() / 1000) < 300, 't is unix seconds now');
    assert.equal(verifySignature('wrong-secret', header as string, req.body, 300), false);

    const row = await eventually('the row marked delivered', () => { const d = only(w, hook); return d.status === 'delivered' && d; });
    assert.equal(row.id, body.id);
    assert.equal(row.attempts, 1);
    assert.equal(row.last_status_code, 200);
    assert.ok(row.delivered_at);
    assert.deepEqual(w.results, ['delivered']);
  });

  it('sends admin changes (event_appended) without the event data: no password hash leaves MCM', async (t) => {
    const r = await startReceiver(t);
    const w = open(t);
    w.dispatcher.start();
    createHook(w, r.url(), ['event_appended']);
    const seq = handleCommand({ store: w.store, clock }, { type: 'CreateMqttUser', data: { username: 'alice', passwordHash: HASH_A } }, { actor }).seq;
    // The webhook hears of its own creation first.
    const req = (await r.waitFor(2)).find((x) => JSON.parse(x.body).data.seq === seq);
    assert.ok(req);
    const body = JSON.parse(req.body);
    assert.equal(body.type, 'event_appended');
    assert.deepEqual(body.data, { type: 'event_appended', seq, stream: 'mqtt-user:alice', event_type: 'MqttUserCreated', actor, at: body.data.at });
    assert.ok(!req.body.includes(HASH_A) && !req.body.includes('$7$'));
  });

  it('enqueues only for enabled webhooks subscribed to the type; deleting a webhook dead-letters its pending rows', async (t) => {
    const r = await startReceiver(t, { down: true });
    const w = open(t);
    const subscribed = createHook(w, r.url('/a'), ['security_event']);
    const disabled = createHook(w, r.url('/b'), ['security_event'], { enabled: false });
    const other = createHook(w, r.url('/c'), ['broker_down']);
    w.dispatcher.start();
    w.bus.publish(securityEvent());
    assert.equal(deliveries(w, subscribed).length, 1, 'written synchronously, before any send');
    assert.equal(deliveries(w, disabled).length, 0);
    assert.equal(deliveries(w, other).length, 0);

    await eventually('a failed attempt', () => w.results.includes('failed'));
    handleCommand({ store: w.store, clock }, { type: 'DeleteWebhook', data: { id: subscribed } }, { actor });
    const row = only(w, subscribed);
    assert.equal(row.status, 'dead');
    assert.equal(row.last_error, 'webhook deleted');
  });

  it('drops new rows for a webhook with maxPendingPerWebhook rows pending (a dead receiver cannot fill the disk)', async (t) => {
    const r = await startReceiver(t, { down: true });
    const w = open(t, { maxPendingPerWebhook: 2, retry: { baseMs: 60_000, capMs: 60_000 } });
    const hook = createHook(w, r.url(), ['security_event']);
    w.dispatcher.start();
    for (let i = 0; i < 4; i++) w.bus.publish(securityEvent(`m${i}`));
    assert.equal(deliveries(w, hook).length, 2);
    assert.equal(w.results.filter((x) => x === 'dropped').length, 2);
  });

  it('never drops a critical event from a full outbox: a fail-open after the cap is queued and delivered once the receiver is back', async (t) => {
    const r = await startReceiver(t, { down: true });
    const w = open(t, { maxPendingPerWebhook: 2, retry: { baseMs: 50, capMs: 50 } });
    const hook = createHook(w, r.url(), ['security_event', 'apply_failed']);
    w.dispatcher.start();
    for (let i = 0; i < 5; i++) w.bus.publish(securityEvent(`noise ${i}`));
    w.bus.publish({ type: 'security_event', category: 'apply.fail_open', severity: 'critical', message: 'fail-open detected', at: clock.now() });
    w.bus.publish({ type: 'security_event', category: 'files.drift', severity: 'warning', message: 'acl_file changed outside MCM', at: clock.now() });
    const queued = deliveries(w, hook).map((d) => (d.data as { category?: string }).category);
    assert.equal(queued.length, 4, JSON.stringify(queued));
    assert.ok(queued.includes('apply.fail_open') && queued.includes('files.drift'));
    assert.equal(w.results.filter((x) => x === 'dropped').length, 3, 'only noise was dropped');
    await r.start();
    const got = await r.waitFor(4, 10_000);
    assert.ok(got.some((g) => g.body.includes('apply.fail_open')), 'the fail-open webhook arrived');
  });
});

describe('webhook dispatcher: retries, restarts, dead letter', () => {
  it('retries with exponential backoff while the receiver is down, then delivers once it is back', async (t) => {
    const r = await startReceiver(t, { down: true });
    const snapshots: Delivery[] = [];
    let hook = 0;
    const w = open(t, {
      // Read right after each failure is recorded: attempts and the next attempt's time.
      onResult: (res, world) => { if (res === 'failed') snapshots.push(only(world, hook)); },
    });
    hook = createHook(w, r.url(), ['security_event']);
    w.dispatcher.start();
    w.bus.publish(securityEvent());
    await eventually('three failed attempts', () => snapshots.length >= 3);

    const [s1, s2, s3] = snapshots as [Delivery, Delivery, Delivery];
    assert.deepEqual([s1.attempts, s2.attempts, s3.attempts], [1, 2, 3]);
    for (const s of [s1, s2, s3]) {
      assert.equal(s.status, 'pending');
      assert.equal(s.last_status_code, null);
      assert.match(s.last_error ?? '', /ECONNREFUSED/);
    }
    // Attempt n waits min(cap, 50 ms × 2^(n-1)) after it failed, and fails no earlier than it was
    // due, so due times grow by at least the next delay: 100 ms, then 200 ms.
    const t1 = Date.parse(s1.next_attempt_at);
    const t2 = Date.parse(s2.next_attempt_at);
    const t3 = Date.parse(s3.next_attempt_at);
    assert.ok(t2 - t1 >= 100, `second gap ${t2 - t1} ms`);
    assert.ok(t3 - t2 >= 200, `third gap ${t3 - t2} ms`);
    assert.equal(r.received.length, 0);

    await r.start();
    const [req] = await r.waitFor(1);
    assert.ok(req);
    const row = await eventually('delivered', () => { const d = only(w, hook); return d.status === 'delivered' && d; });
    assert.ok(row.attempts >= 4, `attempts ${row.attempts}`);
    assert.equal(JSON.parse(req.body).id, row.id);
    assert.equal(verifySignature(SECRET, req.headers['x-mcm-signature'] as string, req.body, 300), true);
    assert.equal(r.received.length, 1, 'delivered exactly once');
  });

  it('survives an MCM restart: a pending delivery in the database is sent by the next dispatcher', async (t) => {
    const r = await startReceiver(t, { down: true });
    const before = open(t);
    const hook = createHook(before, r.url(), ['security_event']);
    before.dispatcher.start();
    before.bus.publish(securityEvent('before restart'));
    await eventually('a failed attempt', () => before.results.includes('failed'));
    const pendingRow = only(before, hook);
    assert.equal(pendingRow.status, 'pending');
    await before.close();

    await r.start();
    // Nothing is published after the restart: the row in the file is the only source.
    const after = open(t, { dir: before.dir });
    after.dispatcher.start();
    const [req] = await r.waitFor(1);
    assert.ok(req);
    assert.equal(req.headers['x-mcm-delivery'], String(pendingRow.id));
    assert.equal(JSON.parse(req.body).data.message, 'before restart');
    const row = await eventually('delivered after restart', () => { const d = only(after, hook); return d.status === 'delivered' && d; });
    assert.equal(row.attempts, 2);
  });

  it('dead-letters after config webhooks.max_attempts failed attempts', async (t) => {
    const r = await startReceiver(t);
    r.respond(500);
    const w = open(t, { maxAttempts: 3 });
    const hook = createHook(w, r.url(), ['security_event']);
    w.dispatcher.start();
    w.bus.publish(securityEvent());
    const row = await eventually('dead letter', () => { const d = only(w, hook); return d.status === 'dead' && d; });
    assert.equal(row.attempts, 3);
    assert.equal(row.last_status_code, 500);
    assert.equal(row.last_error, 'HTTP 500');
    assert.equal(row.delivered_at, null);
    assert.equal(r.received.length, 3);
    assert.deepEqual(w.results, ['failed', 'failed', 'dead']);
    assert.deepEqual(w.dispatcher.outbox.list(hook, { limit: 10, status: 'dead' }).items.map((d) => d.id), [row.id]);
  });

  it('does not follow redirects: a 3xx is a failed attempt and the Location is never requested', async (t) => {
    const r = await startReceiver(t);
    r.respond(302, '/elsewhere');
    const w = open(t, { maxAttempts: 1 });
    const hook = createHook(w, r.url(), ['security_event']);
    w.dispatcher.start();
    w.bus.publish(securityEvent());
    const row = await eventually('dead letter', () => { const d = only(w, hook); return d.status === 'dead' && d; });
    assert.equal(row.last_status_code, 302);
    assert.match(row.last_error ?? '', /redirect/);
    assert.deepEqual(r.received.map((x) => x.path), ['/hook']);
  });

  it('computes full-jitter exponential backoff: random() × min(cap, base × 2^(n-1))', () => {
    const o = { baseMs: 1000, capMs: 600_000 };
    assert.deepEqual([1, 2, 3, 4].map((n) => backoffDelayMs(n, o, () => 0.5)), [500, 1000, 2000, 4000]);
    assert.equal(backoffDelayMs(1, o, () => 0), 0);
    assert.equal(backoffDelayMs(30, o, () => 0.999), 599_400, 'capped at 10 min');
    assert.equal(backoffDelayMs(5000, o, () => 0.5), 300_000, 'huge attempt counts do not overflow');
  });
});

describe('webhook dispatcher: private addresses (SSRF) at delivery time', () => {
  it('sends nothing to a webhook whose URL is loopback when webhooks.allow_private is false', async (t) => {
    const r = await startReceiver(t);
    const w = open(t, { allowPrivate: false, maxAttempts: 1 });
    // Created through the core directly: the HTTP route would have refused it.
    const hook = createHook(w, r.url(), ['security_event']);
    w.dispatcher.start();
    w.bus.publish(securityEvent());
    const row = await eventually('dead letter', () => { const d = only(w, hook); return d.status === 'dead' && d; });
    assert.match(row.last_error ?? '', /MCM_ERR_WEBHOOK_PRIVATE_ADDRESS.*loopback.*webhooks\.allow_private/);
    assert.equal(r.received.length, 0);
  });

  it('re-resolves the host at delivery: a name that now points at a private address (DNS rebinding) gets nothing sent', async (t) => {
    let sent = 0;
    const w = open(t, {
      allowPrivate: false,
      maxAttempts: 1,
      resolve: async () => ['10.1.2.3'],
      fetch: async () => { sent += 1; return { status: 200 }; },
    });
    const hook = createHook(w, 'https://hooks.example.test/mcm', ['security_event']);
    w.dispatcher.start();
    w.bus.publish(securityEvent());
    const row = await eventually('dead letter', () => { const d = only(w, hook); return d.status === 'dead' && d; });
    assert.match(row.last_error ?? '', /10\.1\.2\.3/);
    assert.equal(sent, 0);
  });

  it('checks the address the connection itself resolves (localhost → loopback) in the default transport', async (t) => {
    const r = await startReceiver(t);
    const send = createHttpTransport({ allowPrivate: false });
    const init = { method: 'POST' as const, headers: { 'Content-Type': 'application/json' }, body: '{}', signal: AbortSignal.timeout(10_000), redirect: 'manual' as const };
    await assert.rejects(send(`http://localhost:${r.port}/hook`, init), (e: Error & { code?: string }) => e.code === 'MCM_ERR_WEBHOOK_PRIVATE_ADDRESS');
    assert.equal(r.received.length, 0);
    const ok = await createHttpTransport({ allowPrivate: true })(`http://localhost:${r.port}/hook`, { ...init, signal: AbortSignal.timeout(10_000) });
    assert.equal(ok.status, 200);
    assert.equal(r.received.length, 1);
  });
});
