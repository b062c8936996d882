import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DomainEvent } from '../../core/events.ts';
import { BCRYPT_A, BCRYPT_B, bcrypt, ev, given } from '../helpers/decider-spec.ts';

const codes = Array.from({ length: 10 }, (_, i) => bcrypt(i));
const enrolled = (username: string): DomainEvent[] => [
  { type: 'MfaEnrolmentStarted', data: { username, secretCiphertext: 'ct-1', recoveryCodeHashes: codes } },
  { type: 'MfaEnabled', data: { username } },
];

describe('CreateAdminUser', () => {
  it('creates an admin user with a bcrypt hash and a role', () => {
    given([]).when({ type: 'CreateAdminUser', data: { username: 'ops@example.com', passwordHash: BCRYPT_A, role: 'operator' } })
      .then([{ type: 'AdminUserCreated', data: { username: 'ops@example.com', passwordHash: BCRYPT_A, role: 'operator' } }]);
  });

  it('accepts $2a$, $2b$ and $2y$ hashes', () => {
    for (const v of ['a', 'b', 'y']) {
      const passwordHash = BCRYPT_A.replace('$2b$', `$2${v}$`);
      given([]).when({ type: 'CreateAdminUser', data: { username: 'x', passwordHash, role: 'viewer' } })
        .then([{ type: 'AdminUserCreated', data: { username: 'x', passwordHash, role: 'viewer' } }]);
    }
  });

  it('refuses a role outside viewer/auditor/operator/admin with MCM_ERR_ADMIN_ROLE_INVALID', () => {
    for (const role of ['root', 'Admin', '', 'superuser']) {
      const err = given([]).when({ type: 'CreateAdminUser', data: { username: 'x', passwordHash: BCRYPT_A, role } }).thenThrows('MCM_ERR_ADMIN_ROLE_INVALID');
      assert.deepEqual(err.details[0]?.['allowed'], ['viewer', 'auditor', 'operator', 'admin']);
    }
  });

  it('refuses a bad username with MCM_ERR_USERNAME_INVALID and an existing one with MCM_ERR_ADMIN_USER_EXISTS', () => {
    given([]).when({ type: 'CreateAdminUser', data: { username: 'a b', passwordHash: BCRYPT_A, role: 'admin' } }).thenThrows('MCM_ERR_USERNAME_INVALID');
    given([ev.adminCreated('root')]).when({ type: 'CreateAdminUser', data: { username: 'root', passwordHash: BCRYPT_B, role: 'admin' } })
      .thenThrows('MCM_ERR_ADMIN_USER_EXISTS');
  });

  it('refuses anything but a bcrypt hash with MCM_ERR_PASSWORD_HASH_INVALID', () => {
    for (const passwordHash of ['hunter2', '$2x$12$' + 'a'.repeat(53), BCRYPT_A.slice(0, -1), '$7$101$abc', `$2b$1$${'a'.repeat(53)}`]) {
      given([]).when({ type: 'CreateAdminUser', data: { username: 'x', passwordHash, role: 'admin' } }).thenThrows('MCM_ERR_PASSWORD_HASH_INVALID');
    }
  });
});

describe('UpdateAdminUser', () => {
  const world = [ev.adminCreated('root'), ev.adminCreated('alice', 'operator')];

  it('emits only changed fields: password, role, then the disabled flag', () => {
    given(world).when({ type: 'UpdateAdminUser', data: { username: 'alice', passwordHash: BCRYPT_B, role: 'admin', disabled: true } }).then([
      { type: 'AdminUserPasswordChanged', data: { username: 'alice', passwordHash: BCRYPT_B } },
      { type: 'AdminUserRoleChanged', data: { username: 'alice', role: 'admin' } },
      { type: 'AdminUserDisabled', data: { username: 'alice' } },
    ]);
  });

  it('is a no-op ([]) for the current values', () => {
    given(world).when({ type: 'UpdateAdminUser', data: { username: 'alice', passwordHash: BCRYPT_A, role: 'operator', disabled: false } }).then([]);
  });

  it('re-enables a disabled user', () => {
    given([...world, { type: 'AdminUserDisabled', data: { username: 'alice' } }]).when({ type: 'UpdateAdminUser', data: { username: 'alice', disabled: false } })
      .then([{ type: 'AdminUserEnabled', data: { username: 'alice' } }]);
  });

  it('refuses an unknown user, a bad role and a bad hash', () => {
    given(world).when({ type: 'UpdateAdminUser', data: { username: 'bob', role: 'viewer' } }).thenThrows('MCM_ERR_ADMIN_USER_NOT_FOUND');
    given(world).when({ type: 'UpdateAdminUser', data: { username: 'alice', role: 'god' } }).thenThrows('MCM_ERR_ADMIN_ROLE_INVALID');
    given(world).when({ type: 'UpdateAdminUser', data: { username: 'alice', passwordHash: 'plain' } }).thenThrows('MCM_ERR_PASSWORD_HASH_INVALID');
    given(world).when({ type: 'UpdateAdminUser', data: { username: 'alice', disabled: 1 as unknown as boolean } }).thenThrows('MCM_ERR_VALIDATION');
  });
});

describe('the last active admin (DESIGN §9)', () => {
  const world = [ev.adminCreated('root'), ev.adminCreated('alice', 'operator'), ev.adminCreated('gone'), { type: 'AdminUserDisabled', data: { username: 'gone' } } as DomainEvent];

  it('can\'t be demoted', () => {
    const err = given(world).when({ type: 'UpdateAdminUser', data: { username: 'root', role: 'operator' } }).thenThrows('MCM_ERR_LAST_ADMIN');
    assert.match(err.message, /"root" is the last active admin and can't be demoted/);
  });
  it('can\'t be disabled', () => {
    const err = given(world).when({ type: 'UpdateAdminUser', data: { username: 'root', disabled: true } }).thenThrows('MCM_ERR_LAST_ADMIN');
    assert.match(err.message, /can't be disabled/);
  });
  it('can\'t be deleted', () => {
    given(world).when({ type: 'DeleteAdminUser', data: { username: 'root' } }).thenThrows('MCM_ERR_LAST_ADMIN');
  });
  it('can still change its password', () => {
    given(world).when({ type: 'UpdateAdminUser', data: { username: 'root', passwordHash: BCRYPT_B } })
      .then([{ type: 'AdminUserPasswordChanged', data: { username: 'root', passwordHash: BCRYPT_B } }]);
  });
  it('can be demoted once another active admin exists', () => {
    given([...world, { type: 'AdminUserRoleChanged', data: { username: 'alice', role: 'admin' } }])
      .when({ type: 'UpdateAdminUser', data: { username: 'root', role: 'viewer' } })
      .then([{ type: 'AdminUserRoleChanged', data: { username: 'root', role: 'viewer' } }]);
  });
  it('does not count a disabled admin as another admin, and non-admins can always go', () => {
    given(world).when({ type: 'DeleteAdminUser', data: { username: 'gone' } }).then([{ type: 'AdminUserDeleted', data: { username: 'gone' } }]);
    given(world).when({ type: 'DeleteAdminUser', data: { username: 'alice' } }).then([{ type: 'AdminUserDeleted', data: { username: 'alice' } }]);
  });
  it('refuses to delete an unknown admin user with MCM_ERR_ADMIN_USER_NOT_FOUND', () => {
    given(world).when({ type: 'DeleteAdminUser', data: { username: 'nobody' } }).thenThrows('MCM_ERR_ADMIN_USER_NOT_FOUND');
  });
});

describe('MFA', () => {
  const world = [ev.adminCreated('root')];

  it('starts an enrolment with the secret\'s ciphertext and exactly 10 recovery-code hashes', () => {
    given(world).when({ type: 'StartMfaEnrolment', data: { username: 'root', secretCiphertext: 'ct', recoveryCodeHashes: codes } })
      .then([{ type: 'MfaEnrolmentStarted', data: { username: 'root', secretCiphertext: 'ct', recoveryCodeHashes: codes } }]);
  });

  it('allows a re-setup while MFA is enabled (the adapter has re-authenticated)', () => {
    given([...world, ...enrolled('root')]).when({ type: 'StartMfaEnrolment', data: { username: 'root', secretCiphertext: 'ct-2', recoveryCodeHashes: codes } })
      .then([{ type: 'MfaEnrolmentStarted', data: { username: 'root', secretCiphertext: 'ct-2', recoveryCodeHashes: codes } }]);
  });

  it('refuses 9 or 11 codes, non-bcrypt codes and an empty ciphertext with MCM_ERR_VALIDATION', () => {
    for (const recoveryCodeHashes of [codes.slice(1), [...codes, bcrypt(10)], [...codes.slice(1), 'plain']]) {
      given(world).when({ type: 'StartMfaEnrolment', data: { username: 'root', secretCiphertext: 'ct', recoveryCodeHashes } }).thenThrows('MCM_ERR_VALIDATION');
    }
    given(world).when({ type: 'StartMfaEnrolment', data: { username: 'root', secretCiphertext: '', recoveryCodeHashes: codes } }).thenThrows('MCM_ERR_VALIDATION');
  });

  it('enables MFA only after an enrolment started, else MCM_ERR_MFA_STATE', () => {
    given(world).when({ type: 'EnableMfa', data: { username: 'root', secretCiphertext: 'ct-1' } }).thenThrows('MCM_ERR_MFA_STATE');
    given([...world, enrolled('root')[0] as DomainEvent]).when({ type: 'EnableMfa', data: { username: 'root', secretCiphertext: 'ct-1' } })
      .then([{ type: 'MfaEnabled', data: { username: 'root' } }]);
  });

  it('enables only the enrolment whose code was verified: a setup started meanwhile is refused with MCM_ERR_MFA_STATE', () => {
    const second: DomainEvent = { type: 'MfaEnrolmentStarted', data: { username: 'root', secretCiphertext: 'ct-2', recoveryCodeHashes: codes } };
    // The code was checked against ct-1; a second setup (ct-2) started before the append.
    given([...world, enrolled('root')[0] as DomainEvent, second]).when({ type: 'EnableMfa', data: { username: 'root', secretCiphertext: 'ct-1' } })
      .thenThrows('MCM_ERR_MFA_STATE');
    given([...world, enrolled('root')[0] as DomainEvent, second]).when({ type: 'EnableMfa', data: { username: 'root', secretCiphertext: 'ct-2' } })
      .then([{ type: 'MfaEnabled', data: { username: 'root' } }]);
  });

  it('accepts keyed recovery-code hashes (hmac-sha256$<hex>) and refuses malformed ones', () => {
    const keyed = Array.from({ length: 10 }, (_, i) => `hmac-sha256$${String(i).repeat(64)}`);
    given(world).when({ type: 'StartMfaEnrolment', data: { username: 'root', secretCiphertext: 'ct', recoveryCodeHashes: keyed } })
      .then([{ type: 'MfaEnrolmentStarted', data: { username: 'root', secretCiphertext: 'ct', recoveryCodeHashes: keyed } }]);
    given(world).when({ type: 'StartMfaEnrolment', data: { username: 'root', secretCiphertext: 'ct', recoveryCodeHashes: [...keyed.slice(1), 'hmac-sha256$abc'] } })
      .thenThrows('MCM_ERR_VALIDATION');
  });

  it('disables MFA only when enabled, else MCM_ERR_MFA_STATE', () => {
    given([...world, ...enrolled('root')]).when({ type: 'DisableMfa', data: { username: 'root' } }).then([{ type: 'MfaDisabled', data: { username: 'root' } }]);
    given(world).when({ type: 'DisableMfa', data: { username: 'root' } }).thenThrows('MCM_ERR_MFA_STATE');
    given([...world, enrolled('root')[0] as DomainEvent]).when({ type: 'DisableMfa', data: { username: 'root' } }).thenThrows('MCM_ERR_MFA_STATE');
  });

  it('uses each recovery code once (DESIGN §9)', () => {
    const w = [...world, ...enrolled('root')];
    given(w).when({ type: 'UseRecoveryCode', data: { username: 'root', index: 9, codeHash: codes[9] as string } }).then([{ type: 'MfaRecoveryCodeUsed', data: { username: 'root', index: 9 } }]);
    given([...w, { type: 'MfaRecoveryCodeUsed', data: { username: 'root', index: 9 } }])
      .when({ type: 'UseRecoveryCode', data: { username: 'root', index: 9, codeHash: codes[9] as string } }).thenThrows('MCM_ERR_MFA_STATE');
  });

  it('spends a recovery code only if the hash that was matched is still at its index (codes re-enrolled meanwhile: MCM_ERR_MFA_STATE)', () => {
    const fresh = Array.from({ length: 10 }, (_, i) => bcrypt(i + 20));
    const reenrolled: DomainEvent[] = [
      ...enrolled('root'),
      { type: 'MfaEnrolmentStarted', data: { username: 'root', secretCiphertext: 'ct-2', recoveryCodeHashes: fresh } },
      { type: 'MfaEnabled', data: { username: 'root' } },
    ];
    given([...world, ...reenrolled]).when({ type: 'UseRecoveryCode', data: { username: 'root', index: 3, codeHash: codes[3] as string } }).thenThrows('MCM_ERR_MFA_STATE');
    given([...world, ...reenrolled]).when({ type: 'UseRecoveryCode', data: { username: 'root', index: 3, codeHash: fresh[3] as string } })
      .then([{ type: 'MfaRecoveryCodeUsed', data: { username: 'root', index: 3 } }]);
  });

  it('refuses recovery-code indexes out of range and use without MFA with MCM_ERR_MFA_STATE', () => {
    const w = [...world, ...enrolled('root')];
    for (const index of [-1, 10, 1.5, Number.NaN]) {
      given(w).when({ type: 'UseRecoveryCode', data: { username: 'root', index, codeHash: codes[0] as string } }).thenThrows('MCM_ERR_MFA_STATE');
    }
    given(world).when({ type: 'UseRecoveryCode', data: { username: 'root', index: 0, codeHash: codes[0] as string } }).thenThrows('MCM_ERR_MFA_STATE');
  });

  it('refuses every MFA command for an unknown admin user with MCM_ERR_ADMIN_USER_NOT_FOUND', () => {
    given(world).when({ type: 'StartMfaEnrolment', data: { username: 'x', secretCiphertext: 'ct', recoveryCodeHashes: codes } }).thenThrows('MCM_ERR_ADMIN_USER_NOT_FOUND');
    given(world).when({ type: 'EnableMfa', data: { username: 'x', secretCiphertext: 'ct' } }).thenThrows('MCM_ERR_ADMIN_USER_NOT_FOUND');
    given(world).when({ type: 'DisableMfa', data: { username: 'x' } }).thenThrows('MCM_ERR_ADMIN_USER_NOT_FOUND');
    given(world).when({ type: 'UseRecoveryCode', data: { username: 'x', index: 0, codeHash: codes[0] as string } }).thenThrows('MCM_ERR_ADMIN_USER_NOT_FOUND');
  });
});
