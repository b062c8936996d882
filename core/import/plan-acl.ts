/**
 * The ACL half of an import plan: per principal (the anonymous list, each user, the patterns),
 * make MCM's effective lines (direct rules + granted roles) reduce to exactly what the file's
 * lines reduce to (core/acl-model.ts reduceList, which never changes a decision). Equal → nothing.
 * Otherwise: add the file's lines MCM lacks as direct rules, remove the direct rules the file does
 * not grant (keep the ones its lines cover), revoke a role whose rules the file does not all
 * grant (what the file still grants of it comes back as direct rules). Everything is keyed by
 * maps and tries: 100,000 users and 100,000 lines plan in seconds (no scan per rule).
 */
import { filterCovers } from '../topic-match.ts';
import { patternCovers, redundancyIn, reduceList, type AclEntry, type AclSource, type Covers } from '../acl-model.ts';
import type { Access, AclRule, Principal } from '../acl-types.ts';
import type { DomainEvent } from '../events.ts';
import type { ImportedRule } from './parse-acl-file.ts';

export type AclChange = { event: DomainEvent; line?: number; text: string; kind: 'added' | 'removed' | 'revoked' };

const keyOf = (access: Access, topic: string): string => `${access} ${topic}`;
const keys = (list: readonly AclEntry[]): string[] => list.map((e) => keyOf(e.access, e.topic));
const sameKeys = (a: readonly AclEntry[], b: readonly AclEntry[]): boolean => {
  if (a.length !== b.length) return false;
  const ka = keys(a);
  const kb = keys(b);
  return ka.every((k, i) => k === kb[i]);
};

const source = (principal: Principal, topic: string, access: Access): AclSource => ({ principal, topic, access, source: 'direct' });

export type PrincipalInput = Readonly<{
  principal: Principal;
  fileLines: readonly ImportedRule[];
  direct: readonly AclRule[];
  /** Granted roles with their rules (user principals only). */
  roles: readonly Readonly<{ role: string; rules: readonly AclRule[] }>[];
  username?: string;
}>;

export type PrincipalPlan = { changes: AclChange[]; redundantLines: ImportedRule[] };

/**
 * The events for one principal. `nextId` gives rule ids in order. Pure; the result, folded into
 * the state, reduces to the file's lines: checked here, and when a tie between equivalent filters
 * (`#` and `+/#`) would leave it otherwise, the exact lines of the file are used instead.
 */
export const planPrincipal = (p: PrincipalInput, nextId: () => number): PrincipalPlan => {
  const covers: Covers = p.principal === 'pattern' ? patternCovers : filterCovers;
  const target = reduceList(p.fileLines.map((r) => source(p.principal, r.topic, r.access)), covers);
  const targetKeys = new Set(keys(target));
  const redundantLines = p.fileLines.filter((r) => !targetKeys.has(keyOf(r.access, r.topic)));
  const current = reduceList([...p.direct, ...p.roles.flatMap((r) => r.rules)].map((r) => source(p.principal, r.topic, r.access)), covers);
  if (sameKeys(target, current)) return { changes: [], redundantLines };

  // Built only when MCM has lines to judge (a new user's list needs no index).
  let index: ((access: Access, topic: string) => boolean) | null = null;
  const loose = (access: Access, topic: string): boolean => (index ??= redundancyIn(target, covers))(access, topic);
  let plan = changesWith(p, target, loose, covers);
  if (!plan.ok) plan = changesWith(p, target, (a, t) => targetKeys.has(keyOf(a, t)), covers);
  for (const c of plan.changes) if (c.event.type === 'AclRuleAdded') c.event = { ...c.event, data: { ...c.event.data, id: nextId() } };
  return { changes: plan.changes, redundantLines };
};

const changesWith = (
  p: PrincipalInput, target: readonly AclEntry[], granted: (access: Access, topic: string) => boolean, covers: Covers,
): { ok: boolean; changes: AclChange[] } => {
  const changes: AclChange[] = [];
  const kept: AclSource[] = [];
  const keptKeys = new Set<string>();
  const keep = (r: { topic: string; access: Access }): void => {
    kept.push(source(p.principal, r.topic, r.access));
    keptKeys.add(keyOf(r.access, r.topic));
  };
  for (const { role, rules } of p.roles) {
    if (rules.every((r) => granted(r.access, r.topic))) {
      rules.forEach(keep);
      continue;
    }
    const username = p.username as string;
    changes.push({
      kind: 'revoked',
      event: { type: 'RoleRevoked', data: { username, role } },
      text: `- role ${role} revoked from ${username}: the file does not grant all of its rules`,
    });
  }
  for (const r of p.direct) {
    if (granted(r.access, r.topic) && !keptKeys.has(keyOf(r.access, r.topic))) {
      keep(r);
      continue;
    }
    changes.push({
      kind: 'removed',
      event: { type: 'AclRuleRemoved', data: { id: r.id } },
      text: `- ${p.principal} ${r.access} ${r.topic} (rule ${r.id}): the file does not grant it`,
    });
  }
  const firstLine = new Map<string, ImportedRule>();
  for (const r of p.fileLines) {
    const k = keyOf(r.access, r.topic);
    if (!firstLine.has(k)) firstLine.set(k, r);
  }
  const added: AclSource[] = [];
  for (const e of target) {
    const k = keyOf(e.access, e.topic);
    if (keptKeys.has(k)) continue;
    const from = firstLine.get(k) as ImportedRule;
    added.push(source(p.principal, e.topic, e.access));
    changes.push({
      kind: 'added',
      line: from.line,
      event: { type: 'AclRuleAdded', data: { id: -1, principal: p.principal, topic: e.topic, access: e.access, description: from.description } },
      text: `+ ${p.principal} ${e.access} ${e.topic} (acl_file line ${from.line})`,
    });
  }
  // Rule ids are given by the caller once an attempt is chosen, so a fallback skips no ids.
  // Nothing kept: the added lines are the target itself, which reduces to itself.
  return { ok: kept.length === 0 || sameKeys(reduceList([...kept, ...added], covers), target), changes };
};
