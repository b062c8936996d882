/**
 * API read views of the desired state (DESIGN §8: snake_case fields). Pure: state in, plain
 * JSON out. Password hashes never appear in a view — the API shows them to nobody.
 *
 * Lists are sorted (users and roles by name in code-unit order, rules and schemas by id) so a
 * page cursor means the same thing on every request. `createViewCache` memoises the sorted lists
 * per state seq: GET /mqtt-users with 10,000 users must not re-map and re-sort on every request.
 */
import type { AclRule } from '../core/acl-types.ts';
import type { BrokerConfig, JsonSchemaDef, MqttUser, Role } from '../core/state.ts';

export type MqttUserView = {
  username: string;
  description: string;
  roles: string[];
  disabled: boolean;
  created_at: string;
  updated_at: string;
};

export type AclRuleView = {
  id: number;
  principal: string;
  topic: string;
  access: string;
  description: string;
  created_at: string;
  updated_at: string;
};

export type RoleView = {
  name: string;
  description: string;
  /** Users the role is granted to, sorted. */
  users: string[];
  rule_count: number;
  created_at: string;
  updated_at: string;
};

export type RoleDetailView = RoleView & { rules: AclRuleView[] };

export type JsonSchemaView = {
  id: number;
  name: string;
  topic_filter: string;
  schema: unknown;
  enabled: boolean;
  description: string;
  created_at: string;
  updated_at: string;
};

export type SettingsView = { allow_anonymous: boolean; hash_iterations: number };

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export const mqttUserView = (u: MqttUser): MqttUserView => ({
  username: u.username,
  description: u.description,
  roles: [...u.roles],
  disabled: u.disabled,
  created_at: u.createdAt,
  updated_at: u.updatedAt,
});

export const aclRuleView = (r: AclRule): AclRuleView => ({
  id: r.id,
  principal: r.principal,
  topic: r.topic,
  access: r.access,
  description: r.description,
  created_at: r.createdAt,
  updated_at: r.updatedAt,
});

export const jsonSchemaView = (s: JsonSchemaDef): JsonSchemaView => ({
  id: s.id,
  name: s.name,
  topic_filter: s.topicFilter,
  schema: s.schema,
  enabled: s.enabled,
  description: s.description,
  created_at: s.createdAt,
  updated_at: s.updatedAt,
});

export const settingsView = (state: BrokerConfig): SettingsView => ({
  allow_anonymous: state.settings.allowAnonymous,
  hash_iterations: state.settings.hashIterations,
});

export const listMqttUsers = (state: BrokerConfig): MqttUserView[] =>
  Object.values(state.users).sort((a, b) => byCodeUnit(a.username, b.username)).map(mqttUserView);

export const listAclRules = (state: BrokerConfig): AclRuleView[] =>
  Object.values(state.rules).sort((a, b) => a.id - b.id).map(aclRuleView);

export const listJsonSchemas = (state: BrokerConfig): JsonSchemaView[] =>
  Object.values(state.schemas).sort((a, b) => a.id - b.id).map(jsonSchemaView);

/** role name → sorted usernames holding it; one pass over the users for all roles. */
const grantsByRole = (state: BrokerConfig): Map<string, string[]> => {
  const map = new Map<string, string[]>();
  for (const u of Object.values(state.users)) {
    for (const r of u.roles) {
      const list = map.get(r);
      if (list) list.push(u.username);
      else map.set(r, [u.username]);
    }
  }
  for (const list of map.values()) list.sort(byCodeUnit);
  return map;
};

const rulesByPrincipal = (state: BrokerConfig): Map<string, AclRule[]> => {
  const map = new Map<string, AclRule[]>();
  for (const r of Object.values(state.rules)) {
    const list = map.get(r.principal);
    if (list) list.push(r);
    else map.set(r.principal, [r]);
  }
  for (const list of map.values()) list.sort((a, b) => a.id - b.id);
  return map;
};

const roleView = (role: Role, users: string[], ruleCount: number): RoleView => ({
  name: role.name,
  description: role.description,
  users,
  rule_count: ruleCount,
  created_at: role.createdAt,
  updated_at: role.updatedAt,
});

export const listRoles = (state: BrokerConfig): RoleView[] => {
  const grants = grantsByRole(state);
  const rules = rulesByPrincipal(state);
  return Object.values(state.roles)
    .sort((a, b) => byCodeUnit(a.name, b.name))
    .map((r) => roleView(r, grants.get(r.name) ?? [], rules.get(`role:${r.name}`)?.length ?? 0));
};

/** The role with its rules (principal `role:<name>`, DESIGN §5), or null when it does not exist. */
export const roleDetail = (state: BrokerConfig, name: string): RoleDetailView | null => {
  if (!Object.hasOwn(state.roles, name)) return null;
  const role = state.roles[name] as Role;
  const principal = `role:${name}`;
  const rules = Object.values(state.rules).filter((r) => r.principal === principal).sort((a, b) => a.id - b.id);
  const users = Object.values(state.users).filter((u) => u.roles.includes(name)).map((u) => u.username).sort(byCodeUnit);
  return { ...roleView(role, users, rules.length), rules: rules.map(aclRuleView) };
};

export type AclRuleFilter = Readonly<{ principal?: string; topic?: string }>;

/** Exact-match filters: `principal=user:alice`, `topic=plant/#` (the rule's filter text). */
export const filterAclRules = (rules: readonly AclRuleView[], f: AclRuleFilter): AclRuleView[] =>
  rules.filter((r) => (f.principal === undefined || r.principal === f.principal) && (f.topic === undefined || r.topic === f.topic));

export type ViewCache = {
  mqttUsers(state: BrokerConfig): readonly MqttUserView[];
  aclRules(state: BrokerConfig): readonly AclRuleView[];
  roles(state: BrokerConfig): readonly RoleView[];
  jsonSchemas(state: BrokerConfig): readonly JsonSchemaView[];
};

/**
 * One memo slot per list, keyed by (state object, seq). The store folds in place, so the same
 * object with a new seq is a new state; a time-travel state is a different object.
 */
const memo = <T>(build: (s: BrokerConfig) => T): ((s: BrokerConfig) => T) => {
  let key: BrokerConfig | null = null;
  let seq = -1;
  let value: T | undefined;
  return (s) => {
    if (key !== s || seq !== s.seq || value === undefined) {
      value = build(s);
      key = s;
      seq = s.seq;
    }
    return value;
  };
};

/** Memoised sorted views; the returned arrays are shared, callers must not mutate them. */
export const createViewCache = (): ViewCache => ({
  mqttUsers: memo(listMqttUsers),
  aclRules: memo(listAclRules),
  roles: memo(listRoles),
  jsonSchemas: memo(listJsonSchemas),
});
