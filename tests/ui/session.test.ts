/** ui/data/session.ts: kept in the given storage, expires on time, says why it ended. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSession, type KeyValueStorage } from '../../ui/data/session.ts';

const memory = (): KeyValueStorage & { map: Map<string, string> } => {
  const map = new Map<string, string>();
  return { map, getItem: (k) => map.get(k) ?? null, setItem: (k, v) => { map.set(k, v); }, removeItem: (k) => { map.delete(k); } };
};
const DATA = { token: 'jwt', expires_at: '2026-01-01T01:00:00.000Z', user: { username: 'ann', role: 'operator' as const, mfa_enabled: false } };

describe('ui/data session', () => {
  it('persists the session and restores it in a new instance (a reload)', () => {
    const storage = memory();
    const now = () => Date.parse('2026-01-01T00:00:00Z');
    createSession(storage, now).set(DATA);
    const again = createSession(storage, now);
    assert.equal(again.token(), 'jwt');
    assert.equal(again.current()?.user.role, 'operator');
  });

  it('ends at expires_at with a reason, and listeners hear it once', () => {
    const storage = memory();
    let t = Date.parse('2026-01-01T00:59:59Z');
    const s = createSession(storage, () => t);
    const heard: (string | undefined)[] = [];
    s.set(DATA);
    s.onChange((d, reason) => { if (d === null) heard.push(reason); });
    assert.equal(s.token(), 'jwt');
    t = Date.parse('2026-01-01T01:00:00Z');
    assert.equal(s.token(), null);
    assert.equal(s.current(), null);
    assert.equal(heard.length, 1);
    assert.match(heard[0] ?? '', /expired/);
    assert.equal(storage.map.size, 0, 'nothing left in storage');
  });

  it('ignores corrupt storage and keeps the token when only the user changes', () => {
    const storage = memory();
    storage.setItem('mcm.session', '{"token":');
    const s = createSession(storage);
    assert.equal(s.current(), null);
    s.set({ ...DATA, expires_at: '2999-01-01T00:00:00Z' });
    s.setUser({ username: 'ann', role: 'viewer', mfa_enabled: true });
    assert.equal(s.token(), 'jwt');
    assert.equal(s.current()?.user.role, 'viewer');
  });
});
