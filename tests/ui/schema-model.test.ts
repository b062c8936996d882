/**
 * ui/data/schema-model.ts: the schema text checked before sending (with the line and column of a
 * JSON error), the server's ajv errors as lines (from the real HTTP app), and the live counters
 * (a violation bumps them; a fresh read never takes a live bump back).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError, createApiClient } from '../../ui/data/api-client.ts';
import {
  applyViolation, detailLines, invalidShare, jsonErrorOffset, lineColumn, mergeSchemaList, parseSchemaText, parseViolationMessage, SCHEMA_TEMPLATE, type JsonSchemaItem,
} from '../../ui/data/schema-model.ts';
import { createTestApp } from '../helpers/http.ts';

const item = (id: number, patch: Partial<JsonSchemaItem> = {}): JsonSchemaItem => ({
  id, name: `s${id}`, topic_filter: 'plant/#', schema: { type: 'object' }, enabled: true, description: '',
  created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z', valid_count: 0, invalid_count: 0, last_violation: null, ...patch,
});

describe('ui/data schema-model', () => {
  it('parses schema text: objects and booleans pass, the rest is named', () => {
    assert.deepEqual(parseSchemaText(SCHEMA_TEMPLATE), { ok: true, value: JSON.parse(SCHEMA_TEMPLATE) });
    assert.deepEqual(parseSchemaText('true'), { ok: true, value: true });
    for (const [text, re] of [['', /enter a JSON Schema/], ['[]', /not an array/], ['3', /not a number/], ['null', /not null/], ['"x"', /not a string/]] as const) {
      const r = parseSchemaText(text);
      assert.equal(r.ok, false, text);
      if (!r.ok) assert.match(r.problem, re, text);
    }
  });

  it('names the line and column of a JSON syntax error', () => {
    const r = parseSchemaText('{\n  "type": "object",\n  "required": [x]\n}');
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.problem, /not valid JSON at line 3, column 16/);
    assert.deepEqual(lineColumn('ab\ncd', 4), { line: 2, column: 2 });
    const early = parseSchemaText('{"type": "object"');
    assert.equal(early.ok, false);
    if (!early.ok) assert.match(early.problem, /line 1, column 18: the text ends too early/);
  });

  it('jsonErrorOffset agrees with JSON.parse on what is valid', () => {
    const valid = ['{}', '[]', ' {"a": [1, -2.5e3, true, false, null, "x\\u00e9\\n"]} ', '0', '"s"', '{"a":{"b":[{}]}}'];
    for (const v of valid) {
      JSON.parse(v);
      assert.equal(jsonErrorOffset(v), -1, v);
    }
    const invalid: [string, number][] = [['{"a": 01}', 7], ['[1,]', 3], ['{a: 1}', 1], ['{"a" 1}', 5], ['[1] x', 4], ['"\\q"', 1], ['{"a":1', 6], ['tru', 0], ['"a\tb"', 2]];
    for (const [v, at] of invalid) {
      assert.throws(() => JSON.parse(v), SyntaxError, v);
      assert.equal(jsonErrorOffset(v), at, v);
    }
  });

  it('turns error details into lines', () => {
    assert.deepEqual(detailLines([
      { path: '/topic_filter', message: '/topic_filter must be string' },
      { instancePath: '/a', message: 'bad' },
      { field: 'f', problem: 'p' },
      'plain',
      { field: 'schema' },
      null,
    ]), ['/topic_filter must be string', '/a: bad', 'f: p', 'plain']);
  });

  it('the real server refuses a schema that does not compile; the message names ajv\'s reason', async (t) => {
    const h = await createTestApp(t);
    const token = await h.tokenFor('operator');
    const api = createApiClient({ fetch, origin: h.baseUrl, token: () => token });
    const parsed = parseSchemaText('{"type": "objekt"}');
    assert.ok(parsed.ok, 'valid JSON: only the server can tell it is no schema');
    await assert.rejects(api.post('/json-schemas', { name: 'bad', topic_filter: 'plant/#', schema: parsed.value }), (e: ApiError) => {
      assert.equal(e.status, 400);
      assert.equal(e.code, 'MCM_ERR_SCHEMA_INVALID');
      assert.match(e.message, /schema does not compile/);
      return true;
    });
    await assert.rejects(api.post('/json-schemas', { name: 'bad', topic_filter: 'a/#/b', schema: {} }), (e: ApiError) => e.status === 400);
    await assert.rejects(api.post('/json-schemas', { name: 'bad', topic_filter: 'a', schema: [] }), (e: ApiError) => e.status === 400 && detailLines(e.details).length > 0);
  });

  it('a live violation bumps that schema only; malformed messages are ignored', () => {
    const m = parseViolationMessage({ type: 'schema_violation', schema_id: 2, schema_name: 's2', topic: 'plant/a', errors: [{ path: '/v', message: 'must be number' }, 7], at: '2026-01-01T00:00:05.000Z' });
    assert.ok(m);
    assert.deepEqual(m.violation.errors, [{ path: '/v', message: 'must be number' }]);
    const after = applyViolation([item(1), item(2, { invalid_count: 3 })], m.schemaId, m.violation);
    assert.equal(after[0]?.invalid_count, 0);
    assert.equal(after[1]?.invalid_count, 4);
    assert.equal(after[1]?.last_violation?.topic, 'plant/a');
    assert.equal(parseViolationMessage({ type: 'schema_violation', topic: 'x' }), null);
  });

  it('a fresh read wins but never takes back a live bump of the same definition; a changed definition resets', () => {
    const held = [item(1, { invalid_count: 5, last_violation: { topic: 'a', at: '2026-01-01T00:00:09.000Z', errors: [] } })];
    const fresh = [item(1, { invalid_count: 4, valid_count: 10, last_violation: { topic: 'b', at: '2026-01-01T00:00:08.000Z', errors: [], payload_preview: '{}' } }), item(2)];
    const merged = mergeSchemaList(held, fresh);
    assert.equal(merged.length, 2);
    assert.equal(merged[0]?.invalid_count, 5);
    assert.equal(merged[0]?.valid_count, 10);
    assert.equal(merged[0]?.last_violation?.topic, 'a');
    const changed = mergeSchemaList(held, [item(1, { updated_at: '2026-01-02T00:00:00.000Z', invalid_count: 0 })]);
    assert.equal(changed[0]?.invalid_count, 0);
    assert.equal(mergeSchemaList(held, []).length, 0, 'a detached schema leaves the list');
  });

  it('invalid share', () => {
    assert.equal(invalidShare(item(1)), '—');
    assert.equal(invalidShare(item(1, { valid_count: 3, invalid_count: 1 })), '25 %');
    assert.equal(invalidShare(item(1, { valid_count: 199, invalid_count: 1 })), '0.5 %');
  });
});
