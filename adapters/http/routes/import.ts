/**
 * `POST /import` (admin; issue "Adopt an existing Mosquitto"): plan or apply the import of an
 * existing Mosquitto's password_file and acl_file — their contents in the body, or, when none is
 * given, the files this server is configured with. The same ImportInput and the same batch
 * (ImportBrokerFiles, actor kind `import`) as `mcm import`. A posted `mosquitto_conf` adds its
 * allow_anonymous and its broker configuration (issue "Broker configuration as events"); the
 * files it names (include_dir confs, certificates and keys) are taken from `conf_files` only,
 * never from this server's disk. Files of 100,000 users are tens of megabytes, so this route
 * reads its own body with a 64 MiB limit, after the admin check.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Actor } from '../../../core/events.ts';
import type { ImportFile, ImportWarning } from '../../../core/import/import-types.ts';
import { renderedFilePaths } from '../../doctor/check-broker-files.ts';
import { brokerContextOf, externalModeWarnings, prepareBrokerConf, type PreparedBrokerConf } from '../../import/broker-conf-import.ts';
import { postedConfSource } from '../../import/conf-source.ts';
import { readConf } from '../../import/read-mosquitto-conf.ts';
import { filesActorId, importFileOfText, importInvalid } from '../../import/import-file.ts';
import { brokerLineOf } from '../../mosquitto/broker-version.ts';
import { buildImportInput, readImportFiles } from '../../import/read-import-files.ts';
import { applyImport, planImportOutcome, type ImportApplyOutcome } from '../../import/run-import.ts';
import { createApplyResults, GOOD_FILES_KEY_NAME } from '../../sqlite/apply-results.ts';
import { deferredJsonBody } from '../body.ts';
import type { HttpDeps } from '../deps.ts';
import { ifMatch } from '../etag.ts';
import { bodyOf, validateBody } from '../validate.ts';
import { actorOf, reply } from './context.ts';
import { API_PREFIX, mountRoutes, type RouteSpec } from './route-spec.ts';

export const routes: readonly RouteSpec[] = [
  { method: 'POST', path: '/import', minRole: 'admin' },
];

/** 100,000 users with `$7$` lines (~130 bytes) and 100,000 ACL lines fit with room to spare. */
export const IMPORT_BODY_LIMIT_BYTES = 64 * 1024 * 1024;

const OWN_BODY = new RegExp(`^${API_PREFIX}/import/?$`, 'i');

/** For app.ts: the global body parser leaves this route's body to `deferredJsonBody` below. */
export const readsOwnBody = (ctx: Context): boolean => ctx.method === 'POST' && OWN_BODY.test(ctx.path);

type ImportRequest = {
  mode: 'plan' | 'apply';
  password_file?: string;
  acl_file?: string;
  mosquitto_conf?: string;
  /** The files the conf names (include_dir confs, TLS files), by the path as the conf writes it. */
  conf_files?: Record<string, string>;
  expected_seq?: number;
  source?: string;
};

type Read = {
  passwordFile: ImportFile | null; aclFile: ImportFile | null; allowAnonymous: boolean | null; warnings: ImportWarning[]; source: string;
  brokerConf: PreparedBrokerConf | null;
};

type PostedConf = { allowAnonymous: boolean | null; warnings: ImportWarning[]; brokerConf: PreparedBrokerConf | null };

/**
 * A posted mosquitto.conf, read as `mcm import --conf` reads one from the disk, but every file it
 * names comes from `conf_files`: the server never reads paths named in a posted conf (that would
 * let a request read any file the server may). A certificate not sent refuses the import, naming it.
 */
const readPostedConf = (deps: HttpDeps, body: ImportRequest): PostedConf => {
  if (body.mosquitto_conf === undefined) return { allowAnonymous: null, warnings: [], brokerConf: null };
  const files = body.conf_files ?? {};
  for (const [path, text] of Object.entries(files)) importFileOfText(text, 'mosquitto_conf', path);
  const source = postedConfSource(files);
  const conf = readConf(source, { mainPath: 'mosquitto.conf', mainText: importFileOfText(body.mosquitto_conf, 'mosquitto_conf').text });
  const warnings = [...conf.warnings, ...externalModeWarnings(deps.config)];
  for (const dir of conf.broker.parsed.includeDirs) {
    const listed = source.list(dir);
    if (Array.isArray(listed) && listed.length === 0) {
      warnings.push({ file: 'mosquitto_conf', code: 'include_dir_not_sent', message: `include_dir ${dir}: none of its files were sent in conf_files, so nothing of it is imported` });
    }
  }
  return { allowAnonymous: conf.allowAnonymous, warnings, brokerConf: prepareBrokerConf(conf.broker, new Date(deps.clock.now())) };
};

/** The files of the request: the posted texts, or the configured files read from this server's disk. */
const readRequest = (deps: HttpDeps, body: ImportRequest): Read => {
  const conf = readPostedConf(deps, body);
  if (body.password_file === undefined && body.acl_file === undefined) {
    const files = readImportFiles({ configured: renderedFilePaths(deps.config) });
    return { passwordFile: files.passwordFile, aclFile: files.aclFile, ...conf, source: body.source ?? filesActorId(files.paths) };
  }
  return {
    passwordFile: body.password_file === undefined ? null : importFileOfText(body.password_file, 'password_file'),
    aclFile: body.acl_file === undefined ? null : importFileOfText(body.acl_file, 'acl_file'),
    ...conf,
    source: body.source ?? 'files:upload',
  };
};

/** Kind `import`; the id says where the files came from and who sent them (`files:/etc/mosquitto/passwd by admin:alice`). */
const importActor = (ctx: Context, source: string): Actor => {
  const who = actorOf(ctx);
  return {
    kind: 'import',
    id: `${source} by ${who.kind}:${who.id}`,
    ...(who.ip === undefined ? {} : { ip: who.ip }),
    ...(who.request_id === undefined ? {} : { request_id: who.request_id }),
  };
};

export const registerImportRoutes = (router: Router, deps: HttpDeps): void => {
  // The server's own key (read when needed: the server creates it at start): records are trusted
  // only with a matching HMAC.
  const lastGoodFiles = () => createApplyResults({ db: deps.db, key: deps.secrets.read(GOOD_FILES_KEY_NAME) }).lastGoodFiles();
  mountRoutes(router, routes, {
    'POST /import': [deferredJsonBody(IMPORT_BODY_LIMIT_BYTES), validateBody('ImportRequest'), (ctx) => {
      const body = bodyOf<ImportRequest>(ctx);
      const expectedSeq = body.expected_seq ?? ifMatch(ctx);
      const read = readRequest(deps, body);
      const brokerVersion = deps.apply?.status().broker.version ?? null;
      const input = buildImportInput(read, {
        serviceAccount: deps.serviceAccount,
        brokerLine: brokerLineOf(brokerVersion),
        lastGood: lastGoodFiles(),
      });
      const opts = { brokerVersion, warnings: read.warnings, brokerConf: read.brokerConf };
      const importDeps = {
        store: deps.store, clock: deps.clock, secrets: deps.secrets, broker: deps.brokerConfig?.context() ?? brokerContextOf(deps.config, brokerLineOf(brokerVersion)),
        ...(deps.backend ? { backend: deps.backend } : {}),
      };
      if (body.mode === 'plan') {
        const plan = planImportOutcome(importDeps, input, opts);
        reply(ctx, 200, plan, plan.seq);
        return;
      }
      const out: ImportApplyOutcome = applyImport(importDeps, input, {
        ...opts,
        actor: importActor(ctx, read.source),
        ...(expectedSeq === undefined ? {} : { expectedSeq }),
      });
      const applied = deps.apply?.status().applied_seq;
      reply(ctx, 200, applied === undefined ? out : { ...out, applied_seq: applied }, out.seq);
    }],
  });
};
