/**
 * Live JSON schema validation of observed payloads (DESIGN §5, §7). Observe-only: Mosquitto
 * cannot enforce a schema, so a violation is counted, remembered and pushed live as
 * `schema_violation`, never blocked.
 *
 * - Schemas come from the event-sourced state (`state.schemas`); the index is rebuilt when a
 *   Schema* event is appended, and each schema is compiled once per definition. One that does not
 *   compile here (it passed the HTTP check, but a GitOps import or an older log may differ) is
 *   marked broken and skipped, never a crash.
 * - A message is matched against the enabled schemas through a topic-filter index (not a scan),
 *   its payload parsed once, and every matching schema evaluated.
 */
import type { ErrorObject, Options, ValidateFunction } from 'ajv';
import { ajvForDialect } from '../modules/ajv.ts';
import type { Logger } from 'pino';
import type { Clock, EventStore } from '../../core/ports.ts';
import type { JsonSchemaDef } from '../../core/state.ts';
import type { LiveBus } from '../live/live-bus.ts';
import type { MessageProcessor, ObservedMessage } from '../live/observed-message.ts';
import { createTopicFilterIndex } from './topic-filter-index.ts';

export type ViolationError = { path: string; message: string };

export type SchemaViolation = {
  topic: string;
  /** ISO-8601 receipt time. */
  at: string;
  errors: ViolationError[];
  payload_preview: string;
};

/** Counters for the schema's current definition (reset when its filter or body changes). */
export type SchemaStats = {
  valid_count: number;
  invalid_count: number;
  last_violation: SchemaViolation | null;
  /** Why the schema could not be compiled (it is then not evaluated); null when it compiled or is disabled. */
  compile_error: string | null;
  /** Violations counted but not pushed live because of the per-schema rate limit. */
  notifications_suppressed: number;
};

export type SchemaValidationResult = 'valid' | 'invalid';

/** Shaped like adapters/metrics/registry.ts `Metrics`, so the lead can pass that object as is. */
export type SchemaValidatorMetrics = { recordSchemaValidation(result: SchemaValidationResult): void };

export type SchemaValidatorDeps = {
  store: Pick<EventStore, 'state' | 'onAppend'>;
  bus: LiveBus;
  clock: Clock;
  logger: Pick<Logger, 'warn'>;
  metrics?: SchemaValidatorMetrics;
  /** Live `schema_violation` messages per schema per second; the rest are counted (default 10). */
  maxNotificationsPerSecond?: number;
};

export type SchemaValidator = MessageProcessor & {
  /** Stats of a schema in the current state; null when no such schema exists. */
  stats(id: number): SchemaStats | null;
  /** Stats of every schema in the current state, keyed by String(id). */
  allStats(): Record<string, SchemaStats>;
  /** Stops following the event store. */
  close(): void;
};

const SCHEMA_EVENTS: ReadonlySet<string> = new Set(['SchemaAttached', 'SchemaChanged', 'SchemaEnabled', 'SchemaDisabled', 'SchemaDetached']);
const MAX_ERRORS = 20;
const PREVIEW_CHARS = 200;

type Entry = {
  id: number;
  name: string;
  /** Filter + body: a change resets the stats and recompiles. */
  key: string;
  validate: ValidateFunction | null;
  stats: SchemaStats;
  windowStart: number;
  sentInWindow: number;
};

/**
 * The same dialect choice as the HTTP route's check (ajvForDialect, also used by
 * adapters/http/routes/json-schemas.ts). A fresh ajv per schema, so one `$id` reused across
 * schemas never collides in a shared cache.
 */
const compile = (schema: unknown): ValidateFunction => {
  const opts: Options = { strict: false, allErrors: true, validateSchema: true };
  const ajv = ajvForDialect(schema, opts);
  const validate = ajv.compile(schema as object | boolean);
  // An `$async` schema's validator returns a promise, and a failing payload's rejection would go
  // unhandled (fatal in Node). The HTTP and GitOps paths refuse such schemas; one already in the
  // log (written before they did) is marked as not compiling instead of being evaluated.
  if ((validate as { $async?: unknown }).$async === true) throw new Error('asynchronous schemas ($async: true) are not supported');
  return validate;
};

const errorOf = (e: ErrorObject): ViolationError => {
  const extra = e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: unknown }).additionalProperty)})` : '';
  return { path: e.instancePath === '' ? '/' : e.instancePath, message: `${e.message ?? 'is invalid'}${extra}` };
};

/** UTF-8 text (capped at 200 characters) when the payload reads as text, else a size summary. */
export const payloadPreview = (payload: Buffer): string => {
  // 800 bytes hold at least 200 characters; a character cut at byte 800 lies past the 200th.
  const head = payload.subarray(0, PREVIEW_CHARS * 4).toString('utf8');
  const body = head.slice(0, PREVIEW_CHARS);
  // Control characters other than \t \n \v \f \r, or U+FFFD (the payload is not UTF-8): binary.
  if (/[\u0000-\u0008\u000e-\u001f\ufffd]/.test(body)) return `<binary, ${payload.length} bytes>`;
  return body.length < head.length || payload.length > PREVIEW_CHARS * 4 ? `${body}…` : body;
};

const freshStats = (): SchemaStats => ({
  valid_count: 0, invalid_count: 0, last_violation: null, compile_error: null, notifications_suppressed: 0,
});

export const createSchemaValidator = (deps: SchemaValidatorDeps): SchemaValidator => {
  const limit = deps.maxNotificationsPerSecond ?? 10;
  /** Every schema in the state, by id; only enabled, compiled ones are in the index. */
  const entries = new Map<number, Entry>();
  const index = createTopicFilterIndex<Entry>();

  const load = (def: JsonSchemaDef, previous: Entry | undefined): Entry => {
    const key = `${def.topicFilter}\n${JSON.stringify(def.schema)}`;
    const same = previous !== undefined && previous.key === key;
    const entry: Entry = same
      ? { ...previous, name: def.name }
      : { id: def.id, name: def.name, key, validate: null, stats: freshStats(), windowStart: 0, sentInWindow: 0 };
    if (!def.enabled) return entry;
    if (entry.validate === null && entry.stats.compile_error === null) {
      try {
        entry.validate = compile(def.schema);
      } catch (err) {
        entry.stats.compile_error = (err as Error).message;
        deps.logger.warn({ schema_id: def.id, at: deps.clock.now(), err: entry.stats.compile_error }, 'JSON schema does not compile: not evaluated');
      }
    }
    if (entry.validate) index.add(def.topicFilter, entry);
    return entry;
  };

  const rebuild = (): void => {
    const schemas = deps.store.state().schemas;
    const previous = new Map(entries);
    entries.clear();
    index.clear();
    for (const def of Object.values(schemas)) entries.set(def.id, load(def, previous.get(def.id)));
  };

  const notify = (entry: Entry, violation: SchemaViolation, receivedAt: number): void => {
    // A per-schema rate limit: a device flooding bad payloads must not flood every ws client.
    if (receivedAt - entry.windowStart >= 1000 || receivedAt < entry.windowStart) {
      entry.windowStart = receivedAt;
      entry.sentInWindow = 0;
    }
    if (entry.sentInWindow >= limit) {
      entry.stats.notifications_suppressed++;
      return;
    }
    entry.sentInWindow++;
    deps.bus.publish({
      type: 'schema_violation', schema_id: entry.id, schema_name: entry.name,
      topic: violation.topic, errors: violation.errors, at: violation.at,
    });
  };

  const record = (entry: Entry, msg: ObservedMessage, errors: ViolationError[] | null): void => {
    if (errors === null) {
      entry.stats.valid_count++;
      deps.metrics?.recordSchemaValidation('valid');
      return;
    }
    entry.stats.invalid_count++;
    deps.metrics?.recordSchemaValidation('invalid');
    const violation: SchemaViolation = {
      topic: msg.topic,
      at: new Date(msg.receivedAt).toISOString(),
      errors,
      payload_preview: payloadPreview(msg.payload),
    };
    entry.stats.last_violation = violation;
    notify(entry, violation, msg.receivedAt);
  };

  const processMessage = (msg: ObservedMessage): void => {
    if (index.size() === 0) return;
    // A zero-length publish is how a retained message is deleted (MQTT-3.3.1-10): not a payload.
    if (msg.payload.length === 0) return;
    const matching = index.match(msg.topic);
    if (matching.length === 0) return;
    let value: unknown;
    let parsed = true;
    try {
      value = JSON.parse(msg.payload.toString('utf8'));
    } catch {
      parsed = false;
    }
    for (const entry of matching) {
      if (!parsed) {
        record(entry, msg, [{ path: '/', message: 'payload is not JSON' }]);
        continue;
      }
      const validate = entry.validate as ValidateFunction;
      let ok: boolean;
      try {
        ok = validate(value) === true;
      } catch (err) {
        // ajv's generated code does not throw on data; if it ever does, count it as a violation.
        record(entry, msg, [{ path: '/', message: `validation failed: ${(err as Error).message}` }]);
        continue;
      }
      record(entry, msg, ok ? null : (validate.errors ?? []).slice(0, MAX_ERRORS).map(errorOf));
    }
  };

  rebuild();
  const unsubscribe = deps.store.onAppend((recorded) => {
    if (recorded.some((e) => SCHEMA_EVENTS.has(e.type))) rebuild();
  });

  return {
    name: 'json-schemas',
    process: processMessage,
    stats: (id) => {
      const entry = entries.get(id);
      return entry ? structuredClone(entry.stats) : null;
    },
    allStats: () => Object.fromEntries([...entries.values()].map((e) => [String(e.id), structuredClone(e.stats)])),
    close: unsubscribe,
  };
};
