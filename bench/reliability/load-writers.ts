/**
 * The 50 concurrent admin writers of the load scenario. Each writer signs in as its own operator
 * and owns a namespace (users `lw<w>-u<k>`, roles `lw<w>-r<j>`), so it knows exactly what the
 * final state must be without reading it back: MQTT users created, updated (description, roles,
 * disabled), given new passwords and deleted; ACL rules added and removed; roles defined,
 * redefined, granted, revoked and deleted. Every acknowledged write (2xx) is recorded with the
 * seq of its ETag and the streams its events may be on, for the check that the log holds it.
 */
import { etagSeq, type Api } from './load-api.ts';

export const USERS_PER_WRITER = 6;
export const ROLES_PER_WRITER = 2;
const ACCESS = ['read', 'write', 'readwrite', 'deny'] as const;
type Access = typeof ACCESS[number];

export type Rule = { principal: string; topic: string; access: Access };
export type UserModel = { password: string; roles: string[]; disabled: boolean; description: string };

export type WriterModel = {
  users: Map<string, UserModel>;
  /** role name → its rules (topic/access), in the order last sent. */
  roles: Map<string, { topic: string; access: Access }[]>;
  /** Direct user rules by id. */
  rules: Map<number, Rule>;
};

export type OpKind = 'create_user' | 'update_user' | 'change_password' | 'delete_user' | 'add_rule' | 'remove_rule' | 'define_role' | 'update_role' | 'delete_role';

export type Ack = {
  writer: number;
  op: OpKind;
  seq: number;
  /** The acknowledged seq's event must be on one of these streams (`acl:*` = any ACL rule). */
  streams: string[];
  latency_ms: number;
};

export type WriterResult = {
  admin: string;
  model: WriterModel;
  acks: Ack[];
  /** Writes answered with something other than 2xx (their effect is unknown; none expected). */
  failed: { op: OpKind; status: number | string; body: string }[];
};

/** Deterministic per writer (mulberry32), so a run can be repeated. */
const rng = (seed: number): (() => number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

export const writerAdmin = (w: number): string => `load-op-${w}`;

export const runWriter = async (opts: {
  api: Api;
  token: string;
  writer: number;
  /** Resolves true when the writer should stop (checked between writes). */
  stopped: () => boolean;
  /** Pause between two writes of one writer (0: closed loop, as fast as answers come). */
  thinkMs: number;
}): Promise<WriterResult> => {
  const { api, token, writer: w } = opts;
  const random = rng(0x5eed + w * 7919);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const model: WriterModel = { users: new Map(), roles: new Map(), rules: new Map() };
  const acks: Ack[] = [];
  const failed: WriterResult['failed'] = [];
  let counter = 0;
  const userName = (k: number): string => `lw${w}-u${k}`;
  const roleName = (j: number): string => `lw${w}-r${j}`;
  const topic = (): string => `load/w${w}/t${++counter}/${pick(['#', '+/x', 'y'])}`;
  const password = (): string => `pw-${w}-${++counter}-${Math.floor(random() * 1e9).toString(36)}`;
  const someRoles = (): string[] => [...model.roles.keys()].filter(() => random() < 0.5);
  const ruleSet = (): { topic: string; access: Access }[] =>
    Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({ topic: topic(), access: pick(ACCESS) }));

  /** One write; on 2xx `apply` updates the model and the ack is recorded. */
  const write = async (op: OpKind, method: string, path: string, body: unknown, streams: (res: any) => string[], apply: (res: any) => void): Promise<void> => {
    const started = performance.now();
    let status: number | string;
    let resBody: any;
    let etag: string | null;
    try {
      const res = await api.call(method, path, { token, ...(body === undefined ? {} : { body }) });
      ({ status, body: resBody, etag } = res);
    } catch (e) {
      failed.push({ op, status: 'transport', body: (e as Error).message });
      return;
    }
    if (typeof status === 'number' && status >= 200 && status < 300) {
      const seq = etagSeq(etag);
      if (seq === null) {
        failed.push({ op, status: `${status} without an ETag`, body: JSON.stringify(resBody).slice(0, 300) });
        return;
      }
      apply(resBody);
      acks.push({ writer: w, op, seq, streams: streams(resBody), latency_ms: Math.round((performance.now() - started) * 100) / 100 });
    } else {
      failed.push({ op, status, body: JSON.stringify(resBody).slice(0, 300) });
    }
  };

  const ops: { op: OpKind; weight: number; can: () => boolean; run: () => Promise<void> }[] = [
    {
      op: 'create_user', weight: 3,
      can: () => model.users.size < USERS_PER_WRITER,
      run: async () => {
        const free = Array.from({ length: USERS_PER_WRITER }, (_, k) => userName(k)).filter((u) => !model.users.has(u));
        const username = pick(free);
        const user: UserModel = { password: password(), roles: someRoles(), disabled: random() < 0.2, description: `created ${counter}` };
        await write('create_user', 'POST', '/mqtt-users', { username, password: user.password, roles: user.roles, disabled: user.disabled, description: user.description },
          () => [`mqtt-user:${username}`], () => { model.users.set(username, user); });
      },
    },
    {
      op: 'update_user', weight: 4,
      can: () => model.users.size > 0,
      run: async () => {
        const username = pick([...model.users.keys()]);
        const cur = model.users.get(username) as UserModel;
        // The description always changes, so the write is never a no-op (which appends nothing).
        const next: UserModel = { ...cur, description: `rev ${++counter}` };
        const body: Record<string, unknown> = { description: next.description };
        if (random() < 0.4) { next.roles = someRoles(); body['roles'] = next.roles; }
        if (random() < 0.3) { next.disabled = !cur.disabled; body['disabled'] = next.disabled; }
        await write('update_user', 'PUT', `/mqtt-users/${encodeURIComponent(username)}`, body,
          () => [`mqtt-user:${username}`], () => { model.users.set(username, next); });
      },
    },
    {
      op: 'change_password', weight: 2,
      can: () => model.users.size > 0,
      run: async () => {
        const username = pick([...model.users.keys()]);
        const pw = password();
        await write('change_password', 'POST', `/mqtt-users/${encodeURIComponent(username)}/password`, { password: pw },
          () => [`mqtt-user:${username}`], () => { (model.users.get(username) as UserModel).password = pw; });
      },
    },
    {
      op: 'delete_user', weight: 1,
      can: () => model.users.size > USERS_PER_WRITER / 2,
      run: async () => {
        const username = pick([...model.users.keys()]);
        await write('delete_user', 'DELETE', `/mqtt-users/${encodeURIComponent(username)}`, undefined,
          // The user's direct rules go in the same append (AclRuleRemoved), before MqttUserDeleted.
          () => [`mqtt-user:${username}`], () => {
            model.users.delete(username);
            for (const [id, r] of model.rules) if (r.principal === `user:${username}`) model.rules.delete(id);
          });
      },
    },
    {
      op: 'add_rule', weight: 3,
      can: () => model.users.size > 0 && model.rules.size < USERS_PER_WRITER * 4,
      run: async () => {
        const rule: Rule = { principal: `user:${pick([...model.users.keys()])}`, topic: topic(), access: pick(ACCESS) };
        await write('add_rule', 'POST', '/acls', rule,
          (res) => [`acl:${res.id}`], (res) => { model.rules.set(res.id as number, rule); });
      },
    },
    {
      op: 'remove_rule', weight: 2,
      can: () => model.rules.size > 0,
      run: async () => {
        const id = pick([...model.rules.keys()]);
        await write('remove_rule', 'DELETE', `/acls/${id}`, undefined, () => [`acl:${id}`], () => { model.rules.delete(id); });
      },
    },
    {
      op: 'define_role', weight: 2,
      can: () => model.roles.size < ROLES_PER_WRITER,
      run: async () => {
        const name = pick(Array.from({ length: ROLES_PER_WRITER }, (_, j) => roleName(j)).filter((r) => !model.roles.has(r)));
        const rules = ruleSet();
        await write('define_role', 'POST', '/roles', { name, rules },
          () => [`role:${name}`, 'acl:*'], () => { model.roles.set(name, rules); });
      },
    },
    {
      op: 'update_role', weight: 2,
      can: () => model.roles.size > 0,
      run: async () => {
        const name = pick([...model.roles.keys()]);
        const rules = ruleSet();
        await write('update_role', 'PUT', `/roles/${encodeURIComponent(name)}`, { rules, description: `rev ${++counter}` },
          () => [`role:${name}`, 'acl:*'], () => { model.roles.set(name, rules); });
      },
    },
    {
      op: 'delete_role', weight: 1,
      // A role still granted is refused (409): revoke it through update_user first.
      can: () => [...model.roles.keys()].some((r) => ![...model.users.values()].some((u) => u.roles.includes(r))),
      run: async () => {
        const name = pick([...model.roles.keys()].filter((r) => ![...model.users.values()].some((u) => u.roles.includes(r))));
        await write('delete_role', 'DELETE', `/roles/${encodeURIComponent(name)}`, undefined,
          () => [`role:${name}`, 'acl:*'], () => { model.roles.delete(name); });
      },
    },
  ];

  while (!opts.stopped()) {
    const candidates = ops.filter((o) => o.can());
    const total = candidates.reduce((s, o) => s + o.weight, 0);
    let r = random() * total;
    const chosen = candidates.find((o) => (r -= o.weight) < 0) ?? candidates[0];
    if (!chosen) break;
    await chosen.run();
    if (opts.thinkMs > 0) await new Promise((res) => setTimeout(res, opts.thinkMs * (0.5 + random())));
  }
  return { admin: writerAdmin(w), model, acks, failed };
};
