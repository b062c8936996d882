/**
 * What every fault scenario proves at the end (issue 8): no acknowledged write is missing from
 * the event log, the hash chain verifies (both in-process and with `mcm events verify`, as an
 * operator would run it), and the broker files on disk are exactly the render of the log's final
 * state (DESIGN §6: "replaying the log rebuilds every file byte for byte").
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EventEnvelope } from '../../core/events.ts';
import type { BrokerConfig } from '../../core/state.ts';
import { createMosquittoHasher } from '../../adapters/mosquitto/password-hash.ts';
import { loadServiceAccount } from '../../adapters/mosquitto/service-account.ts';
import { createSecretStore } from '../../adapters/secrets/secret-store.ts';
import { createSqliteEventStore } from '../../adapters/sqlite/event-store.ts';
import { openDatabase } from '../../adapters/sqlite/open-database.ts';
import { renderAclFileFromState, stripGenerationLine } from '../../projections/acl-file.ts';
import { renderPasswordFile } from '../../projections/password-file.ts';
import { stripPasswordMarker } from '../../adapters/apply/broker-files.ts';
import type { AdminClient } from './fault-clients.ts';
import { sleep, type FaultWorld } from './fault-server.ts';

const MCM_BIN = fileURLToPath(new URL('../../bin/mcm', import.meta.url));

/** A write the server answered 2xx: the event at `seq` (the ETag) and an event of `type` about `key`. */
export type AckedWrite = Readonly<{ seq: number; type: string; key: Readonly<{ username?: string; id?: number }> }>;

const matches = (e: EventEnvelope, w: AckedWrite): boolean => {
  if (e.type !== w.type) return false;
  const data = e.data as { username?: unknown; id?: unknown };
  if (w.key.username !== undefined && data.username !== w.key.username) return false;
  if (w.key.id !== undefined && data.id !== w.key.id) return false;
  return true;
};

export type LogCheck = {
  events: number;
  /** Acknowledged writes whose seq is missing, or whose event is not in the log at or before it. */
  lost: AckedWrite[];
  chain: { ok: boolean; detail: string };
  state: BrokerConfig;
};

/** Reads the database of a stopped server (one writer per data dir). */
export const checkLog = (world: FaultWorld, acked: readonly AckedWrite[]): LogCheck => {
  const db = openDatabase(join(world.dataDir, 'mcm.db'));
  try {
    const store = createSqliteEventStore({ db, snapshotEvery: 0 });
    const events = store.read();
    const bySeq = new Map(events.map((e) => [e.seq, e]));
    const lost = acked.filter((w) => {
      if (!bySeq.has(w.seq)) return true;
      // The ETag is the batch's last seq (a delete also removes the user's rules): look back.
      for (let s = w.seq; s > 0 && s > w.seq - 64; s--) {
        const e = bySeq.get(s);
        if (e && matches(e, w)) return false;
      }
      return true;
    });
    const v = store.verify();
    return {
      events: events.length,
      lost,
      chain: v.ok ? { ok: true, detail: `${v.count} events, head ${v.head}` } : { ok: false, detail: `seq ${v.first_bad_seq}: ${v.reason} (${v.detail})` },
      state: store.state(),
    };
  } finally {
    db.close();
  }
};

export type FilesCheck = { password_file: boolean; acl_file: boolean; generation: number };

/** The broker files on disk against the render of `state` (the ACL file's generation line aside). */
export const checkRenderedFiles = async (world: FaultWorld, state: BrokerConfig, serviceAccount = 'mcm-service'): Promise<FilesCheck> => {
  const sa = await loadServiceAccount({ secrets: createSecretStore(world.dataDir), hasher: createMosquittoHasher(), username: serviceAccount });
  const dir = join(world.dataDir, 'mosquitto');
  const read = (name: string): string | null => { try { return readFileSync(join(dir, name), 'utf8'); } catch { return null; } };
  const passwd = read('passwd');
  const acl = read('acl');
  return {
    // The disk file carries MCM's marker line (the probe's proof of which password file runs).
    password_file: passwd !== null && stripPasswordMarker(passwd) === renderPasswordFile(state, { serviceAccount: sa }),
    acl_file: acl !== null && stripGenerationLine(acl) === stripGenerationLine(renderAclFileFromState(state, { serviceAccount: sa.username, generation: state.generation })),
    generation: state.generation,
  };
};

/** `bin/mcm events verify` on the world's data dir (through the running server's API when one runs). */
export const runEventsVerify = (world: FaultWorld): Promise<{ code: number | null; output: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(MCM_BIN, ['events', 'verify'], { env: world.env, cwd: world.root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (b: Buffer) => { output += b.toString(); });
    child.stderr?.on('data', (b: Buffer) => { output += b.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output: output.trim() }));
  });

export type ApplyStatusBody = { desired_seq: number; applied_seq: number; state: string; last?: { reason?: string } | null; broker?: { up: boolean } };

/** Polls GET /apply-status until applied_seq >= `seq` and state is applied; returns the last status either way. */
export const waitApplied = async (api: AdminClient, seq: number, timeoutMs: number): Promise<{ ok: boolean; status: ApplyStatusBody | null; ms: number }> => {
  const t0 = performance.now();
  let last: ApplyStatusBody | null = null;
  while (performance.now() - t0 < timeoutMs) {
    try {
      const r = await api.call('GET', '/apply-status', undefined, { timeoutMs: 5000 });
      if (r.status === 200) {
        last = r.body as ApplyStatusBody;
        if (last.applied_seq >= seq && last.state === 'applied') return { ok: true, status: last, ms: performance.now() - t0 };
      }
    } catch { /* the server is not answering yet */ }
    await sleep(20);
  }
  return { ok: false, status: last, ms: performance.now() - t0 };
};
