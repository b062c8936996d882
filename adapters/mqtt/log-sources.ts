/**
 * Where the broker's connection log lines come from (DESIGN §7, reference §5), one of:
 * - `file`: config.observer.log_file, followed like `tail -F` (log-file-follower.ts, chokidar);
 * - `broker-log`: the supervised broker's stderr (adapters/mosquitto/broker-log.ts);
 * - `sys-topic`: `$SYS/broker/log/#`, which the observer receives when the broker has
 *   `log_dest topic` (an external broker). The observer hands those payloads to `sysLogLine`.
 * Each line goes to the clients table and, live, to the bus as `broker_log`. Lines already
 * written when MCM starts (the supervised ring buffer, the tail of the file) are replayed
 * silently, so clients that connected before MCM are in the table: the last "mosquitto version …
 * starting" line in them empties it, so only the broker's current run counts.
 * In `sys-topic` mode lines sent while the observer was disconnected are lost; the table is
 * emptied when the observer comes back (broker_status down → up), rather than kept wrong.
 */
import { resolve } from 'node:path';
import type { Clock } from '../../core/ports.ts';
import type { Config } from '../config/config.ts';
import type { LiveBus } from '../live/live-bus.ts';
import type { Logger } from '../logging/logger.ts';
import type { BrokerLog } from '../mosquitto/broker-log.ts';
import type { ClientsTable } from '../observer/clients-table.ts';
import { followFile } from './log-file-follower.ts';

export type LogSourceKind = 'file' | 'broker-log' | 'sys-topic';

export type LogSource = {
  readonly kind: LogSourceKind;
  /** sys-topic mode only: give the observer this for `$SYS/broker/log/#` payloads. */
  readonly sysLogLine: ((line: string) => void) | null;
  start(): Promise<void>;
  stop(): Promise<void>;
};

export type LogSourceDeps = Readonly<{
  config: Pick<Config, 'observer'>;
  /** The supervised broker's log; null in external mode. */
  brokerLog: Pick<BrokerLog, 'tail' | 'onLine'> | null;
  clients: ClientsTable;
  bus: LiveBus;
  clock: Clock;
  logger: Pick<Logger, 'warn' | 'info'>;
  /** Bytes of an existing log file read at start (history replay). */
  replayBytes?: number;
}>;

/** A line's own time: `%Y-%m-%dT%H:%M:%S` is the broker's local time; digits are epoch seconds. */
export const lineTime = (line: string): string | undefined => {
  const iso = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}): /.exec(line);
  if (iso) {
    const ms = new Date(iso[1] as string).getTime(); // no offset: parsed as local time, as strftime wrote it
    return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
  }
  const epoch = /^(\d{9,}): /.exec(line);
  return epoch ? new Date(Number(epoch[1]) * 1000).toISOString() : undefined;
};

/** What every source does with a line. */
const lineSink = (deps: LogSourceDeps) => (line: string, replay: boolean): void => {
  if (replay) {
    const at = lineTime(line);
    deps.clients.ingestLine(line, at === undefined ? { silent: true } : { silent: true, at });
    return;
  }
  deps.clients.ingestLine(line);
  deps.bus.publish({ type: 'broker_log', line, at: deps.clock.now() });
};

export const selectLogSourceKind = (config: Pick<Config, 'observer'>, brokerLog: unknown): LogSourceKind =>
  config.observer.log_file ? 'file' : brokerLog ? 'broker-log' : 'sys-topic';

export const createLogSource = (deps: LogSourceDeps): LogSource => {
  const kind = selectLogSourceKind(deps.config, deps.brokerLog);
  const sink = lineSink(deps);
  if (kind === 'file') {
    const path = resolve(deps.config.observer.log_file as string);
    const follower = followFile({
      path,
      onLine: sink,
      onError: (e) => deps.logger.warn({ err: e.message, path }, 'following the broker log file failed'),
      ...(deps.replayBytes === undefined ? {} : { replayBytes: deps.replayBytes }),
    });
    return { kind, sysLogLine: null, start: () => follower.start(), stop: () => follower.stop() };
  }
  if (kind === 'broker-log') {
    const log = deps.brokerLog as Pick<BrokerLog, 'tail' | 'onLine'>;
    let off: (() => void) | null = null;
    return {
      kind,
      sysLogLine: null,
      async start() {
        // Same tick: no line can fall between the replay and the subscription.
        for (const l of log.tail(Number.MAX_SAFE_INTEGER)) sink(l.raw, true);
        off = log.onLine((l) => sink(l.raw, false));
      },
      async stop() { off?.(); off = null; },
    };
  }
  let offBus: (() => void) | null = null;
  return {
    kind,
    sysLogLine: (line) => sink(line, false),
    async start() {
      let wasDown = false;
      offBus = deps.bus.subscribe((m) => {
        if (m.type !== 'broker_status') return;
        if (!m.up) wasDown = true;
        else if (wasDown) {
          wasDown = false;
          deps.clients.clear('connection log missed while the observer was disconnected');
        }
      }, ['broker_status']);
    },
    async stop() { offBus?.(); offBus = null; },
  };
};
