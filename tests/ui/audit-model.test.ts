/**
 * ui/data/audit-model.ts and audit-paging.ts: the filters as the server reads them, live events
 * matched like the server's filters, the newest-first walk after a gap, the chain banner, and
 * before/after from two server folds — checked against the real HTTP app (createTestApp).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EventType } from '../../core/events.ts';
import {
  actorLabel, adoptionWording, auditQuery, chainStatus, createStateCache, entityInState, entityOf, EVENT_TYPES, fieldDiff, hasFilters, inStateView, isGenerationLine,
  lineDiff, liveEventMatches, NO_AUDIT_FILTERS, seqProblem, userRules, type AuditRow, type StateView,
} from '../../ui/data/audit-model.ts';
import { appendOlder, fetchNewer, inTimeRange, prependNewer, timeRangeProblem, utcInputToIso, type Page } from '../../ui/data/audit-paging.ts';
import { createApiClient } from '../../ui/data/api-client.ts';
import { createTestApp } from '../helpers/http.ts';

/** Every event type of core/events.ts: the compiler refuses a missing or unknown key here. */
const ALL_TYPES: Record<EventType, true> = {
  MqttUserCreated: true, MqttUserPasswordChanged: true, MqttUserDescribed: true, MqttUserDisabled: true, MqttUserEnabled: true, MqttUserDeleted: true,
  RoleDefined: true, RoleDescribed: true, RoleDeleted: true, RoleGranted: true, RoleRevoked: true,
  AclRuleAdded: true, AclRuleChanged: true, AclRuleRemoved: true,
  SchemaAttached: true, SchemaChanged: true, SchemaEnabled: true, SchemaDisabled: true, SchemaDetached: true,
  AnonymousAccessChanged: true, HashIterationsChanged: true,
  AdminUserCreated: true, AdminUserPasswordChanged: true, AdminUserRoleChanged: true, AdminUserDisabled: true, AdminUserEnabled: true, AdminUserDeleted: true,
  MfaEnrolmentStarted: true, MfaEnabled: true, MfaDisabled: true, MfaRecoveryCodeUsed: true,
  SsoAdminUserCreated: true, AdminUserLinked: true, AdminUserSignedOut: true,
  BrokerMessagePublished: true, RetainedMessageCleared: true,
  WebhookCreated: true, WebhookChanged: true, WebhookSecretRotated: true, WebhookDeleted: true,
  BrokerFilesAdopted: true,
  BrokerConfigChanged: true, CertificateAdded: true, CertificateRemoved: true,
  ApiTokenCreated: true, ApiTokenRevoked: true,
};

describe('ui/data audit-paging', () => {
  it('reads datetime-local values as UTC; "until" covers the whole minute or second typed', () => {
    assert.equal(utcInputToIso(''), undefined);
    assert.equal(utcInputToIso('2026-11-25T14:03'), '2026-11-25T14:03:00.000Z');
    assert.equal(utcInputToIso('2026-11-25T14:03', true), '2026-11-25T14:03:59.999Z');
    assert.equal(utcInputToIso('2026-11-25T14:03:07', true), '2026-11-25T14:03:07.999Z');
    assert.equal(utcInputToIso('2026-11-25T14:03:07.5', true), '2026-11-25T14:03:07.500Z');
    assert.throws(() => utcInputToIso('yesterday'), /not a date/);
    assert.equal(timeRangeProblem('2026-11-25T15:00', '2026-11-25T14:00'), '"From" is after "until"');
    assert.equal(timeRangeProblem('2026-11-25T14:00', '2026-11-25T14:00'), null);
    assert.match(timeRangeProblem('nope', '') ?? '', /not a date/);
    assert.equal(inTimeRange('2026-11-25T14:03:30.000Z', '2026-11-25T14:03', '2026-11-25T14:03'), true);
    assert.equal(inTimeRange('2026-11-25T14:04:00.000Z', '', '2026-11-25T14:03'), false);
    assert.equal(inTimeRange(undefined, '2026-11-25T14:03', ''), true, 'no time: let the server decide');
  });

  it('walks newest-first pages until a known row, and says when it stopped short', async () => {
    const all = Array.from({ length: 25 }, (_, i) => ({ seq: 25 - i }));
    const pages: (string | undefined)[] = [];
    const fetchPage = async (cursor: string | undefined): Promise<Page<{ seq: number }>> => {
      pages.push(cursor);
      const start = cursor === undefined ? 0 : Number(cursor);
      return { items: all.slice(start, start + 10), next: start + 10 < all.length ? String(start + 10) : null };
    };
    const a = await fetchNewer(fetchPage, (r) => r.seq <= 13);
    assert.deepEqual(a.items.map((r) => r.seq), [25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14]);
    assert.equal(a.complete, true);
    assert.deepEqual(pages, [undefined, '10']);
    const b = await fetchNewer(fetchPage, (r) => r.seq <= 1, 2);
    assert.equal(b.items.length, 20);
    assert.equal(b.complete, false, 'a hole: more new rows than pages allowed');
    const c = await fetchNewer(fetchPage, () => false);
    assert.equal(c.items.length, 25);
    assert.equal(c.complete, true);
  });

  it('prepends without duplicates and keeps newest first; appends older pages', () => {
    const key = (r: { seq: number }) => r.seq;
    assert.deepEqual(prependNewer([{ seq: 5 }, { seq: 4 }], [{ seq: 7 }, { seq: 6 }, { seq: 5 }], key).map(key), [7, 6, 5, 4]);
    assert.deepEqual(appendOlder([{ seq: 5 }, { seq: 4 }], [{ seq: 4 }, { seq: 3 }], key).map(key), [5, 4, 3]);
  });
});

describe('ui/data audit-model', () => {
  it('offers exactly the event types the log records', () => {
    assert.deepEqual([...EVENT_TYPES].sort(), Object.keys(ALL_TYPES).sort());
    assert.equal(new Set(EVENT_TYPES).size, EVENT_TYPES.length);
  });

  it('builds the /audit-events query and matches live events like the server filters', () => {
    assert.deepEqual(auditQuery(NO_AUDIT_FILTERS), { actor: undefined, type: undefined, since: undefined, until: undefined, limit: 50, cursor: undefined });
    const f = { actor: ' ann ', type: 'MqttUserCreated', since: '2026-11-25T14:00', until: '' };
    assert.deepEqual(auditQuery(f, 'abc', 10), { actor: 'ann', type: 'MqttUserCreated', since: '2026-11-25T14:00:00.000Z', until: undefined, limit: 10, cursor: 'abc' });
    assert.equal(hasFilters(NO_AUDIT_FILTERS), false);
    assert.equal(hasFilters(f), true);
    const m = { seq: 9, stream: 'mqtt-user:x', event_type: 'MqttUserCreated', actor: { kind: 'admin', id: 'ann' }, at: '2026-11-25T14:10:00.000Z' };
    assert.equal(liveEventMatches(m, f), true);
    assert.equal(liveEventMatches({ ...m, actor: { kind: 'admin', id: 'bob' } }, f), false);
    assert.equal(liveEventMatches({ ...m, event_type: 'MqttUserDeleted' }, f), false);
    assert.equal(liveEventMatches({ ...m, at: '2026-11-25T13:59:59.999Z' }, f), false);
    assert.equal(liveEventMatches({ seq: 10 }, f), true, 'a viewer-shaped message (seq only) cannot be excluded');
  });

  it('says verified or names the first broken seq', () => {
    assert.equal(chainStatus(null).tone, 'unknown');
    const ok = chainStatus({ ok: true, count: 12, head: 12, head_hash: 'ab'.repeat(32) });
    assert.equal(ok.tone, 'ok');
    assert.equal(ok.title, 'Hash chain verified: 12 events, seq 1 to 12');
    assert.equal(chainStatus({ ok: true, count: 0, head: 0 }).title, 'Hash chain verified: the log is empty');
    const bad = chainStatus({ ok: false, first_bad_seq: 7, reason: 'broken link', detail: 'seq 7: prev_hash is not the hash of seq 6' });
    assert.equal(bad.tone, 'error');
    assert.equal(bad.title, 'Hash chain BROKEN at seq 7');
    assert.equal(bad.detail, 'broken link: seq 7: prev_hash is not the hash of seq 6');
  });

  it('names entities by stream and knows which ones the state view holds', () => {
    assert.deepEqual(entityOf('mqtt-user:a:b'), { kind: 'mqtt-user', id: 'a:b', stream: 'mqtt-user:a:b' });
    assert.deepEqual(entityOf('settings'), { kind: 'settings', id: '', stream: 'settings' });
    assert.equal(entityOf('acl:17').kind, 'acl');
    assert.equal(entityOf('weird').kind, 'other');
    assert.deepEqual(entityOf('broker-files'), { kind: 'broker-files', id: '', stream: 'broker-files' });
    assert.equal(inStateView(entityOf('broker-files')), false, 'an adoption record changes no entity of the state view');
    const adopted = adoptionWording({ files: [{ file: 'password_file', sha256: 'ab'.repeat(32), path: '/etc/mosquitto/passwd' }, { file: 'acl_file', sha256: 'cd', path: null }], how: 'import' });
    assert.equal(adopted?.how, 'import');
    assert.deepEqual(adopted?.files, ['password_file /etc/mosquitto/passwd (sha256 abababababab…)', 'acl_file (contents given in the request) (sha256 cd)']);
    assert.match(adoptionWording({ files: [], how: 'takeover' })?.text ?? '', /force-takeover/);
    assert.equal(adoptionWording({ how: 'import' }), null);
    assert.equal(inStateView(entityOf('role:r')), true);
    assert.equal(inStateView(entityOf('admin-user:ann')), false);
    assert.equal(inStateView(entityOf('webhook:1')), false);
    assert.equal(actorLabel({ kind: 'admin', id: 'ann' }), 'ann');
    assert.equal(actorLabel({ kind: 'cli', id: 'root' }), 'root (cli)');
  });

  it('diffs fields and rendered file lines', () => {
    const d = fieldDiff({ username: 'a', disabled: false, roles: ['x'], updated_at: 't1' }, { username: 'a', disabled: true, roles: ['x'], updated_at: 't2' });
    assert.deepEqual(d, [
      { key: 'username', before: 'a', after: 'a', changed: false },
      { key: 'disabled', before: 'false', after: 'true', changed: true },
      { key: 'roles', before: '["x"]', after: '["x"]', changed: false },
    ]);
    assert.deepEqual(fieldDiff(null, { id: 1, description: '' }), [{ key: 'id', before: '', after: '1', changed: true }, { key: 'description', before: '', after: '', changed: true }]);
    assert.deepEqual(lineDiff('a\nb\nb\n\nc\n', 'a\nb\nc\nd\n'), { added: ['d'], removed: ['b'] });
    assert.equal(seqProblem('12', 20), null);
    assert.match(seqProblem('21', 20) ?? '', /ends at seq 20/);
    assert.match(seqProblem('-1', 20) ?? '', /whole number/);
  });

  it('caches state views by seq and forgets failures', async () => {
    let calls = 0;
    const cache = createStateCache(async (seq) => {
      calls += 1;
      if (seq < 0) throw new Error('bad');
      return { seq } as StateView;
    }, 2);
    await cache.get(1);
    await cache.get(1);
    assert.equal(calls, 1);
    await cache.get(2);
    await cache.get(3);
    assert.equal(cache.size(), 2);
    await cache.get(1);
    assert.equal(calls, 4, 'the oldest entry was evicted');
    await assert.rejects(cache.get(-1));
    await assert.rejects(cache.get(-1));
    assert.equal(calls, 6, 'a failed fetch is not cached');
  });

  it('against the server: filtered audit queries, and each event\'s own before/after from two folds', async (t) => {
    const h = await createTestApp(t);
    let token: string | null = await h.tokenFor('operator');
    const api = createApiClient({ fetch, origin: h.baseUrl, token: () => token });
    await api.post('/mqtt-users', { username: 'sensor-1', password: 'sensor-password-1' });
    const rule = await api.post<{ id: number }>('/acls', { principal: 'user:sensor-1', topic: 'plant/#', access: 'read' });
    await api.del('/mqtt-users/sensor-1');
    token = await h.tokenFor('auditor');

    const deleted = (await api.get<Page<AuditRow>>('/audit-events', auditQuery({ ...NO_AUDIT_FILTERS, type: 'MqttUserDeleted' }))).items;
    assert.equal(deleted.length, 1);
    const del = deleted[0] as AuditRow;
    assert.equal(del.resource, 'mqtt-user:sensor-1');
    const byActor = await api.get<Page<AuditRow>>('/audit-events', auditQuery({ ...NO_AUDIT_FILTERS, actor: 'test-operator' }));
    assert.ok(byActor.items.length >= 3 && byActor.items.every((r) => r.actor.id === 'test-operator'));

    const states = createStateCache((seq) => api.get<StateView>('/state', { at: seq }));
    const [before, after] = await Promise.all([states.get(del.seq - 1), states.get(del.seq)]);
    const ref = entityOf(del.resource);
    assert.equal(entityInState(before, ref)?.['username'], 'sensor-1');
    assert.equal(entityInState(after, ref), null, 'deleted at this seq');
    assert.deepEqual(lineDiff(before.password_file, after.password_file), { added: [], removed: ['sensor-1:[redacted]'] });

    // The same DELETE recorded the removal of the user's rule just before, on the rule's own
    // stream: SEQ-1 vs SEQ isolates each event's own effect, on the state and on the ACL file.
    const removed = (await api.get<Page<AuditRow>>('/audit-events', auditQuery({ ...NO_AUDIT_FILTERS, type: 'AclRuleRemoved' }))).items[0] as AuditRow;
    assert.equal(removed.seq, del.seq - 1);
    assert.equal(removed.actor.request_id, del.actor.request_id, 'one request');
    const [r0, r1] = await Promise.all([states.get(removed.seq - 1), states.get(removed.seq)]);
    assert.deepEqual(userRules(r0, 'sensor-1'), [`#${rule.id} read plant/#`]);
    assert.deepEqual(userRules(r1, 'sensor-1'), []);
    assert.equal(entityInState(r0, entityOf(`acl:${rule.id}`))?.['topic'], 'plant/#');
    assert.equal(entityInState(r1, entityOf(`acl:${rule.id}`)), null);
    assert.deepEqual(lineDiff(r0.acl_file, r1.acl_file, isGenerationLine), { added: [], removed: ['user sensor-1', 'topic read plant/#'] });
    assert.ok(lineDiff(r0.acl_file, r1.acl_file).added.includes('# generation ' + r1.generation), 'without the filter the canary lines show');
  });
});
