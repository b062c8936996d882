/**
 * The unauthenticated surface can't grow the database without bound (issue "second hardening
 * round"): 20,000 requests with a bad token are one security event row with a count (not 20,000
 * fsync'd rows and 20,000 webhooks); retention deletes old rows and keeps the row cap, oldest
 * non-critical first; critical events are never aggregated.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createSecurityEventLog } from '../../adapters/sqlite/security-events.ts';
import { openDatabase } from '../../adapters/sqlite/open-database.ts';
import { createTestApp } from '../helpers/http.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const BAD_TOKENS = 20_000;

describe('bounded security events', () => {
  it(`given ${BAD_TOKENS.toLocaleString('en')} requests with a bad token from one client, then one row counts them all`, async (t) => {
    const h = await createTestApp(t);
    const before = h.deps.securityLog.count();
    let refused = 0;
    for (let batch = 0; batch < BAD_TOKENS / 100; batch++) {
      const answers = await Promise.all(Array.from({ length: 100 }, () => h.request('GET', '/api/v1/mqtt-users', { token: 'not-a-valid-token' })));
      refused += answers.filter((a) => a.status === 401).length;
    }
    assert.equal(refused, BAD_TOKENS);
    const rows = h.deps.securityLog.list({ category: 'auth.token_invalid', limit: 10 }).items;
    assert.equal(rows.length, 1, JSON.stringify(rows));
    assert.equal(rows[0]?.count, BAD_TOKENS);
    assert.ok(h.deps.securityLog.count() - before <= 2, `rows added: ${h.deps.securityLog.count() - before}`);
  });

  it('given the row cap is reached, then the oldest non-critical rows go first and critical rows stay', (t) => {
    const dir = tempDir(t, 'mcm-secev-');
    const db = openDatabase(join(dir, 'mcm.db'));
    t.after(() => db.close());
    let now = Date.parse('2026-12-01T00:00:00.000Z');
    const clock = { now: () => new Date((now += 1000)).toISOString() };
    const log = createSecurityEventLog({ db, clock, retention: { retentionDays: 30, maxRows: 1000, aggregateWindowS: 60 } });
    t.after(() => log.close());
    log.record({ category: 'apply.fail_open', severity: 'critical', message: 'the first, critical' });
    for (let i = 0; i < 1500; i++) log.record({ category: 'broker.unreachable', severity: 'warning', message: `w${i}` });
    log.prune();
    assert.equal(log.count(), 1000);
    assert.equal(log.count({ severity: 'critical' }), 1, 'the critical row survived the cap');
    assert.equal(log.list({ limit: 1 }).items[0]?.message, 'w1499', 'the newest stay');
    // Age: 31 days later everything older than 30 days goes, critical included.
    now += 31 * 86_400_000;
    log.record({ category: 'broker.unreachable', severity: 'warning', message: 'fresh' });
    log.prune();
    assert.equal(log.count(), 1);
    assert.ok(statSync(join(dir, 'mcm.db')).size < 10 * 2 ** 20);
  });

  it('never aggregates critical events or lockouts: each is its own row', (t) => {
    const dir = tempDir(t, 'mcm-secev-');
    const db = openDatabase(join(dir, 'mcm.db'));
    t.after(() => db.close());
    const clock = { now: () => '2026-12-01T00:00:00.000Z' };
    const log = createSecurityEventLog({ db, clock });
    t.after(() => log.close());
    for (let i = 0; i < 3; i++) log.record({ category: 'apply.fail_open', severity: 'critical', message: 'open', ip: '10.0.0.1' });
    for (let i = 0; i < 3; i++) log.record({ category: 'auth.locked_out', severity: 'warning', message: 'locked', ip: '10.0.0.1', actor: 'admin' });
    for (let i = 0; i < 3; i++) assert.equal(log.record({ category: 'auth.login_failed', severity: 'warning', message: 'bad', ip: '10.0.0.1', actor: 'admin' }).repeated ?? false, i > 0);
    assert.equal(log.count({ category: 'apply.fail_open' }), 3);
    assert.equal(log.count({ category: 'auth.locked_out' }), 3);
    assert.equal(log.count({ category: 'auth.login_failed' }), 1);
    assert.equal(log.list({ category: 'auth.login_failed' }).items[0]?.count, 3);
  });
});
