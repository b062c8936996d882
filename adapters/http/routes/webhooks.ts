/**
 * Webhook endpoints (issue 5, DESIGN §8: admin only): event-sourced like every admin change. The
 * signing secret is generated here, shown once (create and rotate answer it with
 * `Cache-Control: no-store`) and kept only sealed (adapters/webhooks/webhook-secret.ts). The
 * URL's host is resolved and refused when private before deciding (SSRF,
 * adapters/webhooks/address-guard.ts; config webhooks.allow_private). Deliveries come from the
 * outbox table, newest first.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { assertWebhookUrl } from '../../../core/decide/webhooks.ts';
import { DomainError, ERROR_CODES } from '../../../core/errors.ts';
import { own } from '../../../core/evolve/records.ts';
import { handleCommand } from '../../../core/handle-command.ts';
import type { BrokerConfig, Webhook } from '../../../core/state.ts';
import { assertPublicWebhookHost } from '../../webhooks/address-guard.ts';
import { createWebhookOutbox, DELIVERY_STATUSES, type Delivery, type DeliveryStatus } from '../../webhooks/outbox.ts';
import { generateWebhookSecret, sealWebhookSecret } from '../../webhooks/webhook-secret.ts';
import type { HttpDeps } from '../deps.ts';
import { setEtag } from '../etag.ts';
import { encodeCursor, pageOf, parsePageQuery, queryString } from '../pagination.ts';
import { bodyOf, validateBody } from '../validate.ts';
import { commandContext, idParam, reply } from './context.ts';
import { API_PREFIX, mountRoutes, type RouteSpec } from './route-spec.ts';

const BASE = '/webhooks';

export const routes: readonly RouteSpec[] = [
  { method: 'GET', path: BASE, minRole: 'admin' },
  { method: 'POST', path: BASE, minRole: 'admin' },
  { method: 'GET', path: `${BASE}/{id}`, minRole: 'admin' },
  { method: 'PUT', path: `${BASE}/{id}`, minRole: 'admin' },
  { method: 'DELETE', path: `${BASE}/{id}`, minRole: 'admin' },
  { method: 'POST', path: `${BASE}/{id}/rotate-secret`, minRole: 'admin' },
  { method: 'GET', path: `${BASE}/{id}/deliveries`, minRole: 'admin' },
];

type CreateBody = { url: string; events: string[]; enabled?: boolean; description?: string };
type UpdateBody = { url?: string; events?: string[]; enabled?: boolean; description?: string };

/** The API view: never the secret, sealed or not. */
export const webhookView = (h: Webhook) => ({
  id: h.id,
  url: h.url,
  events: [...h.events],
  enabled: h.enabled,
  description: h.description,
  created_at: h.createdAt,
  updated_at: h.updatedAt,
});

const deliveryView = (d: Delivery) => ({
  id: d.id,
  webhook_id: d.webhook_id,
  event_type: d.event_type,
  status: d.status,
  attempts: d.attempts,
  next_attempt_at: d.status === 'pending' ? d.next_attempt_at : null,
  last_status_code: d.last_status_code,
  last_error: d.last_error,
  created_at: d.created_at,
  delivered_at: d.delivered_at,
  data: d.data,
});

const webhookIn = (state: BrokerConfig, id: number): Webhook => {
  const hook = own(state.webhooks, String(id));
  if (!hook) throw new DomainError(ERROR_CODES.WEBHOOK_NOT_FOUND, `webhook ${id} does not exist`, [{ id }]);
  return hook;
};

/** The secret is in this response only: no cache may keep it. */
const withSecret = (ctx: Context, hook: Webhook, secret: string) => {
  ctx.set('Cache-Control', 'no-store');
  return { ...webhookView(hook), secret };
};

const isStatus = (s: string): s is DeliveryStatus => (DELIVERY_STATUSES as readonly string[]).includes(s);

export const registerWebhookRoutes = (router: Router, deps: HttpDeps): void => {
  const outbox = createWebhookOutbox({ db: deps.db });
  /** Shape first (the core's rules, without DNS), then where the host points (SSRF). */
  const checkUrl = async (url: string): Promise<void> => {
    await assertPublicWebhookHost(assertWebhookUrl(url), { allowPrivate: deps.config.webhooks.allow_private });
  };

  mountRoutes(router, routes, {
    [`GET ${BASE}`]: (ctx) => {
      const state = deps.store.state();
      const all = Object.values(state.webhooks).sort((a, b) => a.id - b.id).map(webhookView);
      setEtag(ctx, state.seq);
      ctx.body = pageOf(all, (h) => h.id, parsePageQuery(ctx.query));
    },

    [`POST ${BASE}`]: [validateBody('WebhookCreate'), async (ctx) => {
      const cmd = commandContext(ctx);
      const body = bodyOf<CreateBody>(ctx);
      await checkUrl(body.url);
      const secret = generateWebhookSecret();
      // No await from here to the append (STYLE principle 3).
      const result = handleCommand(deps, {
        type: 'CreateWebhook',
        data: {
          url: body.url,
          events: body.events,
          secretCiphertext: sealWebhookSecret(deps.secrets, secret),
          ...(body.enabled === undefined ? {} : { enabled: body.enabled }),
          ...(body.description === undefined ? {} : { description: body.description }),
        },
      }, cmd);
      const created = result.events.find((e) => e.type === 'WebhookCreated');
      if (!created || created.type !== 'WebhookCreated') throw new Error('CreateWebhook recorded no WebhookCreated event');
      ctx.set('Location', `${API_PREFIX}${BASE}/${created.data.id}`);
      reply(ctx, 201, withSecret(ctx, webhookIn(deps.store.state(), created.data.id), secret), result.seq);
    }],

    [`GET ${BASE}/{id}`]: (ctx) => {
      const state = deps.store.state();
      reply(ctx, 200, webhookView(webhookIn(state, idParam(ctx))), state.seq);
    },

    [`PUT ${BASE}/{id}`]: [validateBody('WebhookUpdate'), async (ctx) => {
      const id = idParam(ctx);
      const cmd = commandContext(ctx);
      const body = bodyOf<UpdateBody>(ctx);
      webhookIn(deps.store.state(), id); // 404 before any DNS
      if (body.url !== undefined) await checkUrl(body.url);
      const result = handleCommand(deps, {
        type: 'UpdateWebhook',
        data: {
          id,
          ...(body.url === undefined ? {} : { url: body.url }),
          ...(body.events === undefined ? {} : { events: body.events }),
          ...(body.enabled === undefined ? {} : { enabled: body.enabled }),
          ...(body.description === undefined ? {} : { description: body.description }),
        },
      }, cmd);
      reply(ctx, 200, webhookView(webhookIn(deps.store.state(), id)), result.seq);
    }],

    [`DELETE ${BASE}/{id}`]: (ctx) => {
      const result = handleCommand(deps, { type: 'DeleteWebhook', data: { id: idParam(ctx) } }, commandContext(ctx));
      reply(ctx, 204, null, result.seq);
    },

    [`POST ${BASE}/{id}/rotate-secret`]: (ctx) => {
      const id = idParam(ctx);
      const secret = generateWebhookSecret();
      const result = handleCommand(deps, {
        type: 'RotateWebhookSecret',
        data: { id, secretCiphertext: sealWebhookSecret(deps.secrets, secret) },
      }, commandContext(ctx));
      reply(ctx, 200, withSecret(ctx, webhookIn(deps.store.state(), id), secret), result.seq);
    },

    [`GET ${BASE}/{id}/deliveries`]: (ctx) => {
      const state = deps.store.state();
      const hook = webhookIn(state, idParam(ctx));
      const q = parsePageQuery(ctx.query);
      if (q.cursor !== undefined && typeof q.cursor !== 'number') {
        throw new DomainError(ERROR_CODES.VALIDATION, 'cursor is not valid for this collection', [{ field: 'cursor' }]);
      }
      const status = queryString(ctx.query, 'status');
      if (status !== undefined && !isStatus(status)) {
        throw new DomainError(ERROR_CODES.VALIDATION, `query parameter "status" must be one of ${DELIVERY_STATUSES.join(', ')}`, [
          { field: 'status', value: status.slice(0, 100) },
        ]);
      }
      const page = outbox.list(hook.id, {
        limit: q.limit,
        ...(q.cursor === undefined ? {} : { before: q.cursor }),
        ...(status === undefined ? {} : { status }),
      });
      ctx.body = { items: page.items.map(deliveryView), next: page.next === null ? null : encodeCursor(page.next) };
    },
  });
};
