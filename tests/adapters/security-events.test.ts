import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { describe, it, type TestContext } from 'node:test';
import { openDatabase } from '../../adapters/sqlite/open-database.ts';
import { createSecurityEventLog, type SecurityEvent } from '../../adapters/sqlite/security-events.ts';
import { isDomainError } from '../../core/errors.ts';
import type { Clock } from '../../core/ports.ts';
import { tempDir } from '../helpers/temp-dir.ts';

/** A clock that reads a settable ISO time. */
const fakeClock = (start = '2026-03-01T00:00:00.000Z'): Clock & { set(at: string): void } => {
  let now = start;
  return { now: () => now, set: (at) => { now = at; } };
};

const setup = (t: TestContext): { db: DatabaseSync; path: string; clock: ReturnType<typeof fakeClock>; log: ReturnType<typeof createSecurityEventLog> } => {
  const path = join(tempDir(t), 'mcm.db');
  const db = openDatabase(path);
  t.after(() => { if (db.isOpen) db.close(); });
  const clock = fakeClock();
  return { db, path, clock, log: createSecurityEventLog({ db, clock }) };
};

const isValidation = (e: unknown): boolean => isDomainError(e) && e.code === 'MCM_ERR_VALIDATION';

describe('security event log [DESIGN §1, §9]', () => {
  it('records an event with the clock\'s time and returns the stored row', (t) => {
    const { log } = setup(t);
    const row = log.record({ category: 'auth.login_failed', severity: 'warning', message: 'bad password', details: { attempts: 3 }, actor: 'alice', ip: '10.0.0.7' });
    assert.deepEqual(row, {
      id: 1, at: '2026-03-01T00:00:00.000Z', category: 'auth.login_failed', severity: 'warning',
      message: 'bad password', details: { attempts: 3 }, actor: 'alice', ip: '10.0.0.7', count: 1, last_at: null,
    });
    const bare = log.record({ category: 'drift', severity: 'info', message: 'acl_file edited' });
    assert.deepEqual([bare.details, bare.actor, bare.ip], [{}, null, null]);
    assert.equal(log.count(), 2);
  });

  it('refuses a bad severity or empty category with MCM_ERR_VALIDATION and stores nothing', (t) => {
    const { db, log } = setup(t);
    assert.throws(() => log.record({ category: 'x', severity: 'fatal' as 'info', message: 'm' }), isValidation);
    assert.throws(() => log.record({ category: ' ', severity: 'info', message: 'm' }), isValidation);
    assert.equal(log.count(), 0);
    // The table enforces it too, whoever writes.
    assert.throws(() => db.exec("INSERT INTO security_events (at, category, severity, message) VALUES ('t', 'c', 'fatal', 'm')"), /CHECK/);
  });

  it('never stores secrets passed in details: password, token and secret keys are redacted [DESIGN §9]', (t) => {
    const { db, log } = setup(t);
    const row = log.record({
      category: 'auth.login_failed', severity: 'warning', message: 'm',
      details: { username: 'bob', password: 'hunter2', nested: [{ passwordHash: '$7$1$x$y', apiToken: 't0k' }], mfa: { secret: 's' } },
    });
    assert.deepEqual(row.details, {
      username: 'bob', password: '[Redacted]', nested: [{ passwordHash: '[Redacted]', apiToken: '[Redacted]' }], mfa: { secret: '[Redacted]' },
    });
    const stored = (db.prepare('SELECT details FROM security_events').get() as { details: string }).details;
    assert.doesNotMatch(stored, /hunter2|t0k|\$7\$/);
  });

  it('lists newest first and pages by cursor without gaps or repeats', (t) => {
    const { log, clock } = setup(t);
    for (let i = 0; i < 7; i++) {
      clock.set(`2026-03-01T00:00:0${i}.000Z`);
      // Not an aggregated category: repeats of a failed sign-in within a minute would be one row.
      log.record({ category: 'broker.unreachable', severity: 'warning', message: `#${i}` });
    }
    const seen: SecurityEvent[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = log.list({ limit: 3, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items);
      cursor = page.next;
      pages += 1;
    } while (cursor !== undefined);
    assert.equal(pages, 3);
    assert.deepEqual(seen.map((e) => e.message), ['#6', '#5', '#4', '#3', '#2', '#1', '#0']);
    assert.deepEqual(log.list({ limit: 7 }), { items: seen }, 'no next when the page holds the rest');
  });

  it('filters by category, category prefix, severity and time range (since inclusive, until exclusive)', (t) => {
    const { log, clock } = setup(t);
    const add = (at: string, category: string, severity: 'info' | 'warning' | 'critical'): void => {
      clock.set(at);
      log.record({ category, severity, message: `${category}@${at}` });
    };
    add('2026-03-01T00:00:00.000Z', 'auth.login_failed', 'warning');
    add('2026-03-02T00:00:00.000Z', 'auth.mfa_failed', 'warning');
    add('2026-03-03T00:00:00.000Z', 'apply.failed', 'critical');
    add('2026-03-04T00:00:00.000Z', 'authx', 'info');
    add('2026-03-05T00:00:00.000Z', 'drift', 'critical');
    const categories = (q: Parameters<typeof log.list>[0]): string[] => log.list(q).items.map((e) => e.category);
    assert.deepEqual(categories({ category: 'apply.failed' }), ['apply.failed']);
    assert.deepEqual(categories({ categoryPrefix: 'auth.' }), ['auth.mfa_failed', 'auth.login_failed']);
    // '_' is a literal, not a LIKE wildcard
    assert.deepEqual(categories({ categoryPrefix: 'auth.login_' }), ['auth.login_failed']);
    assert.deepEqual(categories({ severity: 'critical' }), ['drift', 'apply.failed']);
    assert.deepEqual(categories({ since: '2026-03-02T00:00:00.000Z', until: '2026-03-04T00:00:00.000Z' }), ['apply.failed', 'auth.mfa_failed']);
    assert.deepEqual(categories({ severity: 'warning', since: '2026-03-02T00:00:00.000Z' }), ['auth.mfa_failed']);
    assert.equal(log.count({ severity: 'critical' }), 2);
    assert.equal(log.count({ categoryPrefix: 'auth' }), 3);
  });

  it('refuses a bad limit or cursor with MCM_ERR_VALIDATION', (t) => {
    const { log } = setup(t);
    for (const limit of [0, -1, 1.5, 1001]) assert.throws(() => log.list({ limit }), isValidation, `limit ${limit}`);
    for (const cursor of ['abc', '0', '-5', '1e3', 0]) assert.throws(() => log.list({ cursor }), isValidation, `cursor ${cursor}`);
    assert.throws(() => log.list({ severity: 'loud' as 'info' }), isValidation);
  });

  it('survives a restart', (t) => {
    const { db, path, clock } = setup(t);
    createSecurityEventLog({ db, clock }).record({ category: 'apply.failed', severity: 'critical', message: 'probe failed' });
    db.close();
    const again = openDatabase(path);
    t.after(() => again.close());
    const items = createSecurityEventLog({ db: again, clock }).list().items;
    assert.deepEqual(items.map((e) => [e.id, e.message]), [[1, 'probe failed']]);
  });
});
