/**
 * The GitOps export (DESIGN §1): the state as a GitOps bundle, every list sorted, no ids, no
 * timestamps, no seq — so the export of two data dirs holding the same configuration is the same,
 * and an export diff shows only what changed. Password hashes are exported (they are what the
 * broker's password file holds; never a plaintext); admin users, MFA and secrets are not. The
 * broker configuration is exported as the model holds it: certificates by name and bridge
 * passwords by reference (`remotePasswordRef`), never a PEM, key or password.
 */
import type { AclRule } from '../core/acl-types.ts';
import { currentBrokerConfig } from '../core/decide/broker-config.ts';
import {
  gitopsAclKey, gitopsRuleKey, sortBundle,
  type GitopsAcl, type GitopsAclPrincipal, type GitopsBundle, type GitopsRule, GITOPS_FORMAT_VERSION,
} from '../core/gitops-bundle.ts';
import type { BrokerConfig } from '../core/state.ts';

export const exportBundle = (state: BrokerConfig): GitopsBundle => {
  const roleRules = new Map<string, Map<string, GitopsRule>>();
  const acls = new Map<string, GitopsAcl>();
  // Id order, so of two equal rules (decide never creates them) the older one is exported.
  for (const r of Object.values(state.rules).sort((a: AclRule, b: AclRule) => a.id - b.id)) {
    const item = { topic: r.topic, access: r.access, description: r.description };
    if (r.principal.startsWith('role:')) {
      const role = r.principal.slice('role:'.length);
      let m = roleRules.get(role);
      if (!m) roleRules.set(role, (m = new Map()));
      if (!m.has(gitopsRuleKey(r))) m.set(gitopsRuleKey(r), item);
    } else if (!acls.has(gitopsAclKey(r))) {
      acls.set(gitopsAclKey(r), { principal: r.principal as GitopsAclPrincipal, ...item });
    }
  }
  return sortBundle({
    version: GITOPS_FORMAT_VERSION,
    settings: { allow_anonymous: state.settings.allowAnonymous, hash_iterations: state.settings.hashIterations },
    users: Object.values(state.users).map((u) => ({
      username: u.username, password_hash: u.passwordHash, description: u.description, disabled: u.disabled, roles: [...u.roles],
    })),
    roles: Object.values(state.roles).map((r) => ({
      name: r.name, description: r.description, rules: [...(roleRules.get(r.name)?.values() ?? [])],
    })),
    acls: [...acls.values()],
    schemas: Object.values(state.schemas).map((s) => ({
      name: s.name, topic_filter: s.topicFilter, enabled: s.enabled, description: s.description, schema: s.schema,
    })),
    broker: currentBrokerConfig(state),
  });
};
