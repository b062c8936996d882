/**
 * ACL rules (DESIGN §5): `{id, principal, topic, access, description}`; topic filters are checked
 * by the core exactly as Mosquitto checks them. Explain and "who can" run the core's evaluator on
 * the same model the ACL file is rendered from, so their answer is the broker's (DESIGN §5).
 */
import type Router from '@koa/router';
import { buildAclModel, type AclModel } from '../../../core/acl-model.ts';
import type { CommandOf } from '../../../core/commands.ts';
import { DomainError, ERROR_CODES } from '../../../core/errors.ts';
import { own } from '../../../core/evolve/records.ts';
import { explain, whoCan } from '../../../core/explain.ts';
import { explainDynsec, whoCanDynsec } from '../../../projections/dynsec-explain.ts';
import { buildDynsecModel, type DynsecModel } from '../../../projections/dynsec-model.ts';
import { handleCommand } from '../../../core/handle-command.ts';
import type { AclRule } from '../../../core/acl-types.ts';
import type { BrokerConfig } from '../../../core/state.ts';
import { aclRuleView, createViewCache, filterAclRules } from '../../../projections/views.ts';
import type { HttpDeps } from '../deps.ts';
import { setEtag } from '../etag.ts';
import { createPageCache, pageOf, parsePageQuery, queryString } from '../pagination.ts';
import { bodyOf, validateBody } from '../validate.ts';
import { commandContext, idParam, reply, runCommand } from './context.ts';
import { API_PREFIX, mountRoutes, type RouteSpec } from './route-spec.ts';

const BASE = '/acls';

/** `/acls/who` and `/acls/explain` come before `/acls/{id}`: the first matching route answers. */
export const routes: readonly RouteSpec[] = [
  { method: 'GET', path: BASE, minRole: 'auditor' },
  { method: 'POST', path: BASE, minRole: 'operator' },
  { method: 'POST', path: `${BASE}/explain`, minRole: 'viewer' },
  { method: 'GET', path: `${BASE}/who`, minRole: 'viewer' },
  { method: 'GET', path: `${BASE}/{id}`, minRole: 'auditor' },
  { method: 'PUT', path: `${BASE}/{id}`, minRole: 'operator' },
  { method: 'DELETE', path: `${BASE}/{id}`, minRole: 'operator' },
];

export type AclRuleCreateBody = { principal: string; topic: string; access: string; description?: string };
export type AclRuleUpdateBody = { topic?: string; access?: string; description?: string };

/** The commands of these routes, shared with POST /batch. */
export const addAclRuleCommand = (body: AclRuleCreateBody): CommandOf<'AddAclRule'> => ({
  type: 'AddAclRule',
  data: {
    principal: body.principal,
    topic: body.topic,
    access: body.access,
    ...(body.description === undefined ? {} : { description: body.description }),
  },
});

export const changeAclRuleCommand = (id: number, body: AclRuleUpdateBody): CommandOf<'ChangeAclRule'> => ({
  type: 'ChangeAclRule',
  data: {
    id,
    ...(body.topic === undefined ? {} : { topic: body.topic }),
    ...(body.access === undefined ? {} : { access: body.access }),
    ...(body.description === undefined ? {} : { description: body.description }),
  },
});
type ExplainBody = { username?: string; clientid?: string; topic: string; action: 'read' | 'write' };

const ruleIn = (state: BrokerConfig, id: number): AclRule => {
  const rule = own(state.rules, String(id));
  if (!rule) throw new DomainError(ERROR_CODES.ACL_RULE_NOT_FOUND, `ACL rule ${id} does not exist`, [{ id }]);
  return rule;
};

const requiredQuery = (query: Record<string, unknown>, name: string): string => {
  const v = queryString(query, name);
  if (v === undefined || v === '') throw new DomainError(ERROR_CODES.VALIDATION, `query parameter "${name}" is required`, [{ field: name }]);
  return v;
};

export const registerAclRoutes = (router: Router, deps: HttpDeps): void => {
  const views = createViewCache();
  const pages = createPageCache();
  const opts = { serviceAccount: deps.serviceAccount };

  // Only events that move the generation change the model (DESIGN §6: users, grants, rules,
  // anonymous access), so one model per generation serves every explain in between.
  let cached: { state: BrokerConfig; generation: number; model: AclModel } | null = null;
  const modelOf = (state: BrokerConfig): AclModel => {
    if (cached === null || cached.state !== state || cached.generation !== state.generation) {
      cached = { state, generation: state.generation, model: buildAclModel(state, { serviceAccount: deps.serviceAccount, generation: state.generation }) };
    }
    return cached.model;
  };

  // Issue 15: with the dynamic-security backend the plugin's own evaluation order answers.
  let dynsecCached: { state: BrokerConfig; generation: number; model: DynsecModel } | null = null;
  const dynsecModelOf = (state: BrokerConfig): DynsecModel => {
    if (dynsecCached === null || dynsecCached.state !== state || dynsecCached.generation !== state.generation) {
      // The service account's hash only tells the model that it has a password.
      dynsecCached = { state, generation: state.generation, model: buildDynsecModel(state, { serviceAccount: deps.serviceAccount, serviceAccountHash: 'set' }) };
    }
    return dynsecCached.model;
  };
  const dynsec = deps.backend === 'dynsec';

  mountRoutes(router, routes, {
    [`GET ${BASE}`]: (ctx) => {
      const state = deps.store.state();
      const principal = queryString(ctx.query, 'principal');
      const topic = queryString(ctx.query, 'topic');
      const q = parsePageQuery(ctx.query);
      setEtag(ctx, state.seq);
      ctx.type = 'application/json';
      ctx.body = pages(state, JSON.stringify([principal, topic, q.limit, q.cursor]), () => {
        const all = views.aclRules(state);
        const list = principal === undefined && topic === undefined
          ? all
          : filterAclRules(all, { ...(principal === undefined ? {} : { principal }), ...(topic === undefined ? {} : { topic }) });
        return pageOf(list, (r) => r.id, q);
      });
    },

    [`POST ${BASE}`]: [validateBody('AclRuleCreate'), async (ctx) => {
      const body = bodyOf<AclRuleCreateBody>(ctx);
      // The answer is read as the rule was when it was added: a later write in the same group
      // commit may already have changed it.
      const { result, answer } = await runCommand(deps, addAclRuleCommand(body), ctx, (state, recorded) => {
        const added = recorded.find((e) => e.type === 'AclRuleAdded');
        if (!added || added.type !== 'AclRuleAdded') throw new Error('AddAclRule recorded no AclRuleAdded event');
        return { id: added.data.id, view: aclRuleView(ruleIn(state, added.data.id)) };
      });
      ctx.set('Location', `${API_PREFIX}${BASE}/${answer.id}`);
      reply(ctx, 201, answer.view, result.seq);
    }],

    [`POST ${BASE}/explain`]: [validateBody('ExplainRequest'), (ctx) => {
      const body = bodyOf<ExplainBody>(ctx);
      const state = deps.store.state();
      const query = { username: body.username ?? null, clientid: body.clientid ?? null, topic: body.topic, action: body.action };
      const result = dynsec ? explainDynsec(dynsecModelOf(state), state, query, opts) : explain(modelOf(state), state, query, opts);
      reply(ctx, 200, result, state.seq);
    }],

    [`GET ${BASE}/who`]: (ctx) => {
      const topic = requiredQuery(ctx.query, 'topic');
      const action = requiredQuery(ctx.query, 'action');
      if (action !== 'read' && action !== 'write') {
        throw new DomainError(ERROR_CODES.VALIDATION, 'query parameter "action" must be "read" or "write"', [{ field: 'action', value: action.slice(0, 100) }]);
      }
      const state = deps.store.state();
      const who = dynsec ? whoCanDynsec(dynsecModelOf(state), state, topic, action, opts) : whoCan(modelOf(state), state, topic, action, opts);
      reply(ctx, 200, { topic, action, ...who }, state.seq);
    },

    [`GET ${BASE}/{id}`]: (ctx) => {
      const state = deps.store.state();
      reply(ctx, 200, aclRuleView(ruleIn(state, idParam(ctx))), state.seq);
    },

    [`PUT ${BASE}/{id}`]: [validateBody('AclRuleUpdate'), (ctx) => {
      const id = idParam(ctx);
      const body = bodyOf<AclRuleUpdateBody>(ctx);
      const result = handleCommand(deps, changeAclRuleCommand(id, body), commandContext(ctx));
      reply(ctx, 200, aclRuleView(ruleIn(deps.store.state(), id)), result.seq);
    }],

    [`DELETE ${BASE}/{id}`]: (ctx) => {
      const result = handleCommand(deps, { type: 'RemoveAclRule', data: { id: idParam(ctx) } }, commandContext(ctx));
      reply(ctx, 204, null, result.seq);
    },
  });
};
