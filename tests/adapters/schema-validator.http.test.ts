/**
 * GET /api/v1/json-schemas[/{id}] carry the validator's live counters (valid_count,
 * invalid_count, last_violation) when the server runs one (HttpDeps.schemaStats), in the shape
 * docs/openapi.yaml documents; without one the fields are absent.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { problemsWith } from '../../adapters/http/validate.ts';
import { createLiveBus } from '../../adapters/live/live-bus.ts';
import { createSchemaValidator, type SchemaValidator } from '../../adapters/observer/schema-validator.ts';
import { createTestApp } from '../helpers/http.ts';

describe('GET /api/v1/json-schemas with live counters', () => {
  it('includes valid_count, invalid_count and last_violation per schema', async (t) => {
    // The validator follows the app's store, which createTestApp builds: wire it in lazily.
    let validator: SchemaValidator | null = null;
    const h = await createTestApp(t, { deps: { schemaStats: { stats: (id) => validator?.stats(id) ?? null } } });
    validator = createSchemaValidator({ store: h.store, bus: createLiveBus(), clock: h.clock, logger: pino({ level: 'silent' }) });
    t.after(() => validator?.close());

    const operator = await h.tokenFor('operator');
    const created = await h.request('POST', '/api/v1/json-schemas', {
      token: operator, body: { name: 'temp', topic_filter: 'plant/+/temp', schema: { type: 'object', required: ['value'] } },
    });
    assert.equal(created.status, 201, created.text);
    const quiet = await h.request('POST', '/api/v1/json-schemas', {
      token: operator, body: { name: 'quiet', topic_filter: 'other/#', schema: { type: 'object' } },
    });
    assert.equal(quiet.status, 201, quiet.text);
    const id = created.body.id as number;
    const at = h.clock.ms();
    validator.process({ topic: 'plant/l1/temp', payload: Buffer.from('{"value": 1}'), qos: 0, retain: false, receivedAt: at });
    validator.process({ topic: 'plant/l1/temp', payload: Buffer.from('{"v": 1}'), qos: 0, retain: false, receivedAt: at });

    const auditor = await h.tokenFor('auditor');
    const list = await h.request('GET', '/api/v1/json-schemas', { token: auditor });
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(problemsWith('JsonSchemaList', list.body), []);
    const [temp, other] = list.body.items;
    assert.equal(temp.valid_count, 1);
    assert.equal(temp.invalid_count, 1);
    assert.equal(temp.last_violation.topic, 'plant/l1/temp');
    assert.deepEqual(temp.last_violation.errors, [{ path: '/', message: "must have required property 'value'" }]);
    assert.deepEqual([other.valid_count, other.invalid_count, other.last_violation], [0, 0, null]);

    const one = await h.request('GET', `/api/v1/json-schemas/${id}`, { token: auditor });
    assert.equal(one.status, 200, one.text);
    assert.deepEqual(problemsWith('JsonSchema', one.body), []);
    assert.equal(one.body.invalid_count, 1);
  });

  it('leaves the counters out when no validator runs', async (t) => {
    const h = await createTestApp(t);
    const created = await h.request('POST', '/api/v1/json-schemas', {
      token: await h.tokenFor('operator'), body: { name: 's', topic_filter: 'a/#', schema: { type: 'object' } },
    });
    assert.equal(created.status, 201, created.text);
    const res = await h.request('GET', `/api/v1/json-schemas/${created.body.id}`, { token: await h.tokenFor('auditor') });
    assert.equal(res.status, 200);
    assert.equal('valid_count' in res.body, false);
  });
});
