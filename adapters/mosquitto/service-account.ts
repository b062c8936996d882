/**
 * MCM's own MQTT account (DESIGN §6, §7): the observer and the probe log in with it. Its password
 * is generated once and kept outside the event log, sealed with AES-256-GCM under a key of its
 * own in `<data dir>/secrets/` (0700 dir, 0600 files). Its `$7$` hash is kept sealed beside it
 * so the rendered password file is the same bytes at every start (a new salt per start would
 * mean a write and a reload each time).
 */
import { randomBytes } from 'node:crypto';
import type { PasswordHasher } from '../../core/ports.ts';
import { DEFAULT_HASH_ITERATIONS } from '../../core/state.ts';
import { open, seal } from '../secrets/crypto-box.ts';
import type { SecretStore } from '../secrets/secret-store.ts';

export type ServiceAccount = Readonly<{
  username: string;
  /** Plaintext, in memory only: never logged, never in an event or a response. */
  password: string;
  /** `$7$…` field for the password file. */
  passwordHash: string;
}>;

const KEY = 'service-account.key';
const SEALED = 'service-account.sealed';

type Stored = { password: string; passwordHash: string };

const isStored = (v: unknown): v is Stored =>
  typeof v === 'object' && v !== null &&
  typeof (v as Stored).password === 'string' && typeof (v as Stored).passwordHash === 'string' &&
  (v as Stored).passwordHash.startsWith('$7$');

export type LoadServiceAccountDeps = Readonly<{
  secrets: SecretStore;
  hasher: PasswordHasher;
  username: string;
  iterations?: number;
}>;

/**
 * Reads the sealed account, or creates it on first start. A sealed file that no longer opens
 * (key lost or tampered) is an error, not a silent regeneration: the operator should know.
 */
export const loadServiceAccount = async (deps: LoadServiceAccountDeps): Promise<ServiceAccount> => {
  const key = deps.secrets.getOrCreate(KEY, () => randomBytes(32));
  const sealed = deps.secrets.read(SEALED);
  if (sealed) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(open(key, sealed.toString('utf8')));
    } catch {
      throw new Error(`cannot open ${deps.secrets.path(SEALED)} with ${deps.secrets.path(KEY)}: restore both from the same backup, or delete both to generate a new service account password`);
    }
    if (!isStored(parsed)) throw new Error(`${deps.secrets.path(SEALED)} does not hold a service account`);
    return { username: deps.username, password: parsed.password, passwordHash: parsed.passwordHash };
  }
  // 32 random bytes, base64url: no ':' or '$' or whitespace, nothing for a shell to interpret.
  const password = randomBytes(32).toString('base64url');
  const passwordHash = await deps.hasher.hash(password, deps.iterations ?? DEFAULT_HASH_ITERATIONS);
  deps.secrets.write(SEALED, seal(key, JSON.stringify({ password, passwordHash } satisfies Stored)));
  return { username: deps.username, password, passwordHash };
};
