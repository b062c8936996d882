/**
 * Lifting a sign-in lock early (DESIGN §9): an admin names a username, an address, or both (the
 * pair), and their failed attempts are forgotten — the pair and address locks and the
 * username's delay go with them. Shared by `DELETE /lockouts` and `mcm admins unlock` on a data
 * dir with no server. Every unlock is a security event saying who lifted what.
 */
import { DomainError, ERROR_CODES } from '../../../core/errors.ts';
import type { LoginFailureFilter } from '../../sqlite/login-failures.ts';
import type { SecurityEventLog } from '../../sqlite/security-events.ts';
import { parseAddressKey } from './address-key.ts';

export type UnlockRequest = Readonly<{ username?: string | undefined; address?: string | undefined }>;

/** The filter for an unlock request; 400 without a username or an address, or with an address that is none. */
export const unlockFilterOf = (request: UnlockRequest): LoginFailureFilter => {
  const username = request.username?.trim() || undefined;
  const rawAddress = request.address?.trim() || undefined;
  if (username === undefined && rawAddress === undefined) {
    throw new DomainError(ERROR_CODES.VALIDATION, 'name what to unlock: a username, an address, or both', [{ field: 'username', rule: 'username or address required' }]);
  }
  let addressKey: string | undefined;
  if (rawAddress !== undefined) {
    const key = parseAddressKey(rawAddress);
    if (key === null) {
      throw new DomainError(ERROR_CODES.VALIDATION, `"${rawAddress.slice(0, 100)}" is not an IPv4 or IPv6 address (or an IPv6 /64)`, [
        { field: 'address', value: rawAddress.slice(0, 100) },
      ]);
    }
    addressKey = key;
  }
  return { ...(username === undefined ? {} : { username }), ...(addressKey === undefined ? {} : { addressKey }) };
};

/** `for "admin" from 203.0.113.7`, `from 2001:db8::/64`, `for "admin"`. */
export const describeUnlock = (filter: LoginFailureFilter): string =>
  [filter.username === undefined ? '' : `for ${JSON.stringify(filter.username)}`, filter.addressKey === undefined ? '' : `from ${filter.addressKey}`]
    .filter(Boolean).join(' ');

export type UnlockDeps = Readonly<{ unlock(filter: LoginFailureFilter): number; securityLog: Pick<SecurityEventLog, 'record'> }>;

/** Forgets the failures and records who did it; returns how many failed attempts were forgotten. */
export const liftLock = (deps: UnlockDeps, filter: LoginFailureFilter, by: Readonly<{ actor: string; ip?: string | null; requestId?: string }>): number => {
  const cleared = deps.unlock(filter);
  deps.securityLog.record({
    category: 'auth.unlocked',
    severity: 'warning',
    message: `sign-in lock lifted ${describeUnlock(filter)} by ${by.actor} (${cleared} failed attempt${cleared === 1 ? '' : 's'} forgotten)`,
    details: {
      username: filter.username ?? null, address: filter.addressKey ?? null, failures_cleared: cleared, by: by.actor,
      ...(by.requestId ? { request_id: by.requestId } : {}),
    },
    actor: by.actor,
    ip: by.ip ?? null,
  });
  return cleared;
};
