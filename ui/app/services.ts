/**
 * What every screen gets from the shell (STYLE principle 7, explicit dependencies): the REST
 * client, the session, the live stream, navigation and notices. ui/main.ts builds the browser's
 * one instance (createBrowserServices); each screen receives it as its `services` property.
 */
import { createApiClient, type ApiClient } from '../data/api-client.ts';
import { createLiveClient, liveUrl, type LiveClient } from '../data/live-client.ts';
import type { AdminRole } from '../data/roles.ts';
import { roleAtLeast, needsRole } from '../data/roles.ts';
import { createSession, type Session } from '../data/session.ts';

export type Notice = { kind: 'ok' | 'error' | 'warn'; text: string };

export type Services = {
  api: ApiClient;
  session: Session;
  live: LiveClient;
  navigate(path: string): void;
  notify(notice: Notice): void;
  now(): number;
  role(): AdminRole | null;
  can(min: AdminRole): boolean;
  /** Why the current user can't do something that needs `min`, or null. */
  whyNot(min: AdminRole): string | null;
};

export const createBrowserServices = (hooks: { navigate(path: string): void; notify(n: Notice): void }): Services => {
  const session = createSession(window.sessionStorage);
  const expire = () => session.clear('Your session ended (expired or revoked). Sign in again.');
  const api = createApiClient({ fetch: window.fetch.bind(window), token: () => session.token(), onUnauthorized: expire });
  const live = createLiveClient({
    url: liveUrl(window.location.origin),
    token: () => session.token(),
    WebSocket: window.WebSocket as never,
    onUnauthorized: expire,
  });
  const role = () => session.current()?.user.role ?? null;
  return {
    api, session, live,
    navigate: hooks.navigate,
    notify: hooks.notify,
    now: () => Date.now(),
    role,
    can: (min) => roleAtLeast(role(), min),
    whyNot: (min) => needsRole(role(), min),
  };
};
