/**
 * The dynamic-security plugin's JSON file (reference §6.2) for a model: what the supervised
 * broker starts on. The plugin reads the file only at start (SIGHUP does not reload it, §6.1), so
 * this is how MCM gives it users whose plaintext password it never had: the file carries the
 * PBKDF2-SHA512 hash fields, which are exactly a `$7$` hash's (same algorithm and encodings, §6.2).
 */
import type { DynsecModel } from './dynsec-model.ts';

/** The plugin's `password`/`salt`/`iterations` for a `$7$<iterations>$<salt b64>$<hash b64>` hash, or null (`$6$`, argon2id, none). */
export const dynsecPasswordFields = (hash: string): { password: string; salt: string; iterations: number } | null => {
  const m = /^\$7\$(\d+)\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/.exec(hash);
  if (!m) return null;
  const iterations = Number(m[1]);
  if (!Number.isSafeInteger(iterations) || iterations < 1) return null;
  return { password: m[3]!, salt: m[2]!, iterations };
};

export type DynsecJson = Readonly<{ text: string; /** Clients written without a password (their hash has no plugin form). */ withoutPassword: readonly string[] }>;

export const renderDynsecJson = (model: DynsecModel): DynsecJson => {
  const withoutPassword: string[] = [];
  const clients = model.clients.map((c) => {
    const pw = dynsecPasswordFields(c.passwordHash);
    if (!pw) withoutPassword.push(c.username);
    return {
      username: c.username,
      ...(c.textdescription ? { textdescription: c.textdescription } : {}),
      // The plugin writes `disabled` only when true (reference §6.2).
      ...(c.disabled ? { disabled: true } : {}),
      roles: c.roles.map((r) => ({ rolename: r.rolename, priority: r.priority })),
      ...(pw ?? {}),
    };
  });
  const json = {
    defaultACLAccess: model.defaultACLAccess,
    clients,
    groups: model.groups.map((g) => ({ groupname: g.groupname, roles: g.roles.map((r) => ({ rolename: r.rolename, priority: r.priority })), clients: g.clients.map((username) => ({ username })) })),
    roles: model.roles.map((r) => ({
      rolename: r.rolename,
      ...(r.textdescription ? { textdescription: r.textdescription } : {}),
      acls: r.acls.map((a) => ({ acltype: a.acltype, topic: a.topic, priority: a.priority, allow: a.allow })),
    })),
    // Only when one is set (the plugin writes none then).
    ...(model.anonymousGroup ? { anonymousGroup: model.anonymousGroup } : {}),
  };
  return { text: `${JSON.stringify(json, null, 1)}\n`, withoutPassword };
};
