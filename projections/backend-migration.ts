/**
 * What switching the enforcement backend would do to an installation (issue 15, `mcm migrate
 * --to dynsec|files`): what the target cannot express (refused, with the rule named), and where
 * the same rules decide differently, because the two evaluation orders differ:
 * - an ACL file checks a user's denies first, whatever line granted what (reference §2.3);
 * - the dynamic-security plugin checks the client's roles by priority, ties by role name, and the
 *   first matching ACL decides (projections/dynsec-eval.ts): MCM gives a user's own rules
 *   priority 1 and its granted roles 0 (projections/dynsec-model.ts).
 * So an allow in a user's own rules, or in a role whose name sorts first, can beat a deny that
 * wins in the ACL file when their topics overlap. Users, roles, rules and password hashes move
 * unchanged: both backends are rendered from the same event log.
 */
import type { AclRule } from '../core/acl-types.ts';
import type { BrokerConfig } from '../core/state.ts';
import { compareText } from '../core/acl-model.ts';

export type Backend = 'files' | 'dynsec';

export type BackendMigrationPlan = Readonly<{
  to: Backend;
  /** What the target cannot express: the migration is refused while any is left. */
  refusals: readonly string[];
  /** Where clients will be treated differently. */
  changes: readonly string[];
  counts: Readonly<{ users: number; roles: number; rules: number }>;
}>;

/** Whether some topic matches both filters (level by level; '#' matches the rest, '+' one level). */
export const filtersIntersect = (a: string, b: string): boolean => {
  const x = a.split('/');
  const y = b.split('/');
  // '#' and '+' never match a level-0 '$' topic (reference §2.3).
  if ((x[0]?.startsWith('$') ?? false) !== (y[0]?.startsWith('$') ?? false) && (x[0] === '#' || x[0] === '+' || y[0] === '#' || y[0] === '+')) return false;
  for (let i = 0; ; i++) {
    const p = x[i];
    const q = y[i];
    if (p === '#' || q === '#') return true;
    if (p === undefined || q === undefined) return p === undefined && q === undefined ? true : (p ?? q) === '#';
    if (p !== '+' && q !== '+' && p !== q) return false;
  }
};

const show = (r: AclRule): string => `rule ${r.id} (${r.access} ${r.topic})`;

export const planBackendMigration = (state: BrokerConfig, to: Backend, serviceAccount: string): BackendMigrationPlan => {
  const rules = Object.values(state.rules).sort((a, b) => a.id - b.id);
  const byPrincipal = new Map<string, AclRule[]>();
  for (const r of rules) byPrincipal.set(r.principal, [...(byPrincipal.get(r.principal) ?? []), r]);
  const refusals = to === 'dynsec'
    ? rules.filter((r) => r.principal === 'pattern').map((r) => `${show(r)} is a pattern rule: the dynamic-security plugin of Mosquitto 2.0 has no %c/%u substitution; replace it with user or role rules`)
    : [];
  const changes: string[] = [to === 'dynsec'
    ? 'subscriptions are checked: a client may subscribe only to filters its read rules cover (with the ACL file every subscription is accepted and only delivery is filtered)'
    : 'subscriptions are no longer checked: every subscription is accepted and only delivery is filtered by the read rules'];
  const denyWins = to === 'files';
  for (const name of Object.keys(state.users).sort(compareText)) {
    const user = state.users[name]!;
    if (name === serviceAccount || user.disabled) continue;
    // The plugin's order for this user: its own rules, then its roles by name.
    const lists: { label: string; rules: AclRule[] }[] = [
      { label: 'its own', rules: byPrincipal.get(`user:${name}`) ?? [] },
      ...[...user.roles].sort(compareText).map((role) => ({ label: `role ${role}'s`, rules: byPrincipal.get(`role:${role}`) ?? [] })),
    ];
    for (let i = 0; i < lists.length; i++) {
      for (const allow of lists[i]!.rules.filter((r) => r.access !== 'deny')) {
        for (const later of lists.slice(i + 1)) {
          for (const deny of later.rules.filter((r) => r.access === 'deny' && filtersIntersect(r.topic, allow.topic))) {
            changes.push(`user ${name}: ${lists[i]!.label} ${show(allow)} and ${later.label} ${show(deny)} overlap: ${denyWins
              ? 'the ACL file checks the deny first, so the user loses access the plugin gave'
              : 'the plugin checks the allow first, so the user gains access the ACL file denied'}`);
          }
        }
      }
    }
  }
  return { to, refusals, changes, counts: { users: Object.keys(state.users).length, roles: Object.keys(state.roles).length, rules: rules.length } };
};

export const formatBackendMigration = (p: BackendMigrationPlan, from: Backend): string => {
  const lines = [`migrate the enforcement backend: ${from} → ${p.to} (${p.counts.users} users, ${p.counts.roles} roles, ${p.counts.rules} rules; passwords keep their hashes)`];
  if (p.refusals.length > 0) lines.push(`refused: ${p.to} cannot express ${p.refusals.length === 1 ? 'this' : `these ${p.refusals.length}`}:`, ...p.refusals.map((r) => `  - ${r}`));
  lines.push('what changes for clients:', ...p.changes.map((c) => `  - ${c}`));
  return `${lines.join('\n')}\n`;
};
