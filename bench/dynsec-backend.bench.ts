/**
 * Issue 15: change → enforced with `mosquitto.backend: dynsec` at 1,000, 10,000 and 100,000 users
 * (one rule each), next to raw `$CONTROL/dynamic-security/v1` requests on a broker with the same
 * population (bench/apply-latency.ts measureDynsec) and the files backend, all in the same run.
 *
 * - MCM dynsec: from the append's acknowledgement until the subject's QoS 1 publish to the newly
 *   allowed topic is accepted (the same end point as raw), and until MCM's probe confirmed it.
 * - raw: from publishing `addRoleACL` until that publish is accepted.
 * - files: append → probe-confirmed, the files backend (bench/apply-latency.ts measureMcm).
 * Target: MCM dynsec p50 ≤ 1.5 × raw at every size.
 * Environment: BENCH_USERS (default 1000,10000,100000), BENCH_DYNSEC_CHANGES (default 50; 10 at
 * 100,000), BENCH_FILES (default 1: also the files backend; 0 to skip it).
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { MqttClient } from 'mqtt';
import type { Bench } from './bench.ts';
import { handleCommand } from '../core/handle-command.ts';
import type { DomainEvent } from '../core/events.ts';
import { defaultConfig, findMosquitto } from '../adapters/config/defaults.ts';
import { createLogger } from '../adapters/logging/logger.ts';
import { startServer } from '../adapters/main.ts';
import { createMosquittoHasher } from '../adapters/mosquitto/password-hash.ts';
import { freePort } from '../tests/helpers/ports.ts';
import { connectV5, findDynsecPlugin } from './dynsec-broker.ts';
import { appendPopulation, measureDynsec, measureMcm, stats, untilAllowed, type Stats } from './apply-latency.ts';
import { ms, triple } from './bench-format.ts';
import { aclsForRule } from '../projections/dynsec-model.ts';

const SUBJECT = 'bench-subject';
const clock = { now: () => new Date().toISOString() };
const actor = { kind: 'cli' as const, id: 'bench' };

const measureMcmDynsec = async (bin: string, users: number, changes: number) => {
  const dir = mkdtempSync(join(tmpdir(), 'mcm-bench-dsb-'));
  chmodSync(dir, 0o755);
  const config = defaultConfig({ mosquittoBinary: bin });
  config.data_dir = dir;
  config.log_level = 'silent';
  config.mqtt.port = await freePort();
  config.mosquitto.backend = 'dynsec';
  config.mosquitto.probe = { ...config.mosquitto.probe, interval_s: 3600 };
  const server = await startServer({ config, logger: createLogger({ level: 'silent' }) });
  try {
    // Setup below the API, as apply-latency does; MCM has no plaintext for these hashes, so the
    // first apply gives them to the plugin through its file and one restart.
    await appendPopulation(server.store, users, await createMosquittoHasher().hash('bench-pw', 101));
    const setupStart = performance.now();
    const setup = await server.applyLoop.waitForGeneration(server.store.state().generation, 900_000);
    if (setup.result !== 'applied') throw new Error(`setup apply failed: ${setup.reason}`);
    const setupMs = performance.now() - setupStart;
    let n = 0;
    const connect = (): Promise<MqttClient> => connectV5(config.mqtt.port, SUBJECT, 'bench-pw', `bench-subject-${++n}`);
    const subject = { current: await connect(), reconnect: async () => { subject.current.end(true); subject.current = await connect(); return subject.current; } };
    const enforced: number[] = [];
    const confirmed: number[] = [];
    const phases = new Map<string, number[]>();
    let failures = 0;
    try {
      for (let i = 0; i < changes; i++) {
        const { seq } = handleCommand({ store: server.store, clock }, { type: 'AddAclRule', data: { principal: `user:${SUBJECT}`, topic: `bench/${i}`, access: 'write' } }, { actor });
        const t0 = performance.now();
        const applied = server.applyLoop.waitForGeneration(seq, 60_000).then((o) => ({ o, ms: performance.now() - t0 }));
        const ok = await untilAllowed(subject, `bench/${i}`, 30_000);
        const tEnforced = performance.now() - t0;
        const { o, ms } = await applied;
        if (!ok || o.result !== 'applied') { failures++; continue; }
        enforced.push(tEnforced);
        confirmed.push(ms);
        for (const [k, v] of Object.entries(o.phases ?? {})) phases.set(k, [...(phases.get(k) ?? []), v]);
      }
    } finally {
      subject.current.end(true);
    }
    return {
      enforced: stats(enforced, failures), confirmed: stats(confirmed, failures), setupMs,
      phases: Object.fromEntries([...phases].map(([k, v]) => [k, Number(stats(v).p50.toFixed(1))])),
    };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
};


const bench: Bench = {
  name: 'dynsec-backend',
  description: 'change → enforced with mosquitto.backend dynsec at 1k/10k/100k users, next to raw $CONTROL requests and the files backend',
  async run(log) {
    const bin = findMosquitto();
    if (!bin) throw new Error('mosquitto is not installed: run `npm run setup`');
    if (!findDynsecPlugin()) throw new Error('the dynamic-security plugin is not installed: run `npm run setup`');
    const sizes = (process.env['BENCH_USERS'] ?? '1000,10000,100000').split(',').map(Number);
    const changesAt = (u: number): number => Number(u >= 100_000 ? process.env['BENCH_DYNSEC_CHANGES_100K'] ?? 10 : process.env['BENCH_DYNSEC_CHANGES'] ?? 50);
    const withFiles = process.env['BENCH_FILES'] !== '0';
    const rows: (string | number)[][] = [];
    const data: unknown[] = [];
    let pass = true;
    const notes: string[] = [];
    for (const users of sizes) {
      const changes = changesAt(users);
      log(`dynsec-backend: ${users} users, ${changes} rule changes through MCM with the dynsec backend…`);
      const mcm = await measureMcmDynsec(bin, users, changes);
      log(`dynsec-backend: ${users} users, ${changes} raw $CONTROL addRoleACL requests…`);
      // The same ACLs MCM puts in the plugin for each user's readwrite rule: the plugin rewrites its
      // whole file after every change, so the population's size in the file is the cost.
      const raw = (await measureDynsec(bin, users, changes, (u) => aclsForRule('readwrite', `devices/${u}/#`))).stats;
      let files: Stats | null = null;
      if (withFiles) {
        const fileChanges = users >= 100_000 ? Math.min(changes, 3) : changes;
        log(`dynsec-backend: ${users} users, ${fileChanges} rule changes through MCM with the files backend…`);
        files = (await measureMcm(bin, users, fileChanges, 0)).stats;
      }
      const ratio = mcm.enforced.p50 / raw.p50;
      const ok = ratio <= 1.5 && mcm.enforced.failures === 0;
      pass &&= ok;
      rows.push([users, triple(mcm.enforced), triple(mcm.confirmed), triple(raw), `${ratio.toFixed(2)}×`, triple(files), 'p50 ≤ 1.5× raw', ok ? 'ok' : 'MISS']);
      data.push({ users, changes, mcm_enforced: mcm.enforced, mcm_confirmed: mcm.confirmed, mcm_phases_p50: mcm.phases, mcm_setup_ms: mcm.setupMs, raw, files, ratio_p50: ratio });
      notes.push(`${users} users: MCM dynsec median ms per apply step: ${Object.entries(mcm.phases).map(([k, v]) => `${k} ${v}`).join(', ')}; setup (first apply: the plugin file written and the broker restarted on it) ${(mcm.setupMs / 1000).toFixed(1)} s`);
    }
    notes.push(
      'enforced: append acknowledged → the subject\'s QoS 1 publish to the newly allowed topic accepted (the plugin kicks a client whose role changes; the subject reconnects, as in raw).',
      'confirmed: append acknowledged → MCM\'s probe confirmed the generation (service account publishes $mcm/probe/<generation>, the canary is dropped, refused logins fail).',
      'raw: publishing one addRoleACL request to $CONTROL/dynamic-security/v1 → the same publish accepted; no MCM (bench/dynsec-broker.ts). Its broker holds the same population: one client and role per user with the three ACLs of a readwrite rule.',
      'files: append acknowledged → probe-confirmed with mosquitto.backend files (render, write, SIGHUP, probe), as in apply-latency.',
    );
    return {
      table: { columns: ['users', 'MCM dynsec enforced p50/p95/p99 ms', 'MCM dynsec confirmed p50/p95/p99', 'raw $CONTROL p50/p95/p99', 'ratio p50', 'MCM files p50/p95/p99', 'target', 'result'], rows },
      data: { rows: data, at: new Date().toISOString(), node: process.version },
      pass,
      notes,
    };
  },
};

export default bench;
