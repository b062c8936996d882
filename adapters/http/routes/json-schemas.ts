/**
 * JSON schemas attached to topic filters (DESIGN §5): evaluated live on observed payloads,
 * observe-only. A schema is compiled with ajv when written, so one that would not compile never
 * enters the log (the core checks only its shape, core/decide/schemas.ts).
 */
import type Router from '@koa/router';
import type { Options, ValidateFunction } from 'ajv';
import { ajvForDialect } from '../../modules/ajv.ts';
import { DomainError, ERROR_CODES } from '../../../core/errors.ts';
import { own } from '../../../core/evolve/records.ts';
import { handleCommand } from '../../../core/handle-command.ts';
import type { BrokerConfig, JsonSchemaDef } from '../../../core/state.ts';
import { createViewCache, jsonSchemaView } from '../../../projections/views.ts';
import type { HttpDeps } from '../deps.ts';
import { setEtag } from '../etag.ts';
import { pageOf, parsePageQuery } from '../pagination.ts';
import { bodyOf, validateBody } from '../validate.ts';
import { commandContext, idParam, reply } from './context.ts';
import { API_PREFIX, mountRoutes, type RouteSpec } from './route-spec.ts';

const BASE = '/json-schemas';

export const routes: readonly RouteSpec[] = [
  { method: 'GET', path: BASE, minRole: 'auditor' },
  { method: 'POST', path: BASE, minRole: 'operator' },
  { method: 'GET', path: `${BASE}/{id}`, minRole: 'auditor' },
  { method: 'PUT', path: `${BASE}/{id}`, minRole: 'operator' },
  { method: 'DELETE', path: `${BASE}/{id}`, minRole: 'operator' },
];

type CreateBody = { name: string; topic_filter: string; schema: unknown; enabled?: boolean; description?: string };
type UpdateBody = { name?: string; topic_filter?: string; schema?: unknown; enabled?: boolean; description?: string };

const MAX_SCHEMA_DEPTH = 128;

/** Nesting depth of a JSON value, without recursion (the value may be deeper than the stack). */
const depthOf = (value: unknown): number => {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (d > max) max = d;
    if (d > MAX_SCHEMA_DEPTH) return d;
    if (v !== null && typeof v === 'object') for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
};

/**
 * Compiles `schema` with the dialect its `$schema` names (draft-07 when absent, the common case
 * for device payloads), or throws MCM_ERR_SCHEMA_INVALID with ajv's own message. Not strict:
 * annotations such as `example` are legal JSON Schema. A fresh instance per call, so an `$id`
 * reused across schemas never collides in a shared cache.
 */
export const compileJsonSchema = (schema: unknown): void => {
  // ajv compiles recursively: a pathologically deep schema would overflow the stack (a 500).
  // The core refuses more than 128 levels anyway (core/decide/schemas.ts), so refuse it first.
  if (depthOf(schema) > MAX_SCHEMA_DEPTH) {
    throw new DomainError(ERROR_CODES.SCHEMA_INVALID, `schema must be nested at most ${MAX_SCHEMA_DEPTH} levels`, [{ field: 'schema' }]);
  }
  const opts: Options = { strict: false, allErrors: true, validateSchema: true };
  const ajv = ajvForDialect(schema, opts);
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(schema as object | boolean);
  } catch (err) {
    throw new DomainError(ERROR_CODES.SCHEMA_INVALID, `schema does not compile: ${(err as Error).message}`, [{ field: 'schema' }]);
  }
  // `$async: true` compiles to a validator that returns a promise (ajv "Asynchronous
  // validation"): the observer validates synchronously, and the rejected promise of a failing
  // payload would go unhandled, which ends a Node process by default.
  if ((validate as { $async?: unknown }).$async === true) {
    throw new DomainError(ERROR_CODES.SCHEMA_INVALID, 'asynchronous schemas ($async: true) are not supported: payloads are validated synchronously', [{ field: 'schema' }]);
  }
};

/**
 * A schema view plus its live counters when the server runs the validator (deps.schemaStats):
 * valid_count, invalid_count, last_violation (adapters/observer/schema-validator.ts).
 */
const withStats = <V extends { id: number }>(deps: HttpDeps, view: V): V => {
  if (!deps.schemaStats) return view;
  const s = deps.schemaStats.stats(view.id);
  return { ...view, valid_count: s?.valid_count ?? 0, invalid_count: s?.invalid_count ?? 0, last_violation: s?.last_violation ?? null };
};

const schemaIn = (state: BrokerConfig, id: number): JsonSchemaDef => {
  const def = own(state.schemas, String(id));
  if (!def) throw new DomainError(ERROR_CODES.SCHEMA_NOT_FOUND, `JSON schema ${id} does not exist`, [{ id }]);
  return def;
};

export const registerJsonSchemaRoutes = (router: Router, deps: HttpDeps): void => {
  const views = createViewCache();

  mountRoutes(router, routes, {
    [`GET ${BASE}`]: (ctx) => {
      const state = deps.store.state();
      const page = pageOf(views.jsonSchemas(state), (s) => s.id, parsePageQuery(ctx.query));
      setEtag(ctx, state.seq);
      ctx.body = { ...page, items: page.items.map((v) => withStats(deps, v)) };
    },

    [`POST ${BASE}`]: [validateBody('JsonSchemaCreate'), (ctx) => {
      const body = bodyOf<CreateBody>(ctx);
      compileJsonSchema(body.schema);
      const result = handleCommand(deps, {
        type: 'AttachSchema',
        data: {
          name: body.name,
          topicFilter: body.topic_filter,
          schema: body.schema,
          ...(body.enabled === undefined ? {} : { enabled: body.enabled }),
          ...(body.description === undefined ? {} : { description: body.description }),
        },
      }, commandContext(ctx));
      const attached = result.events.find((e) => e.type === 'SchemaAttached');
      if (!attached || attached.type !== 'SchemaAttached') throw new Error('AttachSchema recorded no SchemaAttached event');
      ctx.set('Location', `${API_PREFIX}${BASE}/${attached.data.id}`);
      reply(ctx, 201, jsonSchemaView(schemaIn(deps.store.state(), attached.data.id)), result.seq);
    }],

    [`GET ${BASE}/{id}`]: (ctx) => {
      const state = deps.store.state();
      reply(ctx, 200, withStats(deps, jsonSchemaView(schemaIn(state, idParam(ctx)))), state.seq);
    },

    [`PUT ${BASE}/{id}`]: [validateBody('JsonSchemaUpdate'), (ctx) => {
      const id = idParam(ctx);
      const body = bodyOf<UpdateBody>(ctx);
      if (body.schema !== undefined) compileJsonSchema(body.schema);
      const result = handleCommand(deps, {
        type: 'ChangeSchema',
        data: {
          id,
          ...(body.name === undefined ? {} : { name: body.name }),
          ...(body.topic_filter === undefined ? {} : { topicFilter: body.topic_filter }),
          ...(body.schema === undefined ? {} : { schema: body.schema }),
          ...(body.enabled === undefined ? {} : { enabled: body.enabled }),
          ...(body.description === undefined ? {} : { description: body.description }),
        },
      }, commandContext(ctx));
      reply(ctx, 200, jsonSchemaView(schemaIn(deps.store.state(), id)), result.seq);
    }],

    [`DELETE ${BASE}/{id}`]: (ctx) => {
      const result = handleCommand(deps, { type: 'DetachSchema', data: { id: idParam(ctx) } }, commandContext(ctx));
      reply(ctx, 204, null, result.seq);
    },
  });
};
