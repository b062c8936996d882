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

/**
 * An index being built in steps (buildRuleIndexStep): the rules as they were when it began and
 * how far it got. Any change to the record discards it (noteRuleStored/Dropped), so a step
 * never adds a rule that changed since.
 */
const building = new WeakMap<Rules, { index: Index; pending: readonly AclRule[]; at: number }>();

const indexOf = (rules: Rules): Index => {
  let index = indexes.get(rules);
  if (index === undefined) {
    const partial = building.get(rules);
    index = partial?.index ?? new Map<string, AclRule | AclRule[]>();
    const pending = partial?.pending ?? Object.values(rules);
    for (let i = partial?.at ?? 0; i < pending.length; i++) add(index, pending[i] as AclRule);
    building.delete(rules);
    indexes.set(rules, index);
  }
  return index;
};

/**
 * Builds up to `budget` rules of the index of `rules` (the first call only takes the rules'
 * list); true once it is complete. The server's warm-up runs it in turns of the event loop
 * (issue 14: 76 ms in one piece at 100,000 rules, during which nothing was answered); the first
 * lookup before the end finishes it at once.
 */
export const buildRuleIndexStep = (rules: Rules, budget: number): boolean => {
  if (indexes.has(rules)) return true;
  const partial = building.get(rules);
  if (partial === undefined) {
    building.set(rules, { index: new Map(), pending: Object.values(rules), at: 0 });
    return false;
  }
  const end = Math.min(partial.pending.length, partial.at + Math.max(1, budget));
  for (; partial.at < end; partial.at++) add(partial.index, partial.pending[partial.at] as AclRule);
  if (partial.at < partial.pending.length) return false;
  indexOf(rules);
  return true;
};

const NONE: readonly AclRule[] = Object.freeze([]);

/** The rules of `principal` (in no particular order); the caller may not change the array. */
export const rulesByPrincipal = (rules: Rules, principal: string): readonly AclRule[] => {
  const of = indexOf(rules).get(principal);
  return of === undefined ? NONE : Array.isArray(of) ? of : [of];
};

/** evolveAclRule stored `rule` (new or changed; a rule's principal never changes). */
export const noteRuleStored = (rules: Rules, rule: AclRule): void => {
  building.delete(rules);
  const index = indexes.get(rules);
  if (index !== undefined) add(index, rule);
};

/** evolveAclRule removed `rule`. */
export const noteRuleDropped = (rules: Rules, rule: AclRule): void => {
  building.delete(rules);
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
