/**
 * Collections (DESIGN §8): `{items, total?, next?}` with `?limit=` (1..1000, default 100) and an
 * opaque `?cursor=` naming the last key of the previous page, so inserts and deletes between
 * pages neither skip nor repeat items.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '../../core/errors.ts';
import { createPageCache, decodeCursor, encodeCursor, pageOf, parsePageQuery } from '../../adapters/http/pagination.ts';

const names = ['a', 'b', 'c', 'd', 'e'];
const key = (s: string): string => s;

const isValidationError = (e: unknown): boolean => e instanceof DomainError && e.code === 'MCM_ERR_VALIDATION';

describe('adapters/http/pagination', () => {
  it('defaults the limit to 100 and refuses 0, 1001, non-integers and repeated parameters', () => {
    assert.deepEqual(parsePageQuery({}), { limit: 100, cursor: undefined });
    assert.equal(parsePageQuery({ limit: '1000' }).limit, 1000);
    for (const limit of ['0', '1001', '1.5', '-1', 'x', '', ['1', '2']]) {
      assert.throws(() => parsePageQuery({ limit }), isValidationError, JSON.stringify(limit));
    }
  });

  it('round-trips cursors and refuses ones it did not make', () => {
    assert.equal(decodeCursor(encodeCursor('alice')), 'alice');
    assert.equal(decodeCursor(encodeCursor(42)), 42);
    for (const bad of ['', '!!', 'a'.repeat(3000), Buffer.from('not json').toString('base64url'), Buffer.from('{"x":1}').toString('base64url'), Buffer.from('{"k":1.5}').toString('base64url')]) {
      assert.throws(() => decodeCursor(bad), isValidationError, bad.slice(0, 20));
    }
  });

  it('pages a sorted list after the cursor key, with total and next', () => {
    const p1 = pageOf(names, key, { limit: 2, cursor: undefined });
    assert.deepEqual(p1.items, ['a', 'b']);
    assert.equal(p1.total, 5);
    const p2 = pageOf(names, key, { limit: 2, cursor: decodeCursor(p1.next as string) });
    assert.deepEqual(p2.items, ['c', 'd']);
    const p3 = pageOf(names, key, { limit: 2, cursor: decodeCursor(p2.next as string) });
    assert.deepEqual([p3.items, p3.next], [['e'], null]);
  });

  it('neither skips nor repeats when the cursor item was deleted or an earlier one inserted', () => {
    const p1 = pageOf(names, key, { limit: 2, cursor: undefined });
    const after = pageOf(['0', 'a', 'c', 'd', 'e'], key, { limit: 2, cursor: decodeCursor(p1.next as string) });
    assert.deepEqual(after.items, ['c', 'd'], '"b" deleted, "0" inserted before the cursor');
  });

  it('refuses a cursor from a collection with another key type', () => {
    assert.throws(() => pageOf(names, key, { limit: 2, cursor: 3 }), isValidationError);
  });

  it('reuses serialised pages while the state seq is unchanged and rebuilds after a change', () => {
    const pages = createPageCache(2);
    const state = { seq: 1 };
    let builds = 0;
    const build = (): unknown => { builds += 1; return { items: [builds] }; };
    const first = pages(state, 'k', build);
    assert.equal(pages(state, 'k', build), first);
    assert.equal(builds, 1);
    assert.deepEqual(JSON.parse(first.toString('utf8')), { items: [1] });
    state.seq = 2;
    assert.deepEqual(JSON.parse(pages(state, 'k', build).toString('utf8')), { items: [2] });
    pages(state, 'k2', build);
    pages(state, 'k3', build); // evicts 'k' (bounded at 2)
    pages(state, 'k', build);
    assert.equal(builds, 5);
    assert.notEqual(pages({ seq: 2 }, 'k', build), pages(state, 'k', build), 'another state object with the same seq is another state');
  });
});
