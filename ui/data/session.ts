/**
 * The signed-in session: the JWT, when it expires and who it is for. Kept in sessionStorage (per
 * tab, gone when the tab closes), never in a URL. `storage` and `now` are passed in: no DOM here.
 */
import type { AdminRole } from './roles.ts';

export type SessionUser = { username: string; role: AdminRole; mfa_enabled: boolean };
export type SessionData = { token: string; expires_at: string; user: SessionUser };

export type KeyValueStorage = { getItem(key: string): string | null; setItem(key: string, value: string): void; removeItem(key: string): void };

export type Session = {
  current(): SessionData | null;
  token(): string | null;
  set(data: SessionData): void;
  /** Updates the user (after GET /auth/me), keeping the token. */
  setUser(user: SessionUser): void;
  clear(reason?: string): void;
  /** Called on every change; returns unsubscribe. `reason` says why a session ended. */
  onChange(fn: (data: SessionData | null, reason?: string) => void): () => void;
};

const KEY = 'mcm.session';

const valid = (v: unknown): v is SessionData => {
  const d = v as SessionData | null;
  return !!d && typeof d.token === 'string' && typeof d.expires_at === 'string' && !!d.user && typeof d.user.username === 'string' && typeof d.user.role === 'string';
};

export const createSession = (storage: KeyValueStorage, now: () => number = Date.now): Session => {
  const listeners = new Set<(d: SessionData | null, reason?: string) => void>();
  let data: SessionData | null = null;
  try {
    const raw = storage.getItem(KEY);
    const parsed: unknown = raw ? JSON.parse(raw) : null;
    data = valid(parsed) ? parsed : null;
  } catch { data = null; }
  const emit = (reason?: string) => { for (const l of listeners) l(data, reason); };
  const expired = () => data !== null && Date.parse(data.expires_at) <= now();
  const session: Session = {
    current: () => {
      if (expired()) session.clear('Your session expired. Sign in again.');
      return data;
    },
    token: () => session.current()?.token ?? null,
    set: (d) => { data = d; storage.setItem(KEY, JSON.stringify(d)); emit(); },
    setUser: (user) => { if (data) session.set({ ...data, user }); },
    clear: (reason) => {
      const had = data !== null;
      data = null;
      storage.removeItem(KEY);
      if (had) emit(reason);
    },
    onChange: (fn) => { listeners.add(fn); return () => { listeners.delete(fn); }; },
  };
  return session;
};
