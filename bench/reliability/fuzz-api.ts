/**
 * Hostile input over HTTP (issue 8): property-based fuzzing of every API route (the router's own
 * list, adapters/http/routes/index.ts allRoutes()) with fast-check, against the real app with
 * working dependencies (fuzz-api-app.ts). Per case: no 5xx, an answer at all, and when the answer
 * is a refusal (4xx) nothing changed: neither the event log's head seq nor the folded state
 * (hashed, so an in-place mutation of the state without an event counts too). Accepted changes
 * (2xx) may change state. A 4xx that Koa produced must carry an `MCM_ERR_*` code (DESIGN §8).
 *
 * Replay: the seed is in the figures (and in every failure message); `MCM_FUZZ_SEED=<seed>`
 * replays the same requests in the same order (the state evolves the same way).
 *
 *   node bench/reliability/fuzz-api.ts            full scale (>= 10,000 cases)
 *   MCM_RELIABILITY_SCALE=ci node bench/reliability/fuzz-api.ts
 */
import { createHash, createHmac } from 'node:crypto';
import { maxHeaderSize } from 'node:http';
import fc from 'fast-check';
import jwt from 'jsonwebtoken';
import { fold } from '../../core/evolve.ts';
import { JWT_AUDIENCE, JWT_ISSUER } from '../../adapters/http/auth/jwt.ts';
import { JWT_SECRET_NAME } from '../../adapters/http/auth/services.ts';
import { allRoutes, type MountedRoute } from '../../adapters/http/routes/index.ts';
import { openApiDocument } from '../../adapters/http/validate.ts';
import { createCleanups } from './cleanups.ts';
import { atLeastRow, exactRow, figures, type FigureRow, type ReliabilityFigures, type ReliabilityOptions, runStandalone } from './figures.ts';
import { bodyBytes, caseArb, type FuzzCase, type GarbageAuth, type OperationInfo } from './fuzz-cases.ts';
import { FIXTURES, ROLE_USERS, startFuzzApp, type FuzzApp, type RawResponse } from './fuzz-api-app.ts';
import type { JsonSchema, SchemaIndex } from './fuzz-values.ts';

export const FUZZ_CASES = { full: 10_000, ci: 2_500 } as const;

/** Codes that mean the request never reached the route's handler. */
const NOT_HANDLED = new Set(['MCM_ERR_UNAUTHENTICATED', 'MCM_ERR_FORBIDDEN', 'MCM_ERR_TOKEN_NOT_ALLOWED', 'MCM_ERR_ROUTE_NOT_FOUND', 'MCM_ERR_METHOD_NOT_ALLOWED',
  'MCM_ERR_JSON_INVALID', 'MCM_ERR_UNSUPPORTED_MEDIA_TYPE', 'MCM_ERR_BODY_TOO_LARGE']);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/**
 * The one 5xx that is the right answer: 501 Not Implemented for a request method the server does
 * not implement at all (RFC 9110 §15.6.2; adapters/http/app.ts answers it with
 * MCM_ERR_METHOD_NOT_ALLOWED). A known method on a route that lacks it is 405.
 */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);
const isDocumented501 = (c: FuzzCase, res: RawResponse): boolean =>
  res.status === 501 && !KNOWN_METHODS.has(c.method) && errorCodeOf(res) === 'MCM_ERR_METHOD_NOT_ALLOWED';
/**
 * node:http refuses a request head (request line + headers) over its limit (16 KiB) itself, with a
 * 431 or, when the client is still sending, a reset: MCM never sees it. Such cases are counted
 * apart, not as missing answers.
 */
const headBytes = (c: FuzzCase, headers: Record<string, string>): number =>
  c.method.length + c.path.length + 12 + Object.entries(headers).reduce((n, [k, v]) => n + k.length + v.length + 4, 0);

export type FuzzFailure = { index: number; kind: string; route: string; request: string; status: number | null; answer: string };

type RouteTally = { cases: number; handled: number; ok2xx: number; statuses: Record<string, number> };

/** The OpenAPI operation of a route: its JSON request body schema and query parameter names. */
const operationOf = (route: MountedRoute): OperationInfo => {
  const doc = openApiDocument() as { paths?: Record<string, Record<string, unknown>>; components?: { parameters?: Record<string, { name: string; in: string }> } };
  const op = doc.paths?.[route.path]?.[route.method.toLowerCase()] as
    | { requestBody?: { content?: Record<string, { schema?: JsonSchema }> }; parameters?: ({ $ref?: string; name?: string; in?: string })[] }
    | undefined;
  const params = (op?.parameters ?? []).map((p) => (p.$ref ? doc.components?.parameters?.[p.$ref.split('/').pop() ?? ''] : p));
  return {
    bodySchema: op?.requestBody?.content?.['application/json']?.schema ?? null,
    query: params.filter((p) => p?.in === 'query').map((p) => p?.name ?? '').filter((n) => n !== ''),
  };
};

const describeCase = (c: FuzzCase): string => {
  const body = c.body.kind === 'none' ? '' : ` body=${c.body.kind}${c.body.kind === 'json' || c.body.kind === 'text' ? ` (${c.body.contentType ?? 'no content-type'})` : ''}:${
    (c.body.kind === 'json' || c.body.kind === 'bad-utf8' ? JSON.stringify(c.body.value) ?? 'undefined' : c.body.kind === 'text' ? c.body.text : '').slice(0, 300)}`;
  return `${c.method} ${c.path.slice(0, 300)} as ${c.garbage ?? c.auth}${c.ifMatch ? ` If-Match: ${c.ifMatch.slice(0, 40)}` : ''} [${c.mutation}]${body}`;
};

/** The Authorization header of a case (forged tokens are signed here, with the app's own key where that is the point). */
const authorization = (app: FuzzApp, c: FuzzCase): string | null => {
  if (c.auth === 'none') return null;
  if (c.auth !== 'garbage') return `Bearer ${app.token(c.auth)}`;
  const key = app.deps.secrets.getOrCreate(JWT_SECRET_NAME);
  const now = Math.floor(app.clock.ms() / 1000);
  const claims = { sub: ROLE_USERS.admin, tv: app.store.state().adminUsers[ROLE_USERS.admin]?.tokenVersion ?? 0, iat: now, exp: now + 3600, jti: 'fuzz' };
  const sign = (payload: object, k: Buffer | string = key, opts: jwt.SignOptions = {}): string =>
    jwt.sign(payload, k, { algorithm: 'HS256', issuer: JWT_ISSUER, audience: JWT_AUDIENCE, ...opts });
  const g = c.garbage as GarbageAuth;
  switch (g) {
    case 'tampered-admin-token': {
      const t = app.token('admin');
      return `Bearer ${t.slice(0, -2)}${t.endsWith('AA') ? 'BB' : 'AA'}`;
    }
    case 'alg-none':
      return `Bearer ${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ ...claims, iss: JWT_ISSUER, aud: JWT_AUDIENCE })).toString('base64url')}.`;
    case 'wrong-key': return `Bearer ${sign(claims, 'not-the-key-but-long-enough-for-hs256-0123456789')}`;
    case 'expired': return `Bearer ${sign({ ...claims, iat: now - 7200, exp: now - 3600 })}`;
    case 'wrong-audience': return `Bearer ${jwt.sign(claims, key, { algorithm: 'HS256', issuer: JWT_ISSUER, audience: 'someone-else' })}`;
    case 'sub:__proto__': return `Bearer ${sign({ ...claims, sub: '__proto__', tv: 0 })}`;
    case 'sub:constructor': return `Bearer ${sign({ ...claims, sub: 'constructor', tv: 0 })}`;
    case 'sub:nobody': return `Bearer ${sign({ ...claims, sub: 'nobody' })}`;
    case 'stale-token-version': return `Bearer ${sign({ ...claims, tv: claims.tv + 1000 })}`;
    case 'claims-wrong-types': return `Bearer ${rawHs256({ sub: 42, tv: '0', iat: 'now', exp: now + 3600, jti: null, iss: JWT_ISSUER, aud: JWT_AUDIENCE }, key)}`;
    case 'header:Basic': return 'Basic ZnV6ei1hZG1pbjpmdXp6LXBhc3N3b3JkLTAxMjM=';
    case 'header:Bearer': return 'Bearer';
    case 'header:bearer-lowercase-garbage': return 'bearer a.b.c';
    case 'header:cli-garbage': return 'Bearer mcm-cli.0123456789abcdef';
    case 'header:huge': return `Bearer ${'A'.repeat(6000)}`;
    case 'header:two-tokens': return `Bearer ${app.token('admin')}, Bearer ${app.token('viewer')}`;
  }
};

/** A JWT signed HS256 by hand: jsonwebtoken refuses to sign claims of the wrong types. */
const rawHs256 = (payload: object, key: Buffer): string => {
  const head = `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${head}.${createHmac('sha256', key).update(head).digest('base64url')}`;
};

const stateHash = (app: FuzzApp): string => createHash('sha256').update(JSON.stringify(app.store.state())).digest('hex');

const errorCodeOf = (res: RawResponse): string | null => {
  try {
    const code = (JSON.parse(res.text) as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' ? code : null;
  } catch {
    return null;
  }
};

export type FuzzApiOptions = ReliabilityOptions & Readonly<{ seed?: number; cases?: number }>;

export const fuzzApi = async (options: FuzzApiOptions): Promise<ReliabilityFigures> => {
  const { log } = options;
  const numRuns = options.cases ?? FUZZ_CASES[options.scale];
  const envSeed = process.env['MCM_FUZZ_SEED'];
  const seed = options.seed ?? (envSeed ? Number(envSeed) : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0);
  const cleanups = createCleanups();
  const crashes: string[] = [];
  const onCrash = (e: unknown): void => { crashes.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e)); };
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  try {
    const app = await startFuzzApp(cleanups);
    const routes = allRoutes();
    const components = ((openApiDocument() as { components?: { schemas?: SchemaIndex } }).components?.schemas ?? {});
    const arb = fc.oneof(...routes.map((r) => caseArb(r, operationOf(r), components)));
    const tallies = new Map<string, RouteTally>(routes.map((r) => [`${r.method} ${r.url}`, { cases: 0, handled: 0, ok2xx: 0, statuses: {} }]));
    const statuses: Record<string, number> = {};
    const mutations: Record<string, number> = {};
    const failures: FuzzFailure[] = [];
    const counts = { cases: 0, fiveXx: 0, noAnswer: 0, stateChanges: 0, readChanges: 0, noCode: 0, accepted: 0, refused: 0, repairs: 0, lockoutWaits: 0, headTooLarge: 0, unknownMethod501: 0 };
    let hash = stateHash(app);
    const limit = app.config.http.body_limit_bytes;
    log(`fuzz-api: ${numRuns} cases over ${routes.length} routes, seed ${seed} (replay: MCM_FUZZ_SEED=${seed})`);
    const started = performance.now();

    const runCase = async (c: FuzzCase): Promise<void> => {
      const index = counts.cases++;
      const tally = tallies.get(c.route) as RouteTally;
      tally.cases++;
      mutations[c.mutation] = (mutations[c.mutation] ?? 0) + 1;
      const { bytes, contentType } = bodyBytes(c.body, limit);
      const headers: Record<string, string> = { ...c.headers };
      const auth = authorization(app, c);
      if (auth !== null) headers['authorization'] = auth;
      if (contentType !== null && bytes !== undefined) headers['content-type'] = contentType;
      if (c.ifMatch !== null) headers['if-match'] = c.ifMatch;
      const seqBefore = app.store.headSeq();
      app.observeTraffic(index);
      const fail = (kind: string, status: number | null, answer: string): void => {
        failures.push({ index, kind, route: c.route, request: describeCase(c), status, answer: answer.slice(0, 400) });
      };
      let res: RawResponse;
      try {
        res = await app.send({ method: c.method, path: c.path, headers, ...(bytes === undefined ? {} : { body: bytes }) });
      } catch (e) {
        if (headBytes(c, headers) > maxHeaderSize) {
          counts.headTooLarge++;
          return;
        }
        counts.noAnswer++;
        fail('no answer', null, (e as Error).message);
        return;
      }
      if (res.status === 431 && headBytes(c, headers) > maxHeaderSize) counts.headTooLarge++;
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      tally.statuses[res.status] = (tally.statuses[res.status] ?? 0) + 1;
      const code = res.status >= 400 ? errorCodeOf(res) : null;
      if (isDocumented501(c, res)) {
        counts.unknownMethod501++;
      } else if (res.status >= 500) {
        counts.fiveXx++;
        fail('5xx', res.status, res.text);
      }
      if (res.status < 300) {
        tally.handled++;
        tally.ok2xx++;
        counts.accepted++;
      } else if (code !== null && !NOT_HANDLED.has(code)) {
        tally.handled++;
      }
      if (res.status >= 400 && res.status < 500) {
        counts.refused++;
        // Koa answered it (request id and security headers set): the error must carry a code.
        if (res.headers['x-request-id'] !== undefined && c.method !== 'HEAD' && (code === null || !/^MCM_ERR_[A-Z0-9_]+$/.test(code))) {
          counts.noCode++;
          fail('4xx without an MCM_ERR code', res.status, res.text);
        }
      }
      // A refusal, and a read of any kind, must leave the log and the state as they were.
      if (res.status >= 400 || SAFE_METHODS.has(c.method)) {
        const after = stateHash(app);
        if (app.store.headSeq() !== seqBefore || after !== hash) {
          const what = res.status >= 400 ? 'a refused request' : `a ${c.method}`;
          if (res.status >= 400) counts.stateChanges++;
          else counts.readChanges++;
          fail(`state changed by ${what} (seq ${seqBefore} → ${app.store.headSeq()}${after === hash ? '' : ', state hash changed'})`, res.status, res.text);
          hash = after;
        }
        if (res.status === 429) {
          // Fuzzed sign-ins locked this address out: move the (manual) clock on so later cases still reach the handler.
          counts.lockoutWaits++;
          app.clock.advance(Number(res.headers['retry-after'] ?? 900) + 1);
        }
      } else {
        if (app.store.headSeq() !== seqBefore) counts.repairs += await app.keep();
        hash = stateHash(app);
      }
      if (counts.cases % 1000 === 0) log(`fuzz-api: ${counts.cases} cases, ${counts.fiveXx} 5xx, ${counts.stateChanges} state changes, ${Math.round(performance.now() - started)} ms`);
    };

    await fc.assert(fc.asyncProperty(arb, async (c) => { await runCase(c); return true; }), { seed, numRuns, endOnFailure: true });
    const durationMs = performance.now() - started;

    // After the barrage: the server still answers, the chain verifies, the folded state is what a replay of the log gives.
    const health = await app.send({ method: 'GET', path: '/healthz', headers: {} });
    const verify = await app.send({ method: 'GET', path: '/api/v1/events/verify', headers: { authorization: `Bearer ${app.token('admin')}` } });
    const chainOk = verify.status === 200 && (JSON.parse(verify.text) as { ok?: unknown }).ok === true;
    const replayed = JSON.stringify(fold(app.store.read()));
    const replayEqual = replayed === JSON.stringify(app.store.state());
    const uncovered = [...tallies].filter(([, t]) => t.handled === 0).map(([r]) => r);
    const with2xx = [...tallies].filter(([, t]) => t.ok2xx > 0).length;

    const rows: FigureRow[] = [
      atLeastRow('fuzz cases', counts.cases, numRuns),
      { figure: 'routes fuzzed, each with cases its handler decided', value: `${routes.length - uncovered.length} of ${routes.length}`, target: `all ${routes.length}`, ok: uncovered.length === 0 },
      exactRow('5xx answers', counts.fiveXx, 0),
      exactRow('requests without an answer (reset, timeout)', counts.noAnswer, 0),
      exactRow('refused requests (4xx) that changed state', counts.stateChanges, 0),
      exactRow('GET/HEAD/OPTIONS requests that changed state', counts.readChanges, 0),
      exactRow('4xx answers without an MCM_ERR code', counts.noCode, 0),
      exactRow('uncaught exceptions and unhandled rejections', crashes.length, 0),
      exactRow('observer processor failures (published payloads)', app.processorFailures(), 0),
      { figure: 'server answers /healthz afterwards', value: health.status, target: '200', ok: health.status === 200 },
      { figure: 'event chain verifies afterwards', value: chainOk ? 'yes' : 'no', target: 'yes', ok: chainOk },
      { figure: 'state equals a replay of the log', value: replayEqual ? 'yes' : 'no', target: 'yes', ok: replayEqual },
      { figure: '501 for an unknown method (RFC 9110 §15.6.2, the right answer; not counted above)', value: counts.unknownMethod501, ok: true },
      { figure: 'request heads over 16 KiB refused by node:http (431 or reset)', value: counts.headTooLarge, ok: true },
      { figure: 'accepted (2xx) / refused (4xx)', value: `${counts.accepted} / ${counts.refused}`, ok: true },
      { figure: 'routes with at least one 2xx', value: `${with2xx} of ${routes.length}`, ok: true },
      { figure: 'cases per second', value: Math.round(counts.cases / (durationMs / 1000)), ok: true },
      { figure: 'seed', value: seed, ok: true },
    ];
    return figures('fuzz-api', rows, {
      seed, replay: `MCM_FUZZ_SEED=${seed}`, cases: counts.cases, duration_ms: Math.round(durationMs), counts, statuses, mutations,
      uncovered_routes: uncovered, per_route: Object.fromEntries(tallies), failures: failures.slice(0, 50), failure_count: failures.length,
      crashes: crashes.slice(0, 10), fixtures: FIXTURES, head_seq: app.store.headSeq(),
    });
  } finally {
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
    await cleanups.run();
  }
};

if (import.meta.main) await runStandalone(fuzzApi, (r) => (r.data['failures'] as FuzzFailure[]).slice(0, 20).map((f) => `  #${f.index} ${f.kind} ${f.status ?? ''}: ${f.request}\n    → ${f.answer}`));
