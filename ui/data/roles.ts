/** Admin roles in order (DESIGN §5): the UI hides or disables what a role below the minimum can't do. */
export const ADMIN_ROLES = ['viewer', 'auditor', 'operator', 'admin'] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];

export const roleAtLeast = (role: AdminRole | null | undefined, min: AdminRole): boolean =>
  role !== null && role !== undefined && ADMIN_ROLES.indexOf(role) >= ADMIN_ROLES.indexOf(min);

/** Why an action is unavailable, or null when it is allowed: shown next to disabled controls. */
export const needsRole = (role: AdminRole | null | undefined, min: AdminRole): string | null =>
  roleAtLeast(role, min) ? null : `needs the ${min} role (you are ${role ?? 'signed out'})`;
