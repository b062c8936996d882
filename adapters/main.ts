/**
 * The one composition root (DESIGN §2, STYLE principle 7): opens the event log, the secrets and
 * the service account, runs the supervised broker (supervised mode), the apply loop, the drift
 * watch and the periodic enforcement check, and hands the pieces to the HTTP layer through the
 * `http` hook. `stop()` shuts down in reverse order: the in-flight apply finishes, the child
 * broker is stopped, the database closed.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import type { Clock, PasswordHasher } from '../core/ports.ts';
import { emptyBrokerConfig } from '../core/broker-config/model.ts';
import { createApplyLoop, type ApplyLoop } from './apply/apply-loop.ts';
import { createCertificateExpiryCheck } from './certs/expiry-check.ts';
import type { ApplyStatus } from './apply/apply-status.ts';
import { createBrokerFiles, type FileSpec } from './apply/broker-files.ts';
import { createPairSwitch } from './apply/pair-switch.ts';
import { takeOver } from './apply/take-over.ts';
import { warmUp } from './apply/warm-up.ts';
import { createWriteIntent } from './apply/write-intent.ts';
import type { Config } from './config/config.ts';
import { watchFiles, type FileWatch } from './files/watch.ts';
import { brokerFileOwnership } from './files/write-rendered-file.ts';
import { createLogger, type Logger } from './logging/logger.ts';
import { createBrokerLog, type BrokerLog } from './mosquitto/broker-log.ts';
import { createMosquittoHasher } from './mosquitto/password-hash.ts';
import { assertReachable, brokerAccountWhenRoot, isRoot, lookupAccount, prepareBrokerDirs, supervisedFileOwnership } from './mosquitto/permissions.ts';
import { brokerPaths, prepareDataDir } from './mosquitto/broker-paths.ts';
import { brokerLineOf, detectBinaryVersion, parseBrokerVersion } from './mosquitto/broker-version.ts';
import { openProbeSession, probeBroker, type ProbeTarget } from './mosquitto/probe.ts';
import { probeListeners } from './mosquitto/listener-probe.ts';
import { probeWhileBusy } from './mosquitto/probe-while-busy.ts';
import { createGroupCommit, type GroupCommit } from './sqlite/group-commit.ts';
import { readTextOrNull } from './files/write-rendered-file.ts';
import { createBridgePasswords } from './secrets/bridge-passwords.ts';
import { createCertStore } from './certs/cert-store.ts';
import { prepareTlsDir } from './mosquitto/tls-dir.ts';
import { runRestartCommand } from './mosquitto/external-conf.ts';
import { confFileOptions } from './broker-config/conf-file-options.ts';
import type { BrokerConfigPort } from './broker-config/broker-config-service.ts';
import { brokerConfigManaged, brokerContextOf } from './broker-config/broker-context.ts';
import { createExternalReloader, createSupervisedReloader, type Reloader } from './mosquitto/reloaders.ts';
import { loadServiceAccount, type ServiceAccount } from './mosquitto/service-account.ts';
import { createSupervisor, type Supervisor } from './mosquitto/supervisor.ts';
import { placeBrokerDir } from './mosquitto/broker-dir.ts';
import { createSecretStore, type SecretStore } from './secrets/secret-store.ts';
import { acquireServerLock, type ServerLock } from './cli/server-lock.ts';
import { collectGarbage } from './memory/collect-garbage.ts';
import { appliedPasswordsPath } from './dynsec/applied-passwords-path.ts';
import { shareTimestamps } from './memory/share-timestamps.ts';
import { writeServerSettings } from './cli/server-settings.ts';
import { watchGitopsDir } from './gitops/watch.ts';
import { issueCliToken } from './http/auth/cli-token.ts';
import { createLiveBus, type LiveBus } from './live/live-bus.ts';
import { createMetrics, type Metrics } from './metrics/registry.ts';
import { createObservation, type Observation } from './mqtt/observation.ts';
import { createSchemaValidator, type SchemaValidator } from './observer/schema-validator.ts';
import { createSparkplugTracker, type SparkplugTracker } from './observer/sparkplug-tracker.ts';
import { createWebhookDispatcher } from './webhooks/dispatcher.ts';
import { createDynsecControl } from './dynsec/dynsec-control.ts';
import { createDynsecWorker } from './dynsec/dynsec-worker.ts';
import { createPasswordCourier } from './dynsec/password-courier.ts';
import { findDynsecPlugin } from './dynsec/plugin-path.ts';
import { setUpServiceAccount } from './dynsec/service-account-setup.ts';
import { probeUsername } from '../projections/dynsec-model.ts';
import { publishEventAppended } from './ws/event-appended.ts';
import { relaySecurityEvents } from './ws/security-event-relay.ts';
import { createApplyResults, GOOD_FILES_KEY_NAME, signUnsignedGoodFiles, type ApplyResults } from './sqlite/apply-results.ts';
import { createSqliteEventStore, SNAPSHOT_KEY_NAME, type SqliteEventStore } from './sqlite/event-store.ts';
import { openDatabase, SERVER_BUSY_TIMEOUT_MS } from './sqlite/open-database.ts';
import { createSnapshotRejections } from './sqlite/snapshot-rejections.ts';
import { createSecurityEventLog, type SecurityEventLog } from './sqlite/security-events.ts';

/** Everything the HTTP layer (and later the observer) may need; built once here. */
export type ServerDeps = Readonly<{
  config: Config;
  /** One commit for the API writes that arrive together (issue 14). */
  commits: GroupCommit;
  logger: Logger;
  clock: Clock;
  db: DatabaseSync;
  store: SqliteEventStore;
  securityLog: SecurityEventLog;
  applyResults: ApplyResults;
  secrets: SecretStore;
  mqttHasher: PasswordHasher;
  serviceAccount: ServiceAccount;
  applyLoop: ApplyLoop;
  /** The shape adapters/http/deps.ts expects for `GET /apply-status` and `POST /apply-status/retry`. */
  apply: { status(): ApplyStatus; retry(): Promise<ApplyStatus> };
  supervisor: Supervisor | null;
  /** `/readyz` (adapters/http/routes/health.ts): ready while the broker is up. */
  readiness: () => { ready: boolean; reasons: string[] };
  /** Supervised mode: the broker's log lines (connection tracking reads them). */
  brokerLog: BrokerLog | null;
  probeTarget: ProbeTarget;
  /** Supervised: /broker/config and `mcm broker` render and check mosquitto.conf through this (issue 13). */
  brokerConfig: BrokerConfigPort | null;
  /** Live observations and admin-change notifications (ws hub, metrics, webhooks). */
  bus: LiveBus;
  metrics: Metrics;
  schemaValidator: SchemaValidator;
  sparkplug: SparkplugTracker;
  /** The mqtt.js observer, connected clients and topic tree (HttpDeps.observer is `observation.api`). */
  observation: Observation;
  /** The single-writer lock on the data dir (the CLI reads it to find this server). */
  lock: ServerLock;
}>;

export type StartServerOptions = Readonly<{
  config: Config;
  logger?: Logger;
  http?: (deps: ServerDeps) => Promise<{ close(): Promise<void> }>;
  clock?: Clock;
  /**
   * `mcm server --force-takeover`: the foreign broker files found at start are adopted
   * (TakeOverBrokerFiles, actor system) and replaced; each original is kept as `<file>.pre-mcm`.
   */
  forceTakeover?: boolean;
  /** Test-only knobs; never set from configuration. */
  testing?: Readonly<{
    /** Where the broker's files go when the data dir is unreachable for its user (default /var/lib/mcm/brokers). */
    brokerFallbackRoot?: string;
    beforeReload?: () => void | Promise<void>;
    betweenRenames?: () => void | Promise<void>;
    backoff?: { initialMs?: number; maxMs?: number; stableMs?: number };
    driftSettleMs?: number;
  }>;
}>;

export type RunningServer = {
  store: SqliteEventStore;
  applyLoop: ApplyLoop;
  deps: ServerDeps;
  stop(): Promise<void>;
};

const systemClock: Clock = { now: () => new Date().toISOString() };

/** After a start, one major GC this much later (adapters/memory/collect-garbage.ts). */
const SETTLE_GC_MS = 3000;

const readOptional = (path: string | null): Buffer | undefined => (path ? readFileSync(path) : undefined);

export const startServer = async (opts: StartServerOptions): Promise<RunningServer> => {
  const { config } = opts;
  const logger = opts.logger ?? createLogger({ level: config.log_level });
  const clock = opts.clock ?? systemClock;
  const dataDir = resolve(config.data_dir);
  const supervised = config.mosquitto.mode === 'supervised';
  const account = supervised && isRoot() ? brokerAccountWhenRoot() : null;
  if (supervised) prepareDataDir(dataDir, account);
  else mkdirSync(dataDir, { recursive: true, mode: 0o750 });

  // One writer per data dir: the CLI finds this server through the lock and talks to its API.
  const lock = acquireServerLock(dataDir, { pid: process.pid, url: '' });
  let db: DatabaseSync;
  try {
    db = openDatabase(join(dataDir, 'mcm.db'), { busyTimeoutMs: SERVER_BUSY_TIMEOUT_MS });
  } catch (e) {
    lock.release();
    throw e;
  }
  const cleanups: (() => Promise<void> | void)[] = [() => lock.release(), () => db.close()];
  // For CLI tools run from another shell (mcm doctor): this server's effective settings, no secrets.
  cleanups.push(writeServerSettings(dataDir, config));
  let closeHttp: (() => Promise<void>) | null = null;
  const cleanup = async (): Promise<void> => {
    const first = closeHttp;
    closeHttp = null;
    for (const c of [...(first ? [first] : []), ...cleanups.splice(0).reverse()]) {
      try { await c(); } catch (e) { logger.error({ err: (e as Error).message }, 'shutdown step failed'); }
    }
  };
  try {
    const secrets = createSecretStore(dataDir);
    // Snapshots are trusted only with a matching HMAC (key in secrets/); an edited one is refused.
    const rejectedSnapshots = createSnapshotRejections();
    const store = createSqliteEventStore({
      db,
      onListenerError: (e) => logger.error({ err: String(e) }, 'append listener failed'),
      snapshotKey: secrets.getOrCreate(SNAPSHOT_KEY_NAME, () => randomBytes(32)),
      onSnapshotRejected: rejectedSnapshots.onRejected,
    });
    const bus = createLiveBus((e) => logger.error({ err: String(e) }, 'live bus listener failed'));
    // Wrapped first so every security event (apply, drift, auth) also reaches ws, metrics, webhooks.
    const se = config.security_events;
    const rawSecurityLog = createSecurityEventLog({ db, clock, retention: { retentionDays: se.retention_days, maxRows: se.max_rows, aggregateWindowS: se.aggregate_window_s } });
    cleanups.push(() => rawSecurityLog.close());
    const securityLog = relaySecurityEvents(rawSecurityLog, bus);
    rejectedSnapshots.report(securityLog);
    const metrics = createMetrics({
      bus, processMetrics: true,
      sources: { headSeq: () => store.headSeq(), certificates: () => Object.values(store.state().certificates ?? {}) },
    });
    cleanups.push(() => metrics.stop());
    cleanups.push(publishEventAppended({ store, bus }));
    // The last-known-good records are trusted only with a matching HMAC (key in secrets/): an edited
    // one could make MCM take foreign files for its own, or restore edited files.
    const goodFilesKeyIsNew = secrets.read(GOOD_FILES_KEY_NAME) === null;
    const goodFilesKey = secrets.getOrCreate(GOOD_FILES_KEY_NAME, () => randomBytes(32));
    if (goodFilesKeyIsNew) signUnsignedGoodFiles(db, goodFilesKey);
    const applyResults = createApplyResults({
      db, key: goodFilesKey,
      onRejected: (name, reason) => securityLog.record({
        category: 'integrity.good_files_rejected', severity: 'critical', details: { file: name },
        message: `the last-known-good record of ${name} was ignored: ${reason}; MCM does not take the file on disk for its own (adoption_required until it is imported or taken over)`,
      }),
    });
    issueCliToken(secrets); // new at every start (DESIGN §8)
    const dynsec = config.mosquitto.backend === 'dynsec';
    // Issue 15: 2.0's plugin takes plaintext passwords only; the courier keeps each one MCM hashes
    // in memory until the apply that hands it to the plugin (never written anywhere).
    const courier = dynsec ? createPasswordCourier(createMosquittoHasher(), { ttlMs: 15 * 60_000 }) : null;
    const mqttHasher = courier ? courier.hasher : createMosquittoHasher();
    const serviceAccount = await loadServiceAccount({ secrets, hasher: mqttHasher, username: config.mqtt.service_account.username });

    const placed = supervised ? placeBrokerDir(dataDir, account, opts.testing?.brokerFallbackRoot) : { dir: join(dataDir, 'mosquitto'), moved: null };
    if (placed.moved) logger.info({ dir: placed.dir }, placed.moved);
    const paths = brokerPaths(config, placed.dir);
    let supervisor: Supervisor | null = null;
    const loopRef: { current: ApplyLoop | null } = { current: null };
    let brokerLog: BrokerLog | null = null;
    let reloader: Reloader;
    // External: never world-readable; the broker keeps the group it read the old file through.
    const brokerReader = lookupAccount('mosquitto');
    let spec = (name: FileSpec['name'], path: string): FileSpec => ({ name, path, ownership: () => brokerFileOwnership(path, brokerReader) });
    // Supervised: the binary says its version; external: $SYS/broker/version (the observer, below).
    const binaryVersion = supervised ? detectBinaryVersion(config.mosquitto.binary) : null;
    let observedVersion: () => string | null = () => null;
    const brokerVersion = (): string | null => binaryVersion ?? observedVersion();
    if (supervised) logger.info({ version: binaryVersion, binary: config.mosquitto.binary }, 'mosquitto version');
    if (supervised) {
      prepareBrokerDirs({ dir: paths.brokerDir, persistenceDir: paths.persistenceDir }, account);
      for (const p of [paths.passwordFile, paths.aclFile]) if (account) assertReachable(resolve(p, '..'), account);
      const own = supervisedFileOwnership(account);
      spec = (name, path) => ({ name, path, ownership: () => own });
      brokerLog = createBrokerLog();
      supervisor = createSupervisor({
        binary: config.mosquitto.binary,
        confPath: paths.confPath,
        host: config.mqtt.host,
        port: config.mqtt.port,
        pidFile: paths.pidFile,
        logger,
        log: brokerLog,
        ...(opts.testing?.backoff ? { backoff: opts.testing.backoff } : {}),
        // 2.1 exits with code 3 on a bad reload and refuses the file at start (reference §8).
        beforeRestart: (exit) => loopRef.current?.brokerExited(exit.code) ?? Promise.resolve(),
      });
      reloader = createSupervisedReloader(supervisor);
    } else {
      for (const p of [paths.passwordFile, paths.aclFile]) mkdirSync(resolve(p, '..'), { recursive: true, mode: 0o750 });
      reloader = createExternalReloader(config.mosquitto.reload);
    }

    // Issue 13: certificates and keys the configuration names are copied where the broker reads
    // them; bridge passwords come from secrets/ when the file is written.
    const certStore = createCertStore(secrets);
    const bridgePasswords = createBridgePasswords(secrets);
    // Supervised: the broker reads both files through one symlink, switched as one (issue 12).
    const pairSwitch = supervised ? createPairSwitch(join(paths.brokerDir, 'live')) : null;
    // Supervised: MCM runs the plugin and writes its file; external: the operator's broker runs it.
    const dynsecFiles = dynsec && supervised
      ? { plugin: findDynsecPlugin(config.mosquitto.dynsec.plugin, config.mosquitto.binary), configFile: join(paths.persistenceDir, 'dynamic-security.json') }
      : null;
    const { conf, externalConf, tlsDir } = confFileOptions({
      config, paths, spec, pair: pairSwitch ? { passwordPath: pairSwitch.passwordPath, aclPath: pairSwitch.aclPath } : null,
      binaryVersion, certs: certStore, bridgePasswords, dynsec: dynsecFiles,
    });
    if (supervised) prepareTlsDir(tlsDir, account);
    else if (externalConf) prepareTlsDir(tlsDir, brokerReader);
    const files = createBrokerFiles({
      passwordFile: spec('password_file', paths.passwordFile),
      aclFile: spec('acl_file', paths.aclFile),
      conf,
      serviceAccount,
    });

    // The supervised broker's listener is the plain loopback one MCM renders; TLS is for external brokers.
    const tls = config.mqtt.tls.enabled && !supervised
      ? { ca: readOptional(config.mqtt.tls.ca), cert: readOptional(config.mqtt.tls.cert), key: readOptional(config.mqtt.tls.key), rejectUnauthorized: config.mqtt.tls.reject_unauthorized }
      : null;
    const probeTarget: ProbeTarget = { host: config.mqtt.host, port: config.mqtt.port, username: serviceAccount.username, password: serviceAccount.password, tls };
    const sup = supervisor;
    /** The mosquitto.conf the supervised broker last started with: a change to what a reload can't apply restarts it. */
    // External with a fragment: the broker runs what is on disk now (none yet: the empty fragment).
    let startedConf: string | null = externalConf ? readTextOrNull(externalConf) ?? '' : null;
    if (sup) sup.onStarted(() => { startedConf = readTextOrNull(paths.confPath); });
    // dynsec: the probe connects as its own client (projections/dynsec-model.ts probeClient).
    const dynsecProbeTarget: ProbeTarget = { ...probeTarget, username: probeUsername(serviceAccount.username) };
    const probeOnce = (p: { generation: number; allowAnonymous: boolean }) => probeBroker(dynsecProbeTarget, { ...p, timeoutMs: config.mosquitto.probe.timeout_ms });
    const dynsecControl = dynsec ? createDynsecControl({ target: probeTarget, timeoutMs: config.mosquitto.probe.timeout_ms }) : null;
    if (dynsecControl) cleanups.push(() => dynsecControl.close());
    const dynsecAdmin = config.dynsec_admin.username !== null && config.dynsec_admin.password !== null
      ? { username: config.dynsec_admin.username, password: config.dynsec_admin.password } : null;
    const worker = dynsecControl && courier ? createDynsecWorker({
      store, results: applyResults, security: securityLog, clock, logger,
      control: dynsecControl, probe: probeOnce, courier, drift: config.mosquitto.drift,
      serviceAccount: { username: serviceAccount.username, password: serviceAccount.password, hash: serviceAccount.passwordHash },
      appliedPasswordsPath: appliedPasswordsPath(dataDir, secrets),
      brokerRunning: () => sup?.isUp() ?? false,
      setUpServiceAccount: dynsecAdmin ? () => setUpServiceAccount({
        target: probeTarget, admin: dynsecAdmin, service: { username: serviceAccount.username, password: serviceAccount.password }, timeoutMs: config.mosquitto.probe.timeout_ms,
      }) : null,
      supervised: sup && conf && dynsecFiles ? {
        jsonPath: dynsecFiles.configFile,
        // The plugin rewrites its file after every change (reference §6.1): the broker's account owns it.
        jsonOwner: account ? { uid: account.uid, gid: account.gid } : {},
        confPath: paths.confPath,
        confOwnership: () => conf.spec.ownership(),
        renderConf: (allowAnonymous, state) => files.renderConf(allowAnonymous, state.brokerConfig ?? emptyBrokerConfig()),
        startedConf: () => startedConf,
        restart: (beforeStart) => sup.restart(beforeStart),
        reload: () => sup.reload(),
      } : null,
    }) : null;
    const applyLoop = createApplyLoop({
      worker,
      backend: worker ? 'dynsec' : 'files',
      store,
      results: applyResults,
      security: securityLog,
      clock,
      files,
      reloader,
      probe: (p) => {
        const once = (o: typeof p) => probeBroker(probeTarget, { ...o, timeoutMs: config.mosquitto.probe.timeout_ms });
        // Supervised: a broker still loading a big acl_file is waited for, not failed (issue 14).
        return sup ? probeWhileBusy(once, p, () => sup.pid()) : once(p);
      },
      openProbeSession: () => openProbeSession(probeTarget, config.mosquitto.probe.timeout_ms),
      mode: config.mosquitto.mode,
      drift: config.mosquitto.drift,
      debounceMs: config.mosquitto.debounce_ms,
      brokerLog,
      brokerRunning: sup ? () => sup.isUp() : null,
      brokerExit: sup ? () => sup.lastExit() : null,
      brokerVersion,
      writeIntent: createWriteIntent(join(dataDir, 'apply-intent.json')),
      logger,
      beforeReload: opts.testing?.beforeReload ?? null,
      betweenRenames: opts.testing?.betweenRenames ?? null,
      pairSwitch,
      restartBroker: sup ? async () => {
        try { await sup.restart(); return null; } catch (e) { return (e as Error).message; }
      } : externalConf ? async () => {
        const why = await runRestartCommand(config.mosquitto.restart_command, { host: config.mqtt.host, port: config.mqtt.port, timeoutMs: 30_000 });
        if (why === null) startedConf = readTextOrNull(externalConf) ?? '';
        return why;
      } : null,
      startedConf: () => startedConf,
      probeListeners: (brokerConfig) => probeListeners(brokerConfig, {
        username: serviceAccount.username, password: serviceAccount.password,
        certificates: () => store.state().certificates ?? {}, timeoutMs: config.mosquitto.probe.timeout_ms,
      }),
      onStatus: (status) => bus.publish({ type: 'apply_status', status, at: clock.now() }),
    });
    loopRef.current = applyLoop;
    // An apply held back for adoption sent nothing to the broker: not an apply result.
    cleanups.push(applyLoop.onOutcome((o) => { if (o.result !== 'adoption_required') metrics.recordApply(o.result, o.latencyMs); }));
    if (opts.forceTakeover) takeOver(applyLoop, store, clock, logger);

    const webhooks = createWebhookDispatcher({
      db, store, bus, secrets, clock, config,
      logger: logger.child({ component: 'webhooks' }),
      metrics: { webhookDelivery: (result) => metrics.recordWebhookDelivery(result) },
      maxPendingPerWebhook: config.webhooks.max_pending,
      retentionMs: config.webhooks.retention_days * 86_400_000,
    });
    webhooks.start();
    cleanups.push(() => webhooks.stop());
    // After the dispatcher: a certificate.expiring event at start reaches the security_event webhooks.
    cleanups.push(createCertificateExpiryCheck({ store, securityLog, clock, logger: logger.child({ component: 'certificates' }) }).start());
    const schemaValidator = createSchemaValidator({ store, bus, clock, logger, metrics });
    cleanups.push(() => schemaValidator.close());
    const sparkplug = createSparkplugTracker({ bus, clock, logger });
    sparkplug.start();
    cleanups.push(() => sparkplug.stop());

    let started = false;
    let bootDone: () => void = () => {};
    // An admin's retry waits for the first apply instead of racing it (the broker may not run yet).
    const booted = new Promise<void>((r) => { bootDone = r; });
    // The supervised listener is plain loopback: no TLS.
    const observation = createObservation({
      config: supervised ? { ...config, mqtt: { ...config.mqtt, tls: { ...config.mqtt.tls, enabled: false } } } : config,
      serviceAccount, bus, clock,
      logger: logger.child({ component: 'observer' }),
      brokerLog,
      processors: [metrics.processor, schemaValidator, sparkplug],
    });
    observedVersion = () => parseBrokerVersion(observation.observer.stats().version);
    cleanups.push(() => observation.stop());
    // A restarted broker is up now: the observer need not sit out its backoff (up to 30 s) to
    // notice, or /status would say "down" long after the broker is back.
    if (sup) cleanups.push(sup.onStarted(({ restarts }) => { if (restarts > 0) observation.observer.reconnectNow(); }));
    metrics.setSources({
      topicsTracked: () => observation.tree.size(),
      topicsEvicted: () => observation.tree.stats().evicted,
      brokerUp: () => observation.observer.connected(),
      mqttClients: () => observation.clients.size(),
      malformed: () => {
        const c = sparkplug.counters();
        return { sparkplug_payload: c.decode_errors, sparkplug_topic: c.invalid_topics };
      },
      processorFailures: () => Object.values(observation.observer.status().processor_failures).reduce((a, b) => a + b, 0),
    });

    const deps: ServerDeps = {
      commits: createGroupCommit(store),
      config, logger, clock, db, store, securityLog, applyResults, secrets, mqttHasher, serviceAccount, applyLoop,
      apply: { status: () => applyLoop.status(), retry: async () => { await booted; await applyLoop.retry(); return applyLoop.status(); } },
      supervisor, brokerLog, probeTarget,
      brokerConfig: supervised || externalConf ? {
        render: (c, allowAnonymous) => files.renderConf(allowAnonymous, c, true),
        context: () => ({
          ...brokerContextOf(config, brokerLineOf(brokerVersion()) === '2.1' ? '2.1' : '2.0'),
        }),
        connectedClients: () => observation.clients.size(),
        storeBridgePassword: (pw) => bridgePasswords.store(pw),
        bridgePasswordIs: (ref, pw) => bridgePasswords.read(ref) === pw,
        hasBridgePassword: (ref) => bridgePasswords.read(ref) !== null,
      } : null,
      readiness: () => {
        if (!started) return { ready: false, reasons: ['starting: the broker and the first apply are not done yet'] };
        const st = applyLoop.status();
        if (st.adoption) return { ready: false, reasons: [`adoption required: ${st.adoption.message}`] };
        return st.broker.up
          ? { ready: true, reasons: [] }
          : { ready: false, reasons: [sup ? 'the supervised mosquitto is not running' : `the broker at ${config.mqtt.host}:${config.mqtt.port} did not answer the last probe`] };
      },
      bus, metrics, schemaValidator, sparkplug, observation, lock,
    };
    // Issue 14: the API answers (/healthz, reads, writes to the log) as soon as the log is open;
    // /readyz says "starting" until the broker runs the first apply's files. At 100,000 users
    // the broker's first load and the first full render take seconds.
    if (opts.http) {
      const http = await opts.http(deps);
      // Closed first at stop: no request may reach a stopped apply loop or broker.
      closeHttp = () => http.close();
    }

    try {
      // Rendered in small turns, so the API keeps answering while a large state renders.
      if (!dynsec) await warmUp(files, () => store.state());
      if (sup) {
        applyLoop.prepare();
        cleanups.push(() => sup.stop());
        await sup.start();
        sup.onStarted(({ restarts, planned }) => {
          // A planned restart (a configuration change) is confirmed by the apply that asked for it.
          if (restarts > 0 && planned !== true) void applyLoop.brokerRestarted();
        });
      }
      cleanups.push(() => applyLoop.stop());
      const first = await applyLoop.start();
      logger.info({ generation: first?.generation, result: first?.result, reason: first?.reason }, 'initial apply');

      // After the first apply, so the service account is in the files the broker loaded (the
      // observer retries with backoff anyway).
      await observation.start();

      // The dynamic-security backend writes no password or ACL file (and, external, no conf):
      // chokidar never says "ready" for nothing, so nothing is watched then.
      const watched = files.specs.filter((s) => !dynsec || s.name === 'mosquitto_conf').map((s) => s.path);
      if (watched.length > 0) {
        const watcher: FileWatch = watchFiles({
          paths: watched,
          onChange: (p) => { void applyLoop.fileChanged(p).catch((e: Error) => logger.error({ err: e.message }, 'drift handling failed')); },
          onError: (e) => logger.warn({ err: e.message }, 'file watcher error'),
          ...(opts.testing?.driftSettleMs !== undefined ? { settleMs: opts.testing.driftSettleMs } : {}),
        });
        cleanups.push(() => watcher.close());
        await watcher.ready;
      }

      const interval = setInterval(() => {
        void applyLoop.checkEnforcement('periodic').catch((e: Error) => logger.error({ err: e.message }, 'enforcement check failed'));
      }, Math.max(1, config.mosquitto.probe.interval_s) * 1000);
      interval.unref();
      cleanups.push(() => clearInterval(interval));

      if (config.gitops.watch_dir) {
        const gitops = watchGitopsDir({
          dir: resolve(config.gitops.watch_dir), store, clock, serviceAccount: serviceAccount.username, backend: config.mosquitto.backend,
          broker: brokerContextOf(config, brokerLineOf(brokerVersion())), brokerManaged: brokerConfigManaged(config),
          bridgePasswordExists: (ref) => bridgePasswords.read(ref) !== null,
          logger: logger.child({ component: 'gitops' }),
        });
        cleanups.push(() => gitops.close());
        await gitops.ready;
      }
      started = true;
      // The start-up's garbage (the snapshot's JSON, the first render's temporaries: about 170 MiB
      // at 100,000 users) goes back to the system once the start has settled, with the state's
      // duplicate timestamp strings (issue 14).
      const settle = setTimeout(() => {
        try {
          shareTimestamps(store.state());
          collectGarbage();
        } catch (e) {
          logger.warn({ err: (e as Error).message }, 'garbage collection after start-up failed');
        }
      }, SETTLE_GC_MS);
      settle.unref();
      cleanups.push(() => clearTimeout(settle));
    } finally {
      bootDone();
    }
    let stopping: Promise<void> | null = null;
    return {
      store,
      applyLoop,
      deps,
      stop: () => (stopping ??= cleanup()),
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
};
