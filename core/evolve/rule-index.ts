/**
 * ACL rules by principal, for the deciders' lookups ("does alice already have `readwrite a/#`?",
 * "alice's rules go with her"). Scanning `state.rules` for each of those made a batch of 100,000
 * users with one rule each quadratic (issue 14: 10^10 comparisons). The index lives beside the
 * state, not in it (the state stays plain JSON for snapshots and structuredClone): it is built on
 * first use for a `rules` record and kept current by evolveAclRule, the only code that changes
 * `state.rules`. A copy of the state (cloneState, a snapshot) is a new record, so it gets its own.
 */
import type { AclRule } from '../acl-types.ts';

type Rules = Readonly<Record<string, AclRule>>;
type Index = Map<string, Map<number, AclRule>>;

const indexes = new WeakMap<Rules, Index>();

const add = (index: Index, rule: AclRule): void => {
  let of = index.get(rule.principal);
  if (of === undefined) index.set(rule.principal, (of = new Map()));
  of.set(rule.id, rule);
};

const indexOf = (rules: Rules): Index => {
  let index = indexes.get(rules);
  if (index === undefined) {
    index = new Map();
    for (const rule of Object.values(rules)) add(index, rule);
    indexes.set(rules, index);
  }
  return index;
};

const NONE: ReadonlyMap<number, AclRule> = new Map();

/** The rules of `principal`, keyed by id (in no particular order). */
export const rulesByPrincipal = (rules: Rules, principal: string): ReadonlyMap<number, AclRule> =>
  indexOf(rules).get(principal) ?? NONE;

/** evolveAclRule stored `rule` (new or changed; a rule's principal never changes). */
export const noteRuleStored = (rules: Rules, rule: AclRule): void => {
  const index = indexes.get(rules);
  if (index !== undefined) add(index, rule);
};

/** evolveAclRule removed `rule`. */
export const noteRuleDropped = (rules: Rules, rule: AclRule): void => {
  const of = indexes.get(rules)?.get(rule.principal);
  if (of === undefined) return;
  of.delete(rule.id);
  if (of.size === 0) indexes.get(rules)?.delete(rule.principal);
};
