/**
 * The broker's TLS directory (issue 13): certificates and private keys the configuration names,
 * copied from secrets/ so a broker that drops to its own account can read them. Same rule as the
 * broker directory (permissions.ts): root:<broker group> 0750 when MCM runs as root, else 0700.
 */
import { chmodSync, chownSync, mkdirSync } from 'node:fs';
import { isRoot, type BrokerAccount } from './permissions.ts';

export const prepareTlsDir = (dir: string, account: BrokerAccount | null): void => {
  mkdirSync(dir, { recursive: true, mode: 0o750 });
  if (account && isRoot()) {
    chmodSync(dir, 0o750);
    chownSync(dir, 0, account.gid);
  } else {
    chmodSync(dir, 0o700);
  }
};
