/**
 * GitOps over HTTP (DESIGN §8, admin only): `GET /export` is the bundle `mcm export` writes,
 * `POST /plan` and `POST /apply` take the files (name → YAML text) or the bundle as JSON. Apply
 * appends the whole diff as one batch with actor kind `gitops`, or nothing at all.
 */
import { brokerConfigManaged } from '../../broker-config/broker-context.ts';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { DomainError, ERROR_CODES } from '../../../core/errors.ts';
import type { Actor } from '../../../core/events.ts';
import type { GitopsBundle } from '../../../core/gitops-bundle.ts';
import { exportBundle } from '../../../projections/gitops-export.ts';
import { applyGitops, planGitops, type GitopsDeps } from '../../gitops/apply-bundle.ts';
import { checkBundleValue, gitopsInvalid, parseGitopsFiles, renderGitopsFiles } from '../../gitops/yaml-files.ts';
import type { HttpDeps } from '../deps.ts';
import { ifMatch } from '../etag.ts';
import { actorOf, reply } from './context.ts';
import { mountRoutes, type RouteSpec } from './route-spec.ts';

export const routes: readonly RouteSpec[] = [
  { method: 'GET', path: '/export', minRole: 'admin' },
  { method: 'POST', path: '/plan', minRole: 'admin' },
  { method: 'POST', path: '/apply', minRole: 'admin' },
];

const SOURCE_MAX = 512;
const BODY_KEYS = new Set(['files', 'bundle', 'source', 'expected_seq']);

type Request = { bundle: GitopsBundle; source: string | null; expectedSeq: number | undefined };

const invalid = (message: string, field: string): DomainError =>
  new DomainError(ERROR_CODES.VALIDATION, message, [{ field }]);

/**
 * `{files: {name: yaml}}` or `{bundle}` (exactly one), optional `source` (where the files come
 * from, recorded in the actor id) and `expected_seq` (the seq the plan was shown on; also
 * accepted as If-Match). Every problem of the files is reported at once (MCM_ERR_GITOPS_INVALID).
 */
const requestOf = (ctx: Context, deps: HttpDeps): Request => {
  const body = (ctx.request as { body?: unknown }).body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw invalid('the body must be {files} or {bundle}', 'body');
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((k) => !BODY_KEYS.has(k));
  if (unknown.length > 0) throw invalid(`unknown field ${JSON.stringify(unknown[0]?.slice(0, 100))}`, unknown[0]?.slice(0, 100) ?? '');
  if ((b['files'] === undefined) === (b['bundle'] === undefined)) throw invalid('give exactly one of files or bundle', 'files');
  const source = b['source'];
  if (source !== undefined && (typeof source !== 'string' || source.length === 0 || source.length > SOURCE_MAX || /[\u0000-\u001f\u007f]/.test(source))) {
    throw invalid(`source must be 1 to ${SOURCE_MAX} printable characters`, 'source');
  }
  const seq = b['expected_seq'];
  if (seq !== undefined && (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0)) throw invalid('expected_seq must be an integer >= 0', 'expected_seq');
  const opts = { serviceAccount: deps.serviceAccount };
  let result;
  if (b['files'] !== undefined) {
    const files = b['files'];
    if (files === null || typeof files !== 'object' || Array.isArray(files) || !Object.values(files).every((t) => typeof t === 'string')) {
      throw invalid('files must map file names to YAML text', 'files');
    }
    result = parseGitopsFiles(files as Record<string, string>, opts);
  } else {
    result = checkBundleValue(b['bundle'], opts);
  }
  if (!result.ok) throw gitopsInvalid(result.problems);
  const header = ifMatch(ctx);
  return { bundle: result.bundle, source: (source as string | undefined) ?? null, expectedSeq: (seq as number | undefined) ?? header };
};

/** Kind `gitops`; the id says where the files came from and who sent them (`dir:/srv/gitops by cli:alice`). */
const gitopsActor = (ctx: Context, source: string | null): Actor => {
  const who = actorOf(ctx);
  return {
    kind: 'gitops',
    id: `${source ?? 'api'} by ${who.kind}:${who.id}`,
    ...(who.ip === undefined ? {} : { ip: who.ip }),
    ...(who.request_id === undefined ? {} : { request_id: who.request_id }),
  };
};

export const registerGitopsRoutes = (router: Router, deps: HttpDeps): void => {
  const port = deps.brokerConfig ?? null;
  const gitops: GitopsDeps = {
    store: deps.store, clock: deps.clock, serviceAccount: deps.serviceAccount,
    ...(deps.backend ? { backend: deps.backend } : {}),
    // Read once per request would be exact; the port's context only changes with the broker's version.
    ...(port ? { broker: port.context(), bridgePasswordExists: (ref: string) => port.hasBridgePassword(ref) } : {}),
    brokerManaged: port !== null || brokerConfigManaged(deps.config),
  };
  mountRoutes(router, routes, {
    'GET /export': (ctx) => {
      const state = deps.store.state();
      const bundle = exportBundle(state);
      reply(ctx, 200, { files: renderGitopsFiles(bundle), bundle }, state.seq);
    },

    'POST /plan': (ctx) => {
      const { bundle } = requestOf(ctx, deps);
      const plan = planGitops(gitops, bundle);
      reply(ctx, 200, plan, plan.seq);
    },

    'POST /apply': (ctx) => {
      const req = requestOf(ctx, deps);
      const actor = gitopsActor(ctx, req.source);
      const out = applyGitops(gitops, req.bundle, { actor, ...(req.expectedSeq === undefined ? {} : { expectedSeq: req.expectedSeq }) });
      reply(ctx, 200, out, out.seq);
    },
  });
};
