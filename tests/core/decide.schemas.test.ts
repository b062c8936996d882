import { describe, it } from 'node:test';
import type { DomainEvent } from '../../core/events.ts';
import { given } from '../helpers/decider-spec.ts';

const schema = { type: 'object', properties: { t: { type: 'number' } }, required: ['t'] };
const attached: DomainEvent = {
  type: 'SchemaAttached',
  data: { id: 1, name: 'temperature', topicFilter: 'plant/+/temp', schema, enabled: true, description: 'd' },
};

describe('AttachSchema', () => {
  it('attaches a schema with id = nextSchemaId, enabled by default', () => {
    given([]).when({ type: 'AttachSchema', data: { name: 'temperature', topicFilter: 'plant/+/temp', schema, description: 'd' } })
      .then([attached]);
  });

  it('takes the next id after existing ones and honours enabled: false; boolean schemas are schemas', () => {
    given([attached]).when({ type: 'AttachSchema', data: { name: 'any', topicFilter: '#', schema: true, enabled: false } })
      .then([{ type: 'SchemaAttached', data: { id: 2, name: 'any', topicFilter: '#', schema: true, enabled: false, description: '' } }]);
  });

  it('refuses a schema that is not an object or boolean with MCM_ERR_SCHEMA_INVALID', () => {
    for (const bad of [null, [], 'string', 3]) {
      given([]).when({ type: 'AttachSchema', data: { name: 'n', topicFilter: 'a', schema: bad } }).thenThrows('MCM_ERR_SCHEMA_INVALID');
    }
  });

  it('refuses an invalid topic filter with MCM_ERR_TOPIC_FILTER_INVALID', () => {
    given([]).when({ type: 'AttachSchema', data: { name: 'n', topicFilter: 'a/#/b', schema } }).thenThrows('MCM_ERR_TOPIC_FILTER_INVALID');
  });

  it('refuses an empty, 129-character or multi-line name with MCM_ERR_VALIDATION', () => {
    for (const name of ['', 'x'.repeat(129), 'a\nb']) {
      given([]).when({ type: 'AttachSchema', data: { name, topicFilter: 'a', schema } }).thenThrows('MCM_ERR_VALIDATION');
    }
  });
});

describe('ChangeSchema', () => {
  it('emits SchemaChanged with the full new definition when any of its fields changes', () => {
    given([attached]).when({ type: 'ChangeSchema', data: { id: 1, topicFilter: 'plant/#' } })
      .then([{ type: 'SchemaChanged', data: { id: 1, name: 'temperature', topicFilter: 'plant/#', schema, description: 'd' } }]);
  });

  it('disables and enables with their own events', () => {
    given([attached]).when({ type: 'ChangeSchema', data: { id: 1, enabled: false } }).then([{ type: 'SchemaDisabled', data: { id: 1 } }]);
    given([attached, { type: 'SchemaDisabled', data: { id: 1 } }]).when({ type: 'ChangeSchema', data: { id: 1, enabled: true, name: 'temp' } }).then([
      { type: 'SchemaChanged', data: { id: 1, name: 'temp', topicFilter: 'plant/+/temp', schema, description: 'd' } },
      { type: 'SchemaEnabled', data: { id: 1 } },
    ]);
  });

  it('is a no-op ([]) for the same values, including a schema with its keys in another order', () => {
    const reordered = { required: ['t'], properties: { t: { type: 'number' } }, type: 'object' };
    given([attached]).when({ type: 'ChangeSchema', data: { id: 1, name: 'temperature', schema: reordered, enabled: true } }).then([]);
  });

  it('refuses unknown ids with MCM_ERR_SCHEMA_NOT_FOUND and bad values like AttachSchema', () => {
    given([attached]).when({ type: 'ChangeSchema', data: { id: 2, name: 'x' } }).thenThrows('MCM_ERR_SCHEMA_NOT_FOUND');
    given([attached]).when({ type: 'ChangeSchema', data: { id: 1, schema: 'x' } }).thenThrows('MCM_ERR_SCHEMA_INVALID');
    given([attached]).when({ type: 'ChangeSchema', data: { id: 1, enabled: 'no' as unknown as boolean } }).thenThrows('MCM_ERR_VALIDATION');
  });
});

describe('DetachSchema', () => {
  it('detaches an attached schema', () => {
    given([attached]).when({ type: 'DetachSchema', data: { id: 1 } }).then([{ type: 'SchemaDetached', data: { id: 1 } }]);
  });
  it('refuses an unknown id with MCM_ERR_SCHEMA_NOT_FOUND', () => {
    given([attached, { type: 'SchemaDetached', data: { id: 1 } }]).when({ type: 'DetachSchema', data: { id: 1 } }).thenThrows('MCM_ERR_SCHEMA_NOT_FOUND');
  });
});

describe('schemas are plain JSON (they are stored in the event log)', () => {
  it('refuses cycles, NaN, BigInt, functions, dates, undefined and absurd nesting with MCM_ERR_SCHEMA_INVALID', () => {
    const cyclic: Record<string, unknown> = { type: 'object' };
    cyclic['self'] = cyclic;
    let deep: unknown = true;
    for (let i = 0; i < 10_000; i++) deep = { not: deep };
    for (const bad of [cyclic, { maximum: Number.NaN }, { maximum: Infinity }, { maximum: 10n }, { f: () => 1 }, { d: new Date(0) }, { x: undefined }, deep]) {
      given([]).when({ type: 'AttachSchema', data: { name: 'n', topicFilter: 'a', schema: bad } }).thenThrows('MCM_ERR_SCHEMA_INVALID');
    }
  });
});
