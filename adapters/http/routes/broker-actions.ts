/**
 * Operator actions on the live broker (DESIGN §7, §8), both audited:
 * - `POST /broker/publish` {topic, payload, encoding?, qos?, retain?} publishes as MCM's service
 *   account on the observer's connection;
 * - `DELETE /retained/{topic}` clears a retained message (an empty retained publish,
 *   MQTT-3.3.1-6/7).
 * Order, so that a refused request leaves no misleading audit row: validate (body, size, and the
 * command itself with the pure `decide`), then check the observer is connected (503 otherwise),
 * then append the event (handleCommand: the audit row), then publish and wait for the broker's
 * acknowledgement (PUBACK / PUBCOMP for QoS >= 1). Only a broker failing between the check and
 * the acknowledgement leaves a recorded event without a delivery; the answer then says so.
 * The payload never enters the log: only its size and SHA-256.
 */
import type Router from '@koa/router';
import { createHash } from 'node:crypto';
import type { Context } from 'koa';
import type { Command } from '../../../core/commands.ts';
import { decide } from '../../../core/decide.ts';
import { DomainError, ERROR_CODES } from '../../../core/errors.ts';
import { handleCommand } from '../../../core/handle-command.ts';
import type { ObserverApi } from '../../mqtt/observer-api.ts';
import type { HttpDeps } from '../deps.ts';
import { HttpError } from '../errors.ts';
import { bodyOf, validateBody } from '../validate.ts';
import { BROKER_UNAVAILABLE, requireObserver } from './broker-status.ts';
import { commandContext, param, reply } from './context.ts';
import { mountRoutes, type RouteSpec } from './route-spec.ts';

export const routes: readonly RouteSpec[] = [
  { method: 'POST', path: '/broker/publish', minRole: 'operator' },
  { method: 'DELETE', path: '/retained/{topic}', minRole: 'operator' },
];

/** The publish tool is for operators poking at the broker, not for bulk data. */
export const MAX_PUBLISH_BYTES = 256 * 1024;
export const PAYLOAD_TOO_LARGE = 'MCM_ERR_PAYLOAD_TOO_LARGE';
export const BROKER_REFUSED = 'MCM_ERR_BROKER_REFUSED';

type PublishBody = { topic: string; payload: string; encoding?: 'utf8' | 'base64'; qos?: 0 | 1 | 2; retain?: boolean };

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const decodePayload = (body: PublishBody): Buffer => {
  if (body.encoding === 'base64') {
    const compact = body.payload.replace(/\s+/g, '');
    if (!BASE64.test(compact)) {
      throw new DomainError(ERROR_CODES.VALIDATION, 'payload is not valid base64', [{ field: 'payload' }]);
    }
    return Buffer.from(compact, 'base64');
  }
  return Buffer.from(body.payload, 'utf8');
};

/** Validates the command exactly as handleCommand will, without appending (decide is pure). */
const validated = (deps: HttpDeps, command: Command): Command => {
  decide(command, deps.store.state());
  return command;
};

const requireConnected = (o: ObserverApi): void => {
  if (!o.observer.connected()) {
    const s = o.observer.status();
    throw new HttpError(503, BROKER_UNAVAILABLE, `the broker is not reachable by the observer (${s.reason ?? s.state}); nothing was published or recorded`);
  }
};

/** After the event is recorded: publish, and say clearly if the broker did not take it. */
const publishRecorded = async (o: ObserverApi, seq: number, topic: string, payload: Buffer, qos: 0 | 1 | 2, retain: boolean): Promise<void> => {
  try {
    await o.observer.publish(topic, payload, { qos, retain });
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    const unavailable = !o.observer.connected() || (e instanceof Error && e.name === 'ObserverUnavailableError');
    throw new HttpError(unavailable ? 503 : 502, unavailable ? BROKER_UNAVAILABLE : BROKER_REFUSED,
      `recorded as seq ${seq}, but the broker did not acknowledge the publish: ${why}`, [{ seq }]);
  }
};

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

export const registerBrokerActionRoutes = (router: Router, deps: HttpDeps): void => {
  mountRoutes(router, routes, {
    'POST /broker/publish': [validateBody('BrokerPublishRequest'), async (ctx: Context) => {
      const cmdCtx = commandContext(ctx);
      const o = requireObserver(deps);
      const body = bodyOf<PublishBody>(ctx);
      const payload = decodePayload(body);
      if (payload.length > MAX_PUBLISH_BYTES) {
        throw new HttpError(413, PAYLOAD_TOO_LARGE, `payload is ${payload.length} bytes; the publish tool takes at most ${MAX_PUBLISH_BYTES}`, [
          { limit_bytes: MAX_PUBLISH_BYTES, bytes: payload.length },
        ]);
      }
      const qos = body.qos ?? 0;
      const retain = body.retain ?? false;
      const payloadSha256 = sha256(payload);
      const command = validated(deps, { type: 'PublishMessage', data: { topic: body.topic, qos, retain, bytes: payload.length, payloadSha256 } });
      requireConnected(o);
      const result = handleCommand(deps, command, cmdCtx);
      await publishRecorded(o, result.seq, body.topic, payload, qos, retain);
      reply(ctx, 200, { topic: body.topic, qos, retain, bytes: payload.length, payload_sha256: payloadSha256, seq: result.seq }, result.seq);
    }],

    'DELETE /retained/{topic}': async (ctx: Context) => {
      const cmdCtx = commandContext(ctx);
      const topic = param(ctx, 'topic');
      const o = requireObserver(deps);
      const command = validated(deps, { type: 'ClearRetained', data: { topic } });
      requireConnected(o);
      const result = handleCommand(deps, command, cmdCtx);
      // QoS 1 so the answer waits for the broker to have dropped the retained message.
      await publishRecorded(o, result.seq, topic, Buffer.alloc(0), 1, true);
      reply(ctx, 204, null, result.seq);
    },
  });
};
