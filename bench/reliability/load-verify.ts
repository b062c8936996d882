/**
 * What the load scenario checks once the load has stopped: every acknowledged write is in the
 * event log (the event at its ETag seq exists, is the writer's, and is on a stream the write
 * targets), no write left events without an answer, the hash chain verifies, the apply loop has
 * caught up (applied == desired), the state read back equals the writers' own models, and the
 * broker enforces it: real MQTT logins that must succeed or be refused, and publishes whose
 * outcome must match what MCM's ACL explain says.
 */
import mqtt from 'mqtt';
import { readAll, type Api } from './load-api.ts';
import { USERS_PER_WRITER, type Ack, type WriterResult } from './load-writers.ts';

export type LogCheck = {
  acks: number;
  events: number;
  missing: number;
  wrong: number;
  /** Events by a writer after its last acknowledged write (a write that changed state unanswered). */
  unanswered: number;
  examples: string[];
};

export const checkLog = async (api: Api, token: string, writers: readonly WriterResult[]): Promise<LogCheck> => {
  const events = await readAll(api, '/events', token);
  const bySeq = new Map<number, any>(events.map((e) => [e.seq as number, e]));
  const examples: string[] = [];
  const note = (s: string): void => { if (examples.length < 20) examples.push(s); };
  let missing = 0;
  let wrong = 0;
  let unanswered = 0;
  let acks = 0;
  const streamOk = (ack: Ack, stream: string): boolean =>
    ack.streams.includes(stream) || (ack.streams.includes('acl:*') && stream.startsWith('acl:'));
  for (const w of writers) {
    for (const ack of w.acks) {
      acks++;
      const e = bySeq.get(ack.seq);
      if (!e) { missing++; note(`${w.admin} ${ack.op}: seq ${ack.seq} is not in the log`); continue; }
      if (e.actor?.id !== w.admin || !streamOk(ack, e.stream)) {
        wrong++;
        note(`${w.admin} ${ack.op}: seq ${ack.seq} is ${e.type} on ${e.stream} by ${e.actor?.id} (expected ${ack.streams.join(' | ')})`);
      }
    }
    const last = Math.max(0, ...w.acks.map((a) => a.seq));
    for (const e of events) {
      if (e.actor?.id === w.admin && e.seq > last) { unanswered++; note(`${w.admin}: seq ${e.seq} (${e.type}) after its last acknowledged write ${last}`); }
    }
  }
  return { acks, events: events.length, missing, wrong, unanswered, examples };
};

export type StateCheck = { users: number; rules: number; roles: number; mismatches: number; examples: string[] };

/** The state read back over REST equals the union of the writers' models (their namespaces only). */
export const checkState = async (api: Api, token: string, writers: readonly WriterResult[]): Promise<StateCheck> => {
  const mine = (name: string): boolean => /^lw\d+-/.test(name);
  const users = (await readAll(api, '/mqtt-users', token)).filter((u) => mine(u.username));
  const rules = (await readAll(api, '/acls', token)).filter((r) => /^(user|role):lw\d+-/.test(r.principal));
  const roles = (await readAll(api, '/roles', token)).filter((r) => mine(r.name));
  const examples: string[] = [];
  let mismatches = 0;
  const differ = (what: string): void => { mismatches++; if (examples.length < 20) examples.push(what); };

  const wantUsers = new Map(writers.flatMap((w) => [...w.model.users]));
  const gotUsers = new Map(users.map((u) => [u.username as string, u]));
  for (const [name, want] of wantUsers) {
    const got = gotUsers.get(name);
    if (!got) { differ(`user ${name} missing`); continue; }
    if (got.disabled !== want.disabled) differ(`user ${name}: disabled ${got.disabled}, expected ${want.disabled}`);
    const [g, x] = [[...got.roles].sort().join(','), [...want.roles].sort().join(',')];
    if (g !== x) differ(`user ${name}: roles [${g}], expected [${x}]`);
    if (got.description !== want.description) differ(`user ${name}: description ${JSON.stringify(got.description)}, expected ${JSON.stringify(want.description)}`);
  }
  for (const name of gotUsers.keys()) if (!wantUsers.has(name)) differ(`user ${name} exists, expected deleted`);

  const wantRoles = new Map(writers.flatMap((w) => [...w.model.roles]));
  const gotRoles = new Set(roles.map((r) => r.name as string));
  for (const name of wantRoles.keys()) if (!gotRoles.has(name)) differ(`role ${name} missing`);
  for (const name of gotRoles) if (!wantRoles.has(name)) differ(`role ${name} exists, expected deleted`);

  const wantDirect = new Map(writers.flatMap((w) => [...w.model.rules]));
  const key = (r: { principal: string; topic: string; access: string }): string => `${r.principal} ${r.access} ${r.topic}`;
  for (const r of rules.filter((x) => x.principal.startsWith('user:'))) {
    const want = wantDirect.get(r.id);
    if (!want) differ(`rule ${r.id} (${key(r)}) exists, expected removed`);
    else if (key(want) !== key(r)) differ(`rule ${r.id} is ${key(r)}, expected ${key(want)}`);
    wantDirect.delete(r.id);
  }
  for (const [id, r] of wantDirect) differ(`rule ${id} (${key(r)}) missing`);
  const roleRules = (list: string[]): string => list.sort().join('\n');
  const wantRoleRules = roleRules([...wantRoles].flatMap(([name, rs]) => rs.map((r) => key({ principal: `role:${name}`, ...r }))));
  const gotRoleRules = roleRules(rules.filter((x) => x.principal.startsWith('role:')).map(key));
  if (wantRoleRules !== gotRoleRules) differ(`role rules differ: ${wantRoleRules.split('\n').length} expected, ${gotRoleRules.split('\n').length} found`);
  return { users: users.length, rules: rules.length, roles: roles.length, mismatches, examples };
};

/** Polls GET /apply-status until applied == desired and the state is `applied` (or the bound passes). */
export const waitApplied = async (api: Api, token: string, timeoutMs: number): Promise<{ status: any; waited_ms: number }> => {
  const started = Date.now();
  for (;;) {
    const res = await api.call('GET', '/apply-status', { token });
    const st = res.body;
    if (res.status === 200 && st.state === 'applied' && st.applied_seq === st.desired_seq) return { status: st, waited_ms: Date.now() - started };
    if (Date.now() - started > timeoutMs) return { status: st, waited_ms: Date.now() - started };
    await new Promise((r) => setTimeout(r, 200));
  }
};

type LoginOutcome = { ok: boolean; code: string };

const tryLogin = (port: number, username: string, password: string): Promise<LoginOutcome & { client: mqtt.MqttClient | null }> =>
  new Promise((resolve) => {
    const client = mqtt.connect({ host: '127.0.0.1', port, protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 10_000, clientId: `load-check-${Math.random().toString(36).slice(2)}`, username, password });
    let done = false;
    const finish = (r: LoginOutcome, keep: boolean): void => {
      if (done) return;
      done = true;
      if (!keep) client.end(true);
      resolve({ ...r, client: keep ? client : null });
    };
    client.once('connect', () => finish({ ok: true, code: 'connected' }, true));
    client.on('error', (e: Error & { code?: number | string }) => finish({ ok: false, code: String(e.code ?? e.message) }, false));
    client.once('close', () => finish({ ok: false, code: 'closed' }, false));
  });

/** A concrete topic matched by a filter (`+` → a level, `#` → one level). */
const concrete = (filter: string): string => filter.replace(/\+/g, 'p').replace(/#$/, 'x');

export type BrokerCheck = { logins: number; login_mismatches: number; publishes: number; publish_mismatches: number; examples: string[] };

/**
 * Samples usernames from every writer's namespace (existing, disabled, deleted or never
 * created): a login must succeed exactly for the enabled ones with their last password. For
 * enabled users, a QoS 1 publish (MQTT v5: a denied one is PUBACK 0x87) to a topic from each of
 * their rules and to one nobody grants must be accepted exactly when MCM's explain allows it.
 */
export const checkBroker = async (api: Api, token: string, port: number, writers: readonly WriterResult[], opts: { sample: number }): Promise<BrokerCheck> => {
  const examples: string[] = [];
  let logins = 0;
  let loginMismatches = 0;
  let publishes = 0;
  let publishMismatches = 0;
  const candidates = writers.flatMap((w) => {
    const n = Number(/^load-op-(\d+)$/.exec(w.admin)?.[1]);
    return Array.from({ length: USERS_PER_WRITER }, (_, k) => ({ w, username: `lw${n}-u${k}` }));
  });
  // Spread over the writers, deterministic.
  const step = Math.max(1, Math.floor(candidates.length / opts.sample));
  const sample = candidates.filter((_, i) => i % step === 0).slice(0, opts.sample);
  for (const { w, username } of sample) {
    const user = w.model.users.get(username);
    const expected = user !== undefined && !user.disabled;
    // A wrong password for the unknown ones: refused either way, but never a guess that works.
    const got = await tryLogin(port, username, user?.password ?? 'not-the-password');
    logins++;
    if (got.ok !== expected) {
      loginMismatches++;
      if (examples.length < 20) examples.push(`login ${username}: ${got.ok ? 'accepted' : `refused (${got.code})`}, expected ${expected ? 'accepted' : 'refused'}`);
    }
    if (!got.client || !user) { got.client?.end(true); continue; }
    const client = got.client;
    const filters = [
      ...[...w.model.rules.values()].filter((r) => r.principal === `user:${username}`).map((r) => r.topic),
      ...user.roles.flatMap((role) => (w.model.roles.get(role) ?? []).map((r) => r.topic)),
    ];
    const topics = [...new Set([...filters.map(concrete), 'load/nobody/x'])].slice(0, 6);
    for (const topic of topics) {
      const explain = await api.call('POST', '/acls/explain', { token, body: { username, topic, action: 'write' } });
      const allowed = explain.body?.allowed === true;
      const outcome = await new Promise<'accepted' | 'denied' | string>((resolve) => {
        client.publish(topic, 'load-check', { qos: 1 }, (err) => {
          if (!err) resolve('accepted');
          else resolve((err as Error & { code?: number }).code === 135 ? 'denied' : err.message);
        });
      });
      publishes++;
      if ((outcome === 'accepted') !== allowed) {
        publishMismatches++;
        if (examples.length < 20) examples.push(`publish ${username} → ${topic}: ${outcome}, explain says ${allowed ? 'allowed' : 'denied'} (${explain.body?.reason})`);
      }
    }
    await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
  }
  return { logins, login_mismatches: loginMismatches, publishes, publish_mismatches: publishMismatches, examples };
};
