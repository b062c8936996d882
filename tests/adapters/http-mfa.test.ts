import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generate } from 'otplib';
import { open } from '../../adapters/secrets/crypto-box.ts';
import type { AdminRole } from '../../core/state.ts';
import { createTestApp, ROLE_USERS, TEST_PASSWORD, type TestApp } from '../helpers/http.ts';

/** The TOTP code an authenticator app would show now (on the app's clock), or `steps` periods later. */
const codeNow = (h: TestApp, secret: string, steps = 0): Promise<string> =>
  generate({ secret, epoch: Math.floor(h.clock.ms() / 1000) + steps * 30 });

type Enrolled = { secret: string; recoveryCodes: string[]; token: string; username: string };

/** Setup + verify for the helper's user of `role`; the clock then moves one period on. */
const enrol = async (h: TestApp, role: AdminRole): Promise<Enrolled> => {
  const token = await h.tokenFor(role);
  const setup = await h.request('POST', '/api/v1/auth/mfa/setup', { token, body: { password: TEST_PASSWORD } });
  assert.equal(setup.status, 200, setup.text);
  const verify = await h.request('POST', '/api/v1/auth/mfa/verify', { token, body: { code: await codeNow(h, setup.body.secret) } });
  assert.equal(verify.status, 200, verify.text);
  h.clock.advance(30); // the verify code's step is spent
  return { secret: setup.body.secret, recoveryCodes: setup.body.recovery_codes, token: verify.body.token, username: ROLE_USERS[role] };
};

const challenge = async (h: TestApp, username: string): Promise<string> => {
  const res = await h.login(username, TEST_PASSWORD);
  assert.equal(res.status, 200);
  assert.equal(res.body.mfa_required, true);
  assert.equal(res.body.token, undefined, 'no token before the second factor');
  return res.body.mfa_challenge;
};

const answer = (h: TestApp, mfaChallenge: string, code: string) =>
  h.request('POST', '/api/v1/auth/login/mfa', { body: { mfa_challenge: mfaChallenge, code } });

describe('MFA enrolment [DESIGN §9]', () => {
  it('setup returns an otpauth URL, the secret and 10 recovery codes once; the log holds only ciphertext and hashes', async (t) => {
    const h = await createTestApp(t);
    const token = await h.tokenFor('operator');
    const res = await h.request('POST', '/api/v1/auth/mfa/setup', { token, body: { password: TEST_PASSWORD } });
    assert.equal(res.status, 200);
    const { otpauth_url, secret, recovery_codes } = res.body;
    assert.match(secret, /^[A-Z2-7]{32}$/, '20 random bytes in base32');
    assert.match(otpauth_url, /^otpauth:\/\/totp\/MCM:test-operator\?/);
    assert.equal(new URL(otpauth_url).searchParams.get('secret'), secret);
    assert.equal(recovery_codes.length, 10);
    assert.equal(new Set(recovery_codes).size, 10);

    const events = h.store.read({ stream: `admin-user:${ROLE_USERS.operator}` });
    const started = events.find((e) => e.type === 'MfaEnrolmentStarted');
    assert.ok(started && started.type === 'MfaEnrolmentStarted');
    const all = JSON.stringify(h.store.read());
    assert.ok(!all.includes(secret), 'the TOTP secret is not in the log in plaintext');
    for (const code of recovery_codes) assert.ok(!all.includes(code), 'no recovery code in plaintext');
    // Keyed HMAC with secrets/recovery-codes.key: no offline guessing without the key, one HMAC per attempt.
    assert.ok(started.data.recoveryCodeHashes.every((x: string) => /^hmac-sha256\$[0-9a-f]{64}$/.test(x)), 'codes are stored as keyed hashes');
    assert.equal(h.deps.secrets.read('recovery-codes.key')?.length, 32);
    // Sealed with the 32-byte totp.key from the secrets store (AES-256-GCM).
    const key = h.deps.secrets.read('totp.key');
    assert.equal(key?.length, 32);
    assert.equal(open(key as Buffer, started.data.secretCiphertext), secret);

    const me = await h.request('GET', '/api/v1/auth/me', { token });
    assert.equal(me.body.mfa_enabled, false, 'not enabled before a code is verified');
    assert.equal(me.body.mfa_pending, true);
  });

  it('setup needs the password: a wrong one is 403 and appends nothing', async (t) => {
    const h = await createTestApp(t);
    const before = h.eventCount();
    const res = await h.request('POST', '/api/v1/auth/mfa/setup', { token: await h.tokenFor('viewer'), body: { password: 'wrong-password' } });
    assert.equal(res.status, 403);
    assert.equal(res.body.error.code, 'MCM_ERR_REAUTH_FAILED');
    assert.equal(h.eventCount(), before);
  });

  it('verify enables MFA only with a valid code, and answers with a fresh token (the old one is revoked)', async (t) => {
    const h = await createTestApp(t);
    const token = await h.tokenFor('auditor');
    const setup = await h.request('POST', '/api/v1/auth/mfa/setup', { token, body: { password: TEST_PASSWORD } });
    const wrong = await h.request('POST', '/api/v1/auth/mfa/verify', { token, body: { code: '000000' === await codeNow(h, setup.body.secret) ? '111111' : '000000' } });
    assert.equal(wrong.status, 403);
    assert.equal(wrong.body.error.code, 'MCM_ERR_MFA_CODE_INVALID');
    assert.equal(h.deps.securityLog.count({ category: 'auth.mfa_failed' }), 1);

    const ok = await h.request('POST', '/api/v1/auth/mfa/verify', { token, body: { code: await codeNow(h, setup.body.secret) } });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.mfa_enabled, true);
    assert.equal((await h.request('GET', '/api/v1/auth/me', { token })).status, 401, 'enabling MFA ends older sessions');
    const me = await h.request('GET', '/api/v1/auth/me', { token: ok.body.token });
    assert.equal(me.body.mfa_enabled, true);
  });

  it('verify without a started setup is 409 MCM_ERR_MFA_STATE', async (t) => {
    const h = await createTestApp(t);
    const res = await h.request('POST', '/api/v1/auth/mfa/verify', { token: await h.tokenFor('viewer'), body: { code: '123456' } });
    assert.equal(res.status, 409);
    assert.equal(res.body.error.code, 'MCM_ERR_MFA_STATE');
  });
});

describe('MFA sign-in [DESIGN §9]', () => {
  it('a password sign-in gets a challenge; a current TOTP code completes it', async (t) => {
    const h = await createTestApp(t);
    const { secret, username } = await enrol(h, 'admin');
    const res = await answer(h, await challenge(h, username), await codeNow(h, secret));
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.user, { username, role: 'admin', mfa_enabled: true });
    assert.equal((await h.request('GET', '/api/v1/auth/me', { token: res.body.token })).status, 200);
  });

  it('refuses a replayed TOTP code, even within its 30 s', async (t) => {
    const h = await createTestApp(t);
    const { secret, username } = await enrol(h, 'operator');
    const code = await codeNow(h, secret);
    assert.equal((await answer(h, await challenge(h, username), code)).status, 200);
    h.clock.advance(5);
    const replay = await answer(h, await challenge(h, username), code);
    assert.equal(replay.status, 401);
    assert.equal(replay.body.error.code, 'MCM_ERR_MFA_CODE_INVALID');
    const [failed] = h.deps.securityLog.list({ category: 'auth.mfa_failed' }).items;
    assert.equal(failed?.details['reason'], 'replayed');
    // The previous period's code is otherwise accepted (±1 step), but not once a later step was used.
    h.clock.advance(25);
    const previous = await codeNow(h, secret, -1);
    assert.equal(previous, code);
    assert.equal((await answer(h, await challenge(h, username), previous)).status, 401);
    assert.equal((await answer(h, await challenge(h, username), await codeNow(h, secret))).status, 200);
  });

  it('a challenge is single use', async (t) => {
    const h = await createTestApp(t);
    const { secret, username } = await enrol(h, 'viewer');
    const c = await challenge(h, username);
    assert.equal((await answer(h, c, await codeNow(h, secret))).status, 200);
    h.clock.advance(30);
    const again = await answer(h, c, await codeNow(h, secret));
    assert.equal(again.status, 401);
    assert.equal(again.body.error.code, 'MCM_ERR_MFA_CHALLENGE_INVALID');
  });

  it('a challenge allows at most 5 attempts', async (t) => {
    const h = await createTestApp(t, { config: (c) => { c.auth.lockout.max_failures = 100; } });
    const { secret, username } = await enrol(h, 'auditor');
    const c = await challenge(h, username);
    const good = await codeNow(h, secret);
    const bad = good === '000000' ? '000001' : '000000';
    for (let i = 1; i <= 5; i++) {
      const res = await answer(h, c, bad);
      assert.equal(res.status, 401);
      assert.equal(res.body.error.code, 'MCM_ERR_MFA_CODE_INVALID');
      assert.equal(res.body.error.details[0].attempts_left, 5 - i);
    }
    const sixth = await answer(h, c, good);
    assert.equal(sixth.status, 401, 'the right code no longer helps');
    assert.equal(sixth.body.error.code, 'MCM_ERR_MFA_CHALLENGE_INVALID');
  });

  it('a challenge expires after 5 minutes', async (t) => {
    const h = await createTestApp(t);
    const { secret, username } = await enrol(h, 'viewer');
    const c = await challenge(h, username);
    h.clock.advance(301);
    const res = await answer(h, c, await codeNow(h, secret));
    assert.equal(res.status, 401);
    assert.equal(res.body.error.code, 'MCM_ERR_MFA_CHALLENGE_INVALID');
  });

  it('unknown challenges are security events and count toward the address lockout', async (t) => {
    const h = await createTestApp(t, { config: (c) => { c.auth.lockout.max_failures_per_address = 6; } });
    for (let i = 1; i <= 5; i++) {
      const res = await answer(h, `made-up-challenge-${i}`, '123456');
      assert.equal(res.status, 401);
      assert.equal(res.body.error.code, 'MCM_ERR_MFA_CHALLENGE_INVALID');
    }
    assert.equal((await answer(h, 'made-up-challenge-6', '123456')).status, 429);
    // One row per address and window, counting every attempt (bounded security events).
    assert.equal(h.deps.securityLog.occurrences({ category: 'auth.mfa_failed' }), 6);
    assert.equal((await h.login(ROLE_USERS.viewer, TEST_PASSWORD)).status, 429, 'the address is locked');
  });

  it('MFA failures count toward the (address, username) lockout', async (t) => {
    const h = await createTestApp(t);
    const { secret, username } = await enrol(h, 'operator');
    const good = await codeNow(h, secret);
    const bad = good === '000000' ? '000001' : '000000';
    const first = await challenge(h, username);
    for (let i = 0; i < 5; i++) assert.equal((await answer(h, first, bad)).status, 401);
    const second = await challenge(h, username);
    const locked = await answer(h, second, bad);
    assert.equal(locked.status, 429, '5 + 1 MFA failures reach the limit of 6');
    assert.ok(Number(locked.headers.get('retry-after')) > 0);
    assert.equal((await h.login(username, TEST_PASSWORD)).status, 429);
  });

  it('a recovery code works once (any case, with or without the dash)', async (t) => {
    const h = await createTestApp(t);
    const { recoveryCodes, username } = await enrol(h, 'admin');
    const code = recoveryCodes[3] as string;
    const res = await answer(h, await challenge(h, username), code.toUpperCase().replace('-', ''));
    assert.equal(res.status, 200);
    const used = h.store.read({ stream: `admin-user:${username}` }).filter((e) => e.type === 'MfaRecoveryCodeUsed');
    assert.deepEqual(used.map((e) => e.data), [{ username, index: 3 }]);
    const again = await answer(h, await challenge(h, username), code);
    assert.equal(again.status, 401);
    const me = await h.request('GET', '/api/v1/auth/me', { token: res.body.token });
    assert.equal(me.body.recovery_codes_left, 9);
    assert.equal((await answer(h, await challenge(h, username), recoveryCodes[4] as string)).status, 200, 'the other codes still work');
  });
});

describe('changing MFA needs re-authentication [DESIGN §9]', () => {
  it('DELETE /auth/mfa needs the password and a current code', async (t) => {
    const h = await createTestApp(t);
    const { secret, token, username } = await enrol(h, 'operator');
    const before = h.eventCount();
    const wrongPassword = await h.request('DELETE', '/api/v1/auth/mfa', { token, body: { password: 'wrong-password', code: await codeNow(h, secret) } });
    assert.equal(wrongPassword.status, 403);
    assert.equal(wrongPassword.body.error.code, 'MCM_ERR_REAUTH_FAILED');
    const code = await codeNow(h, secret);
    const wrongCode = await h.request('DELETE', '/api/v1/auth/mfa', { token, body: { password: TEST_PASSWORD, code: code === '000000' ? '000001' : '000000' } });
    assert.equal(wrongCode.status, 403);
    assert.equal(wrongCode.body.error.code, 'MCM_ERR_MFA_CODE_INVALID');
    assert.equal(h.eventCount(), before);

    const ok = await h.request('DELETE', '/api/v1/auth/mfa', { token, body: { password: TEST_PASSWORD, code } });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.mfa_enabled, false);
    const login = await h.login(username, TEST_PASSWORD);
    assert.equal(typeof login.body.token, 'string', 'no challenge once MFA is off');
  });

  it('setting MFA up again while it is on needs a current code as well as the password', async (t) => {
    const h = await createTestApp(t);
    const { secret, token } = await enrol(h, 'viewer');
    const before = h.eventCount();
    const noCode = await h.request('POST', '/api/v1/auth/mfa/setup', { token, body: { password: TEST_PASSWORD } });
    assert.equal(noCode.status, 400);
    assert.match(noCode.body.error.message, /current code/);
    assert.equal(h.eventCount(), before);
    const ok = await h.request('POST', '/api/v1/auth/mfa/setup', { token, body: { password: TEST_PASSWORD, code: await codeNow(h, secret) } });
    assert.equal(ok.status, 200, ok.text);
    assert.notEqual(ok.body.secret, secret);
  });

  it('refuses bad input on the MFA routes with a coded 400 and appends nothing', async (t) => {
    const h = await createTestApp(t);
    const token = await h.tokenFor('viewer');
    const before = h.eventCount();
    const cases: Array<[string, string, unknown]> = [
      ['POST', '/api/v1/auth/login/mfa', { mfa_challenge: 'x' }],
      ['POST', '/api/v1/auth/login/mfa', { mfa_challenge: 'x', code: 123456 }],
      ['POST', '/api/v1/auth/mfa/setup', { password: TEST_PASSWORD, secret: 'JBSWY3DPEHPK3PXP' }],
      ['POST', '/api/v1/auth/mfa/verify', { code: ['123456'] }],
      ['DELETE', '/api/v1/auth/mfa', { password: TEST_PASSWORD }],
    ];
    for (const [method, path, body] of cases) {
      const res = await h.request(method, path, { token, body });
      assert.equal(res.status, 400, `${method} ${path} ${JSON.stringify(body)}`);
      assert.equal(res.body.error.code, 'MCM_ERR_VALIDATION');
    }
    const malformed = await h.request('POST', '/api/v1/auth/mfa/verify', { token, rawBody: '{"code":', headers: { 'content-type': 'application/json' } });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.error.code, 'MCM_ERR_JSON_INVALID');
    assert.equal(h.eventCount(), before);
  });
});

describe('MFA re-setup [DESIGN §9: re-authentication to change MFA]', () => {
  it('keeps the old authenticator and recovery codes working until a code from the new secret verifies', async (t) => {
    const h = await createTestApp(t);
    const first = await enrol(h, 'operator');
    const reSetup = await h.request('POST', '/api/v1/auth/mfa/setup', {
      token: first.token, body: { password: TEST_PASSWORD, code: await codeNow(h, first.secret) },
    });
    assert.equal(reSetup.status, 200, reSetup.text);
    h.clock.advance(30);

    // The new setup response is "lost": the old authenticator still signs in.
    const viaOld = await answer(h, await challenge(h, first.username), await codeNow(h, first.secret));
    assert.equal(viaOld.status, 200, 'the old secret stays active until the new one is verified');
    const viaNew = await answer(h, await challenge(h, first.username), await codeNow(h, reSetup.body.secret));
    assert.equal(viaNew.status, 401, 'an unverified secret does not sign in');
    h.clock.advance(30);

    // Verifying with a code from the NEW secret switches over; the old one stops working.
    const wrongSecret = await h.request('POST', '/api/v1/auth/mfa/verify', { token: viaOld.body.token, body: { code: await codeNow(h, first.secret) } });
    assert.equal(wrongSecret.status, 403, 'verify needs a code from the new secret');
    const verify = await h.request('POST', '/api/v1/auth/mfa/verify', { token: viaOld.body.token, body: { code: await codeNow(h, reSetup.body.secret) } });
    assert.equal(verify.status, 200, verify.text);
    h.clock.advance(30);
    assert.equal((await answer(h, await challenge(h, first.username), await codeNow(h, first.secret))).status, 401);
    assert.equal((await answer(h, await challenge(h, first.username), await codeNow(h, reSetup.body.secret))).status, 200);
    assert.equal((await answer(h, await challenge(h, first.username), first.recoveryCodes[0]!)).status, 401, 'old recovery codes are replaced');
  });
});
