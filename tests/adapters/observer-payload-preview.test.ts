/**
 * Payload previews (DESIGN §7: "last payload preview"): UTF-8 text, pretty JSON, or a binary
 * summary, always capped; the live variant is cheap (no JSON parse) but classifies the same way.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { previewPayload, quickPreview } from '../../adapters/mqtt/payload-preview.ts';

describe('previewPayload', () => {
  it('pretty-prints JSON that fits, and shows other UTF-8 text as is', () => {
    assert.deepEqual(previewPayload(Buffer.from('[1, {"a":"ü"}]')), { kind: 'json', text: '[\n  1,\n  {\n    "a": "ü"\n  }\n]', truncated: false });
    assert.deepEqual(previewPayload(Buffer.from('Grüße, 21.5 °C\n')), { kind: 'text', text: 'Grüße, 21.5 °C\n', truncated: false });
    assert.deepEqual(previewPayload(Buffer.from('{not json')), { kind: 'text', text: '{not json', truncated: false });
    assert.deepEqual(previewPayload(Buffer.alloc(0)), { kind: 'text', text: '', truncated: false });
  });

  it('summarises binary payloads (invalid UTF-8 or control characters) as size and leading bytes', () => {
    assert.equal(previewPayload(Buffer.from([0xff, 0xfe, 0x00])).text, 'binary, 3 bytes: ff fe 00');
    assert.equal(previewPayload(Buffer.from('ab\u0000cd')).kind, 'binary');
    const big = previewPayload(Buffer.alloc(40, 1));
    assert.equal(big.text, `binary, 40 bytes: ${Array(16).fill('01').join(' ')} …`);
  });

  it('caps long text on a character boundary and says it was cut; a cut JSON document stays raw text', () => {
    const p = previewPayload(Buffer.from('€'.repeat(10)), 10); // 3 bytes each: 3 whole characters fit
    assert.deepEqual(p, { kind: 'text', text: '€€€', truncated: true });
    const json = previewPayload(Buffer.from(JSON.stringify({ a: 'x'.repeat(50) })), 20);
    assert.deepEqual([json.kind, json.truncated, json.text.length], ['text', true, 20]);
  });

  it('reports the real size of a payload of which only the head was kept', () => {
    assert.equal(previewPayload(Buffer.from([0xff, 0x00]), 1024, 5000).text, 'binary, 5000 bytes: ff 00 …');
    assert.equal(previewPayload(Buffer.from('abc'), 1024, 10).truncated, true);
  });
});

describe('quickPreview (live topic_message)', () => {
  it('classifies like the full preview without parsing JSON', () => {
    assert.deepEqual(quickPreview(Buffer.from(' {"t":1}')), { kind: 'json', text: ' {"t":1}', truncated: false });
    assert.deepEqual(quickPreview(Buffer.from('on')), { kind: 'text', text: 'on', truncated: false });
    assert.deepEqual(quickPreview(Buffer.from('température')), { kind: 'text', text: 'température', truncated: false });
    assert.equal(quickPreview(Buffer.from([1, 2, 3])).text, 'binary, 3 bytes: 01 02 03');
    assert.equal(quickPreview(Buffer.from([0xc3])).kind, 'binary', 'a lone UTF-8 lead byte is not text');
  });

  it('caps at the given size', () => {
    assert.deepEqual(quickPreview(Buffer.from('x'.repeat(300)), 256), { kind: 'text', text: 'x'.repeat(256), truncated: true });
    assert.deepEqual(quickPreview(Buffer.from('é'.repeat(200)), 255), { kind: 'text', text: 'é'.repeat(127), truncated: true });
  });
});
