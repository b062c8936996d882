/** ACL vocabulary shared by decide, explain and the renderers (reference §2). */
export const ACCESS_VALUES = ['read', 'write', 'readwrite', 'deny'] as const;
export type Access = (typeof ACCESS_VALUES)[number];

/** `user:<name>`, `role:<name>`, `anonymous`, or `pattern` (all clients, %u/%c substituted). */
export type Principal = `user:${string}` | `role:${string}` | 'anonymous' | 'pattern';

export type AclRule = Readonly<{
  id: number;
  principal: Principal;
  topic: string;
  access: Access;
  description: string;
  createdAt: string;
  updatedAt: string;
}>;

export type Action = 'read' | 'write';
