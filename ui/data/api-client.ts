/**
 * The REST client of the UI (no DOM: fetch and the token source are passed in, so node:test runs
 * it against a real server). Paths are relative to /api/v1 (DESIGN §8); errors come back as
 * ApiError with the server's stable code. A 401 on any call but login means the session is gone
 * (expired or revoked): `onUnauthorized` sends the app back to the login screen.
 */
export type ApiErrorBody = { code: string; message: string; details?: unknown[] };

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown[];
  constructor(status: number, body: ApiErrorBody) {
    super(body.message);
    this.name = 'ApiError';
    this.status = status;
    this.code = body.code;
    this.details = body.details ?? [];
  }
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export type ApiResponse<T> = { status: number; body: T; etag: string | null };

export type ApiClientOptions = {
  fetch: typeof fetch;
  /** Origin (or '' in the browser: same origin). */
  origin?: string;
  token: () => string | null;
  onUnauthorized?: (error: ApiError) => void;
};

export type ApiClient = {
  request<T>(method: string, path: string, opts?: { query?: Query; body?: unknown; ifMatch?: string; auth?: boolean }): Promise<ApiResponse<T>>;
  get<T>(path: string, query?: Query): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  put<T>(path: string, body?: unknown): Promise<T>;
  del(path: string, body?: unknown): Promise<void>;
};

export const API_BASE = '/api/v1';

/** `?a=1&b=x`; null/undefined/'' values are left out. */
export const queryString = (query: Query | undefined): string => {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== null && v !== undefined && v !== '') params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
};

/** A topic in a path is one URL-encoded segment (DESIGN §8: `/` as `%2F`). */
export const topicPath = (prefix: string, topic: string): string => `${prefix}/${encodeURIComponent(topic)}`;

export const createApiClient = (opts: ApiClientOptions): ApiClient => {
  const origin = opts.origin ?? '';
  const request: ApiClient['request'] = async (method, path, r = {}) => {
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = r.auth === false ? null : opts.token();
    if (token) headers['authorization'] = `Bearer ${token}`;
    if (r.body !== undefined) headers['content-type'] = 'application/json';
    if (r.ifMatch) headers['if-match'] = r.ifMatch;
    let res: Response;
    try {
      res = await opts.fetch(`${origin}${API_BASE}${path}${queryString(r.query)}`, {
        method,
        headers,
        ...(r.body !== undefined ? { body: JSON.stringify(r.body) } : {}),
      });
    } catch (err) {
      throw new ApiError(0, { code: 'MCM_ERR_NETWORK', message: `cannot reach the MCM server (${(err as Error).message})` });
    }
    const text = await res.text();
    let body: unknown = null;
    if (text) {
      try { body = JSON.parse(text); } catch { body = null; }
    }
    if (!res.ok) {
      const e = (body as { error?: ApiErrorBody } | null)?.error;
      const error = new ApiError(res.status, e && typeof e.code === 'string' ? e : { code: `HTTP_${res.status}`, message: `${method} ${path} failed with HTTP ${res.status}` });
      if (res.status === 401 && token) opts.onUnauthorized?.(error);
      throw error;
    }
    return { status: res.status, body: body as never, etag: res.headers.get('etag') };
  };
  return {
    request,
    get: async (path, query) => (await request<never>('GET', path, { query })).body,
    post: async (path, body) => (await request<never>('POST', path, { body: body ?? {} })).body,
    put: async (path, body) => (await request<never>('PUT', path, { body: body ?? {} })).body,
    del: async (path, body) => { await request('DELETE', path, body === undefined ? {} : { body }); },
  };
};
