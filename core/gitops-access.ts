/**
 * Who gains or loses which topic access between two states: the effective lines of the rendered
 * ACL (core/acl-model.ts, reference §2.2) per user, for anonymous clients and for pattern rules,
 * compared before and after. Comparing the reduced model rather than the stored rules means a
 * rule added under an existing broader one is no gain, and a disabled user loses everything.
 */
import { buildAclModel, type AclEntry } from './acl-model.ts';
import { byCodeUnit } from './evolve/records.ts';
import type { BrokerConfig } from './state.ts';
import { filterCovers } from './topic-match.ts';

/** `readwrite` is reported as read and write, so read → readwrite reads "gains write". */
export type AccessItem = { access: 'read' | 'write' | 'deny'; topic: string };

export type AccessChange = { type: 'access_changed'; subject: string; gains: AccessItem[]; losses: AccessItem[] };

const ITEM_ORDER = { read: 0, write: 1, deny: 2 } as const;
const byItem = (a: AccessItem, b: AccessItem): number => byCodeUnit(a.topic, b.topic) || ITEM_ORDER[a.access] - ITEM_ORDER[b.access];

const itemsOf = (entries: readonly AclEntry[]): AccessItem[] =>
  entries.flatMap((e): AccessItem[] =>
    e.access === 'readwrite' ? [{ access: 'read', topic: e.topic }, { access: 'write', topic: e.topic }] : [{ access: e.access, topic: e.topic }]);

const keyOf = (i: AccessItem): string => `${i.access} ${i.topic}`;

type Covers = (a: string, b: string) => boolean;

/**
 * Items only in `after` (gains) and only in `before` (losses), leaving out those still covered
 * by a line of the same kind on the other side: `read a/b` → `read a/#` is a gain of `a/#` only.
 * Items are distinct within a list (reduced model lines), so `x !== i` skips only `i` itself.
 */
const diff = (before: readonly AclEntry[], after: readonly AclEntry[], covers: Covers): { gains: AccessItem[]; losses: AccessItem[] } => {
  const b = itemsOf(before);
  const a = itemsOf(after);
  const bKeys = new Set(b.map(keyOf));
  const aKeys = new Set(a.map(keyOf));
  const coveredBy = (list: readonly AccessItem[], i: AccessItem): boolean =>
    list.some((x) => x !== i && x.access === i.access && covers(x.topic, i.topic));
  // Within the gains (losses), one broader item says it all: `write a/#` implies `write a/b`.
  const tidy = (list: AccessItem[]): AccessItem[] => list.filter((i) => !coveredBy(list, i)).sort(byItem);
  return {
    gains: tidy(a.filter((i) => !bKeys.has(keyOf(i)) && !coveredBy(b, i))),
    losses: tidy(b.filter((i) => !aKeys.has(keyOf(i)) && !coveredBy(a, i))),
  };
};

/** %c and %u make coverage between pattern lines unsafe to judge (core/acl-model.ts): exact only. */
const exactOnly: Covers = (x, y) => x === y;

const listKey = (entries: readonly AclEntry[]): string => entries.map((e) => `${e.access} ${e.topic}`).join('\n');

export const accessChanges = (before: BrokerConfig, after: BrokerConfig, serviceAccount: string): AccessChange[] => {
  const opts = { serviceAccount, generation: 0 };
  const mb = buildAclModel(before, opts);
  const ma = buildAclModel(after, opts);
  const out: AccessChange[] = [];
  const push = (subject: string, b: readonly AclEntry[], a: readonly AclEntry[], covers: Covers): void => {
    if (listKey(b) === listKey(a)) return;
    const d = diff(b, a, covers);
    if (d.gains.length + d.losses.length > 0) out.push({ type: 'access_changed', subject, ...d });
  };
  push('anonymous', mb.anonymous, ma.anonymous, filterCovers);
  const names = [...new Set([...Object.keys(before.users), ...Object.keys(after.users)])]
    .filter((n) => n !== serviceAccount)
    .sort(byCodeUnit);
  for (const name of names) push(`user:${name}`, mb.users.get(name) ?? [], ma.users.get(name) ?? [], filterCovers);
  push('pattern', mb.patterns, ma.patterns, exactOnly);
  return out;
};
