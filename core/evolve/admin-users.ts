/**
 * Folding admin users and their MFA state. `tokenVersion` starts at 1 and is bumped by every
 * change that must end existing sessions: password, role, disabled flag, MFA enabled or disabled
 * (DESIGN §9: JWTs carrying an older value are revoked).
 */
import type { EventOf } from '../events.ts';
import type { BrokerConfig } from '../state.ts';
import { drop, own, put } from './records.ts';

export type AdminUserEvent = EventOf<
  | 'AdminUserCreated' | 'AdminUserPasswordChanged' | 'AdminUserRoleChanged' | 'AdminUserDisabled'
  | 'AdminUserEnabled' | 'AdminUserDeleted'
  | 'MfaEnrolmentStarted' | 'MfaEnabled' | 'MfaDisabled' | 'MfaRecoveryCodeUsed'
  | 'SsoAdminUserCreated' | 'AdminUserLinked' | 'AdminUserSignedOut'
>;

export const evolveAdminUser = (state: BrokerConfig, event: AdminUserEvent, at: string): void => {
  if (event.type === 'AdminUserCreated') {
    const { username, passwordHash, role } = event.data;
    put(state.adminUsers, username, {
      username, passwordHash, role, disabled: false, tokenVersion: 1,
      mfa: { enabled: false, secretCiphertext: null, recoveryCodeHashes: [], pending: null },
      createdAt: at, updatedAt: at,
    });
    return;
  }
  if (event.type === 'SsoAdminUserCreated') {
    // No local password: '' is no bcrypt hash, so a password sign-in never matches it.
    const { username, role, issuer, subject } = event.data;
    put(state.adminUsers, username, {
      username, passwordHash: '', role, disabled: false, tokenVersion: 1,
      mfa: { enabled: false, secretCiphertext: null, recoveryCodeHashes: [], pending: null },
      sso: { issuer, subject }, createdAt: at, updatedAt: at,
    });
    return;
  }
  const user = own(state.adminUsers, event.data.username);
  if (!user) return; // see evolveMqttUser: decide never emits this
  switch (event.type) {
    case 'AdminUserPasswordChanged': user.passwordHash = event.data.passwordHash; user.tokenVersion += 1; break;
    case 'AdminUserRoleChanged': user.role = event.data.role; user.tokenVersion += 1; break;
    case 'AdminUserDisabled': user.disabled = true; user.tokenVersion += 1; break;
    case 'AdminUserEnabled': user.disabled = false; user.tokenVersion += 1; break;
    case 'AdminUserDeleted': drop(state.adminUsers, user.username); return;
    case 'MfaEnrolmentStarted':
      // Staged only: the active secret and codes stay until a code from the new secret verifies.
      // Copy the array: the state mutates its copy (a used code becomes null), never the event.
      user.mfa.pending = { secretCiphertext: event.data.secretCiphertext, recoveryCodeHashes: [...event.data.recoveryCodeHashes] };
      break;
    case 'MfaEnabled':
      if (user.mfa.pending) {
        user.mfa.secretCiphertext = user.mfa.pending.secretCiphertext;
        user.mfa.recoveryCodeHashes = [...user.mfa.pending.recoveryCodeHashes];
        user.mfa.pending = null;
      }
      user.mfa.enabled = true;
      user.tokenVersion += 1;
      break;
    case 'MfaDisabled':
      user.mfa = { enabled: false, secretCiphertext: null, recoveryCodeHashes: [], pending: null };
      user.tokenVersion += 1;
      break;
    case 'MfaRecoveryCodeUsed': {
      const { index } = event.data;
      if (index >= 0 && index < user.mfa.recoveryCodeHashes.length) user.mfa.recoveryCodeHashes[index] = null;
      break;
    }
    case 'AdminUserLinked': user.sso = { issuer: event.data.issuer, subject: event.data.subject }; break;
    case 'AdminUserSignedOut': {
      // Deterministic pruning: by the event's own time, never a clock.
      const now = Date.parse(at);
      const live = Object.entries(user.endedSessions ?? {}).filter(([, exp]) => Date.parse(exp) > now);
      user.endedSessions = Object.fromEntries([...live, [event.data.sessionId, event.data.expiresAt]]);
      break;
    }
    default: {
      const never: never = event;
      throw new Error(`unhandled admin user event ${JSON.stringify(never)}`);
    }
  }
  user.updatedAt = at;
};
