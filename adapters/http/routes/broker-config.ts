/**
 * The broker configuration (issue "Broker configuration as events"): mosquitto.conf's listeners,
 * options, bridges and passthrough as a resource. Reading is for every role; a preview is for
 * operators; changing what the broker listens on and connects to is for admins. A change that
 * restarts the broker must carry `If-Match` with the seq of its preview (428 otherwise).
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Command } from '../../../core/commands.ts';
import { DomainError, ERROR_CODES } from '../../../core/errors.ts';
import { catalogFor } from '../../../core/broker-config/catalog.ts';
import { emptyBrokerConfig, type Bridge, type BrokerConfigModel } from '../../../core/broker-config/model.ts';
import { applyBrokerCommand, previewBrokerCommand, type BrokerConfigPort } from '../../broker-config/broker-config-service.ts';
import { bridgePasswordProblem } from '../../secrets/bridge-passwords.ts';
import type { HttpDeps } from '../deps.ts';
import { bodyOf, validateBody } from '../validate.ts';
import { commandContext, param, reply } from './context.ts';
import { mountRoutes, type RouteSpec } from './route-spec.ts';

export const routes: readonly RouteSpec[] = [
  { method: 'GET', path: '/broker/config', minRole: 'viewer' },
  { method: 'PUT', path: '/broker/config', minRole: 'admin' },
  { method: 'POST', path: '/broker/config/preview', minRole: 'operator' },
  { method: 'GET', path: '/broker/listeners', minRole: 'viewer' },
  { method: 'PUT', path: '/broker/listeners/{name}', minRole: 'admin' },
  { method: 'DELETE', path: '/broker/listeners/{name}', minRole: 'admin' },
  { method: 'GET', path: '/broker/bridges', minRole: 'viewer' },
  { method: 'PUT', path: '/broker/bridges/{name}', minRole: 'admin' },
  { method: 'DELETE', path: '/broker/bridges/{name}', minRole: 'admin' },
];

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** What a reader sees of a bridge: whether it has a password, never its reference's secret. */
const bridgeView = (b: Bridge): Record<string, unknown> => {
  const { remotePasswordRef, ...rest } = b;
  return { ...rest, hasRemotePassword: remotePasswordRef !== null };
};

const configView = (c: BrokerConfigModel): Record<string, unknown> => ({ ...c, bridges: c.bridges.map(bridgeView) });

const current = (deps: HttpDeps): BrokerConfigModel => deps.store.state().brokerConfig ?? emptyBrokerConfig();

const bodyObject = (ctx: Context, what: string): Record<string, unknown> => {
  const body = bodyOf<unknown>(ctx);
  if (!isObject(body)) throw new DomainError(ERROR_CODES.VALIDATION, `the body must be a JSON object (${what})`, [{ field: 'body' }]);
  return body;
};

/** Stands for a new password in a preview: nothing is stored until the change is applied. */
const PREVIEW_REF = 'bridge-pw.0000000000000000';

/**
 * A bridge from a request: `remotePassword` (plaintext, write-only) is stored in secrets/ and
 * replaced by its reference — the same password keeps the reference it has (no restart); absent,
 * the bridge keeps the password it had; `null` removes it. A preview stores nothing.
 */
const bridgeFrom = (raw: Record<string, unknown>, existing: Bridge | undefined, port: BrokerConfigPort, store: boolean): Record<string, unknown> => {
  const { remotePassword, hasRemotePassword: _ignored, remotePasswordRef: _ref, ...rest } = raw;
  if (remotePassword === null) return { ...rest, remotePasswordRef: null };
  if (remotePassword === undefined) return { ...rest, remotePasswordRef: existing?.remotePasswordRef ?? null };
  const problem = bridgePasswordProblem(remotePassword);
  if (problem !== null) throw new DomainError(ERROR_CODES.BROKER_CONFIG_INVALID, problem, [{ field: 'remotePassword' }]);
  const pw = remotePassword as string;
  if (existing?.remotePasswordRef && port.bridgePasswordIs(existing.remotePasswordRef, pw)) return { ...rest, remotePasswordRef: existing.remotePasswordRef };
  return { ...rest, remotePasswordRef: store ? port.storeBridgePassword(pw) : PREVIEW_REF };
};

const portOf = (deps: HttpDeps): BrokerConfigPort => {
  if (!deps.brokerConfig) throw new DomainError(ERROR_CODES.BROKER_CONFIG_UNMANAGED, "MCM does not write this broker's mosquitto.conf (mosquitto.mode external)", []);
  return deps.brokerConfig;
};

/** The full configuration of a PUT/preview body `{config}`, with bridge passwords handled as above. */
const configCommand = (deps: HttpDeps, body: Record<string, unknown>, store: boolean): Command => {
  const config = body.config;
  if (!isObject(config)) throw new DomainError(ERROR_CODES.BROKER_CONFIG_INVALID, 'config must be an object {listeners, options, bridges, passthrough}', [{ field: 'config' }]);
  const before = current(deps);
  const bridges = Array.isArray(config.bridges)
    ? config.bridges.map((b: unknown) => (isObject(b) ? bridgeFrom(b, before.bridges.find((x) => x.name === b.name), portOf(deps), store) : b))
    : config.bridges;
  return { type: 'SetBrokerConfig', data: { config: { ...config, ...(bridges === undefined ? {} : { bridges }) } } };
};

const changed = (deps: HttpDeps, ctx: Context, command: Command): void => {
  const cc = commandContext(ctx);
  const result = applyBrokerCommand(deps, command, cc);
  const state = deps.store.state();
  reply(ctx, 200, { config: configView(state.brokerConfig ?? emptyBrokerConfig()), restart_needed: result.restart_needed, generation: state.generation }, result.seq);
};

export const registerBrokerConfigRoutes = (router: Router, deps: HttpDeps): void => {
  mountRoutes(router, routes, {
    'GET /broker/config': (ctx) => {
      const state = deps.store.state();
      const p = deps.brokerConfig ?? null;
      const c = p?.context() ?? { reservedPorts: [], version: '2.0' as const };
      reply(ctx, 200, {
        config: configView(current(deps)),
        managed: p !== null,
        version: c.version,
        reserved_ports: c.reservedPorts,
        rendered: p?.render(current(deps), state.settings.allowAnonymous) ?? null,
        catalog: catalogFor(c.version),
      }, state.seq);
    },
    'PUT /broker/config': [validateBody('BrokerConfigBody'), (ctx) => changed(deps, ctx, configCommand(deps, bodyObject(ctx, '{config}'), true))],
    'POST /broker/config/preview': [validateBody('BrokerConfigBody'), (ctx) => {
      const body = bodyObject(ctx, '{config}');
      const preview = previewBrokerCommand(deps, configCommand(deps, body, false));
      reply(ctx, 200, { ...preview, config: configView(preview.config) }, preview.seq);
    }],
    'GET /broker/listeners': (ctx) => {
      const state = deps.store.state();
      reply(ctx, 200, { items: current(deps).listeners }, state.seq);
    },
    'PUT /broker/listeners/{name}': [validateBody('BrokerListener'), (ctx) => {
      const name = param(ctx, 'name');
      const body = bodyObject(ctx, 'a listener');
      changed(deps, ctx, { type: 'SetBrokerListener', data: { listener: { ...body, name } } });
    }],
    'DELETE /broker/listeners/{name}': (ctx) => changed(deps, ctx, { type: 'RemoveBrokerListener', data: { name: param(ctx, 'name') } }),
    'GET /broker/bridges': (ctx) => {
      const state = deps.store.state();
      reply(ctx, 200, { items: current(deps).bridges.map(bridgeView) }, state.seq);
    },
    'PUT /broker/bridges/{name}': [validateBody('BrokerBridge'), (ctx) => {
      const name = param(ctx, 'name');
      const body = bodyObject(ctx, 'a bridge');
      const bridge = bridgeFrom({ ...body, name }, current(deps).bridges.find((b) => b.name === name), portOf(deps), true);
      changed(deps, ctx, { type: 'SetBrokerBridge', data: { bridge } });
    }],
    'DELETE /broker/bridges/{name}': (ctx) => changed(deps, ctx, { type: 'RemoveBrokerBridge', data: { name: param(ctx, 'name') } }),
  });
};
