/** Folding ACL rules and JSON schemas: both are keyed by String(id) with a next-id counter. */
import type { EventOf } from '../events.ts';
import type { BrokerConfig } from '../state.ts';
import { drop, own, put } from './records.ts';
import { noteRuleDropped, noteRuleStored } from './rule-index.ts';

export type AclRuleEvent = EventOf<'AclRuleAdded' | 'AclRuleChanged' | 'AclRuleRemoved'>;
export type SchemaEvent = EventOf<'SchemaAttached' | 'SchemaChanged' | 'SchemaEnabled' | 'SchemaDisabled' | 'SchemaDetached'>;

export const evolveAclRule = (state: BrokerConfig, event: AclRuleEvent, at: string): void => {
  const key = String(event.data.id);
  switch (event.type) {
    case 'AclRuleAdded': {
      const { id, principal, topic, access, description } = event.data;
      const rule = { id, principal, topic, access, description, createdAt: at, updatedAt: at };
      put(state.rules, key, rule);
      noteRuleStored(state.rules, rule);
      // Ids are never reused, even after the highest rule is removed.
      state.nextRuleId = Math.max(state.nextRuleId, id + 1);
      return;
    }
    case 'AclRuleChanged': {
      const rule = own(state.rules, key);
      if (!rule) return;
      const { topic, access, description } = event.data;
      const changed = { ...rule, topic, access, description, updatedAt: at }; // AclRule is readonly
      put(state.rules, key, changed);
      noteRuleStored(state.rules, changed);
      return;
    }
    case 'AclRuleRemoved': {
      const rule = own(state.rules, key);
      if (!rule) return;
      drop(state.rules, key);
      noteRuleDropped(state.rules, rule);
      return;
    }
    default: {
      const never: never = event;
      throw new Error(`unhandled ACL rule event ${JSON.stringify(never)}`);
    }
  }
};

export const evolveSchema = (state: BrokerConfig, event: SchemaEvent, at: string): void => {
  const key = String(event.data.id);
  if (event.type === 'SchemaAttached') {
    const { id, name, topicFilter, schema, enabled, description } = event.data;
    put(state.schemas, key, { id, name, topicFilter, schema, enabled, description, createdAt: at, updatedAt: at });
    state.nextSchemaId = Math.max(state.nextSchemaId, id + 1);
    return;
  }
  const def = own(state.schemas, key);
  if (!def) return;
  switch (event.type) {
    case 'SchemaChanged':
      def.name = event.data.name;
      def.topicFilter = event.data.topicFilter;
      def.schema = event.data.schema;
      def.description = event.data.description;
      break;
    case 'SchemaEnabled': def.enabled = true; break;
    case 'SchemaDisabled': def.enabled = false; break;
    case 'SchemaDetached': drop(state.schemas, key); return;
    default: {
      const never: never = event;
      throw new Error(`unhandled schema event ${JSON.stringify(never)}`);
    }
  }
  def.updatedAt = at;
};
