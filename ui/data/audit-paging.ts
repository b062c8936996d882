/**
 * Newest-first lists that grow at the top while they are open (the audit log, security events).
 * A live message says "something new exists"; the rows themselves come from the REST collection,
 * so they carry everything the list shows (summaries, redacted data, ids) and respect its filters.
 * After a ws gap the same walk fetches what was missed. Pure: the page fetcher is passed in.
 */
export type Page<T> = { items: T[]; next?: string | null };

export type Newer<T> = {
  /** The rows newer than the list's top, newest first. */
  items: T[];
  /** False when the walk stopped at `maxPages` before reaching a known row: there is a hole. */
  complete: boolean;
};

/**
 * Walks a newest-first collection from its first page until a row the list already has
 * (`known`), collecting the newer ones. With an empty list (`known` never true) it returns the
 * first pages, which is what a reload would show.
 */
export const fetchNewer = async <T>(
  fetchPage: (cursor: string | undefined) => Promise<Page<T>>,
  known: (item: T) => boolean,
  maxPages = 10,
): Promise<Newer<T>> => {
  const items: T[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const res = await fetchPage(cursor);
    for (const item of res.items) {
      if (known(item)) return { items, complete: true };
      items.push(item);
    }
    if (!res.next) return { items, complete: true };
    cursor = res.next;
  }
  return { items, complete: false };
};

/**
 * `newer` (newest first) on top of `rows`, without duplicates (a row fetched twice, e.g. by a
 * live update racing a reload, appears once), newest first by `key`.
 */
export const prependNewer = <T>(rows: readonly T[], newer: readonly T[], key: (item: T) => number): T[] => {
  const seen = new Set(rows.map(key));
  const fresh = newer.filter((r) => {
    const k = key(r);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return [...fresh, ...rows].sort((a, b) => key(b) - key(a));
};

/** Older rows (a "Load older" page) below `rows`, without duplicates. */
export const appendOlder = <T>(rows: readonly T[], older: readonly T[], key: (item: T) => number): T[] => {
  const seen = new Set(rows.map(key));
  return [...rows, ...older.filter((r) => !seen.has(key(r)))];
};

/**
 * `YYYY-MM-DDTHH:MM[:SS]` from an <input type="datetime-local">, read as UTC (the UI shows every
 * time in UTC, format.ts) → an ISO instant; '' → undefined. `end`: the bound is inclusive of the
 * whole minute or second typed ("until 14:03" includes 14:03:59.999).
 */
export const utcInputToIso = (value: string, end = false): string | undefined => {
  const v = value.trim();
  if (v === '') return undefined;
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/.exec(v);
  if (!m) throw new Error(`"${value}" is not a date and time (YYYY-MM-DDTHH:MM)`);
  const [, date, hh, mm, ss, ms] = m;
  const t = Date.parse(`${date}T${hh}:${mm}:${ss ?? '00'}.${(ms ?? '0').padEnd(3, '0')}Z`);
  if (Number.isNaN(t)) throw new Error(`"${value}" is not a valid date and time`);
  const extra = !end ? 0 : ms !== undefined ? 0 : ss !== undefined ? 999 : 59_999;
  return new Date(t + extra).toISOString();
};

/** The problem with a since/until pair of inputs, or null. */
export const timeRangeProblem = (since: string, until: string): string | null => {
  let a: string | undefined;
  let b: string | undefined;
  try {
    a = utcInputToIso(since);
    b = utcInputToIso(until, true);
  } catch (err) {
    return (err as Error).message;
  }
  return a !== undefined && b !== undefined && a > b ? '"From" is after "until"' : null;
};

/** Whether an ISO time falls in the inputs' range (live messages are checked before any fetch). */
export const inTimeRange = (at: string | undefined, since: string, until: string): boolean => {
  if (at === undefined) return true;
  try {
    const a = utcInputToIso(since);
    const b = utcInputToIso(until, true);
    const t = new Date(Date.parse(at)).toISOString();
    return (a === undefined || t >= a) && (b === undefined || t <= b);
  } catch {
    return true;
  }
};
