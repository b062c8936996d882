/**
 * Broker access settings (DESIGN §5), event-sourced like the rest: anonymous access (rendered as
 * allow_anonymous in supervised mode) and the `$7$` iteration count for new hashes.
 */
import type Router from '@koa/router';
import { handleCommand } from '../../../core/handle-command.ts';
import { settingsView } from '../../../projections/views.ts';
import type { HttpDeps } from '../deps.ts';
import { bodyOf, validateBody } from '../validate.ts';
import { commandContext, reply } from './context.ts';
import { mountRoutes, type RouteSpec } from './route-spec.ts';

export const routes: readonly RouteSpec[] = [
  { method: 'GET', path: '/settings', minRole: 'auditor' },
  { method: 'PUT', path: '/settings', minRole: 'admin' },
];

type UpdateBody = { allow_anonymous?: boolean; hash_iterations?: number };

export const registerSettingsRoutes = (router: Router, deps: HttpDeps): void => {
  mountRoutes(router, routes, {
    'GET /settings': (ctx) => {
      const state = deps.store.state();
      reply(ctx, 200, settingsView(state), state.seq);
    },

    'PUT /settings': [validateBody('SettingsUpdate'), (ctx) => {
      const body = bodyOf<UpdateBody>(ctx);
      const result = handleCommand(deps, {
        type: 'ChangeSettings',
        data: {
          ...(body.allow_anonymous === undefined ? {} : { allowAnonymous: body.allow_anonymous }),
          ...(body.hash_iterations === undefined ? {} : { hashIterations: body.hash_iterations }),
        },
      }, commandContext(ctx));
      reply(ctx, 200, settingsView(deps.store.state()), result.seq);
    }],
  });
};
