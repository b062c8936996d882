/**
 * The plan as text for people (`mcm plan`, `POST /plan` plan_text): one section per kind of
 * thing, `+` added, `~` changed, `-` removed, then who gains or loses which topic access, then a
 * summary line. Deterministic: the same changes give the same bytes.
 */
import type { AccessItem } from './gitops-access.ts';
import type { PlanChange, RuleRef } from './gitops-plan.ts';

const q = (s: string): string => JSON.stringify(s);
/** Topics are shown bare unless they hold characters that would make the line ambiguous. */
const topic = (t: string): string => (t === '' || /[\s",;]/u.test(t) ? JSON.stringify(t) : t);
/** `user:bob smith` would read as two words: quoted like a topic. */
const principal = topic;
const rule = (r: RuleRef): string => `${r.access} ${topic(r.topic)}`;
const fromTo = (what: string, v: { from: unknown; to: unknown }): string => `${what} ${JSON.stringify(v.from)} → ${JSON.stringify(v.to)}`;

const MAX_NAMES = 10;

const section = (title: string, lines: readonly string[]): string => (lines.length === 0 ? '' : `${title}:\n${lines.map((l) => `  ${l}\n`).join('')}`);

const roleLine = (c: Extract<PlanChange, { type: 'role_changed' }>): string => {
  const parts: string[] = [];
  if (c.description) parts.push(fromTo('description', c.description));
  parts.push(...c.rules_added.map((r) => `+ ${rule(r)}`), ...c.rules_removed.map((r) => `- ${rule(r)}`));
  parts.push(...c.rules_redescribed.map((r) => `description of ${rule(r)} changed`));
  return `~ role ${q(c.name)}: ${parts.join('; ')}`;
};

const userLine = (c: Extract<PlanChange, { type: 'user_changed' }>): string => {
  const parts: string[] = [];
  if (c.password_rotated) parts.push('password rotated');
  if (c.description) parts.push(fromTo('description', c.description));
  if (c.roles_granted.length + c.roles_revoked.length > 0) {
    parts.push(`roles ${[...c.roles_granted.map((r) => `+${r}`), ...c.roles_revoked.map((r) => `-${r}`)].join(' ')}`);
  }
  if (c.disabled) parts.push(c.disabled.to ? 'disabled' : 'enabled');
  return `~ user ${q(c.username)}: ${parts.join('; ')}`;
};

/** Sorted by topic then read, write, deny: read and write of one topic are adjacent and read as readwrite. */
const items = (list: readonly AccessItem[]): string => {
  const out: string[] = [];
  for (let i = 0; i < list.length; i++) {
    const a = list[i] as AccessItem;
    const b = list[i + 1];
    if (a.access === 'read' && b?.access === 'write' && b.topic === a.topic) {
      out.push(`readwrite on ${topic(a.topic)}`);
      i++;
    } else out.push(`${a.access} on ${topic(a.topic)}`);
  }
  return out.join(', ');
};

const delta = (c: Extract<PlanChange, { type: 'access_changed' }>, plural: boolean): string => {
  const parts: string[] = [];
  if (c.gains.length > 0) parts.push(`${plural ? 'gain' : 'gains'} ${items(c.gains)}`);
  if (c.losses.length > 0) parts.push(`${plural ? 'lose' : 'loses'} ${items(c.losses)}`);
  return parts.join('; ');
};

/** Users with the same gains and losses share a line, so a role change doesn't print 1,000 of them. */
const accessLines = (changes: readonly Extract<PlanChange, { type: 'access_changed' }>[]): string[] => {
  const lines: string[] = [];
  const groups = new Map<string, string[]>();
  const firstOf = new Map<string, Extract<PlanChange, { type: 'access_changed' }>>();
  for (const c of changes) {
    if (c.subject === 'anonymous') lines.push(`anonymous clients ${delta(c, true)}`);
    else if (c.subject === 'pattern') lines.push(`pattern rules (every client) ${delta(c, true)}`);
    else {
      const key = delta(c, false);
      const names = groups.get(key) ?? [];
      names.push(c.subject.slice('user:'.length));
      groups.set(key, names);
      if (!firstOf.has(key)) firstOf.set(key, c);
    }
  }
  for (const [key, names] of groups) {
    const c = firstOf.get(key);
    if (!c) continue;
    if (names.length === 1) {
      lines.push(`user ${q(names[0] ?? '')} ${key}`);
      continue;
    }
    const shown = names.slice(0, MAX_NAMES).map(q).join(', ');
    const more = names.length > MAX_NAMES ? ` and ${names.length - MAX_NAMES} more` : '';
    lines.push(`users ${shown}${more} ${delta(c, true)}`);
  }
  return lines;
};

/** Listeners and bridges only change with a restart (reference §3.2): say what that means. */
const RESTART_NOTE = 'the broker restarts to apply this: connected clients are disconnected and reconnect';
const brokerLine = (c: Extract<PlanChange, { type: 'broker_added' | 'broker_changed' | 'broker_removed' }>, sign: string): string => `${sign} ${c.what} (${c.apply})`;

export const formatPlan = (changes: readonly PlanChange[]): string => {
  const settings: string[] = [];
  const roles: string[] = [];
  const users: string[] = [];
  const acls: string[] = [];
  const schemas: string[] = [];
  const broker: string[] = [];
  const access: Extract<PlanChange, { type: 'access_changed' }>[] = [];
  let add = 0;
  let change = 0;
  let remove = 0;
  for (const c of changes) {
    switch (c.type) {
      case 'settings_changed': settings.push(`~ ${c.field}: ${String(c.from)} → ${String(c.to)}`); change++; break;
      case 'role_added': roles.push(`+ role ${q(c.name)} (${c.rules} rule${c.rules === 1 ? '' : 's'})`); add++; break;
      case 'role_changed': roles.push(roleLine(c)); change++; break;
      case 'role_removed': roles.push(`- role ${q(c.name)}`); remove++; break;
      case 'user_added': {
        const extra = [c.roles.length > 0 ? `roles ${c.roles.join(', ')}` : '', c.disabled ? 'disabled' : ''].filter((s) => s !== '');
        users.push(`+ user ${q(c.username)}${extra.length > 0 ? ` (${extra.join('; ')})` : ''}`);
        add++;
        break;
      }
      case 'user_changed': users.push(userLine(c)); change++; break;
      case 'user_removed': users.push(`- user ${q(c.username)}`); remove++; break;
      case 'acl_added': acls.push(`+ ${principal(c.principal)} ${rule(c)}`); add++; break;
      case 'acl_changed': acls.push(`~ ${principal(c.principal)} ${rule(c)}: ${fromTo('description', c.description)}`); change++; break;
      case 'acl_removed': acls.push(`- ${principal(c.principal)} ${rule(c)}`); remove++; break;
      case 'schema_added': schemas.push(`+ schema ${q(c.name)} on ${topic(c.topic_filter)}`); add++; break;
      case 'schema_changed': schemas.push(`~ schema ${q(c.name)}: ${c.fields.join(', ')}`); change++; break;
      case 'schema_removed': schemas.push(`- schema ${q(c.name)} on ${topic(c.topic_filter)}`); remove++; break;
      case 'broker_added': broker.push(brokerLine(c, '+')); add++; break;
      case 'broker_changed': broker.push(brokerLine(c, '~')); change++; break;
      case 'broker_removed': broker.push(brokerLine(c, '-')); remove++; break;
      case 'access_changed': access.push(c); break;
      default: {
        const never: never = c;
        throw new Error(`formatPlan: unknown change ${JSON.stringify(never)}`);
      }
    }
  }
  if (add + change + remove === 0) return 'No changes: the configuration already matches.\n';
  return [
    section('Settings', settings),
    section('Roles', roles),
    section('Users', users),
    section('ACL rules', acls),
    section('JSON schemas', schemas),
    section('Broker configuration', changes.some((c) => 'apply' in c && c.apply === 'restart') ? [...broker, RESTART_NOTE] : broker),
    section('Access', accessLines(access)),
    `Plan: ${add} to add, ${change} to change, ${remove} to remove.\n`,
  ].filter((s) => s !== '').join('\n');
};
