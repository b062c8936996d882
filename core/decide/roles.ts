/**
 * Deciding role commands. A role's rules are ACL rules with principal `role:<name>` (DESIGN §5),
 * so defining, replacing and deleting a role emit AclRule* events in the same append.
 */
import type { AclRule, Principal } from '../acl-types.ts';
import type { CommandOf } from '../commands.ts';
import { DomainError, ERROR_CODES } from '../errors.ts';
import type { DomainEvent } from '../events.ts';
import { byCodeUnit } from '../evolve/records.ts';
import { assertRoleName } from '../names.ts';
import type { BrokerConfig } from '../state.ts';
import { assertRuleSpecs } from './acl-rules.ts';
import { nameList, optionalDescription, own, plural, requireRole, ruleKey, rulesOf } from './guards.ts';

export const defineRole = (c: CommandOf<'DefineRole'>, state: BrokerConfig): DomainEvent[] => {
  const role = assertRoleName(c.data.name);
  if (own(state.roles, role)) throw new DomainError(ERROR_CODES.ROLE_EXISTS, `role "${role}" already exists`, [{ role }]);
  const description = optionalDescription(c.data.description) ?? '';
  const rules = c.data.rules === undefined ? [] : assertRuleSpecs(c.data.rules);
  const principal: Principal = `role:${role}`;
  return [
    { type: 'RoleDefined', data: { role, description } },
    ...rules.map((r, i): DomainEvent => ({
      type: 'AclRuleAdded',
      data: { id: state.nextRuleId + i, principal, topic: r.topic, access: r.access, description: r.description ?? '' },
    })),
  ];
};

/**
 * `rules`, when given, replaces the role's rule set by (topic, access): a rule already present
 * keeps its id (and its description unless the request gives one), the others are removed or
 * added. Nothing changed → [].
 */
export const updateRole = (c: CommandOf<'UpdateRole'>, state: BrokerConfig): DomainEvent[] => {
  const current = requireRole(state, c.data.name, 'name');
  const role = current.name;
  const description = optionalDescription(c.data.description);
  const rules = c.data.rules === undefined ? undefined : assertRuleSpecs(c.data.rules);
  const events: DomainEvent[] = [];
  if (description !== undefined && description !== current.description) {
    events.push({ type: 'RoleDescribed', data: { role, description } });
  }
  if (rules === undefined) return events;

  const principal: Principal = `role:${role}`;
  const existing = new Map<string, AclRule>();
  const removed: AclRule[] = [];
  for (const r of rulesOf(state, principal)) {
    const key = ruleKey(r.topic, r.access);
    // Equal rules can't be created, but if a log ever holds two, the lower id is the one kept.
    if (existing.has(key)) removed.push(r);
    else existing.set(key, r);
  }
  const wanted = new Set(rules.map((r) => ruleKey(r.topic, r.access)));
  for (const [key, r] of existing) if (!wanted.has(key)) removed.push(r);
  removed.sort((a, b) => a.id - b.id);

  const changed: DomainEvent[] = [];
  const added: DomainEvent[] = [];
  for (const spec of rules) {
    const kept = existing.get(ruleKey(spec.topic, spec.access));
    if (kept) {
      if (spec.description !== undefined && spec.description !== kept.description) {
        changed.push({ type: 'AclRuleChanged', data: { id: kept.id, topic: kept.topic, access: kept.access, description: spec.description } });
      }
    } else {
      added.push({
        type: 'AclRuleAdded',
        data: { id: state.nextRuleId + added.length, principal, topic: spec.topic, access: spec.access, description: spec.description ?? '' },
      });
    }
  }
  return [...events, ...removed.map((r): DomainEvent => ({ type: 'AclRuleRemoved', data: { id: r.id } })), ...changed, ...added];
};

/** Refused while granted to anyone; otherwise its rules are removed in the same append. */
export const deleteRole = (c: CommandOf<'DeleteRole'>, state: BrokerConfig): DomainEvent[] => {
  const role = requireRole(state, c.data.name, 'name').name;
  const users = Object.values(state.users).filter((u) => u.roles.includes(role)).map((u) => u.username).sort(byCodeUnit);
  if (users.length > 0) {
    throw new DomainError(
      ERROR_CODES.ROLE_IN_USE,
      `role "${role}" is granted to ${plural(users.length, 'user')}: ${nameList(users)}; revoke it first`,
      [{ role, users }],
    );
  }
  return [
    ...rulesOf(state, `role:${role}`).map((r): DomainEvent => ({ type: 'AclRuleRemoved', data: { id: r.id } })),
    { type: 'RoleDeleted', data: { role } },
  ];
};
