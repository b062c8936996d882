/**
 * bcrypt for admin passwords and recovery codes (DESIGN §9: cost >= 12 in production; tests lower
 * it through config.auth.bcrypt_cost). bcrypt reads at most 72 bytes of a password, so the HTTP
 * layer refuses longer new passwords (see password-policy.ts) rather than silently ignore the rest.
 */
import bcrypt from 'bcrypt';
import type { AdminHasher } from '../deps.ts';

/** bcrypt's own bounds for the cost factor (log2 rounds). */
export const MIN_BCRYPT_COST = 4;
export const MAX_BCRYPT_COST = 31;

export const createAdminHasher = (options: Readonly<{ cost: number }>): AdminHasher => {
  const { cost } = options;
  if (!Number.isInteger(cost) || cost < MIN_BCRYPT_COST || cost > MAX_BCRYPT_COST) {
    throw new Error(`auth.bcrypt_cost must be an integer from ${MIN_BCRYPT_COST} to ${MAX_BCRYPT_COST} (got ${cost})`);
  }
  return {
    hash: (password) => bcrypt.hash(password, cost),
    verify: async (password, hash) => {
      try {
        return await bcrypt.compare(password, hash);
      } catch {
        return false; // a malformed hash never verifies, and never throws into a login
      }
    },
  };
};
