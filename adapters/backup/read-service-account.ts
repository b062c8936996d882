/**
 * MCM's broker service account as stored in `<data_dir>/secrets/`, read WITHOUT creating it:
 * `mcm events replay` and `mcm doctor` look at a data dir, they must not generate a password or
 * a key in it. adapters/mosquitto/service-account.ts stays the one place that knows the file
 * names and the sealing; here its secret store and hasher refuse every write, which turns "would
 * create" into "there is none yet".
 */
import type { PasswordHasher } from '../../core/ports.ts';
import { loadServiceAccount, type ServiceAccount } from '../mosquitto/service-account.ts';
import { createSecretStore, type SecretStore } from '../secrets/secret-store.ts';

class NotCreated extends Error {}

const refuse = (): never => { throw new NotCreated('read-only'); };

/** The account, or null when the server has not created it yet. Throws when it exists but cannot be opened. */
export const readServiceAccount = async (dataDir: string, username: string): Promise<ServiceAccount | null> => {
  const store = createSecretStore(dataDir);
  const readOnly: SecretStore = {
    ...store,
    write: refuse,
    getOrCreate: (name) => store.read(name) ?? refuse(),
  };
  const hasher: PasswordHasher = { hash: async () => refuse(), verify: async () => false };
  try {
    return await loadServiceAccount({ secrets: readOnly, hasher, username });
  } catch (e) {
    if (e instanceof NotCreated) return null;
    throw e;
  }
};
