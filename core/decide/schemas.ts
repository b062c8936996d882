/**
 * Deciding JSON-schema commands. Schemas are observe-only (Mosquitto cannot enforce them); the
 * adapter has already compiled `schema` with ajv, so the core checks only its shape.
 */
import { canonicalJson } from '../canonical-json.ts';
import type { CommandOf } from '../commands.ts';
import { DomainError, ERROR_CODES } from '../errors.ts';
import type { DomainEvent } from '../events.ts';
import type { BrokerConfig, JsonSchemaDef } from '../state.ts';
import { assertTopicFilter } from '../topic-filter.ts';
import { assertBoolean, assertId, optionalDescription, own } from './guards.ts';

export const SCHEMA_NAME_MAX = 128;

const assertSchemaName = (value: unknown, field = 'name'): string => {
  const length = typeof value === 'string' ? [...value].length : 0;
  if (typeof value !== 'string' || length === 0 || length > SCHEMA_NAME_MAX || /[\u0000-\u001f\u007f-\u009f]/u.test(value)) {
    throw new DomainError(
      ERROR_CODES.VALIDATION,
      `schema ${field} must be 1 to ${SCHEMA_NAME_MAX} characters without control characters`,
      [{ field, value }],
    );
  }
  return value;
};

/** Deeper than any real schema; also what stops a cycle. */
const MAX_SCHEMA_DEPTH = 128;

/** Only what JSON can carry: null, booleans, finite numbers, strings, arrays, plain objects. */
const isPlainJson = (value: unknown, depth = 0): boolean => {
  if (depth > MAX_SCHEMA_DEPTH) return false;
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((v) => isPlainJson(v, depth + 1));
  if (typeof value !== 'object') return false;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  return Object.values(value).every((v) => isPlainJson(v, depth + 1));
};

/**
 * A JSON Schema is an object or a boolean (JSON Schema 2020-12 §4.3.2). It goes into the event log,
 * so it must also be plain JSON (no cycles, BigInt, NaN, functions, Dates, undefined): otherwise
 * the stored row and the hash chain's canonical JSON could disagree.
 */
const assertSchemaShape = (value: unknown, field = 'schema'): object | boolean => {
  if (typeof value === 'boolean') return value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new DomainError(ERROR_CODES.SCHEMA_INVALID, `${field} must be a JSON Schema: an object or true/false`, [{ field }]);
  }
  if (!isPlainJson(value)) {
    throw new DomainError(
      ERROR_CODES.SCHEMA_INVALID,
      `${field} must be plain JSON nested at most ${MAX_SCHEMA_DEPTH} levels (no cycles, BigInt, NaN, functions, dates or undefined)`,
      [{ field }],
    );
  }
  return value;
};

const requireSchema = (state: BrokerConfig, value: unknown): JsonSchemaDef => {
  const id = assertId(value);
  const def = own(state.schemas, String(id));
  if (!def) throw new DomainError(ERROR_CODES.SCHEMA_NOT_FOUND, `JSON schema ${id} does not exist`, [{ id }]);
  return def;
};

export const attachSchema = (c: CommandOf<'AttachSchema'>, state: BrokerConfig): DomainEvent[] => {
  const name = assertSchemaName(c.data.name);
  const topicFilter = assertTopicFilter(c.data.topicFilter, 'topicFilter');
  const schema = assertSchemaShape(c.data.schema);
  const enabled = c.data.enabled === undefined ? true : assertBoolean(c.data.enabled, 'enabled');
  const description = optionalDescription(c.data.description) ?? '';
  return [{ type: 'SchemaAttached', data: { id: state.nextSchemaId, name, topicFilter, schema, enabled, description } }];
};

/** SchemaChanged carries the full new definition; `enabled` has its own events. No change → []. */
export const changeSchema = (c: CommandOf<'ChangeSchema'>, state: BrokerConfig): DomainEvent[] => {
  const def = requireSchema(state, c.data.id);
  const name = c.data.name === undefined ? def.name : assertSchemaName(c.data.name);
  const topicFilter = c.data.topicFilter === undefined ? def.topicFilter : assertTopicFilter(c.data.topicFilter, 'topicFilter');
  const schema = c.data.schema === undefined ? def.schema : assertSchemaShape(c.data.schema);
  const description = optionalDescription(c.data.description) ?? def.description;
  const enabled = c.data.enabled === undefined ? def.enabled : assertBoolean(c.data.enabled, 'enabled');
  const events: DomainEvent[] = [];
  if (
    name !== def.name || topicFilter !== def.topicFilter || description !== def.description ||
    canonicalJson(schema) !== canonicalJson(def.schema) // key order is not a change
  ) {
    events.push({ type: 'SchemaChanged', data: { id: def.id, name, topicFilter, schema, description } });
  }
  if (enabled !== def.enabled) {
    events.push({ type: enabled ? 'SchemaEnabled' : 'SchemaDisabled', data: { id: def.id } });
  }
  return events;
};

export const detachSchema = (c: CommandOf<'DetachSchema'>, state: BrokerConfig): DomainEvent[] => {
  const { id } = requireSchema(state, c.data.id);
  return [{ type: 'SchemaDetached', data: { id } }];
};
