/**
 * `mcm admins unlock NAME` / `--address A` (DESIGN §9), run as the real bin/mcm: on a data dir
 * with no server (the login_failures table directly) and through a running server's API
 * (DELETE /lockouts with the CLI token). Each unlock is a security event naming the OS user.
 */
import assert from 'node:assert/strict';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { acquireServerLock } from '../../adapters/cli/server-lock.ts';
import { issueCliToken } from '../../adapters/http/auth/cli-token.ts';
import { createLoginFailureTable } from '../../adapters/sqlite/login-failures.ts';
import { openDatabase } from '../../adapters/sqlite/open-database.ts';
import { createSecurityEventLog } from '../../adapters/sqlite/security-events.ts';
import { cliWorld, runMcm } from '../helpers/cli.ts';
import { createTestApp, ROLE_USERS, TEST_PASSWORD } from '../helpers/http.ts';

const OS_USER = userInfo().username;

/** Failures as the server records them: `n` per (ip, username). */
const seedFailures = (dataDir: string, rows: [ip: string, addressKey: string, username: string, n: number][]): void => {
  const db = openDatabase(join(dataDir, 'mcm.db'));
  try {
    const table = createLoginFailureTable({ db });
    for (const [ip, addressKey, username, n] of rows) {
      for (let i = 0; i < n; i++) table.record({ ip, addressKey, username, atMs: Date.now() });
    }
  } finally {
    db.close();
  }
};

const inspect = (dataDir: string) => {
  const db = openDatabase(join(dataDir, 'mcm.db'));
  try {
    const left = createLoginFailureTable({ db }).since(0).map((f) => `${f.addressKey} ${f.username}`);
    const events = createSecurityEventLog({ db, clock: { now: () => new Date().toISOString() } }).list({ category: 'auth.unlocked' }).items;
    return { left, events };
  } finally {
    db.close();
  }
};

describe('mcm admins unlock (on the data dir)', { concurrency: 4 }, () => {
  it('NAME forgets that username\'s failures from every address; a security event names the OS user', async (t) => {
    const w = cliWorld(t);
    seedFailures(w.dataDir, [['198.51.100.7', '198.51.100.7', 'admin', 6], ['203.0.113.1', '203.0.113.1', 'admin', 2], ['203.0.113.1', '203.0.113.1', 'bob', 1]]);
    const r = await w.run('admins', 'unlock', 'admin');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'lifted the sign-in locks for "admin" (8 failed attempts forgotten)\n');
    const { left, events } = inspect(w.dataDir);
    assert.deepEqual(left, ['203.0.113.1 bob']);
    assert.equal(events.length, 1);
    assert.equal(events[0]?.actor, `cli:${OS_USER}`);
    assert.match(events[0]?.message ?? '', new RegExp(`^sign-in lock lifted for "admin" by cli:${OS_USER} \\(8 failed attempts forgotten\\)$`));
  });

  it('--address A lifts the lock of an address (any IPv6 address of the /64 names it); NAME --address A only that pair', async (t) => {
    const w = cliWorld(t);
    seedFailures(w.dataDir, [['2001:db8:1:2::9', '2001:db8:1:2::/64', 'x', 30], ['198.51.100.7', '198.51.100.7', 'admin', 6], ['198.51.100.8', '198.51.100.8', 'admin', 6]]);
    const r = await w.run('admins', 'unlock', '--address', '2001:db8:1:2:ffff::1');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'lifted the sign-in locks from 2001:db8:1:2::/64 (30 failed attempts forgotten)\n');
    const pair = await w.run('admins', 'unlock', 'admin', '--address', '198.51.100.7');
    assert.equal(pair.code, 0, pair.stderr);
    assert.deepEqual(inspect(w.dataDir).left, Array(6).fill('198.51.100.8 admin'));
  });

  it('bad arguments exit 64 with the usage; no database exits 1', async (t) => {
    const w = cliWorld(t);
    const none = await w.run('admins', 'unlock');
    assert.equal(none.code, 64);
    assert.match(none.stderr, /name what to unlock/);
    assert.match(none.stderr, /Usage: mcm admins unlock NAME/);
    const bad = await w.run('admins', 'unlock', '--address', '300.1.2.3');
    assert.equal(bad.code, 64);
    assert.match(bad.stderr, /--address must be an IPv4 or IPv6 address/);
    assert.equal((await w.run('admins', 'unlock', '--help')).code, 0);
    const missing = await runMcm(['admins', 'unlock', 'admin'], { cwd: w.cwd, env: { MCM_DATA_DIR: join(w.cwd, 'nowhere') } });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /MCM_ERR_NO_EVENT_LOG/);
  });
});

describe('mcm admins unlock (through the running server)', () => {
  const runningServer = async (t: TestContext) => {
    const h = await createTestApp(t);
    const lock = acquireServerLock(h.dataDir, { pid: process.pid, url: h.baseUrl });
    t.after(() => lock.release());
    issueCliToken(h.deps.secrets);
    return { ...h, run: (...args: string[]) => runMcm(args, { cwd: h.dataDir, env: { MCM_DATA_DIR: h.dataDir } }) };
  };

  it('lifts a lock over DELETE /lockouts: the admin signs in again, the event names cli:<OS user>', async (t) => {
    const h = await runningServer(t);
    for (let i = 1; i <= 6; i++) await h.login(ROLE_USERS.admin, `wrong-${i}`);
    assert.equal((await h.login(ROLE_USERS.admin, TEST_PASSWORD)).status, 429);
    const r = await h.run('admins', 'unlock', ROLE_USERS.admin);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `lifted the sign-in locks for "${ROLE_USERS.admin}"\n`);
    assert.equal((await h.login(ROLE_USERS.admin, TEST_PASSWORD)).status, 200);
    const [event] = h.deps.securityLog.list({ category: 'auth.unlocked' }).items;
    assert.equal(event?.actor, `cli:${OS_USER}`);
    assert.equal(event?.details['username'], ROLE_USERS.admin);
  });
});
