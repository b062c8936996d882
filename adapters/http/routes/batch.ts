/**
 * `POST /batch` (operator; issue 14 "Performance at 100,000 users"): writes of the mqtt-users,
 * roles and acls routes as ONE append, all or nothing. Every operation is validated first (the
 * single route's body schema, batch-ops.ts), then every password is hashed — in parallel, on the
 * libuv pool, before anything is decided (STYLE principle 3) — then handleBatch decides the
 * commands in order, each against the state the ones before it leave, inside one write
 * transaction. One transaction means one apply: the broker files are rendered and reloaded once.
 *
 * A batch of 100,000 users is tens of megabytes of JSON, so this route reads its own body with a
 * 64 MiB limit, after the role check (as POST /import does); every other route keeps
 * http.body_limit_bytes.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { DomainError, ERROR_CODES, isDomainError, type ErrorDetail } from '../../../core/errors.ts';
import { handleBatch, type BatchResult } from '../../../core/handle-batch.ts';
import { hashAll } from '../../mosquitto/hash-all.ts';
import { deferredJsonBody } from '../body.ts';
import type { HttpDeps } from '../deps.ts';
import { HTTP_ERROR_CODES, HttpError } from '../errors.ts';
import { problemsWith } from '../validate.ts';
import { BATCH_OPS, opSpec, type BatchOperation, type OpSpec } from './batch-ops.ts';
import { commandContext, reply } from './context.ts';
import { generatePassword, refuseReserved } from './mqtt-users.ts';
import { API_PREFIX, mountRoutes, type RouteSpec } from './route-spec.ts';

/**
 * Every operation's single route needs operator (DESIGN §8), so the batch does too: a static floor,
 * the highest of its operations' (tests/adapters/http-batch.test.ts checks it stays so).
 */
export const routes: readonly RouteSpec[] = [
  { method: 'POST', path: '/batch', minRole: 'operator' },
];

/** 200,000 operations of ~100 bytes (a user with a password, a rule) fit three times over. */
export const BATCH_BODY_LIMIT_BYTES = 64 * 1024 * 1024;
/** 100,000 users with a rule each, the size issue 14 asks for; a bigger batch is refused (413). */
export const MAX_BATCH_OPERATIONS = 200_000;
/** An invalid batch names at most this many problems: 200,000 bad operations must not make a 20 MB error. */
const MAX_DETAILS = 100;

const OWN_BODY = new RegExp(`^${API_PREFIX}/batch/?$`, 'i');

/** For app.ts: the global body parser leaves this route's body to `deferredJsonBody` below. */
export const readsOwnBody = (ctx: Context): boolean => ctx.method === 'POST' && OWN_BODY.test(ctx.path);

type BatchRequest = { operations: BatchOperation[] };

const refuseOversized = (body: unknown): void => {
  const ops = body !== null && typeof body === 'object' ? (body as { operations?: unknown }).operations : undefined;
  if (Array.isArray(ops) && ops.length > MAX_BATCH_OPERATIONS) {
    throw new HttpError(413, HTTP_ERROR_CODES.BATCH_TOO_LARGE,
      `a batch holds at most ${MAX_BATCH_OPERATIONS} operations, this one has ${ops.length}: split it; nothing was changed`,
      [{ limit: MAX_BATCH_OPERATIONS, operations: ops.length }]);
  }
};

const opNameAt = (body: unknown, index: number): string | undefined => {
  const op = ((body as { operations?: unknown[] }).operations?.[index] as { op?: unknown } | undefined)?.op;
  return typeof op === 'string' ? op.slice(0, 100) : undefined;
};

const OPERATION_PATH = /^\/operations\/(\d+)(\/.*)?$/;
const OP_NAMES = Object.keys(BATCH_OPS);

/** The schema's problems, each named by its operation's index and a path inside that operation. */
const validationDetails = (body: unknown): ErrorDetail[] =>
  problemsWith('BatchRequest', body).map((d) => {
    const path = String(d['path']);
    const m = OPERATION_PATH.exec(path);
    if (!m) return { code: ERROR_CODES.VALIDATION, message: String(d['message']), path };
    const index = Number(m[1]);
    const inner = m[2] ?? '/';
    const op = opNameAt(body, index);
    // BatchOperation picks its schema by `op` (an OpenAPI discriminator); Ajv's words for a
    // missing or unknown one name no operation.
    const message = d['keyword'] === 'discriminator'
      ? `op must be one of ${OP_NAMES.join(', ')}`
      : String(d['message']).startsWith(path) ? `${inner}${String(d['message']).slice(path.length)}` : String(d['message']);
    return { index, ...(op === undefined ? {} : { op }), code: ERROR_CODES.VALIDATION, message, path: inner };
  });

const validate = (body: unknown): BatchRequest => {
  const details = validationDetails(body);
  if (details.length === 0) return body as BatchRequest;
  const first = details[0] as { index?: number; op?: string; message: string };
  const where = first.index === undefined ? '' : ` operation ${first.index}${first.op === undefined ? '' : ` (${first.op})`}:`;
  const more = details.length > 1 ? ` (and ${details.length - 1} more problem${details.length > 2 ? 's' : ''})` : '';
  throw new DomainError(ERROR_CODES.VALIDATION, `invalid batch,${where} ${first.message}${more}; nothing was changed`, details.slice(0, MAX_DETAILS));
};

/** `err`, raised for operation `index`, as the batch's error: same code and status, naming the operation. */
const atOperation = (err: unknown, index: number, op: string): unknown => {
  if (!isDomainError(err) && !(err instanceof HttpError)) return err;
  const message = `operation ${index} (${op}) was refused, so nothing was changed: ${err.message}`;
  const details = [{ index, op, code: err.code, message: err.message, details: err.details }];
  return err instanceof HttpError ? new HttpError(err.status, err.code, message, details, err.headers) : new DomainError(err.code, message, details);
};

/** handleBatch names the refused command by its index (core/handle-batch.ts); commands are one per operation. */
const refusedOperation = (err: unknown, ops: readonly BatchOperation[]): unknown => {
  if (!isDomainError(err)) return err;
  const [first, ...rest] = err.details;
  const index = first?.['index'];
  if (typeof index !== 'number' || typeof first?.['reason'] !== 'string') return err; // stale (412), storage: as they are
  const op = ops[index]?.op ?? '?';
  return new DomainError(err.code, `operation ${index} (${op}) was refused, so nothing was changed: ${first['reason']}`, [
    { index, op, code: err.code, message: first['reason'], details: rest },
  ]);
};

type Prepared = { o: BatchOperation; spec: OpSpec; password: string | undefined; generated: string | undefined };

const prepare = (ops: readonly BatchOperation[], serviceAccount: string): Prepared[] => ops.map((o, index) => {
  const spec = opSpec(o.op);
  const username = spec.username?.(o);
  try {
    if (username !== undefined) refuseReserved(username, serviceAccount);
  } catch (err) {
    throw atOperation(err, index, o.op);
  }
  const given = spec.password?.(o);
  const generated = given !== undefined && given.given === undefined ? generatePassword() : undefined;
  return { o, spec, password: given?.given ?? generated, generated };
});

const resultsOf = (prepared: readonly Prepared[], result: BatchResult): Record<string, unknown>[] => {
  let at = 0;
  return prepared.map((p, index) => {
    const count = result.counts[index] ?? 0;
    const events = count === 0 ? [] : result.events.slice(at, at + count);
    at += count;
    return { op: p.o.op, index, ...p.spec.subject(p.o, events), ...(p.generated === undefined ? {} : { password: p.generated }) };
  });
};

export const registerBatchRoutes = (router: Router, deps: HttpDeps): void => {
  mountRoutes(router, routes, {
    'POST /batch': [deferredJsonBody(BATCH_BODY_LIMIT_BYTES), async (ctx) => {
      const cmdCtx = commandContext(ctx);
      const body = ctx.request.body;
      refuseOversized(body);
      const { operations } = validate(body);
      const prepared = prepare(operations, deps.serviceAccount);
      // In parallel: pbkdf2 is asynchronous, so the libuv pool spreads the hashes over every core.
      const hashes = await hashAll(deps.mqttHasher, prepared.map((p) => p.password), deps.store.state().settings.hashIterations, {
        failed: (err, index) => atOperation(err, index, prepared[index]?.o.op ?? '?'),
      });
      const commands = prepared.map((p, index) => p.spec.command(p.o, hashes[index] ?? ''));
      let result: BatchResult;
      try {
        result = handleBatch(deps, commands, cmdCtx);
      } catch (err) {
        throw refusedOperation(err, operations);
      }
      if (prepared.some((p) => p.generated !== undefined)) ctx.set('Cache-Control', 'no-store');
      reply(ctx, 200, { seq: result.seq, events_count: result.events.length, results: resultsOf(prepared, result) }, result.seq);
    }],
  });
};
