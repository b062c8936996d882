/**
 * `mcm server` (and `npm start`): the event log, the apply loop and — in supervised mode — the
 * broker, until SIGTERM or SIGINT; then a clean stop: the in-flight apply finishes, the child
 * broker is stopped, the database is closed (DESIGN §6).
 */
import { startServer, type StartServerOptions } from '../../main.ts';
import { createLogger } from '../../logging/logger.ts';
import { startHttp } from '../../http/start-http.ts';
import { COMMON_USAGE, EXIT, loadCliConfig, parseCommandArgs, type CliCommand } from '../command.ts';

const usage = `Usage: mcm server [--force-takeover]

Runs MCM: opens <data_dir>/mcm.db, renders the broker's password_file and acl_file, applies
every change to the broker and proves it is enforced. With mosquitto.mode "supervised" (the
default when a mosquitto binary is found) MCM also runs the broker on 127.0.0.1:MCM_MQTT_PORT.
Stops cleanly on SIGTERM or SIGINT.

MCM never writes over a password_file or acl_file it did not write: when it finds one at start,
the apply state is adoption_required and the files stay as they are until \`mcm import\` adopts
their users and rules.

Options:
  --force-takeover    replace the foreign broker files found at start with MCM's render (their
                      users and rules are NOT imported); each original is kept as <file>.pre-mcm

Environment: MCM_CONFIG, MCM_DATA_DIR, MCM_MOSQUITTO_MODE, MCM_MQTT_HOST, MCM_MQTT_PORT,
MCM_HTTP_HOST, MCM_HTTP_PORT, MCM_LOG_LEVEL.
${COMMON_USAGE}`;

/** The first of `signals` the process receives; `cancel` removes the listeners. */
export const waitForSignal = (signals: readonly NodeJS.Signals[]): { signal: Promise<NodeJS.Signals>; cancel(): void } => {
  const handlers: [NodeJS.Signals, () => void][] = [];
  const cancel = (): void => { for (const [s, fn] of handlers.splice(0)) process.off(s, fn); };
  const signal = new Promise<NodeJS.Signals>((resolve) => {
    for (const sig of signals) {
      const h = (): void => { cancel(); resolve(sig); };
      process.on(sig, h);
      handlers.push([sig, h]);
    }
  });
  return { signal, cancel };
};

export type ServerCommandOptions = Readonly<{
  /** Mounts the HTTP API (wired by the lead in the command registry). */
  http?: StartServerOptions['http'];
}>;

export const createServerCommand = (opts: ServerCommandOptions = {}): CliCommand => ({
  name: 'server',
  summary: 'run MCM (event log, apply loop, supervised broker) until SIGTERM/SIGINT',
  usage,
  run: async (argv, io) => {
    const { values } = parseCommandArgs(argv, { 'force-takeover': { type: 'boolean' } }, usage);
    if (values.help) {
      io.stdout(usage);
      return EXIT.OK;
    }
    const { config, warnings } = loadCliConfig(io, values.config);
    const logger = createLogger({ level: config.log_level });
    for (const w of warnings) logger.warn(w);
    const stopSignal = waitForSignal(['SIGTERM', 'SIGINT']);
    // A second signal while stopping means "now".
    const force = (): void => {
      logger.warn({}, 'second signal: exiting without a clean stop');
      process.exit(EXIT.FAILURE);
    };
    let starting = true;
    // The API answers while the broker starts (issue 14), which can take minutes for a large
    // acl_file: a signal then stops the server as soon as the start is done, and says so.
    void stopSignal.signal.then((sig) => {
      if (!starting) return;
      logger.warn({ signal: sig }, 'stopping as soon as the start is done (the broker is still loading its files); a second signal exits at once');
      process.once('SIGTERM', force);
      process.once('SIGINT', force);
    });
    let server;
    try {
      server = await startServer({ config, logger, forceTakeover: values['force-takeover'] === true, ...(opts.http ? { http: opts.http } : {}) });
    } catch (e) {
      stopSignal.cancel();
      io.stderr(`mcm server: ${(e as Error).message}\n`);
      return EXIT.FAILURE;
    } finally {
      starting = false;
    }
    const st = server.applyLoop.status();
    logger.info({ mode: config.mosquitto.mode, mqtt: `${config.mqtt.host}:${config.mqtt.port}`, desired_seq: st.desired_seq, applied_seq: st.applied_seq, state: st.state, broker_version: st.broker.version }, 'MCM running');
    if (st.adoption) logger.warn({ files: st.adoption.files }, st.adoption.message);
    const sig = await stopSignal.signal;
    logger.info({ signal: sig }, 'stopping');
    // Installed already when the signal came during the start.
    if (!process.listeners('SIGTERM').includes(force)) {
      process.once('SIGTERM', force);
      process.once('SIGINT', force);
    }
    try {
      await server.stop();
    } finally {
      process.off('SIGTERM', force);
      process.off('SIGINT', force);
    }
    logger.info({}, 'stopped');
    return EXIT.OK;
  },
});

/** `mcm server` / `npm start`: the whole server, HTTP API and ws hub included. */
export const serverCommand: CliCommand = createServerCommand({ http: startHttp });
