/**
 * Time travel (DESIGN §4): `GET /state?at=SEQ` folds the log up to SEQ and shows the desired state
 * and the broker files as they were then. Password hashes are redacted in the password file view
 * (the API never shows hashes); the ACL file holds no secret and is shown as rendered.
 */
import type Router from '@koa/router';
import { DomainError, ERROR_CODES } from '../../../core/errors.ts';
import { fold } from '../../../core/evolve.ts';
import type { BrokerConfig } from '../../../core/state.ts';
import { REDACTED } from '../../../projections/audit-log.ts';
import { renderAclFileFromState } from '../../../projections/acl-file.ts';
import { renderPasswordFile } from '../../../projections/password-file.ts';
import { listAclRules, listJsonSchemas, listMqttUsers, listRoles, settingsView } from '../../../projections/views.ts';
import type { HttpDeps } from '../deps.ts';
import { queryInt } from '../pagination.ts';
import { createLogReader } from '../../sqlite/log-reader.ts';
import { reply } from './context.ts';
import { mountRoutes, type RouteSpec } from './route-spec.ts';

export const routes: readonly RouteSpec[] = [
  { method: 'GET', path: '/state', minRole: 'auditor' },
];

/** `alice:$7$101$…` → `alice:[redacted]`: who could log in, without anything to crack. */
export const redactPasswordFile = (text: string): string =>
  text.split('\n').map((line) => {
    const i = line.indexOf(':');
    return i < 0 ? line : `${line.slice(0, i + 1)}${REDACTED}`;
  }).join('\n');

export type StateView = ReturnType<typeof stateView>;

export const stateView = (state: BrokerConfig, serviceAccount: string) => ({
  seq: state.seq,
  generation: state.generation,
  users: listMqttUsers(state),
  roles: listRoles(state),
  rules: listAclRules(state),
  schemas: listJsonSchemas(state),
  settings: settingsView(state),
  password_file: redactPasswordFile(renderPasswordFile(state, { serviceAccount: { username: serviceAccount, passwordHash: REDACTED } })),
  acl_file: renderAclFileFromState(state, { serviceAccount, generation: state.generation }),
});

export const registerStateRoutes = (router: Router, deps: HttpDeps): void => {
  const path = deps.db.location();
  // Folding a big log takes seconds: on its own thread, so probes and heartbeats don't wait for it.
  const reader = path ? createLogReader({ dbPath: path }) : null;
  mountRoutes(router, routes, {
    'GET /state': async (ctx) => {
      const head = deps.store.headSeq();
      const at = queryInt(ctx.query, 'at') ?? head;
      if (at > head) {
        throw new DomainError(ERROR_CODES.VALIDATION, `at=${at} is beyond the last recorded seq ${head}`, [{ field: 'at', value: at, head }]);
      }
      // The head needs no replay: the store's state is that fold already.
      if (at === head) return reply(ctx, 200, stateView(deps.store.state(), deps.serviceAccount), at);
      const view = reader ? await reader.stateAt(at, deps.serviceAccount) : stateView(fold(deps.store.read({ to: at })), deps.serviceAccount);
      reply(ctx, 200, view, at);
    },
  });
};
