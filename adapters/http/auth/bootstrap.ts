/**
 * The first admin (DESIGN §8-9). On a start with no admin user at all: MCM_ADMIN_USERNAME /
 * MCM_ADMIN_PASSWORD (config.bootstrap_admin) when given, otherwise user `admin` with a random
 * password that is printed ONCE in the log and written to `<data dir>/initial-admin-password`
 * (0600) — the one place a plaintext secret is allowed (DESIGN §9). Created with the
 * CreateAdminUser command through handleCommand, like any other change, by actor
 * {kind: 'system', id: 'bootstrap'}. Later starts do nothing, whatever the environment says.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { handleCommand } from '../../../core/handle-command.ts';
import { writeFileAtomicSync } from '../../files/atomic-write-sync.ts';
import type { HttpDeps } from '../deps.ts';
import { adminPasswordProblem } from './password-policy.ts';

export const DEFAULT_ADMIN_USERNAME = 'admin';
export const INITIAL_PASSWORD_FILE = 'initial-admin-password';
export const BOOTSTRAP_ACTOR = { kind: 'system', id: 'bootstrap' } as const;

export type BootstrapResult =
  | { created: false }
  | { created: true; username: string; source: 'environment' }
  | { created: true; username: string; source: 'generated'; passwordFile: string };

export type BootstrapDeps = Pick<HttpDeps, 'store' | 'clock' | 'config' | 'adminHasher' | 'logger'>;

/** 24 URL-safe characters, 144 random bits: fine to type, paste and keep in a password manager. */
const generatePassword = (): string => randomBytes(18).toString('base64url');

export const bootstrapAdmin = async (deps: BootstrapDeps): Promise<BootstrapResult> => {
  if (Object.keys(deps.store.state().adminUsers).length > 0) return { created: false };
  const { username: envUser, password: envPassword } = deps.config.bootstrap_admin;
  const username = envUser ?? DEFAULT_ADMIN_USERNAME;
  if (envPassword !== null) {
    const problem = adminPasswordProblem(envPassword);
    if (problem) throw new Error(`MCM_ADMIN_PASSWORD: ${problem}`);
  }
  const password = envPassword ?? generatePassword();
  const passwordHash = await deps.adminHasher.hash(password);
  // Re-check after the await: another opener of the same data dir may have bootstrapped.
  if (Object.keys(deps.store.state().adminUsers).length > 0) return { created: false };
  handleCommand(deps, { type: 'CreateAdminUser', data: { username, passwordHash, role: 'admin' } }, { actor: BOOTSTRAP_ACTOR });

  if (envPassword !== null) {
    deps.logger.info({ username }, `created the first admin user "${username}" from MCM_ADMIN_USERNAME / MCM_ADMIN_PASSWORD`);
    return { created: true, username, source: 'environment' };
  }
  mkdirSync(deps.config.data_dir, { recursive: true, mode: 0o700 });
  const passwordFile = join(deps.config.data_dir, INITIAL_PASSWORD_FILE);
  writeFileAtomicSync(passwordFile, `${password}\n`, 0o600);
  // Printed this once, by design (DESIGN §9): the operator needs it to sign in the first time.
  deps.logger.warn(
    { username, password_file: passwordFile },
    `created the first admin user "${username}" with the generated password ${password} ` +
      `(also in ${passwordFile}, mode 0600): sign in and change it, then delete that file`,
  );
  return { created: true, username, source: 'generated', passwordFile };
};
