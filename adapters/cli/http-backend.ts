/**
 * The CLI through the running server's REST API (DESIGN §8 routes and shapes). The server hashes,
 * generates passwords, appends with actor `{kind: 'cli'}` and applies the change to the broker.
 */
import type { ExplainResult } from '../../core/explain.ts';
import type { AclRuleView, MqttUserView } from '../../projections/views.ts';
import type { ApiClient } from './api-client.ts';
import type { Backend } from './data-access.ts';
import { allPages as all } from './all-pages.ts';

const userPath = (username: string): string => `/mqtt-users/${encodeURIComponent(username)}`;

export const createHttpBackend = (api: ApiClient): Backend => ({
  kind: 'server',
  target: api.baseUrl,
  // Whatever the server appends, it applies itself.
  wrote: () => false,

  listUsers: () => all<MqttUserView>(api, '/mqtt-users'),

  createUser: async (input) => {
    const { body } = await api.request('POST', '/mqtt-users', {
      username: input.username,
      ...(input.password === undefined ? {} : { password: input.password }),
      ...(input.description === undefined ? {} : { description: input.description }),
      ...(input.roles === undefined ? {} : { roles: [...input.roles] }),
    });
    const { password, ...user } = body as MqttUserView & { password?: string };
    return { user, ...(password === undefined ? {} : { password }) };
  },

  changePassword: async (username, password) => {
    const { body } = await api.request('POST', `${userPath(username)}/password`, password === undefined ? {} : { password });
    const generated = (body as { password?: unknown } | null)?.password;
    return typeof generated === 'string' ? { password: generated } : {};
  },

  setDisabled: async (username, disabled) => (await api.request('PUT', userPath(username), { disabled })).body as MqttUserView,

  deleteUser: async (username) => {
    await api.request('DELETE', userPath(username));
  },

  listAcls: (filter) => all<AclRuleView>(api, '/acls', filter.principal === undefined ? {} : { principal: filter.principal }),

  addAcl: async (input) => (await api.request('POST', '/acls', {
    principal: input.principal,
    topic: input.topic,
    access: input.access,
    ...(input.description === undefined ? {} : { description: input.description }),
  })).body as AclRuleView,

  removeAcl: async (id) => {
    await api.request('DELETE', `/acls/${id}`);
  },

  explain: async (query) => (await api.request('POST', '/acls/explain', {
    ...(query.username === undefined || query.username === null ? {} : { username: query.username }),
    ...(query.clientid === undefined || query.clientid === null ? {} : { clientid: query.clientid }),
    topic: query.topic,
    action: query.action,
  })).body as ExplainResult,
});
