/**
 * Change-to-enforcement latency (issues 3 and 14). For 1,000, 10,000 and 100,000 users with one
 * rule each (one ACL `user` block per user):
 * - MCM: from the append's acknowledgement (handleCommand returned) to the probe confirmation
 *   of the apply (DESIGN §6: rendered, validated, written, SIGHUP, positive + negative probe,
 *   refused logins), for ACL grants to one user, with the median time per apply step and MCM's
 *   own share (every step but the broker's reload and the probe).
 * - The password change of that user through MCM, next to the same change with no MCM at all
 *   (bench/bare-reload.ts: atomic write of the same files, SIGHUP, first accepted login).
 * - Mosquitto's dynamic-security plugin on a second broker (up to 10,000 users): from publishing
 *   the `$CONTROL/dynamic-security/v1` request (addRoleACL) until a client sees the new permission
 *   (its QoS 1 publish to the newly allowed topic gets a successful PUBACK, reference §6.2).
 * Targets: at 1,000 users p50 ≤ 50 ms and p99 ≤ 250 ms; at 10,000 users p99 ≤ 1 s; MCM's own
 * share ≤ 10% at 10,000 and 100,000; the password change's p50 ≤ 1.3× the bare reload.
 * Environment: BENCH_USERS (default 1000,10000,100000), BENCH_CHANGES (default 200; password
 * changes: at most 30), BENCH_CHANGES_100K (default 3: each reload loads 100,000 user blocks).
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { MqttClient } from 'mqtt';
import { handleCommand } from '../core/handle-command.ts';
import type { Command } from '../core/commands.ts';
import type { DomainEvent } from '../core/events.ts';
import type { EventStore } from '../core/ports.ts';
import { defaultConfig, findMosquitto } from '../adapters/config/defaults.ts';
import { createLogger } from '../adapters/logging/logger.ts';
import { startServer } from '../adapters/main.ts';
import { createMosquittoHasher } from '../adapters/mosquitto/password-hash.ts';
import { freePort } from '../tests/helpers/ports.ts';
import { connectV5, findDynsecPlugin, startDynsecBroker, type DynsecSeed } from './dynsec-broker.ts';
import { measureBareReload } from './bare-reload.ts';

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

/** Lines of a rendered file, and `user` blocks of an ACL file. */
const lineCounts = (passwd: string, acl: string) => ({
  password_lines: passwd.split('\n').filter((l) => l !== '').length,
  acl_lines: acl.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length,
  acl_user_blocks: acl.split('\n').filter((l) => l.startsWith('user ')).length,
});

/**
 * The bench population, below the API: the subject and `users - 1` device users, each with a
 * readwrite rule on devices/<user>/#, one append per 1,000 users with no await between them (so
 * one apply): the benches measure changes, not setup.
 */
export const appendPopulation = async (store: Pick<EventStore, 'append' | 'state'>, users: number, passwordHash: string): Promise<void> => {
  const population = [SUBJECT, ...Array.from({ length: users - 1 }, (_, i) => `user-${String(i).padStart(6, '0')}`)];
  for (let i = 0; i < population.length; i += 1000) {
    const events: DomainEvent[] = [];
    let id = store.state().nextRuleId;
    for (const username of population.slice(i, i + 1000)) {
      events.push({ type: 'MqttUserCreated', data: { username, passwordHash, description: '', disabled: false } });
      events.push({ type: 'AclRuleAdded', data: { id: id++, principal: `user:${username}`, topic: `devices/${username}/#`, access: 'readwrite', description: '' } });
    }
    store.append(events, { actor, at: clock.now() });
  }
};

/** Phases that are the broker's (reload + probe); the rest is MCM's own work. */
const BROKER_PHASES = new Set(['reload_confirm']);

/**
 * MCM: `users` users with one rule each, then `changes` ACL grants to one subject, then
 * `pwChanges` password changes of it, one at a time. Returns the files as they were before the
 * password changes began, for the bare-reload baseline.
 */
export const measureMcm = async (bin: string, users: number, changes: number, pwChanges: number) => {
  const dir = tempDir('mcm-bench-');
  const config = defaultConfig({ mosquittoBinary: bin });
  config.data_dir = dir;
  config.log_level = 'silent';
  config.mqtt.port = await freePort();
  // The default probe timeout: a broker busy loading 100,000 user blocks is waited for (issue 14).
  config.mosquitto.probe = { ...config.mosquitto.probe, interval_s: 3600 };
  const server = await startServer({ config, logger: createLogger({ level: 'silent' }) });
  try {
    // Setup in bulk, below the API (one append per 1,000 users, no await between them, so one
    // apply): the bench measures changes, not setup.
    const hasher = createMosquittoHasher();
    await appendPopulation(server.store, users, await hasher.hash('bench-pw', 101));
    const setup = await server.applyLoop.waitForGeneration(server.store.state().generation, 900_000);
    if (setup.result !== 'applied') throw new Error(`setup apply failed: ${setup.reason}`);

    const samples: number[] = [];
    const shares: number[] = [];
    const phases = new Map<string, number[]>();
    let failures = 0;
    const timed = async (command: Command): Promise<void> => {
      const { seq } = handleCommand({ store: server.store, clock }, command, { actor });
      const acked = performance.now();
      const o = await server.applyLoop.waitForGeneration(seq, 900_000);
      const total = performance.now() - acked;
      if (o.result !== 'applied') { failures++; return; }
      samples.push(total);
      const own = Object.entries(o.phases ?? {}).filter(([k]) => !BROKER_PHASES.has(k)).reduce((sum, [, v]) => sum + v, 0);
      shares.push(own / total);
      for (const [k, v] of Object.entries(o.phases ?? {})) phases.set(k, [...(phases.get(k) ?? []), v]);
    };
    for (let i = 0; i < changes; i++) await timed({ type: 'AddAclRule', data: { principal: `user:${SUBJECT}`, topic: `bench/${i}`, access: 'read' } });
    const brokerDir = join(dir, 'mosquitto');
    const files = { passwordFile: readFileSync(join(brokerDir, 'passwd'), 'utf8'), aclFile: readFileSync(join(brokerDir, 'acl'), 'utf8') };
    // Password changes: what the bare baseline does too (the changed user's new login accepted).
    const passwords = Array.from({ length: pwChanges }, (_, i) => `bench-pw-${i}`);
    const hashes = await Promise.all(passwords.map((pw) => hasher.hash(pw, 101)));
    const pwSamples: number[] = [];
    for (const passwordHash of hashes) {
      const before = samples.length;
      await timed({ type: 'ChangeMqttUserPassword', data: { username: SUBJECT, passwordHash } });
      if (samples.length > before) pwSamples.push(samples.pop() as number);
    }
    // Median time per apply step: where the latency goes.
    const phaseP50 = Object.fromEntries([...phases].map(([k, v]) => [k, Number(stats(v).p50.toFixed(1))]));
    return {
      stats: stats(samples, failures),
      password: stats(pwSamples),
      ownShareP50: stats(shares).p50,
      debounceMs: config.mosquitto.debounce_ms,
      phases: phaseP50,
      lines: lineCounts(files.passwordFile, files.aclFile),
      files,
      bareChanges: passwords.map((password, i) => ({
        username: SUBJECT,
        password,
        passwordFile: files.passwordFile.replace(new RegExp(`^${SUBJECT}:.*$`, 'm'), `${SUBJECT}:${hashes[i] as string}`),
      })),
    };
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
export const untilAllowed = async (subject: { current: MqttClient; reconnect(): Promise<MqttClient> }, topic: string, deadlineMs: number): Promise<boolean> => {
  const end = performance.now() + deadlineMs;
  while (performance.now() < end) {
    // A reconnect refused while the broker is busy is tried again on the next round.
    if (!subject.current.connected || subject.current.disconnecting) await subject.reconnect().catch(() => null);
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
/** `aclsOf`: each user's ACLs (default: publishClientSend on its devices/<user>/#). */
export const measureDynsec = async (bin: string, users: number, changes: number, aclsOf?: (username: string) => DynsecSeed['acls']) => {
  const dir = tempDir('mcm-bench-dynsec-');
  const population = [SUBJECT, ...Array.from({ length: users - 1 }, (_, i) => `user-${String(i).padStart(5, '0')}`)];
  const seed = population.map((username) => ({
    username, password: 'bench-pw', acls: aclsOf ? aclsOf(username) : [{ acltype: 'publishClientSend', topic: `devices/${username}/#`, allow: true }],
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

export type ApplyLatencyRow = {
  users: number;
  lines: { password_lines: number; acl_lines: number; acl_user_blocks: number };
  mcm: Stats;
  mcm_phases_p50: Record<string, number>;
  /** MCM's own work (every phase but reload_confirm) as a share of change → enforced, median. */
  mcm_own_share_p50: number;
  /** Password change → probe-confirmed, and the same change with no MCM (bench/bare-reload.ts). */
  mcm_password: Stats;
  bare_reload: Stats;
  bare_ratio_p50: number;
  dynsec: Stats | null;
  ratio_p50: number | null;
  ratio_p99: number | null;
  target: string;
  pass: boolean;
};

/** Issue 3's latency targets, and issue 14's: MCM's own share ≤ 10% at 10k and 100k, p50 ≤ 1.3× the bare reload. */
const target = (users: number, s: Stats, share: number, bareRatio: number): { text: string; pass: boolean } => {
  const parts: { text: string; pass: boolean }[] = [];
  if (users === 1000) parts.push({ text: 'p50 ≤ 50 ms, p99 ≤ 250 ms', pass: s.p50 <= 50 && s.p99 <= 250 });
  if (users === 10_000) parts.push({ text: 'p99 ≤ 1000 ms', pass: s.p99 <= 1000 });
  if (users >= 10_000) parts.push({ text: 'own ≤ 10%', pass: share <= 0.1 });
  parts.push({ text: 'pw p50 ≤ 1.3× bare', pass: bareRatio <= 1.3 });
  return { text: parts.map((p) => p.text).join(', '), pass: s.failures === 0 && parts.every((p) => p.pass) };
};

export const runApplyLatency = async (opts: { users?: number[]; changes?: number; log?: (s: string) => void } = {}) => {
  const bin = findMosquitto();
  if (!bin) throw new Error('mosquitto is not installed: run `npm run setup`');
  const users = opts.users ?? (process.env['BENCH_USERS'] ?? '1000,10000,100000').split(',').map(Number);
  const changes = opts.changes ?? Number(process.env['BENCH_CHANGES'] ?? 200);
  // At 100,000 users each reload is the broker loading 100,000 user blocks (reference §10).
  const changesAt = (n: number): number => (n >= 100_000 ? Number(process.env['BENCH_CHANGES_100K'] ?? 3) : changes);
  const pwChangesAt = (n: number): number => (n >= 100_000 ? changesAt(n) : Math.min(changes, 30));
  const log = opts.log ?? (() => {});
  const dynsec = findDynsecPlugin() !== null;
  const rows: ApplyLatencyRow[] = [];
  let debounceMs = 0;
  for (const n of users) {
    log(`apply-latency: ${n} users, ${changesAt(n)} ACL and ${pwChangesAt(n)} password changes through MCM…`);
    const mcm = await measureMcm(bin, n, changesAt(n), pwChangesAt(n));
    debounceMs = mcm.debounceMs;
    log(`apply-latency: ${n} users, the same password changes with no MCM (bare reload)…`);
    const bareDir = tempDir('mcm-bench-bare-');
    let bare: Stats;
    try {
      bare = stats(await measureBareReload({ bin, dir: bareDir, ...mcm.files, changes: mcm.bareChanges }));
    } finally {
      rmSync(bareDir, { recursive: true, force: true });
    }
    let ds: Stats | null = null;
    // Seeding 100,000 dynsec clients through its control topic is a benchmark of its own.
    if (dynsec && n <= 10_000) {
      log(`apply-latency: ${n} users, ${changes} changes through dynamic-security…`);
      ds = (await measureDynsec(bin, n, changes)).stats;
    }
    const bareRatio = mcm.password.p50 / bare.p50;
    const t = target(n, mcm.stats, mcm.ownShareP50, bareRatio);
    rows.push({
      users: n, lines: mcm.lines, mcm: mcm.stats, mcm_phases_p50: mcm.phases, mcm_own_share_p50: mcm.ownShareP50,
      mcm_password: mcm.password, bare_reload: bare, bare_ratio_p50: bareRatio,
      dynsec: ds, ratio_p50: ds ? mcm.stats.p50 / ds.p50 : null, ratio_p99: ds ? mcm.stats.p99 / ds.p99 : null,
      target: t.text, pass: t.pass,
    });
  }
  return { changes, debounce_ms: debounceMs, rows, pass: rows.every((r) => r.pass) };
};
