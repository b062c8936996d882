/**
 * `mcm status`: reads the data dir directly (no server needed, DESIGN §8): the event log's head,
 * the desired generation ("desired seq"), the last apply results ("applied seq"), and whether
 * the broker answers on its MQTT port.
 */
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { BROKER_FILE_EVENTS } from '../../../core/events.ts';
import type { ApplyResultRow } from '../../sqlite/apply-results.ts';
import { COMMON_USAGE, EXIT, loadCliConfig, parseCommandArgs, type CliCommand } from '../command.ts';

const usage = `Usage: mcm status [--json]

Shows the desired and applied seq (the generation of the broker's files), the last apply
results with their latency, the broker mode and whether the broker answers on its MQTT port.
Reads <data_dir>/mcm.db directly, so it works with or without a running server.

Options:
  --json              print the status as JSON
${COMMON_USAGE}`;

/** True when something accepts a TCP connection on host:port within `ms`. */
export const portAnswers = (host: string, port: number, ms = 1000): Promise<boolean> =>
  new Promise((resolve) => {
    const sock = connect({ host, port });
    const done = (up: boolean): void => { sock.destroy(); resolve(up); };
    sock.setTimeout(ms, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });

export type StatusReport = {
  data_dir: string;
  head_seq: number;
  desired_seq: number;
  applied_seq: number;
  state: 'applied' | 'pending' | 'failed';
  last: { seq: number; result: string; latency_ms: number | null; at: string; reason?: string } | null;
  recent: { seq: number; result: string; latency_ms: number | null; at: string; reason?: string }[];
  broker: { mode: string; reload: string; host: string; port: number; up: boolean };
};

const view = (r: ApplyResultRow) => ({
  seq: r.generation, result: r.result, latency_ms: r.latency_ms, at: r.at, ...(r.reason ? { reason: r.reason } : {}),
});

const readReport = (db: DatabaseSync): Omit<StatusReport, 'data_dir' | 'broker'> => {
  const head = Number((db.prepare('SELECT max(seq) AS s FROM events').get() as { s: number | null }).s ?? 0);
  const types = [...BROKER_FILE_EVENTS];
  // Same rule as core/evolve.ts: the generation is the seq of the last event that can change the files.
  const desired = Number((db.prepare(`SELECT max(seq) AS s FROM events WHERE type IN (${types.map(() => '?').join(', ')})`)
    .get(...types) as { s: number | null }).s ?? 0);
  const recent = db.prepare('SELECT * FROM apply_results ORDER BY id DESC LIMIT 5').all() as unknown as ApplyResultRow[];
  const success = db.prepare("SELECT * FROM apply_results WHERE result IN ('applied', 'written') ORDER BY id DESC LIMIT 1").get() as unknown as ApplyResultRow | undefined;
  const applied = success?.generation ?? 0;
  const last = recent[0] ?? null;
  const state = applied >= desired ? 'applied' : last?.result === 'failed' ? 'failed' : 'pending';
  return { head_seq: head, desired_seq: desired, applied_seq: applied, state, last: last ? view(last) : null, recent: recent.map(view) };
};

const text = (r: StatusReport): string => {
  const lines = [
    `desired seq   ${r.desired_seq}   (event log head ${r.head_seq})`,
    `applied seq   ${r.applied_seq}   ${r.state}`,
    r.last
      ? `last apply    seq ${r.last.seq} ${r.last.result}${r.last.latency_ms === null ? '' : ` in ${r.last.latency_ms.toFixed(1)} ms`} at ${r.last.at}${r.last.reason ? `\n              ${r.last.reason}` : ''}`
      : 'last apply    none yet',
    `broker        ${r.broker.mode} (reload ${r.broker.reload}), ${r.broker.up ? 'up' : 'DOWN'} on ${r.broker.host}:${r.broker.port}`,
    `data dir      ${r.data_dir}`,
  ];
  return `${lines.join('\n')}\n`;
};

export const statusCommand: CliCommand = {
  name: 'status',
  summary: 'desired/applied seq, last apply result and latency, broker mode and liveness',
  usage,
  run: async (argv, io) => {
    const { values } = parseCommandArgs(argv, { json: { type: 'boolean' } }, usage);
    if (values.help) {
      io.stdout(usage);
      return EXIT.OK;
    }
    const { config } = loadCliConfig(io, values.config);
    const path = join(config.data_dir, 'mcm.db');
    if (!existsSync(path)) {
      io.stderr(`mcm status: no event log at ${path} (check data_dir / MCM_DATA_DIR)\n`);
      return EXIT.FAILURE;
    }
    // Read-only: a running server is the one writer (DESIGN §2.2 "one process, one writer").
    const db = new DatabaseSync(path, { readOnly: true });
    let base;
    try {
      db.exec('PRAGMA busy_timeout = 5000');
      base = readReport(db);
    } finally {
      db.close();
    }
    const report: StatusReport = {
      data_dir: config.data_dir,
      ...base,
      broker: {
        mode: config.mosquitto.mode,
        reload: config.mosquitto.reload.strategy,
        host: config.mqtt.host,
        port: config.mqtt.port,
        up: await portAnswers(config.mqtt.host, config.mqtt.port),
      },
    };
    io.stdout(values.json ? `${JSON.stringify(report)}\n` : text(report));
    return EXIT.OK;
  },
};
