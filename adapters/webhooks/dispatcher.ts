/**
 * The webhook dispatcher (issue 5, DESIGN §7). Listens to the live bus and to the event store's
 * appends, writes one outbox row per enabled webhook subscribed to the event type, and a worker
 * sends due rows: POST JSON `{id, type, at, data}` signed with `X-MCM-Signature` (signature.ts).
 * 2xx = delivered; anything else (status, network error, timeout, redirect, private address) is a
 * failed attempt, retried with exponential backoff and full jitter until
 * config webhooks.max_attempts, then dead-lettered. Rows are in SQLite, so a restart resumes
 * them: `start()` sends whatever is already due.
 *
 * Admin changes (`event_appended`) are queued from the log, not from the notification alone: the
 * outbox's cursor names the last seq queued and moves in the same transaction as the rows
 * (outbox.ts `advance`). Each append, and each start, queues the events after the cursor — so a
 * change committed just before a crash, or by the CLI while the server was down, is queued at the
 * next start, once per (seq, webhook), to the webhooks subscribed as of that event (catch-up.ts).
 */
import type { DatabaseSync } from 'node:sqlite';
import { own } from '../../core/evolve/records.ts';
import type { EventEnvelope } from '../../core/events.ts';
import type { Clock, EventStore } from '../../core/ports.ts';
import type { Webhook } from '../../core/state.ts';
import type { Config } from '../config/config.ts';
import type { LiveBus } from '../live/live-bus.ts';
import type { Logger } from '../logging/logger.ts';
import type { SecretStore } from '../secrets/secret-store.ts';
import { createCatchUp, createSubscriptionHistory } from './catch-up.ts';
import { assertPublicWebhookHost, type ResolveHost } from './address-guard.ts';
import { createHttpTransport, type WebhookFetch } from './http-transport.ts';
import { createWebhookOutbox, type Delivery, type NewDelivery, type WebhookOutbox } from './outbox.ts';
import { SIGNATURE_HEADER, signatureHeader } from './signature.ts';
import { openWebhookSecret } from './webhook-secret.ts';
import { createTriggerMapper, TRIGGER_MESSAGE_TYPES } from './webhook-triggers.ts';

export { verifySignature } from './signature.ts';

export type WebhookDeliveryResult = 'delivered' | 'failed' | 'dead' | 'dropped';

/** What the dispatcher reports to metrics (`mcm_webhook_deliveries_total{result}`). */
export type WebhookMetrics = { webhookDelivery(result: WebhookDeliveryResult): void };

export type WebhookDispatcherDeps = Readonly<{
  db: DatabaseSync;
  store: Pick<EventStore, 'state' | 'onAppend' | 'headSeq' | 'read'>;
  bus: Pick<LiveBus, 'subscribe'>;
  secrets: Pick<SecretStore, 'getOrCreate'>;
  clock: Clock;
  logger: Pick<Logger, 'info' | 'warn' | 'error' | 'debug'>;
  config: Readonly<{ webhooks: Pick<Config['webhooks'], 'allow_private' | 'max_attempts'> }>;
  /** Default: node:http(s) with the SSRF-guarded lookup (http-transport.ts). */
  fetch?: WebhookFetch;
  /** [0, 1); the jitter. Default Math.random. */
  random?: () => number;
  metrics?: WebhookMetrics;
  /** DNS for the delivery-time address check. Default node:dns lookup. */
  resolve?: ResolveHost;
  /** Backoff: attempt n waits random() × min(capMs, baseMs × 2^(n-1)). Default 1 s, 10 min. */
  retry?: Readonly<{ baseMs?: number; capMs?: number }>;
  /** Per request, connect to response headers. Default 10 s. */
  timeoutMs?: number;
  /** Requests in flight at once. Default 4. */
  concurrency?: number;
  /** Pending rows per webhook beyond which new ones are dropped (a dead receiver must not fill the disk). Default 10,000. */
  maxPendingPerWebhook?: number;
  /** Delivered and dead rows are deleted after this long. Default 7 days. */
  retentionMs?: number;
}>;

export type WebhookDispatcher = {
  outbox: WebhookOutbox;
  /** Subscribes and sends what is already due (restart survival). */
  start(): void;
  /** Unsubscribes, stops the worker and waits for requests in flight. */
  stop(): Promise<void>;
};

const DAY_MS = 86_400_000;
/** The worker wakes at least this often even when nothing is due (a clock step, a missed wake). */
const MAX_SLEEP_MS = 60_000;

const plusMs = (iso: string, ms: number): string => new Date(Date.parse(iso) + ms).toISOString();

/**
 * Exponential backoff with full jitter: attempt n (1-based, the attempt that just failed) waits
 * random() × min(capMs, baseMs × 2^(n-1)). Full jitter spreads the retries of many deliveries
 * that failed together (a receiver outage) instead of bringing them back in one wave.
 */
export const backoffDelayMs = (attempt: number, opts: Readonly<{ baseMs: number; capMs: number }>, random: () => number): number =>
  Math.floor(random() * Math.min(opts.capMs, opts.baseMs * 2 ** Math.min(Math.max(attempt, 1) - 1, 40)));

/** Security categories that are never dropped from a full outbox, whatever their severity. */
const CRITICAL_CATEGORIES: ReadonlySet<string> = new Set(['files.drift', 'auth.locked_out', 'files.adoption_required']);

/** Whether a webhook event must be queued even past the per-webhook cap. */
export const isCriticalTrigger = (item: Readonly<{ type: string; data: unknown }>): boolean => {
  if (item.type === 'apply_failed' || item.type === 'broker_down') return true;
  if (item.type !== 'security_event') return false;
  const d = item.data as { severity?: unknown; category?: unknown } | null;
  return d?.severity === 'critical' || (typeof d?.category === 'string' && (CRITICAL_CATEGORIES.has(d.category) || d.category.startsWith('apply.')));
};

const errorText = (err: unknown): string => {
  const e = err as { name?: unknown; code?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'timed out';
  const code = typeof e?.code === 'string' ? e.code : typeof e?.cause?.code === 'string' ? e.cause.code : null;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
};

export const createWebhookDispatcher = (deps: WebhookDispatcherDeps): WebhookDispatcher => {
  const { store, bus, clock, logger, config } = deps;
  const outbox = createWebhookOutbox({ db: deps.db });
  const allowPrivate = config.webhooks.allow_private;
  const send = deps.fetch ?? createHttpTransport({ allowPrivate });
  const random = deps.random ?? Math.random;
  const baseMs = deps.retry?.baseMs ?? 1000;
  const capMs = deps.retry?.capMs ?? 600_000;
  const timeoutMs = deps.timeoutMs ?? 10_000;
  const concurrency = Math.max(1, deps.concurrency ?? 4);
  const maxPending = deps.maxPendingPerWebhook ?? 10_000;
  const retentionMs = deps.retentionMs ?? 7 * DAY_MS;
  // Longer than any attempt can take, so a row is only re-taken after its sender is gone.
  const leaseMs = timeoutMs + 5000;
  const mapTrigger = createTriggerMapper();

  let running = false;
  let timer: NodeJS.Timeout | null = null;
  let pruneTimer: NodeJS.Timeout | null = null;
  let wakeQueued = false;
  const inFlight = new Set<Promise<void>>();
  const unsubscribes: (() => void)[] = [];
  const pending = new Map<number, number>();
  let dropped = 0;

  const countPending = (): void => {
    pending.clear();
    const rows = deps.db.prepare("SELECT webhook_id AS id, count(*) AS n FROM webhook_deliveries WHERE status = 'pending' GROUP BY webhook_id").all();
    for (const r of rows as unknown as { id: number; n: number }[]) pending.set(Number(r.id), Number(r.n));
  };
  const settled = (webhookId: number): void => { pending.set(webhookId, Math.max(0, (pending.get(webhookId) ?? 1) - 1)); };

  const subscribers = (type: string): Webhook[] =>
    Object.values(store.state().webhooks).filter((h) => h.enabled && h.events.includes(type));

  const history = createSubscriptionHistory(store);
  const hooksFor = (item: Readonly<{ type: string; seq?: number }>): Webhook[] => {
    if (item.seq === undefined) return subscribers(item.type);
    const seq = item.seq;
    return Object.values(store.state().webhooks).filter((h) => history.subscribedAt(h.id, item.type, seq));
  };

  /** The rows for `items`, counted as pending; past the per-webhook cap, only critical ones. */
  const plan = (items: readonly { type: string; data: unknown; seq?: number }[]): NewDelivery[] => {
    const rows: NewDelivery[] = [];
    for (const item of items) {
      for (const hook of hooksFor(item)) {
        const n = pending.get(hook.id) ?? 0;
        // A full outbox drops noise, never what an operator must hear about (fail-open, failed
        // applies, drift, lockouts): those are queued past the cap.
        if (n >= maxPending && !isCriticalTrigger(item)) {
          dropped += 1;
          deps.metrics?.webhookDelivery('dropped');
          // Once per thousand, not once per message: a flood must not flood the log too.
          if (dropped % 1000 === 1) logger.warn({ webhook_id: hook.id, pending: n, dropped }, 'webhook outbox full for this webhook: dropping new deliveries');
          continue;
        }
        pending.set(hook.id, n + 1);
        rows.push({ webhookId: hook.id, eventType: item.type, data: item.data });
      }
    }
    return rows;
  };

  const enqueue = (items: readonly { type: string; data: unknown }[]): void => {
    const rows = plan(items);
    if (rows.length === 0) return;
    outbox.enqueue(rows, clock.now());
    wake();
  };

  const catchUp = createCatchUp({ store, outbox, clock, history, plan, recount: countPending, wake });

  const catchUpOrLog = (): void => {
    try {
      catchUp.run();
    } catch (err) {
      logger.warn({ err: errorText(err) }, 'queueing webhooks for admin changes failed; retried on the next change or start');
    }
  };

  const onAppend = (recorded: readonly EventEnvelope[]): void => {
    if (!running) return;
    for (const e of recorded) {
      if (e.type === 'WebhookDeleted') {
        const n = outbox.abandon(e.data.id, 'webhook deleted');
        if (n > 0) pending.delete(e.data.id);
      }
    }
    catchUpOrLog();
  };

  const backoffMs = (attempt: number): number => backoffDelayMs(attempt, { baseMs, capMs }, random);

  const fail = (row: Delivery, statusCode: number | null, error: string): void => {
    if (row.attempts >= config.webhooks.max_attempts) {
      outbox.markDead(row.id, { statusCode, error });
      settled(row.webhook_id);
      deps.metrics?.webhookDelivery('dead');
      logger.warn({ delivery_id: row.id, webhook_id: row.webhook_id, attempts: row.attempts, status: statusCode, err: error }, 'webhook delivery dead-lettered');
      return;
    }
    const nextAttemptAt = plusMs(clock.now(), backoffMs(row.attempts));
    outbox.markRetry(row.id, { statusCode, error, nextAttemptAt });
    deps.metrics?.webhookDelivery('failed');
    logger.debug({ delivery_id: row.id, webhook_id: row.webhook_id, attempts: row.attempts, status: statusCode, err: error, next_attempt_at: nextAttemptAt }, 'webhook delivery failed; will retry');
  };

  const giveUp = (row: Delivery, reason: string): void => {
    outbox.markDead(row.id, { statusCode: null, error: reason });
    settled(row.webhook_id);
    deps.metrics?.webhookDelivery('dead');
  };

  const deliver = async (row: Delivery): Promise<void> => {
    const hook = own(store.state().webhooks, String(row.webhook_id));
    if (!hook) return giveUp(row, 'webhook deleted');
    if (!hook.enabled) return giveUp(row, 'webhook disabled');
    let secret: string;
    try {
      secret = openWebhookSecret(deps.secrets, hook.secretCiphertext);
    } catch {
      // Rotating the secret re-seals it under the current key; until then every attempt fails.
      return fail(row, null, 'the signing secret cannot be opened with secrets/webhook.key: rotate the webhook secret');
    }
    // DNS rebinding: the name may point elsewhere now than when the webhook was created.
    try {
      await assertPublicWebhookHost(hook.url, { allowPrivate, ...(deps.resolve ? { resolve: deps.resolve } : {}) });
    } catch (err) {
      return fail(row, null, errorText(err));
    }
    const body = JSON.stringify({ id: row.id, type: row.event_type, at: row.created_at, data: row.data });
    const t = Math.floor(Date.parse(clock.now()) / 1000);
    let status: number;
    try {
      const res = await send(hook.url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': 'mcm-webhooks/1',
          'X-MCM-Event': row.event_type,
          'X-MCM-Delivery': String(row.id),
          [SIGNATURE_HEADER]: signatureHeader(secret, t, body),
        },
        body,
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'manual',
      });
      status = res.status;
    } catch (err) {
      return fail(row, null, errorText(err));
    }
    if (status >= 200 && status < 300) {
      outbox.markDelivered(row.id, status, clock.now());
      settled(row.webhook_id);
      deps.metrics?.webhookDelivery('delivered');
      return;
    }
    fail(row, status, status >= 300 && status < 400 ? `HTTP ${status} (redirects are not followed)` : `HTTP ${status}`);
  };

  const schedule = (): void => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (!running || inFlight.size >= concurrency) return; // a finishing request pumps again
    const next = outbox.nextDueAt();
    if (next === null) return; // an enqueue wakes the worker
    const wait = Math.min(MAX_SLEEP_MS, Math.max(0, Date.parse(next) - Date.parse(clock.now())));
    timer = setTimeout(pump, wait);
    timer.unref();
  };

  function pump(): void {
    timer = null;
    if (!running) return;
    catchUpOrLog(); // cheap when nothing is behind; covers an append whose queueing failed
    const free = concurrency - inFlight.size;
    if (free > 0) {
      const now = clock.now();
      for (const row of outbox.claim(now, plusMs(now, leaseMs), free)) {
        const p: Promise<void> = deliver(row)
          .catch((err: unknown) => logger.error({ delivery_id: row.id, err: errorText(err) }, 'webhook delivery crashed'))
          .finally(() => {
            inFlight.delete(p);
            if (running) pump();
          });
        inFlight.add(p);
      }
    }
    schedule();
  }

  function wake(): void {
    if (!running || wakeQueued) return;
    wakeQueued = true;
    setImmediate(() => {
      wakeQueued = false;
      pump();
    });
  }

  const prune = (): void => {
    try {
      outbox.prune(new Date(Date.parse(clock.now()) - retentionMs).toISOString());
    } catch (err) {
      logger.warn({ err: errorText(err) }, 'webhook outbox prune failed');
    }
  };

  return {
    outbox,
    start() {
      if (running) return;
      running = true;
      countPending();
      catchUp.reset();
      // What was committed while no dispatcher ran (a crash after an append, a CLI change while
      // the server was down) is queued before anything new.
      catchUpOrLog();
      unsubscribes.push(store.onAppend(onAppend));
      unsubscribes.push(bus.subscribe((m) => {
        const trigger = mapTrigger(m);
        if (trigger) enqueue([trigger]);
      }, TRIGGER_MESSAGE_TYPES));
      prune();
      pruneTimer = setInterval(prune, Math.min(retentionMs, 3_600_000));
      pruneTimer.unref();
      pump();
    },
    async stop() {
      running = false;
      for (const u of unsubscribes.splice(0)) u();
      if (timer) clearTimeout(timer);
      if (pruneTimer) clearInterval(pruneTimer);
      timer = null;
      pruneTimer = null;
      await Promise.allSettled([...inFlight]);
    },
  };
};
