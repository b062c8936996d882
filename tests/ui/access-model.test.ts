/**
 * ui/data/access-model.ts: principals, rule rows checked as the server checks them (the role name
 * rule agrees with core/names.ts), labels of explain sources as the core names them, list filters,
 * and the pager against the real HTTP app's cursors.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { roleNameProblem as coreRoleNameProblem } from '../../core/names.ts';
import { createApiClient } from '../../ui/data/api-client.ts';
import {
  buildPrincipal, concreteTopicProblem, explainSummary, fetchAll, literalSubstitutionHint, matchesQuery, parseRoleList, principalLabel, roleNameProblem,
  ruleRowProblems, ruleTopicProblem, rowsFromRules, rowsProblem, rowsValid, sourceLabel, splitPrincipal, type AclRule, type ExplainResult, type Page, type WhoResult,
} from '../../ui/data/access-model.ts';
import { createTestApp } from '../helpers/http.ts';

describe('ui/data access-model', () => {
  it('role names: the same verdict as the server on every case', () => {
    const cases = ['sensors', 'line-1', 'a.b_c', '', '.', '..', 'has space', 'role:x', 'ünïcode', 'a/b', 'x'.repeat(128), 'x'.repeat(129), '-', '#'];
    for (const c of cases) assert.equal(roleNameProblem(c) === null, coreRoleNameProblem(c) === null, JSON.stringify(c));
  });

  it('builds and splits principals', () => {
    assert.deepEqual(buildPrincipal('user', 'alice'), { principal: 'user:alice' });
    assert.deepEqual(buildPrincipal('role', 'sensors'), { principal: 'role:sensors' });
    assert.deepEqual(buildPrincipal('anonymous', 'ignored'), { principal: 'anonymous' });
    assert.deepEqual(buildPrincipal('pattern', ''), { principal: 'pattern' });
    assert.ok('problem' in buildPrincipal('user', ''));
    assert.ok('problem' in buildPrincipal('role', 'bad name'));
    assert.deepEqual(splitPrincipal('user:a:b'), { kind: 'user', name: 'a:b' });
    assert.deepEqual(splitPrincipal('pattern'), { kind: 'pattern', name: '' });
    assert.equal(splitPrincipal('group:x').kind, 'other');
    assert.equal(principalLabel('role:sensors'), 'role sensors');
    assert.equal(principalLabel('anonymous'), 'anonymous clients');
  });

  it('labels every source kind the core produces', () => {
    assert.equal(sourceLabel('direct'), 'direct rule of the user');
    assert.equal(sourceLabel('role:sensors'), 'via role sensors');
    assert.equal(sourceLabel('pattern'), 'pattern rule');
    assert.equal(sourceLabel('anonymous'), 'anonymous rule');
    assert.equal(sourceLabel('service-account'), "MCM's service account");
  });

  it('checks topic filters and topic names as the broker does', () => {
    assert.equal(ruleTopicProblem('plant/+/temp'), null);
    assert.equal(ruleTopicProblem('devices/%u/#'), null);
    assert.match(ruleTopicProblem('a/#/b') ?? '', /#/);
    assert.match(ruleTopicProblem('a+/b') ?? '', /\+/);
    assert.ok(ruleTopicProblem(''));
    assert.equal(concreteTopicProblem('plant/line1/speed'), null);
    assert.ok(concreteTopicProblem('a/#/b'), 'a topic name has no wildcards');
    assert.ok(concreteTopicProblem('plant/+'));
  });

  it('warns that %u and %c are literal outside pattern rules', () => {
    assert.equal(literalSubstitutionHint('pattern', 'devices/%u/#'), null);
    assert.match(literalSubstitutionHint('role', 'devices/%u/#') ?? '', /only in pattern rules/);
    assert.match(literalSubstitutionHint('user', 'x/%c') ?? '', /literal/);
    assert.equal(literalSubstitutionHint('user', 'x/100%/y'), null);
  });

  it('rule rows: one problem per row, duplicates and bad access named', () => {
    const problems = ruleRowProblems([
      { topic: 'a/#', access: 'read' },
      { topic: 'a/#/b', access: 'read' },
      { topic: 'a/#', access: 'read' },
      { topic: 'c', access: 'all' },
      { topic: 'a/#', access: 'write' },
    ]);
    assert.equal(problems[0], null);
    assert.ok(problems[1]);
    assert.equal(problems[2], 'the same rule appears twice');
    assert.match(problems[3] ?? '', /access must be one of/);
    assert.equal(problems[4], null);
    assert.equal(rowsValid([{ topic: 'x', access: 'deny' }]), true);
    assert.equal(rowsValid([{ topic: '', access: 'read' }]), false);
    assert.deepEqual(rowsFromRules([{ id: 3, topic: 't', access: 'read' } as never]), [{ topic: 't', access: 'read' }]);
  });

  it('filters and parses lists', () => {
    assert.equal(matchesQuery('', 'x'), true);
    assert.equal(matchesQuery('ALI', 'alice'), true);
    assert.equal(matchesQuery('sens', 'bob', ['sensors']), true);
    assert.equal(matchesQuery('zzz', 'bob', ['sensors']), false);
    assert.deepEqual(parseRoleList(' a, b  a,,c '), ['a', 'b', 'c']);
  });

  it('summarises an explain answer', () => {
    const r: ExplainResult = { allowed: true, reason: 'granted by rule 3', matched: [{ id: 3, principal: 'user:a', topic: 'x/#', access: 'write', source: 'direct' }] };
    assert.equal(explainSummary(r), 'allowed by rule 3: granted by rule 3');
    assert.equal(explainSummary({ allowed: false, reason: 'no rule grants it', matched: [] }), 'denied: no rule grants it');
  });

  it('fetchAll follows the real cursors; max truncates; explain and who answer in the shapes the screens read', async (t) => {
    const h = await createTestApp(t);
    const token = await h.tokenFor('operator');
    const api = createApiClient({ fetch, origin: h.baseUrl, token: () => token });
    await api.post('/mqtt-users', { username: 'line-7', password: 'press-Pa55word' });
    for (let i = 0; i < 5; i++) await api.post('/acls', { principal: 'user:line-7', topic: `plant/line${i}/#`, access: 'write' });
    const get = <T>(p: string, q: Record<string, string | number>) => api.get<Page<T>>(p, q);
    const all = await fetchAll<AclRule>(get, '/acls', { pageSize: 2 });
    assert.deepEqual(all.items.map((r) => r.topic), [0, 1, 2, 3, 4].map((i) => `plant/line${i}/#`));
    assert.equal(all.truncated, false);
    const some = await fetchAll<AclRule>(get, '/acls', { pageSize: 2, max: 3 });
    assert.equal(some.items.length, 3);
    assert.equal(some.truncated, true);

    const yes = await api.post<ExplainResult>('/acls/explain', { username: 'line-7', topic: 'plant/line3/speed', action: 'write' });
    assert.equal(yes.allowed, true);
    assert.equal(yes.matched[0]?.topic, 'plant/line3/#');
    assert.equal(sourceLabel(yes.matched[0]?.source ?? ''), 'direct rule of the user');
    const no = await api.post<ExplainResult>('/acls/explain', { username: 'line-7', topic: 'plant/line9/speed', action: 'write' });
    assert.equal(no.allowed, false);
    const who = await api.get<WhoResult>('/acls/who', { topic: 'plant/line3/speed', action: 'write' });
    assert.deepEqual(who.users.map((u) => [u.username, u.mcm_service_account ?? false]), [['line-7', false], ['mcm-service', true]]);
    assert.equal(who.anonymous, false);
  });
});

describe('rowsProblem: why a role cannot be saved (issue 16)', () => {
  it('names the first row in the way, an empty one as such; null when every row is fine', () => {
    assert.equal(rowsProblem([{ topic: 'a/b', access: 'read' }]), null);
    assert.equal(rowsProblem([]), null);
    assert.equal(rowsProblem([{ topic: 'a/b', access: 'read' }, { topic: '', access: 'read' }]), 'Rule 2 has no topic filter yet: fill it in or remove the row.');
    assert.match(rowsProblem([{ topic: 'a/#/b', access: 'read' }]) ?? '', /^Rule 1: .+\.$/);
    assert.equal(rowsProblem([{ topic: 'a', access: 'read' }, { topic: 'a', access: 'read' }]), 'Rule 2: the same rule appears twice.');
  });
});

