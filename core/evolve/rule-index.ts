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
/**
 * Most principals have one rule (a device and its topic): that rule is stored as it is, an array
 * only from the second one. A Map per principal cost 22 MiB at 100,000 users (issue 14: memory).
 */
type Index = Map<string, AclRule | AclRule[]>;

const indexes = new WeakMap<Rules, Index>();

/** Stores `rule`, replacing a rule of the same id (a changed rule). */
const add = (index: Index, rule: AclRule): void => {
  const of = index.get(rule.principal);
  if (of === undefined || (!Array.isArray(of) && of.id === rule.id)) index.set(rule.principal, rule);
  else if (!Array.isArray(of)) index.set(rule.principal, [of, rule]);
  else {
    const at = of.findIndex((r) => r.id === rule.id);
    if (at < 0) of.push(rule);
    else of[at] = rule;
  }
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

const NONE: readonly AclRule[] = Object.freeze([]);

/** The rules of `principal` (in no particular order); the caller may not change the array. */
export const rulesByPrincipal = (rules: Rules, principal: string): readonly AclRule[] => {
  const of = indexOf(rules).get(principal);
  return of === undefined ? NONE : Array.isArray(of) ? of : [of];
};

/** evolveAclRule stored `rule` (new or changed; a rule's principal never changes). */
export const noteRuleStored = (rules: Rules, rule: AclRule): void => {
  const index = indexes.get(rules);
  if (index !== undefined) add(index, rule);
};

/** evolveAclRule removed `rule`. */
export const noteRuleDropped = (rules: Rules, rule: AclRule): void => {
  const index = indexes.get(rules);
  const of = index?.get(rule.principal);
  if (index === undefined || of === undefined) return;
  if (!Array.isArray(of)) {
    if (of.id === rule.id) index.delete(rule.principal);
    return;
  }
  const rest = of.filter((r) => r.id !== rule.id);
  if (rest.length === 0) index.delete(rule.principal);
  else index.set(rule.principal, rest.length === 1 ? rest[0] as AclRule : rest);
};
