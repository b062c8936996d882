/**
 * Change-to-enforcement latency (issue 3 benchmark). For 10, 1,000 and 10,000 users:
 * - MCM: from the append's acknowledgement (handleCommand returned) to the probe confirmation
 *   of the apply (DESIGN §6: rendered, validated, written, SIGHUP, positive + negative probe,
 *   refused logins), over at least 200 changes (an ACL grant each).
 * - Mosquitto's dynamic-security plugin on a second broker: from publishing the
 *   `$CONTROL/dynamic-security/v1` request (addRoleACL) until a client sees the new permission
 *   (its QoS 1 publish to the newly allowed topic gets a successful PUBACK, reference §6.2).
 * The ratio is MCM / dynsec. Targets: at 1,000 users p50 ≤ 50 ms and p99 ≤ 250 ms; at 10,000
 * users p99 ≤ 1 s. Environment: BENCH_CHANGES (default 200), BENCH_USERS (default 10,1000,10000).
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { MqttClient } from 'mqtt';
import { handleCommand } from '../core/handle-command.ts';
import type { DomainEvent } from '../core/events.ts';
import { defaultConfig, findMosquitto } from '../adapters/config/defaults.ts';
import { createLogger } from '../adapters/logging/logger.ts';
import { startServer } from '../adapters/main.ts';
import { createMosquittoHasher } from '../adapters/mosquitto/password-hash.ts';
import { freePort } from '../tests/helpers/ports.ts';
import { connectV5, findDynsecPlugin, startDynsecBroker } from './dynsec-broker.ts';

export type Stats = { n: number; failures: number; p50: number; p95: number; p99: number; mean: number; max: number };

export const percentile = (sorted: readonly number[], p: number): number => {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
};

export const stats = (samples: readonly number[], failures = 0): Stats => {
  const s = [...samples].sort((a, b) => a - b);
  const sum = s.reduce((a, b) => a + b, 0);
  return { n: s.length, failures, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), mean: s.length ? sum / s.length : Number.NaN, max: s[s.length - 1] ?? Number.NaN };
};

const SUBJECT = 'bench-subject';
const clock = { now: () => new Date().toISOString() };
const actor = { kind: 'cli' as const, id: 'bench' };

const tempDir = (prefix: string): string => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(d, 0o755); // the broker's user must traverse it when run as root (reference §4)
  return d;
};

/** MCM: `users` users with one rule each, then `changes` ACL grants to one subject, one at a time. */
export const measureMcm = async (bin: string, users: number, changes: number) => {
  const dir = tempDir('mcm-bench-');
  const config = defaultConfig({ mosquittoBinary: bin });
  config.data_dir = dir;
  config.log_level = 'silent';
  config.mqtt.port = await freePort();
  config.mosquitto.probe = { timeout_ms: 10_000, interval_s: 3600 };
  const server = await startServer({ config, logger: createLogger({ level: 'silent' }) });
  try {
    // Setup in bulk, below the API (one append per 1,000 users): the bench measures changes, not setup.
    const hash = await createMosquittoHasher().hash('bench-pw', 101);
    const at = clock.now();
    const population = [SUBJECT, ...Array.from({ length: users - 1 }, (_, i) => `user-${String(i).padStart(5, '0')}`)];
    for (let i = 0; i < population.length; i += 1000) {
      const events: DomainEvent[] = [];
      let id = server.store.state().nextRuleId;
      for (const username of population.slice(i, i + 1000)) {
        events.push({ type: 'MqttUserCreated', data: { username, passwordHash: hash, description: '', disabled: false } });
        events.push({ type: 'AclRuleAdded', data: { id: id++, principal: `user:${username}`, topic: `devices/${username}/#`, access: 'readwrite', description: '' } });
      }
      server.store.append(events, { actor, at });
    }
    const setup = await server.applyLoop.waitForGeneration(server.store.state().generation, 120_000);
    if (setup.result !== 'applied') throw new Error(`setup apply failed: ${setup.reason}`);

    const samples: number[] = [];
    const phases = new Map<string, number[]>();
    let failures = 0;
    for (let i = 0; i < changes; i++) {
      const { seq } = handleCommand({ store: server.store, clock }, { type: 'AddAclRule', data: { principal: `user:${SUBJECT}`, topic: `bench/${i}`, access: 'read' } }, { actor });
      const acked = performance.now();
      const o = await server.applyLoop.waitForGeneration(seq, 30_000);
      if (o.result === 'applied') samples.push(performance.now() - acked);
      else failures++;
      for (const [k, v] of Object.entries(o.phases ?? {})) phases.set(k, [...(phases.get(k) ?? []), v]);
    }
    // Median time per apply step: where the latency goes.
    const phaseP50 = Object.fromEntries([...phases].map(([k, v]) => [k, Number(stats(v).p50.toFixed(1))]));
    return { stats: stats(samples, failures), debounceMs: config.mosquitto.debounce_ms, phases: phaseP50 };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
};

/**
 * Whether the subject's QoS 1 publish to `topic` is accepted, retrying on 0x87 until the deadline.
 * dynsec kicks the clients of a role it modifies (DISCONNECT 0x98 Administrative action), so the
 * subject reconnects when kicked, as a real device would; that is part of dynsec's latency.
 */
const untilAllowed = async (subject: { current: MqttClient; reconnect(): Promise<MqttClient> }, topic: string, deadlineMs: number): Promise<boolean> => {
  const end = performance.now() + deadlineMs;
  while (performance.now() < end) {
    if (!subject.current.connected || subject.current.disconnecting) await subject.reconnect();
    const c = subject.current;
    const ok = await new Promise<boolean>((resolve) => {
      // A kick can land between the check and the publish: then the callback never comes.
      const onClose = (): void => { clearTimeout(timer); resolve(false); };
      const timer = setTimeout(() => { c.off('close', onClose); resolve(false); }, 2000);
      c.once('close', onClose);
      c.publish(topic, 'x', { qos: 1 }, (err) => { clearTimeout(timer); c.off('close', onClose); resolve(!err); });
    });
    if (ok) return true;
  }
  return false;
};

/** dynsec: the same population (one role with one ACL per user), then `changes` addRoleACL grants. */
export const measureDynsec = async (bin: string, users: number, changes: number) => {
  const dir = tempDir('mcm-bench-dynsec-');
  const population = [SUBJECT, ...Array.from({ length: users - 1 }, (_, i) => `user-${String(i).padStart(5, '0')}`)];
  const seed = population.map((username) => ({
    username, password: 'bench-pw', acls: [{ acltype: 'publishClientSend', topic: `devices/${username}/#`, allow: true }],
  }));
  const broker = await startDynsecBroker({ bin, dir, port: await freePort(), seed });
  try {
    let n = 0;
    const connectSubject = (): Promise<MqttClient> => connectV5(broker.port, SUBJECT, 'bench-pw', `bench-subject-${++n}`);
    const subject = { current: await connectSubject(), reconnect: async () => { subject.current.end(true); subject.current = await connectSubject(); return subject.current; } };
    const samples: number[] = [];
    let failures = 0;
    try {
      for (let i = 0; i < changes; i++) {
        const t0 = performance.now();
        const req = broker.controlAsync([{ command: 'addRoleACL', rolename: `r-${SUBJECT}`, acltype: 'publishClientSend', topic: `bench/${i}`, allow: true }]);
        const ok = await untilAllowed(subject, `bench/${i}`, 10_000);
        if (ok) samples.push(performance.now() - t0);
        else failures++;
        await req.response;
      }
    } finally {
      subject.current.end(true);
    }
    return { stats: stats(samples, failures) };
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
};

export type ApplyLatencyRow = { users: number; mcm: Stats; mcm_phases_p50: Record<string, number>; dynsec: Stats | null; ratio_p50: number | null; ratio_p99: number | null; target: string; pass: boolean };

const target = (users: number, s: Stats): { text: string; pass: boolean } => {
  if (users === 1000) return { text: 'p50 ≤ 50 ms, p99 ≤ 250 ms', pass: s.p50 <= 50 && s.p99 <= 250 && s.failures === 0 };
  if (users === 10_000) return { text: 'p99 ≤ 1000 ms', pass: s.p99 <= 1000 && s.failures === 0 };
  return { text: '—', pass: s.failures === 0 };
};

export const runApplyLatency = async (opts: { users?: number[]; changes?: number; log?: (s: string) => void } = {}) => {
  const bin = findMosquitto();
  if (!bin) throw new Error('mosquitto is not installed: run `npm run setup`');
  const users = opts.users ?? (process.env['BENCH_USERS'] ?? '10,1000,10000').split(',').map(Number);
  const changes = opts.changes ?? Number(process.env['BENCH_CHANGES'] ?? 200);
  const log = opts.log ?? (() => {});
  const dynsec = findDynsecPlugin() !== null;
  const rows: ApplyLatencyRow[] = [];
  let debounceMs = 0;
  for (const n of users) {
    log(`apply-latency: ${n} users, ${changes} changes through MCM…`);
    const mcm = await measureMcm(bin, n, changes);
    debounceMs = mcm.debounceMs;
    let ds: Stats | null = null;
    if (dynsec) {
      log(`apply-latency: ${n} users, ${changes} changes through dynamic-security…`);
      ds = (await measureDynsec(bin, n, changes)).stats;
    }
    const t = target(n, mcm.stats);
    rows.push({
      users: n, mcm: mcm.stats, mcm_phases_p50: mcm.phases, dynsec: ds,
      ratio_p50: ds ? mcm.stats.p50 / ds.p50 : null,
      ratio_p99: ds ? mcm.stats.p99 / ds.p99 : null,
      target: t.text, pass: t.pass,
    });
  }
  return { changes, debounce_ms: debounceMs, rows, pass: rows.every((r) => r.pass) };
};
