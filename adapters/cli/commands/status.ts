/**
 * `mcm status`: reads the data dir directly (no server needed, DESIGN §8): the event log's head,
 * the desired generation ("desired seq"), the last apply results ("applied seq"), and whether
 * the broker answers on its MQTT port.
 */
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { userInfo } from 'node:os';
import { connectToServer } from '../api-client.ts';
import { readServerInfo } from '../server-lock.ts';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { BROKER_FILE_EVENTS } from '../../../core/events.ts';
import { detectBinaryVersion } from '../../mosquitto/broker-version.ts';
import type { ApplyResultRow } from '../../sqlite/apply-results.ts';
import { COMMON_USAGE, EXIT, loadCliConfig, parseCommandArgs, type CliCommand } from '../command.ts';

const usage = `Usage: mcm status [--json]

Shows the desired and applied seq (the generation of the broker's files), the last apply
results with their latency, the broker mode and whether the broker answers on its MQTT port.
Reads <data_dir>/mcm.db directly, so it works with or without a running server.

Options:
  --json              print the status as JSON
${COMMON_USAGE}`;

type Adoption = { files: { file: string; path: string; sha256: string }[]; message: string };

/** The running server's view of its broker, or null when no server runs or it can't be asked. */
const serverBroker = async (dataDir: string, certPath: string | null): Promise<{ pid: number; mode: string; reload: string; backend: string | null; up: boolean; version: string | null; adoption: Adoption | null } | null> => {
  const info = readServerInfo(dataDir);
  if (!info || !info.url) return null;
  try {
    const client = connectToServer(dataDir, info, { user: userInfo().username, serverCert: certPath ? readFileSync(certPath) : null });
    const res = await client.request('GET', '/apply-status');
    const body = res.body as { broker?: { mode?: string; reload?: string; backend?: string; up?: boolean; version?: string | null }; adoption?: Adoption };
    const broker = body.broker;
    if (!broker || typeof broker.up !== 'boolean') return null;
    return {
      pid: info.pid, mode: broker.mode ?? 'unknown', reload: broker.reload ?? 'unknown', backend: broker.backend ?? null, up: broker.up,
      version: typeof broker.version === 'string' ? broker.version : null,
      adoption: body.adoption && Array.isArray(body.adoption.files) ? body.adoption : null,
    };
  } catch {
    return null; // fall back to probing the port from here
  }
};

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
  /** `adoption_required` comes from a running server (it is found at its start, issue 11). */
  state: 'applied' | 'pending' | 'failed' | 'adoption_required';
  last: { seq: number; result: string; latency_ms: number | null; at: string; reason?: string } | null;
  recent: { seq: number; result: string; latency_ms: number | null; at: string; reason?: string }[];
  /** `version`: "2.0.11" as the server knows it, or (supervised, no server) as the binary says; null when unknown. */
  /** `backend`: where users and rules are enforced (files, or the dynsec plugin). */
  broker: { mode: string; reload: string; backend: string; host: string; port: number; up: boolean; version: string | null; reported_by?: string };
  adoption?: Adoption;
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
    `applied seq   ${r.applied_seq}   ${r.state === 'adoption_required' ? 'ADOPTION REQUIRED' : r.state}`,
    ...(r.adoption ? [`adoption      ${r.adoption.message}`] : []),
    r.last
      ? `last apply    seq ${r.last.seq} ${r.last.result}${r.last.latency_ms === null ? '' : ` in ${r.last.latency_ms.toFixed(1)} ms`} at ${r.last.at}${r.last.reason ? `\n              ${r.last.reason}` : ''}`
      : 'last apply    none yet',
    r.broker.reported_by
      ? `broker        ${r.broker.mode} (reload ${r.broker.reload}), ${r.broker.up ? 'up' : 'DOWN'} (as seen by the ${r.broker.reported_by})`
      : `broker        ${r.broker.mode} (reload ${r.broker.reload}), ${r.broker.up ? 'up' : 'DOWN'} on ${r.broker.host}:${r.broker.port}`,
    `backend       ${r.broker.backend === 'dynsec' ? 'dynsec (the dynamic-security plugin, no reloads)' : 'files (password_file and acl_file)'}`,
    `version       ${r.broker.version ? `mosquitto ${r.broker.version}` : 'unknown'}`,
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
    // A running server knows its broker (mode, port, liveness from its probes) better than this
    // process's own config and environment can: ask it when one holds the data dir.
    const live = await serverBroker(config.data_dir, config.http.tls.cert);
    const report: StatusReport = {
      data_dir: config.data_dir,
      ...base,
      ...(live?.adoption ? { state: 'adoption_required' as const, adoption: live.adoption } : {}),
      broker: {
        mode: live?.mode ?? config.mosquitto.mode,
        reload: live?.reload ?? config.mosquitto.reload.strategy,
        backend: live?.backend ?? config.mosquitto.backend,
        host: config.mqtt.host,
        port: config.mqtt.port,
        up: live ? live.up : await portAnswers(config.mqtt.host, config.mqtt.port),
        version: live ? live.version : config.mosquitto.mode === 'supervised' ? detectBinaryVersion(config.mosquitto.binary) : null,
        ...(live ? { reported_by: `server pid ${live.pid}` } : {}),
      },
    };
    io.stdout(values.json ? `${JSON.stringify(report)}\n` : text(report));
    return EXIT.OK;
  },
};
