/**
 * What a configuration change touches and whether the broker must restart for it (catalog,
 * reference §3.2: listeners and bridges are never reloaded; several limits are parsed but not
 * applied by a 2.0.11 reload). Passthrough lines are unknown to MCM, so changing them restarts:
 * a reload might silently not apply them.
 */
import { canonicalJson } from '../canonical-json.ts';
import { globalDirective, type ApplyBy } from './catalog.ts';
import type { BrokerConfigModel } from './model.ts';

export type ConfigChange = Readonly<{ what: string; kind: 'added' | 'removed' | 'changed'; apply: ApplyBy }>;

const byName = <T extends { name: string }>(items: readonly T[]): Map<string, T> => new Map(items.map((x) => [x.name, x]));

const diffNamed = <T extends { name: string }>(prefix: string, a: readonly T[], b: readonly T[], out: ConfigChange[]): void => {
  const before = byName(a);
  const after = byName(b);
  for (const [name, x] of after) {
    const old = before.get(name);
    if (!old) out.push({ what: `${prefix} ${name}`, kind: 'added', apply: 'restart' });
    else if (canonicalJson(old) !== canonicalJson(x)) out.push({ what: `${prefix} ${name}`, kind: 'changed', apply: 'restart' });
  }
  for (const name of before.keys()) if (!after.has(name)) out.push({ what: `${prefix} ${name}`, kind: 'removed', apply: 'restart' });
};

export const configChanges = (a: BrokerConfigModel, b: BrokerConfigModel): ConfigChange[] => {
  const out: ConfigChange[] = [];
  diffNamed('listener', a.listeners, b.listeners, out);
  for (const name of [...new Set([...Object.keys(a.options), ...Object.keys(b.options)])].sort()) {
    const x = a.options[name];
    const y = b.options[name];
    if (canonicalJson(x ?? null) === canonicalJson(y ?? null)) continue;
    out.push({ what: `option ${name}`, kind: x === undefined ? 'added' : y === undefined ? 'removed' : 'changed', apply: globalDirective(name)?.apply ?? 'restart' });
  }
  diffNamed('bridge', a.bridges, b.bridges, out);
  if (a.passthrough.join('\n') !== b.passthrough.join('\n')) out.push({ what: 'passthrough', kind: 'changed', apply: 'restart' });
  return out;
};

export const needsRestart = (changes: readonly ConfigChange[]): boolean => changes.some((c) => c.apply === 'restart');
