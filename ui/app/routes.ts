/**
 * The client routes: path → screen element, nav label and the minimum role to see it (the API's
 * read roles, DESIGN §8; write actions inside a screen check their own role). The server answers
 * index.html for each of these paths (adapters/http/ui-static.ts), so a reload or a bookmark works.
 */
import type { AdminRole } from '../data/roles.ts';

export type UiRoute = { path: string; tag: string; label: string; minRole: AdminRole };

export const UI_ROUTES: readonly UiRoute[] = [
  { path: '/', tag: 'mcm-dashboard', label: 'Dashboard', minRole: 'viewer' },
  { path: '/topics', tag: 'mcm-topics', label: 'Topics', minRole: 'viewer' },
  { path: '/clients', tag: 'mcm-clients', label: 'Clients', minRole: 'viewer' },
  { path: '/broker', tag: 'mcm-broker', label: 'Broker', minRole: 'viewer' },
  { path: '/users', tag: 'mcm-mqtt-users', label: 'MQTT users', minRole: 'auditor' },
  { path: '/access', tag: 'mcm-access', label: 'Access', minRole: 'viewer' },
  { path: '/schemas', tag: 'mcm-schemas', label: 'Schemas', minRole: 'auditor' },
  { path: '/audit', tag: 'mcm-audit', label: 'Audit', minRole: 'auditor' },
  { path: '/security', tag: 'mcm-security-events', label: 'Security', minRole: 'auditor' },
  { path: '/admins', tag: 'mcm-admin-users', label: 'Admin users', minRole: 'auditor' },
  { path: '/webhooks', tag: 'mcm-webhooks', label: 'Webhooks', minRole: 'admin' },
  { path: '/import', tag: 'mcm-import', label: 'Import', minRole: 'admin' },
  { path: '/account', tag: 'mcm-account', label: 'Account', minRole: 'viewer' },
];

/** The route for a pathname ('/topics/plant%2Fa' → /topics); null for an unknown path. */
export const routeFor = (pathname: string): UiRoute | null => {
  const first = `/${pathname.split('/').filter(Boolean)[0] ?? ''}`;
  return UI_ROUTES.find((r) => r.path === first) ?? null;
};
