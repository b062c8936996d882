/**
 * Collections (DESIGN §8): `{items, total?, next?}` with `?limit=&cursor=`. `limit` is 1..1000
 * (default 100); the cursor is opaque to clients: base64url of a small JSON value naming the last
 * key of the previous page, so a page after an insert or delete neither skips nor repeats items
 * (an offset would).
 */
import { DomainError, ERROR_CODES } from '../../core/errors.ts';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;
/** A cursor is a few dozen bytes; anything longer is not one of ours. */
const MAX_CURSOR_LENGTH = 2048;

export type Page<T> = { items: T[]; total?: number; next?: string | null };

const bad = (field: string, message: string, value: unknown): DomainError =>
  new DomainError(ERROR_CODES.VALIDATION, message, [{ field, value: typeof value === 'string' ? value.slice(0, 100) : value }]);

/** A single query value: repeated parameters (`?limit=1&limit=2`) are refused, not guessed at. */
export const queryString = (query: Record<string, unknown>, name: string): string | undefined => {
  const v = query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw bad(name, `query parameter "${name}" must be given once`, v);
  return v;
};

/** A non-negative integer query parameter (e.g. `after`, `at`), or undefined when absent. */
export const queryInt = (query: Record<string, unknown>, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined => {
  const raw = queryString(query, name);
  if (raw === undefined) return undefined;
  if (!/^\d{1,16}$/.test(raw)) throw bad(name, `query parameter "${name}" must be an integer`, raw);
  const n = Number(raw);
  if (n < min || n > max) throw bad(name, `query parameter "${name}" must be between ${min} and ${max}`, raw);
  return n;
};

export const parseLimit = (query: Record<string, unknown>): number =>
  queryInt(query, 'limit', 1, MAX_LIMIT) ?? DEFAULT_LIMIT;

export const encodeCursor = (key: string | number): string =>
  Buffer.from(JSON.stringify({ k: key }), 'utf8').toString('base64url');

/** The key inside a cursor; MCM_ERR_VALIDATION when it is not one MCM made. */
export const decodeCursor = (cursor: string): string | number => {
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw bad('cursor', 'cursor is not valid', cursor);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad('cursor', 'cursor is not valid', cursor);
  }
  const k = (parsed as { k?: unknown } | null)?.k;
  if (typeof k === 'string' || (typeof k === 'number' && Number.isSafeInteger(k))) return k;
  throw bad('cursor', 'cursor is not valid', cursor);
};

export type PageQuery = { limit: number; cursor: string | number | undefined };

export const parsePageQuery = (query: Record<string, unknown>): PageQuery => {
  const limit = parseLimit(query);
  const raw = queryString(query, 'cursor');
  return { limit, cursor: raw === undefined ? undefined : decodeCursor(raw) };
};

/**
 * One page of `items`, which must be sorted ascending by `keyOf` (code-unit order for strings).
 * Binary search for the first key after the cursor: O(log n) per request on the cached list.
 */
export const pageOf = <T>(items: readonly T[], keyOf: (item: T) => string | number, q: PageQuery): Page<T> => {
  let start = 0;
  if (q.cursor !== undefined) {
    const c = q.cursor;
    // A cursor from another collection (numeric ids vs names) is refused rather than misread.
    const first = items[0];
    if (first !== undefined && typeof keyOf(first) !== typeof c) throw bad('cursor', 'cursor is not valid for this collection', '');
    let lo = 0;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keyOf(items[mid] as T) <= c) lo = mid + 1;
      else hi = mid;
    }
    start = lo;
  }
  const slice = items.slice(start, start + q.limit);
  const last = slice[slice.length - 1];
  const more = start + q.limit < items.length;
  return { items: slice, total: items.length, next: more && last !== undefined ? encodeCursor(keyOf(last)) : null };
};

/**
 * Serialised pages per state: a list page is a pure function of (state, limit, cursor), so while
 * the seq is unchanged its JSON bytes can be reused — GET /mqtt-users with thousands of users is
 * then a lookup, not a map, sort, stringify and UTF-8 encode per request. Cleared on every new
 * seq; bounded. Handlers set `ctx.type = 'application/json'` and send the Buffer as the body.
 */
export const createPageCache = (max = 64): ((state: { seq: number }, key: string, build: () => unknown) => Buffer) => {
  let owner: object | null = null;
  let seq = -1;
  const pages = new Map<string, Buffer>();
  return (state, key, build) => {
    if (owner !== state || seq !== state.seq) {
      pages.clear();
      owner = state;
      seq = state.seq;
    }
    let json = pages.get(key);
    if (json === undefined) {
      json = Buffer.from(JSON.stringify(build()), 'utf8');
      if (pages.size >= max) pages.delete(pages.keys().next().value as string);
      pages.set(key, json);
    }
    return json;
  };
};
