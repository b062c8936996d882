/**
 * `mcm admins unlock NAME` / `mcm admins unlock --address A` (DESIGN §9): lifts sign-in locks
 * early by forgetting the failed attempts of a username, an address, or one pair (both given).
 * Through the running server's API (DELETE /lockouts) when one holds the data dir, else on its
 * database directly. Either way a security event records who lifted what.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DomainError } from '../../../core/errors.ts';
import { parseAddressKey } from '../../http/auth/address-key.ts';
import { describeUnlock, liftLock } from '../../http/auth/unlock.ts';
import { createLoginFailureTable, type LoginFailureFilter } from '../../sqlite/login-failures.ts';
import { openDatabase } from '../../sqlite/open-database.ts';
import { createSecurityEventLog } from '../../sqlite/security-events.ts';
import { connectToServer } from '../api-client.ts';
import { COMMON_USAGE, EXIT, loadCliConfig, parseCommandArgs, UsageError, type CliCommand } from '../command.ts';
import { DATA_ACCESS_ERROR_CODES, osUser, serverCertOf } from '../data-access.ts';
import { readServerInfo } from '../server-lock.ts';

const usage = `Usage: mcm admins unlock NAME [--address A]
       mcm admins unlock --address A

Lifts sign-in locks before they run out: forgets the failed sign-in attempts of the admin
username NAME (its locks from every address and its growing delay), of the client address A
(an IPv4 or IPv6 address, or an IPv6 /64 as the 429 message names it), or, with both, of that
one pair. Recorded as a security event naming you.

Options:
  --address A         the client address (IPv6: any address of the /64, or the /64 itself)
${COMMON_USAGE}`;

export const adminsUnlockCommand: CliCommand = {
  name: 'unlock',
  summary: 'lift the sign-in lock of an admin username or a client address',
  usage,
  run: async (argv, io) => {
    const { values, positionals } = parseCommandArgs(argv, { address: { type: 'string' } }, usage, { max: 1 });
    if (values.help) {
      io.stdout(usage);
      return EXIT.OK;
    }
    const username = positionals[0];
    const address = values.address;
    if (username === undefined && address === undefined) throw new UsageError('name what to unlock: NAME (an admin username), --address A, or both', usage);
    if (username !== undefined && username.trim() === '') throw new UsageError('NAME must not be empty', usage);
    const addressKey = address === undefined ? undefined : parseAddressKey(address);
    if (addressKey === null) throw new UsageError(`--address must be an IPv4 or IPv6 address (or an IPv6 /64), got ${JSON.stringify(address)}`, usage);
    const filter: LoginFailureFilter = { ...(username === undefined ? {} : { username }), ...(addressKey === undefined ? {} : { addressKey }) };

    const { config } = loadCliConfig(io, values.config);
    const dataDir = config.data_dir;
    const user = osUser();
    const server = readServerInfo(dataDir);
    if (server !== null) {
      const api = connectToServer(dataDir, server, { user, serverCert: serverCertOf(config) });
      const query = new URLSearchParams({ ...(username === undefined ? {} : { username }), ...(addressKey === undefined ? {} : { address: addressKey }) });
      await api.request('DELETE', `/lockouts?${query.toString()}`);
      io.stdout(`lifted the sign-in locks ${describeUnlock(filter)}\n`);
      return EXIT.OK;
    }
    const path = join(dataDir, 'mcm.db');
    if (!existsSync(path)) {
      throw new DomainError(DATA_ACCESS_ERROR_CODES.NO_EVENT_LOG,
        `no database at ${path} (check data_dir / MCM_DATA_DIR; \`mcm server\` creates it on its first start)`, [{ path }]);
    }
    const db = openDatabase(path);
    try {
      const securityLog = createSecurityEventLog({ db, clock: { now: () => new Date().toISOString() } });
      try {
        const cleared = liftLock({ unlock: (f) => createLoginFailureTable({ db }).clear(f), securityLog }, filter, { actor: `cli:${user}` });
        io.stdout(`lifted the sign-in locks ${describeUnlock(filter)} (${cleared} failed attempt${cleared === 1 ? '' : 's'} forgotten)\n`);
      } finally {
        securityLog.close();
      }
    } finally {
      db.close();
    }
    return EXIT.OK;
  },
};
