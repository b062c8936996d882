/**
 * ui/data/security-model.ts: the categories MCM records are all explained, the query is what
 * GET /security/events accepts (checked against the real HTTP app), and live messages are matched
 * like the server's filters.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SECURITY_CATEGORIES } from '../../adapters/metrics/labels.ts';
import { SEVERITIES as SERVER_SEVERITIES } from '../../adapters/sqlite/security-events.ts';
import { createApiClient } from '../../ui/data/api-client.ts';
import type { Page } from '../../ui/data/audit-paging.ts';
import {
  categoryMeaning, detailPairs, hasSecurityFilters, KNOWN_CATEGORIES, liveSecurityMatches, NO_SECURITY_FILTERS, securityQuery, SEVERITIES, severityTone,
  type SecurityEvent,
} from '../../ui/data/security-model.ts';
import { createTestApp, ROLE_USERS } from '../helpers/http.ts';

describe('ui/data security-model', () => {
  it('explains every category the server records, and knows its severities', () => {
    for (const c of SECURITY_CATEGORIES) assert.ok(categoryMeaning(c) !== '', `no meaning for ${c}`);
    assert.equal(new Set(KNOWN_CATEGORIES.map((c) => c.category)).size, KNOWN_CATEGORIES.length);
    assert.deepEqual([...SEVERITIES], [...SERVER_SEVERITIES]);
    assert.equal(severityTone('critical'), 'error');
    assert.equal(severityTone('warning'), 'warn');
    assert.equal(severityTone('info'), '');
  });

  it('builds the query and matches live messages', () => {
    assert.deepEqual(securityQuery(NO_SECURITY_FILTERS), { category: undefined, severity: undefined, since: undefined, until: undefined, limit: 50, cursor: undefined });
    const f = { category: 'auth.login_failed', severity: 'warning' as const, since: '', until: '2026-11-25T14:00' };
    assert.deepEqual(securityQuery(f, '17'), { category: 'auth.login_failed', severity: 'warning', since: undefined, until: '2026-11-25T14:00:59.999Z', limit: 50, cursor: '17' });
    assert.equal(hasSecurityFilters(f), true);
    const m = { category: 'auth.login_failed', severity: 'warning', message: 'x', at: '2026-11-25T13:00:00.000Z' };
    assert.equal(liveSecurityMatches(m, f), true);
    assert.equal(liveSecurityMatches({ ...m, severity: 'info' }, f), false);
    assert.equal(liveSecurityMatches({ ...m, category: 'auth.locked_out' }, f), false);
    assert.equal(liveSecurityMatches({ ...m, at: '2026-11-25T14:01:00.000Z' }, f), false);
    assert.equal(liveSecurityMatches(m, NO_SECURITY_FILTERS), true);
  });

  it('shows details as short pairs', () => {
    assert.deepEqual(detailPairs({ reason: 'wrong_password', n: 3, o: { a: 1 } }), ['reason=wrong_password', 'n=3', 'o={"a":1}']);
    assert.equal(detailPairs({ long: 'x'.repeat(300) })[0]?.length, 'long='.length + 120);
    assert.deepEqual(detailPairs(null), []);
  });

  it('against the server: filters and pages failed sign-ins newest first', async (t) => {
    const h = await createTestApp(t);
    // A minute apart: repeats within security_events.aggregate_window_s (60 s) would be one row with a count.
    for (let i = 0; i < 3; i++) {
      await h.login(ROLE_USERS.viewer, `wrong-password-${i}`);
      h.clock.advance(61);
    }
    const token = await h.tokenFor('auditor');
    const api = createApiClient({ fetch, origin: h.baseUrl, token: () => token });
    const f = { ...NO_SECURITY_FILTERS, category: 'auth.login_failed' };
    const first = await api.get<Page<SecurityEvent>>('/security/events', securityQuery(f, undefined, 2));
    assert.equal(first.items.length, 2);
    assert.ok(first.items.every((e) => e.category === 'auth.login_failed' && e.actor === ROLE_USERS.viewer));
    assert.ok((first.items[0] as SecurityEvent).id > (first.items[1] as SecurityEvent).id, 'newest first');
    assert.ok(first.next);
    const second = await api.get<Page<SecurityEvent>>('/security/events', securityQuery(f, first.next ?? undefined, 2));
    assert.equal(second.items.length, 1);
    const info = await api.get<Page<SecurityEvent>>('/security/events', securityQuery({ ...NO_SECURITY_FILTERS, severity: 'info' }));
    assert.ok(info.items.length >= 1 && info.items.every((e) => e.severity === 'info'), 'the auditor sign-in is info');
    const future = await api.get<Page<SecurityEvent>>('/security/events', securityQuery({ ...NO_SECURITY_FILTERS, since: '2999-01-01T00:00' }));
    assert.deepEqual(future.items, []);
  });
});
