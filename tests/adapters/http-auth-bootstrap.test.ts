import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { bootstrapAdmin } from '../../adapters/http/auth/bootstrap.ts';
import { createTestApp } from '../helpers/http.ts';

const capture = () => {
  const lines: string[] = [];
  return { lines, logger: pino({ level: 'info' }, { write: (l: string) => { lines.push(l); } }) };
};

describe('bootstrapAdmin: the first admin [DESIGN §8-9]', () => {
  it('with no admin and no environment: user "admin" with a random password, logged once and written 0600', async (t) => {
    const { lines, logger } = capture();
    const h = await createTestApp(t, { users: false, deps: { logger } });
    const result = await bootstrapAdmin(h.deps);
    assert.ok(result.created && result.source === 'generated');
    assert.equal(result.username, 'admin');
    const file = join(h.dataDir, 'initial-admin-password');
    assert.equal(result.passwordFile, file);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const password = readFileSync(file, 'utf8').trim();
    assert.ok(password.length >= 20);
    assert.equal(lines.filter((l) => l.includes(password)).length, 1, 'printed exactly once');

    const [event] = h.store.read();
    assert.equal(event?.type, 'AdminUserCreated');
    assert.deepEqual(event?.actor, { kind: 'system', id: 'bootstrap' });
    assert.equal(event?.type === 'AdminUserCreated' && event.data.role, 'admin');
    assert.match(JSON.stringify(event?.data), /\$2b\$04\$/, 'bcrypt at the configured cost');
    assert.ok(!JSON.stringify(h.store.read()).includes(password));
    assert.equal((await h.login('admin', password)).status, 200);

    const again = await bootstrapAdmin(h.deps);
    assert.deepEqual(again, { created: false });
    assert.equal(h.eventCount(), 1);
    assert.equal(lines.filter((l) => l.includes(password)).length, 1, 'never printed again');
  });

  it('takes MCM_ADMIN_USERNAME / MCM_ADMIN_PASSWORD (config.bootstrap_admin) when given, and never logs that password', async (t) => {
    const { lines, logger } = capture();
    const h = await createTestApp(t, {
      users: false,
      deps: { logger },
      config: (c) => { c.bootstrap_admin = { username: 'root', password: 'env-given-password' }; },
    });
    const result = await bootstrapAdmin(h.deps);
    assert.deepEqual(result, { created: true, username: 'root', source: 'environment' });
    assert.equal(existsSync(join(h.dataDir, 'initial-admin-password')), false);
    assert.doesNotMatch(lines.join(''), /env-given-password/);
    assert.equal((await h.login('root', 'env-given-password')).status, 200);
  });

  it('refuses an environment password under 12 characters, creating nothing', async (t) => {
    const h = await createTestApp(t, { users: false, config: (c) => { c.bootstrap_admin = { username: null, password: 'short' }; } });
    await assert.rejects(bootstrapAdmin(h.deps), /MCM_ADMIN_PASSWORD: .*at least 12 characters/);
    assert.equal(h.eventCount(), 0);
  });

  it('does nothing when an admin user exists, whatever the environment says', async (t) => {
    const h = await createTestApp(t, { config: (c) => { c.bootstrap_admin = { username: 'intruder', password: 'intruder-password' }; } });
    const before = h.eventCount();
    assert.deepEqual(await bootstrapAdmin(h.deps), { created: false });
    assert.equal(h.eventCount(), before);
    assert.equal(existsSync(join(h.dataDir, 'initial-admin-password')), false);
  });
});
