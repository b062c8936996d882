/**
 * The REST client of the load scenario: every response is tallied by status class, and every
 * 5xx, unexpected 4xx and transport error (reset, refused, timeout) is kept with what was sent,
 * so "no 5xx" is a count over everything the scenario did, not a sample.
 */

export type ApiResponse = { status: number; etag: string | null; body: any };

export type Tally = {
  requests: number;
  byClass: Record<'2xx' | '3xx' | '4xx' | '5xx', number>;
  /** The first few of each kind, for the report. */
  serverErrors: { method: string; path: string; status: number; body: string }[];
  clientErrors: { method: string; path: string; status: number; body: string }[];
  transportErrors: { method: string; path: string; error: string }[];
  transportErrorCount: number;
};

const KEEP = 20;
/** Long: the machine is shared and noisy; a request unanswered this long is a failure either way. */
const REQUEST_TIMEOUT_MS = 120_000;

export const newTally = (): Tally => ({
  requests: 0,
  byClass: { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 },
  serverErrors: [],
  clientErrors: [],
  transportErrors: [],
  transportErrorCount: 0,
});

export type Api = {
  call(method: string, path: string, opts?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<ApiResponse>;
  tally: Tally;
};

/** `/api/v1` is prepended unless `path` starts with `//` (then the rest is the root path). */
export const createApi = (baseUrl: string): Api => {
  const tally = newTally();
  return {
    tally,
    async call(method, path, opts = {}) {
      const url = path.startsWith('//') ? `${baseUrl}${path.slice(1)}` : `${baseUrl}/api/v1${path}`;
      tally.requests++;
      let res: Response;
      let text: string;
      try {
        res = await fetch(url, {
          method,
          headers: {
            ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
            ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
            ...opts.headers,
          },
          ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        text = await res.text();
      } catch (e) {
        tally.transportErrorCount++;
        const err = e as Error & { cause?: { code?: string; message?: string } };
        if (tally.transportErrors.length < KEEP) tally.transportErrors.push({ method, path, error: `${err.name}: ${err.message}${err.cause ? ` (${err.cause.code ?? err.cause.message})` : ''}` });
        throw e;
      }
      const cls = `${Math.floor(res.status / 100)}xx` as keyof Tally['byClass'];
      if (cls in tally.byClass) tally.byClass[cls]++;
      if (res.status >= 500 && tally.serverErrors.length < KEEP) tally.serverErrors.push({ method, path, status: res.status, body: text.slice(0, 500) });
      if (res.status >= 400 && res.status < 500 && tally.clientErrors.length < KEEP) tally.clientErrors.push({ method, path, status: res.status, body: text.slice(0, 500) });
      let body: any = null;
      if (text) {
        try { body = JSON.parse(text); } catch { body = text; }
      }
      return { status: res.status, etag: res.headers.get('etag'), body };
    },
  };
};

/** The seq in an `ETag: "<seq>"` header. */
export const etagSeq = (etag: string | null): number | null => {
  const m = etag === null ? null : /^(?:W\/)?"(\d+)"$/.exec(etag);
  return m ? Number(m[1]) : null;
};

/** Every item of a paged collection (`{items, next}`), following `cursor`. */
export const readAll = async (api: Api, path: string, token: string): Promise<any[]> => {
  const items: any[] = [];
  let cursor: string | null = null;
  for (;;) {
    const sep = path.includes('?') ? '&' : '?';
    const res = await api.call('GET', `${path}${sep}limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token });
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    items.push(...(res.body.items as any[]));
    cursor = res.body.next ?? null;
    if (!cursor) return items;
  }
};
