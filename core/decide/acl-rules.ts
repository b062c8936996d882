/** Deciding ACL rule commands. Rule ids come from state.nextRuleId and are never reused. */
import type { Access, Principal } from '../acl-types.ts';
import type { CommandOf, RuleSpec } from '../commands.ts';
import { DomainError, ERROR_CODES } from '../errors.ts';
import type { DomainEvent } from '../events.ts';
import { roleNameViolation, usernameViolation } from '../names.ts';
import { rulesByPrincipal } from '../evolve/rule-index.ts';
import type { BrokerConfig } from '../state.ts';
import { assertTopicFilter, isReservedTopic } from '../topic-filter.ts';
import { assertAccess, assertId, optionalDescription, own, requireMqttUser, requireRole, ruleKey, show } from './guards.ts';

const PRINCIPAL_FORMS = '"user:<username>", "role:<name>", "anonymous" or "pattern"';

const badPrincipal = (value: unknown, why: string): DomainError =>
  new DomainError(ERROR_CODES.PRINCIPAL_INVALID, `principal ${show(value)} ${why}`, [
    { field: 'principal', value, allowed: ['user:<username>', 'role:<name>', 'anonymous', 'pattern'] },
  ]);

/**
 * `anonymous` (clients without a username), `pattern` (everyone, %u/%c substituted), or a user or
 * role that exists. `%u`/`%c` in a non-pattern rule are literal text to the broker (reference
 * §2.2) — legal, so not refused here.
 */
export const assertPrincipal = (state: BrokerConfig, value: unknown): Principal => {
  if (value === 'anonymous' || value === 'pattern') return value;
  if (typeof value !== 'string') throw badPrincipal(value, `must be ${PRINCIPAL_FORMS}`);
  if (value.startsWith('user:')) {
    const v = usernameViolation(value.slice(5));
    if (v) throw badPrincipal(value, `does not name a valid MQTT user: ${v.message}`);
    return `user:${requireMqttUser(state, value.slice(5)).username}`;
  }
  if (value.startsWith('role:')) {
    const v = roleNameViolation(value.slice(5));
    if (v) throw badPrincipal(value, `does not name a valid role: ${v.message}`);
    return `role:${requireRole(state, value.slice(5)).name}`;
  }
  throw badPrincipal(value, `must be ${PRINCIPAL_FORMS}`);
};

/**
 * An ACL rule's topic: a valid filter whose first level is not `$mcm`. That tree is MCM's own:
 * the service account proves enforcement by publishing under `$mcm/probe/<generation>` (DESIGN §6),
 * and a rule there would let a client fake or watch that proof.
 */
export const assertAclTopic = (value: unknown, field = 'topic'): string => {
  const topic = assertTopicFilter(value, field);
  if (isReservedTopic(topic)) {
    throw new DomainError(ERROR_CODES.TOPIC_FILTER_INVALID, `topic ${JSON.stringify(topic)} in ${field}: the first level "$mcm" is reserved for MCM's enforcement probe`, [
      { field, value: topic, rule: 'reserved' },
    ]);
  }
  return topic;
};

export type CheckedRuleSpec = { topic: string; access: Access; description?: string };

/** A role's rule list: each checked, duplicates of (topic, access) collapsed (the first wins). */
export const assertRuleSpecs = (value: unknown, field = 'rules'): CheckedRuleSpec[] => {
  if (!Array.isArray(value)) {
    throw new DomainError(ERROR_CODES.VALIDATION, `${field} must be a list of {topic, access} rules`, [{ field, value }]);
  }
  const seen = new Map<string, CheckedRuleSpec>();
  value.forEach((spec: unknown, i) => {
    if (spec === null || typeof spec !== 'object') {
      throw new DomainError(ERROR_CODES.VALIDATION, `${field}[${i}] must be a {topic, access} rule`, [{ field: `${field}[${i}]`, value: spec }]);
    }
    const s = spec as Partial<RuleSpec>;
    const topic = assertAclTopic(s.topic, `${field}[${i}].topic`);
    const access = assertAccess(s.access, `${field}[${i}].access`);
    const description = optionalDescription(s.description, `${field}[${i}].description`);
    const key = ruleKey(topic, access);
    if (!seen.has(key)) seen.set(key, description === undefined ? { topic, access } : { topic, access, description });
  });
  return [...seen.values()];
};

const findRule = (state: BrokerConfig, principal: Principal, topic: string, access: Access) => {
  for (const r of rulesByPrincipal(state.rules, principal).values()) if (r.topic === topic && r.access === access) return r;
  return undefined;
};

const ruleExists = (principal: Principal, topic: string, access: Access, id: number): DomainError =>
  new DomainError(
    ERROR_CODES.ACL_RULE_EXISTS,
    `${principal} already has the rule "${access} ${topic}" (rule ${id})`,
    [{ id, principal, topic, access }],
  );

export const addAclRule = (c: CommandOf<'AddAclRule'>, state: BrokerConfig): DomainEvent[] => {
  const principal = assertPrincipal(state, c.data.principal);
  const topic = assertAclTopic(c.data.topic, 'topic');
  const access = assertAccess(c.data.access);
  const description = optionalDescription(c.data.description) ?? '';
  const existing = findRule(state, principal, topic, access);
  if (existing) throw ruleExists(principal, topic, access, existing.id);
  return [{ type: 'AclRuleAdded', data: { id: state.nextRuleId, principal, topic, access, description } }];
};

const requireRule = (state: BrokerConfig, value: unknown) => {
  const id = assertId(value);
  const rule = own(state.rules, String(id));
  if (!rule) throw new DomainError(ERROR_CODES.ACL_RULE_NOT_FOUND, `ACL rule ${id} does not exist`, [{ id }]);
  return rule;
};

/** The principal stays; topic, access and description change. Changing nothing is a no-op. */
export const changeAclRule = (c: CommandOf<'ChangeAclRule'>, state: BrokerConfig): DomainEvent[] => {
  const rule = requireRule(state, c.data.id);
  const topic = c.data.topic === undefined ? rule.topic : assertAclTopic(c.data.topic, 'topic');
  const access = c.data.access === undefined ? rule.access : assertAccess(c.data.access);
  const description = optionalDescription(c.data.description) ?? rule.description;
  if (topic === rule.topic && access === rule.access && description === rule.description) return [];
  const clash = findRule(state, rule.principal, topic, access);
  if (clash && clash.id !== rule.id) throw ruleExists(rule.principal, topic, access, clash.id);
  return [{ type: 'AclRuleChanged', data: { id: rule.id, topic, access, description } }];
};

export const removeAclRule = (c: CommandOf<'RemoveAclRule'>, state: BrokerConfig): DomainEvent[] => {
  const { id } = requireRule(state, c.data.id);
  return [{ type: 'AclRuleRemoved', data: { id } }];
};
