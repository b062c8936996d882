/**
 * HTTP writers for the crash scenarios: each writer owns its MQTT users and walks each one through
 * create → ACL rule → (stay | disable | delete), recording every write the server acknowledged
 * (2xx + ETag). A write whose answer never came (the server was killed) leaves its user
 * "uncertain": it may or may not be in the log, so the writer never touches that user again and
 * the final checks leave it out. Any other non-2xx answer is counted as unexpected.
 */
import type { AckedWrite } from './fault-checks.ts';
import { canLogin, createAdminClient, errorCodeOf, mqttLogin, publishAs, type ApiResponse } from './fault-clients.ts';
import { sleep, type FaultWorld } from './fault-server.ts';

export type UserOutcome = 'active' | 'disabled' | 'deleted' | 'uncertain';

export type WrittenUser = { username: string; password: string; outcome: UserOutcome; aclTopic: string };

export type WriterStats = {
  acked: AckedWrite[];
  users: WrittenUser[];
  /** Writes sent that got no answer (connection refused or reset). */
  unanswered: number;
  unexpected: { op: string; status: number; code: string }[];
};

export type Writers = { stats: WriterStats; stop(): Promise<void> };

/** A small seeded PRNG (mulberry32), so a run can be repeated with its seed. */
export const seededRandom = (seed: number): (() => number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

export const startWriters = (world: FaultWorld, opts: { count: number; prefix: string; random: () => number }): Writers => {
  const stats: WriterStats = { acked: [], users: [], unanswered: 0, unexpected: [] };
  let stopping = false;

  /** Waits until the server answers again (it is being restarted), so a writer doesn't spin. */
  const serverBack = async (): Promise<void> => {
    while (!stopping) {
      try {
        const res = await fetch(`${world.baseUrl}/healthz`, { signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        if (res.ok) return;
      } catch { /* still down */ }
      await sleep(50);
    }
  };

  const writer = async (w: number): Promise<void> => {
    const api = createAdminClient(world);
    let n = 0;
    while (!stopping) {
      const username = `${opts.prefix}${w}-${n++}`;
      const user: WrittenUser = { username, password: `pw-${username}-Long-1`, outcome: 'uncertain', aclTopic: `fault/${username}/#` };
      stats.users.push(user);
      /** The write's answer, or null when none came (then the user stays uncertain). */
      const send = async (op: string, method: string, path: string, body?: unknown): Promise<ApiResponse | null> => {
        let r: ApiResponse;
        try {
          r = await api.call(method, path, body, { timeoutMs: 15_000 });
        } catch {
          stats.unanswered++;
          await serverBack();
          return null;
        }
        if (r.status >= 200 && r.status < 300 && r.seq !== null) return r;
        stats.unexpected.push({ op, status: r.status, code: errorCodeOf(r) });
        await sleep(20);
        return null;
      };
      const created = await send('create', 'POST', '/mqtt-users', { username, password: user.password });
      if (!created) continue;
      stats.acked.push({ seq: created.seq as number, type: 'MqttUserCreated', key: { username } });
      user.outcome = 'active';
      const rule = await send('acl', 'POST', '/acls', { principal: `user:${username}`, topic: `fault/${username}/#`, access: 'write' });
      if (!rule) { user.outcome = 'uncertain'; continue; }
      stats.acked.push({ seq: rule.seq as number, type: 'AclRuleAdded', key: { id: rule.body.id as number } });
      const roll = opts.random();
      if (roll < 0.25) {
        const r = await send('disable', 'PUT', `/mqtt-users/${encodeURIComponent(username)}`, { disabled: true });
        if (!r) { user.outcome = 'uncertain'; continue; }
        stats.acked.push({ seq: r.seq as number, type: 'MqttUserDisabled', key: { username } });
        user.outcome = 'disabled';
      } else if (roll < 0.5) {
        const r = await send('delete', 'DELETE', `/mqtt-users/${encodeURIComponent(username)}`);
        if (!r) { user.outcome = 'uncertain'; continue; }
        stats.acked.push({ seq: r.seq as number, type: 'MqttUserDeleted', key: { username } });
        user.outcome = 'deleted';
      }
    }
  };

  const running = Array.from({ length: opts.count }, (_, w) => writer(w));
  return {
    stats,
    async stop() {
      stopping = true;
      await Promise.all(running);
    },
  };
};

export type EnforcementCheck = {
  checked: number;
  /** Users the broker treated differently from their last acknowledged write. */
  failures: { username: string; expected: string; got: string }[];
};

/** Evenly spread picks (first and last included), so a long run is sampled across its whole length. */
const spread = <T>(items: readonly T[], max: number): T[] => {
  if (items.length <= max) return [...items];
  return Array.from({ length: max }, (_, i) => items[Math.round((i * (items.length - 1)) / (max - 1))] as T);
};

/**
 * Real MQTT logins against the broker: an active user logs in and may publish only under its own
 * topic (its ACL rule); a disabled or deleted one is refused (DESIGN §6: what was acknowledged is
 * what the broker enforces).
 */
export const checkUsersEnforced = async (mqttPort: number, users: readonly WrittenUser[], maxPerKind = 20): Promise<EnforcementCheck> => {
  const failures: EnforcementCheck['failures'] = [];
  const active = spread(users.filter((u) => u.outcome === 'active'), maxPerKind);
  const gone = spread(users.filter((u) => u.outcome === 'disabled' || u.outcome === 'deleted'), maxPerKind);
  for (const u of active) {
    const r = await mqttLogin(mqttPort, u.username, u.password);
    if (!r.ok) { failures.push({ username: u.username, expected: 'login accepted', got: `refused (${r.reason})` }); continue; }
    try {
      const own = await publishAs(r.client, `fault/${u.username}/x`);
      const other = await publishAs(r.client, 'fault/not-mine/x');
      if (own !== 'accepted' || other !== 'denied') failures.push({ username: u.username, expected: 'own topic accepted, other denied', got: `own ${own}, other ${other}` });
    } finally {
      r.client.end(true);
    }
  }
  for (const u of gone) {
    if (await canLogin(mqttPort, u.username, u.password)) failures.push({ username: u.username, expected: `login refused (${u.outcome})`, got: 'accepted' });
  }
  return { checked: active.length + gone.length, failures };
};
