/**
 * What each event may have changed in the broker files (issue 14: incremental applies). A
 * renderer reuses a user's cached blocks only while nothing they depend on was touched since it
 * rendered them: the user (password, disabled, roles, its direct rules: the journal of touched
 * usernames, read from where the renderer left off) or one of its roles (the role's rules: a seq
 * per role). The anonymous and pattern lists and the set of user names have a seq each.
 *
 * Like the rule index (rule-index.ts) this lives beside the state, not in it: the state stays
 * plain JSON for snapshots. Tracking starts when a renderer first asks (`touchesOf`); a state
 * that was never asked about costs evolve one WeakMap lookup per event. A state object the
 * renderer has not seen before (a replay, a reload of the store after a failed append) gets a
 * new tracker, and a renderer holding another one renders everything afresh.
 *
 * Over-touching is always safe (a block is re-rendered to the same text); under-touching is a
 * stale file. So every event that can change a rendered line touches what it names, and a rule
 * event touches its principal as it was BEFORE the event (a removed rule is gone afterwards).
 */
import type { BrokerConfig } from '../state.ts';
import type { DomainEvent } from '../events.ts';

export type Touches = {
  /**
   * Usernames touched (the user or its direct rules), in order, repeats included. Position
   * `journalBase + i` is the i-th entry; old entries are dropped past JOURNAL_MAX, and a reader
   * whose position is below `journalBase` missed some and must treat every user as touched.
   */
  readonly journal: string[];
  journalBase: number;
  /** role name → seq of the last event that touched the role or its rules. */
  readonly roles: Map<string, number>;
  /** The last role touch (any role). */
  rolesAt: number;
  anonymous: number;
  patterns: number;
  /** The last user created or deleted (the sorted list of names). */
  roster: number;
};

const tracked = new WeakMap<BrokerConfig, Touches>();

/** Entries kept in the journal: a renderer that falls further behind renders every user again. */
export const JOURNAL_MAX = 1 << 17;

const touchUser = (t: Touches, username: string): void => {
  t.journal.push(username);
  if (t.journal.length > JOURNAL_MAX) {
    const drop = t.journal.length - JOURNAL_MAX / 2;
    t.journal.splice(0, drop);
    t.journalBase += drop;
  }
};

const touchRole = (t: Touches, role: string, seq: number): void => {
  t.roles.set(role, seq);
  t.rolesAt = seq;
};

/** The tracker of `state`, started now when there is none (everything before counts as unknown). */
export const touchesOf = (state: BrokerConfig): Touches => {
  let t = tracked.get(state);
  if (t === undefined) {
    t = { journal: [], journalBase: 0, roles: new Map(), rolesAt: 0, anonymous: 0, patterns: 0, roster: 0 };
    tracked.set(state, t);
  }
  return t;
};

const touchPrincipal = (t: Touches, principal: string, seq: number): void => {
  if (principal.startsWith('user:')) touchUser(t, principal.slice(5));
  else if (principal.startsWith('role:')) touchRole(t, principal.slice(5), seq);
  else if (principal === 'anonymous') t.anonymous = seq;
  else t.patterns = seq;
};

/** Called by evolve BEFORE it folds `event` into `state`. */
export const noteTouches = (state: BrokerConfig, event: DomainEvent & { seq: number }): void => {
  const t = tracked.get(state);
  if (t === undefined) return;
  const { seq } = event;
  switch (event.type) {
    case 'MqttUserCreated': case 'MqttUserDeleted':
      t.roster = seq;
      touchUser(t, event.data.username);
      return;
    // A description is in no broker file, but the dynamic-security plugin holds it (issue 15).
    case 'MqttUserPasswordChanged': case 'MqttUserDisabled': case 'MqttUserEnabled': case 'MqttUserDescribed':
    case 'RoleGranted': case 'RoleRevoked':
      touchUser(t, event.data.username);
      return;
    case 'RoleDefined': case 'RoleDeleted': case 'RoleDescribed':
      touchRole(t, event.data.role, seq);
      return;
    case 'AclRuleAdded':
      touchPrincipal(t, event.data.principal, seq);
      return;
    case 'AclRuleChanged': case 'AclRuleRemoved': {
      const rule = Object.hasOwn(state.rules, String(event.data.id)) ? state.rules[String(event.data.id)] : undefined;
      if (rule) touchPrincipal(t, rule.principal, seq);
      return;
    }
    default:
      // Descriptions, settings, admin users, webhooks, schemas, broker configuration: nothing in
      // password_file or acl_file (mosquitto.conf is rendered whole; it is small).
      return;
  }
};
