/**
 * Renders Mosquitto's password_file from the desired state (DESIGN §6, reference §1).
 *
 * One `username:hash` line per enabled user plus MCM's service account, sorted by username in
 * code-unit order, LF line endings, a final newline; a user without a password (hash '') gets none.
 * No comments and no blank lines: a file that has them makes `mosquitto_passwd` wipe every
 * other user (reference §1.4), and operators do run it. Disabled users are absent, so the broker refuses them (reference §1.1).
 *
 * Total: never throws. Whether the result is safe to hand to the broker is the job of
 * projections/password-file-check.ts, which the runner calls before writing.
 */
import type { BrokerConfig } from '../core/state.ts';

export type ServiceAccountEntry = Readonly<{ username: string; passwordHash: string }>;

export type PasswordFileOptions = Readonly<{ serviceAccount: ServiceAccountEntry }>;

const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export const renderPasswordFile = (state: BrokerConfig, opts: PasswordFileOptions): string => {
  const { serviceAccount } = opts;
  const entries: [string, string][] = [[serviceAccount.username, serviceAccount.passwordHash]];
  for (const user of Object.values(state.users ?? {})) {
    // The service account wins over a user of the same name: two lines for one name would be a
    // duplicate, and which one the broker keeps is not guaranteed (reference §1.1 item 7).
    if (user.disabled || user.username === serviceAccount.username) continue;
    // '' = no password line: a user imported from an acl_file block alone (core/state.ts).
    if (user.passwordHash === '') continue;
    entries.push([user.username, user.passwordHash]);
  }
  entries.sort((a, b) => byCodeUnits(a[0], b[0]));
  return entries.map(([name, hash]) => `${name}:${hash}\n`).join('');
};
