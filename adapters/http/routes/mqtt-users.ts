/**
 * MQTT users (DESIGN §5, §8): Mosquitto password-file entries. Passwords are hashed here with
 * the `$7$` hasher BEFORE handleCommand (STYLE principle 3: no await between reading state and
 * appending); a generated password is returned once and never again.
 */
import { randomInt } from 'node:crypto';
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { CommandOf } from '../../../core/commands.ts';
import { DomainError, ERROR_CODES } from '../../../core/errors.ts';
import { own } from '../../../core/evolve/records.ts';
import { handleCommand } from '../../../core/handle-command.ts';
import type { BrokerConfig, MqttUser } from '../../../core/state.ts';
import { createViewCache, mqttUserView } from '../../../projections/views.ts';
import type { HttpDeps } from '../deps.ts';
import { setEtag } from '../etag.ts';
import { HttpError } from '../errors.ts';
import { createPageCache, pageOf, parsePageQuery } from '../pagination.ts';
import { bodyOf, validateBody } from '../validate.ts';
import { commandContext, param, quote, reply } from './context.ts';
import { API_PREFIX, mountRoutes, type RouteSpec } from './route-spec.ts';

const BASE = '/mqtt-users';

export const routes: readonly RouteSpec[] = [
  { method: 'GET', path: BASE, minRole: 'auditor' },
  { method: 'POST', path: BASE, minRole: 'operator' },
  { method: 'GET', path: `${BASE}/{username}`, minRole: 'auditor' },
  { method: 'PUT', path: `${BASE}/{username}`, minRole: 'operator' },
  { method: 'DELETE', path: `${BASE}/{username}`, minRole: 'operator' },
  { method: 'POST', path: `${BASE}/{username}/password`, minRole: 'operator' },
];

/** URL-safe, so a generated password survives shells, URLs and config files unquoted. */
const PASSWORD_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
export const GENERATED_PASSWORD_LENGTH = 24;

/** 24 characters of a 64-symbol alphabet: 144 bits from the CSPRNG (randomInt is unbiased). */
export const generatePassword = (): string => {
  let out = '';
  for (let i = 0; i < GENERATED_PASSWORD_LENGTH; i++) out += PASSWORD_ALPHABET[randomInt(PASSWORD_ALPHABET.length)];
  return out;
};

export type CreateBody = { username: string; password?: string; description?: string; roles?: string[]; disabled?: boolean };
export type UpdateBody = { description?: string; roles?: string[]; disabled?: boolean };
export type PasswordBody = { password?: string };

/** The commands of these routes, shared with POST /batch so a batch appends what single requests do. */
export const createMqttUserCommand = (body: CreateBody, passwordHash: string): CommandOf<'CreateMqttUser'> => ({
  type: 'CreateMqttUser',
  data: {
    username: body.username,
    passwordHash,
    ...(body.description === undefined ? {} : { description: body.description }),
    ...(body.roles === undefined ? {} : { roles: body.roles }),
    ...(body.disabled === undefined ? {} : { disabled: body.disabled }),
  },
});

export const updateMqttUserCommand = (username: string, body: UpdateBody): CommandOf<'UpdateMqttUser'> => ({
  type: 'UpdateMqttUser',
  data: {
    username,
    ...(body.description === undefined ? {} : { description: body.description }),
    ...(body.roles === undefined ? {} : { roles: body.roles }),
    ...(body.disabled === undefined ? {} : { disabled: body.disabled }),
  },
});

/**
 * The service account is always rendered by MCM itself (DESIGN §6); a user of that name would
 * compete with it for the password-file line. Refused before a hash is spent on it (decide
 * refuses it too).
 */
export const refuseReserved = (username: string, serviceAccount: string): void => {
  if (username === serviceAccount) {
    throw new HttpError(409, ERROR_CODES.USERNAME_RESERVED, `${quote(username)} is MCM's service account and cannot be managed as an MQTT user`, [
      { field: 'username', value: username },
    ]);
  }
};

const notFound = (username: string): DomainError =>
  new DomainError(ERROR_CODES.MQTT_USER_NOT_FOUND, `MQTT user ${quote(username)} does not exist`, [{ username: username.slice(0, 300) }]);

const userIn = (state: BrokerConfig, username: string): MqttUser => {
  const user = own(state.users, username);
  if (!user) throw notFound(username);
  return user;
};

const location = (username: string): string => `${API_PREFIX}${BASE}/${encodeURIComponent(username)}`;

/** A response that carries a plaintext password must not be stored by any cache. */
const noStore = (ctx: Context): void => {
  ctx.set('Cache-Control', 'no-store');
};

export const registerMqttUserRoutes = (router: Router, deps: HttpDeps): void => {
  const views = createViewCache();
  const pages = createPageCache();

  mountRoutes(router, routes, {
    [`GET ${BASE}`]: (ctx) => {
      const state = deps.store.state();
      const q = parsePageQuery(ctx.query);
      setEtag(ctx, state.seq);
      ctx.type = 'application/json';
      ctx.body = pages(state, JSON.stringify([q.limit, q.cursor]), () => pageOf(views.mqttUsers(state), (u) => u.username, q));
    },

    [`POST ${BASE}`]: [validateBody('MqttUserCreate'), async (ctx) => {
      const body = bodyOf<CreateBody>(ctx);
      const cmdCtx = commandContext(ctx);
      refuseReserved(body.username, deps.serviceAccount);
      const generated = body.password === undefined ? generatePassword() : undefined;
      const passwordHash = await deps.mqttHasher.hash(body.password ?? (generated as string), deps.store.state().settings.hashIterations);
      const result = handleCommand(deps, createMqttUserCommand(body, passwordHash), cmdCtx);
      const user = userIn(deps.store.state(), body.username);
      ctx.set('Location', location(body.username));
      if (generated !== undefined) noStore(ctx);
      reply(ctx, 201, { ...mqttUserView(user), ...(generated === undefined ? {} : { password: generated }) }, result.seq);
    }],

    [`GET ${BASE}/{username}`]: (ctx) => {
      const state = deps.store.state();
      reply(ctx, 200, mqttUserView(userIn(state, param(ctx, 'username'))), state.seq);
    },

    [`PUT ${BASE}/{username}`]: [validateBody('MqttUserUpdate'), (ctx) => {
      const username = param(ctx, 'username');
      const body = bodyOf<UpdateBody>(ctx);
      const result = handleCommand(deps, updateMqttUserCommand(username, body), commandContext(ctx));
      reply(ctx, 200, mqttUserView(userIn(deps.store.state(), username)), result.seq);
    }],

    [`DELETE ${BASE}/{username}`]: (ctx) => {
      const result = handleCommand(deps, { type: 'DeleteMqttUser', data: { username: param(ctx, 'username') } }, commandContext(ctx));
      reply(ctx, 204, null, result.seq);
    },

    [`POST ${BASE}/{username}/password`]: [validateBody('MqttUserPasswordRequest', { optional: true }), async (ctx) => {
      const username = param(ctx, 'username');
      const body = bodyOf<PasswordBody>(ctx);
      const cmdCtx = commandContext(ctx);
      userIn(deps.store.state(), username); // 404 before spending a hash on nobody
      const generated = body.password === undefined ? generatePassword() : undefined;
      const passwordHash = await deps.mqttHasher.hash(body.password ?? (generated as string), deps.store.state().settings.hashIterations);
      const result = handleCommand(deps, { type: 'ChangeMqttUserPassword', data: { username, passwordHash } }, cmdCtx);
      noStore(ctx);
      reply(ctx, 200, generated === undefined ? {} : { password: generated }, result.seq);
    }],
  });
};
