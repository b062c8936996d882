import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { resolveClientIp } from '../../adapters/http/auth/client-ip.ts';
import { createLockout } from '../../adapters/http/auth/lockout.ts';
import { createTestApp, createTestClock, ROLE_USERS, TEST_PASSWORD } from '../helpers/http.ts';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

describe('sign-in lockout [DESIGN §9]', () => {
  it('locks a username after 6 failures in 15 min: 429 with Retry-After, even for the right password', async (t) => {
    const h = await createTestApp(t);
    for (let i = 1; i <= 5; i++) {
      const res = await h.login(ROLE_USERS.admin, `wrong-${i}`);
      assert.equal(res.status, 401, `failure ${i}`);
    }
    const sixth = await h.login(ROLE_USERS.admin, 'wrong-6');
    assert.equal(sixth.status, 429, 'the 6th failure locks');
    assert.equal(sixth.body.error.code, 'MCM_ERR_LOCKED_OUT');
    assert.equal(sixth.headers.get('retry-after'), '900');

    h.clock.advance(60);
    const right = await h.login(ROLE_USERS.admin, TEST_PASSWORD);
    assert.equal(right.status, 429, 'no password is checked while locked');
    assert.equal(right.headers.get('retry-after'), '840', 'Retry-After counts down on the app clock');

    assert.equal(h.deps.securityLog.occurrences({ category: 'auth.login_failed' }), 6);
    assert.equal(h.deps.securityLog.count({ category: 'auth.locked_out' }), 1);

    h.clock.advance(840);
    assert.equal((await h.login(ROLE_USERS.admin, TEST_PASSWORD)).status, 200, 'unlocked once the failures leave the window');
  });

  it('locks a client address trying many usernames, and not another address', async (t) => {
    // Behind a trusted proxy (127.0.0.1), X-Forwarded-For names the client.
    const h = await createTestApp(t, { config: (c) => { c.http.trust_proxies = ['127.0.0.1']; } });
    const from = (ip: string) => ({ 'x-forwarded-for': ip });
    for (let i = 1; i <= 5; i++) assert.equal((await h.login(`someone-${i}`, 'guess', from('198.51.100.7'))).status, 401);
    assert.equal((await h.login('someone-6', 'guess', from('198.51.100.7'))).status, 429);
    assert.equal((await h.login(ROLE_USERS.viewer, TEST_PASSWORD, from('198.51.100.7'))).status, 429);
    assert.equal((await h.login(ROLE_USERS.viewer, TEST_PASSWORD, from('198.51.100.8'))).status, 200);
    const [locked] = h.deps.securityLog.list({ category: 'auth.locked_out' }).items;
    assert.equal(locked?.ip, '198.51.100.7');
  });

  it('locks a username tried from many addresses', async (t) => {
    const h = await createTestApp(t, { config: (c) => { c.http.trust_proxies = ['127.0.0.1']; } });
    for (let i = 1; i <= 5; i++) {
      assert.equal((await h.login(ROLE_USERS.operator, 'guess', { 'x-forwarded-for': `203.0.113.${i}` })).status, 401);
    }
    assert.equal((await h.login(ROLE_USERS.operator, 'guess', { 'x-forwarded-for': '203.0.113.6' })).status, 429);
    assert.equal((await h.login(ROLE_USERS.operator, TEST_PASSWORD, { 'x-forwarded-for': '203.0.113.99' })).status, 429);
    assert.equal((await h.login(ROLE_USERS.admin, TEST_PASSWORD, { 'x-forwarded-for': '203.0.113.99' })).status, 200);
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async (t) => {
    const h = await createTestApp(t);
    for (let i = 1; i <= 6; i++) await h.login(`someone-${i}`, 'guess', { 'x-forwarded-for': `192.0.2.${i}` });
    const res = await h.login(ROLE_USERS.admin, TEST_PASSWORD, { 'x-forwarded-for': '192.0.2.200' });
    assert.equal(res.status, 429, 'all six came from 127.0.0.1 whatever the header said');
    assert.ok(h.deps.securityLog.list({ category: 'auth.login_failed' }).items.every((e) => e.ip === '127.0.0.1'));
  });

  it('counts attempts still being checked, so parallel guesses can\'t exceed the limit', () => {
    const lockout = createLockout({ clock: createTestClock(), maxFailures: 6, windowS: 900 });
    const pending = Array.from({ length: 6 }, () => lockout.begin(['ip:a']));
    assert.ok(pending.every((p) => typeof p === 'object'));
    assert.equal(lockout.begin(['ip:a']), 1, 'a 7th concurrent attempt waits');
    for (const p of pending) if (typeof p === 'object') p.done();
    assert.equal(typeof lockout.begin(['ip:a']), 'object', 'successes free the slots');
  });

  it('resolves the client address: rightmost untrusted hop, only behind trusted proxies', () => {
    assert.equal(resolveClientIp('10.0.0.1', '1.2.3.4', []), '10.0.0.1');
    assert.equal(resolveClientIp('10.0.0.1', '1.2.3.4', ['10.0.0.1']), '1.2.3.4');
    assert.equal(resolveClientIp('10.0.0.1', '6.6.6.6, 1.2.3.4, 10.0.0.2', ['10.0.0.1', '10.0.0.2']), '1.2.3.4');
    assert.equal(resolveClientIp('::ffff:10.0.0.1', 'junk, 1.2.3.4', ['10.0.0.1']), '1.2.3.4');
    assert.equal(resolveClientIp('10.0.0.1', 'not-an-ip', ['10.0.0.1']), '10.0.0.1');
  });

  it('makes an unknown username take as long as a known one (median ratio within 20%, bcrypt cost 8)', async (t) => {
    const h = await createTestApp(t, {
      config: (c) => {
        c.auth.bcrypt_cost = 8;
        c.auth.lockout.max_failures = 1000;
      },
    });
    // The helper's users were hashed at the cost above, so both paths verify one cost-8 hash.
    await h.login('warm-up', 'x');
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 20; i++) {
      // Interleaved, so load from other processes hits both series alike.
      let start = performance.now();
      assert.equal((await h.login(ROLE_USERS.admin, `wrong-password-${i}`)).status, 401);
      known.push(performance.now() - start);
      start = performance.now();
      assert.equal((await h.login(`no-such-user-${i}`, `wrong-password-${i}`)).status, 401);
      unknown.push(performance.now() - start);
    }
    const ratio = median(unknown) / median(known);
    assert.ok(ratio > 0.8 && ratio < 1.2, `median unknown/known = ${ratio.toFixed(3)} (${median(unknown).toFixed(1)} ms / ${median(known).toFixed(1)} ms)`);
  });
});
