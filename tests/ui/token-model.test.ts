/** The API-token panel's data (ui/data/token-model.ts, issue 17). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBody, grantableRoles, lastUseText, roleText, statusText, tokenNameProblem, type ApiTokenRow } from '../../ui/data/token-model.ts';
import { apiTokenNameViolation } from '../../core/names.ts';

const row = (over: Partial<ApiTokenRow> = {}): ApiTokenRow => ({
  name: 'ci', role: 'operator', effective_role: 'operator', owner: 'ann', created_at: '2026-01-01T00:00:00.000Z',
  expires_at: null, status: 'active', last_used_at: null, last_used_ip: null, ...over,
});

describe('ui/data token-model', () => {
  it('offers roles up to the user\'s own, none when signed out', () => {
    assert.deepEqual(grantableRoles('operator'), ['viewer', 'auditor', 'operator']);
    assert.deepEqual(grantableRoles('admin'), ['viewer', 'auditor', 'operator', 'admin']);
    assert.deepEqual(grantableRoles(null), []);
  });

  it('checks names as the server does, and names taken', () => {
    for (const name of ['ci-deploy', 'a.b_c-1', 'x'.repeat(64), '', 'x'.repeat(65), 'has space', 'ü', '.', '..', '__proto__']) {
      assert.equal(tokenNameProblem(name, []) === null, apiTokenNameViolation(name) === null, name);
    }
    assert.match(tokenNameProblem('ci', ['ci']) ?? '', /exists/);
  });

  it('builds the request: trimmed name, "never" as null', () => {
    assert.deepEqual(createBody({ name: ' ci ', role: 'viewer', expires: '' }), { name: 'ci', role: 'viewer', expires: null });
    assert.deepEqual(createBody({ name: 'ci', role: 'admin', expires: '90d' }), { name: 'ci', role: 'admin', expires: '90d' });
  });

  it('reads a row: a capped role, the status, the last use', () => {
    assert.equal(roleText(row()), 'operator');
    assert.equal(roleText(row({ effective_role: 'viewer' })), 'operator (acts as viewer)');
    assert.equal(roleText(row({ effective_role: null, status: 'expired' })), 'operator');
    assert.equal(statusText(row({ status: 'suspended', effective_role: null })), 'suspended: its creator is disabled');
    assert.equal(lastUseText(row(), (s) => s), 'never');
    assert.equal(lastUseText(row({ last_used_at: 'T', last_used_ip: '10.0.0.1' }), (s) => `<${s}>`), '<T> from 10.0.0.1');
  });
});
