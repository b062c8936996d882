/**
 * JSON schema validation of observed payloads (DESIGN §5, §7): schemas from the event-sourced
 * state, matched through the topic-filter index, compiled once, counted per schema, violations
 * pushed live as `schema_violation` with a per-schema rate limit. Observe-only: nothing is blocked.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { pino } from 'pino';
import { createLiveBus, type LiveMessage } from '../../adapters/live/live-bus.ts';
import type { ObservedMessage } from '../../adapters/live/observed-message.ts';
import { createSchemaValidator, payloadPreview, type SchemaValidationResult } from '../../adapters/observer/schema-validator.ts';
import { createSqliteEventStore } from '../../adapters/sqlite/event-store.ts';
import { openDatabase } from '../../adapters/sqlite/open-database.ts';
import type { Command } from '../../core/commands.ts';
import { handleCommand } from '../../core/handle-command.ts';
import type { Clock } from '../../core/ports.ts';

const clock: Clock = { now: () => '2026-01-01T00:00:00.000Z' };
const T0 = Date.parse('2026-01-01T00:00:00.000Z');

const TEMPERATURE = {
  type: 'object',
  required: ['value', 'unit'],
  properties: { value: { type: 'number' }, unit: { enum: ['C', 'F'] } },
  additionalProperties: false,
};

const setup = (t: TestContext, options: { maxNotificationsPerSecond?: number } = {}) => {
  const db = openDatabase(':memory:');
  t.after(() => db.close());
  const store = createSqliteEventStore({ db });
  const bus = createLiveBus((e) => { throw e; });
  const pushed: LiveMessage[] = [];
  bus.subscribe((m) => pushed.push(m), ['schema_violation']);
  const results: SchemaValidationResult[] = [];
  const validator = createSchemaValidator({
    store, bus, clock, logger: pino({ level: 'silent' }),
    metrics: { recordSchemaValidation: (r) => results.push(r) },
    ...options,
  });
  t.after(() => validator.close());
  const run = (command: Command) => handleCommand({ store, clock }, command, { actor: { kind: 'system', id: 'test' } });
  const attach = (name: string, topicFilter: string, schema: unknown, enabled = true): number => {
    const e = run({ type: 'AttachSchema', data: { name, topicFilter, schema, enabled } }).events[0];
    assert.ok(e?.type === 'SchemaAttached');
    return e.data.id;
  };
  let n = 0;
  const send = (topic: string, payload: string | Buffer, at = T0 + n++): void => {
    const msg: ObservedMessage = { topic, payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload), qos: 0, retain: false, receivedAt: at };
    validator.process(msg);
  };
  return { store, bus, validator, pushed, results, run, attach, send };
};

describe('createSchemaValidator', () => {
  it('counts a matching valid payload as valid and an invalid one as invalid, with ajv errors in the last violation', (t) => {
    const h = setup(t);
    const id = h.attach('temperature', 'plant/+/temp', TEMPERATURE);
    h.send('plant/l1/temp', '{"value": 21.5, "unit": "C"}');
    h.send('plant/l1/temp', '{"value": "hot", "unit": "K", "extra": 1}', T0 + 5000);
    h.send('plant/l1/humidity', '{"nonsense": true}'); // no schema on this topic

    const stats = h.validator.stats(id);
    assert.ok(stats);
    assert.equal(stats.valid_count, 1);
    assert.equal(stats.invalid_count, 1);
    assert.ok(stats.last_violation);
    assert.equal(stats.last_violation.topic, 'plant/l1/temp');
    assert.equal(stats.last_violation.at, new Date(T0 + 5000).toISOString());
    assert.equal(stats.last_violation.payload_preview, '{"value": "hot", "unit": "K", "extra": 1}');
    const errors = stats.last_violation.errors;
    assert.ok(errors.some((e) => e.path === '/value' && /number/.test(e.message)), JSON.stringify(errors));
    assert.ok(errors.some((e) => e.path === '/unit' && /allowed values/.test(e.message)), JSON.stringify(errors));
    assert.ok(errors.some((e) => e.path === '/' && /additional properties \(extra\)/.test(e.message)), JSON.stringify(errors));
    assert.deepEqual(h.results, ['valid', 'invalid']);

    assert.equal(h.pushed.length, 1);
    const pushed = h.pushed[0];
    assert.ok(pushed?.type === 'schema_violation');
    assert.equal(pushed.schema_id, id);
    assert.equal(pushed.schema_name, 'temperature');
    assert.equal(pushed.topic, 'plant/l1/temp');
    assert.deepEqual(pushed.errors, errors);
  });

  it('evaluates every enabled schema whose filter matches, and never a disabled one', (t) => {
    const h = setup(t);
    const all = h.attach('any object', 'plant/#', { type: 'object' });
    const temp = h.attach('temperature', 'plant/+/temp', TEMPERATURE);
    const off = h.attach('off', 'plant/+/temp', false, false); // `false` rejects everything
    h.send('plant/l1/temp', '{"value": 1, "unit": "F"}');
    assert.equal(h.validator.stats(all)?.valid_count, 1);
    assert.equal(h.validator.stats(temp)?.valid_count, 1);
    assert.deepEqual(h.validator.stats(off), {
      valid_count: 0, invalid_count: 0, last_violation: null, compile_error: null, notifications_suppressed: 0,
    });
    assert.deepEqual(Object.keys(h.validator.allStats()).sort(), [String(all), String(temp), String(off)].sort());
    assert.equal(h.validator.stats(999), null);
  });

  it('rebuilds when a Schema* event is appended: change, disable, enable, detach', (t) => {
    const h = setup(t);
    const id = h.attach('s', 'a/#', { type: 'object' });
    h.send('a/b', '[1]');
    assert.equal(h.validator.stats(id)?.invalid_count, 1);

    // A new body: counters start again for the new definition, and the new body applies.
    h.run({ type: 'ChangeSchema', data: { id, schema: { type: 'array' } } });
    assert.equal(h.validator.stats(id)?.invalid_count, 0);
    h.send('a/b', '[1]');
    assert.equal(h.validator.stats(id)?.valid_count, 1);

    // A new filter moves it.
    h.run({ type: 'ChangeSchema', data: { id, topicFilter: 'c/+' } });
    h.send('a/b', '{}');
    h.send('c/d', '{}');
    assert.equal(h.validator.stats(id)?.invalid_count, 1);
    assert.equal(h.validator.stats(id)?.last_violation?.topic, 'c/d');

    // Disabled: not evaluated, counters kept; enabled again: evaluated again.
    h.run({ type: 'ChangeSchema', data: { id, enabled: false } });
    h.send('c/d', '{}');
    assert.equal(h.validator.stats(id)?.invalid_count, 1);
    h.run({ type: 'ChangeSchema', data: { id, enabled: true } });
    h.send('c/d', '{}');
    assert.equal(h.validator.stats(id)?.invalid_count, 2);

    // A rename keeps the counters and shows in later notifications.
    h.run({ type: 'ChangeSchema', data: { id, name: 'renamed' } });
    h.send('c/d', '{}', T0 + 60_000);
    assert.equal(h.validator.stats(id)?.invalid_count, 3);
    const last = h.pushed.at(-1);
    assert.ok(last?.type === 'schema_violation' && last.schema_name === 'renamed');

    h.run({ type: 'DetachSchema', data: { id } });
    assert.equal(h.validator.stats(id), null);
    const before = h.pushed.length;
    h.send('c/d', '{}');
    assert.equal(h.pushed.length, before);
  });

  it('counts a payload that is not JSON as a violation "payload is not JSON", and shows binary as a summary', (t) => {
    const h = setup(t);
    const id = h.attach('s', 'dev/#', { type: 'object' });
    h.send('dev/1', 'not json {');
    assert.deepEqual(h.validator.stats(id)?.last_violation?.errors, [{ path: '/', message: 'payload is not JSON' }]);
    assert.equal(h.validator.stats(id)?.last_violation?.payload_preview, 'not json {');
    h.send('dev/1', Buffer.from([0x00, 0xff, 0xfe, 0x01, 0x02]));
    assert.equal(h.validator.stats(id)?.invalid_count, 2);
    assert.equal(h.validator.stats(id)?.last_violation?.payload_preview, '<binary, 5 bytes>');
    // A zero-length publish deletes a retained message (MQTT-3.3.1-10): not a payload to judge.
    h.send('dev/1', '');
    assert.equal(h.validator.stats(id)?.invalid_count, 2);
  });

  it('marks a schema that does not compile as broken and keeps evaluating the others', (t) => {
    const h = setup(t);
    // The core checks only the shape (core/decide/schemas.ts); ajv refuses an unknown type.
    const broken = h.attach('broken', 'x/#', { type: 'no-such-type' });
    const good = h.attach('good', 'x/#', { type: 'object' });
    h.send('x/1', '{}');
    assert.match(h.validator.stats(broken)?.compile_error ?? '', /type/);
    assert.equal(h.validator.stats(broken)?.valid_count, 0);
    assert.equal(h.validator.stats(good)?.valid_count, 1);
  });

  it('does not evaluate an asynchronous schema ($async: true) already in the log: its rejected promise would end the process', async (t) => {
    const h = setup(t);
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => { unhandled.push(e); };
    process.on('unhandledRejection', onUnhandled);
    t.after(() => { process.off('unhandledRejection', onUnhandled); });
    // The HTTP and GitOps paths refuse it now; the core checks only the shape, so a log may hold one.
    const id = h.attach('async', 'dev/#', { $async: true, type: 'object' });
    h.send('dev/1', '5');
    await new Promise((resolve) => setImmediate(resolve));
    assert.match(h.validator.stats(id)?.compile_error ?? '', /\$async/);
    assert.deepEqual([h.validator.stats(id)?.valid_count, h.validator.stats(id)?.invalid_count], [0, 0]);
    assert.deepEqual(unhandled, []);
  });

  it('compiles a definition once: later Schema* events for other schemas do not recompile it', (t) => {
    const db = openDatabase(':memory:');
    t.after(() => db.close());
    const store = createSqliteEventStore({ db });
    const run = (command: Command) => handleCommand({ store, clock }, command, { actor: { kind: 'system', id: 'test' } });
    const warnings: unknown[] = [];
    const logger = { warn: (obj: unknown) => { warnings.push(obj); } } as unknown as Parameters<typeof createSchemaValidator>[0]['logger'];
    const validator = createSchemaValidator({ store, bus: createLiveBus(), clock, logger });
    t.after(() => validator.close());
    run({ type: 'AttachSchema', data: { name: 'broken', topicFilter: 'x', schema: { type: 'no-such-type' } } });
    for (let i = 0; i < 3; i++) run({ type: 'AttachSchema', data: { name: `s${i}`, topicFilter: `y/${i}`, schema: { type: 'object' } } });
    run({ type: 'ChangeSchema', data: { id: 1, name: 'still broken' } });
    assert.equal(warnings.length, 1, 'one compile attempt, one warning');
    run({ type: 'ChangeSchema', data: { id: 1, schema: { type: 'also-bad' } } });
    assert.equal(warnings.length, 2, 'a new body is compiled again');
  });

  it('pushes at most N violations per schema per second live and counts the rest', (t) => {
    const h = setup(t, { maxNotificationsPerSecond: 3 });
    const id = h.attach('s', 'flood', { type: 'object' });
    for (let i = 0; i < 10; i++) h.send('flood', '1', T0 + i); // all within one second
    assert.equal(h.pushed.length, 3);
    assert.equal(h.validator.stats(id)?.invalid_count, 10);
    assert.equal(h.validator.stats(id)?.notifications_suppressed, 7);
    h.send('flood', '1', T0 + 1500); // the next window
    assert.equal(h.pushed.length, 4);
  });

  it('follows wildcard and $ rules of the index: "#" does not see $SYS [MQTT-4.7.2-1]', (t) => {
    const h = setup(t);
    const id = h.attach('all', '#', { type: 'object' });
    h.send('$SYS/broker/uptime', '12 seconds');
    h.send('a', '{}');
    assert.equal(h.validator.stats(id)?.invalid_count, 0);
    assert.equal(h.validator.stats(id)?.valid_count, 1);
  });

  it('loads the schemas already in the log when created, and stops following the store when closed', (t) => {
    const db = openDatabase(':memory:');
    t.after(() => db.close());
    const store = createSqliteEventStore({ db });
    const run = (command: Command) => handleCommand({ store, clock }, command, { actor: { kind: 'system', id: 'test' } });
    run({ type: 'AttachSchema', data: { name: 's', topicFilter: 'a', schema: { type: 'object' } } });
    const validator = createSchemaValidator({ store, bus: createLiveBus(), clock, logger: pino({ level: 'silent' }) });
    validator.process({ topic: 'a', payload: Buffer.from('{}'), qos: 0, retain: false, receivedAt: T0 });
    assert.equal(validator.stats(1)?.valid_count, 1);
    validator.close();
    run({ type: 'AttachSchema', data: { name: 't', topicFilter: 'b', schema: { type: 'object' } } });
    assert.equal(validator.stats(2), null);
  });
});

describe('payloadPreview', () => {
  it('keeps short text, cuts long text at 200 characters with an ellipsis, summarises binary', () => {
    assert.equal(payloadPreview(Buffer.from('héllo\n')), 'héllo\n');
    const long = 'x'.repeat(1000);
    assert.equal(payloadPreview(Buffer.from(long)), `${'x'.repeat(200)}…`);
    assert.equal(payloadPreview(Buffer.from([0xc3])), '<binary, 1 bytes>');
    assert.equal(payloadPreview(Buffer.alloc(0)), '');
  });
});
